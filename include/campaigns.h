/* campaigns: everyday science (日常宣教): library notices pushed on a
 * schedule to chosen regions and audiences, through the same outbox as
 * emergencies but behind them — a channel in an active emergency gets no
 * campaign message, and a region in its quiet hours gets none either. */
#ifndef SCICAST_CAMPAIGNS_H
#define SCICAST_CAMPAIGNS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "store.h"

/* A schedule: cron ("m h dom mon dow", names allowed for months and days)
 * or "@every 30m". */
struct schedule {
	bool every;
	int64_t every_ms;
	uint64_t minutes;    /* bit per minute 0–59 */
	uint32_t hours;      /* bit per hour 0–23 */
	uint32_t doms;       /* bit per day 1–31 */
	uint16_t months;     /* bit per month 1–12 */
	uint8_t dows;        /* bit per weekday 0–6, Sunday 0 */
	bool dom_any, dow_any;
};

int schedule_parse(const char *text, struct schedule *out, char *why,
		   size_t cap);
/* The first time after `after` (ms) that the schedule fires within the
 * window [start_ms, end_ms) (0: open); 0 if none within a year. */
int64_t schedule_next(const struct schedule *s, int64_t after,
		      int64_t start_ms, int64_t end_ms);

int campaigns_create(struct store *s, const struct config *cfg,
		     const json_t *body, const char *actor, json_t **out,
		     struct err *err);
int campaigns_update(struct store *s, const struct config *cfg, int64_t id,
		     const json_t *body, json_t **out, struct err *err);
int campaigns_delete(struct store *s, int64_t id, struct err *err);
int campaigns_get(struct store *s, int64_t id, json_t **out, struct err *err);
int campaigns_list(struct store *s, json_t **out, struct err *err);
int campaigns_runs(struct store *s, int64_t id, json_t **out,
		   struct err *err);
/* The next n sends: when, and which notice. */
int campaigns_preview(struct store *s, int64_t id, int n, json_t **out,
		      struct err *err);
/* Runs a campaign now (out of schedule); *out says what it sent. */
int campaigns_run_now(struct store *s, const struct config *cfg, int64_t id,
		      json_t **out, struct err *err);
/* Runs the campaigns that are due. Returns how many ran. */
int campaigns_due(struct store *s, const struct config *cfg, int64_t now,
		  struct err *err);

/* PATCH /api/v1/regions/{code} {"quiet_hours": "22:00-07:00" | null} */
int campaigns_set_quiet(struct store *s, const struct config *cfg,
			const char *code, const json_t *body, json_t **out,
			struct err *err);

/* Sets "quiet_hours" (the region's own, or null) and
 * "quiet_hours_effective" {"window", "from": the region it comes from, or
 * null for the default} on `into`. */
int campaigns_region_quiet(struct store *s, const struct config *cfg,
			   const char *path, json_t *into, struct err *err);

#endif
