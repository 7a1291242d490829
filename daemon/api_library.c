/* api_library: the science library endpoints, and the public page of a
 * notice that every message links to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "buf.h"
#include "catalog.h"
#include "library.h"
#include "util.h"

static int reply(struct http_res *res, int status, json_t *j, struct err *err)
{
	if (http_reply_json(res, status, j) < 0) {
		err_oom(err);
		return -1;
	}
	return 0;
}

static int check_id(const char *id, struct err *err)
{
	size_t n = strlen(id);
	if (n == 0 || n > 80) {
		err_not_found(err, "no notice %.80s", id);
		return -1;
	}
	return 0;
}

static void audit_notice(struct http_req *req, const char *action,
			 const json_t *n)
{
	char object[120];
	snprintf(object, sizeof object, "notice/%.100s",
		 json_string_value(json_object_get(n, "id")));
	http_audit(req, action, object, "version %lld",
		   (long long)json_integer_value(json_object_get(n, "version")));
}

API_HANDLER(api_library_list)
{
	struct library_filter f = {
		.hazard = http_query(req, "hazard"),
		.audience = http_query(req, "audience"),
		.locale = http_query(req, "locale"),
	};
	if (http_query_long(req, "limit", 1, 1000, 100, &f.limit, err) < 0 ||
	    http_query_long(req, "offset", 0, 1000000, 0, &f.offset, err) < 0)
		return -1;
	json_t *out = NULL;
	if (library_list(req->store, &f, &out, err) < 0)
		return -1;
	return reply(res, 200, out, err);
}

API_HANDLER(api_library_get)
{
	json_t *out = NULL;
	long version;
	if (check_id(req->params[0], err) < 0 ||
	    http_query_long(req, "version", 1, INT32_MAX, 0, &version, err) < 0 ||
	    library_get(req->store, req->params[0], (int)version, &out, err) < 0)
		return -1;
	return reply(res, 200, out, err);
}

API_HANDLER(api_library_create)
{
	json_t *body = NULL, *out = NULL;
	if (http_body_json(req, &body, err) < 0)
		return -1;
	int rc = library_create(req->store, req->app->cfg, body, req->actor,
				&out, err);
	json_decref(body);
	if (rc < 0)
		return -1;
	audit_notice(req, "library.create", out);
	return reply(res, 201, out, err);
}

API_HANDLER(api_library_update)
{
	json_t *body = NULL, *out = NULL, *details = NULL;
	if (check_id(req->params[0], err) < 0 ||
	    http_body_json(req, &body, err) < 0)
		return -1;
	int rc = library_update(req->store, req->app->cfg, req->params[0], body,
				req->actor, &out, &details, err);
	json_decref(body);
	if (rc < 0) {
		if (err->status == 409 && details) {
			http_reply_error_details(res, err, details);
			return 0;
		}
		json_decref(details);
		return -1;
	}
	audit_notice(req, "library.update", out);
	return reply(res, 200, out, err);
}

API_HANDLER(api_library_delete)
{
	long version;
	if (check_id(req->params[0], err) < 0)
		return -1;
	if (!http_query(req, "version")) {
		err_set(err, 400, "bad_request", "version",
			"say which version you are deleting: ?version=N");
		return -1;
	}
	if (http_query_long(req, "version", 1, INT32_MAX, 0, &version, err) < 0 ||
	    library_delete(req->store, req->params[0], (int)version, req->actor,
			   err) < 0)
		return -1;
	char object[120];
	snprintf(object, sizeof object, "notice/%.100s", req->params[0]);
	http_audit(req, "library.delete", object, "version %ld deleted",
		   version);
	return http_reply_text(res, 204, NULL, "", 0) < 0 ? (err_oom(err), -1)
							    : 0;
}

API_HANDLER(api_library_history)
{
	json_t *out = NULL;
	if (check_id(req->params[0], err) < 0 ||
	    library_history(req->store, req->params[0], &out, err) < 0)
		return -1;
	return reply(res, 200, out, err);
}

API_HANDLER(api_library_search)
{
	const char *q = http_query(req, "q");
	long limit;
	if (!q || !*q) {
		err_set(err, 400, "bad_request", "q", "q (what to look for) is "
			"required");
		return -1;
	}
	if (strlen(q) > 200 || !util_utf8_valid(q, strlen(q))) {
		err_set(err, 400, "bad_request", "q",
			"q must be UTF-8 text of at most 200 bytes");
		return -1;
	}
	if (http_query_long(req, "limit", 1, 100, 20, &limit, err) < 0)
		return -1;
	json_t *out = NULL;
	if (library_search(req->store, q, http_query(req, "locale"),
			   http_query(req, "hazard"), limit, &out, err) < 0)
		return -1;
	return reply(res, 200, out, err);
}

API_HANDLER(api_library_import)
{
	struct library_import_result r;
	if (library_import(req->store, req->app->cfg, buf_str(&req->body),
			   req->body.len, req->actor, &r, err) < 0) {
		if (json_array_size(r.errors)) {
			http_reply_error_details(res, err, r.errors);
			return 0;
		}
		json_decref(r.errors);
		return -1;
	}
	json_decref(r.errors);
	http_audit(req, "library.import", "library", "%ld inserted, %ld updated, "
		   "%ld unchanged", r.inserted, r.updated, r.unchanged);
	return reply(res, 200, json_pack("{s:I, s:I, s:I}", "inserted",
					 (json_int_t)r.inserted, "updated",
					 (json_int_t)r.updated, "unchanged",
					 (json_int_t)r.unchanged), err);
}

API_HANDLER(api_library_export)
{
	char *text = NULL;
	size_t len = 0;
	if (library_export(req->store, http_query(req, "hazard"),
			   http_query(req, "locale"), &text, &len, err) < 0)
		return -1;
	int rc = http_reply_text(res, 200, "application/x-ndjson; charset=utf-8",
				 text, len);
	free(text);
	if (rc < 0) {
		err_oom(err);
		return -1;
	}
	http_add_header(res, "Content-Disposition",
			"attachment; filename=\"scicast-library.jsonl\"");
	return 0;
}

static void html_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': buf_append_str(b, "&lt;"); break;
		case '>': buf_append_str(b, "&gt;"); break;
		case '&': buf_append_str(b, "&amp;"); break;
		case '"': buf_append_str(b, "&quot;"); break;
		case '\'': buf_append_str(b, "&#39;"); break;
		case '\n': buf_append_str(b, "<br>\n"); break;
		default: buf_append_char(b, *s);
		}
	}
}

/* GET /library/{id}: the public page a message's notice links to. */
API_HANDLER(page_library_notice)
{
	json_t *n = NULL;
	if (check_id(req->params[0], err) < 0 ||
	    library_get(req->store, req->params[0], 0, &n, err) < 0)
		return -1;
	struct buf b = BUF_INIT;
	const char *fields[] = { "title", "summary", "text", "authority",
				 "updated", "locale" };
	const char *v[6];
	for (int i = 0; i < 6; i++)
		v[i] = json_string_value(json_object_get(n, fields[i]));
	buf_append_str(&b, "<!doctype html>\n<html lang=\"");
	html_escape(&b, v[5]);
	buf_append_str(&b, "\"><meta charset=\"utf-8\"><meta name=\"viewport\" "
			   "content=\"width=device-width\"><title>");
	html_escape(&b, v[0]);
	buf_append_str(&b, "</title><style>body{font:16px/1.6 sans-serif;"
			   "max-width:42em;margin:2em auto;padding:0 1em}"
			   ".s{font-weight:bold}.a{color:#555}</style>\n<h1>");
	html_escape(&b, v[0]);
	buf_append_str(&b, "</h1>\n<p class=\"s\">");
	html_escape(&b, v[1]);
	buf_append_str(&b, "</p>\n<p>");
	html_escape(&b, v[2]);
	buf_append_str(&b, "</p>\n<p class=\"a\">");
	html_escape(&b, v[3]);
	buf_append_str(&b, " · ");
	html_escape(&b, v[4]);
	buf_append_str(&b, "</p>\n");
	json_decref(n);
	int rc = http_reply_text(res, 200, "text/html; charset=utf-8",
				 buf_str(&b), b.len);
	buf_free(&b);
	if (rc < 0) {
		err_oom(err);
		return -1;
	}
	http_add_header(res, "Cache-Control", "public, max-age=300");
	return 0;
}
