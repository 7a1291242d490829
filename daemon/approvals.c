/* approvals: held requests and their decisions. A request keeps the body
 * as the requester sent it; approving it runs the very same declare or
 * revise, in the approver's transaction, under the requester's name (the
 * approver is recorded on the request and in the audit log). */
#include "approvals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "log.h"
#include "util.h"

bool approvals_needed(const struct config *cfg, int severity, bool exercise)
{
	if (severity < 0 || !(cfg->approval_required & (1u << severity)))
		return false;
	return !(exercise && cfg->approval_skip_drills);
}

#define APPROVAL_COLUMNS                                                     \
	"SELECT id, kind, emergency_id, revision, body, severity, summary,"  \
	" status, requested_by, requested_at, expires_at, decided_by,"       \
	" decided_at, reason, planned FROM approvals"

static json_t *approval_json(sqlite3_stmt *st)
{
	json_t *body = json_loads(store_col_text(st, 4), 0, NULL);
	json_t *o = json_pack(
		"{s:I, s:s, s:o, s:s, s:o, s:s, s:o, s:o, s:o, s:o}",
		"approval_id", (json_int_t)sqlite3_column_int64(st, 0),
		"kind", store_col_text(st, 1),
		"request", body ? body : json_null(),
		"severity", store_col_text(st, 5),
		"summary", ju_string(store_col_text(st, 6)),
		"status", store_col_text(st, 7),
		"requested_by", ju_string(store_col_text(st, 8)),
		"requested_at", ju_time(sqlite3_column_int64(st, 9)),
		"expires_at", ju_time(sqlite3_column_int64(st, 10)),
		"decided_at", ju_time(sqlite3_column_int64(st, 12)));
	if (!o)
		return NULL;
	if (sqlite3_column_type(st, 2) != SQLITE_NULL)
		json_object_set_new(o, "emergency_id",
				    json_integer(sqlite3_column_int64(st, 2)));
	if (sqlite3_column_type(st, 3) != SQLITE_NULL)
		json_object_set_new(o, "revision",
				    json_integer(sqlite3_column_int(st, 3)));
	if (sqlite3_column_type(st, 11) != SQLITE_NULL)
		json_object_set_new(o, "decided_by",
				    ju_string(store_col_text(st, 11)));
	if (sqlite3_column_type(st, 13) != SQLITE_NULL)
		json_object_set_new(o, "reason", ju_string(store_col_text(st, 13)));
	json_t *planned = json_loads(store_col_text(st, 14), 0, NULL);
	json_object_set_new(o, "planned", planned ? planned : json_null());
	return o;
}

int approvals_request(struct store *s, const struct config *cfg,
		      const char *kind, int64_t emergency, const json_t *body,
		      int severity, const char *actor, const json_t *plan,
		      json_t **out, struct err *err)
{
	static const char sql[] =
		"INSERT INTO approvals(kind, emergency_id, body, severity, summary,"
		" status, requested_by, requested_at, expires_at, planned)"
		" VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)";
	char *text = json_dumps(body, JSON_COMPACT);
	char *plan_text = plan ? json_dumps(plan, JSON_COMPACT) : NULL;
	char summary[300], what[48];
	const char *headline = json_string_value(json_object_get(body, "headline"));
	if (strcmp(kind, "declare") == 0)
		snprintf(what, sizeof what, "declare");
	else
		snprintf(what, sizeof what, "update emergency %lld to",
			 (long long)emergency);
	snprintf(summary, sizeof summary, "%s %s%s%.200s", what,
		 config_severity_name(severity), headline ? ": " : "",
		 headline ? headline : "");
	if (!text || (plan && !plan_text)) {
		free(text);
		free(plan_text);
		err_oom(err);
		return -1;
	}
	int64_t now = util_now_ms();
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st) {
		free(text);
		free(plan_text);
		return -1;
	}
	store_bind_text(st, 1, kind);
	if (emergency)
		sqlite3_bind_int64(st, 2, emergency);
	store_bind_text(st, 3, text);
	store_bind_text(st, 4, config_severity_name(severity));
	store_bind_text(st, 5, summary);
	store_bind_text(st, 6, actor);
	sqlite3_bind_int64(st, 7, now);
	sqlite3_bind_int64(st, 8, now + cfg->approval_timeout_ms);
	store_bind_text(st, 9, plan_text);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	free(text);
	free(plan_text);
	if (rc != SQLITE_DONE)
		return store_fail(s, err, "holding the request");
	int64_t id = sqlite3_last_insert_rowid(store_db(s));
	if (approvals_get(s, id, out, err) < 0)
		return -1;
	log_info("approval %lld: %s by %s waits for a second operator", (long long)id,
		 summary, actor);
	return 0;
}

int approvals_get(struct store *s, int64_t id, json_t **out, struct err *err)
{
	static const char sql[] = APPROVAL_COLUMNS " WHERE id = ?";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return store_one(s, st, approval_json, "approval request", id, out, err);
}

int approvals_list(struct store *s, const char *status, json_t **out,
		   struct err *err)
{
	static const char sql[] = APPROVAL_COLUMNS
		" WHERE ?1 IS NULL OR status = ?1 ORDER BY id DESC LIMIT 200";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	store_bind_text(st, 1, status);
	return store_list(s, st, approval_json, "listing approvals", out, err);
}

static int set_decision(struct store *s, int64_t id, const char *status,
			const char *by, const char *reason, int64_t emergency,
			int revision, struct err *err)
{
	static const char sql[] =
		"UPDATE approvals SET status = ?2, decided_by = ?3, decided_at = ?4,"
		" reason = ?5, emergency_id = coalesce(?6, emergency_id),"
		" revision = ?7 WHERE id = ?1 AND status = 'pending'";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	store_bind_text(st, 2, status);
	store_bind_text(st, 3, by);
	sqlite3_bind_int64(st, 4, util_now_ms());
	store_bind_text(st, 5, reason);
	if (emergency)
		sqlite3_bind_int64(st, 6, emergency);
	if (revision)
		sqlite3_bind_int(st, 7, revision);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, err, "recording the decision");
	if (sqlite3_changes(store_db(s)) != 1) {
		err_conflict(err, "approval %lld was decided meanwhile",
			     (long long)id);
		return -1;
	}
	return 0;
}

struct first_decision {
	struct store *s;
	int64_t approval;
	const char *by, *reason;
	bool done;
};

static int decide_in_first_stage(void *arg, int64_t emergency, int revision,
				 struct err *err)
{
	struct first_decision *fd = arg;
	if (set_decision(fd->s, fd->approval, "approved", fd->by, fd->reason,
			 emergency, revision, err) < 0)
		return -1;
	fd->done = true;
	return 0;
}

int approvals_decide(const struct emergency_ctx *c, int64_t id, bool approve,
		     const char *reason, json_t **out, struct err *err)
{
	json_t *a = NULL, *result = NULL;
	int rc = -1;
	/* a request past its time is lapsed even if the tick has not come */
	if (approvals_lapse_due(c->store, util_now_ms(), err) < 0 ||
	    approvals_get(c->store, id, &a, err) < 0)
		return -1;
	const char *status = json_string_value(json_object_get(a, "status"));
	const char *by = json_string_value(json_object_get(a, "requested_by"));
	if (strcmp(status, "pending") != 0) {
		err_conflict(err, "approval %lld is already %s", (long long)id,
			     status);
		goto done;
	}
	if (strcmp(by, c->actor) == 0) {
		err_set(err, 403, "same_operator", "", "%s asked for this: another "
			"operator must approve or reject it", by);
		goto done;
	}
	if (!approve) {
		if (set_decision(c->store, id, "rejected", c->actor, reason, 0, 0,
				 err) < 0)
			goto done;
		log_info("approval %lld rejected by %s", (long long)id, c->actor);
		rc = approvals_get(c->store, id, out, err);
		goto done;
	}
	/* the declaration is the requester's, as they sent it; a staged plan
	 * records the decision in its first stage, so a plan stopped after
	 * it (and finished at the next start) is not approved twice */
	struct first_decision fd = { .s = c->store, .approval = id,
				     .by = c->actor, .reason = reason };
	struct emergency_ctx as_requester = *c;
	as_requester.actor = by;
	as_requester.first_stage = decide_in_first_stage;
	as_requester.first_stage_arg = &fd;
	json_t *body = json_object_get(a, "request");
	const char *kind = json_string_value(json_object_get(a, "kind"));
	int64_t emergency = json_integer_value(json_object_get(a, "emergency_id"));
	if (strcmp(kind, "declare") == 0)
		rc = emergency_declare(&as_requester, body, false, &result, err);
	else
		rc = emergency_revise(&as_requester, emergency, body, false,
				      &result, err);
	if (rc < 0)
		goto done;
	rc = -1;
	emergency = json_integer_value(json_object_get(result, "id"));
	int revision = (int)json_integer_value(json_object_get(result, "revision"));
	if ((!fd.done && set_decision(c->store, id, "approved", c->actor,
				      reason, emergency, revision, err) < 0) ||
	    approvals_get(c->store, id, out, err) < 0)
		goto done;
	json_object_set(*out, "result", result);
	log_info("approval %lld approved by %s: emergency %lld revision %d",
		 (long long)id, c->actor, (long long)emergency, revision);
	rc = 0;
done:
	json_decref(result);
	json_decref(a);
	return rc;
}

int approvals_lapse_due(struct store *s, int64_t now, struct err *err)
{
	static const char sql[] =
		"UPDATE approvals SET status = 'lapsed', decided_at = ?1"
		" WHERE status = 'pending' AND expires_at <= ?1";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	if (store_write(s, st, "lapsing requests", err) < 0)
		return -1;
	/* COMMIT does not change the count of the UPDATE before it */
	int n = sqlite3_changes(store_db(s));
	if (n)
		log_warn("approval: %d request(s) lapsed without a decision", n);
	return n;
}
