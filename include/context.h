/* context: the data every notice template sees (docs/templates.md), built
 * once per (emergency revision, region, locale, audience), and the schema
 * of that data, against which a template's names are checked on save. */
#ifndef SCICAST_CONTEXT_H
#define SCICAST_CONTEXT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "config.h"
#include "regions.h"

struct context_emergency {
	int64_t id;
	int revision;
	const char *msg_type;       /* alert update cancel expired allclear */
	bool exercise;
	const struct hazard *hazard;
	int severity;               /* enum severity */
	const char *headline;
	const char *description;    /* NULL: none */
	const char *instruction;    /* NULL: none */
	int64_t issued_ms;
	int64_t expires_ms;
};

/* The texts of [notice] in config, per locale family. */
struct context_notice_cfg {
	const char *issuer, *issuer_en;
	const char *contact, *contact_en;
	const char *contact_tts, *contact_tts_en;
};

/* Everything below one region that the declaration covers. */
struct context_scope {
	json_t *regions;     /* [{"code", "name"}…], borrowed */
	long town_count;
	long village_count;
};

struct context_input {
	const struct context_emergency *em;
	const char *locale;
	const struct region *region;
	const struct region *ancestors; /* root first */
	int nancestors;
	const struct context_scope *scope;
	json_t *notices;                /* borrowed; may be NULL */
	const struct context_notice_cfg *notice;
	/* Optional parts built once and shared by many contexts (a plan
	 * renders one per region): context_emergency_json of em, and
	 * context_region_json of each ancestor. Borrowed; NULL: built here. */
	json_t *emergency;
	json_t *const *ancestor_json;
};

/* A new context object, or NULL on out of memory. */
json_t *context_build(const struct context_input *in);
json_t *context_emergency_json(const struct context_emergency *em,
			       const char *locale,
			       const struct context_notice_cfg *nc);
json_t *context_region_json(const struct region *r);

/* true for zh, zh-CN, zh-Hans…: Chinese wording and separators. */
bool context_locale_is_zh(const char *locale);

/* The name a screen shows: committee suffixes dropped. */
void context_short_name(const char *name, char *out, size_t cap);

/* Checks the names a template uses against the documented context.
 * Appends {"line", "column", "message"} warnings for unknown names. */
struct mustache_template;
int context_check_names(const struct mustache_template *t, json_t *warnings,
			const char *part);

#endif
