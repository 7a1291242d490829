/* api_channels: the channel endpoints; the rules live in channels.c. */
#include <string.h>

#include <stdio.h>

#include "api.h"
#include "channels.h"
#include "util.h"

static void audit_channel(struct http_req *req, const char *action,
			  const json_t *c)
{
	char object[32];
	snprintf(object, sizeof object, "channel/%lld",
		 (long long)json_integer_value(json_object_get(c, "id")));
	http_audit(req, action, object, "%s %s of %s, %s",
		   json_string_value(json_object_get(c, "kind")),
		   json_string_value(json_object_get(c, "role")),
		   json_string_value(json_object_get(c, "region")),
		   json_is_true(json_object_get(c, "enabled")) ? "enabled"
							       : "disabled");
}

API_HANDLER(api_channels_list)
{
	struct channels_filter f = { .enabled = -1 };
	f.region = http_query(req, "region");
	f.kind = http_query(req, "kind");
	const char *en = http_query(req, "enabled");
	if (f.region && !util_is_region_code(f.region, strlen(f.region))) {
		err_set(err, 400, "bad_request", "region",
			"region must be a 12-digit code");
		return -1;
	}
	if (f.kind && strcmp(f.kind, "mqtt") != 0 &&
	    strcmp(f.kind, "webhook") != 0) {
		err_set(err, 400, "bad_request", "kind",
			"kind must be mqtt or webhook");
		return -1;
	}
	if (en) {
		if (strcmp(en, "true") == 0)
			f.enabled = 1;
		else if (strcmp(en, "false") == 0)
			f.enabled = 0;
		else {
			err_set(err, 400, "bad_request", "enabled",
				"enabled must be true or false");
			return -1;
		}
	}
	if (http_query_long(req, "limit", 1, 5000, 100, &f.limit, err) < 0 ||
	    http_query_long(req, "offset", 0, 100000000, 0, &f.offset, err) < 0)
		return -1;
	json_t *out = NULL;
	if (channels_list(req->store, &f, req->app->cfg->mqtt_alert_prefix,
			  &out, err) < 0)
		return -1;
	return http_reply_json(res, 200, out) < 0 ? (err_oom(err), -1) : 0;
}

API_HANDLER(api_channels_create)
{
	json_t *body = NULL, *out = NULL;
	if (http_body_json(req, &body, err) < 0)
		return -1;
	int rc = channels_create(req->store, body,
				 req->app->cfg->mqtt_alert_prefix, &out, err);
	json_decref(body);
	if (rc < 0)
		return -1;
	audit_channel(req, "channel.create", out);
	return http_reply_json(res, 201, out) < 0 ? (err_oom(err), -1) : 0;
}

API_HANDLER(api_channels_get)
{
	int64_t id;
	json_t *out = NULL;
	if (api_param_id(req, 0, &id, err) < 0 ||
	    channels_get(req->store, id, req->app->cfg->mqtt_alert_prefix, &out,
			 err) < 0)
		return -1;
	return http_reply_json(res, 200, out) < 0 ? (err_oom(err), -1) : 0;
}

API_HANDLER(api_channels_update)
{
	int64_t id;
	json_t *body = NULL, *out = NULL;
	if (api_param_id(req, 0, &id, err) < 0 ||
	    http_body_json(req, &body, err) < 0)
		return -1;
	int rc = channels_update(req->store, id, body,
				 req->app->cfg->mqtt_alert_prefix, &out, err);
	json_decref(body);
	if (rc < 0)
		return -1;
	audit_channel(req, "channel.update", out);
	return http_reply_json(res, 200, out) < 0 ? (err_oom(err), -1) : 0;
}

API_HANDLER(api_channels_delete)
{
	int64_t id;
	if (api_param_id(req, 0, &id, err) < 0 ||
	    channels_delete(req->store, id, err) < 0)
		return -1;
	char object[32];
	snprintf(object, sizeof object, "channel/%lld", (long long)id);
	http_audit(req, "channel.delete", object, "deleted");
	return http_reply_text(res, 204, NULL, "", 0) < 0 ? (err_oom(err), -1)
							    : 0;
}
