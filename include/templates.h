/* templates: the notice templates administrators edit, addressed by
 * (hazard or "*", tier, locale), each with a title, a body and a tts part.
 * Every save is a new version; a stale save is refused (409) and kept in
 * the history as an attempt; rollback makes a new version. */
#ifndef SCICAST_TEMPLATES_H
#define SCICAST_TEMPLATES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "mustache.h"
#include "store.h"

enum template_part { PART_TITLE, PART_BODY, PART_TTS };
#define TEMPLATE_PARTS 3
extern const char *const template_part_names[TEMPLATE_PARTS];

#define TEMPLATE_PART_MAX 20000 /* characters per part */

struct template_text {
	int64_t id;
	int version;
	char hazard[32];
	int tier;               /* enum level */
	char locale[36];
	char *part[TEMPLATE_PARTS];
	int line[TEMPLATE_PARTS]; /* parsed from a file: where each starts */
};

void template_text_free(struct template_text *t);

/* Parses the file format of templates/ ([title], [body], [tts] markers).
 * On error, err->message is "line N: what". */
int templates_parse_file(const char *text, size_t len,
			 struct template_text *out, struct err *err);

/* Compiles the three parts; a parse error is 422 naming the part (field)
 * and "line L, column C: reason". */
int templates_compile(const struct template_text *t,
		      struct mustache_template *out[TEMPLATE_PARTS],
		      struct err *err);
void templates_compiled_free(struct mustache_template *c[TEMPLATE_PARTS]);

/* Renders with the context; each part is trimmed of leading and trailing
 * white space (a standalone closing tag leaves a newline). out[i] are
 * allocated. */
int templates_render(struct mustache_template *c[TEMPLATE_PARTS],
		     const json_t *ctx, char *out[TEMPLATE_PARTS],
		     struct err *err);

/* The template a message uses: (hazard, tier, locale) → ("*", tier,
 * locale) → the same with the default locale; province falls back to
 * city and county to town. 404 when nothing matches. */
int templates_lookup(struct store *s, const char *hazard, int tier,
		     const char *locale, const char *default_locale,
		     struct template_text *out, struct err *err);

/* Loads templates/ into an empty table (first start). Returns how many. */
int templates_seed(struct store *s, const char *dir, struct err *err);

/* The API's operations. actor names who did it (for the history). */
struct templates_filter {
	const char *hazard, *tier, *locale;
};
int templates_list(struct store *s, const struct templates_filter *f,
		   json_t **out, struct err *err);
int templates_get(struct store *s, int64_t id, int version, json_t **out,
		  struct err *err);
int templates_create(struct store *s, const struct config *cfg,
		     const json_t *body, const char *actor, json_t **out,
		     struct err *err);
/* A stale version: -1 with err 409 and *details the current template. */
int templates_update(struct store *s, const struct config *cfg, int64_t id,
		     const json_t *body, const char *actor, json_t **out,
		     json_t **details, struct err *err);
int templates_delete(struct store *s, const struct config *cfg, int64_t id,
		     int expected_version, const char *actor, json_t **details,
		     struct err *err);
int templates_history(struct store *s, int64_t id, json_t **out,
		      struct err *err);
int templates_rollback(struct store *s, const struct config *cfg, int64_t id,
		       const json_t *body, const char *actor, json_t **out,
		       json_t **details, struct err *err);

/* Checks a template as a save would: compile errors fail; unknown names
 * and bodies over the tier's limit are appended to warnings. */
int templates_check(struct store *s, const struct config *cfg,
		    const struct template_text *t, json_t *warnings,
		    struct err *err);

#endif
