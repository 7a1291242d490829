/* link: the screen's MQTT connection, on a thread of its own.
 *
 * libmosquitto 2.0 has no non-blocking connect that carries MQTT 5
 * properties (the session expiry interval), and a connect to a broker
 * behind a dead 4G link can block for minutes. So this thread owns the
 * client and does the blocking work; the main thread keeps drawing,
 * expiring alerts and reaping the loudspeaker meanwhile. Nothing is shared
 * but two queues under one mutex: events (connected, disconnected,
 * messages) to the main thread, announced on an eventfd; publishes from
 * it, announced on another eventfd that wakes this thread's poll.
 *
 * The session is persistent (clean start false, a stable client id, a
 * one-day session expiry on MQTT 5), so QoS 1 alerts published while the
 * screen is briefly away are queued by the broker and arrive after the
 * reconnect. Subscriptions are made again at every connect: a broker that
 * lost the session (restart without persistence) still gets them, and
 * the retained alert comes again, which de-duplication absorbs. */
#define _GNU_SOURCE
#include "screen.h"

#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 8000
#define CONNACK_TIMEOUT_MS 10000
#define SESSION_EXPIRY_S 86400
#define EVENTS_MAX 2000
#define PUBLISHES_MAX 1000

struct link_pub {
	char *topic;
	char *payload;
	bool retain;
	bool keep_offline;
	struct link_pub *next;
};

struct link {
	struct link_cfg cfg;
	struct mosquitto *mosq;
	pthread_t thread;
	bool started;
	int wake_fd;                /* main -> link */
	int event_fd;               /* link -> main */

	pthread_mutex_t mu;         /* guards what follows, up to the line */
	struct link_pub *out_head, *out_tail;
	size_t nout;
	struct link_event *ev_head, *ev_tail;
	size_t nev;
	bool stop_req;
	char *final_topic, *final_payload;
	int final_wait_ms;
	/* ---- */

	/* the thread's own */
	atomic_bool connected;
	bool socket_open;
	bool ever_connected;
	bool got_connack;           /* on the current socket */
	int64_t connect_at;
	int64_t connack_deadline;
	int backoff_ms;
	unsigned seed;
	bool final_sent;
	int final_mid;
	atomic_bool final_acked;
	int64_t final_deadline;
	long dropped;
};

static void link_pub_free(struct link_pub *p)
{
	if (!p)
		return;
	free(p->topic);
	free(p->payload);
	free(p);
}

void link_event_free(struct link_event *ev)
{
	while (ev) {
		struct link_event *next = ev->next;
		free(ev->topic);
		free(ev->payload);
		free(ev);
		ev = next;
	}
}

static void link_signal(int fd)
{
	uint64_t one = 1;
	ssize_t w = write(fd, &one, sizeof one);
	(void)w;   /* a full counter still wakes the reader */
}

static void link_drain(int fd)
{
	uint64_t v;
	ssize_t r = read(fd, &v, sizeof v);
	(void)r;
}

/* Hands an event to the main thread; drops messages past EVENTS_MAX so a
 * flood cannot eat the memory (the main thread is far faster than MQTT). */
static void link_push(struct link *l, struct link_event *ev)
{
	pthread_mutex_lock(&l->mu);
	if (ev->kind == LINK_EV_MESSAGE && l->nev >= EVENTS_MAX) {
		pthread_mutex_unlock(&l->mu);
		if (l->dropped++ % 100 == 0)
			log_warn("link: main thread behind; message on %.200s "
				 "dropped", ev->topic);
		link_event_free(ev);
		return;
	}
	if (l->ev_tail)
		l->ev_tail->next = ev;
	else
		l->ev_head = ev;
	l->ev_tail = ev;
	l->nev++;
	pthread_mutex_unlock(&l->mu);
	link_signal(l->event_fd);
}

static void link_push_state(struct link *l, enum link_event_kind kind,
			    bool session_present, const char *detail)
{
	struct link_event *ev = calloc(1, sizeof *ev);
	if (!ev) {
		log_error("link: out of memory for an event");
		return;
	}
	ev->kind = kind;
	ev->session_present = session_present;
	snprintf(ev->detail, sizeof ev->detail, "%s", detail);
	link_push(l, ev);
}

/* ---- callbacks (on this thread, inside mosquitto_loop_*) ---- */

static void link_on_connect(struct mosquitto *mosq, void *ud, int rc,
			    int flags, const mosquitto_property *props)
{
	struct link *l = ud;
	(void)props;
	l->got_connack = true;
	if (rc != 0) {
		char why[160];
		snprintf(why, sizeof why, "%s",
			 l->cfg.protocol == 5 ? mosquitto_reason_string(rc)
					      : mosquitto_connack_string(rc));
		log_warn("link: broker %s:%d refused the connection: %s",
			 l->cfg.host, l->cfg.port, why);
		return;
	}
	atomic_store(&l->connected, true);
	l->backoff_ms = BACKOFF_MIN_MS;
	l->connack_deadline = 0;
	l->ever_connected = true;
	int src = mosquitto_subscribe_multiple(mosq, NULL, l->cfg.nfilters,
					       l->cfg.filters, 1, 0, NULL);
	if (src != MOSQ_ERR_SUCCESS)
		log_error("link: subscribing: %s", mosquitto_strerror(src));
	bool present = (flags & 1) != 0;
	char detail[160];
	snprintf(detail, sizeof detail, "%s:%d MQTT %s, %s", l->cfg.host,
		 l->cfg.port, l->cfg.protocol == 5 ? "5" : "3.1.1",
		 present ? "session resumed" : "new session");
	link_push_state(l, LINK_EV_CONNECTED, present, detail);
}

/* The next attempt, with +-25% jitter so that a village's worth of
 * screens does not reconnect in step after a broker restart. */
static void link_schedule(struct link *l)
{
	int j = l->backoff_ms / 4;
	int delta = j > 0 ? (int)(rand_r(&l->seed) % (unsigned)(2 * j + 1)) - j
			  : 0;
	l->connect_at = util_now_ms() + l->backoff_ms + delta;
	l->backoff_ms = l->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
							   : l->backoff_ms * 2;
}

static void link_on_disconnect(struct mosquitto *mosq, void *ud, int rc,
			       const mosquitto_property *props)
{
	struct link *l = ud;
	(void)mosq, (void)props;
	bool was = atomic_exchange(&l->connected, false);
	l->socket_open = false;
	if (was) {
		char detail[160];
		snprintf(detail, sizeof detail, "%s",
			 rc == 0 ? "disconnected" : mosquitto_strerror(rc));
		log_warn("link: lost the broker (%s); reconnecting", detail);
		link_push_state(l, LINK_EV_DISCONNECTED, false, detail);
	}
	link_schedule(l);
}

static void link_on_message(struct mosquitto *mosq, void *ud,
			    const struct mosquitto_message *msg,
			    const mosquitto_property *props)
{
	struct link *l = ud;
	(void)mosq, (void)props;
	if (msg->payloadlen <= 0 || msg->payloadlen > SCREEN_PAYLOAD_MAX) {
		log_warn("link: message on %.200s of %d bytes ignored",
			 msg->topic, msg->payloadlen);
		return;
	}
	struct link_event *ev = calloc(1, sizeof *ev);
	if (ev) {
		ev->kind = LINK_EV_MESSAGE;
		ev->topic = strdup(msg->topic);
		ev->payload = malloc((size_t)msg->payloadlen + 1);
		ev->len = (size_t)msg->payloadlen;
	}
	if (!ev || !ev->topic || !ev->payload) {
		log_error("link: out of memory for a message on %.200s",
			  msg->topic);
		link_event_free(ev);
		return;
	}
	memcpy(ev->payload, msg->payload, ev->len);
	ev->payload[ev->len] = '\0';
	link_push(l, ev);
}

static void link_on_publish(struct mosquitto *mosq, void *ud, int mid,
			    int reason, const mosquitto_property *props)
{
	struct link *l = ud;
	(void)mosq, (void)props;
	if (reason >= 0x80)
		log_warn("link: the broker refused a publish: %s",
			 mosquitto_reason_string(reason));
	if (l->final_sent && mid == l->final_mid)
		atomic_store(&l->final_acked, true);
}

static void link_on_log(struct mosquitto *mosq, void *ud, int level,
			const char *str)
{
	(void)mosq, (void)ud;
	if (level == MOSQ_LOG_ERR)
		log_warn("link: %s", str);
	else
		log_debug("link: %s", str);
}

/* ---- connecting and publishing ---- */

static void link_connect(struct link *l)
{
	int rc;
	mosquitto_property *props = NULL;
	if (l->cfg.protocol == 5 &&
	    mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
					 SESSION_EXPIRY_S) != MOSQ_ERR_SUCCESS) {
		log_error("link: out of memory for the CONNECT properties");
		link_schedule(l);
		return;
	}
	/* the first connect stores host, port and properties; later ones
	 * reuse them */
	if (!l->ever_connected)
		rc = mosquitto_connect_bind_v5(l->mosq, l->cfg.host, l->cfg.port,
					       l->cfg.keepalive_s, NULL, props);
	else
		rc = mosquitto_reconnect(l->mosq);
	mosquitto_property_free_all(&props);
	if (rc == MOSQ_ERR_SUCCESS) {
		l->socket_open = true;
		l->got_connack = false;
		l->connack_deadline = util_now_ms() + CONNACK_TIMEOUT_MS;
		return;
	}
	/* say it at the first failure of a series, not every few seconds */
	if (l->backoff_ms <= BACKOFF_MIN_MS)
		log_warn("link: cannot reach the broker at %s:%d: %s; retrying",
			 l->cfg.host, l->cfg.port,
			 rc == MOSQ_ERR_ERRNO ? strerror(errno)
					      : mosquitto_strerror(rc));
	link_schedule(l);
}

static struct link_pub *link_pop_pub(struct link *l)
{
	pthread_mutex_lock(&l->mu);
	struct link_pub *p = l->out_head;
	if (p) {
		l->out_head = p->next;
		if (!l->out_head)
			l->out_tail = NULL;
		l->nout--;
		p->next = NULL;
	}
	pthread_mutex_unlock(&l->mu);
	return p;
}

static void link_unpop_pub(struct link *l, struct link_pub *p)
{
	pthread_mutex_lock(&l->mu);
	p->next = l->out_head;
	l->out_head = p;
	if (!l->out_tail)
		l->out_tail = p;
	l->nout++;
	pthread_mutex_unlock(&l->mu);
}

/* Publishes what the main thread queued; offline, drops what is not worth
 * keeping (a heartbeat is re-sent at connect anyway). */
static void link_flush(struct link *l)
{
	struct link_pub *p;
	bool on = atomic_load(&l->connected);
	while ((p = link_pop_pub(l))) {
		if (!on) {
			if (p->keep_offline) {
				link_unpop_pub(l, p);
				return;
			}
			link_pub_free(p);
			continue;
		}
		int rc = mosquitto_publish_v5(l->mosq, NULL, p->topic,
					      (int)strlen(p->payload), p->payload,
					      1, p->retain, NULL);
		if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST ||
		    rc == MOSQ_ERR_NOMEM) {
			link_unpop_pub(l, p);
			return;
		}
		if (rc != MOSQ_ERR_SUCCESS)
			log_error("link: publishing on %.200s: %s", p->topic,
				  mosquitto_strerror(rc));
		link_pub_free(p);
	}
}

/* At stop: the last word, then a clean DISCONNECT (which tells the broker
 * not to publish the will). True when the thread may end. */
static bool link_finish(struct link *l, int64_t now)
{
	if (!atomic_load(&l->connected))
		return true;
	if (!l->final_sent) {
		link_flush(l);
		l->final_sent = true;
		l->final_deadline = now + l->final_wait_ms;
		if (l->final_topic) {
			int rc = mosquitto_publish_v5(
				l->mosq, &l->final_mid, l->final_topic,
				(int)strlen(l->final_payload), l->final_payload,
				1, true, NULL);
			if (rc != MOSQ_ERR_SUCCESS)
				atomic_store(&l->final_acked, true);
		} else {
			atomic_store(&l->final_acked, true);
		}
	}
	if (!atomic_load(&l->final_acked) && now < l->final_deadline)
		return false;
	atomic_store(&l->connected, false);
	mosquitto_disconnect_v5(l->mosq, 0, NULL);
	return true;
}

static void *link_main(void *arg)
{
	struct link *l = arg;
	l->connect_at = util_now_ms();
	for (;;) {
		int64_t now = util_now_ms();
		pthread_mutex_lock(&l->mu);
		bool stopping = l->stop_req;
		pthread_mutex_unlock(&l->mu);
		if (stopping && link_finish(l, now))
			break;
		if (!stopping && !l->socket_open && now >= l->connect_at)
			link_connect(l);
		if (l->socket_open && !l->got_connack && l->connack_deadline &&
		    now > l->connack_deadline) {
			log_warn("link: no CONNACK in %d s; reconnecting",
				 CONNACK_TIMEOUT_MS / 1000);
			mosquitto_disconnect(l->mosq);
			l->socket_open = false;
			link_schedule(l);
		}
		if (!stopping)
			link_flush(l);

		struct pollfd fds[2] = { { .fd = l->wake_fd, .events = POLLIN } };
		nfds_t nfds = 1;
		int sock = l->socket_open ? mosquitto_socket(l->mosq) : -1;
		if (sock >= 0) {
			fds[1].fd = sock;
			fds[1].events = POLLIN |
					(mosquitto_want_write(l->mosq) ? POLLOUT : 0);
			nfds = 2;
		}
		if (poll(fds, nfds, 100) < 0 && errno != EINTR) {
			log_error("link: poll: %s", strerror(errno));
			break;
		}
		if (fds[0].revents & POLLIN)
			link_drain(l->wake_fd);
		if (nfds == 2) {
			int rc = MOSQ_ERR_SUCCESS;
			if (fds[1].revents & (POLLIN | POLLHUP | POLLERR))
				rc = mosquitto_loop_read(l->mosq, 100);
			if (rc == MOSQ_ERR_SUCCESS && l->socket_open &&
			    mosquitto_want_write(l->mosq))
				rc = mosquitto_loop_write(l->mosq, 100);
			if (rc == MOSQ_ERR_SUCCESS && l->socket_open)
				rc = mosquitto_loop_misc(l->mosq);
			/* libmosquitto closed the socket; its disconnect
			 * callback may not have run */
			if (rc != MOSQ_ERR_SUCCESS && l->socket_open)
				link_on_disconnect(l->mosq, l, rc, NULL);
		}
	}
	return NULL;
}

/* ---- the main thread's side ---- */

int link_start(const struct link_cfg *cfg, struct link **out)
{
	struct link *l = calloc(1, sizeof *l);
	sigset_t all, old;
	bool mu = false;
	if (!l) {
		log_error("link: out of memory");
		return -1;
	}
	l->cfg = *cfg;
	l->wake_fd = l->event_fd = -1;
	l->backoff_ms = BACKOFF_MIN_MS;
	l->seed = (unsigned)getpid() ^ (unsigned)util_now_ms();
	if (pthread_mutex_init(&l->mu, NULL) != 0) {
		log_error("link: mutex: %s", strerror(errno));
		goto fail;
	}
	mu = true;
	l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	l->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->wake_fd < 0 || l->event_fd < 0) {
		log_error("link: eventfd: %s", strerror(errno));
		goto fail;
	}
	/* clean session false: the broker keeps our subscriptions and
	 * queues QoS 1 messages while we are away */
	l->mosq = mosquitto_new(cfg->client_id, false, l);
	if (!l->mosq) {
		log_error("link: mosquitto_new: %s", strerror(errno));
		goto fail;
	}
	int proto = cfg->protocol == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311;
	if (mosquitto_int_option(l->mosq, MOSQ_OPT_PROTOCOL_VERSION, proto) ||
	    mosquitto_int_option(l->mosq, MOSQ_OPT_TCP_NODELAY, 1)) {
		log_error("link: setting MQTT options failed");
		goto fail;
	}
	if (cfg->username &&
	    mosquitto_username_pw_set(l->mosq, cfg->username, cfg->password)) {
		log_error("link: setting the MQTT user failed");
		goto fail;
	}
	int rc = mosquitto_will_set_v5(l->mosq, cfg->will_topic,
				       (int)strlen(cfg->will_payload),
				       cfg->will_payload, 1, true, NULL);
	if (rc != MOSQ_ERR_SUCCESS) {
		log_error("link: setting the last will on %s: %s",
			  cfg->will_topic, mosquitto_strerror(rc));
		goto fail;
	}
	mosquitto_connect_v5_callback_set(l->mosq, link_on_connect);
	mosquitto_disconnect_v5_callback_set(l->mosq, link_on_disconnect);
	mosquitto_message_v5_callback_set(l->mosq, link_on_message);
	mosquitto_publish_v5_callback_set(l->mosq, link_on_publish);
	mosquitto_log_callback_set(l->mosq, link_on_log);

	/* signals go to the main thread, whose poll they interrupt */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&l->thread, NULL, link_main, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		log_error("link: starting the thread: %s", strerror(rc));
		goto fail;
	}
	l->started = true;
	*out = l;
	return 0;
fail:
	if (l->mosq)
		mosquitto_destroy(l->mosq);
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	if (l->event_fd >= 0)
		close(l->event_fd);
	if (mu)
		pthread_mutex_destroy(&l->mu);
	free(l);
	return -1;
}

int link_fd(const struct link *l)
{
	return l->event_fd;
}

struct link_event *link_take(struct link *l)
{
	link_drain(l->event_fd);
	pthread_mutex_lock(&l->mu);
	struct link_event *ev = l->ev_head;
	l->ev_head = l->ev_tail = NULL;
	l->nev = 0;
	pthread_mutex_unlock(&l->mu);
	return ev;
}

int link_publish(struct link *l, const char *topic, const char *payload,
		 bool retain, bool keep_offline)
{
	struct link_pub *p = calloc(1, sizeof *p);
	if (p) {
		p->topic = strdup(topic);
		p->payload = strdup(payload);
		p->retain = retain;
		p->keep_offline = keep_offline;
	}
	if (!p || !p->topic || !p->payload) {
		link_pub_free(p);
		log_error("link: out of memory queueing a publish on %.200s",
			  topic);
		return -1;
	}
	pthread_mutex_lock(&l->mu);
	if (l->nout >= PUBLISHES_MAX) {
		pthread_mutex_unlock(&l->mu);
		log_warn("link: %d publishes waiting; one on %.200s dropped",
			 PUBLISHES_MAX, topic);
		link_pub_free(p);
		return -1;
	}
	if (l->out_tail)
		l->out_tail->next = p;
	else
		l->out_head = p;
	l->out_tail = p;
	l->nout++;
	pthread_mutex_unlock(&l->mu);
	link_signal(l->wake_fd);
	return 0;
}

void link_stop(struct link *l, const char *topic, const char *payload,
	       int wait_ms)
{
	if (!l || !l->started)
		return;
	pthread_mutex_lock(&l->mu);
	l->stop_req = true;
	l->final_topic = topic ? strdup(topic) : NULL;
	l->final_payload = payload ? strdup(payload) : NULL;
	if (!l->final_topic || !l->final_payload) {
		free(l->final_topic);
		free(l->final_payload);
		l->final_topic = l->final_payload = NULL;
	}
	l->final_wait_ms = wait_ms;
	pthread_mutex_unlock(&l->mu);
	link_signal(l->wake_fd);
	/* a thread stuck in a connect to an unreachable broker is left to
	 * the exit: waiting for the TCP timeout helps nobody */
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000 + 3;
	if (pthread_timedjoin_np(l->thread, NULL, &until) != 0) {
		log_warn("link: the connection thread did not stop; leaving it");
		pthread_detach(l->thread);
		l->mosq = NULL;   /* still in use by the thread */
	}
	l->started = false;
}

void link_free(struct link *l)
{
	if (!l || l->started)
		return;
	if (l->mosq)
		mosquitto_destroy(l->mosq);
	else
		return;   /* the thread may still touch the rest */
	link_event_free(l->ev_head);
	struct link_pub *p = l->out_head;
	while (p) {
		struct link_pub *next = p->next;
		link_pub_free(p);
		p = next;
	}
	free(l->final_topic);
	free(l->final_payload);
	close(l->wake_fd);
	close(l->event_fd);
	pthread_mutex_destroy(&l->mu);
	free(l);
}
