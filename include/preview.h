/* preview: contexts for rendering a template outside a declaration — the
 * preview endpoint, and the length check on save — from a real region and
 * a sample (or given) emergency. */
#ifndef SCICAST_PREVIEW_H
#define SCICAST_PREVIEW_H

#include <jansson.h>

#include "config.h"
#include "context.h"
#include "err.h"
#include "store.h"

struct preview_emergency {
	const char *hazard;       /* code; NULL: typhoon */
	int severity;             /* -1: yellow */
	const char *msg_type;     /* NULL: alert */
	bool exercise;
	const char *headline, *description, *instruction; /* NULL: samples */
	const char *audience;     /* NULL: general */
};

/* Builds a context for the region (code), or for the first region of the
 * tier in the database when code is NULL, or for a made-up region when
 * the database has none of that tier. */
int preview_context(struct store *s, const struct config *cfg,
		    const char *region_code, int tier, const char *locale,
		    const struct preview_emergency *pe, json_t **out,
		    struct err *err);

/* The [notice] texts of the config as the context wants them. */
void preview_notice_cfg(const struct config *cfg,
			struct context_notice_cfg *out);

#endif
