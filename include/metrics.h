/* metrics: counters and histograms for /metrics (Prometheus text format).
 * Every value is an atomic, so any thread may count without a lock. */
#ifndef SCICAST_METRICS_H
#define SCICAST_METRICS_H

#include <stdint.h>

#include "buf.h"

enum metric_counter {
	M_HTTP_BODY_TOO_LARGE,
	M_HTTP_BAD_JSON,
	M_AUTH_FAILURES,
	M_AUTH_FORBIDDEN,
	M_MQTT_PUBLISHED,
	M_MQTT_PUBACKS,
	M_MQTT_ACKS,
	M_MQTT_ACKS_BAD,
	M_MQTT_ACKS_UNKNOWN,
	M_MQTT_CONNECTS,
	M_MQTT_DISCONNECTS,
	M_OUTBOX_RESENDS,
	M_WEBHOOK_REQUESTS,
	M_WEBHOOK_ACKED,
	M_WEBHOOK_RETRIES,
	M_WEBHOOK_DEAD,
	M_ESCALATIONS,
	M_EMERGENCIES_DECLARED,
	M_EMERGENCIES_EXPIRED,
	M_PLAN_STAGES,
	M_PLANS_RESUMED,
	M_COUNTER_COUNT
};

enum metric_gauge {
	M_MQTT_CONNECTED,
	M_MQTT_INFLIGHT,
	M_WEBHOOK_INFLIGHT,
	M_GAUGE_COUNT
};

int metrics_init(int nroutes);
void metrics_free(void);
/* route -1: no route matched. */
void metrics_http_observe(int route, int status, int64_t duration_us);
void metrics_add(enum metric_counter c, uint64_t n);
void metrics_gauge_set(enum metric_gauge g, int64_t v);
int64_t metrics_gauge_get(enum metric_gauge g);
int metrics_render(struct buf *out);

#endif
