/* The science library as shipped: every file imports cleanly through the
 * real validation, and the coverage matrix holds — every core hazard ×
 * {general, elderly, children, farmers, workers} has a zh-CN notice, every
 * hazard an English general one, every summary fits a village screen,
 * every notice names its authority. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "catalog.h"
#include "config.h"
#include "library.h"
#include "store.h"
#include "util.h"

static const char *top;
static struct config cfg;
static struct store *db;
static char dbpath[64];

static void every_file_imports(void **state)
{
	char dir[1100];
	struct dirent **files;
	(void)state;
	snprintf(dir, sizeof dir, "%s/library", top);
	int n = scandir(dir, &files, NULL, alphasort);
	assert_true(n > 0);
	long total = 0;
	for (int i = 0; i < n; i++) {
		const char *name = files[i]->d_name;
		size_t l = strlen(name);
		if (l > 6 && strcmp(name + l - 6, ".jsonl") == 0) {
			char path[2300];
			size_t len;
			struct library_import_result r;
			struct err e;
			snprintf(path, sizeof path, "%s/%s", dir, name);
			char *data = NULL;
			assert_int_equal(util_read_file(path, &data, &len), 0);
			int rc = library_import(db, &cfg, data, len, "test", &r, &e);
			if (rc < 0) {
				char *errs = json_dumps(r.errors, 0);
				print_error("%s: %s %s\n", path, e.message, errs);
				free(errs);
			}
			assert_int_equal(rc, 0);
			total += r.inserted;
			json_decref(r.errors);
			free(data);
		}
		free(files[i]);
	}
	free(files);
	printf("library: %ld notices imported from library/\n", total);
	assert_true(total >= 80);
}

static long count(const char *sql, const char *a, const char *b)
{
	sqlite3_stmt *st;
	long n = -1;
	if (sqlite3_prepare_v2(store_db(db), sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (b)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void coverage_matrix(void **state)
{
	static const char *const audiences[] = { "general", "elderly",
						 "children", "farmers",
						 "workers" };
	int missing = 0, hazards = 0;
	(void)state;
	for (size_t h = 0; h < catalog_hazard_count(); h++) {
		const struct hazard *hz = catalog_hazard_at(h);
		if (!hz->core)
			continue;
		hazards++;
		for (int a = 0; a < 5; a++)
			if (count("SELECT count(*) FROM resources WHERE hazard = ?1"
				  " AND audience = ?2 AND locale = 'zh-CN'",
				  hz->code, audiences[a]) < 1) {
				print_error("no zh-CN notice for %s / %s\n", hz->code,
					    audiences[a]);
				missing++;
			}
		if (count("SELECT count(*) FROM resources WHERE hazard = ?1 AND"
			  " audience = 'general' AND locale = 'en'", hz->code,
			  NULL) < 1) {
			print_error("no English general notice for %s\n", hz->code);
			missing++;
		}
	}
	assert_int_equal(count("SELECT count(*) FROM resources WHERE"
			       " trim(authority) = '' OR ?1 IS NULL", "x", NULL), 0);
	/* the import already refused over-long summaries; say how close */
	sqlite3_stmt *st;
	size_t widest = 0;
	assert_int_equal(sqlite3_prepare_v2(store_db(db), "SELECT summary FROM"
					    " resources", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(st, 0);
		size_t w = util_screen_width2(s, strlen(s));
		if (w > widest)
			widest = w;
	}
	sqlite3_finalize(st);
	printf("library: %d core hazards x 5 audiences in zh-CN and a general "
	       "en notice each: %d missing; widest summary %zu.%d of %d "
	       "screen characters\n", hazards, missing, widest / 2,
	       widest % 2 ? 5 : 0, cfg.library_summary_limit);
	assert_int_equal(missing, 0);
	assert_true(widest <= (size_t)cfg.library_summary_limit * 2);
}

static void a_bad_line_imports_nothing(void **state)
{
	static const char bad[] =
		"{\"id\":\"x-1\",\"hazard\":\"fog\",\"audience\":\"general\","
		"\"locale\":\"zh-CN\",\"title\":\"t\",\"summary\":\"s\",\"text\":\"x\","
		"\"authority\":\"a\",\"priority\":5,\"updated\":\"2026-01-01\"}\n"
		"\n"
		"{\"id\":\"x-2\",\"hazard\":\"fog\",\"audience\":\"aliens\","
		"\"locale\":\"zh-CN\",\"title\":\"t\",\"summary\":\"s\",\"text\":\"x\","
		"\"authority\":\"a\",\"priority\":5,\"updated\":\"2026-01-01\"}\n"
		"{not json\n";
	struct library_import_result r;
	struct err e;
	long before = count("SELECT count(*) FROM resources WHERE ?1 IS NOT NULL",
			    "x", NULL);
	(void)state;
	assert_int_equal(library_import(db, &cfg, bad, strlen(bad), "t", &r, &e), -1);
	assert_int_equal(e.status, 422);
	assert_int_equal(json_array_size(r.errors), 2);
	json_t *e0 = json_array_get(r.errors, 0);
	assert_int_equal(json_integer_value(json_object_get(e0, "line")), 3);
	assert_string_equal(json_string_value(json_object_get(e0, "field")),
			    "audience");
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(r.errors, 1), "line")), 4);
	json_decref(r.errors);
	assert_int_equal(count("SELECT count(*) FROM resources WHERE ?1 IS NOT NULL",
			       "x", NULL), before);
}

int main(void)
{
	struct err e;
	char dir[1100];
	top = getenv("TEST_TOP");
	if (!top)
		top = ".";
	snprintf(dir, sizeof dir, "%s/data", top);
	snprintf(dbpath, sizeof dbpath, "/tmp/scicast-test-lib.%d.db",
		 (int)getpid());
	unlink(dbpath);
	if (catalog_load(dir, &e) < 0 || config_load(&cfg, NULL, &e) < 0 ||
	    store_open(dbpath, 1000, &db, &e) < 0 || store_migrate(db, &e) < 0) {
		fprintf(stderr, "setup: %s\n", e.message);
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_file_imports),
		cmocka_unit_test(coverage_matrix),
		cmocka_unit_test(a_bad_line_imports_nothing),
	};
	int rc = cmocka_run_group_tests_name("library", tests, NULL, NULL);
	store_close(db);
	config_free(&cfg);
	char p[80];
	unlink(dbpath);
	snprintf(p, sizeof p, "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", dbpath);
	unlink(p);
	return rc;
}
