/* api_emergencies: declare, update, cancel, and watch coverage. The rules
 * live in emergency.c; a handler reads the request, calls it, and wakes
 * the senders once something was committed. */
#include <string.h>

#include "api.h"
#include "config.h"
#include "emergency.h"
#include "jsonutil.h"
#include "mqtt.h"
#include "util.h"

static void ctx_of(struct http_req *req, struct emergency_ctx *c)
{
	c->store = req->store;
	c->cfg = req->app->cfg;
	c->actor = req->actor;
	c->public_url = req->app->public_url;
}

static int reply(struct http_res *res, int status, json_t *j, struct err *err)
{
	if (http_reply_json(res, status, j) < 0) {
		err_oom(err);
		return -1;
	}
	return 0;
}

static int dry_run_param(struct http_req *req, bool *out, struct err *err)
{
	const char *v = http_query(req, "dry_run");
	*out = false;
	if (!v)
		return 0;
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = true;
	else if (strcmp(v, "false") != 0 && strcmp(v, "0") != 0) {
		err_set(err, 400, "bad_request", "dry_run",
			"dry_run must be true or false");
		return -1;
	}
	return 0;
}

API_HANDLER(api_emergencies_declare)
{
	struct emergency_ctx c;
	json_t *body = NULL, *out = NULL;
	bool dry;
	if (dry_run_param(req, &dry, err) < 0 ||
	    http_body_json(req, &body, err) < 0)
		return -1;
	ctx_of(req, &c);
	int rc = emergency_declare(&c, body, dry, &out, err);
	json_decref(body);
	if (rc < 0)
		return -1;
	if (dry) {
		http_no_audit(req);
	} else {
		char object[32];
		json_int_t id = json_integer_value(json_object_get(out, "id"));
		snprintf(object, sizeof object, "emergency/%lld", (long long)id);
		http_audit(req, "emergency.declare", object,
			   "%lld deliveries planned",
			   (long long)json_integer_value(json_object_get(
				   json_object_get(out, "planned"),
				   "deliveries")));
	}
	return reply(res, dry ? 200 : 201, out, err);
}

API_HANDLER(api_emergencies_revise)
{
	struct emergency_ctx c;
	json_t *body = NULL, *out = NULL;
	int64_t id;
	bool dry;
	if (api_param_id(req, 0, &id, err) < 0 ||
	    dry_run_param(req, &dry, err) < 0 ||
	    http_body_json(req, &body, err) < 0)
		return -1;
	ctx_of(req, &c);
	int rc = emergency_revise(&c, id, body, dry, &out, err);
	json_decref(body);
	if (rc < 0)
		return -1;
	if (dry) {
		http_no_audit(req);
	} else {
		char object[32];
		snprintf(object, sizeof object, "emergency/%lld", (long long)id);
		http_audit(req, "emergency.update", object, "revision %lld",
			   (long long)json_integer_value(json_object_get(out,
									 "revision")));
	}
	return reply(res, dry ? 200 : 201, out, err);
}

API_HANDLER(api_emergencies_cancel)
{
	static const char *const allowed[] = { "reason", NULL };
	struct emergency_ctx c;
	json_t *body = NULL, *out = NULL;
	const char *reason = NULL;
	int64_t id;
	if (api_param_id(req, 0, &id, err) < 0)
		return -1;
	if (req->body.len && (http_body_json(req, &body, err) < 0 ||
			      ju_check_object(body, allowed, err) < 0 ||
			      ju_get_string(body, "reason", false, 500, &reason,
					    err) < 0)) {
		json_decref(body);
		return -1;
	}
	ctx_of(req, &c);
	char object[32];
	snprintf(object, sizeof object, "emergency/%lld", (long long)id);
	http_audit(req, "emergency.cancel", object, "cancelled%s%.200s",
		   reason ? ": " : "", reason ? reason : "");
	int rc = emergency_end(&c, id, "cancel", reason, &out, err);
	json_decref(body);
	if (rc < 0)
		return -1;
	return reply(res, 200, out, err);
}

API_HANDLER(api_emergencies_get)
{
	json_t *out = NULL;
	int64_t id;
	if (api_param_id(req, 0, &id, err) < 0 ||
	    emergency_get(req->store, id, &out, err) < 0)
		return -1;
	return reply(res, 200, out, err);
}

API_HANDLER(api_emergencies_list)
{
	static const char *const statuses[] = { "active", "cancelled", "expired",
						"ended", NULL };
	struct emergency_filter f = { .status = http_query(req, "status") };
	if (f.status) {
		bool ok = false;
		for (const char *const *s = statuses; *s && !ok; s++)
			ok = strcmp(*s, f.status) == 0;
		if (!ok) {
			err_set(err, 400, "bad_request", "status",
				"status must be active, cancelled, expired or "
				"ended");
			return -1;
		}
	}
	if (http_query_long(req, "limit", 1, 1000, 50, &f.limit, err) < 0 ||
	    http_query_long(req, "offset", 0, 100000000, 0, &f.offset, err) < 0)
		return -1;
	json_t *out = NULL;
	if (emergency_list(req->store, &f, &out, err) < 0)
		return -1;
	return reply(res, 200, out, err);
}

API_HANDLER(api_emergencies_deliveries)
{
	static const char *const states[] = { "pending", "inflight", "sent",
					      "acked", "failed", "dead",
					      "superseded", NULL };
	struct delivery_filter f = {
		.state = http_query(req, "state"),
		.town = http_query(req, "town"),
		.kind = http_query(req, "kind"),
	};
	const char *tier = http_query(req, "tier");
	const char *rev = http_query(req, "revision");
	int64_t id;
	long n;
	if (api_param_id(req, 0, &id, err) < 0)
		return -1;
	if (f.state) {
		bool ok = false;
		for (const char *const *s = states; *s && !ok; s++)
			ok = strcmp(*s, f.state) == 0;
		if (!ok) {
			err_set(err, 400, "bad_request", "state",
				"state must be one of pending, inflight, sent, "
				"acked, failed, dead, superseded");
			return -1;
		}
	}
	if (f.town && !util_is_region_code(f.town, strlen(f.town))) {
		err_set(err, 400, "bad_request", "town",
			"town must be a 12-digit code");
		return -1;
	}
	if (tier && (f.tier = config_level_parse(tier, strlen(tier))) < 0) {
		err_set(err, 400, "bad_request", "tier",
			"tier must be province, city, county, town or village");
		return -1;
	}
	if (f.tier < 0)
		f.tier = 0;
	if (rev && strcmp(rev, "all") == 0)
		f.revision = -1;
	else if (http_query_long(req, "revision", 1, 1000000, 0, &n, err) < 0)
		return -1;
	else
		f.revision = (int)n;
	if (http_query_long(req, "limit", 1, 5000, 100, &f.limit, err) < 0 ||
	    http_query_long(req, "offset", 0, 100000000, 0, &f.offset, err) < 0)
		return -1;
	json_t *out = NULL;
	if (emergency_deliveries(req->store, id, &f, &out, err) < 0)
		return -1;
	return reply(res, 200, out, err);
}
