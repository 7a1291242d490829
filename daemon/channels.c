/* channels: creation, change and listing of channels, and the checks that
 * keep a bad channel out of the outbox (a topic with wildcards, a URL that
 * is not http(s), a header that would let a value inject another header).
 * A webhook secret is shown once, when it is made, and never again. */
#include "channels.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "crypto.h"
#include "jsonutil.h"
#include "regions.h"
#include "util.h"

#define NAME_MAX_CHARS 100
#define HEADERS_MAX 16

struct channel_row {
	int64_t id;
	char region[REGION_CODE_LEN + 1];
	char kind[8];
	const char *name;
	const char *target;   /* NULL: default topic */
	const char *secret;   /* NULL: none */
	const char *locale;
	const char *audience;
	const char *role;
	int enabled;
	int is_auto;
	char *headers;        /* JSON text, owned */
	long long timeout_ms; /* 0: default */
	long long max_concurrency;
};

int channels_ensure_auto(struct store *s, struct err *err)
{
	static const char sql[] =
		"INSERT INTO channels(region_code, kind, auto, created_at,"
		" updated_at) SELECT r.code, 'mqtt', 1, ?1, ?1 FROM regions r"
		" WHERE NOT EXISTS (SELECT 1 FROM channels c"
		"  WHERE c.region_code = r.code AND c.auto = 1)";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, util_now_ms());
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, err, "creating default MQTT channels");
	return 0;
}

int channels_check_topic(const char *topic, size_t len, const char *field,
			 struct err *err)
{
	if (len == 0 || len > 1024) {
		err_invalid(err, field, "%s must be a topic of 1 to 1024 bytes",
			    field);
		return -1;
	}
	if (memchr(topic, '+', len) || memchr(topic, '#', len) ||
	    memchr(topic, '\0', len) || topic[0] == '$') {
		err_invalid(err, field, "%s must not contain + or # or start "
			    "with $", field);
		return -1;
	}
	if (!util_utf8_valid(topic, len)) {
		err_invalid(err, field, "%s is not valid UTF-8", field);
		return -1;
	}
	return 0;
}

int channels_check_locale(const char *locale, const char *field,
			  struct err *err)
{
	/* BCP 47 shape: a 2–3 letter language, then 2–8 character subtags */
	size_t len = strlen(locale), i = 0, part = 0;
	bool ok = len >= 2 && len <= 35;
	while (ok && i < len) {
		size_t start = i;
		while (i < len && isalnum((unsigned char)locale[i]))
			i++;
		size_t n = i - start;
		if (part == 0) {
			for (size_t k = start; k < i && ok; k++)
				ok = isalpha((unsigned char)locale[k]);
			ok = ok && n >= 2 && n <= 3;
		} else {
			ok = n >= 1 && n <= 8;
		}
		if (i < len) {
			ok = ok && locale[i] == '-';
			i++;
			ok = ok && i < len;
		}
		part++;
	}
	if (!ok) {
		err_invalid(err, field, "%s \"%.40s\" is not a language tag like "
			    "zh-CN or en", field, locale);
		return -1;
	}
	return 0;
}

static int check_url(const char *url, struct err *err)
{
	size_t len = strlen(url);
	bool scheme = strncmp(url, "http://", 7) == 0 ||
		      strncmp(url, "https://", 8) == 0;
	if (!scheme || len > CHANNEL_TARGET_MAX || len < 10) {
		err_invalid(err, "target", "target must be an http:// or "
			    "https:// URL of at most %d bytes",
			    CHANNEL_TARGET_MAX);
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f) {
			err_invalid(err, "target", "target must not contain "
				    "spaces or control characters");
			return -1;
		}
	return 0;
}

static bool header_name_ok(const char *n)
{
	if (!*n || strlen(n) > 64)
		return false;
	for (const char *c = n; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_')
			return false;
	return true;
}

/* Names scicast sets itself; a channel may not replace them. */
static bool header_reserved(const char *n)
{
	static const char *const reserved[] = {
		"host", "content-type", "content-length", "transfer-encoding",
		"connection", "user-agent", "expect", NULL
	};
	if (strncasecmp(n, "webhook-", 8) == 0)
		return true;
	for (const char *const *r = reserved; *r; r++)
		if (strcasecmp(n, *r) == 0)
			return true;
	return false;
}

static int check_headers(const json_t *h, struct err *err)
{
	if (!json_is_object(h)) {
		err_invalid(err, "headers", "headers must be an object of "
			    "name: value strings");
		return -1;
	}
	if (json_object_size(h) > HEADERS_MAX) {
		err_invalid(err, "headers", "at most %d headers", HEADERS_MAX);
		return -1;
	}
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)h, k, v) {
		if (!header_name_ok(k)) {
			err_invalid(err, "headers", "header name \"%.64s\" is not "
				    "a token of letters, digits, - and _", k);
			return -1;
		}
		if (header_reserved(k)) {
			err_invalid(err, "headers", "header %s is set by scicast "
				    "and cannot be given", k);
			return -1;
		}
		if (!json_is_string(v) || json_string_length(v) > 1024) {
			err_invalid(err, "headers", "header %s must be a string "
				    "of at most 1024 bytes", k);
			return -1;
		}
		const char *s = json_string_value(v);
		for (size_t i = 0; i < json_string_length(v); i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
				err_invalid(err, "headers", "header %s contains a "
					    "control character (CR, LF, NUL…)",
					    k);
				return -1;
			}
	}
	return 0;
}

/* whsec_ + base64 of 24 to 64 bytes (Standard Webhooks). */
static int check_secret(const char *secret, struct err *err)
{
	unsigned char raw[96];
	const char *b = secret;
	if (strncmp(b, "whsec_", 6) == 0)
		b += 6;
	int n = crypto_base64_decode(b, strlen(b), raw, sizeof raw);
	explicit_bzero(raw, sizeof raw);
	if (n < 24 || n > 64) {
		err_invalid(err, "secret", "secret must be whsec_ followed by "
			    "the base64 of 24 to 64 random bytes");
		return -1;
	}
	return 0;
}

static int make_secret(char *out, size_t cap)
{
	unsigned char raw[32];
	char b64[64];
	if (crypto_random(raw, sizeof raw) < 0 ||
	    crypto_base64_encode(raw, sizeof raw, b64, sizeof b64) < 0) {
		explicit_bzero(raw, sizeof raw);
		return -1;
	}
	explicit_bzero(raw, sizeof raw);
	int n = snprintf(out, cap, "whsec_%s", b64);
	explicit_bzero(b64, sizeof b64);
	return (n > 0 && (size_t)n < cap) ? 0 : -1;
}

/* Overlays the fields present in body onto row, checking each. */
static int apply_body(struct store *s, struct channel_row *row,
		      const json_t *body, bool creating, struct err *err)
{
	static const char *const allowed_create[] = {
		"region", "kind", "name", "target", "secret", "locale",
		"audience", "role", "enabled", "headers", "timeout_ms",
		"max_concurrency", NULL
	};
	static const char *const allowed_update[] = {
		"name", "target", "secret", "locale", "audience", "role",
		"enabled", "headers", "timeout_ms", "max_concurrency", NULL
	};
	if (ju_check_object(body, creating ? allowed_create : allowed_update,
			    err) < 0) {
		if (!creating && (json_object_get(body, "region") ||
				  json_object_get(body, "kind")))
			err_invalid(err, json_object_get(body, "region")
						 ? "region" : "kind",
				    "region and kind of a channel cannot be "
				    "changed; create a new channel");
		return -1;
	}
	const char *v;
	if (creating) {
		struct region r;
		if (ju_get_string(body, "region", true, 12, &v, err) < 0)
			return -1;
		if (!util_is_region_code(v, strlen(v))) {
			err_invalid(err, "region", "region must be a 12-digit "
				    "code");
			return -1;
		}
		if (regions_get(s, v, &r, err) < 0) {
			if (err->status == 404)
				err_invalid(err, "region", "no region with code "
					    "%s", v);
			return -1;
		}
		memcpy(row->region, r.code, sizeof row->region);
		if (ju_get_string(body, "kind", true, 10, &v, err) < 0)
			return -1;
		if (strcmp(v, "mqtt") != 0 && strcmp(v, "webhook") != 0) {
			err_invalid(err, "kind", "kind must be mqtt or webhook");
			return -1;
		}
		snprintf(row->kind, sizeof row->kind, "%s", v);
	}
	bool webhook = strcmp(row->kind, "webhook") == 0;
	if (ju_get_string(body, "name", false, NAME_MAX_CHARS, &v, err) < 0)
		return -1;
	if (v)
		row->name = v;
	json_t *t = json_object_get(body, "target");
	if (t && json_is_null(t) && !webhook) {
		row->target = NULL;
	} else if (t) {
		if (ju_get_string(body, "target", true, CHANNEL_TARGET_MAX, &v,
				  err) < 0)
			return -1;
		if (webhook ? check_url(v, err) < 0
			    : channels_check_topic(v, strlen(v), "target",
						   err) < 0)
			return -1;
		row->target = v;
	}
	if (webhook && !row->target) {
		err_invalid(err, "target", "a webhook channel needs a target "
			    "URL");
		return -1;
	}
	if (ju_get_string(body, "secret", false, 200, &v, err) < 0)
		return -1;
	if (v) {
		if (!webhook) {
			err_invalid(err, "secret", "secret applies to webhook "
				    "channels only");
			return -1;
		}
		if (check_secret(v, err) < 0)
			return -1;
		row->secret = v;
	}
	if (ju_get_string(body, "locale", false, 35, &v, err) < 0)
		return -1;
	if (v) {
		if (channels_check_locale(v, "locale", err) < 0)
			return -1;
		row->locale = v;
	}
	if (ju_get_string(body, "audience", false, 15, &v, err) < 0)
		return -1;
	if (v) {
		if (!catalog_audience(v)) {
			err_invalid(err, "audience", "unknown audience \"%s\"", v);
			return -1;
		}
		row->audience = v;
	}
	if (ju_get_string(body, "role", false, 15, &v, err) < 0)
		return -1;
	if (v) {
		if (strcmp(v, "notify") != 0 && strcmp(v, "escalation") != 0) {
			err_invalid(err, "role", "role must be notify or "
				    "escalation");
			return -1;
		}
		row->role = v;
	}
	bool enabled = row->enabled;
	if (ju_get_bool(body, "enabled", &enabled, err) < 0)
		return -1;
	row->enabled = enabled;
	json_t *h = json_object_get(body, "headers");
	if (h && !json_is_null(h)) {
		if (!webhook) {
			err_invalid(err, "headers", "headers apply to webhook "
				    "channels only");
			return -1;
		}
		if (check_headers(h, err) < 0)
			return -1;
		char *text = json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS);
		if (!text) {
			err_oom(err);
			return -1;
		}
		free(row->headers);
		row->headers = text;
	} else if (h) {
		free(row->headers);
		row->headers = NULL;
	}
	long long n;
	if (json_object_get(body, "timeout_ms")) {
		if (!webhook) {
			err_invalid(err, "timeout_ms", "timeout_ms applies to "
				    "webhook channels only");
			return -1;
		}
		if (ju_get_int(body, "timeout_ms", 100, 120000, false, &n,
			       err) < 0)
			return -1;
		row->timeout_ms = n;
	}
	if (json_object_get(body, "max_concurrency")) {
		if (!webhook) {
			err_invalid(err, "max_concurrency", "max_concurrency "
				    "applies to webhook channels only");
			return -1;
		}
		if (ju_get_int(body, "max_concurrency", 1, 256, false, &n,
			       err) < 0)
			return -1;
		row->max_concurrency = n;
	}
	return 0;
}

/* The columns channel_json() reads, in its order. */
#define CHANNEL_SELECT                                                        \
	"SELECT c.id, c.region_code, c.kind, c.name, c.target,"               \
	" c.secret IS NOT NULL, c.locale, c.audience, c.role, c.enabled,"     \
	" c.auto, c.headers, c.timeout_ms, c.max_concurrency,"                \
	" c.disabled_reason, c.created_at, c.updated_at, r.path, r.name"      \
	" FROM channels c JOIN regions r ON r.code = c.region_code"

static json_t *channel_json(sqlite3_stmt *st, const char *alert_prefix)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	bool has_target = sqlite3_column_type(st, 4) != SQLITE_NULL;
	json_t *target;
	if (has_target) {
		target = ju_string(store_col_text(st, 4));
	} else {
		char topic[REGION_PATH_MAX + 300];
		snprintf(topic, sizeof topic, "%s/%s", alert_prefix,
			 store_col_text(st, 17));
		target = json_string(topic);
	}
	json_t *header_names = json_array();
	const char *htext = (const char *)sqlite3_column_text(st, 11);
	if (htext && header_names) {
		json_t *h = json_loads(htext, 0, NULL);
		const char *k;
		json_t *v;
		if (h)
			json_object_foreach(h, k, v)
				json_array_append_new(header_names,
						      json_string(k));
		json_decref(h);
	}
	int rc = json_object_update_new(o, json_pack(
		"{s:I, s:s, s:o, s:s, s:o, s:o, s:b, s:b, s:s, s:s, s:s, s:b,"
		" s:b, s:o, s:o, s:o}",
		"id", (json_int_t)sqlite3_column_int64(st, 0),
		"region", store_col_text(st, 1),
		"region_name", ju_string(store_col_text(st, 18)),
		"kind", store_col_text(st, 2),
		"name", ju_string(store_col_text(st, 3)),
		"target", target,
		"default_target", !has_target,
		"has_secret", sqlite3_column_int(st, 5),
		"locale", store_col_text(st, 6),
		"audience", store_col_text(st, 7),
		"role", store_col_text(st, 8),
		"enabled", sqlite3_column_int(st, 9),
		"auto", sqlite3_column_int(st, 10),
		"header_names", header_names ? header_names : json_array(),
		"created_at", ju_time(sqlite3_column_int64(st, 15)),
		"updated_at", ju_time(sqlite3_column_int64(st, 16))));
	if (rc < 0) {
		json_decref(o);
		return NULL;
	}
	if (sqlite3_column_type(st, 12) != SQLITE_NULL)
		json_object_set_new(o, "timeout_ms",
				    json_integer(sqlite3_column_int64(st, 12)));
	if (sqlite3_column_type(st, 13) != SQLITE_NULL)
		json_object_set_new(o, "max_concurrency",
				    json_integer(sqlite3_column_int64(st, 13)));
	if (sqlite3_column_type(st, 14) != SQLITE_NULL)
		json_object_set_new(o, "disabled_reason",
				    ju_string(store_col_text(st, 14)));
	return o;
}

int channels_get(struct store *s, int64_t id, const char *alert_prefix,
		 json_t **out, struct err *err)
{
	static const char sql[] =
		CHANNEL_SELECT
		" WHERE c.id = ?";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = channel_json(st, alert_prefix);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		err_not_found(err, "no channel %lld", (long long)id);
		return -1;
	}
	if (rc != SQLITE_ROW)
		return store_fail(s, err, "reading a channel");
	if (!*out) {
		err_oom(err);
		return -1;
	}
	return 0;
}

/* Reads a channel for update: the caller owns row->headers; the string
 * fields point into *keep, which the caller frees. */
static int load_row(struct store *s, int64_t id, struct channel_row *row,
		    json_t **keep, struct err *err)
{
	static const char sql[] =
		"SELECT region_code, kind, name, target, secret, locale,"
		" audience, role, enabled, auto, headers, timeout_ms,"
		" max_concurrency FROM channels WHERE id = ?";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE) {
			err_not_found(err, "no channel %lld", (long long)id);
			return -1;
		}
		return store_fail(s, err, "reading a channel");
	}
	/* Keep the text alive in a JSON object: the statement is reset before
	 * the fields are used. */
	json_t *k = json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}",
			      "name", sqlite3_column_text(st, 2),
			      "target", sqlite3_column_text(st, 3),
			      "secret", sqlite3_column_text(st, 4),
			      "locale", sqlite3_column_text(st, 5),
			      "audience", sqlite3_column_text(st, 6),
			      "role", sqlite3_column_text(st, 7));
	row->id = id;
	snprintf(row->region, sizeof row->region, "%s", store_col_text(st, 0));
	snprintf(row->kind, sizeof row->kind, "%s", store_col_text(st, 1));
	row->enabled = sqlite3_column_int(st, 8);
	row->is_auto = sqlite3_column_int(st, 9);
	const char *h = (const char *)sqlite3_column_text(st, 10);
	row->headers = h ? strdup(h) : NULL;
	row->timeout_ms = sqlite3_column_int64(st, 11);
	row->max_concurrency = sqlite3_column_int64(st, 12);
	sqlite3_reset(st);
	if (!k || (h && !row->headers)) {
		json_decref(k);
		free(row->headers);
		row->headers = NULL;
		err_oom(err);
		return -1;
	}
	row->name = json_string_value(json_object_get(k, "name"));
	row->target = json_string_value(json_object_get(k, "target"));
	row->secret = json_string_value(json_object_get(k, "secret"));
	row->locale = json_string_value(json_object_get(k, "locale"));
	row->audience = json_string_value(json_object_get(k, "audience"));
	row->role = json_string_value(json_object_get(k, "role"));
	*keep = k;
	return 0;
}

static void bind_row(sqlite3_stmt *st, const struct channel_row *row)
{
	store_bind_text(st, 1, row->name ? row->name : "");
	store_bind_text(st, 2, row->target);
	store_bind_text(st, 3, row->secret);
	store_bind_text(st, 4, row->locale);
	store_bind_text(st, 5, row->audience);
	store_bind_text(st, 6, row->role);
	sqlite3_bind_int(st, 7, row->enabled);
	store_bind_text(st, 8, row->headers);
	if (row->timeout_ms)
		sqlite3_bind_int64(st, 9, row->timeout_ms);
	if (row->max_concurrency)
		sqlite3_bind_int64(st, 10, row->max_concurrency);
	sqlite3_bind_int64(st, 11, util_now_ms());
}

int channels_create(struct store *s, const json_t *body,
		    const char *alert_prefix, json_t **out, struct err *err)
{
	static const char sql[] =
		"INSERT INTO channels(name, target, secret, locale, audience,"
		" role, enabled, headers, timeout_ms, max_concurrency,"
		" created_at, updated_at, region_code, kind)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11,"
		" ?12, ?13)";
	struct channel_row row = { .locale = "zh-CN", .audience = "general",
				   .role = "notify", .enabled = 1 };
	char secret[128] = "";
	int rc = -1;
	if (apply_body(s, &row, body, true, err) < 0)
		goto done;
	if (strcmp(row.kind, "webhook") == 0 && !row.secret) {
		if (make_secret(secret, sizeof secret) < 0) {
			err_internal(err, "could not make a secret");
			goto done;
		}
		row.secret = secret;
	}
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		goto done;
	bind_row(st, &row);
	store_bind_text(st, 12, row.region);
	store_bind_text(st, 13, row.kind);
	int step = sqlite3_step(st);
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		store_fail(s, err, "creating a channel");
		goto done;
	}
	int64_t id = sqlite3_last_insert_rowid(store_db(s));
	if (channels_get(s, id, alert_prefix, out, err) < 0)
		goto done;
	if (row.secret)
		json_object_set_new(*out, "secret", json_string(row.secret));
	rc = 0;
done:
	explicit_bzero(secret, sizeof secret);
	free(row.headers);
	return rc;
}

int channels_update(struct store *s, int64_t id, const json_t *body,
		    const char *alert_prefix, json_t **out, struct err *err)
{
	static const char sql[] =
		"UPDATE channels SET name = ?1, target = ?2, secret = ?3,"
		" locale = ?4, audience = ?5, role = ?6, enabled = ?7,"
		" headers = ?8, timeout_ms = ?9, max_concurrency = ?10,"
		" updated_at = ?11,"
		" disabled_reason = CASE WHEN ?7 THEN NULL ELSE disabled_reason"
		" END WHERE id = ?12";
	struct channel_row row = { 0 };
	json_t *keep = NULL;
	int rc = -1;
	if (load_row(s, id, &row, &keep, err) < 0)
		return -1;
	if (apply_body(s, &row, body, false, err) < 0)
		goto done;
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		goto done;
	bind_row(st, &row);
	sqlite3_bind_int64(st, 12, id);
	int step = sqlite3_step(st);
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		store_fail(s, err, "updating a channel");
		goto done;
	}
	if (channels_get(s, id, alert_prefix, out, err) < 0)
		goto done;
	if (json_object_get(body, "secret"))
		json_object_set_new(*out, "secret", json_string(row.secret));
	rc = 0;
done:
	free(row.headers);
	json_decref(keep);
	return rc;
}

int channels_delete(struct store *s, int64_t id, struct err *err)
{
	static const char sql_auto[] = "SELECT auto FROM channels WHERE id = ?";
	static const char sql_del[] = "DELETE FROM channels WHERE id = ?";
	sqlite3_stmt *st = store_stmt(s, sql_auto, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	int is_auto = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		err_not_found(err, "no channel %lld", (long long)id);
		return -1;
	}
	if (rc != SQLITE_ROW)
		return store_fail(s, err, "reading a channel");
	if (is_auto) {
		err_conflict(err, "channel %lld is the region's default MQTT "
			     "channel: disable it (enabled: false) instead of "
			     "deleting it", (long long)id);
		return -1;
	}
	st = store_stmt(s, sql_del, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		if ((sqlite3_extended_errcode(store_db(s)) & 0xff) ==
		    SQLITE_CONSTRAINT) {
			err_conflict(err, "channel %lld has deliveries and is "
				     "kept for their history: disable it "
				     "instead", (long long)id);
			return -1;
		}
		return store_fail(s, err, "deleting a channel");
	}
	return 0;
}

int channels_list(struct store *s, const struct channels_filter *f,
		  const char *alert_prefix, json_t **out, struct err *err)
{
	static const char sql_items[] =
		CHANNEL_SELECT
		" WHERE (?1 IS NULL OR c.region_code = ?1)"
		" AND (?2 IS NULL OR c.kind = ?2)"
		" AND (?3 < 0 OR c.enabled = ?3)"
		" ORDER BY c.id LIMIT ?4 OFFSET ?5";
	static const char sql_count[] =
		"SELECT count(*) FROM channels c"
		" WHERE (?1 IS NULL OR c.region_code = ?1)"
		" AND (?2 IS NULL OR c.kind = ?2)"
		" AND (?3 < 0 OR c.enabled = ?3)";
	json_t *items = json_array();
	if (!items) {
		err_oom(err);
		return -1;
	}
	sqlite3_stmt *st = store_stmt(s, sql_items, err);
	if (!st)
		goto fail;
	store_bind_text(st, 1, f->region);
	store_bind_text(st, 2, f->kind);
	sqlite3_bind_int(st, 3, f->enabled);
	sqlite3_bind_int64(st, 4, f->limit);
	sqlite3_bind_int64(st, 5, f->offset);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *c = channel_json(st, alert_prefix);
		if (!c || json_array_append_new(items, c) < 0) {
			sqlite3_reset(st);
			err_oom(err);
			goto fail;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_fail(s, err, "listing channels");
		goto fail;
	}
	st = store_stmt(s, sql_count, err);
	if (!st)
		goto fail;
	store_bind_text(st, 1, f->region);
	store_bind_text(st, 2, f->kind);
	sqlite3_bind_int(st, 3, f->enabled);
	rc = sqlite3_step(st);
	json_int_t total = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		store_fail(s, err, "counting channels");
		goto fail;
	}
	*out = json_pack("{s:o, s:I, s:I, s:I}", "items", items, "total", total,
			 "limit", (json_int_t)f->limit, "offset",
			 (json_int_t)f->offset);
	if (!*out) {
		err_oom(err);
		return -1;
	}
	return 0;
fail:
	json_decref(items);
	return -1;
}
