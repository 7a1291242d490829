/* payload: builds the envelope. It is rendered once per message and
 * stored as text, so a re-send, a retry after a crash and a webhook carry
 * byte for byte what was planned. */
#include "payload.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "context.h"
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

char *payload_envelope(const struct payload_in *in)
{
	char issued[40], expires[40], short_name[REGION_NAME_MAX + 1];
	const struct severity_info *sev = catalog_severity(in->severity);
	bool zh = context_locale_is_zh(in->locale);
	util_format_local(in->issued_ms, issued, sizeof issued);
	util_format_local(in->expires_ms, expires, sizeof expires);
	context_short_name(in->region->name, short_name, sizeof short_name);
	json_t *o = json_pack(
		"{s:s, s:s, s:I, s:i, s:s, s:s,"
		" s:s, s:s, s:s, s:s, s:s, s:s,"
		" s:s, s:{s:s, s:o, s:o},"
		" s:s, s:s, s:o, s:o, s:o, s:o, s:s, s:s}",
		"schema", PAYLOAD_SCHEMA,
		"message_id", in->message_id,
		"emergency_id", (json_int_t)in->emergency_id,
		"revision", in->revision,
		"msg_type", in->msg_type,
		"status", in->exercise ? "exercise" : "actual",
		"hazard", in->hazard->code,
		"hazard_name", zh ? in->hazard->name_zh : in->hazard->name_en,
		"severity", sev->code,
		"colour", payload_colour(in->severity),
		"colour_name", zh ? sev->name_zh : sev->name_en,
		"level", sev->level,
		"tier", config_level_name(in->region->level),
		"region", "code", in->region->code,
		"name", ju_string(in->region->name),
		"short_name", ju_string(short_name),
		"locale", in->locale,
		"audience", in->audience,
		"title", ju_string(in->title),
		"body", ju_string(in->body),
		"tts", ju_string(in->tts),
		"notices", notices_brief(in->notices),
		"issued", issued,
		"expires", expires);
	if (!o)
		return NULL;
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}
