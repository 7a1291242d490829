/* mqtt_marks: what the MQTT sender heard, written down on a thread of its
 * own. The sender hands over PUBACKed deliveries, screens' acks and
 * presence; this thread writes them in batches on its own connection and
 * hands back the deliveries whose "sent" is committed. The sender never
 * waits for SQLite's write lock, which a big plan holds for a stage at a
 * time. */
#ifndef SCICAST_MQTT_MARKS_H
#define SCICAST_MQTT_MARKS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "outbox.h"
#include "presence.h"

struct mqtt_marks;

int mqtt_marks_start(const struct config *cfg, struct mqtt_marks **out,
		     struct err *err);
/* Copies a batch in and returns at once; -1 (nothing taken, the caller
 * keeps its batch) only when memory runs out. */
int mqtt_marks_put(struct mqtt_marks *k, const int64_t *sent, size_t nsent,
		   const struct outbox_ack *acks, size_t nacks,
		   const struct presence_update *presence, size_t npresence);
/* The deliveries recorded as sent since the last call: *ids is the
 * caller's to free. */
size_t mqtt_marks_written(struct mqtt_marks *k, int64_t **ids);
/* Writes what is left (one more try for a failed batch) and joins. */
void mqtt_marks_stop(struct mqtt_marks *k);

#endif
