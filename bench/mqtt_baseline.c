/* mqtt_baseline: the "what the broker and libmosquitto can do" side of the
 * fan-out benchmark (bench/fanout).
 *
 * Replays a record file written by mqtt_sink --record (one line per
 * message: topic<TAB>payload_length): publishes one message per line, of
 * exactly that length, to that topic, QoS 1, retained, MQTT 5, with the
 * same in-flight window scicastd uses ([mqtt] max_inflight), then waits
 * for every PUBACK. Prints one JSON line:
 *   {"published": N, "first_ms": t, "last_puback_ms": t, ...}
 * with wall-clock (CLOCK_REALTIME) milliseconds.
 *
 * Why the loop looks like this: one thread, no mosquitto_loop_start().
 * Outside a callback, mosquitto_publish() in an unthreaded client writes
 * the packet straight to the socket, so the fastest honest publisher
 * publishes until its window is full, then lets mosquitto_loop() read the
 * PUBACKs (each one frees a slot) and write whatever the socket did not
 * take. The window is kept here, as scicastd keeps it: at most --inflight
 * messages are handed to the library, so a broker announcing a receive
 * maximum in its CONNACK (which replaces the client's own limit with MQTT
 * 5) cannot widen it. libmosquitto walks its whole message list after each
 * publish and each PUBACK while its quota has room; handing it a quarter
 * of a window more (queued past the quota) halves those walks, but was
 * measured slower end to end here (CPU -6.5 %, time +7 %, 6 alternating
 * pairs on Guangdong) and in scicastd no faster (bench/README.md).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "bench_util.h"

struct baseline {
	const char *host;
	int port;
	const char *record_path;
	const char *client_id;
	int inflight;
	long expiry_s;          /* MQTT 5 message expiry; 0: none */
	double stall_s;         /* give up after this long without a PUBACK */

	/* The replay: topics back to back in one buffer, offsets into it. */
	char *topics;
	size_t *topic_at;
	int *sizes;
	size_t count;
	int max_size;

	bool connected;
	int fatal;
	size_t acked;
	size_t failed;          /* PUBACK reason codes of 0x80 and above */
	double last_puback_ms;
	double last_progress_mono;
};

static volatile sig_atomic_t baseline_stop_signal;

static void baseline_on_signal(int sig)
{
	baseline_stop_signal = sig;
}

static double baseline_clock_ms(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Loads the record file; 0 on success, -1 with a message printed. */
static int baseline_load(struct baseline *b)
{
	FILE *f = fopen(b->record_path, "r");
	char *line = NULL;
	size_t cap = 0, used = 0, slots = 0;
	long lineno = 0;
	ssize_t len;
	int rc = -1;

	if (f == NULL) {
		fprintf(stderr, "mqtt_baseline: %s: %s\n", b->record_path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		char *tab = strchr(line, '\t');
		long long size = 0;
		if (tab == NULL || tab == line || bench_parse_ll(tab + 1, 0, 256 * 1024 * 1024, &size) != 0) {
			fprintf(stderr, "mqtt_baseline: %s:%ld: want 'topic<TAB>size'\n", b->record_path, lineno);
			goto done;
		}
		*tab = '\0';
		size_t tlen = (size_t)(tab - line) + 1;
		if (b->count == slots) {
			size_t n = slots ? slots * 2 : 4096;
			size_t *at = realloc(b->topic_at, n * sizeof *at);
			if (at == NULL)
				goto oom;
			b->topic_at = at;
			int *sz = realloc(b->sizes, n * sizeof *sz);
			if (sz == NULL)
				goto oom;
			b->sizes = sz;
			slots = n;
		}
		char *t = realloc(b->topics, used + tlen);
		if (t == NULL)
			goto oom;
		b->topics = t;
		memcpy(b->topics + used, line, tlen);
		b->topic_at[b->count] = used;
		b->sizes[b->count] = (int)size;
		if ((int)size > b->max_size)
			b->max_size = (int)size;
		used += tlen;
		b->count++;
	}
	if (ferror(f)) {
		fprintf(stderr, "mqtt_baseline: reading %s: %s\n", b->record_path, strerror(errno));
		goto done;
	}
	if (b->count == 0) {
		fprintf(stderr, "mqtt_baseline: %s holds no messages\n", b->record_path);
		goto done;
	}
	rc = 0;
	goto done;
oom:
	fprintf(stderr, "mqtt_baseline: out of memory reading %s\n", b->record_path);
done:
	free(line);
	fclose(f);
	return rc;
}

static void baseline_on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
				const mosquitto_property *props)
{
	struct baseline *b = obj;
	(void)mosq;
	(void)flags;
	(void)props;
	if (rc != 0) {
		fprintf(stderr, "mqtt_baseline: connection refused: %s\n", mosquitto_reason_string(rc));
		b->fatal = 1;
		return;
	}
	b->connected = true;
}

static void baseline_on_publish(struct mosquitto *mosq, void *obj, int mid, int reason,
				const mosquitto_property *props)
{
	struct baseline *b = obj;
	(void)mosq;
	(void)mid;
	(void)props;
	b->acked++;
	if (reason >= 0x80)
		b->failed++;
	b->last_puback_ms = baseline_clock_ms(CLOCK_REALTIME);
	b->last_progress_mono = baseline_clock_ms(CLOCK_MONOTONIC);
}

static void baseline_on_disconnect(struct mosquitto *mosq, void *obj, int rc,
				   const mosquitto_property *props)
{
	struct baseline *b = obj;
	(void)mosq;
	(void)props;
	b->connected = false;
	if (b->acked < b->count) {
		fprintf(stderr, "mqtt_baseline: disconnected: %s\n", mosquitto_reason_string(rc));
		b->fatal = 1;
	}
}

static int baseline_args(struct baseline *b, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		long long n = 0;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			printf("usage: mqtt_baseline --record FILE [--host H] [--port P] [--inflight N]\n"
			       "                     [--expiry S] [--id CLIENT_ID] [--stall S]\n"
			       "  --inflight N  QoS 1 messages in flight at most (default 1000)\n"
			       "  --expiry S    MQTT 5 message expiry interval (default 21600; 0: none)\n"
			       "  --stall S     give up after S seconds without a PUBACK (default 60)\n");
			exit(0);
		}
		if (v == NULL) {
			fprintf(stderr, "mqtt_baseline: %s needs a value (or is unknown)\n", a);
			return -1;
		}
		i++;
		if (strcmp(a, "--host") == 0) {
			b->host = v;
		} else if (strcmp(a, "--port") == 0) {
			if (bench_parse_ll(v, 1, 65535, &n) != 0)
				goto bad;
			b->port = (int)n;
		} else if (strcmp(a, "--record") == 0) {
			b->record_path = v;
		} else if (strcmp(a, "--inflight") == 0) {
			if (bench_parse_ll(v, 1, 65535, &n) != 0)
				goto bad;
			b->inflight = (int)n;
		} else if (strcmp(a, "--expiry") == 0) {
			if (bench_parse_ll(v, 0, UINT32_MAX, &n) != 0)
				goto bad;
			b->expiry_s = (long)n;
		} else if (strcmp(a, "--stall") == 0) {
			if (bench_parse_ll(v, 1, 86400, &n) != 0)
				goto bad;
			b->stall_s = (double)n;
		} else if (strcmp(a, "--id") == 0) {
			b->client_id = v;
		} else {
			fprintf(stderr, "mqtt_baseline: unknown option %s\n", a);
			return -1;
		}
		continue;
bad:
		fprintf(stderr, "mqtt_baseline: bad value for %s: '%s'\n", a, v);
		return -1;
	}
	if (b->record_path == NULL) {
		fprintf(stderr, "mqtt_baseline: --record FILE is required\n");
		return -1;
	}
	return 0;
}

/* Runs mosquitto_loop() once; 0, or -1 when the connection is gone. */
static int baseline_loop(struct baseline *b, struct mosquitto *mosq, int timeout_ms)
{
	int mrc = mosquitto_loop(mosq, timeout_ms, 1);
	if (mrc == MOSQ_ERR_SUCCESS || (mrc == MOSQ_ERR_ERRNO && errno == EINTR))
		return b->fatal ? -1 : 0;
	fprintf(stderr, "mqtt_baseline: network loop: %s\n",
		mrc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(mrc));
	return -1;
}

int main(int argc, char **argv)
{
	struct baseline b = {
		.host = "127.0.0.1",
		.port = 1883,
		.inflight = 1000,
		.expiry_s = 21600,
		.stall_s = 60,
	};
	struct mosquitto *mosq = NULL;
	mosquitto_property *props = NULL;
	char *payload = NULL;
	char idbuf[64];
	bool lib_up = false;
	int rc = 1, mrc;
	size_t next = 0;
	double first_ms = 0;

	if (baseline_args(&b, argc, argv) != 0 || baseline_load(&b) != 0)
		goto done;
	if (b.client_id == NULL) {
		int n = snprintf(idbuf, sizeof idbuf, "bench-baseline-%ld", (long)getpid());
		if (n < 0 || (size_t)n >= sizeof idbuf)
			goto done;
		b.client_id = idbuf;
	}
	payload = malloc((size_t)b.max_size + 1);
	if (payload == NULL) {
		fprintf(stderr, "mqtt_baseline: out of memory\n");
		goto done;
	}
	memset(payload, 'x', (size_t)b.max_size + 1);

	struct sigaction sa = { .sa_handler = baseline_on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((mrc = mosquitto_lib_init()) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mqtt_baseline: mosquitto_lib_init: %s\n", mosquitto_strerror(mrc));
		goto done;
	}
	lib_up = true;
	mosq = mosquitto_new(b.client_id, true, &b);
	if (mosq == NULL) {
		fprintf(stderr, "mqtt_baseline: mosquitto_new: %s\n", strerror(errno));
		goto done;
	}
	if ((mrc = mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5)) != MOSQ_ERR_SUCCESS ||
	    (mrc = mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1)) != MOSQ_ERR_SUCCESS ||
	    (mrc = mosquitto_max_inflight_messages_set(mosq, (unsigned)b.inflight)) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mqtt_baseline: setting options: %s\n", mosquitto_strerror(mrc));
		goto done;
	}
	if (b.expiry_s > 0 &&
	    (mrc = mosquitto_property_add_int32(&props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL,
						(uint32_t)b.expiry_s)) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mqtt_baseline: expiry property: %s\n", mosquitto_strerror(mrc));
		goto done;
	}
	mosquitto_connect_v5_callback_set(mosq, baseline_on_connect);
	mosquitto_publish_v5_callback_set(mosq, baseline_on_publish);
	mosquitto_disconnect_v5_callback_set(mosq, baseline_on_disconnect);

	mrc = mosquitto_connect_bind_v5(mosq, b.host, b.port, 60, NULL, NULL);
	if (mrc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mqtt_baseline: connecting to %s:%d: %s\n", b.host, b.port,
			mrc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(mrc));
		goto done;
	}
	double deadline = baseline_clock_ms(CLOCK_MONOTONIC) + 10000.0;
	while (!b.connected) {
		if (b.fatal || baseline_stop_signal || baseline_loop(&b, mosq, 100) != 0)
			goto done;
		if (baseline_clock_ms(CLOCK_MONOTONIC) > deadline) {
			fprintf(stderr, "mqtt_baseline: no CONNACK within 10 s\n");
			goto done;
		}
	}

	first_ms = baseline_clock_ms(CLOCK_REALTIME);
	b.last_progress_mono = baseline_clock_ms(CLOCK_MONOTONIC);
	while (b.acked < b.count) {
		while (next < b.count && next - b.acked < (size_t)b.inflight) {
			mrc = mosquitto_publish_v5(mosq, NULL, b.topics + b.topic_at[next], b.sizes[next],
						   payload, 1, true, props);
			if (mrc != MOSQ_ERR_SUCCESS) {
				fprintf(stderr, "mqtt_baseline: publish #%zu to %s: %s\n", next,
					b.topics + b.topic_at[next],
					mrc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(mrc));
				goto done;
			}
			next++;
		}
		if (baseline_stop_signal || baseline_loop(&b, mosq, 100) != 0)
			goto done;
		if (baseline_clock_ms(CLOCK_MONOTONIC) - b.last_progress_mono > b.stall_s * 1000.0) {
			fprintf(stderr, "mqtt_baseline: no PUBACK for %.0f s (%zu of %zu acked)\n",
				b.stall_s, b.acked, b.count);
			goto done;
		}
	}

	/* CPU time too: on a shared two-core machine it says more than the
	 * wall clock about what publishing cost. */
	struct rusage ru = { 0 };
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		fprintf(stderr, "mqtt_baseline: getrusage: %s\n", strerror(errno));
	double cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	printf("{\"published\": %zu, \"acked\": %zu, \"failed\": %zu, \"first_ms\": %.3f, "
	       "\"last_puback_ms\": %.3f, \"inflight\": %d, \"max_rss_kb\": %ld, \"cpu_s\": %.3f}\n",
	       next, b.acked, b.failed, first_ms, b.last_puback_ms, b.inflight, ru.ru_maxrss, cpu_s);
	fflush(stdout);
	rc = b.failed ? 1 : 0;
	if (b.failed)
		fprintf(stderr, "mqtt_baseline: %zu PUBACKs carried a failure reason code\n", b.failed);
	mrc = mosquitto_disconnect_v5(mosq, MQTT_RC_NORMAL_DISCONNECTION, NULL);
	if (mrc == MOSQ_ERR_SUCCESS)
		(void)mosquitto_loop(mosq, 50, 1); /* flush DISCONNECT; best effort */

done:
	if (rc != 0 && baseline_stop_signal)
		rc = 128 + (int)baseline_stop_signal;
	mosquitto_property_free_all(&props);
	if (mosq != NULL)
		mosquitto_destroy(mosq);
	if (lib_up)
		mosquitto_lib_cleanup();
	free(payload);
	free(b.topics);
	free(b.topic_at);
	free(b.sizes);
	return rc;
}
