/* regions: the region tree (province → city → county → town → village)
 * keyed by 12-digit statistical division codes; CSV import and the
 * queries the API and the planner need. */
#ifndef SCICAST_REGIONS_H
#define SCICAST_REGIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "store.h"

#define REGION_CODE_LEN 12
#define REGION_NAME_MAX 200   /* bytes; the longest NBS name is ~60 */
#define REGION_PATH_MAX (LEVEL_COUNT_MAX * 13)
#define LEVEL_COUNT_MAX 5

struct region {
	char code[REGION_CODE_LEN + 1];
	char name[REGION_NAME_MAX + 1];
	int level;
	char parent[REGION_CODE_LEN + 1]; /* "" for a root */
	char path[REGION_PATH_MAX + 1];   /* root/…/code */
};

struct regions_import_result {
	long inserted, updated, unchanged;
	json_t *errors; /* on a refused file: [{"line": N, "message": …}] */
};

/* Imports `code,name,level,parent_code` CSV, all or nothing. A file with
 * bad rows stores nothing: returns -1 with err (422) and res->errors
 * naming each bad line (up to a limit). auto_mqtt creates the default
 * MQTT channel of every new region in the same transaction. */
int regions_import_csv(struct store *s, const char *data, size_t len,
		       bool auto_mqtt, struct regions_import_result *res,
		       struct err *err);

/* 0 with *out filled; -1 with err 404 when there is no such region. */
int regions_get(struct store *s, const char *code, struct region *out,
		struct err *err);

/* The region's ancestors, root first, into out[max]; returns how many. */
int regions_ancestors(struct store *s, const struct region *r,
		      struct region *out, int max, struct err *err);

/* How many regions of the level lie below r (not r itself); level 0 counts
 * every level. */
long regions_count_below(struct store *s, const struct region *r, int level,
			 struct err *err);

/* The MQTT topic of a region: prefix/root/…/code. */
int regions_topic(const char *prefix, const struct region *r, char *out,
		  size_t cap);

/* Fills a region from a row of the columns REGION_COLUMNS. */
#define REGION_COLUMNS "code, name, level, coalesce(parent_code, ''), path"
void regions_from_row(sqlite3_stmt *st, int col0, struct region *out);

#endif
