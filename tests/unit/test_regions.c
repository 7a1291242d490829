/* Unit tests of the region import against a real SQLite file: all or
 * nothing, every bad line named, paths and counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "catalog.h"
#include "config.h"
#include "regions.h"
#include "store.h"

static char dbpath[64];

static int setup(void **state)
{
	struct store *s;
	struct err e;
	snprintf(dbpath, sizeof dbpath, "/tmp/scicast-test-regions.%d.db",
		 (int)getpid());
	unlink(dbpath);
	if (store_open(dbpath, 1000, &s, &e) < 0 || store_migrate(s, &e) < 0)
		return -1;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	char p[80];
	store_close(*state);
	unlink(dbpath);
	snprintf(p, sizeof p, "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", dbpath);
	unlink(p);
	return 0;
}

static const char good[] =
	"code,name,level,parent_code\n"
	"442000000000,中山市,city,\n"
	"442000001000,石岐街道,town,442000000000\n"
	"442000001007,桂园社区居民委员会,village,442000001000\n"
	"442000001008,民族社区居民委员会,village,442000001000\n"
	"442000002000,东区街道,town,442000000000\n";

static long count(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	long n = -1;
	if (sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void import_then_reimport(void **state)
{
	struct store *s = *state;
	struct regions_import_result r;
	struct err e;
	assert_int_equal(regions_import_csv(s, good, strlen(good), true, &r, &e), 0);
	assert_int_equal(r.inserted, 5);
	json_decref(r.errors);
	assert_int_equal(regions_import_csv(s, good, strlen(good), true, &r, &e), 0);
	assert_int_equal(r.inserted, 0);
	assert_int_equal(r.unchanged, 5);
	json_decref(r.errors);
	assert_int_equal(count(s, "SELECT count(*) FROM channels WHERE auto = 1"), 5);

	struct region v, anc[5];
	assert_int_equal(regions_get(s, "442000001007", &v, &e), 0);
	assert_string_equal(v.path, "442000000000/442000001000/442000001007");
	assert_int_equal(regions_ancestors(s, &v, anc, 5, &e), 2);
	assert_string_equal(anc[0].name, "中山市");
	assert_string_equal(anc[1].name, "石岐街道");
	struct region city;
	assert_int_equal(regions_get(s, "442000000000", &city, &e), 0);
	assert_int_equal(regions_count_below(s, &city, LEVEL_VILLAGE, &e), 2);
	assert_int_equal(regions_count_below(s, &city, 0, &e), 4);
	assert_int_equal(regions_get(s, "442000009000", &city, &e), -1);
	assert_int_equal(e.status, 404);
}

static void one_bad_row_imports_nothing(void **state)
{
	struct store *s = *state;
	struct regions_import_result r;
	struct err e;
	static const char bad[] =
		"code,name,level,parent_code\n"
		"442000000000,中山市,city,\n"
		"442000001000,石岐街道,town,442000000000\n"
		"4420000010,短,village,442000001000\n"
		"442000001009,孤儿,village,442000099000\n"
		"442000001010,村下村,village,442000001011\n"
		"442000001011,上村,village,442000001000\n"
		"442000001012,,village,442000001000\n"
		"442000001013,坏级别,hamlet,442000001000\n"
		"442000001011,重复,village,442000001000\n";
	assert_int_equal(regions_import_csv(s, bad, strlen(bad), true, &r, &e), -1);
	assert_int_equal(e.status, 422);
	assert_int_equal(json_array_size(r.errors), 6);
	const long lines[] = { 4, 8, 9, 10, 5, 6 };
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(json_integer_value(json_object_get(
					 json_array_get(r.errors, i), "line")),
				 lines[i]);
	json_decref(r.errors);
	assert_int_equal(count(s, "SELECT count(*) FROM regions"), 0);
	assert_int_equal(count(s, "SELECT count(*) FROM channels"), 0);
}

static void a_parent_in_the_database_counts(void **state)
{
	struct store *s = *state;
	struct regions_import_result r;
	struct err e;
	static const char more[] =
		"code,name,level,parent_code\n"
		"442000002001,新村,village,442000002000\n";
	static const char demote[] =
		"code,name,level,parent_code\n"
		"442000001000,石岐街道,village,442000000000\n";
	assert_int_equal(regions_import_csv(s, good, strlen(good), false, &r, &e), 0);
	json_decref(r.errors);
	assert_int_equal(regions_import_csv(s, more, strlen(more), false, &r, &e), 0);
	assert_int_equal(r.inserted, 1);
	json_decref(r.errors);
	/* a town with villages cannot become a village */
	assert_int_equal(regions_import_csv(s, demote, strlen(demote), false, &r, &e), -1);
	assert_non_null(strstr(json_string_value(json_object_get(
		json_array_get(r.errors, 0), "message")), "cannot become a village"));
	json_decref(r.errors);
}

int main(void)
{
	struct err e;
	const char *shared = getenv("TEST_TOP");
	char dir[1024];
	snprintf(dir, sizeof dir, "%s/data", shared ? shared : ".");
	if (catalog_load(dir, &e) < 0) {
		fprintf(stderr, "%s\n", e.message);
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(import_then_reimport, setup, teardown),
		cmocka_unit_test_setup_teardown(one_bad_row_imports_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(a_parent_in_the_database_counts, setup, teardown),
	};
	return cmocka_run_group_tests_name("regions", tests, NULL, NULL);
}
