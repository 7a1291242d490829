/* api_emergencies: declare, update, cancel, and watch coverage. The rules
 * live in emergency.c; a handler reads the request, calls it, and wakes
 * the senders once something was committed. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "config.h"
#include "approvals.h"
#include "auth.h"
#include "emergency.h"
#include "idempotency.h"
#include "jsonutil.h"
#include "log.h"
#include "mqtt.h"
#include "respcache.h"
#include "util.h"

void api_emergency_ctx(struct http_req *req, struct emergency_ctx *c)
{
	memset(c, 0, sizeof *c);
	c->store = req->store;
	c->cfg = req->app->cfg;
	c->actor = req->actor;
	c->public_url = req->app->public_url;
	c->role = auth_role_name(req->actor_role);
	c->remote = req->remote;
	c->wake = app_wake_senders_cb;
	c->wake_arg = req->app;
	c->stopping = &req->app->stopping;
	/* a big plan commits in stages: nothing but the audit row follows
	 * it here, and an approval writes its decision into its first */
	c->staged = true;
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

/* A declaration that needs a second operator: validated by a dry run,
 * then held. 202 with the request. */
static int hold_for_approval(struct http_req *req, struct http_res *res,
			     const struct emergency_ctx *c, const char *kind,
			     int64_t emergency, json_t *body, int severity,
			     struct err *err)
{
	json_t *plan = NULL, *out = NULL;
	int rc = strcmp(kind, "declare") == 0
			 ? emergency_declare(c, body, true, &plan, err)
			 : emergency_revise(c, emergency, body, true, &plan, err);
	if (rc < 0)
		return -1;
	rc = approvals_request(req->store, c->cfg, kind, emergency, body,
			       severity, req->actor,
			       json_object_get(plan, "planned"), &out, err);
	json_decref(plan);
	if (rc == 0 && idem_remember(req->store, c->idem, 0,
				     json_integer_value(json_object_get(
					     out, "approval_id")), err) < 0) {
		json_decref(out);
		rc = -1;
	}
	if (rc < 0)
		return -1;
	char object[32];
	snprintf(object, sizeof object, "approval/%lld",
		 (long long)json_integer_value(json_object_get(out,
							       "approval_id")));
	http_audit(req, "approval.request", object, "%s",
		   json_string_value(json_object_get(out, "summary")));
	return reply(res, 202, out, err);
}

static int severity_of(const json_t *body)
{
	const char *s = json_string_value(json_object_get(body, "severity"));
	return s ? config_severity_parse(s) : -1;
}

/* A declaration or update sent again with its Idempotency-Key: what the
 * first one made, as it is now; nothing is stored or sent. */
static int replay(struct http_req *req, struct http_res *res,
		  const struct idem *key, const struct idem_found *seen,
		  struct err *err)
{
	json_t *out = NULL;
	int rc = seen->emergency
			 ? emergency_get(req->store, seen->emergency, &out, err)
			 : approvals_get(req->store, seen->approval, &out, err);
	if (rc < 0)
		return -1;
	json_object_set_new(out, "replayed", json_true());
	log_info("%s %s by %s with Idempotency-Key %.100s sent again: "
		 "answered with %s %lld", req->method, req->path, req->actor,
		 key->key,
		 seen->emergency ? "emergency" : "approval request",
		 (long long)(seen->emergency ? seen->emergency
					     : seen->approval));
	http_no_audit(req);
	if (http_add_header(res, "Idempotent-Replayed", "true") < 0) {
		json_decref(out);
		err_internal(err, "too many response headers");
		return -1;
	}
	return reply(res, seen->emergency ? 200 : 202, out, err);
}

/* Reads the request's Idempotency-Key (none for a dry run: it stores
 * nothing, so it has nothing to be sent again). A key sent before is
 * answered here with what it made: 1. Otherwise 0, and *c is the route's
 * context, remembering the key with what the route makes. -1: an error. */
static int idempotent(struct http_req *req, struct http_res *res,
		      const char *what, bool dry, const json_t *body,
		      struct idem *key, struct emergency_ctx *c,
		      struct err *err)
{
	struct idem_found seen;
	if (idem_parse(dry ? NULL : http_header(req, "Idempotency-Key"),
		       req->actor, what, body, key, err) < 0 ||
	    idem_lookup(req->store, key, &seen, err) < 0)
		return -1;
	if (seen.found)
		return replay(req, res, key, &seen, err) < 0 ? -1 : 1;
	api_emergency_ctx(req, c);
	c->idem = key;
	return 0;
}

API_HANDLER(api_emergencies_declare)
{
	struct emergency_ctx c;
	json_t *body = NULL, *out = NULL;
	struct idem key;
	bool dry;
	if (dry_run_param(req, &dry, err) < 0 ||
	    http_body_json(req, &body, err) < 0)
		return -1;
	int seen = idempotent(req, res, "declare", dry, body, &key, &c, err);
	if (seen != 0) {
		json_decref(body);
		return seen < 0 ? -1 : 0;
	}
	bool held = approvals_needed(c.cfg, severity_of(body),
				     json_is_true(json_object_get(body,
								  "exercise")));
	if (!dry && held) {
		int rc = hold_for_approval(req, res, &c, "declare", 0, body,
					   severity_of(body), err);
		json_decref(body);
		return rc;
	}
	int rc = emergency_declare(&c, body, dry, &out, err);
	json_decref(body);
	if (rc < 0)
		return -1;
	if (dry) {
		/* so a client can say "this will wait for approval" */
		json_object_set_new(out, "approval_required", json_boolean(held));
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
	struct idem key;
	char what[40];
	bool dry;
	if (api_param_id(req, 0, &id, err) < 0 ||
	    dry_run_param(req, &dry, err) < 0 ||
	    http_body_json(req, &body, err) < 0)
		return -1;
	snprintf(what, sizeof what, "revise %lld", (long long)id);
	int seen = idempotent(req, res, what, dry, body, &key, &c, err);
	if (seen != 0) {
		json_decref(body);
		return seen < 0 ? -1 : 0;
	}
	int sev = severity_of(body);
	bool raise = false;
	if (sev >= 0) {
		json_t *cur = NULL;
		if (emergency_get(req->store, id, &cur, err) < 0) {
			json_decref(body);
			return -1;
		}
		raise = sev != config_severity_parse(json_string_value(
				       json_object_get(cur, "severity"))) &&
			approvals_needed(c.cfg, sev,
					 json_is_true(json_object_get(cur,
								      "exercise")));
		json_decref(cur);
		if (!dry && raise) {
			int rc = hold_for_approval(req, res, &c, "revise", id, body,
						   sev, err);
			json_decref(body);
			return rc;
		}
	}
	int rc = emergency_revise(&c, id, body, dry, &out, err);
	json_decref(body);
	if (rc < 0)
		return -1;
	if (dry) {
		json_object_set_new(out, "approval_required", json_boolean(raise));
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

/* Cancel and all-clear share everything but their word. */
static int end_emergency(struct http_req *req, struct http_res *res,
			 struct err *err, const char *msg_type)
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
	/* the key covers the reason too */
	struct idem key;
	char what[40];
	snprintf(what, sizeof what, "%s %lld", msg_type, (long long)id);
	int seen = idempotent(req, res, what, false, body, &key, &c, err);
	if (seen != 0) {
		json_decref(body);
		return seen < 0 ? -1 : 0;
	}
	char object[32], action[32];
	bool cancel = strcmp(msg_type, "cancel") == 0;
	snprintf(object, sizeof object, "emergency/%lld", (long long)id);
	snprintf(action, sizeof action, "emergency.%s", msg_type);
	http_audit(req, action, object, "%s%s%.200s",
		   cancel ? "cancelled" : "all clear", reason ? ": " : "",
		   reason ? reason : "");
	int rc = emergency_end(&c, id, msg_type, reason, &out, err);
	json_decref(body);
	if (rc < 0)
		return -1;
	return reply(res, 200, out, err);
}

API_HANDLER(api_emergencies_cancel)
{
	return end_emergency(req, res, err, "cancel");
}

API_HANDLER(api_emergencies_allclear)
{
	return end_emergency(req, res, err, "allclear");
}

API_HANDLER(api_approvals_list)
{
	const char *status = http_query(req, "status");
	json_t *out = NULL;
	if (status && strcmp(status, "pending") != 0 &&
	    strcmp(status, "approved") != 0 && strcmp(status, "rejected") != 0 &&
	    strcmp(status, "lapsed") != 0) {
		err_set(err, 400, "bad_request", "status", "status must be "
			"pending, approved, rejected or lapsed");
		return -1;
	}
	if (approvals_list(req->store, status, &out, err) < 0)
		return -1;
	return reply(res, 200, out, err);
}

API_HANDLER(api_approvals_get)
{
	int64_t id;
	json_t *out = NULL;
	if (api_param_id(req, 0, &id, err) < 0 ||
	    approvals_get(req->store, id, &out, err) < 0)
		return -1;
	return reply(res, 200, out, err);
}

static int decide(struct http_req *req, struct http_res *res,
		  struct err *err, bool approve)
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
	api_emergency_ctx(req, &c);
	int rc = approvals_decide(&c, id, approve, reason, &out, err);
	if (rc < 0) {
		json_decref(body);
		return -1;
	}
	char object[32];
	snprintf(object, sizeof object, "approval/%lld", (long long)id);
	if (approve)
		http_audit(req, "approval.approve", object, "approved: emergency "
			   "%lld revision %lld",
			   (long long)json_integer_value(json_object_get(out,
									 "emergency_id")),
			   (long long)json_integer_value(json_object_get(out,
									 "revision")));
	else
		http_audit(req, "approval.reject", object, "rejected%s%.200s",
			   reason ? ": " : "", reason ? reason : "");
	json_decref(body); /* reason points into it */
	return reply(res, 200, out, err);
}

API_HANDLER(api_approvals_approve)
{
	return decide(req, res, err, true);
}

API_HANDLER(api_approvals_reject)
{
	return decide(req, res, err, false);
}

API_HANDLER(api_emergencies_get)
{
	json_t *out = NULL;
	int64_t id;
	char key[64];
	size_t len;
	if (api_param_id(req, 0, &id, err) < 0)
		return -1;
	snprintf(key, sizeof key, "emergency/%lld", (long long)id);
	char *cached = respcache_get(key, req->app->cfg->http_cache_ms, &len);
	if (cached) {
		int rc = http_reply_text(res, 200, "application/json; "
					 "charset=utf-8", cached, len);
		free(cached);
		return rc < 0 ? (err_oom(err), -1) : 0;
	}
	uint64_t gen = respcache_generation();
	if (emergency_get(req->store, id, &out, err) < 0 ||
	    reply(res, 200, out, err) < 0)
		return -1;
	if (req->app->cfg->http_cache_ms > 0)
		respcache_put(key, gen, res->body, res->len);
	return 0;
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
