/* campaigns: scheduled science notices. A run picks the next notice of the
 * rotation, finds the channels of the campaign's regions and levels (and
 * audience), leaves out those in an active emergency and those whose
 * region is in its quiet hours, and writes one message per region and one
 * delivery per channel — with a priority below every emergency — in one
 * transaction with the run's record. Schedules are cron expressions in
 * the configured local time, or "@every 30m". */
#define _GNU_SOURCE
#include "campaigns.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "catalog.h"
#include "jsonutil.h"
#include "library.h"
#include "log.h"
#include "regions.h"
#include "util.h"

#define CAMPAIGN_PRIORITY 10 /* emergencies are 100 and up */
#define NOTICES_MAX 100
#define REGIONS_MAX 1000

/* ---- schedules ---- */

static int name_value(const char *s, size_t len, int field)
{
	static const char *const months[] = { "jan", "feb", "mar", "apr",
					      "may", "jun", "jul", "aug",
					      "sep", "oct", "nov", "dec" };
	static const char *const days[] = { "sun", "mon", "tue", "wed", "thu",
					    "fri", "sat" };
	if (len != 3)
		return -1;
	if (field == 3)
		for (int i = 0; i < 12; i++)
			if (strncasecmp(s, months[i], 3) == 0)
				return i + 1;
	if (field == 4)
		for (int i = 0; i < 7; i++)
			if (strncasecmp(s, days[i], 3) == 0)
				return i;
	return -1;
}

static int field_value(const char *s, size_t len, int field)
{
	long long v;
	char num[8];
	if (len && isalpha((unsigned char)s[0]))
		return name_value(s, len, field);
	if (len == 0 || len >= sizeof num)
		return -1;
	memcpy(num, s, len);
	num[len] = '\0';
	return util_parse_ll(num, 0, 59, &v) == 0 ? (int)v : -1;
}

/* One cron field into a bit set over [lo, hi]. */
static int parse_field(const char *f, size_t len, int field, int lo, int hi,
		       uint64_t *bits, bool *any)
{
	*bits = 0;
	*any = len == 1 && f[0] == '*';
	const char *p = f, *end = f + len;
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *item_end = comma ? comma : end;
		const char *slash = memchr(p, '/', (size_t)(item_end - p));
		const char *range_end = slash ? slash : item_end;
		int a, b, step = 1;
		if (range_end - p == 1 && *p == '*') {
			a = lo;
			b = hi;
		} else {
			const char *dash = memchr(p, '-', (size_t)(range_end - p));
			a = field_value(p, (size_t)((dash ? dash : range_end) - p),
					field);
			b = dash ? field_value(dash + 1,
					       (size_t)(range_end - dash - 1), field)
				 : a;
			if (slash && !dash)
				b = hi; /* "5/15": from 5 on */
		}
		if (slash) {
			step = field_value(slash + 1,
					   (size_t)(item_end - slash - 1), 0);
			if (step <= 0)
				return -1;
		}
		if (field == 4 && b == 7)
			b = 0 == a ? 0 : 6, a = a == 7 ? 0 : a; /* 7 is Sunday */
		if (a < lo || b > hi || a > b)
			return -1;
		for (int v = a; v <= b; v += step)
			*bits |= 1ULL << v;
		p = comma ? comma + 1 : end;
	}
	return *bits ? 0 : -1;
}

int schedule_parse(const char *text, struct schedule *out, char *why,
		   size_t cap)
{
	memset(out, 0, sizeof *out);
	if (strncmp(text, "@every ", 7) == 0) {
		if (util_parse_duration_ms(text + 7, &out->every_ms) < 0 ||
		    out->every_ms < 1000) {
			snprintf(why, cap, "@every takes a duration of at least "
				 "1s (30s, 10m, 1d)");
			return -1;
		}
		out->every = true;
		return 0;
	}
	static const int lo[] = { 0, 0, 1, 1, 0 }, hi[] = { 59, 23, 31, 12, 6 };
	static const char *const names[] = { "minute", "hour", "day of month",
					     "month", "day of week" };
	const char *p = text;
	for (int f = 0; f < 5; f++) {
		while (*p == ' ')
			p++;
		const char *s = p;
		while (*p && *p != ' ')
			p++;
		uint64_t bits;
		bool any;
		if (p == s || parse_field(s, (size_t)(p - s), f, lo[f], hi[f],
					  &bits, &any) < 0) {
			snprintf(why, cap, "the %s field \"%.*s\" is not valid (cron: "
				 "minute hour day-of-month month day-of-week, "
				 "e.g. \"0 10 * 5-10 mon\"; or \"@every 30m\")",
				 names[f], (int)(p - s), s);
			return -1;
		}
		switch (f) {
		case 0: out->minutes = bits; break;
		case 1: out->hours = (uint32_t)bits; break;
		case 2: out->doms = (uint32_t)bits; out->dom_any = any; break;
		case 3: out->months = (uint16_t)bits; break;
		case 4: out->dows = (uint8_t)bits; out->dow_any = any; break;
		}
	}
	while (*p == ' ')
		p++;
	if (*p) {
		snprintf(why, cap, "a cron schedule has five fields");
		return -1;
	}
	return 0;
}

static bool day_matches(const struct schedule *s, const struct tm *tm)
{
	bool dom = s->doms & (1u << tm->tm_mday);
	bool dow = s->dows & (1u << tm->tm_wday);
	if (s->dom_any && s->dow_any)
		return true;
	if (s->dom_any)
		return dow;
	if (s->dow_any)
		return dom;
	return dom || dow; /* cron: either restricted field may match */
}

int64_t schedule_next(const struct schedule *s, int64_t after,
		      int64_t start_ms, int64_t end_ms)
{
	int64_t t = after;
	if (start_ms && t < start_ms)
		t = start_ms - 1;
	if (s->every) {
		int64_t next = t + s->every_ms;
		return end_ms && next >= end_ms ? 0 : next;
	}
	int64_t off = (int64_t)util_local_offset() * 60000;
	/* the next whole minute, in local time */
	int64_t local = (t + off) / 60000 * 60000 + 60000;
	for (int i = 0; i < 366 * 24 * 60; i++, local += 60000) {
		time_t secs = (time_t)(local / 1000);
		struct tm tm;
		gmtime_r(&secs, &tm);
		if (!(s->months & (1u << (tm.tm_mon + 1))) || !day_matches(s, &tm)) {
			/* skip to the next day */
			local += (int64_t)(23 - tm.tm_hour) * 3600000 +
				 (int64_t)(59 - tm.tm_min) * 60000;
			continue;
		}
		if (!(s->hours & (1u << tm.tm_hour))) {
			local += (int64_t)(59 - tm.tm_min) * 60000;
			continue;
		}
		if (!(s->minutes & (1ULL << tm.tm_min)))
			continue;
		int64_t when = local - off;
		return end_ms && when >= end_ms ? 0 : when;
	}
	return 0;
}

/* ---- quiet hours ---- */

static bool in_quiet(int minute_of_day, int start, int end)
{
	if (start < 0)
		return false;
	if (start < end)
		return minute_of_day >= start && minute_of_day < end;
	return minute_of_day >= start || minute_of_day < end; /* over midnight */
}

static int local_minute(int64_t ms)
{
	int64_t local = ms / 60000 + util_local_offset();
	int m = (int)(local % 1440);
	return m < 0 ? m + 1440 : m;
}

struct quiet_rule {
	char code[REGION_CODE_LEN + 1];
	int start, end;
};

static int load_quiet(struct store *s, struct quiet_rule **out, size_t *n,
		      struct err *err)
{
	static const char sql[] =
		"SELECT code, quiet_hours FROM regions WHERE quiet_hours IS NOT NULL";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			struct quiet_rule *g = realloc(*out, cap * sizeof *g);
			if (!g) {
				sqlite3_reset(st);
				err_oom(err);
				return -1;
			}
			*out = g;
		}
		struct quiet_rule *q = &(*out)[(*n)++];
		snprintf(q->code, sizeof q->code, "%s", store_col_text(st, 0));
		if (strcmp(store_col_text(st, 1), "none") == 0)
			q->start = q->end = -1;
		else if (config_parse_quiet(store_col_text(st, 1), &q->start,
					    &q->end) < 0)
			q->start = q->end = -1;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, err, "reading quiet hours");
}

/* The rule for a region: its own, else its nearest ancestor's; NULL for
 * the default. */
static const struct quiet_rule *quiet_rule_for(const struct quiet_rule *q,
					       size_t nq, const char *path)
{
	size_t len = strlen(path);
	while (len >= REGION_CODE_LEN) {
		const char *code = path + len - REGION_CODE_LEN;
		for (size_t i = 0; i < nq; i++)
			if (memcmp(q[i].code, code, REGION_CODE_LEN) == 0)
				return &q[i];
		if (len == REGION_CODE_LEN)
			break;
		len -= REGION_CODE_LEN + 1;
	}
	return NULL;
}

static void quiet_window(const struct config *cfg, const struct quiet_rule *q,
			 size_t nq, const char *path, int *start, int *end)
{
	const struct quiet_rule *r = quiet_rule_for(q, nq, path);
	*start = r ? r->start : cfg->campaigns_quiet_start_min;
	*end = r ? r->end : cfg->campaigns_quiet_end_min;
}

static void quiet_text(int start, int end, char *out, size_t cap)
{
	if (start < 0)
		snprintf(out, cap, "none");
	else
		snprintf(out, cap, "%02d:%02d-%02d:%02d", start / 60, start % 60,
			 end / 60, end % 60);
}

int campaigns_region_quiet(struct store *s, const struct config *cfg,
			   const char *path, json_t *into, struct err *err)
{
	struct quiet_rule *q = NULL;
	size_t nq = 0;
	if (load_quiet(s, &q, &nq, err) < 0)
		return -1;
	const struct quiet_rule *r = quiet_rule_for(q, nq, path);
	size_t len = strlen(path);
	bool own = r && len >= REGION_CODE_LEN &&
		   memcmp(r->code, path + len - REGION_CODE_LEN,
			  REGION_CODE_LEN) == 0;
	char window[32];
	int start, end;
	quiet_window(cfg, q, nq, path, &start, &end);
	quiet_text(start, end, window, sizeof window);
	json_object_set_new(into, "quiet_hours",
			    own ? json_string(window) : json_null());
	json_object_set_new(into, "quiet_hours_effective", json_pack(
		"{s:s, s:s?}", "window", window, "from", r ? r->code : NULL));
	free(q);
	return 0;
}

int campaigns_set_quiet(struct store *s, const struct config *cfg,
			const char *code, const json_t *body, json_t **out,
			struct err *err)
{
	static const char *const allowed[] = { "quiet_hours", NULL };
	static const char sql[] = "UPDATE regions SET quiet_hours = ? WHERE code = ?";
	struct region r;
	const char *v = NULL;
	int a, b;
	if (regions_get(s, code, &r, err) < 0 ||
	    ju_check_object(body, allowed, err) < 0 ||
	    ju_get_string(body, "quiet_hours", false, 11, &v, err) < 0)
		return -1;
	if (v && strcmp(v, "none") != 0 && config_parse_quiet(v, &a, &b) < 0) {
		err_invalid(err, "quiet_hours", "quiet_hours must be HH:MM-HH:MM "
			    "(e.g. 22:00-07:00), none, or null for the default");
		return -1;
	}
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	store_bind_text(st, 1, v);
	store_bind_text(st, 2, code);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, err, "setting quiet hours");
	*out = json_pack("{s:s, s:o}", "code", code, "name", ju_string(r.name));
	if (!*out) {
		err_oom(err);
		return -1;
	}
	if (campaigns_region_quiet(s, cfg, r.path, *out, err) < 0) {
		json_decref(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* ---- campaigns ---- */

static int64_t date_ms(const char *date, bool end)
{
	char iso[40];
	int64_t ms;
	int off = util_local_offset();
	snprintf(iso, sizeof iso, "%.10sT00:00:00%c%02d:%02d", date,
		 off < 0 ? '-' : '+', abs(off) / 60, abs(off) % 60);
	if (strlen(date) != 10 || util_parse_iso(iso, &ms) < 0)
		return -1;
	return end ? ms + 86400000 : ms; /* an end date is inclusive */
}

struct campaign {
	int64_t id;
	char name[128];
	bool enabled;
	char schedule[128];
	char start_date[11], end_date[11];
	json_t *regions;
	unsigned tiers;
	char audience[16];
	json_t *notices;
	int next_index;
	int64_t next_run_at;
	int runs;
	int version;
};

static void campaign_free(struct campaign *c)
{
	json_decref(c->regions);
	json_decref(c->notices);
	memset(c, 0, sizeof *c);
}

#define CAMPAIGN_COLUMNS                                                     \
	"SELECT id, name, enabled, schedule, coalesce(start_date, ''),"      \
	" coalesce(end_date, ''), regions, tiers, coalesce(audience, ''),"   \
	" notices, next_index, coalesce(next_run_at, 0), runs, version,"     \
	" coalesce(last_run_at, 0), created_by FROM campaigns"

static void campaign_from_row(sqlite3_stmt *st, struct campaign *c)
{
	memset(c, 0, sizeof *c);
	c->id = sqlite3_column_int64(st, 0);
	snprintf(c->name, sizeof c->name, "%s", store_col_text(st, 1));
	c->enabled = sqlite3_column_int(st, 2);
	snprintf(c->schedule, sizeof c->schedule, "%s", store_col_text(st, 3));
	snprintf(c->start_date, sizeof c->start_date, "%s", store_col_text(st, 4));
	snprintf(c->end_date, sizeof c->end_date, "%s", store_col_text(st, 5));
	c->regions = json_loads(store_col_text(st, 6), 0, NULL);
	c->tiers = (unsigned)sqlite3_column_int(st, 7);
	snprintf(c->audience, sizeof c->audience, "%s", store_col_text(st, 8));
	c->notices = json_loads(store_col_text(st, 9), 0, NULL);
	c->next_index = sqlite3_column_int(st, 10);
	c->next_run_at = sqlite3_column_int64(st, 11);
	c->runs = sqlite3_column_int(st, 12);
	c->version = sqlite3_column_int(st, 13);
}

static json_t *campaign_json(sqlite3_stmt *st)
{
	json_t *tiers = json_array();
	unsigned mask = (unsigned)sqlite3_column_int(st, 7);
	for (int l = LEVEL_PROVINCE; tiers && l <= LEVEL_VILLAGE; l++)
		if (mask & (1u << l))
			json_array_append_new(tiers, json_string(config_level_name(l)));
	json_t *o = json_pack(
		"{s:I, s:o, s:b, s:s, s:o, s:o, s:o, s:o, s:i, s:o, s:o, s:i, s:i, s:o}",
		"id", (json_int_t)sqlite3_column_int64(st, 0),
		"name", ju_string(store_col_text(st, 1)),
		"enabled", sqlite3_column_int(st, 2),
		"schedule", store_col_text(st, 3),
		"start_date", *store_col_text(st, 4) ? json_string(store_col_text(st, 4)) : json_null(),
		"end_date", *store_col_text(st, 5) ? json_string(store_col_text(st, 5)) : json_null(),
		"regions", json_loads(store_col_text(st, 6), 0, NULL),
		"tiers", tiers,
		"next_index", sqlite3_column_int(st, 10),
		"notices", json_loads(store_col_text(st, 9), 0, NULL),
		"next_run_at", ju_time(sqlite3_column_int64(st, 11)),
		"runs", sqlite3_column_int(st, 12),
		"version", sqlite3_column_int(st, 13),
		"last_run_at", ju_time(sqlite3_column_int64(st, 14)));
	if (o)
		json_object_set_new(o, "audience", *store_col_text(st, 8)
				    ? json_string(store_col_text(st, 8)) : json_null());
	return o;
}

static int load_campaign(struct store *s, int64_t id, struct campaign *c,
			 struct err *err)
{
	static const char sql[] = CAMPAIGN_COLUMNS " WHERE id = ?";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		campaign_from_row(st, c);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		err_not_found(err, "no campaign %lld", (long long)id);
		return -1;
	}
	if (rc != SQLITE_ROW)
		return store_fail(s, err, "reading a campaign");
	if (!c->regions || !c->notices) {
		campaign_free(c);
		err_internal(err, "campaign %lld is unreadable", (long long)id);
		return -1;
	}
	return 0;
}

int campaigns_get(struct store *s, int64_t id, json_t **out, struct err *err)
{
	static const char sql[] = CAMPAIGN_COLUMNS " WHERE id = ?";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return store_one(s, st, campaign_json, "campaign", id, out, err);
}

int campaigns_list(struct store *s, json_t **out, struct err *err)
{
	static const char sql[] = CAMPAIGN_COLUMNS " ORDER BY id";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	return store_list(s, st, campaign_json, "listing campaigns", out, err);
}

/* Validates the fields of a create or an update into c (which holds the
 * current values for an update). */
static int apply_fields(struct store *s, const json_t *body, struct campaign *c,
			bool creating, struct err *err)
{
	static const char *const allowed_create[] = {
		"name", "enabled", "schedule", "start_date", "end_date",
		"regions", "tiers", "audience", "notices", NULL
	};
	static const char *const allowed_update[] = {
		"name", "enabled", "schedule", "start_date", "end_date",
		"regions", "tiers", "audience", "notices", "version", NULL
	};
	const char *v;
	char why[300];
	if (ju_check_object(body, creating ? allowed_create : allowed_update,
			    err) < 0)
		return -1;
	if (ju_get_string(body, "name", creating, 100, &v, err) < 0)
		return -1;
	if (v)
		snprintf(c->name, sizeof c->name, "%s", v);
	if (ju_get_bool(body, "enabled", &c->enabled, err) < 0)
		return -1;
	if (ju_get_string(body, "schedule", creating, 100, &v, err) < 0)
		return -1;
	if (v) {
		struct schedule sch;
		if (schedule_parse(v, &sch, why, sizeof why) < 0) {
			err_invalid(err, "schedule", "schedule: %s", why);
			return -1;
		}
		snprintf(c->schedule, sizeof c->schedule, "%s", v);
	}
	const char *dates[2] = { "start_date", "end_date" };
	char *slots[2] = { c->start_date, c->end_date };
	for (int i = 0; i < 2; i++) {
		json_t *d = json_object_get(body, dates[i]);
		if (d && json_is_null(d)) {
			slots[i][0] = '\0';
			continue;
		}
		if (ju_get_string(body, dates[i], false, 10, &v, err) < 0)
			return -1;
		if (v && date_ms(v, false) < 0) {
			err_invalid(err, dates[i], "%s must be a date like "
				    "2027-05-01", dates[i]);
			return -1;
		}
		if (v)
			snprintf(slots[i], 11, "%s", v);
	}
	if (c->start_date[0] && c->end_date[0] &&
	    strcmp(c->start_date, c->end_date) > 0) {
		err_invalid(err, "end_date", "end_date is before start_date");
		return -1;
	}
	json_t *regions = json_object_get(body, "regions");
	if (regions || creating) {
		size_t i;
		json_t *code;
		if (!json_is_array(regions) || json_array_size(regions) == 0 ||
		    json_array_size(regions) > REGIONS_MAX) {
			err_invalid(err, "regions", "regions must be a list of 1 to "
				    "%d region codes", REGIONS_MAX);
			return -1;
		}
		json_array_foreach(regions, i, code) {
			struct region r;
			const char *cs = json_string_value(code);
			if (!cs || !util_is_region_code(cs, strlen(cs)) ||
			    regions_get(s, cs, &r, err) < 0) {
				char field[32];
				snprintf(field, sizeof field, "regions[%zu]", i);
				err_invalid(err, field, "%s: no region with that "
					    "code", field);
				return -1;
			}
		}
		json_decref(c->regions);
		c->regions = json_deep_copy(regions);
	}
	json_t *tiers = json_object_get(body, "tiers");
	if (tiers) {
		size_t i;
		json_t *t;
		c->tiers = 0;
		json_array_foreach(tiers, i, t) {
			const char *ts = json_string_value(t);
			int l = ts ? config_level_parse(ts, strlen(ts)) : -1;
			if (l < 0) {
				err_invalid(err, "tiers", "tiers must list levels "
					    "(province, city, county, town, "
					    "village)");
				return -1;
			}
			c->tiers |= 1u << l;
		}
		if (!json_is_array(tiers) || !c->tiers) {
			err_invalid(err, "tiers", "tiers must list at least one "
				    "level");
			return -1;
		}
	} else if (creating) {
		c->tiers = 1u << LEVEL_VILLAGE;
	}
	json_t *aud = json_object_get(body, "audience");
	if (aud && json_is_null(aud)) {
		c->audience[0] = '\0';
	} else if (aud) {
		if (ju_get_string(body, "audience", false, 15, &v, err) < 0)
			return -1;
		if (!catalog_audience(v)) {
			err_invalid(err, "audience", "unknown audience \"%.20s\"", v);
			return -1;
		}
		snprintf(c->audience, sizeof c->audience, "%s", v);
	}
	json_t *notices = json_object_get(body, "notices");
	if (notices || creating) {
		size_t i;
		json_t *id;
		if (!json_is_array(notices) || json_array_size(notices) == 0 ||
		    json_array_size(notices) > NOTICES_MAX) {
			err_invalid(err, "notices", "notices must be a list of 1 to "
				    "%d library notice ids", NOTICES_MAX);
			return -1;
		}
		json_array_foreach(notices, i, id) {
			json_t *n = NULL;
			const char *ids = json_string_value(id);
			if (!ids || library_get(s, ids, 0, &n, err) < 0) {
				char field[32];
				snprintf(field, sizeof field, "notices[%zu]", i);
				err_invalid(err, field, "%s: no notice \"%.80s\" in "
					    "the library", field, ids ? ids : "");
				return -1;
			}
			json_decref(n);
		}
		json_decref(c->notices);
		c->notices = json_deep_copy(notices);
		c->next_index = 0;
	}
	if (!c->regions || !c->notices) {
		err_oom(err);
		return -1;
	}
	return 0;
}

static int64_t next_run(const struct campaign *c, int64_t after)
{
	struct schedule sch;
	char why[200];
	if (schedule_parse(c->schedule, &sch, why, sizeof why) < 0)
		return 0;
	int64_t start = c->start_date[0] ? date_ms(c->start_date, false) : 0;
	int64_t end = c->end_date[0] ? date_ms(c->end_date, true) : 0;
	return schedule_next(&sch, after, start, end);
}

static int save(struct store *s, struct campaign *c, const char *actor,
		bool creating, struct err *err)
{
	static const char sql_ins[] =
		"INSERT INTO campaigns(name, enabled, schedule, start_date,"
		" end_date, regions, tiers, audience, notices, next_index,"
		" next_run_at, version, created_by, created_at, updated_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, ?12,"
		" ?13, ?13)";
	static const char sql_upd[] =
		"UPDATE campaigns SET name = ?1, enabled = ?2, schedule = ?3,"
		" start_date = ?4, end_date = ?5, regions = ?6, tiers = ?7,"
		" audience = ?8, notices = ?9, next_index = ?10, next_run_at = ?11,"
		" version = version + 1, updated_at = ?13 WHERE id = ?14";
	char *regions = json_dumps(c->regions, JSON_COMPACT);
	char *notices = json_dumps(c->notices, JSON_COMPACT);
	int rc = -1;
	sqlite3_stmt *st = NULL;
	if (!regions || !notices) {
		err_oom(err);
		goto done;
	}
	st = store_stmt(s, creating ? sql_ins : sql_upd, err);
	if (!st)
		goto done;
	int64_t now = util_now_ms();
	int64_t next = c->enabled ? next_run(c, now) : 0;
	store_bind_text(st, 1, c->name);
	sqlite3_bind_int(st, 2, c->enabled);
	store_bind_text(st, 3, c->schedule);
	store_bind_text(st, 4, c->start_date[0] ? c->start_date : NULL);
	store_bind_text(st, 5, c->end_date[0] ? c->end_date : NULL);
	store_bind_text(st, 6, regions);
	sqlite3_bind_int(st, 7, (int)c->tiers);
	store_bind_text(st, 8, c->audience[0] ? c->audience : NULL);
	store_bind_text(st, 9, notices);
	sqlite3_bind_int(st, 10, c->next_index);
	if (next)
		sqlite3_bind_int64(st, 11, next);
	if (creating)
		store_bind_text(st, 12, actor);
	sqlite3_bind_int64(st, 13, now);
	if (!creating)
		sqlite3_bind_int64(st, 14, c->id);
	int step = sqlite3_step(st);
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		store_fail(s, err, "saving a campaign");
		goto done;
	}
	if (creating)
		c->id = sqlite3_last_insert_rowid(store_db(s));
	rc = 0;
done:
	free(regions);
	free(notices);
	return rc;
}

int campaigns_create(struct store *s, const struct config *cfg,
		     const json_t *body, const char *actor, json_t **out,
		     struct err *err)
{
	struct campaign c = { .enabled = true };
	(void)cfg;
	int rc = -1;
	if (apply_fields(s, body, &c, true, err) == 0 &&
	    save(s, &c, actor, true, err) == 0)
		rc = campaigns_get(s, c.id, out, err);
	campaign_free(&c);
	return rc;
}

int campaigns_update(struct store *s, const struct config *cfg, int64_t id,
		     const json_t *body, json_t **out, struct err *err)
{
	struct campaign c;
	long long version;
	(void)cfg;
	if (ju_get_int(body, "version", 1, INT32_MAX, true, &version, err) < 0 ||
	    load_campaign(s, id, &c, err) < 0)
		return -1;
	int rc = -1;
	if (version != c.version) {
		err_set(err, 409, "conflict", "version", "campaign %lld is at "
			"version %d; you edited version %lld", (long long)id,
			c.version, version);
		goto done;
	}
	if (apply_fields(s, body, &c, false, err) == 0 &&
	    save(s, &c, NULL, false, err) == 0)
		rc = campaigns_get(s, id, out, err);
done:
	campaign_free(&c);
	return rc;
}

int campaigns_delete(struct store *s, int64_t id, struct err *err)
{
	static const char sql_runs[] = "DELETE FROM campaign_runs WHERE campaign_id = ?";
	static const char sql[] = "DELETE FROM campaigns WHERE id = ?";
	json_t *c = NULL;
	if (campaigns_get(s, id, &c, err) < 0)
		return -1;
	json_decref(c);
	const char *sqls[2] = { sql_runs, sql };
	for (int i = 0; i < 2; i++) {
		sqlite3_stmt *st = store_stmt(s, sqls[i], err);
		if (!st)
			return -1;
		sqlite3_bind_int64(st, 1, id);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return store_fail(s, err, "deleting a campaign");
	}
	return 0;
}

static json_t *run_json(sqlite3_stmt *st)
{
	return json_pack("{s:i, s:o, s:s, s:i, s:i, s:i}",
			 "run", sqlite3_column_int(st, 0),
			 "at", ju_time(sqlite3_column_int64(st, 1)),
			 "notice_id", store_col_text(st, 2),
			 "deliveries", sqlite3_column_int(st, 3),
			 "suppressed", sqlite3_column_int(st, 4),
			 "quiet", sqlite3_column_int(st, 5));
}

int campaigns_runs(struct store *s, int64_t id, json_t **out, struct err *err)
{
	static const char sql[] =
		"SELECT run, at, notice_id, deliveries, suppressed, quiet FROM"
		" campaign_runs WHERE campaign_id = ? ORDER BY run DESC LIMIT 100";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return store_list(s, st, run_json, "reading runs", out, err);
}

int campaigns_preview(struct store *s, int64_t id, int n, json_t **out,
		      struct err *err)
{
	struct campaign c;
	if (load_campaign(s, id, &c, err) < 0)
		return -1;
	json_t *sends = json_array();
	size_t nn = json_array_size(c.notices);
	/* the first send is the one scheduled; the rest follow from it */
	int64_t next = c.next_run_at ? c.next_run_at
				     : next_run(&c, util_now_ms());
	for (int i = 0; sends && i < n && c.enabled && next;
	     i++, next = next_run(&c, next)) {
		json_array_append_new(sends, json_pack(
			"{s:o, s:O}", "at", ju_time(next), "notice_id",
			json_array_get(c.notices, (size_t)(c.next_index + i) % nn)));
	}
	*out = sends ? json_pack("{s:I, s:o}", "campaign_id", (json_int_t)id,
				 "sends", sends)
		     : NULL;
	campaign_free(&c);
	return *out ? 0 : (err_oom(err), -1);
}

/* ---- running ---- */

struct target {
	int64_t channel;
	char kind[8];
	char region[REGION_CODE_LEN + 1];
	char name[REGION_NAME_MAX + 1];
	char parent[REGION_CODE_LEN + 1];
	char path[REGION_PATH_MAX + 1];
	char locale[36], audience[16];
	int level;
	bool busy;
};

static char *notice_payload(const struct campaign *c, int run,
			    const json_t *notice, const struct target *t,
			    const char *message_id, const char *quiet,
			    int64_t now, int64_t expires)
{
	char issued[40], exp[40];
	util_format_local(now, issued, sizeof issued);
	util_format_local(expires, exp, sizeof exp);
	const char *hazard = json_string_value(json_object_get(notice, "hazard"));
	const struct hazard *h = hazard ? catalog_hazard(hazard) : NULL;
	json_t *brief = json_pack("{s:O, s:O, s:O, s:O, s:O}",
				  "id", json_object_get(notice, "id"),
				  "title", json_object_get(notice, "title"),
				  "summary", json_object_get(notice, "summary"),
				  "authority", json_object_get(notice, "authority"),
				  "url", json_object_get(notice, "url"));
	json_t *o = json_pack(
		"{s:s, s:s, s:i, s:I, s:i, s:s, s:s, s:s?, s:s, s:n, s:s, s:s,"
		" s:{s:s, s:o}, s:s, s:s, s:O, s:O, s:O, s:[o], s:s, s:s}",
		"schema", "scicast.alert/1", "message_id", message_id,
		"emergency_id", 0, "campaign_id", (json_int_t)c->id,
		"revision", run, "msg_type", "notice", "status", "actual",
		"hazard", hazard,
		"hazard_name", h ? h->name_zh : "",
		"severity",
		"colour", "#2E7D32",
		"tier", config_level_name(t->level),
		"region", "code", t->region, "name", ju_string(t->name),
		"locale", json_string_value(json_object_get(notice, "locale")),
		"audience", t->audience,
		"title", json_object_get(notice, "title"),
		"body", json_object_get(notice, "summary"),
		"tts", json_object_get(notice, "summary"),
		"notices", brief,
		"issued", issued, "expires", exp);
	/* for a screen that replays it later: when not to speak */
	if (o)
		json_object_set_new(o, "quiet_hours", strcmp(quiet, "none") == 0
				    ? json_null() : json_string(quiet));
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

static int load_targets(struct store *s, const struct config *cfg,
			const struct campaign *c, struct target **out, size_t *n,
			struct err *err)
{
	/* a subtree as one range of the path index (see load_channels_below
	 * in plan.c) */
	static const char sql[] =
		"SELECT ch.id, ch.kind, r.code, r.name, coalesce(r.parent_code, ''),"
		" r.path, ch.locale, ch.audience, r.level,"
		" EXISTS (SELECT 1 FROM deliveries d JOIN emergencies e"
		"  ON e.id = d.emergency_id WHERE d.channel_id = ch.id"
		"  AND e.status = 'active' AND d.escalation = 0)"
		" FROM regions r JOIN channels ch ON ch.region_code = r.code"
		" WHERE r.path >= ?1 AND r.path < ?1 || '0'"
		" AND ch.enabled = 1 AND ch.role = 'notify'"
		" AND (ch.auto = 0 OR ?2) AND (?3 IS NULL OR ch.audience = ?3)"
		" ORDER BY r.path, ch.id";
	size_t cap = 0;
	size_t i;
	json_t *code;
	*out = NULL;
	*n = 0;
	json_array_foreach(c->regions, i, code) {
		struct region top;
		if (regions_get(s, json_string_value(code), &top, err) < 0)
			return -1;
		sqlite3_stmt *st = store_stmt(s, sql, err);
		if (!st)
			return -1;
		store_bind_text(st, 1, top.path);
		sqlite3_bind_int(st, 2, cfg->channels_auto_mqtt);
		store_bind_text(st, 3, c->audience[0] ? c->audience : NULL);
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			int level = sqlite3_column_int(st, 8);
			if (!(c->tiers & (1u << level)))
				continue;
			int64_t chid = sqlite3_column_int64(st, 0);
			bool dup = false;
			for (size_t k = 0; k < *n && !dup; k++)
				dup = (*out)[k].channel == chid;
			if (dup)
				continue; /* overlapping regions */
			if (*n == cap) {
				cap = cap ? cap * 2 : 64;
				struct target *g = realloc(*out, cap * sizeof *g);
				if (!g) {
					sqlite3_reset(st);
					err_oom(err);
					return -1;
				}
				*out = g;
			}
			struct target *t = &(*out)[(*n)++];
			memset(t, 0, sizeof *t);
			t->channel = chid;
			snprintf(t->kind, sizeof t->kind, "%s", store_col_text(st, 1));
			snprintf(t->region, sizeof t->region, "%s", store_col_text(st, 2));
			snprintf(t->name, sizeof t->name, "%s", store_col_text(st, 3));
			snprintf(t->parent, sizeof t->parent, "%s", store_col_text(st, 4));
			snprintf(t->path, sizeof t->path, "%s", store_col_text(st, 5));
			snprintf(t->locale, sizeof t->locale, "%s", store_col_text(st, 6));
			snprintf(t->audience, sizeof t->audience, "%s", store_col_text(st, 7));
			t->level = level;
			t->busy = sqlite3_column_int(st, 9);
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return store_fail(s, err, "finding campaign channels");
	}
	return 0;
}

/* A stale run still waiting (a broker down for days) gives way to the
 * newer notice rather than both going out. */
static int supersede_older_runs(struct store *s, int64_t campaign, int run,
				struct err *err)
{
	static const char sql[] =
		"UPDATE deliveries SET state = 'superseded' WHERE campaign_id = ?"
		" AND revision < ? AND state IN ('pending', 'failed')";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, campaign);
	sqlite3_bind_int(st, 2, run);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0
				 : store_fail(s, err, "superseding older runs");
}

/* The run's message for the target's region; *message is its row id. */
static int write_message(struct store *s, const struct campaign *c, int run,
			 const json_t *notice, const struct target *t,
			 const char *quiet, int64_t now, int64_t expires,
			 int64_t *message, struct err *err)
{
	static const char sql[] =
		"INSERT INTO messages(emergency_id, revision, message_id,"
		" region_code, tier, locale, audience, msg_type, expires_at,"
		" payload, campaign_id) VALUES (0, ?, ?, ?, ?, ?, ?, 'notice', ?,"
		" ?, ?)";
	char message_id[96];
	snprintf(message_id, sizeof message_id, "c%lld-n%d-%s",
		 (long long)c->id, run, t->region);
	char *payload = notice_payload(c, run, notice, t, message_id, quiet,
				       now, expires);
	if (!payload) {
		err_oom(err);
		return -1;
	}
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st) {
		free(payload);
		return -1;
	}
	sqlite3_bind_int(st, 1, run);
	store_bind_text(st, 2, message_id);
	store_bind_text(st, 3, t->region);
	sqlite3_bind_int(st, 4, t->level);
	store_bind_text(st, 5, t->locale);
	store_bind_text(st, 6, t->audience);
	sqlite3_bind_int64(st, 7, expires);
	store_bind_text(st, 8, payload);
	sqlite3_bind_int64(st, 9, c->id);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	free(payload);
	if (rc != SQLITE_DONE)
		return store_fail(s, err, "writing a campaign message");
	*message = sqlite3_last_insert_rowid(store_db(s));
	return 0;
}

static int write_delivery(struct store *s, const struct campaign *c, int run,
			  int64_t message, const struct target *t, int64_t now,
			  struct err *err)
{
	static const char sql[] =
		"INSERT INTO deliveries(message, emergency_id, revision,"
		" channel_id, kind, region_code, tier, town_code, priority,"
		" state, next_attempt_at, created_at, campaign_id)"
		" VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, message);
	sqlite3_bind_int(st, 2, run);
	sqlite3_bind_int64(st, 3, t->channel);
	store_bind_text(st, 4, t->kind);
	store_bind_text(st, 5, t->region);
	sqlite3_bind_int(st, 6, t->level);
	store_bind_text(st, 7, t->level == LEVEL_VILLAGE ? t->parent
			       : t->level == LEVEL_TOWN ? t->region : NULL);
	sqlite3_bind_int(st, 8, CAMPAIGN_PRIORITY);
	sqlite3_bind_int64(st, 9, now);
	sqlite3_bind_int64(st, 10, now);
	sqlite3_bind_int64(st, 11, c->id);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0
				 : store_fail(s, err, "writing a campaign delivery");
}

struct run_counts {
	long sent, suppressed, quiet;
};

/* The run's row, and the campaign moved on to its next notice and time. */
static int record_run(struct store *s, const struct campaign *c, int run,
		      const char *notice_id, const struct run_counts *n,
		      int64_t now, struct err *err)
{
	static const char sql_run[] =
		"INSERT INTO campaign_runs(campaign_id, run, at, notice_id,"
		" deliveries, suppressed, quiet) VALUES (?, ?, ?, ?, ?, ?, ?)";
	static const char sql_camp[] =
		"UPDATE campaigns SET next_index = ?2, runs = ?3, last_run_at = ?4,"
		" next_run_at = ?5 WHERE id = ?1";
	sqlite3_stmt *st = store_stmt(s, sql_run, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, c->id);
	sqlite3_bind_int(st, 2, run);
	sqlite3_bind_int64(st, 3, now);
	store_bind_text(st, 4, notice_id);
	sqlite3_bind_int64(st, 5, n->sent);
	sqlite3_bind_int64(st, 6, n->suppressed);
	sqlite3_bind_int64(st, 7, n->quiet);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, err, "recording a campaign run");
	int64_t next = c->enabled ? next_run(c, now) : 0;
	st = store_stmt(s, sql_camp, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, c->id);
	sqlite3_bind_int(st, 2, (int)((size_t)(c->next_index + 1) %
				      json_array_size(c->notices)));
	sqlite3_bind_int(st, 3, run);
	sqlite3_bind_int64(st, 4, now);
	if (next)
		sqlite3_bind_int64(st, 5, next);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0
				 : store_fail(s, err, "scheduling the next run");
}

/* One run of a campaign, in the caller's transaction: a message per
 * region, a delivery per channel, but none to a channel in an emergency
 * or a region in its quiet hours. */
static int run_once(struct store *s, const struct config *cfg,
		    struct campaign *c, int64_t now, json_t **out,
		    struct err *err)
{
	struct target *targets = NULL;
	struct quiet_rule *quiet = NULL;
	struct run_counts n = { 0 };
	size_t nt = 0, nq = 0;
	json_t *notice = NULL;
	int rc = -1;
	int run = c->runs + 1;
	const char *notice_id = json_string_value(json_array_get(
		c->notices, (size_t)c->next_index % json_array_size(c->notices)));
	if (library_get(s, notice_id, 0, &notice, err) < 0) {
		err_prefix(err, "campaign %lld: ", (long long)c->id);
		goto done;
	}
	if (load_targets(s, cfg, c, &targets, &nt, err) < 0 ||
	    load_quiet(s, &quiet, &nq, err) < 0 ||
	    supersede_older_runs(s, c->id, run, err) < 0)
		goto done;
	int minute = local_minute(now);
	int64_t expires = now + cfg->campaigns_notice_ttl_ms;
	const char *last_region = "";
	int64_t message = 0;
	for (size_t i = 0; i < nt; i++) {
		const struct target *t = &targets[i];
		if (t->busy) {
			n.suppressed++;
			continue;
		}
		int qs, qe;
		quiet_window(cfg, quiet, nq, t->path, &qs, &qe);
		if (in_quiet(minute, qs, qe)) {
			n.quiet++;
			continue;
		}
		/* targets come sorted by region: one message per region */
		if (strcmp(t->region, last_region) != 0) {
			char window[32];
			quiet_text(qs, qe, window, sizeof window);
			if (write_message(s, c, run, notice, t, window, now,
					  expires, &message, err) < 0)
				goto done;
			last_region = t->region;
		}
		if (write_delivery(s, c, run, message, t, now, err) < 0)
			goto done;
		n.sent++;
	}
	if (record_run(s, c, run, notice_id, &n, now, err) < 0)
		goto done;
	log_info("campaign %lld run %d: %s to %ld channel(s); %ld in an "
		 "emergency, %ld in quiet hours", (long long)c->id, run,
		 notice_id, n.sent, n.suppressed, n.quiet);
	if (out)
		*out = json_pack("{s:I, s:i, s:s, s:I, s:I, s:I}", "campaign_id",
				 (json_int_t)c->id, "run", run, "notice_id",
				 notice_id, "deliveries", (json_int_t)n.sent,
				 "suppressed", (json_int_t)n.suppressed, "quiet",
				 (json_int_t)n.quiet);
	if (out && !*out) {
		err_oom(err);
		goto done;
	}
	rc = 0;
done:
	json_decref(notice);
	free(targets);
	free(quiet);
	return rc;
}

int campaigns_run_now(struct store *s, const struct config *cfg, int64_t id,
		      json_t **out, struct err *err)
{
	struct campaign c;
	if (load_campaign(s, id, &c, err) < 0)
		return -1;
	int rc = run_once(s, cfg, &c, util_now_ms(), out, err);
	campaign_free(&c);
	return rc;
}

static void skip_run(struct store *s, const struct campaign *c, int64_t now)
{
	static const char sql[] =
		"UPDATE campaigns SET next_run_at = ?2 WHERE id = ?1";
	struct err e;
	int64_t next = next_run(c, now);
	sqlite3_stmt *st = store_stmt(s, sql, &e);
	if (!st) {
		log_error("campaign %lld: %s", (long long)c->id, e.message);
		return;
	}
	sqlite3_bind_int64(st, 1, c->id);
	if (next)
		sqlite3_bind_int64(st, 2, next);
	if (sqlite3_step(st) != SQLITE_DONE)
		log_error("campaign %lld: could not move to the next run: %s",
			  (long long)c->id, sqlite3_errmsg(store_db(s)));
	sqlite3_reset(st);
}

int campaigns_due(struct store *s, const struct config *cfg, int64_t now,
		  struct err *err)
{
	static const char sql[] = CAMPAIGN_COLUMNS
		" WHERE enabled = 1 AND next_run_at IS NOT NULL AND next_run_at <= ?"
		" ORDER BY next_run_at LIMIT 20";
	int64_t ids[20];
	int n = 0, ran = 0;
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 20)
		ids[n++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_fail(s, err, "finding due campaigns");
	for (int i = 0; i < n; i++) {
		struct campaign c = { 0 };
		struct err e;
		if (store_begin(s, &e) < 0) {
			log_error("campaign %lld: %s", (long long)ids[i], e.message);
			continue;
		}
		if (load_campaign(s, ids[i], &c, &e) < 0 ||
		    run_once(s, cfg, &c, now, NULL, &e) < 0 ||
		    store_commit(s, &e) < 0) {
			store_rollback(s);
			log_error("campaign %lld: the run failed: %s",
				  (long long)ids[i], e.message);
			/* Skip to the next slot, or a broken campaign would
			 * fail again on every tick. */
			if (c.id)
				skip_run(s, &c, now);
			campaign_free(&c);
			continue;
		}
		campaign_free(&c);
		ran++;
	}
	return ran;
}
