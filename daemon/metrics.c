/* metrics: request counts by route and status, request latency histograms
 * by route, and the daemon's own counters. Routes are labelled by their
 * pattern (not the concrete path), so the label set stays small. */
#include "metrics.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static const int status_codes[] = { 200, 201, 204, 206, 304, 400, 401, 403,
				     404, 405, 409, 413, 415, 422, 429, 500,
				     503, 507 };
#define N_STATUS (int)(sizeof status_codes / sizeof status_codes[0])
#define STATUS_OTHER N_STATUS

static const double buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
				   0.1,   0.25,   0.5,   1,    2.5,   5, 10 };
#define N_BUCKETS (int)(sizeof buckets / sizeof buckets[0])

struct route_stats {
	atomic_uint_fast64_t by_status[N_STATUS + 1];
	atomic_uint_fast64_t bucket[N_BUCKETS + 1];
	atomic_uint_fast64_t sum_us;
};

static struct route_stats *stats; /* nroutes + 1: the last is "no route" */
static int n_routes;
static atomic_uint_fast64_t counters[M_COUNTER_COUNT];
static atomic_int_fast64_t gauges[M_GAUGE_COUNT];

static const struct {
	const char *name, *help;
} counter_info[M_COUNTER_COUNT] = {
	[M_HTTP_BODY_TOO_LARGE] = { "scicast_http_body_too_large_total",
				    "Requests refused with 413." },
	[M_HTTP_BAD_JSON] = { "scicast_http_bad_json_total",
			      "Request bodies that were not valid JSON." },
	[M_AUTH_FAILURES] = { "scicast_auth_failures_total",
			      "Requests refused with 401 (no, bad, revoked or "
			      "expired token)." },
	[M_AUTH_FORBIDDEN] = { "scicast_auth_forbidden_total",
			       "Requests refused with 403 (a role too low)." },
	[M_MQTT_PUBLISHED] = { "scicast_mqtt_published_total",
			       "MQTT publishes handed to the broker (re-sends "
			       "included)." },
	[M_MQTT_PUBACKS] = { "scicast_mqtt_pubacks_total",
			     "PUBACKs received: deliveries the broker took." },
	[M_MQTT_ACKS] = { "scicast_mqtt_acks_total",
			  "Screen acks matched to a delivery." },
	[M_MQTT_ACKS_BAD] = { "scicast_mqtt_malformed_total",
			      "Acks and screen statuses that were not valid." },
	[M_MQTT_ACKS_UNKNOWN] = { "scicast_mqtt_acks_unknown_total",
				  "Acks naming a message_id (or region) no "
				  "delivery has." },
	[M_MQTT_CONNECTS] = { "scicast_mqtt_connects_total",
			      "Connections made to the broker." },
	[M_MQTT_DISCONNECTS] = { "scicast_mqtt_disconnects_total",
				 "Connections to the broker lost." },
	[M_OUTBOX_RESENDS] = { "scicast_outbox_resends_total",
			       "Village deliveries re-sent because no ack "
			       "came." },
	[M_WEBHOOK_REQUESTS] = { "scicast_webhook_requests_total",
				 "Webhook requests started." },
	[M_WEBHOOK_ACKED] = { "scicast_webhook_acked_total",
			      "Webhook requests answered 2xx." },
	[M_WEBHOOK_RETRIES] = { "scicast_webhook_retries_total",
				"Webhook attempts that failed and will be "
				"retried." },
	[M_WEBHOOK_DEAD] = { "scicast_webhook_dead_total",
			     "Webhook deliveries given up (dead, or 410 Gone)." },
	[M_ESCALATIONS] = { "scicast_escalations_total",
			    "Escalation messages sent for silent villages." },
	[M_EMERGENCIES_DECLARED] = { "scicast_emergencies_declared_total",
				     "Emergencies declared." },
	[M_EMERGENCIES_EXPIRED] = { "scicast_emergencies_expired_total",
				    "Emergencies ended by their expiry." },
	[M_PLAN_STAGES] = { "scicast_plan_stages_total",
			    "Stages committed by big plans before their end." },
	[M_PLANS_RESUMED] = { "scicast_plans_resumed_total",
			      "Plans stopped half-way and finished later." },
};

static const struct {
	const char *name, *help;
} gauge_info[M_GAUGE_COUNT] = {
	[M_MQTT_CONNECTED] = { "scicast_mqtt_connected",
			       "1 while connected to the broker." },
	[M_MQTT_INFLIGHT] = { "scicast_mqtt_inflight",
			      "Publishes awaiting their PUBACK." },
	[M_WEBHOOK_INFLIGHT] = { "scicast_webhook_inflight",
				 "Webhook requests running." },
};

int metrics_init(int nroutes)
{
	stats = calloc((size_t)nroutes + 1, sizeof *stats);
	if (!stats)
		return -1;
	n_routes = nroutes;
	return 0;
}

void metrics_free(void)
{
	free(stats);
	stats = NULL;
}

void metrics_http_observe(int route, int status, int64_t duration_us)
{
	if (!stats)
		return;
	struct route_stats *r = &stats[route < 0 || route >= n_routes ? n_routes
								      : route];
	int si = STATUS_OTHER;
	for (int i = 0; i < N_STATUS; i++)
		if (status_codes[i] == status)
			si = i;
	atomic_fetch_add(&r->by_status[si], 1);
	double secs = (double)duration_us / 1e6;
	int b = 0;
	while (b < N_BUCKETS && secs > buckets[b])
		b++;
	atomic_fetch_add(&r->bucket[b], 1);
	atomic_fetch_add(&r->sum_us, (uint_fast64_t)(duration_us > 0 ? duration_us : 0));
}

void metrics_add(enum metric_counter c, uint64_t n)
{
	atomic_fetch_add(&counters[c], n);
}

void metrics_gauge_set(enum metric_gauge g, int64_t v)
{
	atomic_store(&gauges[g], v);
}

int64_t metrics_gauge_get(enum metric_gauge g)
{
	return atomic_load(&gauges[g]);
}

static int render_http(struct buf *out)
{
	int rc = 0;
	rc |= buf_append_str(out,
		"# HELP scicast_http_requests_total HTTP requests answered.\n"
		"# TYPE scicast_http_requests_total counter\n");
	for (int r = 0; r <= n_routes; r++) {
		const char *method = r < n_routes ? http_routes[r].method : "";
		const char *route = r < n_routes ? http_routes[r].pattern
						 : "unmatched";
		for (int s = 0; s <= N_STATUS; s++) {
			uint64_t v = atomic_load(&stats[r].by_status[s]);
			if (!v)
				continue;
			char code[8];
			if (s < N_STATUS)
				snprintf(code, sizeof code, "%d", status_codes[s]);
			else
				snprintf(code, sizeof code, "other");
			rc |= buf_appendf(out,
				"scicast_http_requests_total{method=\"%s\","
				"route=\"%s\",code=\"%s\"} %llu\n", method,
				route, code, (unsigned long long)v);
		}
	}
	rc |= buf_append_str(out,
		"# HELP scicast_http_request_duration_seconds Time to answer "
		"a request.\n"
		"# TYPE scicast_http_request_duration_seconds histogram\n");
	for (int r = 0; r <= n_routes; r++) {
		uint64_t total = 0;
		for (int b = 0; b <= N_BUCKETS; b++)
			total += atomic_load(&stats[r].bucket[b]);
		if (!total)
			continue;
		const char *route = r < n_routes ? http_routes[r].pattern
						 : "unmatched";
		const char *method = r < n_routes ? http_routes[r].method : "";
		uint64_t cum = 0;
		for (int b = 0; b <= N_BUCKETS; b++) {
			cum += atomic_load(&stats[r].bucket[b]);
			char le[16];
			if (b < N_BUCKETS)
				snprintf(le, sizeof le, "%g", buckets[b]);
			else
				snprintf(le, sizeof le, "+Inf");
			rc |= buf_appendf(out,
				"scicast_http_request_duration_seconds_bucket{"
				"method=\"%s\",route=\"%s\",le=\"%s\"} %llu\n",
				method, route, le, (unsigned long long)cum);
		}
		rc |= buf_appendf(out,
			"scicast_http_request_duration_seconds_sum{method=\"%s\","
			"route=\"%s\"} %.6f\n"
			"scicast_http_request_duration_seconds_count{method=\"%s\","
			"route=\"%s\"} %llu\n", method, route,
			(double)atomic_load(&stats[r].sum_us) / 1e6, method,
			route, (unsigned long long)total);
	}
	return rc ? -1 : 0;
}

int metrics_render(struct buf *out)
{
	int rc = 0;
	for (int c = 0; c < M_COUNTER_COUNT; c++)
		rc |= buf_appendf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n",
				  counter_info[c].name, counter_info[c].help,
				  counter_info[c].name, counter_info[c].name,
				  (unsigned long long)atomic_load(&counters[c]));
	for (int g = 0; g < M_GAUGE_COUNT; g++) {
		if (!gauge_info[g].name)
			continue;
		rc |= buf_appendf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n",
				  gauge_info[g].name, gauge_info[g].help,
				  gauge_info[g].name, gauge_info[g].name,
				  (long long)atomic_load(&gauges[g]));
	}
	if (stats)
		rc |= render_http(out);
	return rc ? -1 : 0;
}
