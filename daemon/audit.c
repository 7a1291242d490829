/* audit: the audit log, written and read. */
#include "audit.h"

#include <string.h>

#include "jsonutil.h"
#include "util.h"

int audit_write(struct store *s, const char *actor, const char *role,
		const char *action, const char *object, const char *summary,
		const char *remote, struct err *err)
{
	static const char sql[] =
		"INSERT INTO audit(at, actor, role, action, object, summary,"
		" remote) VALUES (?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, util_now_ms());
	store_bind_text(st, 2, actor);
	store_bind_text(st, 3, role);
	store_bind_text(st, 4, action);
	store_bind_text(st, 5, object);
	store_bind_text(st, 6, summary ? summary : "");
	store_bind_text(st, 7, remote);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, err, "writing the audit log");
}

int audit_list(struct store *s, const struct audit_filter *f, json_t **out,
	       struct err *err)
{
	/* an action ending in '.' is a family: "emergency." */
	static const char sql[] =
		"SELECT id, at, actor, role, action, object, summary, remote"
		" FROM audit WHERE (?1 IS NULL OR action = ?1"
		"  OR (substr(?1, -1) = '.' AND substr(action, 1, length(?1)) = ?1))"
		" AND (?2 IS NULL OR actor = ?2) AND (?3 IS NULL OR object = ?3)"
		" AND (?4 = 0 OR at >= ?4) AND (?5 = 0 OR at < ?5)"
		" ORDER BY id DESC LIMIT ?6 OFFSET ?7";
	json_t *items = json_array();
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!items || !st) {
		json_decref(items);
		if (!items)
			err_oom(err);
		return -1;
	}
	store_bind_text(st, 1, f->action);
	store_bind_text(st, 2, f->actor);
	store_bind_text(st, 3, f->object);
	sqlite3_bind_int64(st, 4, f->since_ms);
	sqlite3_bind_int64(st, 5, f->until_ms);
	sqlite3_bind_int64(st, 6, f->limit);
	sqlite3_bind_int64(st, 7, f->offset);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char at[40];
		util_format_local(sqlite3_column_int64(st, 1), at, sizeof at);
		json_array_append_new(items, json_pack(
			"{s:I, s:s, s:o, s:s, s:s, s:o, s:o, s:o}",
			"id", (json_int_t)sqlite3_column_int64(st, 0), "at", at,
			"actor", ju_string(store_col_text(st, 2)),
			"role", store_col_text(st, 3),
			"action", store_col_text(st, 4),
			"object", ju_string(store_col_text(st, 5)),
			"summary", ju_string(store_col_text(st, 6)),
			"remote", sqlite3_column_type(st, 7) == SQLITE_NULL
					  ? json_null()
					  : ju_string(store_col_text(st, 7))));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(items);
		return store_fail(s, err, "reading the audit log");
	}
	*out = json_pack("{s:o, s:I, s:I}", "items", items, "limit",
			 (json_int_t)f->limit, "offset", (json_int_t)f->offset);
	return *out ? 0 : (err_oom(err), -1);
}
