/* scicast-screen: the reference village screen. Subscribes to its
 * region's alert topic, shows and speaks alerts, acks them, and keeps a
 * retained online/offline status. This file owns the options (one table:
 * name, kind, bounds, help; the usage text is made from it), the signals
 * (handlers only set flags) and the main loop, which waits on the MQTT
 * thread's eventfd and wakes for the timers: alert and notice expiry, end
 * notices, heartbeats and the loudspeaker's child. docs/screens.md is the
 * contract this program is the worked example of. */
#define _GNU_SOURCE
#include "screen.h"

#include <errno.h>
#include <mosquitto.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "version.h"

#define NFILTERS_MAX 5
#define STOP_WAIT_MS 2000

enum opt_kind { OPT_STR, OPT_INT, OPT_FLAG };

struct opt_def {
	const char *name;
	enum opt_kind kind;
	size_t offset;
	long long min, max;
	const char *metavar;
	const char *help;
};

#define O(f) offsetof(struct screen_opts, f)
static const struct opt_def opt_defs[] = {
	{ "region", OPT_STR, O(region), 0, 0, "CODE",
	  "the screen's region, 12 digits (required)" },
	{ "topic", OPT_STR, O(topic), 0, 0, "TOPIC",
	  "the region's full alert topic (GET /api/v1/regions/CODE, field "
	  "topic); default: found by the code at the end" },
	{ "broker", OPT_STR, O(broker), 0, 0, "HOST:PORT",
	  "the MQTT broker (default 127.0.0.1:1883)" },
	{ "protocol", OPT_STR, O(protocol_name), 0, 0, "5|3.1.1",
	  "MQTT version (default 5)" },
	{ "username", OPT_STR, O(username), 0, 0, "USER", "MQTT user name" },
	{ "password", OPT_STR, O(password), 0, 0, "PASSWORD",
	  "MQTT password (or SCICAST_SCREEN_PASSWORD, which ps does not show)" },
	{ "prefix", OPT_STR, O(prefix), 0, 0, "PREFIX",
	  "alert topic prefix (default scicast/v1/alerts)" },
	{ "ack-prefix", OPT_STR, O(ack_prefix), 0, 0, "PREFIX",
	  "ack topic prefix (default scicast/v1/acks)" },
	{ "status-prefix", OPT_STR, O(status_prefix), 0, 0, "PREFIX",
	  "status topic prefix (default scicast/v1/status)" },
	{ "screen-id", OPT_STR, O(screen_id), 0, 0, "ID",
	  "this screen among its region's: [A-Za-z0-9._-], up to 64 "
	  "(default the region code)" },
	{ "keepalive", OPT_INT, O(keepalive_s), 5, 3600, "SECONDS",
	  "MQTT keep-alive; the broker declares the screen offline about "
	  "1.5 times this after it vanishes (default 10)" },
	{ "heartbeat", OPT_INT, O(heartbeat_s), 1, 86400, "SECONDS",
	  "how often the online status is published again (default 30)" },
	{ "end-hold", OPT_INT, O(end_hold_s), 0, 86400, "SECONDS",
	  "how long a cancel, expiry or all-clear notice stays (default 60)" },
	{ "tts-command", OPT_STR, O(tts_command), 0, 0, "COMMAND",
	  "run by /bin/sh -c with the tts text on its standard input" },
	{ "no-speak-notices", OPT_FLAG, O(no_speak_notices), 0, 0, NULL,
	  "show campaign notices (everyday science) but do not read them; "
	  "alerts are still read" },
	{ "state-file", OPT_STR, O(state_file), 0, 0, "PATH",
	  "keep what is shown and the seen message ids here across restarts" },
	{ "log", OPT_STR, O(log_file), 0, 0, "FILE",
	  "append one JSON line per event" },
	{ "fullscreen", OPT_FLAG, O(fullscreen), 0, 0, NULL,
	  "redraw the whole terminal (alternate screen) at each change" },
	{ "help", OPT_FLAG, O(help), 0, 0, NULL, "this text" },
	{ "version", OPT_FLAG, O(version), 0, 0, NULL, "the version" },
};
#undef O
#define NOPTS (sizeof opt_defs / sizeof opt_defs[0])

static volatile sig_atomic_t stop_signal, reopen_log, resized;

static void on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		stop_signal = sig;
	else if (sig == SIGHUP)
		reopen_log = 1;       /* after logrotate moved it */
	else if (sig == SIGWINCH)
		resized = 1;
	/* SIGCHLD: only to interrupt poll; the loop reaps */
}

static void usage(FILE *f)
{
	fprintf(f, "usage: %s --region CODE [options]\n\n", SCREEN_NAME);
	for (size_t i = 0; i < NOPTS; i++) {
		char left[64];
		snprintf(left, sizeof left, "--%s%s%s", opt_defs[i].name,
			 opt_defs[i].metavar ? " " : "",
			 opt_defs[i].metavar ? opt_defs[i].metavar : "");
		fprintf(f, "  %-26s %s\n", left, opt_defs[i].help);
	}
}

static int opts_parse(struct screen_opts *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL, *eq;
		size_t nlen;
		if (strncmp(a, "--", 2) != 0)
			goto bad;
		a += 2;
		eq = strchr(a, '=');
		nlen = eq ? (size_t)(eq - a) : strlen(a);
		const struct opt_def *d = NULL;
		for (size_t k = 0; k < NOPTS; k++)
			if (strlen(opt_defs[k].name) == nlen &&
			    !strncmp(opt_defs[k].name, a, nlen))
				d = &opt_defs[k];
		if (!d)
			goto bad;
		char *field = (char *)o + d->offset;
		if (d->kind == OPT_FLAG) {
			if (eq)
				goto bad;
			*(bool *)field = true;
			continue;
		}
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else {
			fprintf(stderr, "%s: --%s needs a value\n", SCREEN_NAME,
				d->name);
			return -1;
		}
		if (d->kind == OPT_STR) {
			*(const char **)field = val;
		} else if (util_parse_ll(val, d->min, d->max,
					 (long long *)(void *)field) < 0) {
			fprintf(stderr, "%s: --%s: \"%s\" is not a number from "
				"%lld to %lld\n", SCREEN_NAME, d->name, val,
				d->min, d->max);
			return -1;
		}
		continue;
bad:
		fprintf(stderr, "%s: unknown option %s (--help lists them)\n",
			SCREEN_NAME, argv[i]);
		return -1;
	}
	return 0;
}

/* A prefix or topic we publish or subscribe under: no wildcards, no
 * empty levels at the ends. */
static bool topic_ok(const char *t)
{
	size_t n = strlen(t);
	return n > 0 && n < SCREEN_TOPIC_MAX - 100 && !strpbrk(t, "+#") &&
	       t[0] != '/' && t[n - 1] != '/' && util_utf8_valid(t, n);
}

static bool screen_id_ok(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int opts_check(struct screen_opts *o)
{
	const char *what = NULL;
	if (!o->screen_id)
		o->screen_id = o->region;
	if (!o->region || !util_is_region_code(o->region, strlen(o->region)))
		what = "--region must be a 12-digit region code";
	else if (!screen_id_ok(o->screen_id))
		what = "--screen-id: letters, digits, '.', '_', '-', up to 64";
	else if (!topic_ok(o->prefix) || !topic_ok(o->ack_prefix) ||
		 !topic_ok(o->status_prefix))
		what = "a prefix is empty, too long, or holds + or #";
	else if (o->topic && !topic_ok(o->topic))
		what = "--topic is empty, too long, or holds + or #";
	else if (!strcmp(o->protocol_name, "5"))
		o->protocol = 5;
	else if (!strcmp(o->protocol_name, "3.1.1") ||
		 !strcmp(o->protocol_name, "311"))
		o->protocol = 4;
	else
		what = "--protocol is 5 or 3.1.1";
	if (what)
		goto bad;
	if (!o->password && getenv("SCICAST_SCREEN_PASSWORD"))
		o->password = getenv("SCICAST_SCREEN_PASSWORD");
	if (o->password && !o->username) {
		what = "--password needs --username";
		goto bad;
	}
	if (o->tts_command && !o->tts_command[0]) {
		what = "--tts-command is empty";
		goto bad;
	}
	if (strchr(o->broker, ':')) {
		if (util_parse_hostport(o->broker, &o->host, &o->port) < 0 ||
		    o->port == 0) {
			what = "--broker is HOST:PORT";
			goto bad;
		}
	} else if (!(o->host = strdup(o->broker))) {
		what = "out of memory";
		goto bad;
	} else {
		o->port = 1883;
	}
	return 0;
bad:
	fprintf(stderr, "%s: %s\n", SCREEN_NAME, what);
	return -1;
}

/* The subscriptions: the given topic, or the code at the end of a topic
 * of unknown depth (a region is found below its root, 1 to 5 levels). */
static int make_filters(const struct screen_opts *o, char **filters, int *n)
{
	*n = 0;
	if (o->topic) {
		filters[0] = strdup(o->topic);
		if (!filters[0])
			return -1;
		*n = 1;
		return 0;
	}
	/* {prefix}/{code}, {prefix}/+/{code}, … {prefix}/+/+/+/+/{code} */
	for (int depth = 0; depth < NFILTERS_MAX; depth++) {
		char t[SCREEN_TOPIC_MAX];
		int w = snprintf(t, sizeof t, "%s/%.*s%s", o->prefix, 2 * depth,
				 "+/+/+/+/+/", o->region);
		if (w < 0 || (size_t)w >= sizeof t || !(filters[depth] = strdup(t)))
			return -1;
		*n = depth + 1;
	}
	return 0;
}

static void on_link_event(struct screen *s, struct link_event *ev)
{
	switch (ev->kind) {
	case LINK_EV_CONNECTED:
		s->connected = true;
		s->view_dirty = true;
		log_info("connected: %s", ev->detail);
		presence_event(s, "connected", NULL, "detail", ev->detail);
		presence_publish_online(s);
		break;
	case LINK_EV_DISCONNECTED:
		s->connected = false;
		s->view_dirty = true;
		presence_event(s, "disconnected", NULL, "detail", ev->detail);
		break;
	case LINK_EV_MESSAGE:
		alerts_handle(s, ev->topic, ev->payload, ev->len);
		break;
	}
}

/* How long the loop may sleep: until the next slot or heartbeat is due,
 * at most half a second (a SIGCHLD that slips in just before poll waits
 * no longer than that). */
static int sleep_ms(const struct screen *s, int64_t now)
{
	int64_t next = now + 500;
	for (size_t i = 0; i < s->nslots; i++)
		if (s->slots[i].until_ms < next)
			next = s->slots[i].until_ms;
	if (s->connected && s->next_heartbeat < next)
		next = s->next_heartbeat;
	return next <= now ? 0 : (int)(next - now);
}

static void run(struct screen *s)
{
	char played[SCREEN_ID_MAX];
	while (!stop_signal) {
		struct pollfd pfd = { .fd = link_fd(s->link), .events = POLLIN };
		if (poll(&pfd, 1, sleep_ms(s, util_now_ms())) < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			break;
		}
		struct link_event *evs = link_take(s->link);
		for (struct link_event *ev = evs; ev; ev = ev->next)
			on_link_event(s, ev);
		link_event_free(evs);
		if (reopen_log) {
			reopen_log = 0;
			if (s->events)
				fclose(s->events);
			s->events = NULL;
			presence_open_log(s);
		}
		if (resized) {
			resized = 0;
			s->view_dirty = true;
		}
		if (s->speaker && speak_poll(s->speaker, played, sizeof played))
			alerts_played(s, played);
		int64_t now = util_now_ms();
		alerts_tick(s, now);
		alerts_notice_step(s);
		/* the status says what is on the screen: at once when it
		 * changes, and at every heartbeat */
		bool changed = alerts_update_shown(s);
		if (s->connected && (changed || now >= s->next_heartbeat))
			presence_publish_online(s);
		if (s->state_dirty) {
			state_save(s);   /* on failure: again at the next change */
			s->state_dirty = false;
		}
		if (s->view_dirty) {
			display_refresh(s);
			s->view_dirty = false;
		}
	}
}

int main(int argc, char **argv)
{
	struct screen_opts o = {
		.broker = "127.0.0.1:1883", .protocol_name = "5",
		.prefix = "scicast/v1/alerts", .ack_prefix = "scicast/v1/acks",
		.status_prefix = "scicast/v1/status", .keepalive_s = 10,
		.heartbeat_s = 30, .end_hold_s = 60,
	};
	struct screen s = { .opts = &o };
	char *filters[NFILTERS_MAX] = { 0 };
	char client_id[200], *will = NULL, *bye = NULL;
	int nfilters = 0, rc = 1;
	bool display = false, lib = false;

	if (opts_parse(&o, argc, argv) < 0)
		return 2;
	if (o.help) {
		usage(stdout);
		return 0;
	}
	if (o.version) {
		printf("%s %s\n", SCREEN_NAME, SCICAST_VERSION);
		return 0;
	}
	if (opts_check(&o) < 0)
		return 2;

	/* SA_RESTART spares the file writes; poll is interrupted anyway,
	 * which is what wakes the loop */
	struct sigaction sa = { .sa_handler = on_signal,
				.sa_flags = SA_RESTART | SA_NOCLDSTOP };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	int w1 = snprintf(s.ack_topic, sizeof s.ack_topic, "%s/%s", o.ack_prefix,
			  o.region);
	int w2 = snprintf(s.status_topic, sizeof s.status_topic, "%s/%s/%s",
			  o.status_prefix, o.region, o.screen_id);
	int w3 = snprintf(client_id, sizeof client_id, "%s-%s-%s", SCREEN_NAME,
			  o.region, o.screen_id);
	if (w1 < 0 || (size_t)w1 >= sizeof s.ack_topic || w2 < 0 ||
	    (size_t)w2 >= sizeof s.status_topic || w3 < 0 ||
	    (size_t)w3 >= sizeof client_id || make_filters(&o, filters, &nfilters) < 0) {
		log_error("topics too long, or out of memory");
		goto done;
	}
	if (presence_open_log(&s) < 0)
		goto done;
	if (o.tts_command && speak_new(o.tts_command, &s.speaker) < 0) {
		log_error("out of memory");
		goto done;
	}
	if (display_open(&o) < 0)
		goto done;
	display = true;

	/* what was on the screen before a restart is back before the
	 * broker is even reached */
	state_load(&s);
	alerts_restore(&s);
	alerts_update_shown(&s);
	display_refresh(&s);

	mosquitto_lib_init();
	lib = true;
	will = presence_offline(&s, "connection lost");
	bye = presence_offline(&s, "stopped");
	if (!will || !bye) {
		log_error("out of memory");
		goto done;
	}
	struct link_cfg lc = {
		.host = o.host, .port = o.port, .protocol = o.protocol,
		.username = o.username, .password = o.password,
		.client_id = client_id, .keepalive_s = (int)o.keepalive_s,
		.filters = filters, .nfilters = nfilters,
		.will_topic = s.status_topic, .will_payload = will,
	};
	if (link_start(&lc, &s.link) < 0)
		goto done;
	log_info("%s %s: region %s, screen %s, broker %s:%d, %s %s%s", SCREEN_NAME,
		 SCICAST_VERSION, o.region, o.screen_id, o.host, o.port,
		 o.topic ? "topic" : "topics ending in", o.topic ? o.topic : o.region,
		 o.topic ? "" : " (depth 1-5)");

	run(&s);
	if (stop_signal)
		log_info("stopping (signal %d)", (int)stop_signal);
	rc = 0;
done:
	/* the offline status first, retained, then a clean disconnect: the
	 * broker drops the will */
	if (s.link) {
		link_stop(s.link, s.status_topic, bye, STOP_WAIT_MS);
		link_free(s.link);
	}
	speak_free(s.speaker);
	if (s.state_dirty)
		state_save(&s);
	if (display)
		display_close();
	for (size_t i = 0; i < s.nslots; i++)
		alerts_msg_free(&s.slots[i].msg);
	if (s.events)
		fclose(s.events);
	if (lib)
		mosquitto_lib_cleanup();
	for (int i = 0; i < nfilters; i++)
		free(filters[i]);
	free(will);
	free(bye);
	free(o.host);
	return rc;
}
