/* payload: builds the envelope. It is rendered once per message and
 * stored as text, so a re-send, a retry after a crash and a webhook carry
 * byte for byte what was planned. */
#include "payload.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "context.h"
#include "buf.h"
#include "jsonutil.h"
#include "util.h"

const char *payload_colour(int severity)
{
	static const char *const colours[SEV_COUNT] = { "#1E6FD9", "#FFD000",
							"#FF7A00", "#E60012" };
	return severity >= 0 && severity < SEV_COUNT ? colours[severity]
						     : "#808080";
}

static json_t *notices_brief(json_t *notices)
{
	json_t *out = json_array();
	size_t i;
	json_t *n;
	if (!out || !notices)
		return out;
	json_array_foreach(notices, i, n) {
		json_t *b = json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?}",
				      "id", json_object_get(n, "id"),
				      "title", json_object_get(n, "title"),
				      "summary", json_object_get(n, "summary"),
				      "authority", json_object_get(n, "authority"),
				      "url", json_object_get(n, "url"));
		if (b)
			json_array_append_new(out, b);
	}
	return out;
}

char *payload_notices_json(json_t *notices)
{
	json_t *brief = notices_brief(notices);
	char *text = brief ? json_dumps(brief, JSON_COMPACT) : NULL;
	json_decref(brief);
	return text;
}

static int append_member(struct buf *b, const char *key, const char *value)
{
	return buf_append_str(b, ",\"") | buf_append_str(b, key) |
	       buf_append_str(b, "\":") | ju_append_string(b, value);
}

/* Written straight into a buffer: it is built once per region of a plan,
 * and a province has tens of thousands (a jansson object and a dump each
 * cost more than the whole rest of the plan). */
char *payload_envelope(const struct payload_in *in)
{
	char issued_buf[40], expires_buf[40], short_name[REGION_NAME_MAX + 1];
	const struct severity_info *sev = catalog_severity(in->severity);
	bool zh = context_locale_is_zh(in->locale);
	char *own_notices = NULL;
	struct buf b = BUF_INIT;
	const char *issued = in->issued, *expires = in->expires;
	if (!issued) {
		util_format_local(in->issued_ms, issued_buf, sizeof issued_buf);
		issued = issued_buf;
	}
	if (!expires) {
		util_format_local(in->expires_ms, expires_buf, sizeof expires_buf);
		expires = expires_buf;
	}
	context_short_name(in->region->name, short_name, sizeof short_name);
	const char *notices = in->notices_json;
	if (!notices)
		notices = own_notices = payload_notices_json(in->notices);
	if (!sev || !notices)
		goto fail;
	int rc = buf_reserve(&b, 2048 + strlen(notices));
	rc |= buf_append_str(&b, "{\"schema\":\"" PAYLOAD_SCHEMA "\"");
	rc |= append_member(&b, "message_id", in->message_id);
	rc |= buf_appendf(&b, ",\"emergency_id\":%lld,\"revision\":%d",
			  (long long)in->emergency_id, in->revision);
	rc |= append_member(&b, "msg_type", in->msg_type);
	rc |= append_member(&b, "status", in->exercise ? "exercise" : "actual");
	rc |= append_member(&b, "hazard", in->hazard->code);
	rc |= append_member(&b, "hazard_name",
			    zh ? in->hazard->name_zh : in->hazard->name_en);
	rc |= append_member(&b, "severity", sev->code);
	rc |= append_member(&b, "colour", payload_colour(in->severity));
	rc |= append_member(&b, "colour_name", zh ? sev->name_zh : sev->name_en);
	rc |= append_member(&b, "level", sev->level);
	rc |= append_member(&b, "tier", config_level_name(in->region->level));
	rc |= buf_append_str(&b, ",\"region\":{\"code\":");
	rc |= ju_append_string(&b, in->region->code);
	rc |= append_member(&b, "name", in->region->name);
	rc |= append_member(&b, "short_name", short_name);
	rc |= buf_append_char(&b, '}');
	rc |= append_member(&b, "locale", in->locale);
	rc |= append_member(&b, "audience", in->audience);
	rc |= append_member(&b, "title", in->title ? in->title : "");
	rc |= append_member(&b, "body", in->body ? in->body : "");
	rc |= append_member(&b, "tts", in->tts ? in->tts : "");
	rc |= buf_append_str(&b, ",\"notices\":");
	rc |= buf_append_str(&b, notices);
	rc |= append_member(&b, "issued", issued);
	rc |= append_member(&b, "expires", expires);
	rc |= buf_append_char(&b, '}');
	if (rc)
		goto fail;
	free(own_notices);
	return buf_steal(&b);
fail:
	free(own_notices);
	buf_free(&b);
	return NULL;
}
