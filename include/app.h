/* app: what the daemon's parts share while it runs. Set up by main before
 * any thread starts; afterwards the fields are read-only except where a
 * comment says how they change. */
#ifndef SCICAST_APP_H
#define SCICAST_APP_H

#include <stdatomic.h>
#include <stdint.h>

#include "config.h"

struct mqtt_sender;
struct webhook_sender;

struct app {
	struct config *cfg;
	int64_t started_ms;
	char public_url[512];   /* no trailing slash */
	char web_root[1024];
	/* Set by main on SIGTERM; the senders and long requests read it. */
	atomic_bool stopping;
	/* The senders, to wake after a commit (their wake is thread-safe). */
	struct mqtt_sender *mqtt;
	struct webhook_sender *webhook;
};

/* Something was committed to the outbox: the senders look now. */
void app_wake_senders(struct app *app);
/* A plan's stage was committed: the senders look now (a callback). */
void app_wake_senders_cb(void *app);

#endif
