/* screens: simulated village screens for the integration tests. Subscribes
 * to the alert prefix, writes every message it receives as a JSON line
 * {"topic", "retained", "payload"} to --out, and acks each one on the ack
 * topic of the region in the payload, the way a real screen does, unless
 * told not to (--no-ack, --silent CODE for a screen that never answers).
 * --topics FILE subscribes to the topics of FILE (one a line) instead of
 * the whole prefix: RabbitMQ 3.x hands retained messages only to a
 * subscription of the exact topic. Runs until SIGTERM or SIGINT. */
#include <errno.h>
#include <jansson.h>
#include <mosquitto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

struct opts {
	const char *host, *prefix, *ack_prefix, *status, *out_path;
	char **topics;  /* --topics: exact topics instead of {prefix}/# */
	int ntopics;
	int port, protocol;
	bool ack;
	bool brief;
	const char *silent[64];
	int nsilent;
	FILE *out;
	int ready_fd;
};

static bool silent(const struct opts *o, const char *code)
{
	for (int i = 0; i < o->nsilent; i++)
		if (strcmp(o->silent[i], code) == 0)
			return true;
	return false;
}

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
	struct opts *o = ud;
	char filter[512];
	if (rc) {
		fprintf(stderr, "screens: connect refused: %d\n", rc);
		return;
	}
	snprintf(filter, sizeof filter, "%s/#", o->prefix);
	int src = o->ntopics
		? mosquitto_subscribe_multiple(m, NULL, o->ntopics, o->topics, 1,
					       0, NULL)
		: mosquitto_subscribe(m, NULL, filter, 1);
	if (src != MOSQ_ERR_SUCCESS)
		fprintf(stderr, "screens: subscribe failed\n");
}

static void on_subscribe(struct mosquitto *m, void *ud, int mid, int n,
			 const int *granted)
{
	struct opts *o = ud;
	(void)m, (void)mid, (void)n, (void)granted;
	printf("ready\n");
	fflush(stdout);
	(void)o;
}

static void on_message(struct mosquitto *m, void *ud,
		       const struct mosquitto_message *msg)
{
	struct opts *o = ud;
	json_t *payload = json_loadb(msg->payload, (size_t)msg->payloadlen, 0,
				     NULL);
	json_t *line = o->brief
		? json_pack("{s:s, s:b, s:O?}", "topic", msg->topic, "retained",
			    msg->retain, "message_id",
			    json_object_get(payload, "message_id"))
		: json_pack("{s:s, s:b, s:O?}", "topic", msg->topic,
			    "retained", msg->retain, "payload", payload);
	if (line && o->out) {
		char *text = json_dumps(line, JSON_COMPACT);
		if (text) {
			fprintf(o->out, "%s\n", text);
			fflush(o->out);
			free(text);
		}
	}
	json_decref(line);
	const char *id = json_string_value(json_object_get(payload, "message_id"));
	const char *code = json_string_value(json_object_get(
		json_object_get(payload, "region"), "code"));
	if (o->ack && id && code && !silent(o, code)) {
		char topic[512];
		snprintf(topic, sizeof topic, "%s/%s", o->ack_prefix, code);
		json_t *ack = json_pack("{s:s, s:s}", "message_id", id, "status",
					o->status);
		char *text = ack ? json_dumps(ack, JSON_COMPACT) : NULL;
		if (text && mosquitto_publish(m, NULL, topic, (int)strlen(text),
					      text, 1, false) != MOSQ_ERR_SUCCESS)
			fprintf(stderr, "screens: ack publish failed\n");
		free(text);
		json_decref(ack);
	}
	json_decref(payload);
}

/* --topics FILE: one topic a line */
static int read_topics(struct opts *o, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	if (!f) {
		perror(path);
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			continue;
		char **g = realloc(o->topics, (size_t)(o->ntopics + 1) * sizeof *g);
		if (!g || !(g[o->ntopics] = strdup(line))) {
			if (g)
				o->topics = g;
			fclose(f);
			return -1;
		}
		o->topics = g;
		o->ntopics++;
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .host = "127.0.0.1", .port = 1883,
			  .prefix = "scicast/v1/alerts",
			  .ack_prefix = "scicast/v1/acks",
			  .status = "displayed", .ack = true, .protocol = 5 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		long long n;
		if (!strcmp(a, "--port") && v &&
		    util_parse_ll(v, 1, 65535, &n) == 0) {
			o.port = (int)n;
			i++;
		} else if (!strcmp(a, "--host") && v) {
			o.host = v;
			i++;
		} else if (!strcmp(a, "--prefix") && v) {
			o.prefix = v;
			i++;
		} else if (!strcmp(a, "--ack-prefix") && v) {
			o.ack_prefix = v;
			i++;
		} else if (!strcmp(a, "--status") && v) {
			o.status = v;
			i++;
		} else if (!strcmp(a, "--topics") && v) {
			if (read_topics(&o, v) < 0)
				return 1;
			i++;
		} else if (!strcmp(a, "--out") && v) {
			o.out_path = v;
			i++;
		} else if (!strcmp(a, "--silent") && v && o.nsilent < 64) {
			o.silent[o.nsilent++] = v;
			i++;
		} else if (!strcmp(a, "--protocol") && v) {
			o.protocol = strcmp(v, "5") == 0 ? 5 : 4;
			i++;
		} else if (!strcmp(a, "--brief")) {
			o.brief = true;
		} else if (!strcmp(a, "--no-ack")) {
			o.ack = false;
		} else {
			fprintf(stderr, "usage: screens --port P [--host H] "
				"[--prefix P] [--ack-prefix P] [--status S] "
				"[--out FILE] [--brief] [--silent CODE]... [--no-ack] "
				"[--protocol 3.1.1|5] [--topics FILE]\n");
			return 2;
		}
	}
	if (o.out_path && !(o.out = fopen(o.out_path, "a"))) {
		perror(o.out_path);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	mosquitto_lib_init();
	struct mosquitto *m = mosquitto_new(NULL, true, &o);
	if (!m)
		return 1;
	mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION,
			     o.protocol == 5 ? MQTT_PROTOCOL_V5
					     : MQTT_PROTOCOL_V311);
	mosquitto_int_option(m, MOSQ_OPT_RECEIVE_MAXIMUM, 1000);
	mosquitto_connect_callback_set(m, on_connect);
	mosquitto_subscribe_callback_set(m, on_subscribe);
	mosquitto_message_callback_set(m, on_message);
	while (!stop) {
		if (mosquitto_connect(m, o.host, o.port, 30) == MOSQ_ERR_SUCCESS)
			break;
		usleep(200000);
	}
	while (!stop) {
		int rc = mosquitto_loop(m, 100, 1);
		if (rc != MOSQ_ERR_SUCCESS && !stop) {
			usleep(200000);
			mosquitto_reconnect(m);
		}
	}
	mosquitto_disconnect(m);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	if (o.out)
		fclose(o.out);
	for (int i = 0; i < o.ntopics; i++)
		free(o.topics[i]);
	free(o.topics);
	return 0;
}
