/* deliveries: what an operator sees of the outbox. One query shape serves
 * every list (an emergency's, the dead letters), so the columns and their
 * names are the same wherever a delivery is shown. */
#include "deliveries.h"

#include <string.h>

#include "config.h"
#include "jsonutil.h"
#include "util.h"

static json_t *text_or_null(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL
		       ? json_null()
		       : ju_string(store_col_text(st, i));
}

#define DELIVERY_COLUMNS                                                      \
	"SELECT d.id, m.message_id, d.region_code, r.name, d.tier,"           \
	" d.town_code, d.channel_id, d.kind, coalesce(c.target, ''),"         \
	" d.state, d.attempts, d.resends, d.sent_at, d.acked_at,"             \
	" d.ack_status, d.last_error, d.revision, m.msg_type,"                \
	" d.emergency_id, d.next_attempt_at, d.escalated_at, d.campaign_id"   \
	" FROM deliveries d JOIN messages m ON m.id = d.message"              \
	" JOIN regions r ON r.code = d.region_code"                           \
	" JOIN channels c ON c.id = d.channel_id"

#define DELIVERY_FILTER                                                       \
	" WHERE (?1 = 0 OR d.emergency_id = ?1)"                              \
	" AND (?2 < 0 OR d.revision = ?2)"                                    \
	" AND (?3 IS NULL OR d.state = ?3)"                                   \
	" AND (?4 IS NULL OR d.town_code = ?4)"                               \
	" AND (?5 IS NULL OR d.kind = ?5)"                                    \
	" AND (?6 = 0 OR d.tier = ?6)"                                        \
	" AND (?9 = 0 OR d.campaign_id = ?9)"

static json_t *delivery_json(sqlite3_stmt *st)
{
	bool waiting = strcmp(store_col_text(st, 9), "pending") == 0;
	return json_pack(
		"{s:I, s:I, s:s, s:s, s:s, s:o, s:s, s:o, s:I, s:s, s:o, s:s,"
		" s:i, s:i, s:o, s:o, s:o, s:o, s:i, s:o, s:o, s:o}",
		"id", (json_int_t)sqlite3_column_int64(st, 0),
		"emergency_id", (json_int_t)sqlite3_column_int64(st, 18),
		"message_id", store_col_text(st, 1),
		"msg_type", store_col_text(st, 17),
		"region", store_col_text(st, 2),
		"region_name", ju_string(store_col_text(st, 3)),
		"tier", config_level_name(sqlite3_column_int(st, 4)),
		"town", text_or_null(st, 5),
		"channel_id", (json_int_t)sqlite3_column_int64(st, 6),
		"kind", store_col_text(st, 7),
		"target", ju_string(store_col_text(st, 8)),
		"state", store_col_text(st, 9),
		"attempts", sqlite3_column_int(st, 10),
		"resends", sqlite3_column_int(st, 11),
		"sent_at", ju_time(sqlite3_column_int64(st, 12)),
		"acked_at", ju_time(sqlite3_column_int64(st, 13)),
		"ack_status", text_or_null(st, 14),
		"last_error", text_or_null(st, 15),
		"revision", sqlite3_column_int(st, 16),
		"next_attempt_at", waiting ? ju_time(sqlite3_column_int64(st, 19))
					   : json_null(),
		"escalated_at", ju_time(sqlite3_column_int64(st, 20)),
		"campaign_id", sqlite3_column_type(st, 21) == SQLITE_NULL
				       ? json_null()
				       : json_integer(sqlite3_column_int64(st, 21)));
}

static void bind_filter(sqlite3_stmt *st, const struct deliveries_filter *f)
{
	sqlite3_bind_int64(st, 1, f->emergency);
	sqlite3_bind_int(st, 2, f->revision);
	store_bind_text(st, 3, f->state);
	store_bind_text(st, 4, f->town);
	store_bind_text(st, 5, f->kind);
	sqlite3_bind_int(st, 6, f->tier);
	sqlite3_bind_int64(st, 9, f->campaign);
}

int deliveries_list(struct store *s, const struct deliveries_filter *f,
		    json_t **out, struct err *err)
{
	static const char sql[] = DELIVERY_COLUMNS DELIVERY_FILTER
		" ORDER BY d.id LIMIT ?7 OFFSET ?8";
	static const char sql_count[] =
		"SELECT count(*) FROM deliveries d" DELIVERY_FILTER;
	json_t *items = json_array();
	if (!items) {
		err_oom(err);
		return -1;
	}
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		goto fail;
	bind_filter(st, f);
	sqlite3_bind_int64(st, 7, f->limit);
	sqlite3_bind_int64(st, 8, f->offset);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *d = delivery_json(st);
		if (!d || json_array_append_new(items, d) < 0) {
			sqlite3_reset(st);
			err_oom(err);
			goto fail;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_fail(s, err, "listing deliveries");
		goto fail;
	}
	st = store_stmt(s, sql_count, err);
	if (!st)
		goto fail;
	bind_filter(st, f);
	rc = sqlite3_step(st);
	json_int_t total = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		store_fail(s, err, "counting deliveries");
		goto fail;
	}
	*out = json_pack("{s:o, s:I, s:I, s:I}", "items", items, "total", total,
			 "limit", (json_int_t)f->limit, "offset",
			 (json_int_t)f->offset);
	return *out ? 0 : (err_oom(err), -1);
fail:
	json_decref(items);
	return -1;
}

int deliveries_get(struct store *s, int64_t id, json_t **out,
		   struct err *err)
{
	static const char sql[] = DELIVERY_COLUMNS " WHERE d.id = ?";
	static const char sql_attempts[] =
		"SELECT attempt, started_at, duration_ms, http_status, outcome,"
		" error, next_attempt_at FROM delivery_attempts"
		" WHERE delivery_id = ? ORDER BY id";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	json_t *d = rc == SQLITE_ROW ? delivery_json(st) : NULL;
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		err_not_found(err, "no delivery %lld", (long long)id);
		return -1;
	}
	if (rc != SQLITE_ROW)
		return store_fail(s, err, "reading a delivery");
	json_t *attempts = json_array();
	if (!d || !attempts) {
		json_decref(d);
		json_decref(attempts);
		err_oom(err);
		return -1;
	}
	json_object_set_new(d, "history", attempts);
	st = store_stmt(s, sql_attempts, err);
	if (!st) {
		json_decref(d);
		return -1;
	}
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t started = sqlite3_column_int64(st, 1);
		int64_t dur = sqlite3_column_int64(st, 2);
		int64_t next = sqlite3_column_int64(st, 6);
		json_t *a = json_pack(
			"{s:i, s:o, s:I, s:I, s:o, s:s, s:o, s:o}",
			"attempt", sqlite3_column_int(st, 0),
			"at", ju_time(started),
			"at_ms", (json_int_t)started,
			"duration_ms", (json_int_t)dur,
			"http_status", sqlite3_column_type(st, 3) == SQLITE_NULL
					       ? json_null()
					       : json_integer(sqlite3_column_int(st, 3)),
			"outcome", store_col_text(st, 4),
			"error", text_or_null(st, 5),
			"next_attempt_at", ju_time(next));
		/* the backoff as it was chosen: from the end of this try to
		 * the next */
		if (a && next > 0 && strcmp(store_col_text(st, 4), "retry") == 0)
			json_object_set_new(a, "wait_ms",
					    json_integer(next - started - dur));
		if (a)
			json_array_append_new(attempts, a);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(d);
		return store_fail(s, err, "reading attempts");
	}
	*out = d;
	return 0;
}
