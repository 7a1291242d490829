/* mustache: the notice template language, as the official mustache spec
 * defines it (interpolation, sections, inverted sections, comments,
 * partials, set delimiters, standalone-line rules; no lambdas).
 *
 * A template is compiled once into a tree and rendered many times. The
 * context is a jansson value; the renderer never modifies it. What the
 * renderer inserts is escaped by the escaper chosen per render, so the
 * same template can produce HTML, plain screen text or a JSON string.
 * Rendered data is never evaluated: a value containing "{{" is text. */
#ifndef SCICAST_MUSTACHE_H
#define SCICAST_MUSTACHE_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"

struct mustache_template;

/* Where a compile or render error is, 1-based, in the template text
 * (column counts UTF-8 characters). */
struct mustache_error {
	int line;
	int column;
	char message[256];
};

enum mustache_escape {
	MUSTACHE_ESCAPE_HTML, /* & < > " ' (the spec's escaping) */
	MUSTACHE_ESCAPE_NONE, /* plain text for screens and speech */
	MUSTACHE_ESCAPE_JSON, /* the inside of a JSON string literal */
};

/* Looks up a partial by name; returns its source and length, or NULL if
 * there is no such partial (the spec renders it as empty). */
typedef const char *(*mustache_partial_fn)(void *ud, const char *name,
					   size_t name_len, size_t *len_out);

struct mustache_partials {
	mustache_partial_fn lookup;
	void *ud;
};

/* Compiles src[0..len). Returns 0, or -1 with err filled
 * ("unclosed section \"a\"", "unexpected closing tag", ...). */
int mustache_compile(const char *src, size_t len,
		     struct mustache_template **out, struct mustache_error *err);

/* Renders into out (appending). partials may be NULL. Returns 0, or -1
 * with err filled (out of memory; a partial that fails to compile; nesting
 * of partials deeper than a fixed limit). */
int mustache_render(const struct mustache_template *t, const json_t *ctx,
		    enum mustache_escape esc,
		    const struct mustache_partials *partials, struct buf *out,
		    struct mustache_error *err);

void mustache_free(struct mustache_template *t);

/* What a walk reports, in template order. */
enum mustache_tag_kind {
	MUSTACHE_TAG_VAR,        /* {{x}} {{{x}}} {{&x}} */
	MUSTACHE_TAG_SECTION,    /* {{#x}} */
	MUSTACHE_TAG_INVERTED,   /* {{^x}} */
	MUSTACHE_TAG_CLOSE,      /* {{/x}} */
	MUSTACHE_TAG_PARTIAL,    /* {{>x}} */
};

/* Called for every name-carrying tag with its name (not NUL-terminated)
 * and position. Return nonzero to stop the walk. Used to check a template
 * against the documented context. */
typedef int (*mustache_walk_fn)(void *ud, enum mustache_tag_kind kind,
				const char *name, size_t name_len, int line,
				int column);

/* Returns what the callback returned last (0 if the walk ran to its end). */
int mustache_walk(const struct mustache_template *t, mustache_walk_fn fn,
		  void *ud);

#endif
