/* api_cap: CAP documents, the public feed, and ingest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cap.h"
#include "emergency.h"
#include "util.h"

#define CAP_TYPE "application/cap+xml; charset=utf-8"

static int reply_xml(struct http_res *res, const char *type, char *xml,
		     size_t len, struct err *err)
{
	int rc = http_reply_text(res, 200, type, xml, len);
	free(xml);
	if (rc < 0) {
		err_oom(err);
		return -1;
	}
	return 0;
}

static int export(struct http_req *req, struct http_res *res, struct err *err,
		  bool public_only)
{
	int64_t id, n = 0;
	char *xml = NULL;
	size_t len = 0;
	if (api_param_id(req, 0, &id, err) < 0 ||
	    (req->nparams > 1 && api_param_id(req, 1, &n, err) < 0))
		return -1;
	if (n > INT32_MAX) {
		err_not_found(err, "no such revision");
		return -1;
	}
	if (cap_export(req->store, req->app->cfg, id, (int)n, public_only, &xml,
		       &len, err) < 0)
		return -1;
	if (reply_xml(res, CAP_TYPE, xml, len, err) < 0)
		return -1;
	if (public_only)
		http_add_header(res, "Cache-Control", "public, max-age=30");
	return 0;
}

API_HANDLER(api_emergencies_cap)
{
	return export(req, res, err, false);
}

API_HANDLER(page_cap_alert)
{
	return export(req, res, err, true);
}

API_HANDLER(page_cap_feed)
{
	char *xml = NULL;
	size_t len = 0;
	if (cap_feed(req->store, req->app->cfg, req->app->public_url, &xml,
		     &len, err) < 0 ||
	    reply_xml(res, "application/atom+xml; charset=utf-8", xml, len,
		      err) < 0)
		return -1;
	http_add_header(res, "Cache-Control", "public, max-age=30");
	return 0;
}

API_HANDLER(api_cap_ingest)
{
	/* a big alert commits in stages (emergency.h): the CAP identity is
	 * remembered in the first */
	struct emergency_ctx c;
	api_emergency_ctx(req, &c);
	json_t *out = NULL;
	int status = 201;
	if (req->body.len == 0) {
		err_set(err, 400, "bad_request", "body",
			"the request needs a CAP 1.2 document");
		return -1;
	}
	if (cap_ingest(&c, buf_str(&req->body), req->body.len, &out, &status,
		       err) < 0)
		return -1;
	char object[32];
	snprintf(object, sizeof object, "emergency/%lld",
		 (long long)json_integer_value(json_object_get(out, "id")));
	if (status == 200)
		http_no_audit(req); /* the same identifier again: nothing done */
	else
		http_audit(req, "cap.ingest", object, "CAP %.200s",
			   json_string_value(json_object_get(out,
							     "cap_identifier")));
	if (http_reply_json(res, status, out) < 0) {
		err_oom(err);
		return -1;
	}
	return 0;
}
