/* cap: CAP 1.2 (OASIS), both ways. Every revision of an emergency exports
 * as a CAP alert (with China's national system's conventions: +08:00
 * times, a zh-CN and an en-US info, headlines like 台风黄色预警[Ⅲ级/较重],
 * geocodes named "CPEAS Geographic Code"); the active alerts are an Atom
 * feed; CAP posted by an upstream system declares, updates or cancels. */
#ifndef SCICAST_CAP_H
#define SCICAST_CAP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "emergency.h"
#include "err.h"
#include "store.h"

#define CAP_NS "urn:oasis:names:tc:emergency:cap:1.2"
#define CAP_MAX_BODY (1 << 20)
/* The longest sender or identifier taken in (bytes): the export writes
 * them back from buffers of this size, and must not cut them. */
#define CAP_ID_MAX 255

/* The schema and the event table, once at start (before threads). */
int cap_load(const char *data_dir, struct err *err);
void cap_unload(void);
/* data/cap-events.csv (event,hazard); part of cap_load. */
int cap_events_load(const char *data_dir, struct err *err);

/* The CAP document of a revision (0: the current one). public_only: 404
 * for drills (they are not public information). */
int cap_export(struct store *s, const struct config *cfg, int64_t emergency,
	       int revision, bool public_only, char **xml, size_t *len,
	       struct err *err);
/* An Atom feed of the active alerts, each linking its CAP document. */
int cap_feed(struct store *s, const struct config *cfg, const char *public_url,
	     char **xml, size_t *len, struct err *err);

/* Takes a CAP document: validated, mapped, and declared, revised or
 * cancelled through the usual paths. *status is 201 (new), 200 (the same
 * identifier again: nothing done). */
int cap_ingest(const struct emergency_ctx *c, const char *body, size_t len,
	       json_t **out, int *status, struct err *err);

#endif
