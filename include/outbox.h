/* outbox: the deliveries table seen as a queue. A delivery goes pending ->
 * inflight (claimed by a sender) -> sent (the broker or endpoint took it)
 * -> acked (the screen or endpoint confirmed it); failed ones wait for
 * their next attempt, and end dead after the last. Each sender thread
 * works on its own connection; everything here is a few statements in
 * short transactions, batched where a sender would otherwise write once
 * per message. */
#ifndef SCICAST_OUTBOX_H
#define SCICAST_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "store.h"

struct outbox_item {
	int64_t delivery;
	int64_t channel;
	int64_t emergency;
	char message_id[96];
	char msg_type[12];
	char region[16];
	int tier;
	int attempts;         /* including this one */
	int64_t expires_ms;
	char *target;         /* topic or URL (owned) */
	char *payload;        /* owned */
	size_t payload_len;
	char *secret;         /* webhooks: owned, wiped on free */
	char *headers;        /* webhooks: JSON object text, owned */
	int64_t timeout_ms;
	int max_concurrency;
};

void outbox_item_free(struct outbox_item *it);
void outbox_items_free(struct outbox_item *items, size_t n);

/* A sender that restarts owns nothing: what it had in flight is pending
 * again (delivery is at least once). */
int outbox_reset_inflight(struct store *s, const char *kind, struct err *err);

/* Claims up to limit due deliveries of a kind (pending, next attempt
 * reached), most urgent first, and marks them inflight. MQTT targets are
 * resolved to topics with alert_prefix. */
/* How many in-flight deliveries a peek passes over at most: the MQTT
 * window ([mqtt] max_inflight) is read again from the start each time. */
#define OUTBOX_PEEK_SLACK 65535

/* The MQTT sender's claim: the next `limit` due deliveries that `taken`
 * does not hold (the sender's own in-flight set), read without writing.
 * A delivery stays pending while the broker has it: nothing to write
 * until its PUBACK (outbox_mark_sent), and nothing to undo after a crash
 * or a disconnect. */
int outbox_peek(struct store *s, const char *kind, const char *alert_prefix,
		int limit, bool (*taken)(void *ud, int64_t delivery), void *ud,
		struct outbox_item **items, size_t *n, struct err *err);

int outbox_claim(struct store *s, const char *kind, const char *alert_prefix,
		 int limit, struct outbox_item **items, size_t *n,
		 struct err *err);

/* The same for a sender that limits each channel's concurrency: channels
 * marked busy (outbox_busy_set) are skipped, so a slow endpoint's backlog
 * never fills the sender's memory ahead of the others. The marks live in
 * a temporary table of the calling connection. */
int outbox_busy_setup(struct store *s, struct err *err);
int outbox_busy_set(struct store *s, int64_t channel, bool busy,
		    struct err *err);
int outbox_claim_except_busy(struct store *s, const char *kind, int limit,
			     struct outbox_item **items, size_t *n,
			     struct err *err);

/* The outcome of one webhook attempt. */
struct outbox_result {
	int64_t delivery;
	int64_t channel;
	int attempt;
	int64_t started_ms;
	int64_t duration_ms;
	int http_status;       /* 0: no answer */
	const char *outcome;   /* acked, retry, dead, gone */
	char error[300];
	int64_t next_ms;       /* retry: when */
};

/* Records attempts (history) and their deliveries' new state in one
 * transaction; "gone" also disables the channel and ends its other
 * waiting deliveries. */
int outbox_record_results(struct store *s, const struct outbox_result *r,
			  size_t n, struct err *err);

/* Puts a dead (or failed) delivery — or, with delivery 0, every dead
 * delivery of an emergency on an enabled channel — back in the queue with
 * a fresh set of attempts. */
int outbox_redrive(struct store *s, int64_t delivery, int64_t emergency,
		   long *count, struct err *err);

/* Whether any delivery waits to go out now (1), none (0), -1 on error:
 * work the senders have not taken into flight yet. */
int outbox_any_due(struct store *s, int64_t now, struct err *err);

/* The broker or endpoint took these deliveries (PUBACK, 2xx for webhooks
 * use outbox_mark_acked). One transaction for the batch. */
int outbox_mark_sent(struct store *s, const int64_t *ids, size_t n,
		     int64_t now, struct err *err);

struct outbox_ack {
	char message_id[96];
	char region[16];
	char status[12];      /* received displayed played */
	int64_t at;
};

/* Reads an ack a screen published on {ack_prefix}/{region}: the region
 * (the rest of the topic) and the JSON payload {"message_id", "status"}.
 * Fills *out (at = 0) or says why it is not an ack (why has `cap` bytes). */
int outbox_parse_ack(const char *region, const void *payload, size_t len,
		     struct outbox_ack *out, char *why, size_t cap);

/* Screen acks; *unknown counts acks that matched no delivery. */
int outbox_mark_acked(struct store *s, const struct outbox_ack *acks,
		      size_t n, long *unknown, struct err *err);

/* An attempt failed: back to pending at next_ms with the error, or dead. */
int outbox_mark_failed(struct store *s, int64_t id, const char *error,
		       int64_t next_ms, bool dead, struct err *err);


/* Older revisions' deliveries that have not gone out are superseded by
 * the new revision's. */
int outbox_supersede(struct store *s, int64_t emergency, int revision,
		     struct err *err);

/* Re-queues village MQTT deliveries of active emergencies that were sent
 * but not acked within their severity's resend_after, up to resend_max.
 * Returns how many, or -1. */
long outbox_resend_due(struct store *s, const struct config *cfg,
		       int64_t now, struct err *err);

/* The earliest next attempt of pending deliveries of a kind (0: none). */
int64_t outbox_next_due(struct store *s, const char *kind, struct err *err);

#endif
