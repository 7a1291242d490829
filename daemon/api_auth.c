/* api_auth: tokens, who am I, and the audit log. */
#include <string.h>

#include "api.h"
#include "audit.h"
#include "auth.h"
#include "jsonutil.h"
#include "util.h"

static int reply(struct http_res *res, int status, json_t *j, struct err *err)
{
	if (http_reply_json(res, status, j) < 0) {
		err_oom(err);
		return -1;
	}
	return 0;
}

API_HANDLER(api_whoami)
{
	(void)err;
	return reply(res, 200, json_pack("{s:s, s:s}", "name", req->actor,
					 "role", auth_role_name(req->actor_role)),
		     err);
}

API_HANDLER(api_tokens_list)
{
	json_t *out = NULL;
	if (auth_token_list(req->store, &out, err) < 0)
		return -1;
	return reply(res, 200, out, err);
}

API_HANDLER(api_tokens_create)
{
	static const char *const allowed[] = { "name", "role", "expires_at",
					       "expires_in", NULL };
	json_t *body = NULL, *out = NULL;
	const char *name, *role, *at, *in;
	char token[AUTH_TOKEN_MAX];
	int64_t expires = 0, id;
	int rc = -1;
	if (http_body_json(req, &body, err) < 0)
		return -1;
	if (ju_check_object(body, allowed, err) < 0 ||
	    ju_get_string(body, "name", true, AUTH_NAME_MAX, &name, err) < 0 ||
	    ju_get_string(body, "role", true, 10, &role, err) < 0 ||
	    ju_get_string(body, "expires_at", false, 40, &at, err) < 0 ||
	    ju_get_string(body, "expires_in", false, 20, &in, err) < 0)
		goto done;
	int r = auth_role_parse(role);
	if (r < 0) {
		err_invalid(err, "role", "role must be viewer, operator or admin");
		goto done;
	}
	if (at && util_parse_iso(at, &expires) < 0) {
		err_invalid(err, "expires_at", "expires_at must be a time like "
			    "2027-01-01T00:00:00+08:00");
		goto done;
	}
	if (in) {
		int64_t ms;
		if (util_parse_duration_ms(in, &ms) < 0 || ms <= 0) {
			err_invalid(err, "expires_in", "expires_in must be like "
				    "30d or 12h");
			goto done;
		}
		expires = util_now_ms() + ms;
	}
	if (auth_token_create(req->store, name, (enum role)r, expires,
			      req->actor, token, &id, err) < 0 ||
	    auth_token_get(req->store, id, &out, err) < 0)
		goto done;
	json_object_set_new(out, "token", json_string(token));
	explicit_bzero(token, sizeof token);
	http_audit(req, "token.create", "token", "token %lld \"%s\" (%s)%s",
		   (long long)id, name, role, expires ? ", expiring" : "");
	rc = reply(res, 201, out, err);
done:
	json_decref(body);
	return rc;
}

API_HANDLER(api_tokens_revoke)
{
	int64_t id;
	if (api_param_id(req, 0, &id, err) < 0 ||
	    auth_token_revoke(req->store, id, req->actor, err) < 0)
		return -1;
	char object[32];
	snprintf(object, sizeof object, "token/%lld", (long long)id);
	http_audit(req, "token.revoke", object, "token %lld revoked",
		   (long long)id);
	return http_reply_text(res, 204, NULL, "", 0) < 0 ? (err_oom(err), -1)
							    : 0;
}

API_HANDLER(api_audit_list)
{
	struct audit_filter f = {
		.action = http_query(req, "action"),
		.actor = http_query(req, "actor"),
		.object = http_query(req, "object"),
	};
	const char *since = http_query(req, "since");
	const char *until = http_query(req, "until");
	if ((since && util_parse_iso(since, &f.since_ms) < 0) ||
	    (until && util_parse_iso(until, &f.until_ms) < 0)) {
		err_set(err, 400, "bad_request", since ? "since" : "until",
			"since and until must be times like "
			"2026-11-29T00:00:00+08:00");
		return -1;
	}
	if (http_query_long(req, "limit", 1, 1000, 100, &f.limit, err) < 0 ||
	    http_query_long(req, "offset", 0, 100000000, 0, &f.offset, err) < 0)
		return -1;
	json_t *out = NULL;
	if (audit_list(req->store, &f, &out, err) < 0)
		return -1;
	return reply(res, 200, out, err);
}
