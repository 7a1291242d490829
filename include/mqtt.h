/* mqtt: the MQTT sender, one thread with its own SQLite connection and its
 * own libmosquitto client. It claims due MQTT deliveries, publishes them
 * (QoS 1, retained) with many in flight, hands their PUBACKs and screens'
 * acks to its marks thread (mqtt_marks.h) to be written, and reconnects
 * with backoff; the broker being down only delays it. */
#ifndef SCICAST_MQTT_H
#define SCICAST_MQTT_H

#include <stdbool.h>

#include "app.h"
#include "err.h"

struct mqtt_sender;

int mqtt_sender_start(struct app *app, struct mqtt_sender **out,
		      struct err *err);
/* Something new is due: look now rather than at the next tick. Safe from
 * any thread. */
void mqtt_sender_wake(struct mqtt_sender *m);
bool mqtt_sender_connected(const struct mqtt_sender *m);
/* Flushes what it knows, disconnects and joins the thread. */
void mqtt_sender_stop(struct mqtt_sender *m);

#endif
