/* webhook: the webhook sender, one thread with its own SQLite connection
 * and a libcurl multi handle. It POSTs the envelope signed the Standard
 * Webhooks way, at most a channel's max_concurrency requests to one
 * endpoint at a time, and records every attempt: 2xx acks, 410 disables
 * the channel, 429 waits as told, anything else retries with backoff and
 * jitter until the last attempt, then the delivery is dead. */
#ifndef SCICAST_WEBHOOK_H
#define SCICAST_WEBHOOK_H

#include "app.h"
#include "err.h"

struct webhook_sender;

int webhook_sender_start(struct app *app, struct webhook_sender **out,
			 struct err *err);
/* Safe from any thread. */
void webhook_sender_wake(struct webhook_sender *w);
void webhook_sender_stop(struct webhook_sender *w);

/* The wait before attempt n+1 after n failed (n >= 1), jitter included. */
int64_t webhook_backoff_ms(const struct config *cfg, int attempts);

#endif
