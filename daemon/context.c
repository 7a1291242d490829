/* context: builds the JSON a notice template is rendered with, and holds
 * the schema of that JSON (docs/templates.md) so a template that names a
 * field the context does not have is caught when it is saved, not when a
 * village screen shows an empty line in a typhoon. */
#include "context.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jsonutil.h"
#include "mustache.h"
#include "util.h"

bool context_locale_is_zh(const char *locale)
{
	return locale && (locale[0] == 'z' || locale[0] == 'Z') &&
	       (locale[1] == 'h' || locale[1] == 'H') &&
	       (locale[2] == '\0' || locale[2] == '-' || locale[2] == '_');
}

void context_short_name(const char *name, char *out, size_t cap)
{
	static const struct {
		const char *suffix, *repl;
	} rules[] = {
		{ "社区居民委员会", "社区" }, { "社区居委会", "社区" },
		{ "居民委员会", "社区" },     { "居委会", "社区" },
		{ "村民委员会", "村" },       { "村委会", "村" },
	};
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		size_t sl = strlen(rules[i].suffix);
		if (n > sl && memcmp(name + n - sl, rules[i].suffix, sl) == 0) {
			snprintf(out, cap, "%.*s%s", (int)(n - sl), name,
				 rules[i].repl);
			return;
		}
	}
	snprintf(out, cap, "%s", name);
}

/* ---- the schema ---- */

#define REGION_FIELDS(p) p, p ".code", p ".name", p ".short_name", p ".level"
#define NOTICE_FIELDS(p) p, p ".id", p ".title", p ".summary", p ".authority", \
			 p ".url", p ".audience", p ".hazard"

/* Every path of the context; "x[]" is a list whose items are "x[].…". */
static const char *const schema[] = {
	"locale", "tier",
	"emergency", "emergency.id", "emergency.revision", "emergency.msg_type",
	"emergency.is_alert", "emergency.is_update", "emergency.is_cancel",
	"emergency.is_expired", "emergency.is_allclear", "emergency.exercise",
	"emergency.hazard", "emergency.hazard.code", "emergency.hazard.name",
	"emergency.hazard.name_zh", "emergency.hazard.name_en",
	"emergency.severity", "emergency.severity.code",
	"emergency.severity.name", "emergency.severity.name_zh",
	"emergency.severity.name_en", "emergency.severity.level",
	"emergency.severity.level_roman", "emergency.severity.level_words",
	"emergency.severity.grade", "emergency.severity.cap",
	"emergency.headline", "emergency.description", "emergency.instruction",
	"emergency.issued", "emergency.issued_iso", "emergency.expires",
	"emergency.expires_iso", "emergency.issuer",
	REGION_FIELDS("region"), REGION_FIELDS("province"), REGION_FIELDS("city"),
	REGION_FIELDS("county"), REGION_FIELDS("town"), REGION_FIELDS("village"),
	REGION_FIELDS("ancestors[]"),
	"scope", "scope.names", "scope.regions[]", "scope.regions[].code",
	"scope.regions[].name", "scope.town_count", "scope.village_count",
	NOTICE_FIELDS("notices[]"), NOTICE_FIELDS("notice"),
	"contact", "contact_tts",
};

/* The path of seg under scope (which may be "" for the root), or NULL. */
static const char *schema_child(const char *scope, const char *seg,
				size_t seglen, char *buf, size_t cap)
{
	int n = scope[0] ? snprintf(buf, cap, "%s.%.*s", scope, (int)seglen, seg)
			 : snprintf(buf, cap, "%.*s", (int)seglen, seg);
	if (n < 0 || (size_t)n + 3 > cap)
		return NULL;
	for (size_t i = 0; i < sizeof schema / sizeof schema[0]; i++) {
		if (strcmp(schema[i], buf) == 0)
			return buf;
		if (strncmp(schema[i], buf, (size_t)n) == 0 &&
		    strcmp(schema[i] + n, "[]") == 0) {
			memcpy(buf + n, "[]", 3);
			return buf;
		}
	}
	return NULL;
}

#define SCOPE_WILD "*"     /* an unknown section: accept anything in it */
#define SCOPE_PASS "-"     /* a scalar or inverted section: look below */
#define CHECK_DEPTH 64

struct check {
	char stack[CHECK_DEPTH][160];
	int depth;
	json_t *warnings;
	const char *part;
};

static void warn(struct check *c, int line, int column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void warn(struct check *c, int line, int column, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	json_t *w = json_pack("{s:s, s:i, s:i, s:o}", "field", c->part, "line",
			      line, "column", column, "message", ju_string(msg));
	if (w)
		json_array_append_new(c->warnings, w);
}

/* Resolves a dotted name as mustache does: the first part through the
 * stack, innermost first; the rest inside what it found. Writes the path
 * into out ("" for a wildcard). Returns 0, or -1 with a reason. */
static int resolve(struct check *c, const char *name, size_t len, char *out,
		   size_t cap, char *why, size_t wcap)
{
	if (len == 1 && name[0] == '.') {
		snprintf(out, cap, "%s", SCOPE_PASS);
		return 0;
	}
	const char *dot = memchr(name, '.', len);
	size_t first = dot ? (size_t)(dot - name) : len;
	char buf[160];
	const char *found = NULL;
	for (int i = c->depth; i >= 0 && !found; i--) {
		const char *scope = i > 0 ? c->stack[i - 1] : "";
		if (strcmp(scope, SCOPE_WILD) == 0) {
			snprintf(out, cap, "%s", SCOPE_WILD);
			return 0;
		}
		if (strcmp(scope, SCOPE_PASS) == 0)
			continue;
		found = schema_child(scope, name, first, buf, sizeof buf);
	}
	if (!found) {
		snprintf(why, wcap, "unknown name \"%.*s\"", (int)len, name);
		return -1;
	}
	char path[160];
	snprintf(path, sizeof path, "%s", found);
	size_t pos = first;
	while (pos < len) {
		size_t start = pos + 1;
		const char *d = memchr(name + start, '.', len - start);
		size_t seglen = d ? (size_t)(d - (name + start)) : len - start;
		if (!schema_child(path, name + start, seglen, buf, sizeof buf)) {
			snprintf(why, wcap, "unknown name \"%.*s\" (%s has no "
				 "field \"%.*s\")", (int)len, name, path,
				 (int)seglen, name + start);
			return -1;
		}
		snprintf(path, sizeof path, "%s", buf);
		pos = start + seglen;
	}
	snprintf(out, cap, "%s", path);
	return 0;
}

static bool schema_is_container(const char *path)
{
	size_t n = strlen(path);
	for (size_t i = 0; i < sizeof schema / sizeof schema[0]; i++)
		if (strncmp(schema[i], path, n) == 0 && schema[i][n] == '.')
			return true;
	return false;
}

static int check_tag(void *ud, enum mustache_tag_kind kind, const char *name,
		     size_t len, int line, int column)
{
	struct check *c = ud;
	char path[160], why[300];
	switch (kind) {
	case MUSTACHE_TAG_VAR:
		if (resolve(c, name, len, path, sizeof path, why, sizeof why) < 0)
			warn(c, line, column, "%s", why);
		return 0;
	case MUSTACHE_TAG_SECTION:
	case MUSTACHE_TAG_INVERTED:
		if (c->depth >= CHECK_DEPTH)
			return 0;
		if (resolve(c, name, len, path, sizeof path, why, sizeof why) < 0) {
			warn(c, line, column, "%s", why);
			snprintf(path, sizeof path, "%s", SCOPE_WILD);
		} else if (kind == MUSTACHE_TAG_INVERTED ||
			   (!schema_is_container(path) &&
			    strcmp(path, SCOPE_WILD) != 0)) {
			snprintf(path, sizeof path, "%s", SCOPE_PASS);
		}
		snprintf(c->stack[c->depth++], sizeof c->stack[0], "%s", path);
		return 0;
	case MUSTACHE_TAG_CLOSE:
		if (c->depth > 0)
			c->depth--;
		return 0;
	case MUSTACHE_TAG_PARTIAL:
		warn(c, line, column, "partial \"%.*s\": notice templates have "
		     "no partials; it renders as nothing", (int)len, name);
		return 0;
	}
	return 0;
}

int context_check_names(const struct mustache_template *t, json_t *warnings,
			const char *part)
{
	struct check c = { .warnings = warnings, .part = part };
	return mustache_walk(t, check_tag, &c);
}

/* ---- building ---- */

static const char *const months_en[] = { "Jan", "Feb", "Mar", "Apr", "May",
					 "Jun", "Jul", "Aug", "Sep", "Oct",
					 "Nov", "Dec" };

static void format_human(int64_t ms, bool zh, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000) + (time_t)util_local_offset() * 60;
	struct tm tm;
	if (ms <= 0 || !gmtime_r(&t, &tm)) {
		snprintf(out, cap, "%s", "");
		return;
	}
	if (zh)
		snprintf(out, cap, "%d月%d日%02d时%02d分", tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min);
	else
		snprintf(out, cap, "%d %s %02d:%02d", tm.tm_mday,
			 months_en[tm.tm_mon], tm.tm_hour, tm.tm_min);
}

json_t *context_region_json(const struct region *r)
{
	char short_name[REGION_NAME_MAX + 1];
	context_short_name(r->name, short_name, sizeof short_name);
	return json_pack("{s:s, s:o, s:o, s:s}", "code", r->code, "name",
			 ju_string(r->name), "short_name", ju_string(short_name),
			 "level", config_level_name(r->level));
}

static json_t *severity_json(int sev, bool zh)
{
	static const char *const roman[] = { "Ⅳ", "Ⅲ", "Ⅱ", "Ⅰ" };
	static const char *const words_zh[] = { "四级", "三级", "二级", "一级" };
	static const char *const words_en[] = { "level four", "level three",
						"level two", "level one" };
	static const char *const grade_en[] = { "general", "heavy", "serious",
						"especially serious" };
	const struct severity_info *s = catalog_severity(sev);
	if (!s)
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
			 "code", s->code, "name", zh ? s->name_zh : s->name_en,
			 "name_zh", s->name_zh, "name_en", s->name_en,
			 "level", s->level, "level_roman", roman[sev],
			 "level_words", zh ? words_zh[sev] : words_en[sev],
			 "grade", zh ? s->grade_zh : grade_en[sev], "cap",
			 s->cap);
}

static json_t *emergency_json(const struct context_emergency *em, bool zh,
			      const struct context_notice_cfg *nc)
{
	char issued[64], expires[64], issued_iso[40], expires_iso[40];
	format_human(em->issued_ms, zh, issued, sizeof issued);
	format_human(em->expires_ms, zh, expires, sizeof expires);
	util_format_local(em->issued_ms, issued_iso, sizeof issued_iso);
	util_format_local(em->expires_ms, expires_iso, sizeof expires_iso);
	const struct hazard *h = em->hazard;
	const char *mt = em->msg_type;
	json_t *o = json_pack(
		"{s:I, s:i, s:s, s:b, s:b, s:b, s:b, s:b, s:b,"
		" s:{s:s, s:s, s:s, s:s}, s:o, s:o, s:s, s:s, s:s, s:s, s:o}",
		"id", (json_int_t)em->id, "revision", em->revision,
		"msg_type", mt,
		"is_alert", strcmp(mt, "alert") == 0,
		"is_update", strcmp(mt, "update") == 0,
		"is_cancel", strcmp(mt, "cancel") == 0,
		"is_expired", strcmp(mt, "expired") == 0,
		"is_allclear", strcmp(mt, "allclear") == 0,
		"exercise", em->exercise,
		"hazard", "code", h->code, "name", zh ? h->name_zh : h->name_en,
		"name_zh", h->name_zh, "name_en", h->name_en,
		"severity", severity_json(em->severity, zh),
		"headline", ju_string(em->headline ? em->headline : ""),
		"issued", issued, "issued_iso", issued_iso,
		"expires", expires, "expires_iso", expires_iso,
		"issuer", ju_string(zh ? nc->issuer : nc->issuer_en));
	if (!o)
		return NULL;
	if (em->description && em->description[0])
		json_object_set_new(o, "description", ju_string(em->description));
	if (em->instruction && em->instruction[0])
		json_object_set_new(o, "instruction", ju_string(em->instruction));
	return o;
}

#define SCOPE_NAMES_MAX 10

static json_t *scope_json(const struct context_scope *sc, bool zh)
{
	struct buf names = BUF_INIT;
	size_t n = json_array_size(sc->regions);
	int rc = 0;
	for (size_t i = 0; i < n && i < SCOPE_NAMES_MAX; i++) {
		const char *name = json_string_value(
			json_object_get(json_array_get(sc->regions, i), "name"));
		if (i)
			rc |= buf_append_str(&names, zh ? "、" : ", ");
		rc |= buf_append_str(&names, name ? name : "");
	}
	if (n > SCOPE_NAMES_MAX)
		rc |= zh ? buf_appendf(&names, "等%zu个", n)
			 : buf_appendf(&names, " and %zu more",
				       n - SCOPE_NAMES_MAX);
	json_t *o = rc ? NULL
		       : json_pack("{s:o, s:O, s:I, s:I}", "names",
				   ju_stringn(buf_str(&names), names.len),
				   "regions", sc->regions, "town_count",
				   (json_int_t)sc->town_count, "village_count",
				   (json_int_t)sc->village_count);
	buf_free(&names);
	return o;
}

json_t *context_emergency_json(const struct context_emergency *em,
			       const char *locale,
			       const struct context_notice_cfg *nc)
{
	return emergency_json(em, context_locale_is_zh(locale), nc);
}

json_t *context_build(const struct context_input *in)
{
	bool zh = context_locale_is_zh(in->locale);
	const struct context_notice_cfg *nc = in->notice;
	json_t *ctx = json_pack(
		"{s:s, s:s, s:o, s:o, s:o, s:o}",
		"locale", in->locale, "tier", config_level_name(in->region->level),
		"emergency", in->emergency ? json_incref(in->emergency)
					   : emergency_json(in->em, zh, nc),
		"region", context_region_json(in->region),
		"contact", ju_string(zh ? nc->contact : nc->contact_en),
		"contact_tts", ju_string(zh ? nc->contact_tts : nc->contact_tts_en));
	json_t *anc = json_array();
	if (!ctx || !anc)
		goto fail;
	json_object_set_new(ctx, "ancestors", anc);
	for (int i = 0; i < in->nancestors; i++) {
		json_t *a = in->ancestor_json && in->ancestor_json[i]
				    ? json_incref(in->ancestor_json[i])
				    : context_region_json(&in->ancestors[i]);
		if (!a || json_array_append_new(anc, a) < 0)
			goto fail;
		json_object_set(ctx, config_level_name(in->ancestors[i].level), a);
	}
	json_object_set(ctx, config_level_name(in->region->level),
			json_object_get(ctx, "region"));
	if (in->scope) {
		json_t *s = scope_json(in->scope, zh);
		if (!s)
			goto fail;
		json_object_set_new(ctx, "scope", s);
	}
	json_t *notices = in->notices ? json_incref(in->notices) : json_array();
	if (!notices)
		goto fail;
	json_object_set_new(ctx, "notices", notices);
	if (json_array_size(notices) > 0)
		json_object_set(ctx, "notice", json_array_get(notices, 0));
	return ctx;
fail:
	json_decref(ctx);
	return NULL;
}
