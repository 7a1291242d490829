/* templates: the versioned template store. A template row points at its
 * current version; every save, rollback and delete adds a version, so
 * nothing an administrator wrote is ever lost. Saves carry the version the
 * client edited; a stale one is refused with 409 (and recorded as an
 * attempt, text included) so two administrators cannot overwrite each
 * other. What would break a broadcast — a part that does not compile — is
 * refused before anything is stored. */
#define _GNU_SOURCE
#include "templates.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog.h"
#include "channels.h"
#include "context.h"
#include "jsonutil.h"
#include "log.h"
#include "preview.h"
#include "util.h"

const char *const template_part_names[TEMPLATE_PARTS] = { "title", "body",
							  "tts" };

void template_text_free(struct template_text *t)
{
	for (int i = 0; i < TEMPLATE_PARTS; i++) {
		free(t->part[i]);
		t->part[i] = NULL;
	}
}

/* ---- the file format ---- */

static bool blank_line(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* A part's lines without the blank lines at either end; *skipped counts
 * the leading blank lines dropped. */
static char *part_text(const char *start, const char *end, int *skipped)
{
	*skipped = 0;
	for (;;) {
		const char *nl = memchr(start, '\n', (size_t)(end - start));
		if (!nl || !blank_line(start, (size_t)(nl - start)))
			break;
		start = nl + 1;
		(*skipped)++;
	}
	/* drop trailing white space and blank lines */
	while (end > start && (end[-1] == '\n' || end[-1] == '\r' ||
			       end[-1] == ' ' || end[-1] == '\t'))
		end--;
	struct buf b = BUF_INIT;
	for (const char *p = start; p < end; p++)
		if (*p != '\r' && buf_append_char(&b, *p) < 0) {
			buf_free(&b);
			return NULL;
		}
	return buf_steal(&b);
}

int templates_parse_file(const char *text, size_t len,
			 struct template_text *out, struct err *err)
{
	const char *p = text, *end = text + len;
	const char *part_start[TEMPLATE_PARTS] = { 0 };
	const char *part_end[TEMPLATE_PARTS] = { 0 };
	int part_line[TEMPLATE_PARTS] = { 0 };
	int current = -1, line = 0;
	if (memchr(text, '\0', len) || !util_utf8_valid(text, len)) {
		err_invalid(err, "file", "the file is not UTF-8 text");
		return -1;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		size_t n = (size_t)(eol - p);
		if (n && p[n - 1] == '\r')
			n--;
		line++;
		int marker = -1;
		for (int i = 0; i < TEMPLATE_PARTS; i++) {
			size_t ml = strlen(template_part_names[i]);
			if (n == ml + 2 && p[0] == '[' && p[n - 1] == ']' &&
			    memcmp(p + 1, template_part_names[i], ml) == 0)
				marker = i;
		}
		if (marker >= 0) {
			if (part_start[marker]) {
				err_invalid(err, "file", "line %d: a second [%s] "
					    "part", line,
					    template_part_names[marker]);
				return -1;
			}
			if (current >= 0)
				part_end[current] = p;
			current = marker;
			part_start[marker] = nl ? nl + 1 : end;
			part_line[marker] = line + 1;
		} else if (current < 0 && !blank_line(p, n) && p[0] != '#') {
			err_invalid(err, "file", "line %d: text before the first "
				    "[title], [body] or [tts] line", line);
			return -1;
		}
		p = nl ? nl + 1 : end;
	}
	if (current >= 0)
		part_end[current] = end;
	memset(out->part, 0, sizeof out->part);
	for (int i = 0; i < TEMPLATE_PARTS; i++) {
		if (!part_start[i]) {
			err_invalid(err, "file", "the [%s] part is missing",
				    template_part_names[i]);
			template_text_free(out);
			return -1;
		}
		int skipped;
		out->part[i] = part_text(part_start[i], part_end[i], &skipped);
		out->line[i] = part_line[i] + skipped;
		if (!out->part[i]) {
			template_text_free(out);
			err_oom(err);
			return -1;
		}
	}
	return 0;
}

/* ---- compile, check, render ---- */

int templates_compile(const struct template_text *t,
		      struct mustache_template *out[TEMPLATE_PARTS],
		      struct err *err)
{
	memset(out, 0, sizeof(out[0]) * TEMPLATE_PARTS);
	for (int i = 0; i < TEMPLATE_PARTS; i++) {
		struct mustache_error me;
		const char *src = t->part[i] ? t->part[i] : "";
		if (mustache_compile(src, strlen(src), &out[i], &me) < 0) {
			err_invalid(err, template_part_names[i],
				    "%s: line %d, column %d: %s",
				    template_part_names[i], me.line, me.column,
				    me.message);
			templates_compiled_free(out);
			return -1;
		}
	}
	return 0;
}

void templates_compiled_free(struct mustache_template *c[TEMPLATE_PARTS])
{
	for (int i = 0; i < TEMPLATE_PARTS; i++) {
		mustache_free(c[i]);
		c[i] = NULL;
	}
}

static void trim_buf(struct buf *b, size_t *start)
{
	const char *ws = " \t\r\n";
	size_t s = 0;
	while (s < b->len && strchr(ws, b->data[s]))
		s++;
	while (b->len > s && strchr(ws, b->data[b->len - 1]))
		b->len--;
	if (b->data)
		b->data[b->len] = '\0';
	*start = s;
}

int templates_render(struct mustache_template *c[TEMPLATE_PARTS],
		     const json_t *ctx, char *out[TEMPLATE_PARTS],
		     struct err *err)
{
	memset(out, 0, sizeof(out[0]) * TEMPLATE_PARTS);
	for (int i = 0; i < TEMPLATE_PARTS; i++) {
		struct buf b = BUF_INIT;
		struct mustache_error me;
		size_t start = 0;
		if (mustache_render(c[i], ctx, MUSTACHE_ESCAPE_NONE, NULL, &b,
				    &me) < 0) {
			buf_free(&b);
			err_invalid(err, template_part_names[i],
				    "%s: line %d, column %d: %s",
				    template_part_names[i], me.line, me.column,
				    me.message);
			goto fail;
		}
		trim_buf(&b, &start);
		out[i] = strndup(buf_str(&b) + start, b.len - start);
		buf_free(&b);
		if (!out[i]) {
			err_oom(err);
			goto fail;
		}
	}
	return 0;
fail:
	for (int i = 0; i < TEMPLATE_PARTS; i++) {
		free(out[i]);
		out[i] = NULL;
	}
	return -1;
}

int templates_check(struct store *s, const struct config *cfg,
		    const struct template_text *t, json_t *warnings,
		    struct err *err)
{
	struct mustache_template *c[TEMPLATE_PARTS];
	char *rendered[TEMPLATE_PARTS] = { 0 };
	json_t *ctx = NULL;
	int rc = -1;
	for (int i = 0; i < TEMPLATE_PARTS; i++)
		if (t->part[i] &&
		    util_utf8_chars(t->part[i], strlen(t->part[i])) >
			    TEMPLATE_PART_MAX) {
			err_invalid(err, template_part_names[i],
				    "%s is longer than %d characters",
				    template_part_names[i], TEMPLATE_PART_MAX);
			return -1;
		}
	if (templates_compile(t, c, err) < 0)
		return -1;
	for (int i = 0; i < TEMPLATE_PARTS; i++)
		context_check_names(c[i], warnings, template_part_names[i]);
	struct preview_emergency pe = {
		.hazard = strcmp(t->hazard, "*") == 0 ? NULL : t->hazard,
		.severity = -1,
	};
	if (preview_context(s, cfg, NULL, t->tier, t->locale, &pe, &ctx,
			    err) < 0)
		goto done;
	if (templates_render(c, ctx, rendered, err) < 0)
		goto done;
	size_t chars = util_screen_width2(rendered[PART_BODY],
					  strlen(rendered[PART_BODY])) / 2;
	int limit = config_body_limit(cfg, t->tier);
	if (chars > (size_t)limit) {
		char msg[200];
		snprintf(msg, sizeof msg, "the body renders to %zu screen characters "
			 "with a sample alert, over the %s limit of %d",
			 chars, config_level_name(t->tier), limit);
		json_array_append_new(warnings,
				      json_pack("{s:s, s:s}", "field", "body",
						"message", msg));
	}
	if (strpbrk(rendered[PART_TITLE], "\n")) {
		json_array_append_new(warnings,
				      json_pack("{s:s, s:s}", "field", "title",
						"message", "the title renders "
						"to more than one line"));
	}
	rc = 0;
done:
	for (int i = 0; i < TEMPLATE_PARTS; i++)
		free(rendered[i]);
	json_decref(ctx);
	templates_compiled_free(c);
	return rc;
}

/* ---- reading ---- */

#define TEMPLATE_COLUMNS                                                     \
	"t.id, t.hazard, t.tier, t.locale, t.version, t.deleted, v.title,"   \
	" v.body, v.tts, v.author, v.comment, v.created_at, v.action"

static json_t *template_json(sqlite3_stmt *st)
{
	char at[40];
	util_format_local(sqlite3_column_int64(st, 11), at, sizeof at);
	return json_pack("{s:I, s:s, s:s, s:s, s:i, s:b, s:o, s:o, s:o, s:o,"
			 " s:o, s:s, s:s}",
			 "id", (json_int_t)sqlite3_column_int64(st, 0),
			 "hazard", store_col_text(st, 1),
			 "tier", store_col_text(st, 2),
			 "locale", store_col_text(st, 3),
			 "version", sqlite3_column_int(st, 4),
			 "deleted", sqlite3_column_int(st, 5),
			 "title", ju_string(store_col_text(st, 6)),
			 "body", ju_string(store_col_text(st, 7)),
			 "tts", ju_string(store_col_text(st, 8)),
			 "author", ju_string(store_col_text(st, 9)),
			 "comment", ju_string(store_col_text(st, 10)),
			 "updated_at", at,
			 "action", store_col_text(st, 12));
}

int templates_get(struct store *s, int64_t id, int version, json_t **out,
		  struct err *err)
{
	static const char sql[] =
		"SELECT " TEMPLATE_COLUMNS " FROM templates t"
		" JOIN template_versions v ON v.template_id = t.id"
		" AND v.version = CASE WHEN ?2 > 0 THEN ?2 ELSE t.version END"
		" WHERE t.id = ?1";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, version);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = template_json(st);
		if (*out && version > 0)
			json_object_set_new(*out, "version",
					    json_integer(version));
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		if (version > 0)
			err_not_found(err, "template %lld has no version %d",
				      (long long)id, version);
		else
			err_not_found(err, "no template %lld", (long long)id);
		return -1;
	}
	if (rc != SQLITE_ROW)
		return store_fail(s, err, "reading a template");
	if (!*out) {
		err_oom(err);
		return -1;
	}
	return 0;
}

int templates_list(struct store *s, const struct templates_filter *f,
		   json_t **out, struct err *err)
{
	static const char sql[] =
		"SELECT " TEMPLATE_COLUMNS " FROM templates t"
		" JOIN template_versions v ON v.template_id = t.id"
		" AND v.version = t.version"
		" WHERE t.deleted = 0 AND (?1 IS NULL OR t.hazard = ?1)"
		" AND (?2 IS NULL OR t.tier = ?2) AND (?3 IS NULL OR t.locale = ?3)"
		" ORDER BY t.hazard = '*' DESC, t.hazard, t.tier, t.locale";
	json_t *items = json_array();
	if (!items) {
		err_oom(err);
		return -1;
	}
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		goto fail;
	store_bind_text(st, 1, f->hazard);
	store_bind_text(st, 2, f->tier);
	store_bind_text(st, 3, f->locale);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (json_array_append_new(items, template_json(st)) < 0) {
			sqlite3_reset(st);
			err_oom(err);
			goto fail;
		}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_fail(s, err, "listing templates");
		goto fail;
	}
	*out = json_pack("{s:o, s:I}", "items", items, "total",
			 (json_int_t)json_array_size(items));
	return *out ? 0 : (err_oom(err), -1);
fail:
	json_decref(items);
	return -1;
}

/* Reads the current text of a template into t (parts allocated). */
static int load_current(struct store *s, int64_t id, struct template_text *t,
			bool *deleted, struct err *err)
{
	static const char sql[] =
		"SELECT t.hazard, t.tier, t.locale, t.version, t.deleted,"
		" v.title, v.body, v.tts FROM templates t"
		" JOIN template_versions v ON v.template_id = t.id"
		" AND v.version = t.version WHERE t.id = ?";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(t, 0, sizeof *t);
		t->id = id;
		snprintf(t->hazard, sizeof t->hazard, "%s", store_col_text(st, 0));
		const char *tier = store_col_text(st, 1);
		t->tier = config_level_parse(tier, strlen(tier));
		snprintf(t->locale, sizeof t->locale, "%s", store_col_text(st, 2));
		t->version = sqlite3_column_int(st, 3);
		*deleted = sqlite3_column_int(st, 4);
		for (int i = 0; i < TEMPLATE_PARTS; i++)
			t->part[i] = strdup(store_col_text(st, 5 + i));
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		err_not_found(err, "no template %lld", (long long)id);
		return -1;
	}
	if (rc != SQLITE_ROW)
		return store_fail(s, err, "reading a template");
	for (int i = 0; i < TEMPLATE_PARTS; i++)
		if (!t->part[i]) {
			template_text_free(t);
			err_oom(err);
			return -1;
		}
	return 0;
}

int templates_lookup(struct store *s, const char *hazard, int tier,
		     const char *locale, const char *default_locale,
		     struct template_text *out, struct err *err)
{
	static const char sql[] =
		"SELECT t.id, t.version, v.title, v.body, v.tts FROM templates t"
		" JOIN template_versions v ON v.template_id = t.id"
		" AND v.version = t.version"
		" WHERE t.hazard = ? AND t.tier = ? AND t.locale = ?"
		" AND t.deleted = 0";
	int tiers[2] = { tier, tier == LEVEL_PROVINCE ? LEVEL_CITY
			       : tier == LEVEL_COUNTY ? LEVEL_TOWN : 0 };
	const char *locales[2] = { locale, default_locale };
	const char *hazards[2] = { hazard, "*" };
	for (int l = 0; l < 2; l++) {
		if (l == 1 && strcmp(locale, default_locale) == 0)
			break;
		for (int ti = 0; ti < 2 && tiers[ti]; ti++)
			for (int h = 0; h < 2; h++) {
				sqlite3_stmt *st = store_stmt(s, sql, err);
				if (!st)
					return -1;
				store_bind_text(st, 1, hazards[h]);
				store_bind_text(st, 2,
						config_level_name(tiers[ti]));
				store_bind_text(st, 3, locales[l]);
				int rc = sqlite3_step(st);
				if (rc == SQLITE_ROW) {
					memset(out, 0, sizeof *out);
					out->id = sqlite3_column_int64(st, 0);
					out->version = sqlite3_column_int(st, 1);
					snprintf(out->hazard, sizeof out->hazard,
						 "%s", hazards[h]);
					out->tier = tiers[ti];
					snprintf(out->locale, sizeof out->locale,
						 "%s", locales[l]);
					for (int i = 0; i < TEMPLATE_PARTS; i++)
						out->part[i] = strdup(
							store_col_text(st, 2 + i));
				}
				sqlite3_reset(st);
				if (rc == SQLITE_ROW) {
					for (int i = 0; i < TEMPLATE_PARTS; i++)
						if (!out->part[i]) {
							template_text_free(out);
							err_oom(err);
							return -1;
						}
					return 0;
				}
				if (rc != SQLITE_DONE)
					return store_fail(s, err,
							  "looking up a template");
			}
	}
	err_not_found(err, "no template for %s, %s, %s (nor a fallback)",
		      hazard, config_level_name(tier), locale);
	return -1;
}

/* ---- writing ---- */

static int insert_version(struct store *s, const struct template_text *t,
			  int version, const char *action, int based_on,
			  const char *author, const char *comment,
			  struct err *err)
{
	static const char sql[] =
		"INSERT INTO template_versions(template_id, version, action,"
		" based_on, title, body, tts, author, comment, created_at)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	static const char sql_cur[] =
		"UPDATE templates SET version = ?2, deleted = ?3 WHERE id = ?1";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, t->id);
	sqlite3_bind_int(st, 2, version);
	store_bind_text(st, 3, action);
	if (based_on > 0)
		sqlite3_bind_int(st, 4, based_on);
	for (int i = 0; i < TEMPLATE_PARTS; i++)
		store_bind_text(st, 5 + i, t->part[i] ? t->part[i] : "");
	store_bind_text(st, 8, author);
	store_bind_text(st, 9, comment ? comment : "");
	sqlite3_bind_int64(st, 10, util_now_ms());
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, err, "saving a template version");
	st = store_stmt(s, sql_cur, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, t->id);
	sqlite3_bind_int(st, 2, version);
	sqlite3_bind_int(st, 3, strcmp(action, "delete") == 0);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, err, "saving a template");
	return 0;
}

static int record_attempt(struct store *s, const struct template_text *t,
			  int based_on, int current, const char *author,
			  const char *comment, struct err *err)
{
	static const char sql[] =
		"INSERT INTO template_attempts(template_id, based_on,"
		" current_version, title, body, tts, author, comment, created_at)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, t->id);
	sqlite3_bind_int(st, 2, based_on);
	sqlite3_bind_int(st, 3, current);
	for (int i = 0; i < TEMPLATE_PARTS; i++)
		store_bind_text(st, 4 + i, t->part[i]);
	store_bind_text(st, 7, author);
	store_bind_text(st, 8, comment ? comment : "");
	sqlite3_bind_int64(st, 9, util_now_ms());
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, err, "recording a refused save");
	return 0;
}

static int check_address(const char *hazard, const char *tier,
			 const char *locale, struct err *err)
{
	if (strcmp(hazard, "*") != 0 && !catalog_hazard(hazard)) {
		err_invalid(err, "hazard", "unknown hazard \"%.40s\" (see "
			    "data/hazards.csv, or * for every hazard)", hazard);
		return -1;
	}
	if (config_level_parse(tier, strlen(tier)) < 0) {
		err_invalid(err, "tier", "tier must be city, town or village "
			    "(or province, county)");
		return -1;
	}
	return channels_check_locale(locale, "locale", err);
}

/* Reads title/body/tts from a request body into t; absent parts stay. */
static int take_parts(const json_t *body, struct template_text *t,
		      bool required, struct err *err)
{
	for (int i = 0; i < TEMPLATE_PARTS; i++) {
		const char *v;
		if (ju_get_string(body, template_part_names[i], required,
				  TEMPLATE_PART_MAX, &v, err) < 0)
			return -1;
		if (!v)
			continue;
		char *copy = strdup(v);
		if (!copy) {
			err_oom(err);
			return -1;
		}
		free(t->part[i]);
		t->part[i] = copy;
	}
	return 0;
}

static int finish_save(struct store *s, int64_t id, json_t *warnings,
		       json_t **out, struct err *err)
{
	if (templates_get(s, id, 0, out, err) < 0) {
		json_decref(warnings);
		return -1;
	}
	json_object_set_new(*out, "warnings", warnings);
	return 0;
}

int templates_create(struct store *s, const struct config *cfg,
		     const json_t *body, const char *actor, json_t **out,
		     struct err *err)
{
	static const char *const allowed[] = { "hazard", "tier", "locale",
					       "title", "body", "tts",
					       "comment", NULL };
	static const char sql_find[] =
		"SELECT id, version, deleted FROM templates"
		" WHERE hazard = ? AND tier = ? AND locale = ?";
	static const char sql_new[] =
		"INSERT INTO templates(hazard, tier, locale, version)"
		" VALUES (?, ?, ?, 0)";
	struct template_text t = { 0 };
	const char *hazard, *tier, *locale, *comment;
	json_t *warnings = json_array();
	int rc = -1;
	if (!warnings) {
		err_oom(err);
		return -1;
	}
	if (ju_check_object(body, allowed, err) < 0 ||
	    ju_get_string(body, "hazard", true, 31, &hazard, err) < 0 ||
	    ju_get_string(body, "tier", true, 10, &tier, err) < 0 ||
	    ju_get_string(body, "locale", true, 35, &locale, err) < 0 ||
	    ju_get_string(body, "comment", false, 500, &comment, err) < 0 ||
	    check_address(hazard, tier, locale, err) < 0 ||
	    take_parts(body, &t, true, err) < 0)
		goto done;
	snprintf(t.hazard, sizeof t.hazard, "%s", hazard);
	t.tier = config_level_parse(tier, strlen(tier));
	snprintf(t.locale, sizeof t.locale, "%s", locale);
	if (templates_check(s, cfg, &t, warnings, err) < 0)
		goto done;
	if (store_begin(s, err) < 0)
		goto done;
	sqlite3_stmt *st = store_stmt(s, sql_find, err);
	if (!st)
		goto rollback;
	store_bind_text(st, 1, hazard);
	store_bind_text(st, 2, tier);
	store_bind_text(st, 3, locale);
	int step = sqlite3_step(st);
	int version = 0, deleted = 0;
	if (step == SQLITE_ROW) {
		t.id = sqlite3_column_int64(st, 0);
		version = sqlite3_column_int(st, 1);
		deleted = sqlite3_column_int(st, 2);
	}
	sqlite3_reset(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		store_fail(s, err, "reading templates");
		goto rollback;
	}
	if (step == SQLITE_ROW && !deleted) {
		err_conflict(err, "a template for (%s, %s, %s) exists: it is "
			     "template %lld; change that one", hazard, tier,
			     locale, (long long)t.id);
		goto rollback;
	}
	if (step == SQLITE_DONE) {
		st = store_stmt(s, sql_new, err);
		if (!st)
			goto rollback;
		store_bind_text(st, 1, hazard);
		store_bind_text(st, 2, tier);
		store_bind_text(st, 3, locale);
		step = sqlite3_step(st);
		sqlite3_reset(st);
		if (step != SQLITE_DONE) {
			store_fail(s, err, "creating a template");
			goto rollback;
		}
		t.id = sqlite3_last_insert_rowid(store_db(s));
	}
	if (insert_version(s, &t, version + 1, "create", version, actor,
			   comment, err) < 0 ||
	    store_commit(s, err) < 0)
		goto rollback;
	rc = finish_save(s, t.id, warnings, out, err);
	warnings = NULL;
	goto done;
rollback:
	store_rollback(s);
done:
	json_decref(warnings);
	template_text_free(&t);
	return rc;
}

/* The common path of update and rollback: t holds the new text. */
static int save_new_version(struct store *s, const struct config *cfg,
			    struct template_text *t, int expected,
			    int current, const char *action,
			    const char *actor, const char *comment,
			    json_t **out, json_t **details, struct err *err)
{
	json_t *warnings = json_array();
	if (!warnings) {
		err_oom(err);
		return -1;
	}
	if (expected != current) {
		/* record the refused save in its own small transaction: the
		 * 409 leaves the template as it was, but not the history */
		if (store_begin(s, err) < 0) {
			json_decref(warnings);
			return -1;
		}
		if (record_attempt(s, t, expected, current, actor, comment,
				   err) < 0 ||
		    store_commit(s, err) < 0) {
			store_rollback(s);
			json_decref(warnings);
			return -1;
		}
		templates_get(s, t->id, 0, details, err);
		err_set(err, 409, "conflict", "version",
			"template %lld is at version %d; you edited version %d. "
			"Someone saved in between: look at their change, then "
			"save again from version %d", (long long)t->id, current,
			expected, current);
		json_decref(warnings);
		return -1;
	}
	if (templates_check(s, cfg, t, warnings, err) < 0)
		goto fail;
	if (store_begin(s, err) < 0)
		goto fail;
	/* the version read before BEGIN may have moved: check again inside */
	static const char sql_ver[] = "SELECT version FROM templates WHERE id = ?";
	sqlite3_stmt *st = store_stmt(s, sql_ver, err);
	if (!st)
		goto rollback;
	sqlite3_bind_int64(st, 1, t->id);
	int now_version = sqlite3_step(st) == SQLITE_ROW
				  ? sqlite3_column_int(st, 0) : -1;
	sqlite3_reset(st);
	if (now_version != current) {
		store_rollback(s);
		json_decref(warnings);
		return save_new_version(s, cfg, t, expected, now_version, action,
					actor, comment, out, details, err);
	}
	if (insert_version(s, t, current + 1, action, expected, actor, comment,
			   err) < 0 ||
	    store_commit(s, err) < 0)
		goto rollback;
	return finish_save(s, t->id, warnings, out, err);
rollback:
	store_rollback(s);
fail:
	json_decref(warnings);
	return -1;
}

int templates_update(struct store *s, const struct config *cfg, int64_t id,
		     const json_t *body, const char *actor, json_t **out,
		     json_t **details, struct err *err)
{
	static const char *const allowed[] = { "version", "title", "body",
					       "tts", "comment", NULL };
	struct template_text t;
	bool deleted;
	const char *comment;
	long long expected;
	if (ju_check_object(body, allowed, err) < 0 ||
	    ju_get_int(body, "version", 1, INT32_MAX, true, &expected, err) < 0 ||
	    ju_get_string(body, "comment", false, 500, &comment, err) < 0)
		return -1;
	if (load_current(s, id, &t, &deleted, err) < 0)
		return -1;
	int rc = -1;
	if (deleted) {
		err_conflict(err, "template %lld is deleted: roll it back to "
			     "a version to bring it back", (long long)id);
		goto done;
	}
	if (take_parts(body, &t, false, err) < 0)
		goto done;
	rc = save_new_version(s, cfg, &t, (int)expected, t.version, "update",
			      actor, comment, out, details, err);
done:
	template_text_free(&t);
	return rc;
}

int templates_rollback(struct store *s, const struct config *cfg, int64_t id,
		       const json_t *body, const char *actor, json_t **out,
		       json_t **details, struct err *err)
{
	static const char *const allowed[] = { "to_version", "version",
					       "comment", NULL };
	static const char sql_old[] =
		"SELECT title, body, tts FROM template_versions"
		" WHERE template_id = ? AND version = ?";
	struct template_text t;
	bool deleted;
	const char *comment;
	long long to, expected;
	char note[600];
	if (ju_check_object(body, allowed, err) < 0 ||
	    ju_get_int(body, "to_version", 1, INT32_MAX, true, &to, err) < 0 ||
	    ju_get_int(body, "version", 1, INT32_MAX, true, &expected, err) < 0 ||
	    ju_get_string(body, "comment", false, 400, &comment, err) < 0)
		return -1;
	if (load_current(s, id, &t, &deleted, err) < 0)
		return -1;
	int rc = -1;
	sqlite3_stmt *st = store_stmt(s, sql_old, err);
	if (!st)
		goto done;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, to);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		for (int i = 0; i < TEMPLATE_PARTS; i++) {
			free(t.part[i]);
			t.part[i] = strdup(store_col_text(st, i));
		}
	sqlite3_reset(st);
	if (step == SQLITE_DONE) {
		err_invalid(err, "to_version", "template %lld has no version "
			    "%lld", (long long)id, to);
		goto done;
	}
	if (step != SQLITE_ROW) {
		store_fail(s, err, "reading a template version");
		goto done;
	}
	for (int i = 0; i < TEMPLATE_PARTS; i++)
		if (!t.part[i]) {
			err_oom(err);
			goto done;
		}
	snprintf(note, sizeof note, "rollback to version %lld%s%s", to,
		 comment && *comment ? ": " : "", comment ? comment : "");
	rc = save_new_version(s, cfg, &t, (int)expected, t.version, "rollback",
			      actor, note, out, details, err);
done:
	template_text_free(&t);
	return rc;
}

int templates_delete(struct store *s, const struct config *cfg, int64_t id,
		     int expected_version, const char *actor, json_t **details,
		     struct err *err)
{
	struct template_text t;
	bool deleted;
	if (load_current(s, id, &t, &deleted, err) < 0)
		return -1;
	int rc = -1;
	if (deleted) {
		err_not_found(err, "template %lld is already deleted",
			      (long long)id);
		goto done;
	}
	if (strcmp(t.hazard, "*") == 0 &&
	    strcmp(t.locale, cfg->templates_default_locale) == 0) {
		err_conflict(err, "template %lld is the last fallback of the "
			     "%s tier (hazard *, default locale %s): change "
			     "it instead of deleting it", (long long)id,
			     config_level_name(t.tier), t.locale);
		goto done;
	}
	if (expected_version != t.version) {
		templates_get(s, id, 0, details, err);
		err_set(err, 409, "conflict", "version",
			"template %lld is at version %d; you asked to delete "
			"version %d", (long long)id, t.version,
			expected_version);
		goto done;
	}
	if (store_begin(s, err) < 0)
		goto done;
	if (insert_version(s, &t, t.version + 1, "delete", expected_version,
			   actor, "deleted", err) < 0 ||
	    store_commit(s, err) < 0) {
		store_rollback(s);
		goto done;
	}
	rc = 0;
done:
	template_text_free(&t);
	return rc;
}

int templates_history(struct store *s, int64_t id, json_t **out,
		      struct err *err)
{
	static const char sql[] =
		"SELECT 'saved', version, action, based_on, NULL, author,"
		" comment, created_at, NULL, NULL, NULL"
		" FROM template_versions WHERE template_id = ?1"
		" UNION ALL SELECT 'conflict', NULL, 'update', based_on,"
		" current_version, author, comment, created_at, title, body, tts"
		" FROM template_attempts WHERE template_id = ?1"
		" ORDER BY 8 DESC, 2 DESC";
	json_t *head = NULL;
	if (templates_get(s, id, 0, &head, err) < 0)
		return -1;
	json_t *events = json_array();
	if (!events) {
		json_decref(head);
		err_oom(err);
		return -1;
	}
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char at[40];
		util_format_local(sqlite3_column_int64(st, 7), at, sizeof at);
		bool saved = strcmp(store_col_text(st, 0), "saved") == 0;
		json_t *e = json_pack("{s:s, s:s, s:o, s:o, s:s}",
				      "outcome", store_col_text(st, 0),
				      "action", store_col_text(st, 2),
				      "author", ju_string(store_col_text(st, 5)),
				      "comment", ju_string(store_col_text(st, 6)),
				      "at", at);
		if (!e)
			continue;
		if (saved)
			json_object_set_new(e, "version",
					    json_integer(sqlite3_column_int(st, 1)));
		if (sqlite3_column_type(st, 3) != SQLITE_NULL)
			json_object_set_new(e, "based_on",
					    json_integer(sqlite3_column_int(st, 3)));
		if (!saved) {
			json_object_set_new(e, "current_version",
					    json_integer(sqlite3_column_int(st, 4)));
			json_object_set_new(e, "message", json_string(
				"refused: someone else had saved a newer version"));
			for (int i = 0; i < TEMPLATE_PARTS; i++)
				json_object_set_new(e, template_part_names[i],
						    ju_string(store_col_text(st, 8 + i)));
		}
		json_array_append_new(events, e);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_fail(s, err, "reading the history");
		goto fail;
	}
	*out = json_pack("{s:o, s:o}", "template", head, "events", events);
	return *out ? 0 : (err_oom(err), -1);
fail:
	json_decref(head);
	json_decref(events);
	return -1;
}

/* ---- the defaults in templates/ ---- */

static int seed_file(struct store *s, const char *path, const char *hazard,
		     const char *file, struct err *err)
{
	static const char sql_new[] =
		"INSERT INTO templates(hazard, tier, locale, version)"
		" VALUES (?, ?, ?, 0)";
	char tier[16], locale[40];
	const char *dot = strchr(file, '.');
	size_t flen = strlen(file);
	if (!dot || flen < 5 || strcmp(file + flen - 4, ".txt") != 0 ||
	    (size_t)(dot - file) >= sizeof tier ||
	    (size_t)(file + flen - 4 - dot - 1) >= sizeof locale) {
		err_set(err, 0, "templates", "", "%s: expected a name like "
			"village.zh-CN.txt", path);
		return -1;
	}
	snprintf(tier, sizeof tier, "%.*s", (int)(dot - file), file);
	snprintf(locale, sizeof locale, "%.*s", (int)(file + flen - 4 - dot - 1),
		 dot + 1);
	if (check_address(hazard, tier, locale, err) < 0) {
		err_prefix(err, "%s: ", path);
		return -1;
	}
	char *data = NULL;
	size_t len = 0;
	struct template_text t = { 0 };
	struct mustache_template *c[TEMPLATE_PARTS];
	if (util_read_file(path, &data, &len) < 0) {
		err_set(err, 0, "templates", "", "%s: %s", path, strerror(errno));
		return -1;
	}
	int rc = -1;
	if (templates_parse_file(data, len, &t, err) < 0 ||
	    templates_compile(&t, c, err) < 0) {
		err_prefix(err, "%s: ", path);
		goto done;
	}
	templates_compiled_free(c);
	sqlite3_stmt *st = store_stmt(s, sql_new, err);
	if (!st)
		goto done;
	store_bind_text(st, 1, hazard);
	store_bind_text(st, 2, tier);
	store_bind_text(st, 3, locale);
	int step = sqlite3_step(st);
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		store_fail(s, err, "loading default templates");
		err_prefix(err, "%s: ", path);
		goto done;
	}
	t.id = sqlite3_last_insert_rowid(store_db(s));
	char comment[600];
	snprintf(comment, sizeof comment, "default template (templates/%s/%s)",
		 strcmp(hazard, "*") == 0 ? "_default" : hazard, file);
	rc = insert_version(s, &t, 1, "create", 0, "scicast", comment, err);
done:
	template_text_free(&t);
	free(data);
	return rc;
}

static int seed_dir(struct store *s, const char *dir, const char *name,
		    int *count, struct err *err)
{
	char path[2048];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	const char *hazard = strcmp(name, "_default") == 0 ? "*" : name;
	struct dirent **files = NULL;
	int n = scandir(path, &files, NULL, alphasort);
	if (n < 0) {
		err_set(err, 0, "templates", "", "%s: %s", path, strerror(errno));
		return -1;
	}
	int rc = 0;
	for (int i = 0; i < n; i++) {
		if (rc == 0 && files[i]->d_name[0] != '.') {
			char fpath[2400];
			snprintf(fpath, sizeof fpath, "%s/%s", path,
				 files[i]->d_name);
			if (seed_file(s, fpath, hazard, files[i]->d_name, err) < 0)
				rc = -1;
			else
				(*count)++;
		}
		free(files[i]);
	}
	free(files);
	return rc;
}

int templates_seed(struct store *s, const char *dir, struct err *err)
{
	static const char sql_count[] = "SELECT count(*) FROM templates";
	sqlite3_stmt *st = store_stmt(s, sql_count, err);
	if (!st)
		return -1;
	int step = sqlite3_step(st);
	long existing = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	if (existing < 0)
		return store_fail(s, err, "counting templates");
	if (existing > 0)
		return 0;
	struct dirent **dirs = NULL;
	int n = scandir(dir, &dirs, NULL, alphasort);
	if (n < 0) {
		err_set(err, 0, "templates", "", "%s: %s", dir, strerror(errno));
		return -1;
	}
	int count = 0, rc = 0;
	bool begun = store_begin(s, err) == 0;
	if (!begun)
		rc = -1;
	for (int i = 0; i < n; i++) {
		char sub[2048];
		struct stat sb;
		snprintf(sub, sizeof sub, "%s/%s", dir, dirs[i]->d_name);
		if (rc == 0 && dirs[i]->d_name[0] != '.' &&
		    stat(sub, &sb) == 0 && S_ISDIR(sb.st_mode) &&
		    seed_dir(s, dir, dirs[i]->d_name, &count, err) < 0)
			rc = -1;
		free(dirs[i]);
	}
	free(dirs);
	if (rc == 0 && store_commit(s, err) == 0) {
		log_info("templates: loaded %d default templates from %s",
			 count, dir);
		return count;
	}
	if (begun)
		store_rollback(s);
	return -1;
}
