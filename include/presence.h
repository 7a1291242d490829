/* presence: which screens are alive. Screens publish a retained status
 * ({status_prefix}/{region}/{screen id}) at connect and as a heartbeat,
 * with a Last Will saying offline; the MQTT sender hands what it hears
 * here. A screen whose heartbeat is overdue (three intervals) counts as
 * offline even if no will arrived. */
#ifndef SCICAST_PRESENCE_H
#define SCICAST_PRESENCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

#define PRESENCE_ID_MAX 64

struct presence_update {
	char region[16];
	char screen_id[PRESENCE_ID_MAX + 1];
	bool online;
	char version[64];
	char message_id[96];
	char reason[64];
	int heartbeat_s;
	int64_t at;
};

/* Parses a status message; -1 with why for one that is not a status. */
int presence_parse(const char *region, const char *screen_id,
		   const void *payload, size_t len, int64_t now,
		   struct presence_update *out, char *why, size_t cap);
/* Records a batch in one transaction. */
int presence_record(struct store *s, const struct presence_update *u,
		    size_t n, struct err *err);

struct presence_filter {
	const char *region, *town, *status;   /* status: online | offline */
	long limit, offset;
};
/* {"items": [...], "total", "online", "offline"} */
int presence_list(struct store *s, const struct presence_filter *f,
		  int64_t now, json_t **out, struct err *err);

/* SQL fragment: 1 when region ?R has screens and none is online now. */
#define PRESENCE_OFFLINE_SQL(region, now)                                    \
	"(SELECT CASE WHEN count(*) = 0 THEN NULL WHEN sum(sc.status ="     \
	" 'online' AND sc.last_seen_at > " now " - 3000 *"                  \
	" coalesce(sc.heartbeat_s, 30)) > 0 THEN 0 ELSE 1 END"              \
	" FROM screens sc WHERE sc.region_code = " region ")"

#endif
