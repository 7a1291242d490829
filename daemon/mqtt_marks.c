/* mqtt_marks: the MQTT sender's writer thread. It owns its own SQLite
 * connection and the batches handed to it; the sender thread and this one
 * share only `struct mqtt_marks`'s locked part. Why a thread: a big plan
 * commits in stages and holds the write lock for one at a time (~25 ms);
 * when the sender wrote its PUBACKs itself, it waited for each stage with
 * nothing read from or written to the broker (~400 ms of a Guangdong
 * declaration's first 1.2 s). A batch that cannot be written is kept and
 * tried again; one never written (scicastd stopped meanwhile) leaves its
 * deliveries pending, and they go out again at the next start, as after a
 * crash. */
#define _GNU_SOURCE
#include "mqtt_marks.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "store.h"
#include "util.h"

#define RETRY_MS 1000

struct batch {
	int64_t *sent;
	size_t nsent, capsent;
	struct outbox_ack *acks;
	size_t nacks, capacks;
	struct presence_update *presence;
	size_t npresence, cappresence;
};

struct mqtt_marks {
	pthread_t thread;
	bool started;

	/* shared with the sender thread: everything below, under lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct batch in;            /* handed over, not taken yet */
	int64_t *written;           /* sent and committed, to hand back */
	size_t nwritten, capwritten;
	bool stop;

	/* this thread's */
	struct store *store;
	struct batch work;          /* being written, or kept after a failure */
	int64_t retry_at;           /* a kept batch waits until then */
};

static void batch_free(struct batch *b)
{
	free(b->sent);
	free(b->acks);
	free(b->presence);
	memset(b, 0, sizeof *b);
}

static bool batch_empty(const struct batch *b)
{
	return !b->nsent && !b->nacks && !b->npresence;
}

/* Appends src to dst; on failure dst is as it was, except for room. */
static int batch_add(struct batch *dst, const int64_t *sent, size_t nsent,
		     const struct outbox_ack *acks, size_t nacks,
		     const struct presence_update *presence, size_t npresence)
{
	size_t ns = dst->nsent, na = dst->nacks;
	if (util_array_add((void **)&dst->sent, &dst->nsent, &dst->capsent,
			   sent, nsent, sizeof *sent) < 0)
		return -1;
	if (util_array_add((void **)&dst->acks, &dst->nacks, &dst->capacks,
			   acks, nacks, sizeof *acks) < 0 ||
	    util_array_add((void **)&dst->presence, &dst->npresence,
			   &dst->cappresence, presence, npresence,
			   sizeof *presence) < 0) {
		dst->nsent = ns;
		dst->nacks = na;
		return -1;
	}
	return 0;
}

int mqtt_marks_put(struct mqtt_marks *k, const int64_t *sent, size_t nsent,
		   const struct outbox_ack *acks, size_t nacks,
		   const struct presence_update *presence, size_t npresence)
{
	if (!nsent && !nacks && !npresence)
		return 0;
	pthread_mutex_lock(&k->lock);
	int rc = batch_add(&k->in, sent, nsent, acks, nacks, presence,
			   npresence);
	if (rc == 0)
		pthread_cond_signal(&k->cond);
	pthread_mutex_unlock(&k->lock);
	return rc;
}

size_t mqtt_marks_written(struct mqtt_marks *k, int64_t **ids)
{
	pthread_mutex_lock(&k->lock);
	size_t n = k->nwritten;
	*ids = k->written;
	k->written = NULL;
	k->nwritten = k->capwritten = 0;
	pthread_mutex_unlock(&k->lock);
	return n;
}

/* Writes the work batch in the sender's old order (sent, presence, acks);
 * what is written leaves the batch, what failed stays for the retry. */
static void write_work(struct mqtt_marks *k)
{
	struct batch *b = &k->work;
	struct err err;
	if (b->nsent) {
		if (outbox_mark_sent(k->store, b->sent, b->nsent, util_now_ms(),
				     &err) < 0) {
			log_error("mqtt: recording %zu PUBACKs: %s (kept: tried "
				  "again in %d s)", b->nsent, err.message,
				  RETRY_MS / 1000);
			goto keep;
		}
		pthread_mutex_lock(&k->lock);
		int rc = util_array_add((void **)&k->written, &k->nwritten,
					&k->capwritten, b->sent, b->nsent,
					sizeof *b->sent);
		pthread_mutex_unlock(&k->lock);
		/* not handed back, they only stay in the sender's memory:
		 * they are no longer pending, so nothing claims them again */
		if (rc < 0)
			log_error("mqtt: out of memory handing back %zu "
				  "PUBACKs", b->nsent);
		b->nsent = 0;
	}
	if (b->npresence) {
		if (presence_record(k->store, b->presence, b->npresence,
				    &err) < 0) {
			log_error("mqtt: recording screen presence: %s",
				  err.message);
			goto keep;
		}
		b->npresence = 0;
	}
	if (b->nacks) {
		long unknown = 0;
		if (outbox_mark_acked(k->store, b->acks, b->nacks, &unknown,
				      &err) < 0) {
			log_error("mqtt: recording %zu acks: %s", b->nacks,
				  err.message);
			goto keep;
		}
		metrics_add(M_MQTT_ACKS, b->nacks - (size_t)unknown);
		metrics_add(M_MQTT_ACKS_UNKNOWN, (uint64_t)unknown);
		b->nacks = 0;
	}
	k->retry_at = 0;
	return;
keep:
	k->retry_at = util_now_ms() + RETRY_MS;
}

/* Moves what was handed over behind what this thread still holds. */
static void take_in(struct mqtt_marks *k)
{
	struct batch *in = &k->in;
	if (batch_empty(&k->work)) {
		struct batch t = k->work;
		k->work = *in;
		*in = t;
		return;
	}
	if (batch_add(&k->work, in->sent, in->nsent, in->acks, in->nacks,
		      in->presence, in->npresence) == 0)
		in->nsent = in->nacks = in->npresence = 0;
}

static void *marks_main(void *arg)
{
	struct mqtt_marks *k = arg;
	pthread_mutex_lock(&k->lock);
	for (;;) {
		bool stop = k->stop;
		if (!stop && batch_empty(&k->in) &&
		    (batch_empty(&k->work) || util_now_ms() < k->retry_at)) {
			if (batch_empty(&k->work)) {
				pthread_cond_wait(&k->cond, &k->lock);
			} else {
				struct timespec until;
				util_deadline(CLOCK_MONOTONIC,
					      k->retry_at - util_now_ms(),
					      &until);
				pthread_cond_timedwait(&k->cond, &k->lock,
						       &until);
			}
			continue;
		}
		take_in(k);
		pthread_mutex_unlock(&k->lock);
		write_work(k);
		pthread_mutex_lock(&k->lock);
		if (stop && batch_empty(&k->in))
			break;
	}
	pthread_mutex_unlock(&k->lock);
	if (!batch_empty(&k->work))
		log_error("mqtt: stopping with %zu PUBACKs, %zu acks and %zu "
			  "statuses not recorded (those deliveries go out "
			  "again at the next start)", k->work.nsent,
			  k->work.nacks, k->work.npresence);
	return NULL;
}

int mqtt_marks_start(const struct config *cfg, struct mqtt_marks **out,
		     struct err *err)
{
	struct mqtt_marks *k = calloc(1, sizeof *k);
	if (!k) {
		err_oom(err);
		return -1;
	}
	/* the retry wait is timed on the monotonic clock */
	if (util_cond_init_monotonic(&k->cond) != 0) {
		free(k);
		err_internal(err, "pthread_cond_init failed");
		return -1;
	}
	pthread_mutex_init(&k->lock, NULL);
	if (store_open(cfg->store_path, cfg->store_busy_timeout_ms, &k->store,
		       err) < 0 ||
	    store_relax(k->store, err) < 0)
		goto fail;
	if (util_thread_start(&k->thread, "mqtt-marks", marks_main, k) != 0) {
		err_set(err, 0, "mqtt", "", "cannot start the MQTT marks thread");
		goto fail;
	}
	k->started = true;
	*out = k;
	return 0;
fail:
	store_close(k->store);
	pthread_cond_destroy(&k->cond);
	pthread_mutex_destroy(&k->lock);
	free(k);
	return -1;
}

void mqtt_marks_stop(struct mqtt_marks *k)
{
	if (!k)
		return;
	if (k->started) {
		pthread_mutex_lock(&k->lock);
		k->stop = true;
		pthread_cond_signal(&k->cond);
		pthread_mutex_unlock(&k->lock);
		pthread_join(k->thread, NULL);
	}
	store_close(k->store);
	batch_free(&k->in);
	batch_free(&k->work);
	free(k->written);
	pthread_cond_destroy(&k->cond);
	pthread_mutex_destroy(&k->lock);
	free(k);
}
