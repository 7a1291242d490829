/* mqtt_sink: the subscriber end of the fan-out benchmark (bench/fanout).
 *
 * Subscribes (MQTT 5, QoS 1, clean start) to one topic filter, counts the
 * live messages it receives and prints, as one JSON line on stdout,
 *   {"received": N, "first_ms": t, "last_ms": t, "bytes": B, ...}
 * with wall-clock (CLOCK_REALTIME) milliseconds, so a script can subtract
 * the time it started a publisher from the time the last message arrived.
 *
 * Shaped to be the same, cheap, never-the-bottleneck end for both sides of
 * the comparison: one thread driving mosquitto_loop(), a receive maximum of
 * 65535 so the broker never holds messages back waiting for our PUBACKs,
 * and nothing done per message but a clock read, two additions and
 * (with --record) one buffered line.
 *
 * Messages with the retain flag set are not live traffic: the broker sends
 * them because we subscribed (the retained alert of every region). They
 * are counted apart and otherwise ignored.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "bench_util.h"

#define SINK_DEFAULT_FILTER "scicast/v1/alerts/#"

struct sink {
	const char *host;
	int port;
	const char *filter;
	const char *client_id;
	long long expect;       /* 0: no count to stop at */
	const char *expect_file; /* where the count may appear later */
	double expect_checked;  /* CLOCK_MONOTONIC ms of the last look at it */
	double timeout_s;       /* silence after the first message that ends the run */
	double first_timeout_s; /* 0: wait for the first message for ever */
	int receive_max;
	FILE *record;

	bool connected;
	bool ready;
	bool done;
	int fatal;              /* an error seen in a callback: exit status */

	long long received;
	long long retained;     /* ignored: delivered because we subscribed */
	long long bytes;
	double first_ms;
	double last_ms;
	double ready_mono;
	double last_mono;
};

static volatile sig_atomic_t sink_stop_signal;

static void sink_on_signal(int sig)
{
	sink_stop_signal = sig;
}

static double sink_clock_ms(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void sink_usage(FILE *to)
{
	fprintf(to,
		"usage: mqtt_sink [--host H] [--port P] [--topic FILTER] [--expect N]\n"
		"                 [--timeout S] [--first-timeout S] [--record FILE]\n"
		"                 [--id CLIENT_ID] [--receive-max N] [--expect-file FILE]\n"
		"  --topic          filter to subscribe to (default %s)\n"
		"  --expect N       stop after N live messages\n"
		"  --expect-file FILE  the same, with N read from FILE once it exists\n"
		"                   (for a count known only after the subscription)\n"
		"  --timeout S      stop after S seconds without a message, once one\n"
		"                   has arrived (default 5)\n"
		"  --first-timeout S  give up if no live message comes within S seconds\n"
		"                   of the subscription (default 0: wait for ever)\n"
		"  --record FILE    write 'topic<TAB>payload_length' per live message\n"
		"Prints 'ready ...' once subscribed, then one JSON line when done.\n",
		SINK_DEFAULT_FILTER);
}

/* Parses a whole decimal integer in [min, max]; 0 on success. */
static int sink_parse_seconds(const char *s, double *out)
{
	char *end = NULL;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.0) || v > 86400.0)
		return -1;
	*out = v;
	return 0;
}

static void sink_on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
			    const mosquitto_property *props)
{
	struct sink *s = obj;
	(void)flags;
	(void)props;
	if (rc != 0) {
		fprintf(stderr, "mqtt_sink: connection refused: %s\n", mosquitto_reason_string(rc));
		s->fatal = 1;
		s->done = true;
		return;
	}
	s->connected = true;
	int mrc = mosquitto_subscribe_v5(mosq, NULL, s->filter, 1, 0, NULL);
	if (mrc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mqtt_sink: subscribe %s: %s\n", s->filter, mosquitto_strerror(mrc));
		s->fatal = 1;
		s->done = true;
	}
}

static void sink_on_subscribe(struct mosquitto *mosq, void *obj, int mid, int qos_count,
			      const int *granted_qos, const mosquitto_property *props)
{
	struct sink *s = obj;
	(void)mosq;
	(void)mid;
	(void)props;
	/* A granted QoS of 0x80 or more is the broker refusing the filter. */
	if (qos_count < 1 || granted_qos[0] >= 0x80) {
		fprintf(stderr, "mqtt_sink: subscription to %s refused (%d)\n", s->filter,
			qos_count < 1 ? -1 : granted_qos[0]);
		s->fatal = 1;
		s->done = true;
		return;
	}
	s->ready = true;
	s->ready_mono = sink_clock_ms(CLOCK_MONOTONIC);
	printf("ready topic=%s qos=%d\n", s->filter, granted_qos[0]);
	fflush(stdout);
}

static void sink_on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *m,
			    const mosquitto_property *props)
{
	struct sink *s = obj;
	(void)mosq;
	(void)props;
	if (m->retain) {
		s->retained++;
		return;
	}
	double now = sink_clock_ms(CLOCK_REALTIME);
	if (s->received == 0)
		s->first_ms = now;
	s->last_ms = now;
	s->last_mono = sink_clock_ms(CLOCK_MONOTONIC);
	s->received++;
	s->bytes += m->payloadlen;
	if (s->record != NULL && fprintf(s->record, "%s\t%d\n", m->topic, m->payloadlen) < 0) {
		fprintf(stderr, "mqtt_sink: writing the record file: %s\n", strerror(errno));
		s->fatal = 1;
		s->done = true;
	}
	if (s->expect > 0 && s->received >= s->expect)
		s->done = true;
}

static void sink_on_disconnect(struct mosquitto *mosq, void *obj, int rc,
			       const mosquitto_property *props)
{
	struct sink *s = obj;
	(void)mosq;
	(void)props;
	s->connected = false;
	if (!s->done) {
		fprintf(stderr, "mqtt_sink: disconnected: %s\n", mosquitto_reason_string(rc));
		s->fatal = 1;
		s->done = true;
	}
}

/* The fan-out's subscriber starts before the POST that tells how many
 * messages to expect; the script writes the count to a file then. Looked
 * at every 100 ms at most: the loop turns once per network event. */
static void sink_check_expect_file(struct sink *s, double now_mono)
{
	if (s->expect > 0 || s->expect_file == NULL || now_mono - s->expect_checked < 100.0)
		return;
	s->expect_checked = now_mono;
	FILE *f = fopen(s->expect_file, "r");
	if (f == NULL)
		return;
	char line[32];
	long long n = 0;
	if (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (bench_parse_ll(line, 1, LLONG_MAX, &n) == 0) {
			s->expect = n;
			if (s->received >= n)
				s->done = true;
		}
	}
	fclose(f);
}

static int sink_args(struct sink *s, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		long long n = 0;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			sink_usage(stdout);
			exit(0);
		}
		if (v == NULL) {
			fprintf(stderr, "mqtt_sink: %s needs a value (or is unknown)\n", a);
			return -1;
		}
		i++;
		if (strcmp(a, "--host") == 0) {
			s->host = v;
		} else if (strcmp(a, "--port") == 0) {
			if (bench_parse_ll(v, 1, 65535, &n) != 0)
				goto bad;
			s->port = (int)n;
		} else if (strcmp(a, "--topic") == 0) {
			s->filter = v;
		} else if (strcmp(a, "--expect") == 0) {
			if (bench_parse_ll(v, 0, LLONG_MAX, &s->expect) != 0)
				goto bad;
		} else if (strcmp(a, "--expect-file") == 0) {
			s->expect_file = v;
		} else if (strcmp(a, "--timeout") == 0) {
			if (sink_parse_seconds(v, &s->timeout_s) != 0 || s->timeout_s <= 0.0)
				goto bad;
		} else if (strcmp(a, "--first-timeout") == 0) {
			if (sink_parse_seconds(v, &s->first_timeout_s) != 0)
				goto bad;
		} else if (strcmp(a, "--record") == 0) {
			s->record = fopen(v, "w");
			if (s->record == NULL) {
				fprintf(stderr, "mqtt_sink: %s: %s\n", v, strerror(errno));
				return -1;
			}
			/* One write per few thousand messages, not one per message. */
			setvbuf(s->record, NULL, _IOFBF, 1 << 20);
		} else if (strcmp(a, "--id") == 0) {
			s->client_id = v;
		} else if (strcmp(a, "--receive-max") == 0) {
			if (bench_parse_ll(v, 1, 65535, &n) != 0)
				goto bad;
			s->receive_max = (int)n;
		} else {
			fprintf(stderr, "mqtt_sink: unknown option %s\n", a);
			sink_usage(stderr);
			return -1;
		}
		continue;
bad:
		fprintf(stderr, "mqtt_sink: bad value for %s: '%s'\n", a, v);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sink s = {
		.host = "127.0.0.1",
		.port = 1883,
		.filter = SINK_DEFAULT_FILTER,
		.timeout_s = 5.0,
		.receive_max = 65535,
	};
	struct mosquitto *mosq = NULL;
	char idbuf[64];
	int rc = 1;
	bool lib_up = false;

	if (sink_args(&s, argc, argv) != 0)
		goto done;
	if (s.client_id == NULL) {
		int n = snprintf(idbuf, sizeof idbuf, "bench-sink-%ld", (long)getpid());
		if (n < 0 || (size_t)n >= sizeof idbuf)
			goto done;
		s.client_id = idbuf;
	}

	struct sigaction sa = { .sa_handler = sink_on_signal };
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: select() inside mosquitto_loop() must wake up. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	int mrc = mosquitto_lib_init();
	if (mrc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mqtt_sink: mosquitto_lib_init: %s\n", mosquitto_strerror(mrc));
		goto done;
	}
	lib_up = true;
	mosq = mosquitto_new(s.client_id, true, &s);
	if (mosq == NULL) {
		fprintf(stderr, "mqtt_sink: mosquitto_new: %s\n", strerror(errno));
		goto done;
	}
	if ((mrc = mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5)) != MOSQ_ERR_SUCCESS ||
	    (mrc = mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1)) != MOSQ_ERR_SUCCESS ||
	    (mrc = mosquitto_int_option(mosq, MOSQ_OPT_RECEIVE_MAXIMUM, s.receive_max)) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mqtt_sink: setting options: %s\n", mosquitto_strerror(mrc));
		goto done;
	}
	mosquitto_connect_v5_callback_set(mosq, sink_on_connect);
	mosquitto_subscribe_v5_callback_set(mosq, sink_on_subscribe);
	mosquitto_message_v5_callback_set(mosq, sink_on_message);
	mosquitto_disconnect_v5_callback_set(mosq, sink_on_disconnect);

	mrc = mosquitto_connect_bind_v5(mosq, s.host, s.port, 60, NULL, NULL);
	if (mrc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mqtt_sink: connecting to %s:%d: %s\n", s.host, s.port,
			mrc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(mrc));
		goto done;
	}

	while (!s.done && !sink_stop_signal) {
		mrc = mosquitto_loop(mosq, 100, 1);
		if (mrc == MOSQ_ERR_ERRNO && errno == EINTR)
			continue;
		if (mrc != MOSQ_ERR_SUCCESS && !s.done) {
			fprintf(stderr, "mqtt_sink: network loop: %s\n",
				mrc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(mrc));
			s.fatal = 1;
			break;
		}
		double now = sink_clock_ms(CLOCK_MONOTONIC);
		sink_check_expect_file(&s, now);
		if (s.done)
			break;
		if (s.received > 0 && now - s.last_mono >= s.timeout_s * 1000.0)
			break;
		if (s.ready && s.received == 0 && s.first_timeout_s > 0.0 &&
		    now - s.ready_mono >= s.first_timeout_s * 1000.0) {
			fprintf(stderr, "mqtt_sink: no live message within %.1f s\n", s.first_timeout_s);
			s.fatal = 2;
			break;
		}
	}
	s.done = true;

	if (s.record != NULL) {
		int frc = fclose(s.record);
		s.record = NULL;
		if (frc != 0) {
			fprintf(stderr, "mqtt_sink: closing the record file: %s\n", strerror(errno));
			s.fatal = 1;
		}
	}
	printf("{\"received\": %lld, \"first_ms\": %.3f, \"last_ms\": %.3f, \"bytes\": %lld, "
	       "\"retained_ignored\": %lld, \"complete\": %s}\n",
	       s.received, s.first_ms, s.last_ms, s.bytes, s.retained,
	       s.expect > 0 && s.received >= s.expect ? "true" : "false");
	fflush(stdout);
	if (s.connected) {
		mrc = mosquitto_disconnect_v5(mosq, MQTT_RC_NORMAL_DISCONNECTION, NULL);
		if (mrc == MOSQ_ERR_SUCCESS)
			(void)mosquitto_loop(mosq, 50, 1); /* flush DISCONNECT; best effort */
	}
	if (sink_stop_signal)
		rc = 128 + (int)sink_stop_signal;
	else
		rc = s.fatal;

done:
	if (s.record != NULL)
		fclose(s.record);
	if (mosq != NULL)
		mosquitto_destroy(mosq);
	if (lib_up)
		mosquitto_lib_cleanup();
	return rc;
}
