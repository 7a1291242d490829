/* presence: screens' status messages, stored per (region, screen id), and
 * the "online now" question everything else asks. A will (offline) is
 * taken at once; an online status is only as good as its heartbeat. */
#include "presence.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "jsonutil.h"
#include "regions.h"
#include "util.h"

static void copy_str(char *dst, size_t cap, const json_t *v)
{
	const char *s = json_string_value(v);
	snprintf(dst, cap, "%s", s && util_utf8_valid(s, strlen(s)) ? s : "");
}

int presence_parse(const char *region, const char *screen_id,
		   const void *payload, size_t len, int64_t now,
		   struct presence_update *out, char *why, size_t cap)
{
	memset(out, 0, sizeof *out);
	if (!util_is_region_code(region, strlen(region))) {
		snprintf(why, cap, "the topic has no 12-digit region code");
		return -1;
	}
	size_t idlen = strlen(screen_id);
	if (idlen == 0 || idlen > PRESENCE_ID_MAX ||
	    !util_utf8_valid(screen_id, idlen)) {
		snprintf(why, cap, "the screen id in the topic is empty or too "
			 "long");
		return -1;
	}
	if (len == 0 || len > 4096) {
		snprintf(why, cap, "empty or over 4096 bytes");
		return -1;
	}
	json_error_t je;
	json_t *j = json_loadb(payload, len, 0, &je);
	const char *status = j ? json_string_value(json_object_get(j, "status"))
			       : NULL;
	if (!j || !status ||
	    (strcmp(status, "online") != 0 && strcmp(status, "offline") != 0)) {
		snprintf(why, cap, "%s", j ? "status is not online or offline"
					   : je.text);
		json_decref(j);
		return -1;
	}
	snprintf(out->region, sizeof out->region, "%s", region);
	snprintf(out->screen_id, sizeof out->screen_id, "%s", screen_id);
	out->online = strcmp(status, "online") == 0;
	copy_str(out->version, sizeof out->version, json_object_get(j, "version"));
	copy_str(out->message_id, sizeof out->message_id,
		 json_object_get(j, "message_id"));
	copy_str(out->reason, sizeof out->reason, json_object_get(j, "reason"));
	json_t *hb = json_object_get(j, "heartbeat_s");
	out->heartbeat_s = json_is_integer(hb) && json_integer_value(hb) > 0 &&
					   json_integer_value(hb) <= 86400
				   ? (int)json_integer_value(hb)
				   : 0;
	out->at = now;
	json_decref(j);
	return 0;
}

int presence_record(struct store *s, const struct presence_update *u,
		    size_t n, struct err *err)
{
	/* status_since moves only when the status changes */
	static const char sql[] =
		"INSERT INTO screens(region_code, screen_id, status, version,"
		" message_id, heartbeat_s, reason, last_seen_at, status_since)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)"
		" ON CONFLICT(region_code, screen_id) DO UPDATE SET"
		" status_since = CASE WHEN status = ?3 THEN status_since ELSE ?8"
		"  END, status = ?3,"
		" version = coalesce(?4, version), message_id = ?5,"
		" heartbeat_s = coalesce(?6, heartbeat_s), reason = ?7,"
		" last_seen_at = ?8";
	if (!n)
		return 0;
	if (store_begin(s, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = store_stmt(s, sql, err);
		if (!st)
			goto fail;
		store_bind_text(st, 1, u[i].region);
		store_bind_text(st, 2, u[i].screen_id);
		store_bind_text(st, 3, u[i].online ? "online" : "offline");
		store_bind_text(st, 4, u[i].version[0] ? u[i].version : NULL);
		store_bind_text(st, 5, u[i].message_id[0] ? u[i].message_id : NULL);
		if (u[i].heartbeat_s)
			sqlite3_bind_int(st, 6, u[i].heartbeat_s);
		store_bind_text(st, 7, u[i].reason[0] ? u[i].reason : NULL);
		sqlite3_bind_int64(st, 8, u[i].at);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			store_fail(s, err, "recording screen presence");
			goto fail;
		}
	}
	if (store_commit(s, err) == 0)
		return 0;
fail:
	store_rollback(s);
	return -1;
}

/* The effective status: online only while the heartbeat keeps coming. */
#define EFFECTIVE                                                            \
	"CASE WHEN sc.status = 'online' AND sc.last_seen_at > ?5 - 3000 *"   \
	" coalesce(sc.heartbeat_s, 30) THEN 'online' ELSE 'offline' END"

int presence_list(struct store *s, const struct presence_filter *f,
		  int64_t now, json_t **out, struct err *err)
{
	static const char sql[] =
		"SELECT sc.region_code, r.name, sc.screen_id, " EFFECTIVE ","
		" sc.status, sc.version, sc.message_id, sc.heartbeat_s,"
		" sc.reason, sc.last_seen_at, sc.status_since, r.path"
		" FROM screens sc LEFT JOIN regions r ON r.code = sc.region_code"
		" WHERE (?1 IS NULL OR sc.region_code = ?1)"
		" AND (?2 IS NULL OR r.path > (SELECT path FROM regions"
		"  WHERE code = ?2) || '/' AND r.path < (SELECT path FROM"
		"  regions WHERE code = ?2) || '0')"
		" AND (?3 IS NULL OR " EFFECTIVE " = ?3)"
		" ORDER BY sc.region_code, sc.screen_id LIMIT ?6 OFFSET ?7";
	static const char sql_count[] =
		"SELECT " EFFECTIVE ", count(*) FROM screens sc"
		" LEFT JOIN regions r ON r.code = sc.region_code"
		" WHERE (?1 IS NULL OR sc.region_code = ?1)"
		" AND (?2 IS NULL OR r.path > (SELECT path FROM regions"
		"  WHERE code = ?2) || '/' AND r.path < (SELECT path FROM"
		"  regions WHERE code = ?2) || '0')"
		" AND (?3 IS NULL OR " EFFECTIVE " = ?3) GROUP BY 1";
	json_t *items = json_array();
	if (!items) {
		err_oom(err);
		return -1;
	}
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		goto fail;
	store_bind_text(st, 1, f->region);
	store_bind_text(st, 2, f->town);
	store_bind_text(st, 3, f->status);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, f->limit);
	sqlite3_bind_int64(st, 7, f->offset);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char seen[40], since[40];
		util_format_local(sqlite3_column_int64(st, 9), seen, sizeof seen);
		util_format_local(sqlite3_column_int64(st, 10), since, sizeof since);
		json_t *o = json_pack(
			"{s:s, s:o, s:o, s:s, s:s, s:s, s:s}",
			"region", store_col_text(st, 0),
			"region_name", ju_string(store_col_text(st, 1)),
			"screen_id", ju_string(store_col_text(st, 2)),
			"status", store_col_text(st, 3),
			"reported", store_col_text(st, 4),
			"last_seen_at", seen,
			"status_since", since);
		if (!o)
			continue;
		const char *opt[] = { "version", "message_id", NULL, "reason" };
		for (int k = 0; k < 4; k++)
			if (opt[k] && sqlite3_column_type(st, 5 + k) != SQLITE_NULL)
				json_object_set_new(o, opt[k],
						    ju_string(store_col_text(st, 5 + k)));
		if (sqlite3_column_type(st, 7) != SQLITE_NULL)
			json_object_set_new(o, "heartbeat_s",
					    json_integer(sqlite3_column_int(st, 7)));
		json_array_append_new(items, o);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_fail(s, err, "listing screens");
		goto fail;
	}
	long online = 0, offline = 0;
	st = store_stmt(s, sql_count, err);
	if (!st)
		goto fail;
	store_bind_text(st, 1, f->region);
	store_bind_text(st, 2, f->town);
	store_bind_text(st, 3, f->status);
	sqlite3_bind_int64(st, 5, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (strcmp(store_col_text(st, 0), "online") == 0)
			online = (long)sqlite3_column_int64(st, 1);
		else
			offline = (long)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_fail(s, err, "counting screens");
		goto fail;
	}
	*out = json_pack("{s:o, s:I, s:I, s:I, s:I, s:I}", "items", items,
			 "total", (json_int_t)(online + offline), "online",
			 (json_int_t)online, "offline", (json_int_t)offline,
			 "limit", (json_int_t)f->limit, "offset",
			 (json_int_t)f->offset);
	return *out ? 0 : (err_oom(err), -1);
fail:
	json_decref(items);
	return -1;
}
