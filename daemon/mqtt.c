/* mqtt: the MQTT sender thread.
 *
 * One thread drives libmosquitto's network loop itself (poll on the
 * client socket and an eventfd), so every callback runs on this thread and
 * nothing here is shared with other threads except the eventfd (wake-ups)
 * and an atomic "connected" flag (health). PUBACKs and screen acks are
 * collected in memory and handed in batches to the marks thread
 * (mqtt_marks.c), which writes them, one transaction per few hundred
 * messages, while this one goes on publishing. What is in flight at a
 * crash is still pending in the database and is published again at the
 * next start; what is in flight at a disconnect, libmosquitto publishes
 * again (with DUP) after it reconnects. */
#define _GNU_SOURCE
#include "mqtt.h"

#include <errno.h>
#include <jansson.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "mqtt_marks.h"
#include "outbox.h"
#include "presence.h"
#include "store.h"
#include "util.h"

#define CLAIM_BATCH 500
#define FLUSH_EVERY_MS 50
#define FLUSH_AT 1000
#define IDLE_RECHECK_MS 1000
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 5000
#define CONNACK_TIMEOUT_MS 10000
#define ACK_SESSION_EXPIRY_S 86400
#define END_RETAIN_S 86400

struct inflight {
	int mid;              /* 0: empty slot */
	int64_t delivery;
};

struct mqtt_sender {
	struct app *app;
	const struct config *cfg;
	struct store *store;       /* peeks, and the rare failed publish */
	struct mqtt_marks *marks;  /* writes PUBACKs, acks and presence */
	struct mosquitto *mosq;
	pthread_t thread;
	bool started;
	int wake_fd;
	atomic_bool stop;
	atomic_bool connected;

	bool socket_open;      /* TCP connected, CONNACK may be pending */
	int64_t connect_at;    /* when to try (re)connecting */
	int64_t connack_deadline;
	int backoff_ms;
	bool ever_connected;

	struct inflight *slots; /* open addressing by mid */
	size_t nslots, ninflight;
	/* the same deliveries by id, for the claim to pass over: they stay
	 * pending in the database until the marks thread has written their
	 * PUBACK */
	int64_t *taken;
	size_t ntaken_slots;
	size_t ntaken, ntaken_used; /* live entries; live and removed */
	int64_t idle_until;     /* no claim before this unless woken */

	int64_t *sent;
	size_t nsent, capsent;
	struct outbox_ack *acks;
	size_t nacks, capacks;
	struct presence_update *presence;
	size_t npresence, cappresence;
	char status_filter[300];
	size_t status_prefix_len;
	int64_t first_unflushed;
	char ack_filter[300];
	size_t ack_prefix_len;
	long bad_acks_logged;
};

/* ---- the deliveries taken: published and not yet recorded as sent ----
 * They stay pending in the database until their PUBACK is written (by the
 * marks thread), so the claim must pass over them. Open addressing by id;
 * 0 is empty, -1 a removed entry (swept when the table is rebuilt). */

static size_t taken_slot(const struct mqtt_sender *m, int64_t id)
{
	return (size_t)(((uint64_t)id * 0x9E3779B97F4A7C15ULL) >> 20) &
	       (m->ntaken_slots - 1);
}

static bool taken_has(void *ud, int64_t id)
{
	const struct mqtt_sender *m = ud;
	if (!m->ntaken_slots)
		return false;
	for (size_t k = taken_slot(m, id); m->taken[k];
	     k = (k + 1) & (m->ntaken_slots - 1))
		if (m->taken[k] == id)
			return true;
	return false;
}

static int taken_rebuild(struct mqtt_sender *m, size_t cap)
{
	int64_t *g = calloc(cap, sizeof *g);
	if (!g)
		return -1;
	int64_t *old = m->taken;
	size_t oldn = m->ntaken_slots;
	m->taken = g;
	m->ntaken_slots = cap;
	m->ntaken_used = m->ntaken;
	for (size_t i = 0; i < oldn; i++)
		if (old[i] > 0) {
			size_t k = taken_slot(m, old[i]);
			while (m->taken[k])
				k = (k + 1) & (cap - 1);
			m->taken[k] = old[i];
		}
	free(old);
	return 0;
}

static int taken_add(struct mqtt_sender *m, int64_t id)
{
	/* live and removed entries both fill the probe chains: at half
	 * full, rebuild (twice as big if the live ones need it) */
	if ((m->ntaken_used + 1) * 2 > m->ntaken_slots) {
		size_t cap = m->ntaken_slots ? m->ntaken_slots : 4096;
		while ((m->ntaken + 1) * 4 > cap)
			cap *= 2;
		if (taken_rebuild(m, cap) < 0)
			return -1;
	}
	size_t k = taken_slot(m, id);
	while (m->taken[k] > 0 && m->taken[k] != id)
		k = (k + 1) & (m->ntaken_slots - 1);
	if (m->taken[k] != id) {
		if (!m->taken[k])
			m->ntaken_used++;
		m->taken[k] = id;
		m->ntaken++;
	}
	return 0;
}

static void taken_del(struct mqtt_sender *m, int64_t id)
{
	if (!m->ntaken_slots)
		return;
	for (size_t k = taken_slot(m, id); m->taken[k];
	     k = (k + 1) & (m->ntaken_slots - 1))
		if (m->taken[k] == id) {
			m->taken[k] = -1;
			m->ntaken--;
			return;
		}
}

/* ---- in-flight map: mid -> delivery ---- */

static size_t slot_of(const struct mqtt_sender *m, int mid)
{
	return ((size_t)mid * 2654435761u) & (m->nslots - 1);
}

static int inflight_put(struct mqtt_sender *m, int mid, int64_t delivery)
{
	if ((m->ninflight + 1) * 2 > m->nslots) {
		size_t cap = m->nslots ? m->nslots * 2 : 2048;
		struct inflight *g = calloc(cap, sizeof *g);
		if (!g)
			return -1;
		struct inflight *old = m->slots;
		size_t oldn = m->nslots;
		m->slots = g;
		m->nslots = cap;
		for (size_t i = 0; i < oldn; i++)
			if (old[i].mid) {
				size_t k = slot_of(m, old[i].mid);
				while (m->slots[k].mid)
					k = (k + 1) & (m->nslots - 1);
				m->slots[k] = old[i];
			}
		free(old);
	}
	size_t k = slot_of(m, mid);
	while (m->slots[k].mid && m->slots[k].mid != mid)
		k = (k + 1) & (m->nslots - 1);
	if (!m->slots[k].mid)
		m->ninflight++;
	m->slots[k].mid = mid;
	m->slots[k].delivery = delivery;
	return 0;
}

/* Removes a mid; returns its delivery, or 0. */
static int64_t inflight_take(struct mqtt_sender *m, int mid)
{
	if (!m->nslots)
		return 0;
	size_t k = slot_of(m, mid);
	while (m->slots[k].mid && m->slots[k].mid != mid)
		k = (k + 1) & (m->nslots - 1);
	if (!m->slots[k].mid)
		return 0;
	int64_t d = m->slots[k].delivery;
	m->slots[k].mid = 0;
	m->ninflight--;
	/* re-insert the cluster after the hole (linear probing delete) */
	for (size_t j = (k + 1) & (m->nslots - 1); m->slots[j].mid;
	     j = (j + 1) & (m->nslots - 1)) {
		struct inflight e = m->slots[j];
		m->slots[j].mid = 0;
		size_t t = slot_of(m, e.mid);
		while (m->slots[t].mid)
			t = (t + 1) & (m->nslots - 1);
		m->slots[t] = e;
	}
	return d;
}

/* ---- batches ---- */

/* Hands what was heard to the marks thread; never waits for the
 * database. */
static void flush(struct mqtt_sender *m)
{
	if (mqtt_marks_put(m->marks, m->sent, m->nsent, m->acks, m->nacks,
			   m->presence, m->npresence) < 0) {
		log_error("mqtt: out of memory handing over %zu PUBACKs (kept "
			  "for the next try)", m->nsent);
		return;
	}
	m->nsent = m->nacks = m->npresence = 0;
	m->first_unflushed = 0;
}

/* Deliveries written as sent are no longer pending: the claim no longer
 * sees them, so they need not be passed over. Only after their commit,
 * or a claim could take them again. */
static void forget_written(struct mqtt_sender *m)
{
	int64_t *ids = NULL;
	size_t n = mqtt_marks_written(m->marks, &ids);
	for (size_t i = 0; i < n; i++)
		taken_del(m, ids[i]);
	free(ids);
}

static void note_unflushed(struct mqtt_sender *m)
{
	if (!m->first_unflushed)
		m->first_unflushed = util_now_ms();
	if (m->nsent + m->nacks + m->npresence >= FLUSH_AT)
		flush(m);
}

static int push_sent(struct mqtt_sender *m, int64_t delivery)
{
	if (m->nsent == m->capsent) {
		size_t cap = m->capsent ? m->capsent * 2 : 1024;
		int64_t *g = realloc(m->sent, cap * sizeof *g);
		if (!g)
			return -1;
		m->sent = g;
		m->capsent = cap;
	}
	m->sent[m->nsent++] = delivery;
	note_unflushed(m);
	return 0;
}

/* ---- callbacks (on this thread, inside mosquitto_loop_*) ---- */

static void on_connect(struct mosquitto *mosq, void *ud, int rc, int flags,
		       const mosquitto_property *props)
{
	struct mqtt_sender *m = ud;
	(void)flags, (void)props;
	if (rc != 0) {
		log_warn("mqtt: broker %s:%d refused the connection: %s",
			 m->cfg->mqtt_host, m->cfg->mqtt_port,
			 m->cfg->mqtt_protocol == 5 ? mosquitto_reason_string(rc)
						    : mosquitto_connack_string(rc));
		return;
	}
	atomic_store(&m->connected, true);
	metrics_gauge_set(M_MQTT_CONNECTED, 1);
	metrics_add(M_MQTT_CONNECTS, 1);
	m->backoff_ms = BACKOFF_MIN_MS;
	m->connack_deadline = 0;
	m->idle_until = 0;
	log_info("mqtt: connected to %s:%d (MQTT %s)%s", m->cfg->mqtt_host,
		 m->cfg->mqtt_port, m->cfg->mqtt_protocol == 5 ? "5" : "3.1.1",
		 m->ninflight ? "; publishing again what was in flight" : "");
	m->ever_connected = true;
	const char *filters[] = { m->ack_filter, m->status_filter };
	for (int i = 0; i < 2; i++) {
		int src = mosquitto_subscribe_v5(mosq, NULL, filters[i], 1, 0,
						 NULL);
		if (src != MOSQ_ERR_SUCCESS)
			log_error("mqtt: subscribing to %s: %s", filters[i],
				  mosquitto_strerror(src));
	}
}

static void on_disconnect(struct mosquitto *mosq, void *ud, int rc,
			  const mosquitto_property *props)
{
	struct mqtt_sender *m = ud;
	(void)mosq, (void)props;
	bool was = atomic_exchange(&m->connected, false);
	metrics_gauge_set(M_MQTT_CONNECTED, 0);
	m->socket_open = false;
	if (atomic_load(&m->stop))
		return;
	if (was) {
		metrics_add(M_MQTT_DISCONNECTS, 1);
		log_warn("mqtt: lost the broker (%s); %zu message(s) in flight "
			 "will be published again", mosquitto_strerror(rc),
			 m->ninflight);
	}
	m->connect_at = util_now_ms() + m->backoff_ms;
}

static void on_publish(struct mosquitto *mosq, void *ud, int mid,
		       int reason, const mosquitto_property *props)
{
	struct mqtt_sender *m = ud;
	(void)mosq, (void)props;
	int64_t delivery = inflight_take(m, mid);
	if (!delivery)
		return;
	if (reason >= 0x80) {
		/* the broker refused it (quota, not authorized, …): not
		 * sent; try again later, and say why */
		struct err err;
		char msg[200];
		snprintf(msg, sizeof msg, "broker refused the publish: %s",
			 mosquitto_reason_string(reason));
		log_warn("mqtt: delivery %lld: %s", (long long)delivery, msg);
		if (outbox_mark_failed(m->store, delivery, msg,
				       util_now_ms() + 30000, false, &err) < 0)
			log_error("mqtt: %s", err.message);
		taken_del(m, delivery);
		return;
	}
	metrics_add(M_MQTT_PUBACKS, 1);
	if (push_sent(m, delivery) < 0)
		log_error("mqtt: out of memory recording a PUBACK");
}

static void bad_message(struct mqtt_sender *m, const char *topic, const char *why)
{
	metrics_add(M_MQTT_ACKS_BAD, 1);
	/* a broken screen could flood the log: say the first ones, then
	 * every thousandth */
	if (m->bad_acks_logged < 20 || m->bad_acks_logged % 1000 == 0)
		log_warn("mqtt: malformed message on %.200s ignored: %s", topic, why);
	m->bad_acks_logged++;
}

/* {status_prefix}/{region}/{screen id}: a screen's presence. */
static void on_status(struct mqtt_sender *m, const struct mosquitto_message *msg)
{
	const char *rest = msg->topic + m->status_prefix_len + 1;
	const char *slash = strchr(rest, '/');
	char region[16], why[200];
	struct presence_update u;
	if (!slash || slash - rest != 12 || strchr(slash + 1, '/')) {
		bad_message(m, msg->topic, "a status topic is {prefix}/{region}/"
			"{screen id}");
		return;
	}
	memcpy(region, rest, 12);
	region[12] = '\0';
	if (msg->payloadlen == 0)
		return; /* a cleared retained status: nothing to say */
	if (presence_parse(region, slash + 1, msg->payload,
			   (size_t)msg->payloadlen, util_now_ms(), &u, why,
			   sizeof why) < 0) {
		bad_message(m, msg->topic, why);
		return;
	}
	if (m->npresence == m->cappresence) {
		size_t cap = m->cappresence ? m->cappresence * 2 : 64;
		struct presence_update *g = realloc(m->presence, cap * sizeof *g);
		if (!g) {
			log_error("mqtt: out of memory for a status");
			return;
		}
		m->presence = g;
		m->cappresence = cap;
	}
	m->presence[m->npresence++] = u;
	if (!u.online)
		log_info("presence: screen %s of %s is offline (%s)", u.screen_id,
			 u.region, u.reason[0] ? u.reason : "no reason given");
	note_unflushed(m);
}

static void on_message(struct mosquitto *mosq, void *ud,
		       const struct mosquitto_message *msg,
		       const mosquitto_property *props)
{
	struct mqtt_sender *m = ud;
	(void)mosq, (void)props;
	const char *topic = msg->topic;
	if (strncmp(topic, m->cfg->mqtt_status_prefix, m->status_prefix_len) == 0 &&
	    topic[m->status_prefix_len] == '/') {
		on_status(m, msg);
		return;
	}
	if (strncmp(topic, m->cfg->mqtt_ack_prefix, m->ack_prefix_len) != 0 ||
	    topic[m->ack_prefix_len] != '/')
		return;
	struct outbox_ack ack;
	char why[200];
	if (msg->payloadlen < 0 ||
	    outbox_parse_ack(topic + m->ack_prefix_len + 1, msg->payload,
			     (size_t)msg->payloadlen, &ack, why, sizeof why) < 0) {
		bad_message(m, topic, msg->payloadlen < 0 ? "no payload" : why);
		return;
	}
	if (m->nacks == m->capacks) {
		size_t cap = m->capacks ? m->capacks * 2 : 256;
		struct outbox_ack *g = realloc(m->acks, cap * sizeof *g);
		if (!g) {
			log_error("mqtt: out of memory for an ack");
			return;
		}
		m->acks = g;
		m->capacks = cap;
	}
	ack.at = util_now_ms();
	m->acks[m->nacks++] = ack;
	note_unflushed(m);
}

static void on_log(struct mosquitto *mosq, void *ud, int level,
		   const char *str)
{
	(void)mosq, (void)ud;
	if (level == MOSQ_LOG_ERR)
		log_warn("mqtt: %s", str);
	else
		log_debug("mqtt: %s", str);
}

/* ---- connecting ---- */

static void try_connect(struct mqtt_sender *m)
{
	int64_t now = util_now_ms();
	int rc;
	mosquitto_property *props = NULL;
	if (m->cfg->mqtt_protocol == 5)
		mosquitto_property_add_int32(&props,
					     MQTT_PROP_SESSION_EXPIRY_INTERVAL,
					     ACK_SESSION_EXPIRY_S);
	if (!m->ever_connected && !m->socket_open)
		rc = mosquitto_connect_bind_v5(m->mosq, m->cfg->mqtt_host,
					       m->cfg->mqtt_port,
					       (int)(m->cfg->mqtt_keepalive_ms / 1000),
					       NULL, props);
	else
		rc = mosquitto_reconnect(m->mosq);
	mosquitto_property_free_all(&props);
	if (rc == MOSQ_ERR_SUCCESS) {
		m->socket_open = true;
		m->connack_deadline = now + CONNACK_TIMEOUT_MS;
		return;
	}
	if (m->backoff_ms <= BACKOFF_MIN_MS || !m->ever_connected)
		log_warn("mqtt: cannot reach the broker at %s:%d: %s; retrying "
			 "(alerts wait in the outbox)", m->cfg->mqtt_host,
			 m->cfg->mqtt_port,
			 rc == MOSQ_ERR_ERRNO ? strerror(errno)
					      : mosquitto_strerror(rc));
	m->connect_at = now + m->backoff_ms;
	m->backoff_ms = m->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
							   : m->backoff_ms * 2;
}

/* ---- publishing ---- */

static void publish_batch(struct mqtt_sender *m)
{
	struct outbox_item *items = NULL;
	size_t n = 0;
	struct err err;
	int room = m->cfg->mqtt_max_inflight - (int)m->ninflight;
	/* Peek when a quarter of the window is free, not at every PUBACK:
	 * each peek passes over every delivery in flight (taken), so a peek
	 * per few PUBACKs read the window again and again (a seventh of the
	 * sender's time for Guangdong); three quarters in flight keep the
	 * broker busy meanwhile. */
	int least = m->cfg->mqtt_max_inflight / 4;
	if (least > CLAIM_BATCH)
		least = CLAIM_BATCH;
	if (room <= 0 || (room < least && m->ninflight > 0))
		return;
	forget_written(m);
	if (room > CLAIM_BATCH)
		room = CLAIM_BATCH;
	if (outbox_peek(m->store, "mqtt", m->cfg->mqtt_alert_prefix, room,
			taken_has, m, &items, &n, &err) < 0) {
		log_error("mqtt: claiming deliveries: %s", err.message);
		m->idle_until = util_now_ms() + IDLE_RECHECK_MS;
		return;
	}
	if (n == 0)
		m->idle_until = util_now_ms() + IDLE_RECHECK_MS;
	int64_t now = util_now_ms();
	for (size_t i = 0; i < n; i++) {
		struct outbox_item *it = &items[i];
		mosquitto_property *props = NULL;
		/* A campaign notice is not retained: the retained slot of a
		 * topic belongs to the emergencies, and a notice must never
		 * replace the cancel a screen that was away has yet to see. */
		bool retain = strcmp(it->msg_type, "notice") != 0;
		if (m->cfg->mqtt_protocol == 5) {
			/* an alert or update is retained until it expires; an
			 * end (cancel, expired, all-clear) for a day, so a
			 * screen that was off learns of it, then the topic
			 * is empty; a notice waits in sessions until its
			 * expiry */
			bool alert = strcmp(it->msg_type, "alert") == 0 ||
				     strcmp(it->msg_type, "update") == 0 ||
				     strcmp(it->msg_type, "notice") == 0;
			int64_t left = (it->expires_ms - now) / 1000;
			if (!alert)
				left = END_RETAIN_S;
			mosquitto_property_add_int32(
				&props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL,
				(uint32_t)(left > 0 ? left : 1));
		}
		int mid = 0;
		int rc = mosquitto_publish_v5(m->mosq, &mid, it->target,
					      (int)it->payload_len, it->payload,
					      1, retain, props);
		mosquitto_property_free_all(&props);
		if (rc == MOSQ_ERR_SUCCESS) {
			metrics_add(M_MQTT_PUBLISHED, 1);
			if (inflight_put(m, mid, it->delivery) < 0 ||
			    taken_add(m, it->delivery) < 0)
				log_error("mqtt: out of memory tracking mid %d",
					  mid);
			if (it->attempts > 1)
				log_debug("mqtt: %s to %s (attempt %d)",
					  it->message_id, it->target,
					  it->attempts);
		} else if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST ||
			   rc == MOSQ_ERR_ERRNO || rc == MOSQ_ERR_NOMEM) {
			/* still pending in the database: it goes out when
			 * the connection is back (ERRNO is the socket failing
			 * under the write, EPIPE when the broker just went:
			 * the connection's fault, never the message's) */
			continue;
		} else {
			/* the message itself cannot go (bad topic, too
			 * big): dead, with the reason, for the office */
			char msg[200];
			snprintf(msg, sizeof msg, "cannot publish to %.100s: %s",
				 it->target, mosquitto_strerror(rc));
			log_error("mqtt: delivery %lld: %s",
				  (long long)it->delivery, msg);
			if (outbox_mark_failed(m->store, it->delivery, msg, now,
					       true, &err) < 0)
				log_error("mqtt: %s", err.message);
		}
	}
	outbox_items_free(items, n);
}

/* ---- the thread ---- */

static void drain_wake(struct mqtt_sender *m)
{
	uint64_t v;
	ssize_t r = read(m->wake_fd, &v, sizeof v);
	(void)r;
	m->idle_until = 0;
}

static void *sender_main(void *arg)
{
	struct mqtt_sender *m = arg;
	m->connect_at = util_now_ms();
	while (!atomic_load(&m->stop)) {
		int64_t now = util_now_ms();
		if (!m->socket_open && now >= m->connect_at)
			try_connect(m);
		if (m->socket_open && !atomic_load(&m->connected) &&
		    m->connack_deadline && now > m->connack_deadline) {
			log_warn("mqtt: no CONNACK from the broker in %d s; "
				 "reconnecting", CONNACK_TIMEOUT_MS / 1000);
			mosquitto_disconnect(m->mosq);
			m->socket_open = false;
			m->connect_at = now + m->backoff_ms;
		}
		bool busy = false;
		if (atomic_load(&m->connected) && now >= m->idle_until) {
			size_t before = m->ninflight;
			publish_batch(m);
			busy = m->ninflight > before &&
			       m->ninflight < (size_t)m->cfg->mqtt_max_inflight;
		}
		metrics_gauge_set(M_MQTT_INFLIGHT, (int64_t)m->ninflight);
		if (m->first_unflushed &&
		    util_now_ms() - m->first_unflushed >= FLUSH_EVERY_MS)
			flush(m);

		struct pollfd fds[2] = { { .fd = m->wake_fd, .events = POLLIN } };
		nfds_t nfds = 1;
		int sock = m->socket_open ? mosquitto_socket(m->mosq) : -1;
		if (sock >= 0) {
			fds[1].fd = sock;
			fds[1].events = POLLIN |
					(mosquitto_want_write(m->mosq) ? POLLOUT : 0);
			nfds = 2;
		}
		int timeout = busy ? 0 : 100;
		if (poll(fds, nfds, timeout) < 0 && errno != EINTR) {
			log_error("mqtt: poll: %s", strerror(errno));
			break;
		}
		if (fds[0].revents & POLLIN)
			drain_wake(m);
		if (nfds == 2) {
			int rc = MOSQ_ERR_SUCCESS;
			if (fds[1].revents & (POLLIN | POLLHUP | POLLERR))
				rc = mosquitto_loop_read(m->mosq, 1000);
			if (rc == MOSQ_ERR_SUCCESS && m->socket_open &&
			    mosquitto_want_write(m->mosq))
				rc = mosquitto_loop_write(m->mosq, 1000);
			if (rc == MOSQ_ERR_SUCCESS && m->socket_open)
				rc = mosquitto_loop_misc(m->mosq);
			if (rc != MOSQ_ERR_SUCCESS && m->socket_open) {
				/* libmosquitto closed the socket; the
				 * disconnect callback may not have run */
				on_disconnect(m->mosq, m, rc, NULL);
			}
		}
	}
	flush(m);
	if (m->socket_open)
		mosquitto_disconnect(m->mosq);
	return NULL;
}

int mqtt_sender_start(struct app *app, struct mqtt_sender **out,
		      struct err *err)
{
	const struct config *cfg = app->cfg;
	struct mqtt_sender *m = calloc(1, sizeof *m);
	if (!m) {
		err_oom(err);
		return -1;
	}
	m->app = app;
	m->cfg = cfg;
	m->wake_fd = -1;
	m->backoff_ms = BACKOFF_MIN_MS;
	snprintf(m->ack_filter, sizeof m->ack_filter, "%s/+",
		 cfg->mqtt_ack_prefix);
	m->ack_prefix_len = strlen(cfg->mqtt_ack_prefix);
	snprintf(m->status_filter, sizeof m->status_filter, "%s/+/+",
		 cfg->mqtt_status_prefix);
	m->status_prefix_len = strlen(cfg->mqtt_status_prefix);
	if (store_open(cfg->store_path, cfg->store_busy_timeout_ms, &m->store,
		       err) < 0 ||
	    store_relax(m->store, err) < 0 ||
	    mqtt_marks_start(cfg, &m->marks, err) < 0)
		goto fail;
	m->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->wake_fd < 0) {
		err_set(err, 0, "mqtt", "", "eventfd: %s", strerror(errno));
		goto fail;
	}
	mosquitto_lib_init();
	/* a persistent session keeps screens' acks while scicastd is down */
	m->mosq = mosquitto_new(cfg->mqtt_client_id, false, m);
	if (!m->mosq) {
		err_set(err, 0, "mqtt", "", "mosquitto_new: %s", strerror(errno));
		goto fail;
	}
	int proto = cfg->mqtt_protocol == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311;
	if (mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, proto) ||
	    mosquitto_int_option(m->mosq, MOSQ_OPT_TCP_NODELAY, 1) ||
	    mosquitto_max_inflight_messages_set(m->mosq,
						(unsigned)cfg->mqtt_max_inflight) ||
	    (proto == MQTT_PROTOCOL_V5 &&
	     (mosquitto_int_option(m->mosq, MOSQ_OPT_SEND_MAXIMUM,
				   cfg->mqtt_max_inflight) ||
	      mosquitto_int_option(m->mosq, MOSQ_OPT_RECEIVE_MAXIMUM, 1000)))) {
		err_set(err, 0, "mqtt", "", "setting MQTT options failed");
		goto fail;
	}
	if (cfg->mqtt_username[0] &&
	    mosquitto_username_pw_set(m->mosq, cfg->mqtt_username,
				      cfg->mqtt_password[0] ? cfg->mqtt_password
							    : NULL)) {
		err_set(err, 0, "mqtt", "", "setting the MQTT user failed");
		goto fail;
	}
	if (cfg->mqtt_tls_ca[0]) {
		int rc = mosquitto_tls_set(m->mosq, cfg->mqtt_tls_ca, NULL,
					   cfg->mqtt_tls_cert[0] ? cfg->mqtt_tls_cert
								 : NULL,
					   cfg->mqtt_tls_key[0] ? cfg->mqtt_tls_key
								: NULL, NULL);
		if (rc != MOSQ_ERR_SUCCESS) {
			err_set(err, 0, "mqtt", "tls_ca", "MQTT TLS settings: %s",
				mosquitto_strerror(rc));
			goto fail;
		}
	}
	mosquitto_connect_v5_callback_set(m->mosq, on_connect);
	mosquitto_disconnect_v5_callback_set(m->mosq, on_disconnect);
	mosquitto_publish_v5_callback_set(m->mosq, on_publish);
	mosquitto_message_v5_callback_set(m->mosq, on_message);
	mosquitto_log_callback_set(m->mosq, on_log);
	if (util_thread_start(&m->thread, "mqtt-sender", sender_main, m) != 0) {
		err_set(err, 0, "mqtt", "", "cannot start the MQTT thread");
		goto fail;
	}
	m->started = true;
	*out = m;
	return 0;
fail:
	if (m->mosq)
		mosquitto_destroy(m->mosq);
	if (m->wake_fd >= 0)
		close(m->wake_fd);
	mqtt_marks_stop(m->marks);
	store_close(m->store);
	free(m);
	return -1;
}

void mqtt_sender_wake(struct mqtt_sender *m)
{
	uint64_t one = 1;
	if (m && write(m->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
		log_warn("mqtt: wake: %s", strerror(errno));
}

bool mqtt_sender_connected(const struct mqtt_sender *m)
{
	return m && atomic_load(&m->connected);
}

void mqtt_sender_stop(struct mqtt_sender *m)
{
	if (!m)
		return;
	atomic_store(&m->stop, true);
	mqtt_sender_wake(m);
	if (m->started)
		pthread_join(m->thread, NULL);
	/* after the sender's last hand-over */
	mqtt_marks_stop(m->marks);
	mosquitto_destroy(m->mosq);
	mosquitto_lib_cleanup();
	close(m->wake_fd);
	store_close(m->store);
	free(m->slots);
	free(m->taken);
	free(m->sent);
	free(m->acks);
	free(m->presence);
	free(m);
}
