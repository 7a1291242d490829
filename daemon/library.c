/* library: the science notices. A notice is validated field by field
 * (naming the line and field on import), stored with a version per change
 * (the whole notice as JSON, so any version can be read back), indexed by
 * an FTS5 trigram table kept in step by triggers. Search quotes every word
 * as a phrase, so FTS syntax typed by a person is text; words shorter than
 * three characters, which a trigram index cannot see, are found by a
 * substring scan that ranks title, keywords and summary above the text. */
#define _GNU_SOURCE
#include "library.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "catalog.h"
#include "channels.h"
#include "jsonutil.h"
#include "log.h"
#include "util.h"

#define ID_MAX 80
#define TITLE_MAX 100
#define TEXT_MAX 10000
#define AUTHORITY_MAX 200
#define KEYWORDS_MAX 20
#define IMPORT_MAX_ERRORS 50

static char public_url[512] = "";

void library_set_public_url(const char *url)
{
	snprintf(public_url, sizeof public_url, "%s", url ? url : "");
}

/* ---- one notice ---- */

struct notice {
	const char *id, *hazard, *audience, *locale, *title, *summary, *text,
		*authority, *updated;
	long long priority;
	char *keywords;     /* JSON array text, owned */
};

static void notice_clear(struct notice *n)
{
	free(n->keywords);
	memset(n, 0, sizeof *n);
}

static const char *const notice_fields[] = {
	"id", "hazard", "audience", "locale", "title", "summary", "text",
	"keywords", "authority", "priority", "updated", NULL
};

static bool valid_date(const char *s)
{
	int64_t ms;
	char iso[40];
	if (strlen(s) != 10)
		return false;
	snprintf(iso, sizeof iso, "%sT00:00:00Z", s);
	return util_parse_iso(iso, &ms) == 0;
}

/* Fills n from obj (strings borrowed from obj). On error: -1 with the
 * field and a message. */
static int notice_parse(const json_t *obj, const struct config *cfg,
			struct notice *n, struct err *err)
{
	memset(n, 0, sizeof *n);
	if (ju_check_object(obj, notice_fields, err) < 0)
		return -1;
	if (ju_get_string(obj, "id", true, ID_MAX, &n->id, err) < 0 ||
	    ju_get_string(obj, "hazard", true, 31, &n->hazard, err) < 0 ||
	    ju_get_string(obj, "audience", true, 15, &n->audience, err) < 0 ||
	    ju_get_string(obj, "locale", true, 35, &n->locale, err) < 0 ||
	    ju_get_string(obj, "title", true, TITLE_MAX, &n->title, err) < 0 ||
	    ju_get_string(obj, "summary", true, 1000, &n->summary, err) < 0 ||
	    ju_get_string(obj, "text", true, TEXT_MAX, &n->text, err) < 0 ||
	    ju_get_string(obj, "authority", true, AUTHORITY_MAX, &n->authority,
			  err) < 0 ||
	    ju_get_int(obj, "priority", 1, 100, true, &n->priority, err) < 0 ||
	    ju_get_string(obj, "updated", true, 10, &n->updated, err) < 0)
		return -1;
	for (const char *c = n->id; *c; c++)
		if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) &&
		    *c != '-' && *c != '_') {
			err_invalid(err, "id", "id must be lower-case letters, "
				    "digits, - and _");
			return -1;
		}
	if (!catalog_hazard(n->hazard)) {
		err_invalid(err, "hazard", "unknown hazard \"%.40s\"", n->hazard);
		return -1;
	}
	if (!catalog_audience(n->audience)) {
		err_invalid(err, "audience", "unknown audience \"%.40s\" (general, "
			    "elderly, children, farmers, workers)", n->audience);
		return -1;
	}
	if (channels_check_locale(n->locale, "locale", err) < 0)
		return -1;
	size_t w2 = util_screen_width2(n->summary, strlen(n->summary));
	if (w2 > (size_t)cfg->library_summary_limit * 2) {
		err_invalid(err, "summary", "summary is %zu%s screen characters, "
			    "over the limit of %d", w2 / 2, w2 % 2 ? ".5" : "",
			    cfg->library_summary_limit);
		return -1;
	}
	if (!valid_date(n->updated)) {
		err_invalid(err, "updated", "updated must be a date like "
			    "2026-11-01");
		return -1;
	}
	/* kept one per line: searchable as text, and a keyword may hold
	 * spaces ("tropical cyclone") */
	json_t *kw = json_object_get(obj, "keywords");
	struct buf joined = BUF_INIT;
	if (kw && !json_is_null(kw)) {
		bool ok = json_is_array(kw) && json_array_size(kw) <= KEYWORDS_MAX;
		size_t i;
		json_t *k;
		json_array_foreach(kw, i, k) {
			ok = ok && json_is_string(k) && json_string_length(k) > 0 &&
			     json_string_length(k) <= 60 &&
			     !strchr(json_string_value(k), '\n');
			if (ok && ((i && buf_append_char(&joined, '\n') < 0) ||
				   buf_append_str(&joined,
						  json_string_value(k)) < 0)) {
				buf_free(&joined);
				err_oom(err);
				return -1;
			}
		}
		if (!ok) {
			buf_free(&joined);
			err_invalid(err, "keywords", "keywords must be a list of at "
				    "most %d words of 1 to 60 bytes", KEYWORDS_MAX);
			return -1;
		}
	}
	n->keywords = buf_steal(&joined);
	if (!n->keywords) {
		err_oom(err);
		return -1;
	}
	return 0;
}

/* The notice as the import/export format writes it, keys in order. */
static json_t *keywords_json(const char *joined)
{
	json_t *a = json_array();
	const char *p = joined ? joined : "";
	while (a && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len)
			json_array_append_new(a, ju_stringn(p, len));
		p += len + (nl ? 1 : 0);
	}
	return a;
}

static json_t *notice_doc(const struct notice *n)
{
	json_t *kw = keywords_json(n->keywords);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:I, s:s}",
			 "id", n->id, "hazard", n->hazard, "audience",
			 n->audience, "locale", n->locale, "title", n->title,
			 "summary", n->summary, "text", n->text, "keywords",
			 kw ? kw : json_array(), "authority", n->authority,
			 "priority", (json_int_t)n->priority, "updated",
			 n->updated);
}

#define NOTICE_COLUMNS                                                        \
	"id, hazard, audience, locale, title, summary, text, keywords,"       \
	" authority, priority, updated, version"

/* Reads NOTICE_COLUMNS from st into a JSON object. */
static json_t *notice_row_json(sqlite3_stmt *st, bool with_text)
{
	char url[700];
	json_t *kw = keywords_json(store_col_text(st, 7));
	snprintf(url, sizeof url, "%s/library/%s", public_url,
		 store_col_text(st, 0));
	json_t *o = json_pack(
		"{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:I, s:s, s:i, s:s}",
		"id", store_col_text(st, 0), "hazard", store_col_text(st, 1),
		"audience", store_col_text(st, 2), "locale", store_col_text(st, 3),
		"title", ju_string(store_col_text(st, 4)),
		"summary", ju_string(store_col_text(st, 5)),
		"keywords", kw ? kw : json_array(),
		"authority", ju_string(store_col_text(st, 8)),
		"priority", (json_int_t)sqlite3_column_int64(st, 9),
		"updated", store_col_text(st, 10),
		"version", sqlite3_column_int(st, 11),
		"url", url);
	if (o && with_text)
		json_object_set_new(o, "text", ju_string(store_col_text(st, 6)));
	return o;
}

/* ---- writing ---- */

enum upsert_state { UP_NEW, UP_CHANGED, UP_SAME };

static int write_version(struct store *s, const struct notice *n, int version,
			 const char *action, const char *actor,
			 const char *comment, struct err *err)
{
	static const char sql[] =
		"INSERT INTO resource_versions(resource_id, version, action, doc,"
		" author, comment, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
	json_t *doc = notice_doc(n);
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (!text) {
		err_oom(err);
		return -1;
	}
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st) {
		free(text);
		return -1;
	}
	store_bind_text(st, 1, n->id);
	sqlite3_bind_int(st, 2, version);
	store_bind_text(st, 3, action);
	store_bind_text(st, 4, text);
	store_bind_text(st, 5, actor);
	store_bind_text(st, 6, comment ? comment : "");
	sqlite3_bind_int64(st, 7, util_now_ms());
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	free(text);
	return rc == SQLITE_DONE ? 0 : store_fail(s, err, "writing a version");
}

/* Inserts or changes a notice (a new version unless nothing changed). */
static int upsert(struct store *s, const struct notice *n, const char *action,
		  const char *actor, const char *comment, enum upsert_state *out,
		  struct err *err)
{
	static const char sql_cur[] =
		"SELECT hazard, audience, locale, title, summary, text, keywords,"
		" authority, priority, updated, version, deleted FROM resources"
		" WHERE id = ?";
	static const char sql_ins[] =
		"INSERT INTO resources(id, hazard, audience, locale, title,"
		" summary, text, keywords, authority, priority, updated, version)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1)";
	static const char sql_upd[] =
		"UPDATE resources SET hazard = ?2, audience = ?3, locale = ?4,"
		" title = ?5, summary = ?6, text = ?7, keywords = ?8,"
		" authority = ?9, priority = ?10, updated = ?11, version = ?12,"
		" deleted = 0 WHERE id = ?1";
	sqlite3_stmt *st = store_stmt(s, sql_cur, err);
	if (!st)
		return -1;
	store_bind_text(st, 1, n->id);
	int rc = sqlite3_step(st);
	int version = 0;
	bool same = false;
	if (rc == SQLITE_ROW) {
		const char *cur[] = { n->hazard, n->audience, n->locale, n->title,
				      n->summary, n->text, n->keywords,
				      n->authority };
		same = true;
		for (int i = 0; i < 8 && same; i++)
			same = strcmp(store_col_text(st, i), cur[i]) == 0;
		same = same && sqlite3_column_int64(st, 8) == n->priority &&
		       strcmp(store_col_text(st, 9), n->updated) == 0 &&
		       sqlite3_column_int(st, 11) == 0;
		version = sqlite3_column_int(st, 10);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, err, "reading the library");
	if (same) {
		*out = UP_SAME;
		return 0;
	}
	st = store_stmt(s, rc == SQLITE_ROW ? sql_upd : sql_ins, err);
	if (!st)
		return -1;
	store_bind_text(st, 1, n->id);
	store_bind_text(st, 2, n->hazard);
	store_bind_text(st, 3, n->audience);
	store_bind_text(st, 4, n->locale);
	store_bind_text(st, 5, n->title);
	store_bind_text(st, 6, n->summary);
	store_bind_text(st, 7, n->text);
	store_bind_text(st, 8, n->keywords);
	store_bind_text(st, 9, n->authority);
	sqlite3_bind_int64(st, 10, n->priority);
	store_bind_text(st, 11, n->updated);
	if (rc == SQLITE_ROW)
		sqlite3_bind_int(st, 12, version + 1);
	int step = sqlite3_step(st);
	sqlite3_reset(st);
	if (step != SQLITE_DONE)
		return store_fail(s, err, "writing the library");
	*out = rc == SQLITE_ROW ? UP_CHANGED : UP_NEW;
	return write_version(s, n, version + 1, action, actor, comment, err);
}

/* ---- import ---- */

static void import_error(json_t *errors, long *count, long line,
			 const char *field, const char *msg)
{
	(*count)++;
	if (*count > IMPORT_MAX_ERRORS)
		return;
	json_t *e = json_pack("{s:I, s:o}", "line", (json_int_t)line, "message",
			      ju_string(msg));
	if (e && field && *field)
		json_object_set_new(e, "field", ju_string(field));
	if (e)
		json_array_append_new(errors, e);
}

int library_import(struct store *s, const struct config *cfg,
		   const char *data, size_t len, const char *actor,
		   struct library_import_result *res, struct err *err)
{
	json_t **docs = NULL;
	struct notice *notices = NULL;
	long *lines = NULL;
	size_t n = 0, cap = 0;
	long nerrors = 0, lineno = 0;
	int rc = -1;
	memset(res, 0, sizeof *res);
	res->errors = json_array();
	if (!res->errors) {
		err_oom(err);
		return -1;
	}
	if (!util_utf8_valid(data, len) || memchr(data, '\0', len)) {
		err_invalid(err, "body", "the library file is not UTF-8 text");
		return -1;
	}
	const char *p = data, *end = data + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		lineno++;
		size_t l = (size_t)(eol - p);
		while (l && (p[l - 1] == '\r' || p[l - 1] == ' ' || p[l - 1] == '\t'))
			l--;
		if (l) {
			json_error_t je;
			struct err e;
			json_t *obj = json_loadb(p, l, JSON_REJECT_DUPLICATES, &je);
			if (!obj) {
				char msg[300];
				snprintf(msg, sizeof msg, "not JSON (column %d): %s",
					 je.column, je.text);
				import_error(res->errors, &nerrors, lineno, "", msg);
			} else {
				if (n == cap) {
					cap = cap ? cap * 2 : 64;
					json_t **d = realloc(docs, cap * sizeof *d);
					struct notice *nn = realloc(notices,
								    cap * sizeof *nn);
					long *ll = realloc(lines, cap * sizeof *ll);
					if (d)
						docs = d;
					if (nn)
						notices = nn;
					if (ll)
						lines = ll;
					if (!d || !nn || !ll) {
						json_decref(obj);
						err_oom(err);
						goto done;
					}
				}
				docs[n] = obj;
				lines[n] = lineno;
				if (notice_parse(obj, cfg, &notices[n], &e) < 0) {
					import_error(res->errors, &nerrors, lineno,
						     e.field, e.message);
					notice_clear(&notices[n]);
				}
				n++;
			}
		}
		p = nl ? nl + 1 : end;
	}
	/* an id twice in one file is a mistake, not an update */
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; notices[i].id && k < i; k++)
			if (notices[k].id && strcmp(notices[i].id, notices[k].id) == 0) {
				char msg[200];
				snprintf(msg, sizeof msg, "id \"%s\" is already on "
					 "line %ld", notices[i].id, lines[k]);
				import_error(res->errors, &nerrors, lines[i], "id", msg);
				break;
			}
	if (n == 0 && nerrors == 0)
		import_error(res->errors, &nerrors, 1, "", "the file has no notices");
	if (nerrors) {
		if (nerrors > IMPORT_MAX_ERRORS)
			json_array_append_new(res->errors, json_pack(
				"{s:n, s:s}", "line", "message",
				"and more bad lines not listed"));
		err_set(err, 422, "invalid", "body", "the library file has %ld "
			"bad line%s; nothing was imported", nerrors,
			nerrors == 1 ? "" : "s");
		goto done;
	}
	if (store_begin(s, err) < 0)
		goto done;
	for (size_t i = 0; i < n; i++) {
		enum upsert_state st;
		if (upsert(s, &notices[i], "import", actor, "imported", &st,
			   err) < 0) {
			store_rollback(s);
			goto done;
		}
		if (st == UP_NEW)
			res->inserted++;
		else if (st == UP_CHANGED)
			res->updated++;
		else
			res->unchanged++;
	}
	if (store_commit(s, err) < 0) {
		store_rollback(s);
		goto done;
	}
	rc = 0;
done:
	for (size_t i = 0; i < n; i++) {
		notice_clear(&notices[i]);
		json_decref(docs[i]);
	}
	free(docs);
	free(notices);
	free(lines);
	return rc;
}

int library_seed(struct store *s, const struct config *cfg, const char *dir,
		 struct err *err)
{
	static const char sql[] = "SELECT count(*) FROM resources";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	int rc = sqlite3_step(st);
	long have = rc == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	if (have < 0)
		return store_fail(s, err, "counting the library");
	if (have > 0)
		return 0;
	struct dirent **files = NULL;
	int n = scandir(dir, &files, NULL, alphasort);
	if (n < 0) {
		err_set(err, 0, "library", "", "%s: %s", dir, strerror(errno));
		return -1;
	}
	long total = 0;
	rc = 0;
	for (int i = 0; i < n; i++) {
		const char *name = files[i]->d_name;
		size_t l = strlen(name);
		if (rc == 0 && l > 6 && strcmp(name + l - 6, ".jsonl") == 0) {
			char path[2048], *data = NULL;
			size_t len = 0;
			struct library_import_result r;
			snprintf(path, sizeof path, "%s/%s", dir, name);
			if (util_read_file(path, &data, &len) < 0) {
				err_set(err, 0, "library", "", "%s: %s", path,
					strerror(errno));
				rc = -1;
			} else if (library_import(s, cfg, data, len, "scicast", &r,
						  err) < 0) {
				json_t *e = json_array_get(r.errors, 0);
				if (e)
					err_set(err, 0, "library", "",
						"%s:%lld: %s%s%s", path,
						(long long)json_integer_value(
							json_object_get(e, "line")),
						json_string_value(json_object_get(e, "field"))
							? json_string_value(json_object_get(e, "field"))
							: "",
						json_object_get(e, "field") ? ": " : "",
						json_string_value(json_object_get(e, "message")));
				else
					err_prefix(err, "%s: ", path);
				rc = -1;
				json_decref(r.errors);
			} else {
				total += r.inserted;
				json_decref(r.errors);
			}
			free(data);
		}
		free(files[i]);
	}
	free(files);
	if (rc == 0)
		log_info("library: loaded %ld science notices from %s", total, dir);
	return rc;
}

int library_export(struct store *s, const char *hazard, const char *locale,
		   char **out, size_t *len, struct err *err)
{
	static const char sql[] =
		"SELECT " NOTICE_COLUMNS " FROM resources WHERE deleted = 0"
		" AND (?1 IS NULL OR hazard = ?1) AND (?2 IS NULL OR locale = ?2)"
		" ORDER BY hazard, id";
	struct buf b = BUF_INIT;
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	store_bind_text(st, 1, hazard);
	store_bind_text(st, 2, locale);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct notice n = {
			.id = store_col_text(st, 0), .hazard = store_col_text(st, 1),
			.audience = store_col_text(st, 2),
			.locale = store_col_text(st, 3),
			.title = store_col_text(st, 4),
			.summary = store_col_text(st, 5),
			.text = store_col_text(st, 6),
			.keywords = (char *)store_col_text(st, 7),
			.authority = store_col_text(st, 8),
			.priority = sqlite3_column_int64(st, 9),
			.updated = store_col_text(st, 10),
		};
		json_t *doc = notice_doc(&n);
		char *line = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
		json_decref(doc);
		if (!line || buf_append_str(&b, line) < 0 ||
		    buf_append_char(&b, '\n') < 0) {
			free(line);
			sqlite3_reset(st);
			buf_free(&b);
			err_oom(err);
			return -1;
		}
		free(line);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		buf_free(&b);
		return store_fail(s, err, "exporting the library");
	}
	*len = b.len;
	*out = buf_steal(&b);
	return 0;
}

/* ---- the API's operations ---- */

int library_list(struct store *s, const struct library_filter *f,
		 json_t **out, struct err *err)
{
	static const char sql[] =
		"SELECT " NOTICE_COLUMNS " FROM resources WHERE deleted = 0"
		" AND (?1 IS NULL OR hazard = ?1) AND (?2 IS NULL OR audience = ?2)"
		" AND (?3 IS NULL OR locale = ?3)"
		" ORDER BY hazard, locale, audience = 'general' DESC, audience,"
		" priority DESC, id LIMIT ?4 OFFSET ?5";
	static const char sql_count[] =
		"SELECT count(*) FROM resources WHERE deleted = 0"
		" AND (?1 IS NULL OR hazard = ?1) AND (?2 IS NULL OR audience = ?2)"
		" AND (?3 IS NULL OR locale = ?3)";
	json_t *items = json_array();
	if (!items) {
		err_oom(err);
		return -1;
	}
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		goto fail;
	store_bind_text(st, 1, f->hazard);
	store_bind_text(st, 2, f->audience);
	store_bind_text(st, 3, f->locale);
	sqlite3_bind_int64(st, 4, f->limit);
	sqlite3_bind_int64(st, 5, f->offset);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(items, notice_row_json(st, false));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_fail(s, err, "listing the library");
		goto fail;
	}
	st = store_stmt(s, sql_count, err);
	if (!st)
		goto fail;
	store_bind_text(st, 1, f->hazard);
	store_bind_text(st, 2, f->audience);
	store_bind_text(st, 3, f->locale);
	rc = sqlite3_step(st);
	json_int_t total = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	*out = json_pack("{s:o, s:I, s:I, s:I}", "items", items, "total", total,
			 "limit", (json_int_t)f->limit, "offset",
			 (json_int_t)f->offset);
	return *out ? 0 : (err_oom(err), -1);
fail:
	json_decref(items);
	return -1;
}

int library_get(struct store *s, const char *id, int version, json_t **out,
		struct err *err)
{
	static const char sql[] =
		"SELECT " NOTICE_COLUMNS ", deleted FROM resources WHERE id = ?";
	static const char sql_ver[] =
		"SELECT doc, author, comment, created_at, action FROM"
		" resource_versions WHERE resource_id = ? AND version = ?";
	if (version > 0) {
		sqlite3_stmt *st = store_stmt(s, sql_ver, err);
		if (!st)
			return -1;
		store_bind_text(st, 1, id);
		sqlite3_bind_int(st, 2, version);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*out = json_loads(store_col_text(st, 0), 0, NULL);
			if (*out) {
				json_object_set_new(*out, "version",
						    json_integer(version));
				json_object_set_new(*out, "author",
						    ju_string(store_col_text(st, 1)));
				json_object_set_new(*out, "action",
						    json_string(store_col_text(st, 4)));
			}
		}
		sqlite3_reset(st);
		if (rc == SQLITE_DONE) {
			err_not_found(err, "notice %.80s has no version %d", id,
				      version);
			return -1;
		}
		if (rc != SQLITE_ROW)
			return store_fail(s, err, "reading a version");
		return *out ? 0 : (err_oom(err), -1);
	}
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	store_bind_text(st, 1, id);
	int rc = sqlite3_step(st);
	bool deleted = rc == SQLITE_ROW && sqlite3_column_int(st, 12);
	if (rc == SQLITE_ROW && !deleted)
		*out = notice_row_json(st, true);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE || deleted) {
		err_not_found(err, "no notice %.80s", id);
		return -1;
	}
	if (rc != SQLITE_ROW)
		return store_fail(s, err, "reading a notice");
	return *out ? 0 : (err_oom(err), -1);
}

static int current_version(struct store *s, const char *id, int *version,
			   bool *deleted, struct err *err)
{
	static const char sql[] =
		"SELECT version, deleted FROM resources WHERE id = ?";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	store_bind_text(st, 1, id);
	int rc = sqlite3_step(st);
	*version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	*deleted = rc == SQLITE_ROW && sqlite3_column_int(st, 1);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, err, "reading a notice");
	return rc == SQLITE_ROW ? 1 : 0;
}

int library_create(struct store *s, const struct config *cfg,
		   const json_t *body, const char *actor, json_t **out,
		   struct err *err)
{
	struct notice n;
	int version;
	bool deleted;
	enum upsert_state st;
	if (notice_parse(body, cfg, &n, err) < 0) {
		notice_clear(&n);
		return -1;
	}
	int rc = -1;
	if (store_begin(s, err) < 0)
		goto done;
	int found = current_version(s, n.id, &version, &deleted, err);
	if (found < 0)
		goto rollback;
	if (found && !deleted) {
		err_conflict(err, "notice %s exists: change it with PUT", n.id);
		goto rollback;
	}
	if (upsert(s, &n, "create", actor, "", &st, err) < 0 ||
	    store_commit(s, err) < 0)
		goto rollback;
	rc = library_get(s, n.id, 0, out, err);
	goto done;
rollback:
	store_rollback(s);
done:
	notice_clear(&n);
	return rc;
}

int library_update(struct store *s, const struct config *cfg, const char *id,
		   const json_t *body, const char *actor, json_t **out,
		   json_t **details, struct err *err)
{
	long long expected;
	const char *comment = NULL;
	json_t *doc = NULL;
	struct notice n = { 0 };
	int version, rc = -1;
	bool deleted;
	enum upsert_state st;
	if (!json_is_object(body)) {
		err_invalid(err, "", "the body must be a JSON object");
		return -1;
	}
	if (ju_get_int(body, "version", 1, INT32_MAX, true, &expected, err) < 0 ||
	    ju_get_string(body, "comment", false, 500, &comment, err) < 0)
		return -1;
	/* the notice as it is, with the body's fields on top */
	if (library_get(s, id, 0, &doc, err) < 0)
		return -1;
	json_object_del(doc, "version");
	json_object_del(doc, "url");
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)body, k, v)
		if (strcmp(k, "version") != 0 && strcmp(k, "comment") != 0)
			json_object_set(doc, k, v);
	if (strcmp(json_string_value(json_object_get(doc, "id")), id) != 0) {
		err_invalid(err, "id", "the id of a notice cannot be changed");
		goto done;
	}
	if (notice_parse(doc, cfg, &n, err) < 0)
		goto done;
	if (store_begin(s, err) < 0)
		goto done;
	if (current_version(s, id, &version, &deleted, err) < 0)
		goto rollback;
	if (version != expected) {
		store_rollback(s);
		library_get(s, id, 0, details, err);
		err_set(err, 409, "conflict", "version", "notice %s is at "
			"version %d; you edited version %lld", id, version,
			expected);
		goto done;
	}
	if (upsert(s, &n, "update", actor, comment, &st, err) < 0 ||
	    store_commit(s, err) < 0)
		goto rollback;
	rc = library_get(s, id, 0, out, err);
	goto done;
rollback:
	store_rollback(s);
done:
	notice_clear(&n);
	json_decref(doc);
	return rc;
}

int library_delete(struct store *s, const char *id, int version,
		   const char *actor, struct err *err)
{
	static const char sql[] =
		"UPDATE resources SET deleted = 1, version = ?2 WHERE id = ?1";
	json_t *doc = NULL;
	int current;
	bool deleted;
	if (library_get(s, id, 0, &doc, err) < 0)
		return -1;
	int rc = -1;
	if (store_begin(s, err) < 0)
		goto done;
	if (current_version(s, id, &current, &deleted, err) < 0)
		goto rollback;
	if (current != version) {
		err_set(err, 409, "conflict", "version", "notice %s is at "
			"version %d; you asked to delete version %d", id,
			current, version);
		goto rollback;
	}
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		goto rollback;
	store_bind_text(st, 1, id);
	sqlite3_bind_int(st, 2, current + 1);
	int step = sqlite3_step(st);
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		store_fail(s, err, "deleting a notice");
		goto rollback;
	}
	static const char sql_ver[] =
		"INSERT INTO resource_versions(resource_id, version, action, doc,"
		" author, comment, created_at) VALUES (?, ?, 'delete', ?, ?,"
		" 'deleted', ?)";
	json_object_del(doc, "version");
	json_object_del(doc, "url");
	char *text = json_dumps(doc, JSON_COMPACT);
	st = store_stmt(s, sql_ver, err);
	if (!text || !st) {
		free(text);
		if (!text)
			err_oom(err);
		goto rollback;
	}
	store_bind_text(st, 1, id);
	sqlite3_bind_int(st, 2, current + 1);
	store_bind_text(st, 3, text);
	store_bind_text(st, 4, actor);
	sqlite3_bind_int64(st, 5, util_now_ms());
	step = sqlite3_step(st);
	sqlite3_reset(st);
	free(text);
	if (step != SQLITE_DONE) {
		store_fail(s, err, "recording a deletion");
		goto rollback;
	}
	if (store_commit(s, err) < 0)
		goto rollback;
	rc = 0;
	goto done;
rollback:
	store_rollback(s);
done:
	json_decref(doc);
	return rc;
}

int library_history(struct store *s, const char *id, json_t **out,
		    struct err *err)
{
	static const char sql[] =
		"SELECT version, action, author, comment, created_at FROM"
		" resource_versions WHERE resource_id = ? ORDER BY version DESC";
	json_t *events = json_array();
	if (!events) {
		err_oom(err);
		return -1;
	}
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st) {
		json_decref(events);
		return -1;
	}
	store_bind_text(st, 1, id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char at[40];
		util_format_local(sqlite3_column_int64(st, 4), at, sizeof at);
		json_array_append_new(events, json_pack(
			"{s:i, s:s, s:o, s:o, s:s}", "version",
			sqlite3_column_int(st, 0), "action", store_col_text(st, 1),
			"author", ju_string(store_col_text(st, 2)), "comment",
			ju_string(store_col_text(st, 3)), "at", at));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(events);
		return store_fail(s, err, "reading the history");
	}
	if (json_array_size(events) == 0) {
		json_decref(events);
		err_not_found(err, "no notice %.80s", id);
		return -1;
	}
	*out = json_pack("{s:s, s:o}", "id", id, "events", events);
	return *out ? 0 : (err_oom(err), -1);
}

/* ---- search ---- */

struct hit {
	json_t *item;
	double score;
	long priority;
	const char *text;  /* borrowed from item */
};

#define TERMS_MAX 16

struct terms {
	char *t[TERMS_MAX * 4];
	int n;
};

static void terms_free(struct terms *t)
{
	for (int i = 0; i < t->n; i++)
		free(t->t[i]);
	t->n = 0;
}

/* Splits on white space (ASCII and U+3000). */
static int split_terms(const char *q, struct terms *t)
{
	const char *p = q;
	t->n = 0;
	while (*p && t->n < TERMS_MAX) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
		       strncmp(p, "\xE3\x80\x80", 3) == 0)
			p += *p == '\xE3' ? 3 : 1;
		const char *s = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n' &&
		       *p != '\r' && strncmp(p, "\xE3\x80\x80", 3) != 0)
			p++;
		if (p > s) {
			t->t[t->n] = strndup(s, (size_t)(p - s));
			if (!t->t[t->n])
				return -1;
			t->n++;
		}
	}
	return 0;
}

/* Long words that matched nothing as a whole are looked for by their
 * two-character pieces (高温中暑 → 高温 + 中暑). */
static int split_pieces(const struct terms *in, struct terms *out)
{
	out->n = 0;
	for (int i = 0; i < in->n; i++) {
		const char *w = in->t[i];
		size_t chars = util_utf8_chars(w, strlen(w));
		if (chars <= 2) {
			out->t[out->n++] = strdup(w);
			if (!out->t[out->n - 1])
				return -1;
			continue;
		}
		const char *p = w;
		while (*p && out->n < TERMS_MAX * 4) {
			const char *s = p;
			for (int c = 0; c < 2 && *p; c++) {
				p++;
				while (((unsigned char)*p & 0xC0) == 0x80)
					p++;
			}
			out->t[out->n++] = strndup(s, (size_t)(p - s));
			if (!out->t[out->n - 1])
				return -1;
		}
	}
	return 0;
}

static int count_in(const char *hay, const char *needle)
{
	int n = 0;
	size_t l = strlen(needle);
	for (const char *p = hay; l && (p = strstr(p, needle)); p += l)
		n++;
	return n;
}

/* HTML-escaped text around the first match, matches in <mark>. */
static void make_snippet(const char *text, const struct terms *t,
			 struct buf *out)
{
	const char *first = NULL;
	for (int i = 0; i < t->n; i++) {
		const char *p = strstr(text, t->t[i]);
		if (p && (!first || p < first))
			first = p;
	}
	const char *start = first ? first : text;
	/* back up about 20 characters, to a character boundary */
	for (int c = 0; c < 20 && start > text; c++) {
		start--;
		while (start > text && ((unsigned char)*start & 0xC0) == 0x80)
			start--;
	}
	if (start > text)
		buf_append_str(out, "…");
	const char *p = start;
	int chars = 0;
	while (*p && chars < 90) {
		int hit = -1;
		for (int i = 0; i < t->n && hit < 0; i++)
			if (t->t[i][0] && strncmp(p, t->t[i], strlen(t->t[i])) == 0)
				hit = i;
		if (hit >= 0) {
			buf_append_str(out, "<mark>");
			for (size_t k = 0; k < strlen(t->t[hit]); k++) {
				char c = t->t[hit][k];
				if (c == '<') buf_append_str(out, "&lt;");
				else if (c == '>') buf_append_str(out, "&gt;");
				else if (c == '&') buf_append_str(out, "&amp;");
				else if (c == '"') buf_append_str(out, "&quot;");
				else buf_append_char(out, c);
			}
			buf_append_str(out, "</mark>");
			p += strlen(t->t[hit]);
			chars += 2;
			continue;
		}
		unsigned char c = (unsigned char)*p;
		if (c == '<') buf_append_str(out, "&lt;");
		else if (c == '>') buf_append_str(out, "&gt;");
		else if (c == '&') buf_append_str(out, "&amp;");
		else if (c == '"') buf_append_str(out, "&quot;");
		else if (c == '\n') buf_append_char(out, ' ');
		else buf_append_char(out, (char)c);
		p++;
		if ((c & 0xC0) != 0x80)
			chars++;
	}
	while (*p && ((unsigned char)*p & 0xC0) == 0x80)
		buf_append_char(out, *p++);
	if (*p)
		buf_append_str(out, "…");
}

static int cmp_hits(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return strcmp(json_string_value(json_object_get(x->item, "id")),
		      json_string_value(json_object_get(y->item, "id")));
}

static int add_hit(struct hit **hits, size_t *n, size_t *cap, json_t *item,
		   double score)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		struct hit *g = realloc(*hits, *cap * sizeof *g);
		if (!g)
			return -1;
		*hits = g;
	}
	(*hits)[*n].item = item;
	(*hits)[*n].score = score;
	(*hits)[*n].priority = (long)json_integer_value(json_object_get(item,
									"priority"));
	(*hits)[*n].text = json_string_value(json_object_get(item, "text"));
	(*n)++;
	return 0;
}

/* Full text: every word of three characters or more as a quoted phrase,
 * so nothing a person types is FTS syntax. bm25 weighs title, summary,
 * text, keywords. */
static int search_fts(struct store *s, const struct terms *t,
		      const char *locale, const char *hazard, struct hit **hits,
		      size_t *n, size_t *cap, struct err *err)
{
	static const char sql[] =
		"SELECT r.id, r.hazard, r.audience, r.locale, r.title, r.summary,"
		" r.text, r.keywords, r.authority, r.priority, r.updated,"
		" r.version, bm25(resources_fts, 10.0, 5.0, 1.0, 8.0)"
		" FROM resources_fts JOIN resources r ON r.rid = resources_fts.rowid"
		" WHERE resources_fts MATCH ?1 AND r.deleted = 0"
		" AND (?2 IS NULL OR r.locale = ?2) AND (?3 IS NULL OR r.hazard = ?3)"
		" LIMIT 500";
	struct buf match = BUF_INIT;
	for (int i = 0; i < t->n; i++) {
		if (i)
			buf_append_str(&match, " AND ");
		buf_append_char(&match, '"');
		for (const char *c = t->t[i]; *c; c++) {
			if (*c == '"')
				buf_append_str(&match, "\"\"");
			else
				buf_append_char(&match, *c);
		}
		buf_append_char(&match, '"');
	}
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st) {
		buf_free(&match);
		return -1;
	}
	store_bind_text(st, 1, buf_str(&match));
	store_bind_text(st, 2, locale);
	store_bind_text(st, 3, hazard);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *item = notice_row_json(st, true);
		/* bm25 is negative, better when lower */
		double score = -sqlite3_column_double(st, 12);
		if (!item || add_hit(hits, n, cap, item, score) < 0) {
			json_decref(item);
			sqlite3_reset(st);
			buf_free(&match);
			err_oom(err);
			return -1;
		}
	}
	sqlite3_reset(st);
	buf_free(&match);
	if (rc != SQLITE_DONE)
		return store_fail(s, err, "searching the library");
	return 0;
}

/* Substring scan for what the trigram index cannot see: every piece must
 * occur; title and keywords count most. */
static int search_scan(struct store *s, const struct terms *t,
		       const char *locale, const char *hazard, struct hit **hits,
		       size_t *n, size_t *cap, struct err *err)
{
	static const char sql[] =
		"SELECT " NOTICE_COLUMNS " FROM resources WHERE deleted = 0"
		" AND (?1 IS NULL OR locale = ?1) AND (?2 IS NULL OR hazard = ?2)";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	store_bind_text(st, 1, locale);
	store_bind_text(st, 2, hazard);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *fields[4] = { store_col_text(st, 4), store_col_text(st, 7),
					  store_col_text(st, 5), store_col_text(st, 6) };
		static const double weight[4] = { 10, 8, 5, 1 };
		double score = 0;
		bool all = true;
		for (int i = 0; i < t->n && all; i++) {
			int total = 0;
			for (int f = 0; f < 4; f++) {
				int c = count_in(fields[f], t->t[i]);
				total += c;
				score += weight[f] * c;
			}
			all = total > 0;
		}
		if (!all)
			continue;
		json_t *item = notice_row_json(st, true);
		if (!item || add_hit(hits, n, cap, item, score) < 0) {
			json_decref(item);
			sqlite3_reset(st);
			err_oom(err);
			return -1;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, err, "searching the library");
	return 0;
}

int library_search(struct store *s, const char *q, const char *locale,
		   const char *hazard, long limit, json_t **out,
		   struct err *err)
{
	struct terms t = { 0 }, pieces = { 0 };
	struct hit *hits = NULL;
	size_t n = 0, cap = 0;
	int rc = -1;
	const char *mode = "fulltext";
	if (split_terms(q, &t) < 0) {
		err_oom(err);
		goto done;
	}
	if (t.n == 0) {
		err_set(err, 400, "bad_request", "q", "q must have a word to look "
			"for");
		goto done;
	}
	bool short_word = false;
	for (int i = 0; i < t.n; i++)
		short_word |= util_utf8_chars(t.t[i], strlen(t.t[i])) < 3;
	if (!short_word &&
	    search_fts(s, &t, locale, hazard, &hits, &n, &cap, err) < 0)
		goto done;
	const struct terms *used = &t;
	if (short_word || n == 0) {
		mode = "substring";
		if (!short_word) {
			/* no whole-word hit: try the words' pieces */
			if (split_pieces(&t, &pieces) < 0) {
				err_oom(err);
				goto done;
			}
			used = &pieces;
		}
		if (search_scan(s, used, locale, hazard, &hits, &n, &cap, err) < 0)
			goto done;
	}
	if (n)
		qsort(hits, n, sizeof *hits, cmp_hits);
	json_t *items = json_array();
	if (!items) {
		err_oom(err);
		goto done;
	}
	for (size_t i = 0; i < n && (long)i < limit; i++) {
		struct buf snip = BUF_INIT;
		make_snippet(hits[i].text ? hits[i].text : "", used, &snip);
		json_object_set_new(hits[i].item, "snippet",
				    ju_stringn(buf_str(&snip), snip.len));
		json_object_set_new(hits[i].item, "score",
				    json_real((double)(long)(hits[i].score * 1000) /
					      1000));
		json_object_del(hits[i].item, "text");
		buf_free(&snip);
		json_array_append(items, hits[i].item);
	}
	*out = json_pack("{s:o, s:I, s:s, s:s}", "items", items, "total",
			 (json_int_t)n, "mode", mode, "q", q);
	rc = *out ? 0 : (err_oom(err), -1);
done:
	for (size_t i = 0; i < n; i++)
		json_decref(hits[i].item);
	free(hits);
	terms_free(&t);
	terms_free(&pieces);
	return rc;
}

/* ---- for messages ---- */

static int append_notices(struct store *s, const char *hazard,
			  const char *audience, const char *locale, int want,
			  json_t *list, struct err *err)
{
	static const char sql[] =
		"SELECT id, title, summary, authority, audience, hazard FROM"
		" resources WHERE deleted = 0 AND hazard = ? AND audience = ?"
		" AND locale = ? ORDER BY priority DESC, id LIMIT ?";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	store_bind_text(st, 1, hazard);
	store_bind_text(st, 2, audience);
	store_bind_text(st, 3, locale);
	sqlite3_bind_int(st, 4, want);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char url[700];
		snprintf(url, sizeof url, "%s/library/%s", public_url,
			 store_col_text(st, 0));
		json_array_append_new(list, json_pack(
			"{s:s, s:o, s:o, s:o, s:s, s:s, s:s}",
			"id", store_col_text(st, 0),
			"title", ju_string(store_col_text(st, 1)),
			"summary", ju_string(store_col_text(st, 2)),
			"authority", ju_string(store_col_text(st, 3)),
			"audience", store_col_text(st, 4),
			"hazard", store_col_text(st, 5), "url", url));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, err, "reading the library");
	return 0;
}

json_t *library_for_message(struct store *s, const struct config *cfg,
			    const char *hazard, const char *audience,
			    const char *locale, struct err *err)
{
	int want = cfg->library_notices_per_message;
	json_t *list = json_array();
	if (!list) {
		err_oom(err);
		return NULL;
	}
	const char *locales[2] = { locale, cfg->templates_default_locale };
	for (int l = 0; l < 2 && json_array_size(list) == 0 && want > 0; l++) {
		if (l == 1 && strcmp(locale, locales[1]) == 0)
			break;
		if (strcmp(audience, "general") != 0 &&
		    append_notices(s, hazard, audience, locales[l], want, list,
				   err) < 0)
			goto fail;
		int room = want - (int)json_array_size(list);
		if (room > 0 &&
		    append_notices(s, hazard, "general", locales[l], room, list,
				   err) < 0)
			goto fail;
	}
	return list;
fail:
	json_decref(list);
	return NULL;
}
