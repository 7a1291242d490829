/* regions: the region tree and its import. The import reads the whole file
 * first and checks every row against the file and the database inside one
 * write transaction; only a file without a single bad row is written, so a
 * refused import leaves the database exactly as it was. */
#define _GNU_SOURCE
#include "regions.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels.h"
#include "config.h"
#include "jsonutil.h"
#include "log.h"
#include "util.h"

#define IMPORT_MAX_ERRORS 50

struct csv_row {
	char code[REGION_CODE_LEN + 1];
	char parent[REGION_CODE_LEN + 1];
	const char *name;
	int level;
	long line;
	bool bad;
};

struct import {
	char *text;            /* a mutable copy; fields are cut in place */
	struct csv_row *rows;
	size_t nrows, caprows;
	uint32_t *index;       /* open addressing: code -> row + 1 */
	size_t index_cap;
	long nerrors;
	json_t *errors;
};

static void import_error(struct import *im, long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void import_error(struct import *im, long line, const char *fmt, ...)
{
	im->nerrors++;
	if (im->nerrors > IMPORT_MAX_ERRORS || !im->errors)
		return;
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	json_t *e = json_pack("{s:I, s:o}", "line", (json_int_t)line,
			      "message", ju_string(msg));
	if (e)
		json_array_append_new(im->errors, e);
}

static uint64_t code_key(const char *code)
{
	uint64_t k = 0;
	for (int i = 0; i < REGION_CODE_LEN; i++)
		k = k * 10 + (uint64_t)(code[i] - '0');
	return k;
}

static size_t slot_of(uint64_t key, size_t cap)
{
	key ^= key >> 29;
	key *= 0xBF58476D1CE4E5B9ULL;
	key ^= key >> 32;
	return (size_t)key & (cap - 1);
}

/* Returns the row index + 1 of a code in the file, 0 if absent. */
static uint32_t index_find(const struct import *im, const char *code)
{
	uint64_t key = code_key(code);
	for (size_t i = slot_of(key, im->index_cap);; i = (i + 1) & (im->index_cap - 1)) {
		uint32_t v = im->index[i];
		if (!v)
			return 0;
		if (memcmp(im->rows[v - 1].code, code, REGION_CODE_LEN) == 0)
			return v;
	}
}

static void index_put(struct import *im, size_t row)
{
	uint64_t key = code_key(im->rows[row].code);
	size_t i = slot_of(key, im->index_cap);
	while (im->index[i])
		i = (i + 1) & (im->index_cap - 1);
	im->index[i] = (uint32_t)(row + 1);
}

/* Splits one CSV line (RFC 4180 quoting, no newline inside quotes) into at
 * most max fields, unquoting in place. Returns the field count, or -1 for a
 * stray quote. */
static int csv_split(char *line, char **fields, int max)
{
	int n = 0;
	char *p = line;
	for (;;) {
		char *start = p, *w = p;
		if (*p == '"') {
			p++;
			for (;;) {
				if (*p == '\0')
					return -1;
				if (*p == '"') {
					if (p[1] == '"') {
						*w++ = '"';
						p += 2;
						continue;
					}
					p++;
					break;
				}
				*w++ = *p++;
			}
			if (*p != ',' && *p != '\0')
				return -1;
		} else {
			while (*p && *p != ',') {
				if (*p == '"')
					return -1;
				w++, p++;
			}
		}
		char sep = *p;
		*w = '\0';
		if (n < max)
			fields[n] = start;
		n++;
		if (sep == '\0')
			return n;
		p++;
	}
}

static int row_push(struct import *im, struct csv_row **out)
{
	if (im->nrows == im->caprows) {
		size_t cap = im->caprows ? im->caprows * 2 : 1024;
		struct csv_row *r = realloc(im->rows, cap * sizeof *r);
		if (!r)
			return -1;
		im->rows = r;
		im->caprows = cap;
	}
	*out = &im->rows[im->nrows++];
	memset(*out, 0, sizeof **out);
	return 0;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static void parse_row(struct import *im, char *line, long lineno)
{
	char *f[4];
	struct csv_row *r;
	int n = csv_split(line, f, 4);
	if (n < 0) {
		import_error(im, lineno, "a quote in the wrong place");
		return;
	}
	if (n != 4) {
		import_error(im, lineno, "expected 4 fields (code,name,level,"
			     "parent_code), found %d", n);
		return;
	}
	if (row_push(im, &r) < 0) {
		import_error(im, lineno, "out of memory");
		return;
	}
	r->line = lineno;
	size_t clen = strlen(f[0]), plen = strlen(f[3]), nlen = strlen(f[1]);
	if (!util_is_region_code(f[0], clen)) {
		import_error(im, lineno, "code \"%.20s\" is not 12 digits", f[0]);
		r->bad = true;
	} else {
		memcpy(r->code, f[0], REGION_CODE_LEN + 1);
	}
	if (nlen == 0) {
		import_error(im, lineno, "name is empty");
		r->bad = true;
	} else if (nlen > REGION_NAME_MAX) {
		import_error(im, lineno, "name is longer than %d bytes",
			     REGION_NAME_MAX);
		r->bad = true;
	} else if (!util_utf8_valid(f[1], nlen) || has_control(f[1])) {
		import_error(im, lineno, "name is not valid UTF-8 text");
		r->bad = true;
	}
	r->name = f[1];
	r->level = config_level_parse(f[2], strlen(f[2]));
	if (r->level < 0) {
		import_error(im, lineno, "level \"%.20s\" is not province, city, "
			     "county, town or village", f[2]);
		r->bad = true;
	}
	if (plen && !util_is_region_code(f[3], plen)) {
		import_error(im, lineno, "parent_code \"%.20s\" is not 12 digits",
			     f[3]);
		r->bad = true;
	} else if (plen) {
		memcpy(r->parent, f[3], REGION_CODE_LEN + 1);
		if (strcmp(r->parent, r->code) == 0) {
			import_error(im, lineno, "a region cannot be its own "
				     "parent");
			r->bad = true;
		}
	}
}

static int parse_file(struct import *im, const char *data, size_t len,
		      struct err *err)
{
	im->text = malloc(len + 1);
	if (!im->text) {
		err_oom(err);
		return -1;
	}
	memcpy(im->text, data, len);
	im->text[len] = '\0';
	if (memchr(im->text, '\0', len)) {
		err_set(err, 422, "invalid", "body",
			"the region file contains a NUL byte");
		return -1;
	}
	char *p = im->text;
	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	long lineno = 0;
	bool header = false;
	while (*p) {
		char *nl = strchr(p, '\n');
		char *next = nl ? nl + 1 : p + strlen(p);
		if (nl)
			*nl = '\0';
		size_t l = strlen(p);
		if (l && p[l - 1] == '\r')
			p[--l] = '\0';
		lineno++;
		if (!header) {
			if (strcmp(p, "code,name,level,parent_code") != 0)
				import_error(im, lineno, "expected the header "
					     "line code,name,level,parent_code");
			header = true;
		} else if (l) {
			parse_row(im, p, lineno);
		}
		p = next;
	}
	if (!header)
		import_error(im, 1, "the file is empty");
	else if (im->nrows == 0 && im->nerrors == 0)
		import_error(im, lineno, "the file has no rows");
	return 0;
}

static int build_index(struct import *im, struct err *err)
{
	size_t cap = 1024;
	while (cap < im->nrows * 2 + 1)
		cap *= 2;
	im->index = calloc(cap, sizeof *im->index);
	if (!im->index) {
		err_oom(err);
		return -1;
	}
	im->index_cap = cap;
	for (size_t i = 0; i < im->nrows; i++) {
		struct csv_row *r = &im->rows[i];
		if (!r->code[0])
			continue;
		uint32_t dup = index_find(im, r->code);
		if (dup) {
			import_error(im, r->line, "code %s is already on line %ld",
				     r->code, im->rows[dup - 1].line);
			r->bad = true;
			continue;
		}
		index_put(im, i);
	}
	return 0;
}

/* The level of a code in the database; 0 if absent, -1 on error. */
static int db_level(struct store *s, const char *code, struct err *err)
{
	static const char sql[] = "SELECT level FROM regions WHERE code = ?";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, code, REGION_CODE_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	int level = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, err, "reading regions");
	return level;
}

/* A region whose level changes must stay above the children the file
 * does not move elsewhere. */
static int check_db_children(struct store *s, struct import *im,
			     const struct csv_row *r, struct err *err)
{
	static const char sql[] =
		"SELECT code, level FROM regions WHERE parent_code = ?";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, r->code, REGION_CODE_LEN, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *child = store_col_text(st, 0);
		int clevel = sqlite3_column_int(st, 1);
		uint32_t in_file = index_find(im, child);
		if (in_file)
			continue; /* its own row is checked on its own */
		if (clevel <= r->level) {
			import_error(im, r->line, "%s cannot become a %s: its "
				     "child %s in the database is a %s", r->code,
				     config_level_name(r->level), child,
				     config_level_name(clevel));
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, err, "reading regions");
	return 0;
}

static int check_parents(struct store *s, struct import *im, struct err *err)
{
	for (size_t i = 0; i < im->nrows; i++) {
		struct csv_row *r = &im->rows[i];
		if (r->bad || !r->parent[0])
			continue;
		int plevel;
		uint32_t p = index_find(im, r->parent);
		if (p) {
			plevel = im->rows[p - 1].level;
		} else {
			plevel = db_level(s, r->parent, err);
			if (plevel < 0)
				return -1;
			if (plevel == 0) {
				import_error(im, r->line, "parent %s is neither "
					     "in the file nor in the database",
					     r->parent);
				continue;
			}
		}
		if (plevel > 0 && plevel >= r->level)
			import_error(im, r->line, "a %s cannot be under a %s "
				     "(parent %s)", config_level_name(r->level),
				     config_level_name(plevel), r->parent);
	}
	return 0;
}

enum row_state { ROW_NEW, ROW_SAME, ROW_CHANGED };

static int row_state(struct store *s, const struct csv_row *r,
		     enum row_state *out, int *old_level, struct err *err)
{
	static const char sql[] =
		"SELECT name, level, coalesce(parent_code, '') FROM regions "
		"WHERE code = ?";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, r->code, REGION_CODE_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		*out = ROW_NEW;
	} else if (rc == SQLITE_ROW) {
		*old_level = sqlite3_column_int(st, 1);
		bool same = strcmp(store_col_text(st, 0), r->name) == 0 &&
			    *old_level == r->level &&
			    strcmp(store_col_text(st, 2), r->parent) == 0;
		*out = same ? ROW_SAME : ROW_CHANGED;
	} else {
		sqlite3_reset(st);
		return store_fail(s, err, "reading regions");
	}
	sqlite3_reset(st);
	return 0;
}

static int upsert_row(struct store *s, const struct csv_row *r, int64_t now,
		      struct err *err)
{
	static const char sql[] =
		"INSERT INTO regions(code, name, level, parent_code, updated_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(code) DO UPDATE SET"
		" name = ?2, level = ?3, parent_code = ?4, updated_at = ?5";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, r->code, REGION_CODE_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, r->level);
	if (r->parent[0])
		sqlite3_bind_text(st, 4, r->parent, REGION_CODE_LEN,
				  SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_int64(st, 5, now);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, err, "writing regions");
	return 0;
}

/* Parents are always of a higher level, so computing paths level by level
 * from the root sees every parent's path before its children need it. */
static int update_paths(struct store *s, struct err *err)
{
	static const char sql[] =
		"UPDATE regions SET path = CASE WHEN parent_code IS NULL"
		" THEN code ELSE (SELECT p.path FROM regions p"
		"  WHERE p.code = regions.parent_code) || '/' || code END"
		" WHERE level = ?1 AND path IS NOT CASE WHEN parent_code IS NULL"
		" THEN code ELSE (SELECT p.path FROM regions p"
		"  WHERE p.code = regions.parent_code) || '/' || code END";
	for (int level = LEVEL_PROVINCE; level <= LEVEL_VILLAGE; level++) {
		sqlite3_stmt *st = store_stmt(s, sql, err);
		if (!st)
			return -1;
		sqlite3_bind_int(st, 1, level);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return store_fail(s, err, "computing region paths");
	}
	return 0;
}

static int write_rows(struct store *s, struct import *im,
		      struct regions_import_result *res, struct err *err)
{
	int64_t now = util_now_ms();
	for (size_t i = 0; i < im->nrows; i++) {
		const struct csv_row *r = &im->rows[i];
		enum row_state state = ROW_NEW;
		int old_level = 0;
		if (row_state(s, r, &state, &old_level, err) < 0)
			return -1;
		if (state == ROW_SAME) {
			res->unchanged++;
			continue;
		}
		if (state == ROW_CHANGED && old_level != r->level &&
		    check_db_children(s, im, r, err) < 0)
			return -1;
		if (upsert_row(s, r, now, err) < 0)
			return -1;
		if (state == ROW_NEW)
			res->inserted++;
		else
			res->updated++;
	}
	return 0;
}

static void import_free(struct import *im)
{
	free(im->text);
	free(im->rows);
	free(im->index);
}

int regions_import_csv(struct store *s, const char *data, size_t len,
		       bool auto_mqtt, struct regions_import_result *res,
		       struct err *err)
{
	struct import im = { 0 };
	memset(res, 0, sizeof *res);
	res->errors = im.errors = json_array();
	int rc = -1;
	if (!im.errors) {
		err_oom(err);
		return -1;
	}
	if (!util_utf8_valid(data, len)) {
		err_set(err, 422, "invalid", "body",
			"the region file is not UTF-8");
		goto done;
	}
	if (parse_file(&im, data, len, err) < 0 || build_index(&im, err) < 0)
		goto done;
	if (store_begin(s, err) < 0)
		goto done;
	if (check_parents(s, &im, err) < 0)
		goto rollback;
	if (im.nerrors == 0 && write_rows(s, &im, res, err) < 0)
		goto rollback;
	if (im.nerrors) {
		if (im.nerrors > IMPORT_MAX_ERRORS) {
			json_t *more = json_pack(
				"{s:n, s:s}", "line", "message",
				"and more bad rows not listed");
			if (more)
				json_array_append_new(im.errors, more);
		}
		err_set(err, 422, "invalid", "body",
			"the region file has %ld bad row%s; nothing was "
			"imported", im.nerrors, im.nerrors == 1 ? "" : "s");
		goto rollback;
	}
	if ((res->inserted || res->updated) && update_paths(s, err) < 0)
		goto rollback;
	if (auto_mqtt && res->inserted && channels_ensure_auto(s, err) < 0)
		goto rollback;
	if (store_commit(s, err) < 0)
		goto rollback;
	rc = 0;
	goto done;
rollback:
	store_rollback(s);
done:
	import_free(&im);
	return rc;
}

void regions_from_row(sqlite3_stmt *st, int c, struct region *out)
{
	util_copy(out->code, sizeof out->code, store_col_text(st, c));
	util_copy(out->name, sizeof out->name, store_col_text(st, c + 1));
	out->level = sqlite3_column_int(st, c + 2);
	util_copy(out->parent, sizeof out->parent,
		 store_col_text(st, c + 3));
	util_copy(out->path, sizeof out->path, store_col_text(st, c + 4));
}

int regions_get(struct store *s, const char *code, struct region *out,
		struct err *err)
{
	static const char sql[] =
		"SELECT " REGION_COLUMNS " FROM regions WHERE code = ?";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	store_bind_text(st, 1, code);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		regions_from_row(st, 0, out);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		err_not_found(err, "no region with code %.40s", code);
		return -1;
	}
	if (rc != SQLITE_ROW)
		return store_fail(s, err, "reading a region");
	return 0;
}

int regions_ancestors(struct store *s, const struct region *r,
		      struct region *out, int max, struct err *err)
{
	int n = 0;
	const char *p = r->path;
	while (*p && n < max) {
		const char *slash = strchr(p, '/');
		if (!slash)
			break; /* the last code is r itself */
		char code[REGION_CODE_LEN + 1];
		size_t len = (size_t)(slash - p);
		if (len != REGION_CODE_LEN)
			break;
		memcpy(code, p, len);
		code[len] = '\0';
		if (regions_get(s, code, &out[n], err) < 0)
			return -1;
		n++;
		p = slash + 1;
	}
	return n;
}

long regions_count_below(struct store *s, const struct region *r, int level,
			 struct err *err)
{
	static const char sql_level[] =
		"SELECT count(*) FROM regions WHERE path > ?1 || '/'"
		" AND path < ?1 || '0' AND level = ?2";
	static const char sql_all[] =
		"SELECT count(*) FROM regions WHERE path > ?1 || '/'"
		" AND path < ?1 || '0'";
	sqlite3_stmt *st = store_stmt(s, level ? sql_level : sql_all, err);
	if (!st)
		return -1;
	store_bind_text(st, 1, r->path);
	if (level)
		sqlite3_bind_int(st, 2, level);
	int rc = sqlite3_step(st);
	long n = rc == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return store_fail(s, err, "counting regions");
	return n;
}

int regions_topic(const char *prefix, const struct region *r, char *out,
		  size_t cap)
{
	int n = snprintf(out, cap, "%s/%s", prefix, r->path);
	return (n > 0 && (size_t)n < cap) ? 0 : -1;
}
