/* api_system: the daemon's own endpoints: health, metrics, version. */
#include <stdio.h>

#include "api.h"
#include "metrics.h"
#include "util.h"
#include "version.h"

API_HANDLER(api_healthz)
{
	struct err dberr;
	err_clear(&dberr);
	bool db_ok = store_ping(req->store, &dberr) == 0;
	char started[40];
	util_format_local(req->app->started_ms, started, sizeof started);
	json_t *j = json_pack("{s:s, s:s, s:s, s:I}",
			      "status", db_ok ? "ok" : "failing",
			      "database", db_ok ? "ok" : dberr.message,
			      "started_at", started,
			      "uptime_s", (json_int_t)((util_now_ms() -
							req->app->started_ms) /
						       1000));
	if (!j) {
		err_oom(err);
		return -1;
	}
	if (http_reply_json(res, db_ok ? 200 : 503, j) < 0) {
		err_oom(err);
		return -1;
	}
	return 0;
}

API_HANDLER(api_metrics)
{
	struct buf b = BUF_INIT;
	(void)req;
	if (metrics_render(&b) < 0 ||
	    http_reply_text(res, 200, "text/plain; version=0.0.4; charset=utf-8",
			    buf_str(&b), b.len) < 0) {
		buf_free(&b);
		err_oom(err);
		return -1;
	}
	buf_free(&b);
	return 0;
}

API_HANDLER(api_version)
{
	json_t *j = json_pack("{s:s, s:i, s:i}", "version", SCICAST_VERSION,
			      "schema", store_schema_version(req->store),
			      "schema_latest", store_schema_latest());
	if (!j || http_reply_json(res, 200, j) < 0) {
		err_oom(err);
		return -1;
	}
	return 0;
}

int api_param_id(struct http_req *req, int i, int64_t *out, struct err *err)
{
	long long v;
	if (i >= req->nparams ||
	    util_parse_ll(req->params[i], 1, INT64_MAX, &v) < 0) {
		err_not_found(err, "no such object: %.40s",
			      i < req->nparams ? req->params[i] : "");
		return -1;
	}
	*out = v;
	return 0;
}
