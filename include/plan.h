/* plan: from a declaration to messages and deliveries. The area's codes
 * become the regions in scope (each area region, everything below it, and
 * its ancestors, which get their own tier's summary); the severity policy
 * picks the tiers that are sent; each enabled channel of each region sent
 * to gets a delivery of the message rendered for its (locale, audience).
 * Every distinct (template, region, locale, audience) is rendered once. */
#ifndef SCICAST_PLAN_H
#define SCICAST_PLAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "config.h"
#include "err.h"
#include "regions.h"
#include "store.h"

enum plan_mode {
	PLAN_ALERT,   /* the policy's tiers of the area (alert, update) */
	PLAN_END,     /* every channel the emergency reached (cancel, expired,
			 allclear) */
};

struct plan_result;

/* Called by a plan committed in stages, on the thread that writes, after
 * whole regions: last_path is the tree path of the last region written
 * (or PLAN_CURSOR_AREA_DONE),
 * so_far what is written (all of it still in the open transaction),
 * regions_left how many regions of the area come after it. It commits
 * what is written and begins again; < 0 stops the plan. */
typedef int (*plan_stage_fn)(void *arg, const char *last_path,
			     const struct plan_result *so_far,
			     long regions_done, long regions_left,
			     struct err *err);

struct plan_request {
	enum plan_mode mode;
	int64_t emergency_id;        /* 0 in a dry run */
	int revision;
	const char *msg_type;        /* alert update cancel expired allclear */
	const struct hazard *hazard;
	int severity;
	const char *headline, *description, *instruction;
	const char *locale;          /* the language of the texts */
	bool exercise;
	int64_t issued_ms, expires_ms;
	const char (*area)[REGION_CODE_LEN + 1];
	size_t narea;
	unsigned tiers;              /* PLAN_ALERT: the policy's levels */
	/* PLAN_ALERT on an update: channels reached before and now out of
	 * scope get a cancel in the same revision */
	bool cancel_out_of_scope;
	int priority;
	const char *public_url;
	/* NULL: the whole plan in the caller's one transaction. Otherwise a
	 * plan of at least PLAN_STAGE_MIN regions calls it (see
	 * plan_stage_fn); smaller ones never do. */
	plan_stage_fn stage;
	void *stage_arg;
	/* Finishing a staged plan after a stop: the regions up to this path
	 * were planned then (on an update their channels still count as
	 * targeted, so they get no out-of-scope cancel). */
	const char *resume_after;
};

/* The smallest plan (regions in scope) committed in stages, the regions
 * in its first stage, and how long the later stages at least run: the
 * second PLAN_STAGE_MS, each next one twice the last, up to
 * PLAN_STAGE_MAX_MS. */
#define PLAN_STAGE_MIN 1024
#define PLAN_STAGE_FIRST 128
#define PLAN_STAGE_MS 25
#define PLAN_STAGE_MAX_MS 200
/* A cursor past every tree path: the area is planned, what is being
 * written are ends and cancels to channels reached before (those need no
 * cursor: a channel that got its end is no longer "reached"). */
#define PLAN_CURSOR_AREA_DONE "~"

struct plan_result {
	long deliveries, messages, regions;
	long by_tier[LEVEL_COUNT + 1];     /* deliveries per level */
	long by_kind_mqtt, by_kind_webhook;
	long cancels;                      /* out-of-scope cancels */
	json_t *by_town;   /* [{"code", "name", "deliveries"}] */
	json_t *samples;   /* {"village": {"region", "title", "body", "tts"}} */
};

/* Plans, renders and — unless dry_run — inserts messages and deliveries.
 * The caller holds the write transaction. */
int plan_run(struct store *s, const struct config *cfg,
	     const struct plan_request *rq, bool dry_run,
	     struct plan_result *out, struct err *err);
void plan_result_free(struct plan_result *r);

/* JSON of a result for the API: {"deliveries", "messages", "by_tier",
 * "by_kind", "by_town"?, "samples"?}. */
json_t *plan_result_json(const struct plan_result *r, bool details);

#endif
