/* payload: the JSON envelope every channel receives (docs/payload.md),
 * the same over MQTT and webhooks. */
#ifndef SCICAST_PAYLOAD_H
#define SCICAST_PAYLOAD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "regions.h"

#define PAYLOAD_SCHEMA "scicast.alert/1"

struct payload_in {
	const char *message_id;
	int64_t emergency_id;
	int revision;
	const char *msg_type;
	bool exercise;
	const struct hazard *hazard;
	int severity;
	const struct region *region;
	const char *locale, *audience;
	const char *title, *body, *tts;
	json_t *notices;           /* borrowed; may be NULL */
	const char *notices_json;  /* the same, from payload_notices_json:
				      a plan sends one list to many regions */
	int64_t issued_ms, expires_ms;
	const char *issued, *expires; /* the same formatted, or NULL */
};

/* The envelope as compact JSON text (caller frees), or NULL. */
char *payload_envelope(const struct payload_in *in);

/* The "notices" member of an envelope as JSON text (caller frees). */
char *payload_notices_json(json_t *notices);

/* The display colour of a severity, "#RRGGBB". */
const char *payload_colour(int severity);

#endif
