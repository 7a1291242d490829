/* report: what a drill (or any emergency) reached, per town — planned,
 * reached (acked), the first and the last ack counted from the issue, and
 * the screens that stayed silent. The numbers are the deliveries' own, so
 * they match the acks the screens sent. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "buf.h"
#include "jsonutil.h"
#include "presence.h"
#include "util.h"

static int build_report(struct store *s, int64_t id, json_t **out,
			struct err *err)
{
	static const char sql_rev[] =
		"SELECT e.revision, r.issued_at, e.exercise, e.hazard, e.severity,"
		" e.status FROM emergencies e JOIN revisions r"
		" ON r.emergency_id = e.id AND r.revision = e.revision"
		" WHERE e.id = ?";
	static const char sql_towns[] =
		"SELECT d.town_code, t.name, count(*), sum(d.state = 'acked'),"
		" min(d.acked_at), max(d.acked_at)"
		" FROM deliveries d LEFT JOIN regions t ON t.code = d.town_code"
		" WHERE d.emergency_id = ?1 AND d.revision = ?2 AND d.escalation = 0"
		" AND d.town_code IS NOT NULL GROUP BY d.town_code ORDER BY d.town_code";
	static const char sql_silent[] =
		"SELECT d.town_code, d.region_code, r.name, "
		PRESENCE_OFFLINE_SQL("d.region_code", "?3")
		" FROM deliveries d JOIN regions r ON r.code = d.region_code"
		" WHERE d.emergency_id = ?1 AND d.revision = ?2 AND d.escalation = 0"
		" AND d.tier = 5 AND d.state <> 'acked' ORDER BY d.region_code";
	sqlite3_stmt *st = store_stmt(s, sql_rev, err);
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
	int revision = sqlite3_column_int(st, 0);
	int64_t issued = sqlite3_column_int64(st, 1);
	json_t *o = json_pack("{s:I, s:i, s:b, s:s, s:s, s:s}", "emergency_id",
			      (json_int_t)id, "revision", revision, "exercise",
			      sqlite3_column_int(st, 2), "hazard",
			      store_col_text(st, 3), "severity",
			      store_col_text(st, 4), "status",
			      store_col_text(st, 5));
	sqlite3_reset(st);
	json_t *towns = json_array();
	if (!o || !towns)
		goto oom;
	json_object_set_new(o, "towns", towns);
	long planned = 0, reached = 0;
	st = store_stmt(s, sql_towns, err);
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, revision);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long p = (long)sqlite3_column_int64(st, 2);
		long a = (long)sqlite3_column_int64(st, 3);
		planned += p;
		reached += a;
		json_t *t = json_pack("{s:s, s:o, s:I, s:I, s:o, s:o, s:[]}",
				      "code", store_col_text(st, 0),
				      "name", ju_string(store_col_text(st, 1)),
				      "planned", (json_int_t)p, "reached",
				      (json_int_t)a,
				      "first_ack_s",
				      a ? json_real((double)(sqlite3_column_int64(st, 4) - issued) / 1000)
					: json_null(),
				      "last_ack_s",
				      a ? json_real((double)(sqlite3_column_int64(st, 5) - issued) / 1000)
					: json_null(),
				      "silent");
		if (t)
			json_array_append_new(towns, t);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_fail(s, err, "reading the report");
		goto fail;
	}
	st = store_stmt(s, sql_silent, err);
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, revision);
	sqlite3_bind_int64(st, 3, util_now_ms());
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t i;
		json_t *t;
		json_array_foreach(towns, i, t)
			if (strcmp(json_string_value(json_object_get(t, "code")),
				   store_col_text(st, 0)) == 0)
				json_array_append_new(json_object_get(t, "silent"),
					json_pack("{s:s, s:o, s:s}", "code",
						  store_col_text(st, 1), "name",
						  ju_string(store_col_text(st, 2)),
						  "screen",
						  sqlite3_column_type(st, 3) == SQLITE_NULL
							  ? "unknown"
						  : sqlite3_column_int(st, 3)
							  ? "offline"
							  : "online"));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_fail(s, err, "reading the report");
		goto fail;
	}
	json_object_set_new(o, "planned", json_integer(planned));
	json_object_set_new(o, "reached", json_integer(reached));
	*out = o;
	return 0;
oom:
	err_oom(err);
fail:
	json_decref(o);
	return -1;
}

/* CSV cells are quoted when they hold a comma, a quote or a newline. */
static void csv_cell(struct buf *b, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		buf_append_str(b, s);
		return;
	}
	buf_append_char(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			buf_append_char(b, '"');
		buf_append_char(b, *s);
	}
	buf_append_char(b, '"');
}

static void csv_seconds(struct buf *b, const json_t *v)
{
	if (json_is_real(v))
		buf_appendf(b, "%.3f", json_real_value(v));
}

API_HANDLER(api_emergencies_report)
{
	int64_t id;
	json_t *r = NULL;
	const char *format = http_query(req, "format");
	if (format && strcmp(format, "json") != 0 && strcmp(format, "csv") != 0) {
		err_set(err, 400, "bad_request", "format",
			"format must be json or csv");
		return -1;
	}
	if (api_param_id(req, 0, &id, err) < 0 ||
	    build_report(req->store, id, &r, err) < 0)
		return -1;
	if (!format || strcmp(format, "json") == 0) {
		if (http_reply_json(res, 200, r) < 0) {
			err_oom(err);
			return -1;
		}
		return 0;
	}
	struct buf b = BUF_INIT;
	buf_append_str(&b, "town_code,town_name,planned,reached,first_ack_s,"
			   "last_ack_s,silent_count,silent\r\n");
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(r, "towns"), i, t) {
		struct buf silent = BUF_INIT;
		size_t k;
		json_t *v;
		json_array_foreach(json_object_get(t, "silent"), k, v)
			buf_appendf(&silent, "%s%s %s (%s)", k ? "; " : "",
				    json_string_value(json_object_get(v, "code")),
				    json_string_value(json_object_get(v, "name")),
				    json_string_value(json_object_get(v, "screen")));
		csv_cell(&b, json_string_value(json_object_get(t, "code")));
		buf_append_char(&b, ',');
		csv_cell(&b, json_string_value(json_object_get(t, "name")));
		buf_appendf(&b, ",%lld,%lld,",
			    (long long)json_integer_value(json_object_get(t, "planned")),
			    (long long)json_integer_value(json_object_get(t, "reached")));
		csv_seconds(&b, json_object_get(t, "first_ack_s"));
		buf_append_char(&b, ',');
		csv_seconds(&b, json_object_get(t, "last_ack_s"));
		buf_appendf(&b, ",%zu,", json_array_size(json_object_get(t, "silent")));
		csv_cell(&b, buf_str(&silent));
		buf_append_str(&b, "\r\n");
		buf_free(&silent);
	}
	json_decref(r);
	int rc = http_reply_text(res, 200, "text/csv; charset=utf-8",
				 buf_str(&b), b.len);
	buf_free(&b);
	if (rc < 0) {
		err_oom(err);
		return -1;
	}
	char disp[80];
	snprintf(disp, sizeof disp, "attachment; filename=\"emergency-%lld-report.csv\"",
		 (long long)id);
	http_add_header(res, "Content-Disposition", disp);
	return 0;
}
