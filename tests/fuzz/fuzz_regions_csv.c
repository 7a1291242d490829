/* libFuzzer target: the region CSV import (regions_import_csv), all or
 * nothing, against a database that already holds a small tree, so rows
 * can update, move or clash with what is there.
 *
 * Input: the file as POSTed to /api/v1/regions/import. It is handed over
 * with its length only (no terminator), so a read past it is a report.
 * Every input is rolled back.
 *
 * After an import that was taken, the tree must still be a tree: every
 * parent exists and is of a higher level, every path is the parent's
 * path and the code (topics and scopes are built from paths), and every
 * region has its MQTT channel. */
#include "fuzz.h"

static struct store *store;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	store = fuzz_setup_store();
	return 0;
}

/* Regions that break the tree's rules; 0 when it is sound. */
static long broken_regions(void)
{
	static const char sql[] =
		"SELECT count(*) FROM regions r"
		" LEFT JOIN regions p ON p.code = r.parent_code"
		" WHERE r.path IS NOT CASE WHEN r.parent_code IS NULL THEN r.code"
		"  ELSE p.path || '/' || r.code END"
		" OR (r.parent_code IS NOT NULL"
		"  AND (p.code IS NULL OR p.level >= r.level))"
		" OR length(r.path) > ?1"
		" OR NOT EXISTS (SELECT 1 FROM channels c"
		"  WHERE c.region_code = r.code AND c.auto = 1)";
	struct err e;
	sqlite3_stmt *st = store_stmt(store, sql, &e);
	if (!st)
		fuzz_die("checking the tree", &e);
	sqlite3_bind_int(st, 1, REGION_PATH_MAX);
	long n = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0)
						: -1;
	sqlite3_reset(st);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct regions_import_result res;
	struct err e;
	fuzz_txn_begin();
	int rc = regions_import_csv(store, (const char *)data, size, true, &res,
				    &e);
	/* a refused file says so, with a status for the API to answer */
	if (rc < 0 && (e.status < 400 || !e.message[0]))
		abort();
	if (rc == 0 && json_array_size(res.errors) != 0)
		abort();
	if (rc == 0 && broken_regions() != 0) {
		fprintf(stderr, "fuzz: the import left %ld region(s) out of "
			"the tree\n", broken_regions());
		abort();
	}
	json_decref(res.errors);
	fuzz_txn_end();
	return 0;
}
