/* channels: where messages go. A channel belongs to a region and is an
 * MQTT topic or a webhook URL, with a locale, an audience and a role
 * (notify, or escalation: called when the region's villages stay silent).
 * With [channels] auto_mqtt every region has one MQTT channel on its
 * default topic. */
#ifndef SCICAST_CHANNELS_H
#define SCICAST_CHANNELS_H

#include <jansson.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

#define CHANNEL_TARGET_MAX 2048

/* Creates the default MQTT channel of every region that lacks one. */
int channels_ensure_auto(struct store *s, struct err *err);

/* Validates a request body and creates the channel. *out is the channel
 * as the API shows it, plus "secret" once for a webhook. */
int channels_create(struct store *s, const json_t *body,
		    const char *alert_prefix, json_t **out, struct err *err);
int channels_update(struct store *s, int64_t id, const json_t *body,
		    const char *alert_prefix, json_t **out, struct err *err);
int channels_delete(struct store *s, int64_t id, struct err *err);
int channels_get(struct store *s, int64_t id, const char *alert_prefix,
		 json_t **out, struct err *err);

struct channels_filter {
	const char *region;   /* NULL: any */
	const char *kind;     /* NULL: any */
	int enabled;          /* -1 any, 0, 1 */
	long limit, offset;
};
/* {"items": […], "total": N, "limit", "offset"} */
int channels_list(struct store *s, const struct channels_filter *f,
		  const char *alert_prefix, json_t **out, struct err *err);

/* Checks of single values, shared with other modules. */
int channels_check_topic(const char *topic, size_t len, const char *field,
			 struct err *err);
int channels_check_locale(const char *locale, const char *field,
			  struct err *err);

#endif
