/* webhook: the webhook sender's two threads.
 *
 * Deliveries are claimed in batches and queued per channel in memory; each
 * channel has its own limit of requests in flight, so a hanging endpoint
 * holds only its own slots and never the others'. A channel with a backlog
 * is marked busy in the claim (a temporary table of the sender's
 * connection), so its queue cannot crowd the others out of memory either.
 * libcurl's multi handle keeps connections alive between requests and
 * speaks HTTP/2 where a TLS server offers it. Outcomes are written in
 * batches, each with its attempt row, so the history shows every try and
 * the wait before the next.
 *
 * Two threads: "webhook-sender" runs libcurl and never touches SQLite;
 * "webhook-store" owns the sender's database connection and does the
 * claims, the busy marks and the outcomes. They meet only in `struct
 * handover`, under its lock. The split is for a plan that holds the write
 * lock 25 ms at a time: a sender that waited for it to claim or to write
 * its outcomes left its connections idle meanwhile. Other threads only
 * touch the handover's kick (webhook_sender_wake).
 *
 * At most [webhooks] max_connections requests are handed to libcurl at
 * once: libcurl would queue the rest itself, but its pending list is
 * walked on every removal (quadratic in a 10,000-channel fan-out) and each
 * queued easy handle holds its buffers. Channels with something to send
 * and a free slot wait in a FIFO (the ready list), so starting requests
 * never walks every channel; easy handles are reused, which keeps their
 * buffers. */
#define _GNU_SOURCE
#include "webhook.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "crypto.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "store.h"
#include "util.h"
#include "version.h"
#include "whsig.h"

/* Claims come in whole batches: a claim per finished request (one row
 * each) cost a transaction per request. The queue stays short so that a
 * newer, more urgent delivery (an alert behind a campaign) is claimed
 * soon. */
#define CLAIM_BATCH 250
#define QUEUE_MAX 1000        /* claimed and waiting, in all */
#define RESPONSE_KEEP 512     /* bytes of an error response we keep */
#define FLUSH_EVERY_MS 50
#define IDLE_RECHECK_MS 1000

struct transfer;

struct channel_state {
	int64_t id;
	int limit;
	int active;
	bool busy;                /* marked in outbox_busy */
	struct outbox_item *queue; /* FIFO */
	size_t qhead, qlen, qcap;
	struct channel_state *next_ready;
	bool ready_listed;
};

struct transfer {
	struct transfer *prev, *next;   /* the running ones, for the stop */
	CURL *easy;
	struct curl_slist *headers;
	struct outbox_item item;
	struct channel_state *ch;
	struct buf response;
	long retry_after_s;
	int64_t started_ms;
	char errbuf[CURL_ERROR_SIZE];
};

struct busy_mark {
	int64_t channel;
	bool busy;
};

/* What the two threads pass each other; everything here is under lock. */
struct handover {
	pthread_mutex_t lock;
	pthread_cond_t cond;           /* the store thread waits on it */
	struct outbox_item *items;     /* claimed, not yet queued */
	size_t nitems, capitems;
	struct outbox_result *results; /* finished, not yet written */
	size_t nresults, capresults;
	int64_t first_result_ms;       /* when the oldest of them came */
	struct busy_mark *marks;       /* in the order they were made */
	size_t nmarks, capmarks;
	size_t waiting;                /* claimed and not yet started */
	bool behind;                   /* the last claim was full: more due */
	bool kick;                     /* new deliveries: claim now */
	bool done;                     /* the curl thread has ended */
};

struct webhook_sender {
	struct app *app;
	const struct config *cfg;
	CURLM *multi;
	pthread_t thread, store_thread;
	bool started, store_started, hand_ready;
	atomic_bool stop;
	struct handover hand;

	/* the curl thread's */
	struct channel_state **channels; /* open addressing by id */
	size_t nchannels, capchannels;
	int active;
	size_t started_since;      /* taken off the queues since the handover */
	struct transfer *running;
	struct channel_state *ready_head, *ready_tail;
	CURL **spare;              /* reset easy handles, for the next ones */
	size_t nspare;
	struct outbox_result *results;
	size_t nresults, capresults;
	struct busy_mark *marks;
	size_t nmarks, capmarks;
	unsigned rand_state;

	/* the store thread's */
	struct store *store;
	int64_t idle_until;
};

/* ---- channels ---- */

static size_t chan_slot(const struct webhook_sender *w, int64_t id)
{
	return ((uint64_t)id * 0x9E3779B97F4A7C15ULL >> 20) & (w->capchannels - 1);
}

static struct channel_state *channel_get(struct webhook_sender *w, int64_t id,
					 int limit)
{
	if (w->capchannels) {
		for (size_t k = chan_slot(w, id); w->channels[k];
		     k = (k + 1) & (w->capchannels - 1))
			if (w->channels[k]->id == id)
				return w->channels[k];
	}
	if ((w->nchannels + 1) * 2 > w->capchannels) {
		size_t cap = w->capchannels ? w->capchannels * 2 : 256;
		struct channel_state **g = calloc(cap, sizeof *g);
		if (!g)
			return NULL;
		struct channel_state **old = w->channels;
		size_t oldn = w->capchannels;
		w->channels = g;
		w->capchannels = cap;
		for (size_t i = 0; i < oldn; i++)
			if (old[i]) {
				size_t k = chan_slot(w, old[i]->id);
				while (w->channels[k])
					k = (k + 1) & (cap - 1);
				w->channels[k] = old[i];
			}
		free(old);
	}
	struct channel_state *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->id = id;
	c->limit = limit > 0 ? limit : w->cfg->webhooks_concurrency;
	size_t k = chan_slot(w, id);
	while (w->channels[k])
		k = (k + 1) & (w->capchannels - 1);
	w->channels[k] = c;
	w->nchannels++;
	return c;
}

static int channel_push(struct channel_state *c, struct outbox_item *it)
{
	if (c->qlen == c->qcap) {
		/* most channels (a village's) have one delivery at a time */
		size_t cap = c->qcap ? c->qcap * 2 : 2;
		struct outbox_item *g = malloc(cap * sizeof *g);
		if (!g)
			return -1;
		for (size_t i = 0; i < c->qlen; i++)
			g[i] = c->queue[(c->qhead + i) % c->qcap];
		free(c->queue);
		c->queue = g;
		c->qcap = cap;
		c->qhead = 0;
	}
	c->queue[(c->qhead + c->qlen) % c->qcap] = *it;
	c->qlen++;
	memset(it, 0, sizeof *it);
	return 0;
}

static void channel_pop(struct channel_state *c, struct outbox_item *out)
{
	*out = c->queue[c->qhead];
	c->qhead = (c->qhead + 1) % c->qcap;
	c->qlen--;
}

/* A channel with more waiting than it can send soon is left out of the
 * next claims until its queue drains. */
static void update_busy(struct webhook_sender *w, struct channel_state *c)
{
	bool busy = c->qlen >= (size_t)c->limit * 4;
	if (busy == c->busy)
		return;
	struct busy_mark m = { .channel = c->id, .busy = busy };
	if (util_array_add((void **)&w->marks, &w->nmarks, &w->capmarks, &m, 1,
		      sizeof m) < 0) {
		log_error("webhook: out of memory marking channel %lld busy",
			  (long long)c->id);
		return;
	}
	c->busy = busy;
}

/* Lists c for start_ready if it has something waiting and a free slot. */
static void ready_push(struct webhook_sender *w, struct channel_state *c)
{
	if (c->ready_listed || !c->qlen || c->active >= c->limit)
		return;
	c->ready_listed = true;
	c->next_ready = NULL;
	if (w->ready_tail)
		w->ready_tail->next_ready = c;
	else
		w->ready_head = c;
	w->ready_tail = c;
}

static struct channel_state *ready_pop(struct webhook_sender *w)
{
	struct channel_state *c = w->ready_head;
	w->ready_head = c->next_ready;
	if (!w->ready_head)
		w->ready_tail = NULL;
	c->next_ready = NULL;
	c->ready_listed = false;
	return c;
}

/* ---- outcomes ---- */

int64_t webhook_backoff_ms(const struct config *cfg, int attempts)
{
	int64_t wait = cfg->webhooks_retry_initial_ms;
	for (int i = 1; i < attempts && wait < cfg->webhooks_retry_max_ms; i++)
		wait *= 2;
	if (wait > cfg->webhooks_retry_max_ms)
		wait = cfg->webhooks_retry_max_ms;
	return wait;
}

static int64_t jittered(struct webhook_sender *w, int64_t wait)
{
	int pct = w->cfg->webhooks_retry_jitter;
	if (pct <= 0 || wait <= 0)
		return wait;
	/* uniform in [-pct, +pct] percent */
	int r = (int)(rand_r(&w->rand_state) % (unsigned)(2 * pct + 1)) - pct;
	return wait + wait * r / 100;
}

static struct outbox_result *new_result(struct webhook_sender *w)
{
	if (w->nresults == w->capresults) {
		size_t cap = w->capresults ? w->capresults * 2 : 256;
		struct outbox_result *g = realloc(w->results, cap * sizeof *g);
		if (!g)
			return NULL;
		w->results = g;
		w->capresults = cap;
	}
	struct outbox_result *r = &w->results[w->nresults++];
	memset(r, 0, sizeof *r);
	return r;
}

/* The first line of a response, printable, for the delivery's error. */
static void response_snippet(const struct buf *b, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < b->len && n + 1 < cap && n < 160; i++) {
		unsigned char c = (unsigned char)b->data[i];
		if (c == '\n' || c == '\r')
			break;
		out[n++] = c < 0x20 ? ' ' : (char)c;
	}
	/* do not cut a UTF-8 character in two */
	while (n && ((unsigned char)out[n - 1] & 0xC0) == 0x80)
		n--;
	if (n && ((unsigned char)out[n - 1] & 0xC0) == 0xC0)
		n--;
	out[n] = '\0';
}

static void finish(struct webhook_sender *w, struct transfer *t, CURLcode cc)
{
	const struct config *cfg = w->cfg;
	long status = 0;
	int64_t now = util_now_ms();
	struct outbox_result *r = new_result(w);
	if (!r) {
		log_error("webhook: out of memory recording an outcome");
		return;
	}
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	r->delivery = t->item.delivery;
	r->channel = t->item.channel;
	r->attempt = t->item.attempts;
	r->started_ms = t->started_ms;
	r->duration_ms = now - t->started_ms;
	r->http_status = (int)status;
	bool last = t->item.attempts >= cfg->webhooks_max_attempts;
	int64_t wait = jittered(w, webhook_backoff_ms(cfg, t->item.attempts));
	if (cc != CURLE_OK) {
		snprintf(r->error, sizeof r->error, "%s: %s",
			 cc == CURLE_OPERATION_TIMEDOUT ? "timed out"
							: "connection failed",
			 t->errbuf[0] ? t->errbuf : curl_easy_strerror(cc));
		r->outcome = last ? "dead" : "retry";
		r->http_status = 0;
	} else if (status >= 200 && status < 300) {
		r->outcome = "acked";
	} else if (status == 410) {
		char snippet[200];
		response_snippet(&t->response, snippet, sizeof snippet);
		snprintf(r->error, sizeof r->error, "HTTP 410 Gone: the endpoint "
			 "asked not to be called again; channel %lld disabled%s%s",
			 (long long)t->item.channel, snippet[0] ? ": " : "",
			 snippet);
		r->outcome = "gone";
		log_warn("webhook: channel %lld answered 410 Gone: disabled",
			 (long long)t->item.channel);
	} else {
		char snippet[200];
		response_snippet(&t->response, snippet, sizeof snippet);
		if (status >= 300 && status < 400) {
			char *loc = NULL;
			curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_URL, &loc);
			snprintf(r->error, sizeof r->error, "HTTP %ld: a redirect "
				 "(to %.150s), not followed", status,
				 loc ? loc : "?");
		} else {
			snprintf(r->error, sizeof r->error, "HTTP %ld%s%s", status,
				 snippet[0] ? ": " : "", snippet);
		}
		if (status == 429 && t->retry_after_s > 0) {
			wait = t->retry_after_s * 1000;
			if (wait > cfg->webhooks_retry_max_ms)
				wait = cfg->webhooks_retry_max_ms;
		}
		r->outcome = last ? "dead" : "retry";
	}
	if (strcmp(r->outcome, "retry") == 0)
		r->next_ms = now + wait;
	else
		r->next_ms = now;
	if (strcmp(r->outcome, "acked") == 0)
		metrics_add(M_WEBHOOK_ACKED, 1);
	else if (strcmp(r->outcome, "retry") == 0)
		metrics_add(M_WEBHOOK_RETRIES, 1);
	else
		metrics_add(M_WEBHOOK_DEAD, 1);
	if (strcmp(r->outcome, "dead") == 0)
		log_warn("webhook: delivery %lld to channel %lld is dead after "
			 "%d attempts: %s", (long long)t->item.delivery,
			 (long long)t->item.channel, t->item.attempts, r->error);
	else if (r->error[0])
		log_info("webhook: delivery %lld attempt %d: %s; next in %.1fs",
			 (long long)t->item.delivery, t->item.attempts, r->error,
			 (double)(r->next_ms - now) / 1000);
}

/* ---- transfers ---- */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct transfer *t = ud;
	size_t len = size * n;
	if (t->response.len < RESPONSE_KEEP) {
		size_t keep = RESPONSE_KEEP - t->response.len;
		buf_append(&t->response, p, len < keep ? len : keep);
	}
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct transfer *t = ud;
	size_t len = size * n;
	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		char v[64];
		size_t vl = len - 12 < sizeof v - 1 ? len - 12 : sizeof v - 1;
		memcpy(v, p + 12, vl);
		v[vl] = '\0';
		char *s = v;
		while (*s == ' ')
			s++;
		s[strcspn(s, "\r\n")] = '\0';
		long long secs;
		if (util_parse_ll(s, 0, 86400, &secs) == 0) {
			t->retry_after_s = (long)secs;
		} else {
			time_t when = curl_getdate(s, NULL);
			time_t now = time(NULL);
			if (when > now)
				t->retry_after_s = (long)(when - now);
		}
	}
	return len;
}

static int add_header(struct curl_slist **list, const char *name,
		      const char *value)
{
	char line[1200];
	int n = snprintf(line, sizeof line, "%s: %s", name, value);
	if (n < 0 || (size_t)n >= sizeof line)
		return -1;
	struct curl_slist *l = curl_slist_append(*list, line);
	if (!l)
		return -1;
	*list = l;
	return 0;
}

static int build_headers(struct transfer *t, struct err *err)
{
	char sig[WHSIG_HEADER_MAX], ts[24];
	int64_t now_s = util_now_ms() / 1000;
	snprintf(ts, sizeof ts, "%lld", (long long)now_s);
	if (!t->item.secret ||
	    whsig_sign(t->item.secret, t->item.message_id, now_s,
		       t->item.payload, t->item.payload_len, sig,
		       sizeof sig) < 0) {
		err_set(err, 0, "webhook", "secret", "channel %lld has no "
			"usable secret", (long long)t->item.channel);
		return -1;
	}
	if (add_header(&t->headers, "Content-Type", "application/json") < 0 ||
	    add_header(&t->headers, "webhook-id", t->item.message_id) < 0 ||
	    add_header(&t->headers, "webhook-timestamp", ts) < 0 ||
	    add_header(&t->headers, "webhook-signature", sig) < 0 ||
	    add_header(&t->headers, "Expect", "") < 0)
		goto oom;
	explicit_bzero(sig, sizeof sig);
	if (t->item.headers) {
		json_t *h = json_loads(t->item.headers, 0, NULL);
		const char *k;
		json_t *v;
		json_object_foreach(h, k, v)
			if (json_is_string(v) &&
			    add_header(&t->headers, k, json_string_value(v)) < 0) {
				json_decref(h);
				goto oom;
			}
		json_decref(h);
	}
	return 0;
oom:
	err_oom(err);
	return -1;
}

/* A new handle gets the options every request shares, once: a reused
 * one keeps them (setting ~20 options per request, after a reset, was a
 * visible share of the sender's time). */
static CURL *easy_new(struct webhook_sender *w)
{
	const struct config *cfg = w->cfg;
	CURL *e = curl_easy_init();
	if (!e)
		return NULL;
	int bad = 0;
	bad |= curl_easy_setopt(e, CURLOPT_POST, 1L);
	bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, "scicast/" SCICAST_VERSION);
	bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
				(long)cfg->webhooks_connect_timeout_ms);
	bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	bad |= curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
				(long)CURL_HTTP_VERSION_2TLS);
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cfg->webhooks_ca_bundle[0])
		bad |= curl_easy_setopt(e, CURLOPT_CAINFO, cfg->webhooks_ca_bundle);
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	if (bad) {
		curl_easy_cleanup(e);
		return NULL;
	}
	return e;
}

static CURL *easy_get(struct webhook_sender *w)
{
	return w->nspare ? w->spare[--w->nspare] : easy_new(w);
}

/* Keeps a finished handle, with its options and connection, for the next
 * request (at most the window's worth). */
static void easy_put(struct webhook_sender *w, CURL *e)
{
	if (!e)
		return;
	if (w->spare && w->nspare < (size_t)w->cfg->webhooks_max_connections) {
		w->spare[w->nspare++] = e;
		return;
	}
	curl_easy_cleanup(e);
}

static void transfer_free(struct webhook_sender *w, struct transfer *t)
{
	easy_put(w, t->easy);
	curl_slist_free_all(t->headers);
	buf_free(&t->response);
	outbox_item_free(&t->item);
	free(t);
}

static int start_transfer(struct webhook_sender *w, struct channel_state *c,
			  struct outbox_item *it)
{
	const struct config *cfg = w->cfg;
	struct err err;
	struct transfer *t = calloc(1, sizeof *t);
	if (!t)
		return -1;
	t->item = *it;
	memset(it, 0, sizeof *it);
	t->ch = c;
	t->easy = easy_get(w);
	if (!t->easy || build_headers(t, &err) < 0) {
		struct outbox_result *r = new_result(w);
		if (r) {
			r->delivery = t->item.delivery;
			r->channel = t->item.channel;
			r->attempt = t->item.attempts;
			r->started_ms = util_now_ms();
			r->outcome = "dead";
			snprintf(r->error, sizeof r->error, "%.250s",
				 t->easy ? err.message : "out of memory");
			r->next_ms = r->started_ms;
		}
		transfer_free(w, t);
		return 0;
	}
	int64_t timeout = t->item.timeout_ms > 0 ? t->item.timeout_ms
						 : cfg->webhooks_timeout_ms;
	CURL *e = t->easy;
	int bad = 0;
	bad |= curl_easy_setopt(e, CURLOPT_URL, t->item.target);
	bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->item.payload);
	bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
				(curl_off_t)t->item.payload_len);
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout);
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
	bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, t);
	if (bad || curl_multi_add_handle(w->multi, e) != CURLM_OK) {
		log_error("webhook: cannot set up a request for delivery %lld",
			  (long long)t->item.delivery);
		struct outbox_result *r = new_result(w);
		if (r) {
			r->delivery = t->item.delivery;
			r->channel = t->item.channel;
			r->attempt = t->item.attempts;
			r->started_ms = util_now_ms();
			r->outcome = "retry";
			snprintf(r->error, sizeof r->error, "internal: could not "
				 "set up the request");
			r->next_ms = r->started_ms + cfg->webhooks_retry_initial_ms;
		}
		transfer_free(w, t);
		return 0;
	}
	t->started_ms = util_now_ms();
	t->next = w->running;
	if (w->running)
		w->running->prev = t;
	w->running = t;
	c->active++;
	w->active++;
	metrics_add(M_WEBHOOK_REQUESTS, 1);
	return 0;
}

/* Starts what the window and each ready channel's free slots allow, in
 * the order the channels became ready. */
static void start_ready(struct webhook_sender *w)
{
	int window = w->cfg->webhooks_max_connections;
	while (w->ready_head && w->active < window) {
		struct channel_state *c = w->ready_head;
		while (c->qlen && c->active < c->limit && w->active < window) {
			struct outbox_item it;
			channel_pop(c, &it);
			w->started_since++;
			if (start_transfer(w, c, &it) < 0) {
				outbox_item_free(&it);
				log_error("webhook: out of memory starting a "
					  "request");
				return;
			}
		}
		if (c->qlen && c->active < c->limit)
			break; /* the window is full; c stays first in line */
		ready_pop(w);
		update_busy(w, c);
	}
}

/* Queues what the store thread claimed, per channel. */
static void queue_claimed(struct webhook_sender *w, struct outbox_item *items,
			  size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct channel_state *c = channel_get(w, items[i].channel,
						      items[i].max_concurrency);
		if (!c || channel_push(c, &items[i]) < 0) {
			log_error("webhook: out of memory queueing delivery "
				  "%lld; it goes out after a restart",
				  (long long)items[i].delivery);
			w->started_since++;
			continue;
		}
		update_busy(w, c);
		ready_push(w, c);
	}
	outbox_items_free(items, n);
}

/* The curl thread's side of the handover, once a loop: outcomes go over,
 * claimed deliveries come back. They are queued under the lock so that
 * the busy marks they cause reach the store thread before its next claim
 * (a claim between the two would take more of a backlog's deliveries). */
static void hand_over(struct webhook_sender *w)
{
	struct handover *h = &w->hand;
	bool wake = false;
	pthread_mutex_lock(&h->lock);
	if (w->nresults) {
		size_t before = h->nresults;
		if (util_array_add((void **)&h->results, &h->nresults,
			      &h->capresults, w->results, w->nresults,
			      sizeof *w->results) == 0) {
			w->nresults = 0;
			if (!before)
				h->first_result_ms = util_now_ms();
			wake = !before;
		}
	}
	if (h->nitems) {
		queue_claimed(w, h->items, h->nitems); /* frees them */
		h->items = NULL;
		h->nitems = h->capitems = 0;
	}
	if (w->nmarks && util_array_add((void **)&h->marks, &h->nmarks,
				   &h->capmarks, w->marks, w->nmarks,
				   sizeof *w->marks) == 0) {
		w->nmarks = 0;
		wake = true;
	}
	h->waiting -= w->started_since;
	w->started_since = 0;
	if ((h->behind || h->kick) && h->waiting + CLAIM_BATCH <= QUEUE_MAX)
		wake = true;
	if (wake)
		pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

/* ---- the store thread ---- */

static void apply_marks(struct webhook_sender *w, const struct busy_mark *m,
			size_t n)
{
	struct err err;
	for (size_t i = 0; i < n; i++)
		if (outbox_busy_set(w->store, m[i].channel, m[i].busy, &err) < 0)
			log_error("webhook: %s", err.message);
}

/* Writes the outcomes; a failed write keeps them for the next try. */
static int write_results(struct webhook_sender *w, struct outbox_result *r,
			 size_t n)
{
	struct err err;
	if (outbox_record_results(w->store, r, n, &err) < 0) {
		log_error("webhook: recording %zu outcomes: %s (kept; the "
			  "deliveries go out again after a restart)", n,
			  err.message);
		return -1;
	}
	/* a retry now on disk may be due before the next planned look */
	for (size_t i = 0; i < n; i++)
		if (strcmp(r[i].outcome, "retry") == 0 &&
		    r[i].next_ms < w->idle_until)
			w->idle_until = r[i].next_ms;
	return 0;
}

/* Claims up to room deliveries; *full says more may be due now. */
static void claim_due(struct webhook_sender *w, size_t room,
		      struct outbox_item **items, size_t *n, bool *full)
{
	struct err err;
	*items = NULL;
	*n = 0;
	*full = false;
	if (outbox_claim_except_busy(w->store, "webhook", (int)room, items, n,
				     &err) < 0) {
		log_error("webhook: claiming deliveries: %s", err.message);
		w->idle_until = util_now_ms() + IDLE_RECHECK_MS;
		return;
	}
	*full = *n == room;
	if (!*full) {
		/* caught up: sleep until the next retry is due (or a kick) */
		int64_t now = util_now_ms();
		int64_t next = outbox_next_due(w->store, "webhook", &err);
		w->idle_until = now + IDLE_RECHECK_MS;
		if (next > now && next < w->idle_until)
			w->idle_until = next;
	}
}

static void wait_until(struct handover *h, int64_t wait_ms)
{
	if (wait_ms <= 0)
		return;
	struct timespec until;
	util_deadline(CLOCK_MONOTONIC, wait_ms, &until);
	pthread_cond_timedwait(&h->cond, &h->lock, &until);
}

static void *store_main(void *arg)
{
	struct webhook_sender *w = arg;
	struct handover *h = &w->hand;
	/* outcomes taken over and not yet written (a failed write keeps
	 * them), and the marks to apply before the next claim */
	struct outbox_result *res = NULL;
	size_t nres = 0, capres = 0;
	int64_t res_since = 0;
	pthread_mutex_lock(&h->lock);
	for (;;) {
		int64_t now = util_now_ms();
		if (h->nresults) {
			if (!nres)
				res_since = h->first_result_ms;
			if (util_array_add((void **)&res, &nres, &capres,
				      h->results, h->nresults,
				      sizeof *res) == 0)
				h->nresults = 0;
		}
		bool room = h->waiting + CLAIM_BATCH <= QUEUE_MAX ||
			    !h->waiting;
		/* the last batch is queued (and its busy marks are here)
		 * before the next is claimed */
		bool claim = !h->done && room && !h->nitems &&
			     (h->kick || h->behind || now >= w->idle_until);
		bool flush = nres && (h->done ||
				      now - res_since >= FLUSH_EVERY_MS);
		if (!claim && !flush && !h->nmarks) {
			if (h->done)
				break;
			int64_t until = room && !h->nitems ? w->idle_until
							    : now + IDLE_RECHECK_MS;
			if (nres && res_since + FLUSH_EVERY_MS < until)
				until = res_since + FLUSH_EVERY_MS;
			wait_until(h, until - now);
			continue;
		}
		struct busy_mark *marks = h->marks;
		size_t nmarks = h->nmarks;
		h->marks = NULL;
		h->nmarks = h->capmarks = 0;
		size_t want = QUEUE_MAX - h->waiting;
		if (want > CLAIM_BATCH)
			want = CLAIM_BATCH;
		if (claim)
			h->kick = false;
		bool last = h->done;
		pthread_mutex_unlock(&h->lock);

		apply_marks(w, marks, nmarks);
		free(marks);
		if (flush) {
			if (write_results(w, res, nres) == 0 || last)
				nres = 0;
			else
				res_since = util_now_ms();
		}
		struct outbox_item *items = NULL;
		size_t n = 0;
		bool full = false;
		if (claim)
			claim_due(w, want, &items, &n, &full);

		pthread_mutex_lock(&h->lock);
		if (claim)
			h->behind = full;
		if (n && util_array_add((void **)&h->items, &h->nitems, &h->capitems,
				   items, n, sizeof *items) < 0) {
			log_error("webhook: out of memory handing over %zu "
				  "deliveries; they go out after a restart", n);
			outbox_items_free(items, n);
			n = 0;
		} else {
			free(items); /* the handover owns what they point to */
		}
		h->waiting += n;
		if (n)
			curl_multi_wakeup(w->multi);
	}
	pthread_mutex_unlock(&h->lock);
	free(res);
	return NULL;
}

static void unlink_running(struct webhook_sender *w, struct transfer *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		w->running = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->prev = t->next = NULL;
}

/* Returns how many requests finished. */
static size_t collect(struct webhook_sender *w)
{
	CURLMsg *msg;
	int left;
	size_t done = 0;
	while ((msg = curl_multi_info_read(w->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct transfer *t = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		curl_multi_remove_handle(w->multi, msg->easy_handle);
		if (!t)
			continue;
		finish(w, t, msg->data.result);
		unlink_running(w, t);
		t->ch->active--;
		w->active--;
		ready_push(w, t->ch);
		transfer_free(w, t);
		done++;
	}
	return done;
}

static void *sender_main(void *arg)
{
	struct webhook_sender *w = arg;
	int window = w->cfg->webhooks_max_connections;
	while (!atomic_load(&w->stop)) {
		hand_over(w);
		start_ready(w);
		metrics_gauge_set(M_WEBHOOK_INFLIGHT, w->active);
		int running = 0;
		curl_multi_perform(w->multi, &running);
		/* a finished request freed a slot: fill it before waiting, as
		 * a bare client does (a wait with the queue full would leave
		 * the window emptying) */
		if (collect(w) && w->ready_head && w->active < window)
			continue;
		if (w->nresults || w->nmarks) {
			hand_over(w);
			start_ready(w);
		}
		/* the store thread wakes this poll when it hands deliveries
		 * over */
		int timeout = w->ready_head && w->active < window
				      ? 0 : IDLE_RECHECK_MS;
		if (curl_multi_poll(w->multi, NULL, 0, timeout, NULL) != CURLM_OK)
			log_warn("webhook: curl_multi_poll failed");
	}
	/* what is still in flight stays "inflight" and goes out again at
	 * the next start; what finished is handed over to be written */
	collect(w);
	hand_over(w);
	pthread_mutex_lock(&w->hand.lock);
	w->hand.done = true;
	pthread_cond_signal(&w->hand.cond);
	pthread_mutex_unlock(&w->hand.lock);
	return NULL;
}

static int handover_init(struct handover *h)
{
	if (util_cond_init_monotonic(&h->cond) != 0)
		return -1;
	if (pthread_mutex_init(&h->lock, NULL) != 0) {
		pthread_cond_destroy(&h->cond);
		return -1;
	}
	return 0;
}

static void handover_free(struct handover *h)
{
	/* claimed and never started: still inflight in the database, they
	 * go out at the next start */
	outbox_items_free(h->items, h->nitems);
	free(h->results);
	free(h->marks);
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->lock);
}

int webhook_sender_start(struct app *app, struct webhook_sender **out,
			 struct err *err)
{
	const struct config *cfg = app->cfg;
	struct webhook_sender *w = calloc(1, sizeof *w);
	if (!w) {
		err_oom(err);
		return -1;
	}
	w->app = app;
	w->cfg = cfg;
	w->rand_state = (unsigned)util_now_ms();
	if (store_open(cfg->store_path, cfg->store_busy_timeout_ms, &w->store,
		       err) < 0 ||
	    store_relax(w->store, err) < 0 ||
	    outbox_busy_setup(w->store, err) < 0)
		goto fail;
	w->spare = calloc((size_t)cfg->webhooks_max_connections, sizeof *w->spare);
	w->multi = curl_multi_init();
	if (!w->spare || !w->multi) {
		err_set(err, 0, "webhook", "", "curl_multi_init failed (or out of "
			"memory)");
		goto fail;
	}
	curl_multi_setopt(w->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
			  (long)cfg->webhooks_max_connections);
	curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS,
			  (long)cfg->webhooks_max_connections);
	if (handover_init(&w->hand) < 0) {
		err_set(err, 0, "webhook", "", "cannot set up the webhook "
			"threads' handover");
		goto fail;
	}
	w->hand_ready = true;
	if (util_thread_start(&w->store_thread, "webhook-store", store_main,
			      w) != 0) {
		err_set(err, 0, "webhook", "", "cannot start the webhook store "
			"thread");
		goto fail;
	}
	w->store_started = true;
	if (util_thread_start(&w->thread, "webhook-sender", sender_main, w) != 0) {
		err_set(err, 0, "webhook", "", "cannot start the webhook thread");
		goto fail;
	}
	w->started = true;
	*out = w;
	return 0;
fail:
	webhook_sender_stop(w);
	return -1;
}

void webhook_sender_wake(struct webhook_sender *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->hand.lock);
	w->hand.kick = true;
	pthread_cond_signal(&w->hand.cond);
	pthread_mutex_unlock(&w->hand.lock);
}

void webhook_sender_stop(struct webhook_sender *w)
{
	if (!w)
		return;
	atomic_store(&w->stop, true);
	if (w->started) {
		curl_multi_wakeup(w->multi);
		pthread_join(w->thread, NULL);
	} else if (w->hand_ready) {
		pthread_mutex_lock(&w->hand.lock);
		w->hand.done = true;
		pthread_cond_signal(&w->hand.cond);
		pthread_mutex_unlock(&w->hand.lock);
	}
	/* after the curl thread: the store thread writes what it handed
	 * over, then ends */
	if (w->store_started)
		pthread_join(w->store_thread, NULL);
	/* requests still running are abandoned: their deliveries are still
	 * inflight in the database and go out at the next start */
	for (size_t k = 0; k < w->capchannels; k++) {
		struct channel_state *c = w->channels[k];
		if (!c)
			continue;
		while (c->qlen) {
			struct outbox_item it;
			channel_pop(c, &it);
			outbox_item_free(&it);
		}
		free(c->queue);
		free(c);
	}
	free(w->channels);
	while (w->running) {
		struct transfer *t = w->running;
		unlink_running(w, t);
		curl_multi_remove_handle(w->multi, t->easy);
		transfer_free(w, t);
	}
	if (w->multi)
		curl_multi_cleanup(w->multi);
	while (w->nspare)
		curl_easy_cleanup(w->spare[--w->nspare]);
	free(w->spare);
	if (w->hand_ready)
		handover_free(&w->hand);
	store_close(w->store);
	free(w->results);
	free(w->marks);
	free(w);
}
