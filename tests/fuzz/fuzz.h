/* What the libFuzzer targets share: the checkout they read data from, and
 * one scratch database per process with the catalogue, a small region
 * tree, its MQTT channels, the default templates and the library, so the
 * targets that write go through the same code as the daemon. Each input
 * that writes runs inside fuzz_txn_begin/fuzz_txn_end: everything it did
 * is rolled back, so inputs stay independent and a run stays fast.
 *
 * Only static inline functions here: each target is one translation unit
 * and uses part of this, and an unused inline is not a warning. */
#ifndef SCICAST_FUZZ_H
#define SCICAST_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "channels.h"
#include "config.h"
#include "library.h"
#include "log.h"
#include "regions.h"
#include "store.h"
#include "templates.h"
#include "util.h"

#ifndef FUZZ_TOP
#define FUZZ_TOP "."
#endif

/* A city, two towns and a few villages of Zhongshan (the shape of
 * ../shared/data/regions-zhongshan.csv), kept here so the targets need
 * nothing outside the checkout. */
static const char fuzz_regions_csv[] =
	"code,name,level,parent_code\n"
	"442000000000,中山市,city,\n"
	"442000001000,石岐街道,town,442000000000\n"
	"442000001007,桂园社区居民委员会,village,442000001000\n"
	"442000001008,民族社区居民委员会,village,442000001000\n"
	"442000002000,东区街道,town,442000000000\n"
	"442000002001,库充社区居民委员会,village,442000002000\n"
	"442000002002,岐关社区居民委员会,village,442000002000\n";

struct fuzz_env {
	struct config cfg;
	struct store *store;
	char dir[64]; /* the scratch directory of the database */
	char db[96];
};

static struct fuzz_env fuzz_env;

/* The checkout: $SCICAST_TOP, else where make built the target from. */
static inline const char *fuzz_top(void)
{
	const char *t = getenv("SCICAST_TOP");
	return t && *t ? t : FUZZ_TOP;
}

static inline void fuzz_die(const char *what, const struct err *e)
{
	fprintf(stderr, "fuzz setup: %s: %s\n", what, e ? e->message : "");
	exit(1);
}

/* The daemon logs an info line per declaration or import; thousands a
 * second would bury libFuzzer's own output. Errors still show. */
static inline void fuzz_quiet(void)
{
	log_set_level(LOG_LVL_ERROR);
}

/* Configuration defaults and the catalogue (hazards, colours,
 * audiences), which every validation checks names against. */
static inline void fuzz_setup_catalog(void)
{
	struct err e;
	char dir[1100];
	fuzz_quiet();
	if (config_load(&fuzz_env.cfg, NULL, &e) < 0)
		fuzz_die("config defaults", &e);
	util_set_local_offset(fuzz_env.cfg.tz_offset_min);
	snprintf(dir, sizeof dir, "%s/data", fuzz_top());
	if (catalog_load(dir, &e) < 0)
		fuzz_die(dir, &e);
}

static inline void fuzz_remove_store(void)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char p[128];
	store_close(fuzz_env.store);
	fuzz_env.store = NULL;
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", fuzz_env.db, suffix[i]);
		unlink(p);
	}
	rmdir(fuzz_env.dir);
	config_free(&fuzz_env.cfg);
}

/* The scratch database, migrated and filled (templates and library from
 * the checkout, the regions above with their MQTT channels). It is a
 * file because the store insists on WAL, which :memory: cannot do; it
 * goes away at exit. */
static inline struct store *fuzz_setup_store(void)
{
	struct err e;
	struct regions_import_result res;
	char dir[1100];
	const char *tmp = getenv("TMPDIR");
	fuzz_setup_catalog();
	snprintf(fuzz_env.dir, sizeof fuzz_env.dir, "%s/scicast-fuzz.XXXXXX",
		 tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
	if (!mkdtemp(fuzz_env.dir))
		fuzz_die("mkdtemp", NULL);
	snprintf(fuzz_env.db, sizeof fuzz_env.db, "%s/fuzz.db", fuzz_env.dir);
	if (store_open(fuzz_env.db, 1000, &fuzz_env.store, &e) < 0)
		fuzz_die("store_open", &e);
	atexit(fuzz_remove_store);
	if (store_migrate(fuzz_env.store, &e) < 0)
		fuzz_die("store_migrate", &e);
	if (regions_import_csv(fuzz_env.store, fuzz_regions_csv,
			       sizeof fuzz_regions_csv - 1, true, &res, &e) < 0)
		fuzz_die("regions", &e);
	json_decref(res.errors);
	snprintf(dir, sizeof dir, "%s/templates", fuzz_top());
	if (templates_seed(fuzz_env.store, dir, &e) < 0)
		fuzz_die(dir, &e);
	snprintf(dir, sizeof dir, "%s/library", fuzz_top());
	if (library_seed(fuzz_env.store, &fuzz_env.cfg, dir, &e) < 0)
		fuzz_die(dir, &e);
	return fuzz_env.store;
}

/* One input's writes: an outer transaction the code under test nests
 * inside (its own BEGIN becomes a savepoint), rolled back afterwards. */
static inline void fuzz_txn_begin(void)
{
	struct err e;
	if (store_begin(fuzz_env.store, &e) < 0)
		fuzz_die("store_begin", &e);
}

/* A function that returns with a savepoint of its own still open has a
 * missing commit or rollback on some path: the outer rollback would then
 * leave the connection inside a transaction, and that is a bug worth a
 * crash report. */
static inline void fuzz_txn_end(void)
{
	store_rollback(fuzz_env.store);
	if (store_in_transaction(fuzz_env.store)) {
		fprintf(stderr, "fuzz: the input left a transaction open\n");
		abort();
	}
}

/* A NUL-terminated copy of data[0..len) (the HTTP layer's bodies are
 * NUL-terminated too); the caller frees it. */
static inline char *fuzz_strndup(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);
	if (!s)
		abort();
	if (len)
		memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

#endif
