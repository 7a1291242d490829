/* api_templates: the template endpoints; the rules live in templates.c,
 * the sample data in preview.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "channels.h"
#include "context.h"
#include "config.h"
#include "jsonutil.h"
#include "preview.h"
#include "templates.h"
#include "util.h"

static int reply(struct http_res *res, int status, json_t *j, struct err *err)
{
	if (http_reply_json(res, status, j) < 0) {
		err_oom(err);
		return -1;
	}
	return 0;
}

/* A 409 with the current template, so the client can show it. */
static void audit_template(struct http_req *req, const char *action,
			   const json_t *t)
{
	char object[32];
	snprintf(object, sizeof object, "template/%lld",
		 (long long)json_integer_value(json_object_get(t, "id")));
	http_audit(req, action, object, "%s %s %s version %lld",
		   json_string_value(json_object_get(t, "hazard")),
		   json_string_value(json_object_get(t, "tier")),
		   json_string_value(json_object_get(t, "locale")),
		   (long long)json_integer_value(json_object_get(t, "version")));
}

static int reply_conflict(struct http_req *req, struct http_res *res,
			  struct err *err, json_t *details)
{
	if (err->status == 409 && details) {
		/* the refused save stays in the history */
		http_commit_on_error(req);
		http_reply_error_details(res, err, details);
		return 0;
	}
	json_decref(details);
	return -1;
}

API_HANDLER(api_templates_list)
{
	struct templates_filter f = {
		.hazard = http_query(req, "hazard"),
		.tier = http_query(req, "tier"),
		.locale = http_query(req, "locale"),
	};
	json_t *out = NULL;
	if (templates_list(req->store, &f, &out, err) < 0)
		return -1;
	return reply(res, 200, out, err);
}

API_HANDLER(api_templates_get)
{
	int64_t id;
	json_t *out = NULL;
	if (api_param_id(req, 0, &id, err) < 0 ||
	    templates_get(req->store, id, 0, &out, err) < 0)
		return -1;
	return reply(res, 200, out, err);
}

API_HANDLER(api_templates_version)
{
	int64_t id, version;
	json_t *out = NULL;
	if (api_param_id(req, 0, &id, err) < 0 ||
	    api_param_id(req, 1, &version, err) < 0)
		return -1;
	if (version > INT32_MAX) {
		err_not_found(err, "no such version");
		return -1;
	}
	if (templates_get(req->store, id, (int)version, &out, err) < 0)
		return -1;
	return reply(res, 200, out, err);
}

API_HANDLER(api_templates_create)
{
	json_t *body = NULL, *out = NULL;
	if (http_body_json(req, &body, err) < 0)
		return -1;
	int rc = templates_create(req->store, req->app->cfg, body, req->actor,
				  &out, err);
	json_decref(body);
	if (rc < 0)
		return -1;
	audit_template(req, "template.create", out);
	return reply(res, 201, out, err);
}

API_HANDLER(api_templates_update)
{
	int64_t id;
	json_t *body = NULL, *out = NULL, *details = NULL;
	if (api_param_id(req, 0, &id, err) < 0 ||
	    http_body_json(req, &body, err) < 0)
		return -1;
	int rc = templates_update(req->store, req->app->cfg, id, body,
				  req->actor, &out, &details, err);
	json_decref(body);
	if (rc < 0)
		return reply_conflict(req, res, err, details);
	audit_template(req, "template.update", out);
	return reply(res, 200, out, err);
}

API_HANDLER(api_templates_delete)
{
	int64_t id;
	long version;
	json_t *details = NULL;
	if (api_param_id(req, 0, &id, err) < 0)
		return -1;
	if (!http_query(req, "version")) {
		err_set(err, 400, "bad_request", "version",
			"say which version you are deleting: ?version=N");
		return -1;
	}
	if (http_query_long(req, "version", 1, INT32_MAX, 0, &version, err) < 0)
		return -1;
	if (templates_delete(req->store, req->app->cfg, id, (int)version,
			     req->actor, &details, err) < 0)
		return reply_conflict(req, res, err, details);
	char object[32];
	snprintf(object, sizeof object, "template/%lld", (long long)id);
	http_audit(req, "template.delete", object, "version %ld deleted",
		   version);
	return http_reply_text(res, 204, NULL, "", 0) < 0 ? (err_oom(err), -1)
							    : 0;
}

API_HANDLER(api_templates_history)
{
	int64_t id;
	json_t *out = NULL;
	if (api_param_id(req, 0, &id, err) < 0 ||
	    templates_history(req->store, id, &out, err) < 0)
		return -1;
	return reply(res, 200, out, err);
}

API_HANDLER(api_templates_rollback)
{
	int64_t id;
	json_t *body = NULL, *out = NULL, *details = NULL;
	if (api_param_id(req, 0, &id, err) < 0 ||
	    http_body_json(req, &body, err) < 0)
		return -1;
	int rc = templates_rollback(req->store, req->app->cfg, id, body,
				    req->actor, &out, &details, err);
	json_decref(body);
	if (rc < 0)
		return reply_conflict(req, res, err, details);
	audit_template(req, "template.rollback", out);
	return reply(res, 200, out, err);
}

/* Reads the sample emergency of a preview request. */
static int preview_emergency_from(const json_t *e, struct preview_emergency *pe,
				  struct err *err)
{
	static const char *const allowed[] = { "hazard", "severity", "msg_type",
					       "exercise", "headline",
					       "description", "instruction",
					       NULL };
	static const char *const msg_types[] = { "alert", "update", "cancel",
						 "expired", "allclear", NULL };
	const char *sev = NULL;
	pe->severity = -1;
	if (!e)
		return 0;
	if (ju_check_object(e, allowed, err) < 0 ||
	    ju_get_string(e, "hazard", false, 31, &pe->hazard, err) < 0 ||
	    ju_get_string(e, "severity", false, 10, &sev, err) < 0 ||
	    ju_get_string(e, "msg_type", false, 10, &pe->msg_type, err) < 0 ||
	    ju_get_bool(e, "exercise", &pe->exercise, err) < 0 ||
	    ju_get_string(e, "headline", false, 200, &pe->headline, err) < 0 ||
	    ju_get_string(e, "description", false, 2000, &pe->description,
			  err) < 0 ||
	    ju_get_string(e, "instruction", false, 2000, &pe->instruction,
			  err) < 0) {
		err_prefix(err, "emergency: ");
		return -1;
	}
	if (sev && (pe->severity = config_severity_parse(sev)) < 0) {
		err_invalid(err, "emergency.severity", "emergency.severity must "
			    "be blue, yellow, orange or red");
		return -1;
	}
	if (pe->msg_type) {
		bool ok = false;
		for (const char *const *m = msg_types; *m && !ok; m++)
			ok = strcmp(*m, pe->msg_type) == 0;
		if (!ok) {
			err_invalid(err, "emergency.msg_type", "emergency.msg_type "
				    "must be alert, update, cancel, expired or "
				    "allclear");
			return -1;
		}
	}
	return 0;
}

static json_t *part_json(const char *text)
{
	return json_pack("{s:o, s:I}", "text", ju_string(text), "length",
			 (json_int_t)util_utf8_chars(text, strlen(text)));
}

/* POST /api/v1/templates/preview: a saved template ({"template_id"}, and
 * optionally "version") or an unsaved one ({"title", "body", "tts"}),
 * rendered for a region with a sample emergency. */
API_HANDLER(api_templates_preview)
{
	static const char *const allowed[] = {
		"template_id", "version", "title", "body", "tts", "region",
		"locale", "emergency", NULL
	};
	json_t *body = NULL, *saved = NULL, *ctx = NULL, *warnings = NULL;
	struct template_text t = { 0 };
	struct mustache_template *c[TEMPLATE_PARTS] = { 0 };
	char *out[TEMPLATE_PARTS] = { 0 };
	struct preview_emergency pe = { 0 };
	const char *region, *locale;
	long long tid = 0, version = 0;
	int rc = -1;
	if (http_body_json(req, &body, err) < 0)
		return -1;
	if (ju_check_object(body, allowed, err) < 0 ||
	    ju_get_string(body, "region", true, 12, &region, err) < 0 ||
	    ju_get_string(body, "locale", false, 35, &locale, err) < 0 ||
	    ju_get_int(body, "template_id", 1, INT64_MAX, false, &tid, err) < 0 ||
	    ju_get_int(body, "version", 1, INT32_MAX, false, &version, err) < 0 ||
	    preview_emergency_from(json_object_get(body, "emergency"), &pe,
				   err) < 0)
		goto done;
	if (!util_is_region_code(region, strlen(region))) {
		err_invalid(err, "region", "region must be a 12-digit code");
		goto done;
	}
	if (tid) {
		if (templates_get(req->store, tid, (int)version, &saved, err) < 0) {
			if (err->status == 404)
				err_invalid(err, "template_id", "%s", err->message);
			goto done;
		}
		for (int i = 0; i < TEMPLATE_PARTS; i++)
			t.part[i] = strdup(json_string_value(json_object_get(
				saved, template_part_names[i])));
		if (!locale)
			locale = json_string_value(json_object_get(saved, "locale"));
		const char *hz = json_string_value(json_object_get(saved, "hazard"));
		if (!pe.hazard && strcmp(hz, "*") != 0)
			pe.hazard = hz;
	} else {
		for (int i = 0; i < TEMPLATE_PARTS; i++) {
			const char *v;
			if (ju_get_string(body, template_part_names[i], true,
					  TEMPLATE_PART_MAX, &v, err) < 0)
				goto done;
			t.part[i] = strdup(v);
		}
	}
	for (int i = 0; i < TEMPLATE_PARTS; i++)
		if (!t.part[i]) {
			err_oom(err);
			goto done;
		}
	if (!locale)
		locale = req->app->cfg->templates_default_locale;
	if (channels_check_locale(locale, "locale", err) < 0)
		goto done;
	warnings = json_array();
	if (!warnings || templates_compile(&t, c, err) < 0)
		goto done;
	for (int i = 0; i < TEMPLATE_PARTS; i++)
		context_check_names(c[i], warnings, template_part_names[i]);
	if (preview_context(req->store, req->app->cfg, region, 0, locale, &pe,
			    &ctx, err) < 0 ||
	    templates_render(c, ctx, out, err) < 0)
		goto done;
	json_t *j = json_pack("{s:o, s:o, s:o, s:O, s:O}",
			      "title", part_json(out[PART_TITLE]),
			      "body", part_json(out[PART_BODY]),
			      "tts", part_json(out[PART_TTS]),
			      "warnings", warnings, "context", ctx);
	if (j) {
		const char *tier = json_string_value(json_object_get(ctx, "tier"));
		int level = config_level_parse(tier, strlen(tier));
		json_object_set_new(json_object_get(j, "body"), "limit",
				    json_integer(config_body_limit(req->app->cfg,
								   level)));
	}
	rc = reply(res, 200, j, err);
done:
	for (int i = 0; i < TEMPLATE_PARTS; i++)
		free(out[i]);
	templates_compiled_free(c);
	template_text_free(&t);
	json_decref(ctx);
	json_decref(warnings);
	json_decref(saved);
	json_decref(body);
	return rc;
}
