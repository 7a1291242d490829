/* api_regions: reading the region tree and importing it over HTTP. */
#include <string.h>

#include "api.h"
#include "campaigns.h"
#include "config.h"
#include "jsonutil.h"
#include "regions.h"
#include "util.h"

#define CHILDREN_MAX 2000

static json_t *region_brief(const struct region *r)
{
	return json_pack("{s:s, s:o, s:s}", "code", r->code, "name",
			 ju_string(r->name), "level",
			 config_level_name(r->level));
}

API_HANDLER(api_regions_list)
{
	static const char sql[] =
		"SELECT " REGION_COLUMNS " FROM regions"
		" WHERE (?1 IS NULL OR parent_code = ?1)"
		" AND (?2 IS NULL OR level = ?2)"
		" AND (?3 IS NULL OR instr(name, ?3) > 0 OR code = ?3)"
		" ORDER BY code LIMIT ?4 OFFSET ?5";
	static const char sql_count[] =
		"SELECT count(*) FROM regions"
		" WHERE (?1 IS NULL OR parent_code = ?1)"
		" AND (?2 IS NULL OR level = ?2)"
		" AND (?3 IS NULL OR instr(name, ?3) > 0 OR code = ?3)";
	const char *parent = http_query(req, "parent");
	const char *level_s = http_query(req, "level");
	const char *q = http_query(req, "q");
	long limit, offset;
	int level = 0;
	if (parent && !util_is_region_code(parent, strlen(parent))) {
		err_set(err, 400, "bad_request", "parent",
			"parent must be a 12-digit region code");
		return -1;
	}
	if (level_s) {
		level = config_level_parse(level_s, strlen(level_s));
		if (level < 0) {
			err_set(err, 400, "bad_request", "level",
				"level must be province, city, county, town or "
				"village");
			return -1;
		}
	}
	if (q && (!util_utf8_valid(q, strlen(q)) || strlen(q) > 200)) {
		err_set(err, 400, "bad_request", "q",
			"q must be UTF-8 text of at most 200 bytes");
		return -1;
	}
	if (q && !*q)
		q = NULL;
	if (http_query_long(req, "limit", 1, 5000, 100, &limit, err) < 0 ||
	    http_query_long(req, "offset", 0, 100000000, 0, &offset, err) < 0)
		return -1;
	json_t *items = json_array();
	if (!items) {
		err_oom(err);
		return -1;
	}
	sqlite3_stmt *st = store_stmt(req->store, sql, err);
	if (!st)
		goto fail;
	store_bind_text(st, 1, parent);
	if (level)
		sqlite3_bind_int(st, 2, level);
	store_bind_text(st, 3, q);
	sqlite3_bind_int64(st, 4, limit);
	sqlite3_bind_int64(st, 5, offset);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct region r;
		regions_from_row(st, 0, &r);
		json_t *o = region_brief(&r);
		if (o && r.parent[0])
			json_object_set_new(o, "parent", json_string(r.parent));
		if (!o || json_array_append_new(items, o) < 0) {
			sqlite3_reset(st);
			err_oom(err);
			goto fail;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_fail(req->store, err, "listing regions");
		goto fail;
	}
	st = store_stmt(req->store, sql_count, err);
	if (!st)
		goto fail;
	store_bind_text(st, 1, parent);
	if (level)
		sqlite3_bind_int(st, 2, level);
	store_bind_text(st, 3, q);
	rc = sqlite3_step(st);
	json_int_t total = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		store_fail(req->store, err, "counting regions");
		goto fail;
	}
	if (http_reply_json(res, 200,
			    json_pack("{s:o, s:I, s:I, s:I}", "items", items,
				      "total", total, "limit",
				      (json_int_t)limit, "offset",
				      (json_int_t)offset)) < 0) {
		err_oom(err);
		return -1;
	}
	return 0;
fail:
	json_decref(items);
	return -1;
}

static int add_children(struct http_req *req, const struct region *r,
			json_t *out, struct err *err)
{
	static const char sql[] =
		"SELECT " REGION_COLUMNS " FROM regions WHERE parent_code = ?"
		" ORDER BY code LIMIT ?";
	json_t *children = json_array();
	if (!children) {
		err_oom(err);
		return -1;
	}
	json_object_set_new(out, "children", children);
	sqlite3_stmt *st = store_stmt(req->store, sql, err);
	if (!st)
		return -1;
	store_bind_text(st, 1, r->code);
	sqlite3_bind_int(st, 2, CHILDREN_MAX);
	/* Collect first: counting below reuses other statements, and this
	 * one must be finished before a nested query changes the cache. */
	struct region *rows = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			struct region *g = realloc(rows, cap * sizeof *rows);
			if (!g) {
				sqlite3_reset(st);
				free(rows);
				err_oom(err);
				return -1;
			}
			rows = g;
		}
		regions_from_row(st, 0, &rows[n++]);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(rows);
		return store_fail(req->store, err, "reading children");
	}
	for (size_t i = 0; i < n; i++) {
		json_t *c = region_brief(&rows[i]);
		if (!c) {
			free(rows);
			err_oom(err);
			return -1;
		}
		if (rows[i].level < LEVEL_VILLAGE) {
			long v = regions_count_below(req->store, &rows[i],
						     LEVEL_VILLAGE, err);
			if (v < 0) {
				json_decref(c);
				free(rows);
				return -1;
			}
			json_object_set_new(c, "village_count", json_integer(v));
		}
		json_array_append_new(children, c);
	}
	free(rows);
	return 0;
}

API_HANDLER(api_regions_get)
{
	struct region r, anc[LEVEL_COUNT_MAX];
	const char *code = req->params[0];
	if (!util_is_region_code(code, strlen(code))) {
		err_not_found(err, "no region with code %.40s (codes have 12 "
			      "digits)", code);
		return -1;
	}
	if (regions_get(req->store, code, &r, err) < 0)
		return -1;
	int na = regions_ancestors(req->store, &r, anc, LEVEL_COUNT_MAX, err);
	if (na < 0)
		return -1;
	long nchildren = regions_count_below(req->store, &r, 0, err);
	long nvillages = regions_count_below(req->store, &r, LEVEL_VILLAGE, err);
	if (nchildren < 0 || nvillages < 0)
		return -1;
	char topic[REGION_PATH_MAX + 300];
	regions_topic(req->app->cfg->mqtt_alert_prefix, &r, topic, sizeof topic);
	json_t *o = region_brief(&r);
	json_t *ancestors = json_array();
	if (!o || !ancestors) {
		json_decref(o);
		json_decref(ancestors);
		err_oom(err);
		return -1;
	}
	for (int i = 0; i < na; i++)
		json_array_append_new(ancestors, region_brief(&anc[i]));
	json_object_set_new(o, "parent", r.parent[0] ? json_string(r.parent)
						     : json_null());
	json_object_set_new(o, "ancestors", ancestors);
	json_object_set_new(o, "topic", json_string(topic));
	json_object_set_new(o, "descendant_count", json_integer(nchildren));
	json_object_set_new(o, "village_count", json_integer(nvillages));
	if (campaigns_region_quiet(req->store, req->app->cfg, r.path, o,
				   err) < 0 ||
	    add_children(req, &r, o, err) < 0) {
		json_decref(o);
		return -1;
	}
	json_object_set_new(o, "children_count",
			    json_integer((json_int_t)json_array_size(
				    json_object_get(o, "children"))));
	if (http_reply_json(res, 200, o) < 0) {
		err_oom(err);
		return -1;
	}
	return 0;
}

API_HANDLER(api_regions_import)
{
	struct regions_import_result r;
	if (regions_import_csv(req->store, buf_str(&req->body), req->body.len,
			       req->app->cfg->channels_auto_mqtt, &r,
			       err) < 0) {
		if (json_array_size(r.errors) > 0) {
			http_reply_error_details(res, err, r.errors);
			return 0;
		}
		json_decref(r.errors);
		return -1;
	}
	json_decref(r.errors);
	http_audit(req, "region.import", "regions", "%ld inserted, %ld updated, "
		   "%ld unchanged", r.inserted, r.updated, r.unchanged);
	json_t *j = json_pack("{s:I, s:I, s:I}", "inserted",
			      (json_int_t)r.inserted, "updated",
			      (json_int_t)r.updated, "unchanged",
			      (json_int_t)r.unchanged);
	if (!j || http_reply_json(res, 200, j) < 0) {
		err_oom(err);
		return -1;
	}
	return 0;
}
