/* library: the emergency science resource library (应急科普资源库). Each
 * notice is for one (hazard, audience, locale); every change is a
 * version; search is full text (FTS5 trigram, so Chinese works) with a
 * substring fallback for one- and two-character words; every message
 * carries the notices that match its channel. */
#ifndef SCICAST_LIBRARY_H
#define SCICAST_LIBRARY_H

#include <jansson.h>
#include <stdbool.h>

#include "config.h"
#include "err.h"
#include "store.h"

/* Where notices are linked from (the daemon's public URL); set once at
 * start, before any thread runs. */
void library_set_public_url(const char *url);

struct library_import_result {
	long inserted, updated, unchanged;
	json_t *errors;      /* [{"line", "field", "message"}] on refusal */
};

/* Imports JSON lines, all or nothing. file names the source in errors
 * ("" for a request body). */
int library_import(struct store *s, const struct config *cfg,
		   const char *data, size_t len, const char *actor,
		   struct library_import_result *res, struct err *err);
/* Loads library/ into an empty library (first start). */
int library_seed(struct store *s, const struct config *cfg, const char *dir,
		 struct err *err);
/* Every notice as JSON lines (the import format), filtered. */
int library_export(struct store *s, const char *hazard, const char *locale,
		   char **out, size_t *len, struct err *err);

struct library_filter {
	const char *hazard, *audience, *locale;
	long limit, offset;
};
int library_list(struct store *s, const struct library_filter *f,
		 json_t **out, struct err *err);
int library_get(struct store *s, const char *id, int version, json_t **out,
		struct err *err);
int library_create(struct store *s, const struct config *cfg,
		   const json_t *body, const char *actor, json_t **out,
		   struct err *err);
/* body carries "version" (the one edited): 409 with *details if stale. */
int library_update(struct store *s, const struct config *cfg, const char *id,
		   const json_t *body, const char *actor, json_t **out,
		   json_t **details, struct err *err);
int library_delete(struct store *s, const char *id, int version,
		   const char *actor, struct err *err);
int library_history(struct store *s, const char *id, json_t **out,
		    struct err *err);

/* Ranked search: {"items": [{…, "snippet", "score"}], "total", "mode"}. */
int library_search(struct store *s, const char *q, const char *locale,
		   const char *hazard, long limit, json_t **out,
		   struct err *err);

/* The notices a message carries: the best n for (hazard, audience,
 * locale) by priority, general ones filling up; the default locale when
 * the locale has none. A new list, or NULL with err. */
json_t *library_for_message(struct store *s, const struct config *cfg,
			    const char *hazard, const char *audience,
			    const char *locale, struct err *err);

#endif
