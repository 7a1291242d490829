/* api_campaigns: everyday-science campaigns over HTTP, and the quiet hours
 * of a region. The scheduling and sending live in campaigns.c. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "campaigns.h"
#include "util.h"

static int reply(struct http_res *res, int status, json_t *j, struct err *err)
{
	if (http_reply_json(res, status, j) < 0) {
		err_oom(err);
		return -1;
	}
	return 0;
}

static void audit_campaign(struct http_req *req, const char *action,
			   const json_t *c)
{
	char object[40];
	snprintf(object, sizeof object, "campaign/%lld",
		 (long long)json_integer_value(json_object_get(c, "id")));
	http_audit(req, action, object, "%.100s, version %lld, %s",
		   json_string_value(json_object_get(c, "name")),
		   (long long)json_integer_value(json_object_get(c, "version")),
		   json_string_value(json_object_get(c, "schedule")));
}

API_HANDLER(api_campaigns_list)
{
	json_t *out = NULL;
	if (campaigns_list(req->store, &out, err) < 0)
		return -1;
	return reply(res, 200, out, err);
}

API_HANDLER(api_campaigns_get)
{
	json_t *out = NULL;
	int64_t id;
	if (api_param_id(req, 0, &id, err) < 0 ||
	    campaigns_get(req->store, id, &out, err) < 0)
		return -1;
	return reply(res, 200, out, err);
}

API_HANDLER(api_campaigns_create)
{
	json_t *body = NULL, *out = NULL;
	if (http_body_json(req, &body, err) < 0)
		return -1;
	int rc = campaigns_create(req->store, req->app->cfg, body, req->actor,
				  &out, err);
	json_decref(body);
	if (rc < 0)
		return -1;
	audit_campaign(req, "campaign.create", out);
	return reply(res, 201, out, err);
}

API_HANDLER(api_campaigns_update)
{
	json_t *body = NULL, *out = NULL;
	int64_t id;
	if (api_param_id(req, 0, &id, err) < 0 ||
	    http_body_json(req, &body, err) < 0)
		return -1;
	int rc = campaigns_update(req->store, req->app->cfg, id, body, &out,
				  err);
	json_decref(body);
	if (rc < 0)
		return -1;
	audit_campaign(req, "campaign.update", out);
	return reply(res, 200, out, err);
}

API_HANDLER(api_campaigns_delete)
{
	int64_t id;
	if (api_param_id(req, 0, &id, err) < 0 ||
	    campaigns_delete(req->store, id, err) < 0)
		return -1;
	char object[40];
	snprintf(object, sizeof object, "campaign/%lld", (long long)id);
	http_audit(req, "campaign.delete", object, "deleted; its messages "
		   "already planned still go out");
	return http_reply_text(res, 204, NULL, "", 0) < 0 ? (err_oom(err), -1)
							    : 0;
}

API_HANDLER(api_campaigns_preview)
{
	json_t *out = NULL;
	int64_t id;
	long n;
	if (api_param_id(req, 0, &id, err) < 0 ||
	    http_query_long(req, "n", 1, 100, 10, &n, err) < 0 ||
	    campaigns_preview(req->store, id, (int)n, &out, err) < 0)
		return -1;
	return reply(res, 200, out, err);
}

API_HANDLER(api_campaigns_runs)
{
	json_t *out = NULL, *c = NULL;
	int64_t id;
	if (api_param_id(req, 0, &id, err) < 0 ||
	    campaigns_get(req->store, id, &c, err) < 0)
		return -1;
	json_decref(c);
	if (campaigns_runs(req->store, id, &out, err) < 0)
		return -1;
	return reply(res, 200, out, err);
}

API_HANDLER(api_campaigns_run)
{
	json_t *out = NULL;
	int64_t id;
	if (api_param_id(req, 0, &id, err) < 0 ||
	    campaigns_run_now(req->store, req->app->cfg, id, &out, err) < 0)
		return -1;
	char object[40];
	snprintf(object, sizeof object, "campaign/%lld", (long long)id);
	http_audit(req, "campaign.run", object, "run %lld now: %s to %lld "
		   "channel(s), %lld in an emergency, %lld in quiet hours",
		   (long long)json_integer_value(json_object_get(out, "run")),
		   json_string_value(json_object_get(out, "notice_id")),
		   (long long)json_integer_value(json_object_get(out, "deliveries")),
		   (long long)json_integer_value(json_object_get(out, "suppressed")),
		   (long long)json_integer_value(json_object_get(out, "quiet")));
	return reply(res, 202, out, err);
}

API_HANDLER(api_regions_update)
{
	const char *code = req->params[0];
	json_t *body = NULL, *out = NULL;
	if (!util_is_region_code(code, strlen(code))) {
		err_not_found(err, "no region with code %.40s (codes have 12 "
			      "digits)", code);
		return -1;
	}
	if (http_body_json(req, &body, err) < 0)
		return -1;
	int rc = campaigns_set_quiet(req->store, req->app->cfg, code, body, &out,
				     err);
	json_decref(body);
	if (rc < 0)
		return -1;
	char object[40];
	snprintf(object, sizeof object, "region/%s", code);
	const char *q = json_string_value(json_object_get(out, "quiet_hours"));
	http_audit(req, "region.update", object, "quiet hours %s",
		   q ? q : "inherited");
	return reply(res, 200, out, err);
}
