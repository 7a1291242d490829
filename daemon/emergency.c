/* emergency: the life of a declaration. Every change is a revision written
 * with its messages and deliveries in one transaction; the API answers
 * only after COMMIT, so "declared" means every planned delivery is on
 * disk. Older revisions' deliveries that have not gone out are superseded
 * in the same transaction, so a screen is never sent an alert that was
 * already replaced. */
#define _GNU_SOURCE
#include "emergency.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "catalog.h"
#include "channels.h"
#include "deliveries.h"
#include "jsonutil.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "plan.h"
#include "regions.h"
#include "util.h"

#define AREA_MAX 10000
#define HEADLINE_MAX 200
#define DESCRIPTION_MAX 4000
#define INSTRUCTION_MAX 2000
#define EXPIRY_MAX_MS (30LL * 86400 * 1000)

/* What a declaration or revision says, after validation. */
struct decl {
	const struct hazard *hazard;
	int severity;
	const char *headline, *description, *instruction, *locale;
	bool exercise;
	int64_t expires_ms;
	char (*area)[REGION_CODE_LEN + 1];
	size_t narea;
	char *area_json;       /* the codes as stored */
	/* texts carried over from the revision before (owned copies) */
	char *own[4];
};

static void decl_free(struct decl *d)
{
	free(d->area);
	free(d->area_json);
	for (int i = 0; i < 4; i++)
		free(d->own[i]);
	memset(d, 0, sizeof *d);
}

static int parse_area(const json_t *a, struct decl *d, struct err *err)
{
	if (!json_is_array(a)) {
		err_invalid(err, "area", "area must be a list of region codes");
		return -1;
	}
	size_t n = json_array_size(a);
	if (n == 0) {
		err_invalid(err, "area", "area must not be empty");
		return -1;
	}
	if (n > AREA_MAX) {
		err_invalid(err, "area", "area has more than %d codes: name the "
			    "towns or the city instead", AREA_MAX);
		return -1;
	}
	d->area = calloc(n, sizeof *d->area);
	if (!d->area) {
		err_oom(err);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(a, i);
		const char *code = json_string_value(v);
		char field[24];
		snprintf(field, sizeof field, "area[%zu]", i);
		if (!code || !util_is_region_code(code, strlen(code))) {
			err_invalid(err, field, "area[%zu] must be a 12-digit "
				    "region code", i);
			return -1;
		}
		bool dup = false;
		for (size_t k = 0; k < d->narea && !dup; k++)
			dup = strcmp(d->area[k], code) == 0;
		if (!dup)
			memcpy(d->area[d->narea++], code, REGION_CODE_LEN + 1);
	}
	json_t *codes = json_array();
	for (size_t i = 0; codes && i < d->narea; i++)
		json_array_append_new(codes, json_string(d->area[i]));
	d->area_json = codes ? json_dumps(codes, JSON_COMPACT) : NULL;
	json_decref(codes);
	if (!d->area_json) {
		err_oom(err);
		return -1;
	}
	return 0;
}

static int parse_expiry(const json_t *body, int64_t now, bool required,
			int64_t *out, struct err *err)
{
	const char *at, *dur;
	if (ju_get_string(body, "expires_at", false, 40, &at, err) < 0 ||
	    ju_get_string(body, "duration", false, 20, &dur, err) < 0)
		return -1;
	if (at && dur) {
		err_invalid(err, "duration", "give expires_at or duration, not "
			    "both");
		return -1;
	}
	if (!at && !dur) {
		if (required) {
			err_invalid(err, "expires_at", "expires_at (a time) or "
				    "duration (like 6h) is required");
			return -1;
		}
		return 0;
	}
	if (at) {
		int64_t ms;
		if (util_parse_iso(at, &ms) < 0) {
			err_invalid(err, "expires_at", "expires_at must be a time "
				    "like 2026-11-30T10:00:00+08:00");
			return -1;
		}
		if (ms <= now) {
			err_invalid(err, "expires_at", "expires_at is in the past");
			return -1;
		}
		if (ms - now > EXPIRY_MAX_MS) {
			err_invalid(err, "expires_at", "expires_at is more than 30 "
				    "days away");
			return -1;
		}
		*out = ms;
	} else {
		int64_t ms;
		if (util_parse_duration_ms(dur, &ms) < 0 || ms <= 0 ||
		    ms > EXPIRY_MAX_MS) {
			err_invalid(err, "duration", "duration must be like 30m, "
				    "6h or 2d, at most 30 days");
			return -1;
		}
		*out = now + ms;
	}
	return 0;
}

static int parse_texts(const json_t *body, struct decl *d, bool required,
		       struct err *err)
{
	const char *sev = NULL, *hazard = NULL, *v;
	if (ju_get_string(body, "hazard", required, 31, &hazard, err) < 0)
		return -1;
	if (hazard && !(d->hazard = catalog_hazard(hazard))) {
		err_invalid(err, "hazard", "unknown hazard \"%.40s\" (see GET "
			    "/api/v1/hazards)", hazard);
		return -1;
	}
	if (ju_get_string(body, "severity", required, 10, &sev, err) < 0)
		return -1;
	if (sev && (d->severity = config_severity_parse(sev)) < 0) {
		err_invalid(err, "severity", "severity must be blue, yellow, "
			    "orange or red");
		return -1;
	}
	if (ju_get_string(body, "headline", required, HEADLINE_MAX, &v, err) < 0)
		return -1;
	if (v)
		d->headline = v;
	if (ju_get_string(body, "description", false, DESCRIPTION_MAX, &v,
			  err) < 0)
		return -1;
	if (v)
		d->description = v;
	if (ju_get_string(body, "instruction", false, INSTRUCTION_MAX, &v,
			  err) < 0)
		return -1;
	if (v)
		d->instruction = v;
	if (ju_get_string(body, "locale", false, 35, &v, err) < 0)
		return -1;
	if (v) {
		if (channels_check_locale(v, "locale", err) < 0)
			return -1;
		d->locale = v;
	}
	return 0;
}

/* ---- writing ---- */

static int insert_revision(struct store *s, int64_t id, int revision,
			   const char *msg_type, const struct decl *d,
			   int64_t now, const char *actor, const char *reason,
			   long planned, struct err *err)
{
	static const char sql[] =
		"INSERT INTO revisions(emergency_id, revision, msg_type,"
		" severity, headline, description, instruction, locale, area,"
		" expires_at, issued_at, author, reason, planned)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, revision);
	store_bind_text(st, 3, msg_type);
	store_bind_text(st, 4, config_severity_name(d->severity));
	store_bind_text(st, 5, d->headline);
	store_bind_text(st, 6, d->description);
	store_bind_text(st, 7, d->instruction);
	store_bind_text(st, 8, d->locale);
	store_bind_text(st, 9, d->area_json);
	sqlite3_bind_int64(st, 10, d->expires_ms);
	sqlite3_bind_int64(st, 11, now);
	store_bind_text(st, 12, actor);
	store_bind_text(st, 13, reason);
	sqlite3_bind_int64(st, 14, planned);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, err, "writing a revision");
	return 0;
}

/* What is planned so far, and where a staged plan stands: cursor is the
 * path of the last region committed, NULL once the plan is whole. */
static int set_planned(struct store *s, int64_t id, int revision,
		       long planned, const char *cursor, struct err *err)
{
	static const char sql[] = "UPDATE revisions SET planned = ?3,"
				  " plan_cursor = ?4"
				  " WHERE emergency_id = ?1 AND revision = ?2";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, revision);
	sqlite3_bind_int64(st, 3, planned);
	store_bind_text(st, 4, cursor);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, err, "writing a revision");
}

/* ---- plans committed in stages ----
 *
 * A big plan (PLAN_STAGE_MIN regions or more) of a declaration or update
 * through the API commits in stages: the first holds the emergency, the
 * revision and the first PLAN_STAGE_FIRST regions' deliveries, which go
 * out while the rest is planned; the 201 comes after the last stage, as
 * before. Each stage records how far the plan got (revisions.plan_cursor);
 * a plan stopped in between (a crash, a full disk, an I/O error) is
 * finished by emergency_resume_plans on the main thread: at the next
 * start, and once a minute while running. A full disk is foreseen
 * before the first stage commits: its pages per region give the whole
 * plan's, and a plan that would not fit is refused with nothing stored. */

/* Held by whoever runs a staged plan. Why it is shared: the API's writer
 * thread plans declarations, the main thread finishes interrupted plans,
 * and between two stages an unfinished plan looks the same to both. Both
 * only try it: the writer plans in one transaction when it is taken. */
static pthread_mutex_t staged_lock = PTHREAD_MUTEX_INITIALIZER;

struct staging {
	const struct emergency_ctx *c;
	int64_t id;
	int revision;
	long base;            /* deliveries planned before a resume */
	bool started;         /* a stage was committed */
	bool foresee;         /* check the room before the first stage */
	int64_t used_before;  /* pages in use when the plan began */
	bool locked;          /* holds staged_lock */
};

static void staging_end(struct staging *sg)
{
	if (sg->locked)
		pthread_mutex_unlock(&staged_lock);
	sg->locked = false;
}

/* The plan so far took (used - used_before) pages for `done` regions; the
 * rest at that rate, and a quarter more (its villages' messages are
 * longer than the towns' that came first), must fit both the database's
 * limit and the disk, where the WAL holds it once more until a
 * checkpoint. */
static int foresee_room(struct staging *sg, long done, long left,
			struct err *err)
{
	struct store_room room;
	if (store_room(sg->c->store, &room, err) < 0)
		return -1;
	int64_t grown = room.used_pages - sg->used_before;
	if (done <= 0 || grown <= 0 || left <= 0)
		return 0;
	int64_t need = grown * left / done;
	need += need / 4;
	if (room.max_pages > 0 && room.used_pages + need > room.max_pages) {
		err_set(err, 507, "storage_full", "", "writing the plan: the "
			"database is full ([store] max_pages %lld, %lld in use; "
			"this plan needs about %lld more); nothing was stored: "
			"free space and try again", (long long)room.max_pages,
			(long long)room.used_pages, (long long)need);
		return -1;
	}
	int64_t bytes = need * room.page_size * 2;
	if (room.disk_free >= 0 && bytes > room.disk_free) {
		err_set(err, 507, "storage_full", "", "writing the plan: the "
			"database is full: its disk has %lld MB free and this "
			"plan needs about %lld MB; nothing was stored: free disk "
			"space and try again", (long long)(room.disk_free >> 20),
			(long long)(bytes >> 20));
		return -1;
	}
	return 0;
}

/* Between stages others write: an expiry may have ended the emergency,
 * and a revision that is no longer current is not planned further. */
static int still_current(struct store *s, int64_t id, int revision,
			 struct err *err)
{
	static const char sql[] = "SELECT revision FROM emergencies WHERE id = ?";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	int current = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, err, "reading the emergency");
	if (current != revision) {
		err_conflict(err, "emergency %lld changed while revision %d "
			     "was being planned: its plan stops here",
			     (long long)id, revision);
		return -1;
	}
	return 0;
}

static int stage_commit(void *arg, const char *last_path,
			const struct plan_result *so_far, long done,
			long left, struct err *err)
{
	struct staging *sg = arg;
	struct store *s = sg->c->store;
	if (!sg->started) {
		char object[32], summary[160];
		snprintf(object, sizeof object, "emergency/%lld",
			 (long long)sg->id);
		snprintf(summary, sizeof summary, "revision %d: its first %ld "
			 "deliveries go out while the rest of %ld regions is "
			 "planned", sg->revision, so_far->deliveries, done + left);
		if ((sg->foresee && foresee_room(sg, done, left, err) < 0) ||
		    audit_write(s, sg->c->actor, sg->c->role, "emergency.plan",
				object, summary, sg->c->remote, err) < 0 ||
		    (sg->c->first_stage &&
		     sg->c->first_stage(sg->c->first_stage_arg, sg->id,
					sg->revision, err) < 0))
			return -1;
	}
	if (set_planned(s, sg->id, sg->revision, sg->base + so_far->deliveries,
			last_path, err) < 0 ||
	    store_commit_stage(s, err) < 0)
		return -1;
	sg->started = true;
	metrics_add(M_PLAN_STAGES, 1);
	if (sg->c->wake)
		sg->c->wake(sg->c->wake_arg);
	if (sg->c->stopping && atomic_load(sg->c->stopping)) {
		err_set(err, 503, "unavailable", "", "scicastd is stopping");
		return -1;
	}
	return still_current(s, sg->id, sg->revision, err);
}

/* Sets a plan up to commit in stages, if the context allows it and no
 * other staged plan runs. Call before the first write. */
static void staging_begin(const struct emergency_ctx *c, struct staging *sg,
			  int64_t id, int revision, struct plan_request *rq)
{
	memset(sg, 0, sizeof *sg);
	if (!c->staged || pthread_mutex_trylock(&staged_lock) != 0)
		return;
	sg->locked = true;
	struct store_room room = { 0 };
	struct err e;
	sg->c = c;
	sg->id = id;
	sg->revision = revision;
	/* without a first reading the plan is not foreseen, only written */
	sg->foresee = store_room(c->store, &room, &e) == 0;
	sg->used_before = room.used_pages;
	rq->stage = stage_commit;
	rq->stage_arg = sg;
}

/* After a staged plan failed half-way, the error says what is out. */
static void staging_failed(const struct staging *sg, struct err *err)
{
	if (!sg->started)
		return;
	/* the cause is cut to what fits beside the explanation */
	char why[300];
	snprintf(why, sizeof why, "%.299s", err->message);
	snprintf(err->message, sizeof err->message, "emergency %lld revision "
		 "%d is committed and its first deliveries are going out, but "
		 "planning the rest stopped: %.299s. scicastd finishes the "
		 "plan by itself (within a minute, or at its next start)",
		 (long long)sg->id, sg->revision, why);
	log_error("%s", err->message);
}

static void fill_request(struct plan_request *rq, const struct decl *d,
			 const struct emergency_ctx *c, int64_t id,
			 int revision, const char *msg_type, int64_t now)
{
	memset(rq, 0, sizeof *rq);
	rq->mode = PLAN_ALERT;
	rq->emergency_id = id;
	rq->revision = revision;
	rq->msg_type = msg_type;
	rq->hazard = d->hazard;
	rq->severity = d->severity;
	rq->headline = d->headline;
	rq->description = d->description;
	rq->instruction = d->instruction;
	rq->locale = d->locale;
	rq->exercise = d->exercise;
	rq->issued_ms = now;
	rq->expires_ms = d->expires_ms;
	rq->area = (const char (*)[REGION_CODE_LEN + 1])d->area;
	rq->narea = d->narea;
	rq->tiers = c->cfg->policy[d->severity].tiers;
	rq->public_url = c->public_url;
	/* emergencies go before everyday notices; red before blue */
	rq->priority = 100 + d->severity;
}

static json_t *answer(int64_t id, int revision, const char *status,
		      const struct plan_result *r, bool details)
{
	return json_pack("{s:I, s:i, s:s, s:o}", "id", (json_int_t)id,
			 "revision", revision, "status", status, "planned",
			 plan_result_json(r, details));
}

int emergency_declare(const struct emergency_ctx *c, const json_t *body,
		      bool dry_run, json_t **out, struct err *err)
{
	static const char *const allowed[] = {
		"hazard", "severity", "headline", "description", "instruction",
		"area", "expires_at", "duration", "locale", "exercise", NULL
	};
	static const char sql[] =
		"INSERT INTO emergencies(hazard, status, revision, severity,"
		" exercise, expires_at, created_at, updated_at, created_by)"
		" VALUES (?, 'active', 1, ?, ?, ?, ?, ?, ?)";
	struct decl d = { .locale = c->cfg->templates_default_locale };
	struct plan_result r = { 0 };
	struct staging sg = { 0 };
	int64_t now = util_now_ms(), id = 0;
	int rc = -1;
	if (ju_check_object(body, allowed, err) < 0 ||
	    parse_texts(body, &d, true, err) < 0 ||
	    ju_get_bool(body, "exercise", &d.exercise, err) < 0)
		goto done;
	json_t *area = json_object_get(body, "area");
	if (!area) {
		err_invalid(err, "area", "area (a list of region codes) is "
			    "required");
		goto done;
	}
	if (parse_area(area, &d, err) < 0 ||
	    parse_expiry(body, now, true, &d.expires_ms, err) < 0)
		goto done;
	struct plan_request rq;
	if (dry_run) {
		fill_request(&rq, &d, c, 0, 1, "alert", now);
		if (plan_run(c->store, c->cfg, &rq, true, &r, err) < 0)
			goto done;
		*out = answer(0, 1, "dry_run", &r, true);
		rc = *out ? 0 : (err_oom(err), -1);
		goto done;
	}
	if (store_begin(c->store, err) < 0)
		goto done;
	sqlite3_stmt *st = store_stmt(c->store, sql, err);
	if (!st)
		goto rollback;
	store_bind_text(st, 1, d.hazard->code);
	store_bind_text(st, 2, config_severity_name(d.severity));
	sqlite3_bind_int(st, 3, d.exercise);
	sqlite3_bind_int64(st, 4, d.expires_ms);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, now);
	store_bind_text(st, 7, c->actor);
	int step = sqlite3_step(st);
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		store_fail(c->store, err, "writing the emergency");
		goto rollback;
	}
	id = sqlite3_last_insert_rowid(store_db(c->store));
	if (idem_remember(c->store, c->idem, id, 0, err) < 0)
		goto rollback;
	fill_request(&rq, &d, c, id, 1, "alert", now);
	staging_begin(c, &sg, id, 1, &rq);
	int64_t cpu0 = util_thread_cpu_us();
	if (insert_revision(c->store, id, 1, "alert", &d, now, c->actor, NULL,
			    0, err) < 0 ||
	    plan_run(c->store, c->cfg, &rq, false, &r, err) < 0 ||
	    set_planned(c->store, id, 1, r.deliveries, NULL, err) < 0 ||
	    store_commit(c->store, err) < 0) {
		staging_failed(&sg, err);
		goto rollback;
	}
	metrics_add(M_EMERGENCIES_DECLARED, 1);
	log_info("emergency %lld declared by %s: %s %s, %zu area code(s), "
		 "%ld deliveries, planned in %lld ms (%lld ms CPU)", (long long)id,
		 c->actor, d.hazard->code, config_severity_name(d.severity),
		 d.narea, r.deliveries, (long long)(util_now_ms() - now),
		 (long long)((util_thread_cpu_us() - cpu0) / 1000));
	*out = answer(id, 1, "active", &r, false);
	rc = *out ? 0 : (err_oom(err), -1);
	goto done;
rollback:
	store_rollback(c->store);
done:
	staging_end(&sg);
	plan_result_free(&r);
	decl_free(&d);
	return rc;
}

/* A revision's texts from a row: severity, headline, description,
 * instruction, locale, area, expires_at from column col on. The hazard
 * and exercise come from the emergency, set before. */
static int decl_from_row(sqlite3_stmt *st, int col, struct decl *d,
			 struct err *err)
{
	d->severity = config_severity_parse(store_col_text(st, col));
	for (int i = 0; i < 4; i++)
		d->own[i] = sqlite3_column_type(st, col + 1 + i) == SQLITE_NULL
				    ? NULL
				    : strdup(store_col_text(st, col + 1 + i));
	d->headline = d->own[0];
	d->description = d->own[1];
	d->instruction = d->own[2];
	d->locale = d->own[3];
	d->expires_ms = sqlite3_column_int64(st, col + 6);
	json_t *area = json_loads(store_col_text(st, col + 5), 0, NULL);
	int rc = -1;
	if (!d->hazard || d->severity < 0 || !d->headline || !d->locale)
		err_internal(err, "a stored revision is unreadable");
	else if (area)
		rc = parse_area(area, d, err);
	else
		err_oom(err);
	json_decref(area);
	return rc;
}

/* The current state of an emergency, as a decl to start a revision from. */
static int load_current(struct store *s, int64_t id, struct decl *d,
			int *revision, char status[16], struct err *err)
{
	static const char sql[] =
		"SELECT e.status, e.revision, e.hazard, e.exercise, r.severity,"
		" r.headline, r.description, r.instruction, r.locale, r.area,"
		" r.expires_at FROM emergencies e JOIN revisions r"
		" ON r.emergency_id = e.id AND r.revision = e.revision"
		" WHERE e.id = ?";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE) {
			err_not_found(err, "no emergency %lld", (long long)id);
			return -1;
		}
		return store_fail(s, err, "reading the emergency");
	}
	snprintf(status, 16, "%s", store_col_text(st, 0));
	*revision = sqlite3_column_int(st, 1);
	d->hazard = catalog_hazard(store_col_text(st, 2));
	d->exercise = sqlite3_column_int(st, 3);
	rc = decl_from_row(st, 4, d, err);
	sqlite3_reset(st);
	return rc;
}

static int set_emergency(struct store *s, int64_t id, int revision,
			 const char *status, const struct decl *d, int64_t now,
			 struct err *err)
{
	static const char sql[] =
		"UPDATE emergencies SET revision = ?2, status = ?3,"
		" severity = ?4, expires_at = ?5, updated_at = ?6 WHERE id = ?1";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, revision);
	store_bind_text(st, 3, status);
	store_bind_text(st, 4, config_severity_name(d->severity));
	sqlite3_bind_int64(st, 5, d->expires_ms);
	sqlite3_bind_int64(st, 6, now);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, err, "updating the emergency");
}

int emergency_revise(const struct emergency_ctx *c, int64_t id,
		     const json_t *body, bool dry_run, json_t **out,
		     struct err *err)
{
	static const char *const allowed[] = {
		"severity", "headline", "description", "instruction", "area",
		"expires_at", "duration", "locale", NULL
	};
	struct decl d = { 0 };
	struct plan_result r = { 0 };
	struct staging sg = { 0 };
	char status[16];
	int revision, rc = -1;
	int64_t now = util_now_ms();
	if (ju_check_object(body, allowed, err) < 0)
		return -1;
	if (json_object_size(body) == 0) {
		err_invalid(err, "", "a revision changes something: give at "
			    "least one of severity, headline, description, "
			    "instruction, area, expires_at, duration, locale");
		return -1;
	}
	if (store_begin(c->store, err) < 0)
		return -1;
	if (load_current(c->store, id, &d, &revision, status, err) < 0)
		goto rollback;
	if (strcmp(status, "active") != 0) {
		err_conflict(err, "emergency %lld is %s: it can no longer be "
			     "updated", (long long)id, status);
		goto rollback;
	}
	if (parse_texts(body, &d, false, err) < 0 ||
	    parse_expiry(body, now, false, &d.expires_ms, err) < 0)
		goto rollback;
	json_t *area = json_object_get(body, "area");
	if (area) {
		free(d.area);
		free(d.area_json);
		d.area = NULL;
		d.area_json = NULL;
		d.narea = 0;
		if (parse_area(area, &d, err) < 0)
			goto rollback;
	}
	struct plan_request rq;
	int next = revision + 1;
	fill_request(&rq, &d, c, id, next, "update", now);
	rq.cancel_out_of_scope = true;
	if (dry_run) {
		if (plan_run(c->store, c->cfg, &rq, true, &r, err) < 0)
			goto rollback;
		store_rollback(c->store);
		*out = answer(id, next, "dry_run", &r, true);
		rc = *out ? 0 : (err_oom(err), -1);
		goto done;
	}
	/* the emergency moves to the new revision before its plan, so a
	 * staged plan's first stage already replaces what is outdated */
	staging_begin(c, &sg, id, next, &rq);
	if (insert_revision(c->store, id, next, "update", &d, now, c->actor,
			    NULL, 0, err) < 0 ||
	    idem_remember(c->store, c->idem, id, 0, err) < 0 ||
	    outbox_supersede(c->store, id, next, err) < 0 ||
	    set_emergency(c->store, id, next, "active", &d, now, err) < 0 ||
	    plan_run(c->store, c->cfg, &rq, false, &r, err) < 0 ||
	    set_planned(c->store, id, next, r.deliveries, NULL, err) < 0 ||
	    store_commit(c->store, err) < 0) {
		staging_failed(&sg, err);
		goto rollback;
	}
	log_info("emergency %lld revision %d (update) by %s: %ld deliveries, "
		 "%ld of them cancels", (long long)id, next, c->actor,
		 r.deliveries, r.cancels);
	*out = answer(id, next, "active", &r, false);
	rc = *out ? 0 : (err_oom(err), -1);
	goto done;
rollback:
	store_rollback(c->store);
done:
	staging_end(&sg);
	plan_result_free(&r);
	decl_free(&d);
	return rc;
}

int emergency_end(const struct emergency_ctx *c, int64_t id,
		  const char *msg_type, const char *reason, json_t **out,
		  struct err *err)
{
	struct decl d = { 0 };
	struct plan_result r = { 0 };
	struct staging sg = { 0 };
	char status[16];
	int revision, rc = -1;
	int64_t now = util_now_ms();
	const char *new_status = strcmp(msg_type, "cancel") == 0 ? "cancelled"
				 : strcmp(msg_type, "expired") == 0 ? "expired"
								    : "ended";
	if (store_begin(c->store, err) < 0)
		return -1;
	if (load_current(c->store, id, &d, &revision, status, err) < 0)
		goto rollback;
	if (strcmp(status, "active") != 0) {
		err_conflict(err, "emergency %lld is already %s", (long long)id,
			     status);
		goto rollback;
	}
	struct plan_request rq;
	int next = revision + 1;
	fill_request(&rq, &d, c, id, next, msg_type, now);
	rq.mode = PLAN_END;
	/* an end must not expire before it has replaced the alerts */
	if (rq.expires_ms < now)
		rq.expires_ms = d.expires_ms = now;
	/* ended before the plan, as an update moves first: a staged plan's
	 * first stage already stops what has not gone out */
	staging_begin(c, &sg, id, next, &rq);
	if (insert_revision(c->store, id, next, msg_type, &d, now, c->actor,
			    reason, 0, err) < 0 ||
	    idem_remember(c->store, c->idem, id, 0, err) < 0 ||
	    outbox_supersede(c->store, id, next, err) < 0 ||
	    set_emergency(c->store, id, next, new_status, &d, now, err) < 0 ||
	    plan_run(c->store, c->cfg, &rq, false, &r, err) < 0 ||
	    set_planned(c->store, id, next, r.deliveries, NULL, err) < 0 ||
	    store_commit(c->store, err) < 0) {
		staging_failed(&sg, err);
		goto rollback;
	}
	log_info("emergency %lld %s by %s (revision %d): %ld deliveries",
		 (long long)id, new_status, c->actor, next, r.deliveries);
	if (out) {
		*out = answer(id, next, new_status, &r, false);
		rc = *out ? 0 : (err_oom(err), -1);
	} else {
		rc = 0;
	}
	goto done;
rollback:
	store_rollback(c->store);
done:
	staging_end(&sg);
	plan_result_free(&r);
	decl_free(&d);
	return rc;
}

/* Finishes one stopped plan, or closes it when its revision is no longer
 * the emergency's current one (what it would plan is outdated). */
static int resume_one(const struct emergency_ctx *c, int64_t id,
		      int revision, struct err *err)
{
	static const char sql[] =
		"SELECT e.revision, e.hazard, e.exercise, r.msg_type,"
		" r.issued_at, r.planned, r.plan_cursor, r.severity, r.headline,"
		" r.description, r.instruction, r.locale, r.area, r.expires_at"
		" FROM revisions r JOIN emergencies e ON e.id = r.emergency_id"
		" WHERE r.emergency_id = ? AND r.revision = ?"
		" AND r.plan_cursor IS NOT NULL";
	struct decl d = { 0 };
	struct plan_result r = { 0 };
	struct staging sg = { .c = c, .id = id, .revision = revision,
			      .started = true };
	char msg_type[16], object[32], summary[200], *cursor = NULL;
	int rc = -1;
	if (store_begin(c->store, err) < 0)
		return -1;
	sqlite3_stmt *st = store_stmt(c->store, sql, err);
	if (!st)
		goto rollback;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, revision);
	int step = sqlite3_step(st);
	if (step != SQLITE_ROW) {
		sqlite3_reset(st);
		if (step == SQLITE_DONE) { /* finished meanwhile */
			rc = 0;
			goto rollback;
		}
		store_fail(c->store, err, "reading an unfinished plan");
		goto rollback;
	}
	int current = sqlite3_column_int(st, 0);
	d.hazard = catalog_hazard(store_col_text(st, 1));
	d.exercise = sqlite3_column_int(st, 2);
	snprintf(msg_type, sizeof msg_type, "%s", store_col_text(st, 3));
	int64_t issued = sqlite3_column_int64(st, 4);
	sg.base = (long)sqlite3_column_int64(st, 5);
	cursor = strdup(store_col_text(st, 6));
	int drc = decl_from_row(st, 7, &d, err);
	sqlite3_reset(st);
	if (drc < 0)
		goto rollback;
	if (!cursor) {
		err_oom(err);
		goto rollback;
	}
	snprintf(object, sizeof object, "emergency/%lld", (long long)id);
	if (current != revision) {
		snprintf(summary, sizeof summary, "revision %d was replaced by "
			 "revision %d before its plan was finished: %ld of its "
			 "deliveries were planned", revision, current, sg.base);
		if (set_planned(c->store, id, revision, sg.base, NULL, err) < 0 ||
		    audit_write(c->store, "scicastd", "admin",
				"emergency.plan_closed", object, summary,
				NULL, err) < 0 ||
		    store_commit(c->store, err) < 0)
			goto rollback;
		log_warn("emergency %lld: %s", (long long)id, summary);
		rc = 1;
		goto done;
	}
	struct plan_request rq;
	fill_request(&rq, &d, c, id, revision, msg_type, issued);
	if (strcmp(msg_type, "alert") != 0 && strcmp(msg_type, "update") != 0)
		rq.mode = PLAN_END;
	rq.cancel_out_of_scope = strcmp(msg_type, "update") == 0;
	rq.resume_after = *cursor ? cursor : NULL;
	rq.stage = stage_commit;
	rq.stage_arg = &sg;
	if (plan_run(c->store, c->cfg, &rq, false, &r, err) < 0)
		goto rollback;
	snprintf(summary, sizeof summary, "revision %d: planning finished "
		 "after a stop: %ld more deliveries, %ld in all", revision,
		 r.deliveries, sg.base + r.deliveries);
	if (set_planned(c->store, id, revision, sg.base + r.deliveries, NULL,
			err) < 0 ||
	    audit_write(c->store, "scicastd", "admin", "emergency.plan_resumed",
			object, summary, NULL, err) < 0 ||
	    store_commit(c->store, err) < 0)
		goto rollback;
	metrics_add(M_PLANS_RESUMED, 1);
	log_info("emergency %lld: %s", (long long)id, summary);
	rc = 1;
	goto done;
rollback:
	store_rollback(c->store);
done:
	free(cursor);
	plan_result_free(&r);
	decl_free(&d);
	return rc;
}

int emergency_resume_plans(const struct emergency_ctx *c, struct err *err)
{
	static const char sql[] =
		"SELECT emergency_id, revision FROM revisions"
		" WHERE plan_cursor IS NOT NULL"
		" ORDER BY emergency_id, revision LIMIT 16";
	int64_t ids[16];
	int revs[16], n = 0, done = 0;
	if (pthread_mutex_trylock(&staged_lock) != 0)
		return 0; /* a staged plan is running: not stopped */
	sqlite3_stmt *st = store_stmt(c->store, sql, err);
	if (!st)
		goto fail;
	int rc;
	while (n < 16 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ids[n] = sqlite3_column_int64(st, 0);
		revs[n++] = sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	if (n < 16 && rc != SQLITE_DONE) {
		store_fail(c->store, err, "finding unfinished plans");
		goto fail;
	}
	for (int i = 0; i < n; i++) {
		struct err e;
		int one = resume_one(c, ids[i], revs[i], &e);
		if (one < 0) {
			log_error("emergency %lld revision %d: finishing its "
				  "plan failed (tried again in a minute): %s",
				  (long long)ids[i], revs[i], e.message);
			continue;
		}
		done += one;
		if (one && c->wake)
			c->wake(c->wake_arg);
	}
	pthread_mutex_unlock(&staged_lock);
	return done;
fail:
	pthread_mutex_unlock(&staged_lock);
	return -1;
}

int emergency_expire_due(const struct emergency_ctx *c, int64_t now,
			 struct err *err)
{
	static const char sql[] = "SELECT id FROM emergencies"
				  " WHERE status = 'active' AND expires_at <= ?"
				  " ORDER BY expires_at LIMIT 100";
	int64_t ids[100];
	int n = 0, done = 0;
	sqlite3_stmt *st = store_stmt(c->store, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 100)
		ids[n++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_fail(c->store, err, "finding expired emergencies");
	for (int i = 0; i < n; i++) {
		struct err e;
		char object[32];
		snprintf(object, sizeof object, "emergency/%lld",
			 (long long)ids[i]);
		/* the end and its audit row in one transaction */
		if (store_begin(c->store, &e) < 0) {
			log_error("emergency %lld: expiring it failed: %s",
				  (long long)ids[i], e.message);
			continue;
		}
		if (emergency_end(c, ids[i], "expired", "expired", NULL, &e) < 0 ||
		    audit_write(c->store, "scicastd", "admin", "emergency.expire",
				object, "expired at its expiry time", NULL,
				&e) < 0 ||
		    store_commit(c->store, &e) < 0) {
			store_rollback(c->store);
			log_error("emergency %lld: expiring it failed: %s",
				  (long long)ids[i], e.message);
			continue;
		}
		metrics_add(M_EMERGENCIES_EXPIRED, 1);
		done++;
	}
	return done;
}

/* ---- reading ---- */

static const char *const states[] = { "pending", "inflight", "sent", "acked",
				      "failed", "dead", "superseded" };
#define N_STATES 7

/* c[N_STATES] is how many were sent while the region's screens were all
 * offline. */
static json_t *counts_json(const long *c)
{
	json_t *o = json_object();
	long planned = 0;
	if (!o)
		return NULL;
	json_object_set_new(o, "offline_at_send", json_integer(c[N_STATES]));
	for (int i = 0; i < N_STATES; i++) {
		if (i != 6)
			planned += c[i];
		json_object_set_new(o, states[i], json_integer(c[i]));
	}
	json_object_set_new(o, "planned", json_integer(planned));
	/* what a person means by "failed": given up or waiting to retry */
	json_object_set_new(o, "failed", json_integer(c[4] + c[5]));
	return o;
}

static int state_index(const char *s)
{
	for (int i = 0; i < N_STATES; i++)
		if (strcmp(states[i], s) == 0)
			return i;
	return -1;
}

/* One town's counts into the by_town list, named. */
static int add_town(struct store *s, json_t *towns, const char *code,
		    const long *c, struct err *err)
{
	static const char sql[] = "SELECT name FROM regions WHERE code = ?";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	store_bind_text(st, 1, code);
	int rc = sqlite3_step(st);
	json_t *t = counts_json(c);
	if (t) {
		json_object_set_new(t, "code", json_string(code));
		json_object_set_new(t, "name", rc == SQLITE_ROW
				    ? ju_string(store_col_text(st, 0))
				    : json_null());
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, err, "naming a town");
	if (!t || json_array_append_new(towns, t) < 0) {
		err_oom(err);
		return -1;
	}
	return 0;
}

/* Counts per tier and per town in one pass over the deliveries_coverage
 * index, in its order: no table rows read, no sort. A console polls
 * this every few seconds while a province-wide alert is going out. */
static int coverage(struct store *s, int64_t id, int revision, json_t **out,
		    struct err *err)
{
	static const char sql[] =
		"SELECT town_code, tier, state, offline_at_send, count(*)"
		" FROM deliveries"
		" WHERE emergency_id = ? AND revision = ? AND escalation = 0"
		" GROUP BY town_code, tier, state, offline_at_send";
	long total[N_STATES + 1] = { 0 }, tier[LEVEL_COUNT + 1][N_STATES + 1];
	long c[N_STATES + 1] = { 0 };
	char current[REGION_CODE_LEN + 1] = "";
	memset(tier, 0, sizeof tier);
	json_t *tiers = json_object();
	json_t *towns = json_array();
	if (!tiers || !towns) {
		err_oom(err);
		goto fail;
	}
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, revision);
	int rc;
	for (;;) {
		rc = sqlite3_step(st);
		const char *code = rc == SQLITE_ROW ? store_col_text(st, 0) : "";
		if (current[0] && strcmp(code, current) != 0) {
			if (add_town(s, towns, current, c, err) < 0) {
				sqlite3_reset(st);
				goto fail;
			}
			memset(c, 0, sizeof c);
			current[0] = '\0';
		}
		if (rc != SQLITE_ROW)
			break;
		int t = sqlite3_column_int(st, 1);
		int k = state_index(store_col_text(st, 2));
		bool off = sqlite3_column_int(st, 3) == 1;
		long n = (long)sqlite3_column_int64(st, 4);
		if (k < 0 || t < LEVEL_PROVINCE || t > LEVEL_VILLAGE)
			continue;
		tier[t][k] += n;
		total[k] += n;
		if (off) {
			tier[t][N_STATES] += n;
			total[N_STATES] += n;
		}
		if (*code) { /* city and province tiers have no town */
			snprintf(current, sizeof current, "%s", code);
			c[k] += n;
			if (off)
				c[N_STATES] += n;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_fail(s, err, "counting deliveries");
		goto fail;
	}
	for (int t = LEVEL_PROVINCE; t <= LEVEL_VILLAGE; t++) {
		long any = 0;
		for (int k = 0; k < N_STATES; k++)
			any += tier[t][k];
		if (any)
			json_object_set_new(tiers, config_level_name(t),
					    counts_json(tier[t]));
	}
	*out = json_pack("{s:i, s:o, s:o, s:o}", "revision", revision, "total",
			 counts_json(total), "by_tier", tiers, "by_town", towns);
	if (!*out) {
		err_oom(err);
		return -1;
	}
	return 0;
fail:
	json_decref(tiers);
	json_decref(towns);
	return -1;
}

static json_t *revision_json(sqlite3_stmt *st)
{
	json_t *area = json_loads(store_col_text(st, 8), 0, NULL);
	json_t *o = json_pack(
		"{s:i, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:I}",
		"revision", sqlite3_column_int(st, 0),
		"msg_type", store_col_text(st, 1),
		"severity", store_col_text(st, 2),
		"headline", ju_string(store_col_text(st, 3)),
		"locale", store_col_text(st, 6),
		"area", area ? area : json_array(),
		"expires_at", ju_time(sqlite3_column_int64(st, 9)),
		"issued_at", ju_time(sqlite3_column_int64(st, 10)),
		"author", ju_string(store_col_text(st, 11)),
		"reason", sqlite3_column_type(st, 12) == SQLITE_NULL
				  ? json_null() : ju_string(store_col_text(st, 12)),
		"planned", (json_int_t)sqlite3_column_int64(st, 13));
	if (!o)
		return NULL;
	/* a staged plan still being written (or stopped, to be finished):
	 * planned counts what is written so far */
	if (sqlite3_column_int(st, 14))
		json_object_set_new(o, "planning", json_true());
	if (sqlite3_column_type(st, 4) != SQLITE_NULL)
		json_object_set_new(o, "description",
				    ju_string(store_col_text(st, 4)));
	if (sqlite3_column_type(st, 5) != SQLITE_NULL)
		json_object_set_new(o, "instruction",
				    ju_string(store_col_text(st, 5)));
	return o;
}

int emergency_get(struct store *s, int64_t id, json_t **out, struct err *err)
{
	static const char sql_e[] =
		"SELECT hazard, status, revision, severity, exercise, expires_at,"
		" created_at, updated_at, created_by FROM emergencies WHERE id = ?";
	static const char sql_r[] =
		"SELECT revision, msg_type, severity, headline, description,"
		" instruction, locale, area, area, expires_at, issued_at, author,"
		" reason, planned, plan_cursor IS NOT NULL FROM revisions"
		" WHERE emergency_id = ? ORDER BY revision";
	sqlite3_stmt *st = store_stmt(s, sql_e, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE) {
			err_not_found(err, "no emergency %lld", (long long)id);
			return -1;
		}
		return store_fail(s, err, "reading the emergency");
	}
	const struct hazard *h = catalog_hazard(store_col_text(st, 0));
	int revision = sqlite3_column_int(st, 2);
	json_t *o = json_pack(
		"{s:I, s:s, s:s, s:s, s:i, s:s, s:b, s:o, s:o, s:o, s:o}",
		"id", (json_int_t)id,
		"hazard", store_col_text(st, 0),
		"hazard_name", h ? h->name_zh : "",
		"status", store_col_text(st, 1),
		"revision", revision,
		"severity", store_col_text(st, 3),
		"exercise", sqlite3_column_int(st, 4),
		"expires_at", ju_time(sqlite3_column_int64(st, 5)),
		"created_at", ju_time(sqlite3_column_int64(st, 6)),
		"updated_at", ju_time(sqlite3_column_int64(st, 7)),
		"created_by", ju_string(store_col_text(st, 8)));
	sqlite3_reset(st);
	json_t *revs = json_array();
	json_t *cov = NULL;
	if (!o || !revs) {
		err_oom(err);
		goto fail;
	}
	st = store_stmt(s, sql_r, err);
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *r = revision_json(st);
		if (r)
			json_array_append_new(revs, r);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_fail(s, err, "reading revisions");
		goto fail;
	}
	/* the current revision's texts at the top level */
	json_t *cur = json_array_get(revs, json_array_size(revs) - 1);
	const char *keys[] = { "headline", "description", "instruction",
			       "locale", "area", "msg_type", "planning" };
	for (size_t k = 0; cur && k < sizeof keys / sizeof keys[0]; k++)
		if (json_object_get(cur, keys[k]))
			json_object_set(o, keys[k], json_object_get(cur, keys[k]));
	json_object_set_new(o, "revisions", revs);
	revs = NULL;
	if (coverage(s, id, revision, &cov, err) < 0)
		goto fail;
	json_object_set_new(o, "coverage", cov);
	*out = o;
	return 0;
fail:
	json_decref(revs);
	json_decref(o);
	return -1;
}

int emergency_list(struct store *s, const struct emergency_filter *f,
		   json_t **out, struct err *err)
{
	static const char sql[] =
		"SELECT e.id FROM emergencies e WHERE (?1 IS NULL OR e.status = ?1)"
		" ORDER BY e.id DESC LIMIT ?2 OFFSET ?3";
	static const char sql_count[] =
		"SELECT count(*) FROM emergencies WHERE (?1 IS NULL OR status = ?1)";
	json_t *items = json_array();
	int64_t ids[1000];
	int n = 0;
	if (!items) {
		err_oom(err);
		return -1;
	}
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		goto fail;
	store_bind_text(st, 1, f->status);
	sqlite3_bind_int64(st, 2, f->limit > 1000 ? 1000 : f->limit);
	sqlite3_bind_int64(st, 3, f->offset);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 1000)
		ids[n++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		store_fail(s, err, "listing emergencies");
		goto fail;
	}
	for (int i = 0; i < n; i++) {
		json_t *e = NULL;
		if (emergency_get(s, ids[i], &e, err) < 0)
			goto fail;
		/* a list shows totals, not the per-town table */
		json_t *cov = json_object_get(e, "coverage");
		json_object_del(cov, "by_town");
		json_object_del(e, "revisions");
		json_array_append_new(items, e);
	}
	st = store_stmt(s, sql_count, err);
	if (!st)
		goto fail;
	store_bind_text(st, 1, f->status);
	rc = sqlite3_step(st);
	json_int_t total = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	*out = json_pack("{s:o, s:I, s:I, s:I}", "items", items, "total", total,
			 "limit", (json_int_t)f->limit, "offset",
			 (json_int_t)f->offset);
	return *out ? 0 : (err_oom(err), -1);
fail:
	json_decref(items);
	return -1;
}

int emergency_deliveries(struct store *s, int64_t id,
			 const struct delivery_filter *f, json_t **out,
			 struct err *err)
{
	static const char sql_rev[] =
		"SELECT revision FROM emergencies WHERE id = ?";
	sqlite3_stmt *st = store_stmt(s, sql_rev, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	int current = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		err_not_found(err, "no emergency %lld", (long long)id);
		return -1;
	}
	if (rc != SQLITE_ROW)
		return store_fail(s, err, "reading the emergency");
	struct deliveries_filter df = {
		.emergency = id,
		.revision = f->revision == 0 ? current : f->revision,
		.state = f->state, .town = f->town, .kind = f->kind,
		.tier = f->tier, .limit = f->limit, .offset = f->offset,
	};
	if (deliveries_list(s, &df, out, err) < 0)
		return -1;
	json_object_set_new(*out, "revision", json_integer(df.revision));
	return 0;
}
