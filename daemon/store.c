/* store: the SQLite connection wrapper. It owns the pragmas every
 * connection needs, a cache of prepared statements (keyed by the address
 * of the SQL literal, so a hot path never re-parses SQL), transactions,
 * and the mapping of SQLite errors to what the API reports (a full disk
 * is 507, a lock held too long is 503). */
#define _GNU_SOURCE
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define STMT_CACHE_SLOTS 512 /* a power of two, well above our SQL count */

struct stmt_slot {
	const char *sql;
	sqlite3_stmt *st;
};

struct store {
	sqlite3 *db;
	struct stmt_slot cache[STMT_CACHE_SLOTS];
	int depth;        /* transactions open: 1 = BEGIN, more = SAVEPOINTs */
	int64_t busy_ms;  /* how long a writer waits for the lock */
	bool turn;        /* its open transaction holds the write turn */
};

/* The write turn: this process's writers take SQLite's write lock in the
 * order they asked for it. Why it is shared between threads: SQLite's busy
 * handler retries by sleeping (up to 100 ms a try), so a writer that
 * commits and at once begins again — a plan committed in stages — takes
 * the lock back every time, and the senders' batches of marks starve
 * behind it. A thread holds the turn from its BEGIN to its COMMIT or
 * ROLLBACK; one that waits longer than its busy timeout gives up its place
 * and falls back to SQLite's own waiting, so a stuck writer costs a 503,
 * as before, never a hang. */
#define TURN_SKIPS 64
static pthread_mutex_t turn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cond = PTHREAD_COND_INITIALIZER;
static uint64_t turn_next, turn_serving;
static uint64_t turn_skipped[TURN_SKIPS]; /* tickets given up */
static size_t nturn_skipped;
static _Thread_local int turn_mine; /* this thread's connections in it */

static void turn_advance_locked(void)
{
	turn_serving++;
	for (size_t k = 0; k < nturn_skipped;) {
		if (turn_skipped[k] == turn_serving) {
			turn_skipped[k] = turn_skipped[--nturn_skipped];
			turn_serving++;
			k = 0;
		} else {
			k++;
		}
	}
	pthread_cond_broadcast(&turn_cond);
}

static bool turn_take(int64_t wait_ms)
{
	if (turn_mine) {
		/* a second connection of a thread that holds the turn: waiting
		 * for itself would never end */
		turn_mine++;
		return true;
	}
	struct timespec until;
	util_deadline(CLOCK_REALTIME, wait_ms, &until);
	pthread_mutex_lock(&turn_lock);
	uint64_t ticket = turn_next++;
	while (turn_serving != ticket) {
		int rc = pthread_cond_timedwait(&turn_cond, &turn_lock, &until);
		if (rc != ETIMEDOUT || turn_serving == ticket)
			continue;
		if (nturn_skipped < TURN_SKIPS) {
			turn_skipped[nturn_skipped++] = ticket;
			pthread_mutex_unlock(&turn_lock);
			return false;
		}
		/* too many places given up already: keep this one (a second
		 * more, then look again) rather than spin on a past deadline */
		until.tv_sec++;
	}
	pthread_mutex_unlock(&turn_lock);
	turn_mine = 1;
	return true;
}

static void turn_give(struct store *s)
{
	if (!s->turn)
		return;
	s->turn = false;
	if (--turn_mine > 0)
		return;
	pthread_mutex_lock(&turn_lock);
	turn_advance_locked();
	pthread_mutex_unlock(&turn_lock);
}

static atomic_int max_pages; /* set once at start, read by every open */

void store_set_max_pages(int pages)
{
	atomic_store(&max_pages, pages);
}

static atomic_bool durable;

void store_set_durable(bool on)
{
	atomic_store(&durable, on);
}

int store_relax(struct store *s, struct err *err)
{
	return store_exec(s, "PRAGMA synchronous=NORMAL", err);
}

sqlite3 *store_db(struct store *s)
{
	return s->db;
}

int store_fail(struct store *s, struct err *err, const char *what)
{
	int code = s && s->db ? sqlite3_extended_errcode(s->db) : SQLITE_ERROR;
	const char *msg = s && s->db ? sqlite3_errmsg(s->db) : "no connection";
	switch (code & 0xff) {
	case SQLITE_FULL:
		err_set(err, 507, "storage_full", "",
			"%s: the database is full (%s); free disk space and "
			"try again", what, msg);
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		err_set(err, 503, "busy", "",
			"%s: the database is busy (%s); try again", what, msg);
		break;
	case SQLITE_IOERR:
		err_set(err, 503, "io_error", "", "%s: disk I/O error (%s)",
			what, msg);
		break;
	default:
		err_set(err, 500, "internal", "", "%s: %s", what, msg);
	}
	return -1;
}

/* sqlite's "unable to open database file" does not say why; the
 * directory is the usual reason, so look at it ourselves. */
static void explain_open_failure(const char *path, struct err *err,
				 const char *sqlite_msg)
{
	char *dir = strdup(path);
	if (dir) {
		char *slash = strrchr(dir, '/');
		if (slash && slash != dir)
			*slash = '\0';
		else if (slash)
			slash[1] = '\0';
		else {
			free(dir);
			dir = strdup(".");
		}
	}
	struct stat sb;
	if (dir && stat(dir, &sb) != 0)
		err_set(err, 0, "store", "", "cannot open database %s: "
			"directory %s: %s", path, dir, strerror(errno));
	else if (dir && access(dir, W_OK) != 0)
		err_set(err, 0, "store", "", "cannot open database %s: "
			"directory %s is not writable", path, dir);
	else
		err_set(err, 0, "store", "", "cannot open database %s: %s",
			path, sqlite_msg);
	free(dir);
}

/* SQLite counts every allocation under one process-wide mutex unless told
 * not to; the plan's writer, the senders and the API threads allocate all
 * the time, and nothing here reads those counts. It must be said before
 * SQLite initialises, so before the first connection opens. */
static pthread_once_t sqlite_setup_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
	int rc = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (rc != SQLITE_OK)
		log_debug("store: SQLite's allocation counts stay on: %s",
			  sqlite3_errstr(rc));
}

int store_open(const char *path, int64_t busy_timeout_ms, struct store **out,
	       struct err *err)
{
	pthread_once(&sqlite_setup_once, sqlite_setup);
	struct store *s = calloc(1, sizeof *s);
	if (!s) {
		err_oom(err);
		return -1;
	}
	int rc = sqlite3_open_v2(path, &s->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
					 SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		explain_open_failure(path, err,
				     s->db ? sqlite3_errmsg(s->db)
					   : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	s->busy_ms = busy_timeout_ms;
	if (sqlite3_busy_timeout(s->db, (int)busy_timeout_ms) != SQLITE_OK) {
		store_fail(s, err, "busy timeout");
		goto fail;
	}
	/* Before anything creates the file's first table (only then does it
	 * take effect; an existing database keeps its size). 32 KiB pages:
	 * a declaration writes tens of MB of ~2 KB messages and the senders
	 * read them back in id order; with 4 KiB pages a Guangdong 201 came
	 * 25 % later and the whole fan-out took 6 % more CPU (bench/README) */
	char pragma[48];
	snprintf(pragma, sizeof pragma, "PRAGMA page_size=%d", STORE_PAGE_SIZE);
	if (store_exec(s, pragma, err) < 0)
		goto fail;
	/* journal_mode returns a row; run it through a statement so a
	 * database that cannot switch to WAL is reported, not ignored. */
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st,
			       NULL) != SQLITE_OK) {
		explain_open_failure(path, err, sqlite3_errmsg(s->db));
		goto fail;
	}
	rc = sqlite3_step(st);
	const char *mode = rc == SQLITE_ROW
				   ? (const char *)sqlite3_column_text(st, 0)
				   : NULL;
	bool wal = mode && strcmp(mode, "wal") == 0;
	sqlite3_finalize(st);
	if (!wal) {
		if (rc == SQLITE_ROW)
			err_set(err, 0, "store", "",
				"cannot open database %s: WAL mode refused",
				path);
		else
			explain_open_failure(path, err, sqlite3_errmsg(s->db));
		goto fail;
	}
	if (store_exec(s, "PRAGMA foreign_keys=ON", err) < 0 ||
	    store_exec(s, atomic_load(&durable) ? "PRAGMA synchronous=FULL"
						: "PRAGMA synchronous=NORMAL",
		       err) < 0 ||
	    /* checkpoints run on the main thread (store_checkpoint), not in
	     * the commit that crossed the threshold: that commit may be a
	     * province's declaration waiting for its 201, or the MQTT
	     * sender in the middle of a fan-out */
	    store_exec(s, "PRAGMA wal_autocheckpoint=0", err) < 0 ||
	    /* a fan-out's WAL can pass a GB; once checkpointed, the file
	     * shrinks back at the next write instead of keeping the disk
	     * (and the checkpoint timer's size check) at its peak */
	    store_exec(s, "PRAGMA journal_size_limit=67108864", err) < 0)
		goto fail;
	int pages = atomic_load(&max_pages);
	if (pages > 0) {
		/* past it a write fails with SQLITE_FULL: 507, nothing stored,
		 * as on a full disk (SQLite keeps it at least the current size) */
		char sql[48];
		snprintf(sql, sizeof sql, "PRAGMA max_page_count=%d", pages);
		if (store_exec(s, sql, err) < 0)
			goto fail;
	}
	*out = s;
	return 0;
fail:
	store_close(s);
	return -1;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	for (int i = 0; i < STMT_CACHE_SLOTS; i++)
		if (s->cache[i].st)
			sqlite3_finalize(s->cache[i].st);
	if (s->db && sqlite3_close(s->db) != SQLITE_OK)
		log_warn("closing the database: %s", sqlite3_errmsg(s->db));
	free(s);
}

sqlite3_stmt *store_stmt(struct store *s, const char *sql, struct err *err)
{
	uintptr_t h = (uintptr_t)sql;
	h ^= h >> 17;
	h *= 0x9E3779B97F4A7C15ULL;
	size_t i = (size_t)(h >> 7) & (STMT_CACHE_SLOTS - 1);
	for (size_t n = 0; n < STMT_CACHE_SLOTS; n++) {
		struct stmt_slot *slot = &s->cache[(i + n) & (STMT_CACHE_SLOTS - 1)];
		if (slot->sql == sql) {
			sqlite3_reset(slot->st);
			sqlite3_clear_bindings(slot->st);
			return slot->st;
		}
		if (!slot->sql) {
			if (sqlite3_prepare_v3(s->db, sql, -1,
					       SQLITE_PREPARE_PERSISTENT,
					       &slot->st, NULL) != SQLITE_OK) {
				store_fail(s, err, "preparing a statement");
				log_error("prepare failed: %s: %s",
					  sqlite3_errmsg(s->db), sql);
				slot->st = NULL;
				return NULL;
			}
			slot->sql = sql;
			return slot->st;
		}
	}
	err_internal(err, "statement cache full");
	return NULL;
}

int store_exec(struct store *s, const char *sql, struct err *err)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		store_fail(s, err, "executing SQL");
		if (msg)
			log_debug("sql failed: %s", msg);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Nested: the outermost is a real transaction, the inner ones savepoints,
 * so a module that owns a transaction can run inside a request that owns
 * one too (the HTTP layer wraps every change with its audit row). */
int store_begin(struct store *s, struct err *err)
{
	char sql[32];
	if (s->depth == 0) {
		snprintf(sql, sizeof sql, "BEGIN IMMEDIATE");
		s->turn = turn_take(s->busy_ms);
	} else {
		snprintf(sql, sizeof sql, "SAVEPOINT sp%d", s->depth);
	}
	if (store_exec(s, sql, err) < 0) {
		if (s->depth == 0)
			turn_give(s);
		return -1;
	}
	s->depth++;
	return 0;
}

int store_commit_stage(struct store *s, struct err *err)
{
	int depth = s->depth;
	if (depth <= 0) {
		err_internal(err, "a staged commit without a transaction");
		return -1;
	}
	/* COMMIT ends the savepoints inside it too */
	if (store_exec(s, "COMMIT", err) < 0)
		return -1; /* still open: the caller rolls back */
	s->depth = 0;
	turn_give(s); /* whoever queued meanwhile goes first */
	for (int d = 0; d < depth; d++)
		if (store_begin(s, err) < 0) {
			if (s->depth > 0) {
				s->depth = 1;
				store_rollback(s);
			}
			return -1;
		}
	return 0;
}

int store_room(struct store *s, struct store_room *out, struct err *err)
{
	static const char *const sql[] = { "PRAGMA page_count",
					   "PRAGMA freelist_count",
					   "PRAGMA max_page_count",
					   "PRAGMA page_size" };
	int64_t v[4];
	for (int i = 0; i < 4; i++) {
		sqlite3_stmt *st = store_stmt(s, sql[i], err);
		if (!st)
			return -1;
		int rc = sqlite3_step(st);
		v[i] = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		sqlite3_reset(st);
		if (rc != SQLITE_ROW)
			return store_fail(s, err, "reading the database size");
	}
	out->used_pages = v[0] - v[1];
	out->max_pages = v[2];
	out->page_size = v[3];
	out->disk_free = -1;
	const char *file = sqlite3_db_filename(s->db, "main");
	struct statvfs fs;
	if (file && *file && statvfs(file, &fs) == 0)
		out->disk_free = (int64_t)fs.f_bavail * (int64_t)fs.f_frsize;
	return 0;
}

int store_commit(struct store *s, struct err *err)
{
	char sql[32];
	if (s->depth <= 0) {
		err_internal(err, "commit without a transaction");
		return -1;
	}
	if (s->depth == 1)
		snprintf(sql, sizeof sql, "COMMIT");
	else
		snprintf(sql, sizeof sql, "RELEASE sp%d", s->depth - 1);
	if (store_exec(s, sql, err) < 0)
		return -1; /* still open: the caller rolls back */
	if (--s->depth == 0)
		turn_give(s);
	return 0;
}

void store_rollback(struct store *s)
{
	char sql[64];
	char *msg = NULL;
	if (s->depth <= 0) {
		/* nothing of ours is open; but never leave one behind */
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return;
	}
	if (s->depth == 1)
		snprintf(sql, sizeof sql, "ROLLBACK");
	else
		snprintf(sql, sizeof sql, "ROLLBACK TO sp%d; RELEASE sp%d",
			 s->depth - 1, s->depth - 1);
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK)
		log_error("rollback failed: %s", msg ? msg : "?");
	sqlite3_free(msg);
	/* SQLite may have rolled the whole transaction back by itself (a
	 * full disk, an I/O error): then nothing is open any more */
	s->depth = sqlite3_get_autocommit(s->db) ? 0 : s->depth - 1;
	if (s->depth == 0)
		turn_give(s);
}

int store_write(struct store *s, sqlite3_stmt *st, const char *what,
		struct err *err)
{
	/* a bare statement would wait on SQLite's busy handler, which
	 * writers taking turns (a staged plan, the senders) leave no gap
	 * for: it failed as busy after the whole busy timeout */
	if (store_begin(s, err) < 0) {
		sqlite3_reset(st);
		return -1;
	}
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_fail(s, err, what);
		store_rollback(s);
		return -1;
	}
	if (store_commit(s, err) < 0) {
		store_rollback(s);
		return -1;
	}
	return 0;
}

bool store_in_transaction(struct store *s)
{
	return s->depth > 0 || !sqlite3_get_autocommit(s->db);
}

int store_ping(struct store *s, struct err *err)
{
	static const char sql[] = "SELECT count(*) FROM schema_migrations";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return store_fail(s, err, "database check");
	return 0;
}

int store_bind_text(sqlite3_stmt *st, int i, const char *text)
{
	if (!text)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT);
}

int store_bind_textn(sqlite3_stmt *st, int i, const char *text, size_t len)
{
	if (!text)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text64(st, i, text, len, SQLITE_TRANSIENT,
				   SQLITE_UTF8);
}

const char *store_col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

/* ---- one connection per thread ---- */

static pthread_key_t thread_key;
static pthread_once_t thread_key_once = PTHREAD_ONCE_INIT;
static char *thread_db_path;
static int64_t thread_busy_ms;

static void thread_store_destroy(void *p)
{
	store_close(p);
}

static void thread_key_create(void)
{
	if (pthread_key_create(&thread_key, thread_store_destroy) != 0)
		log_error("pthread_key_create failed");
}

int store_thread_setup(const char *path, int64_t busy_timeout_ms)
{
	pthread_once(&thread_key_once, thread_key_create);
	free(thread_db_path);
	thread_db_path = strdup(path);
	thread_busy_ms = busy_timeout_ms;
	return thread_db_path ? 0 : -1;
}

struct store *store_for_thread(struct err *err)
{
	struct store *s = pthread_getspecific(thread_key);
	if (s)
		return s;
	if (!thread_db_path) {
		err_internal(err, "no database configured for this thread");
		return NULL;
	}
	if (store_open(thread_db_path, thread_busy_ms, &s, err) < 0) {
		err->status = 503;
		return NULL;
	}
	if (pthread_setspecific(thread_key, s) != 0) {
		store_close(s);
		err_internal(err, "pthread_setspecific failed");
		return NULL;
	}
	return s;
}

/* For a thread that ends on its own path (the main thread), close now. */
void store_thread_teardown(void)
{
	struct store *s = pthread_getspecific(thread_key);
	if (s) {
		pthread_setspecific(thread_key, NULL);
		store_close(s);
	}
	free(thread_db_path);
	thread_db_path = NULL;
}

/* While the senders keep reading, SQLite cannot start the WAL over after
 * a checkpoint and the file keeps its size: what counts is what was
 * written since the last checkpoint. (On the file's size alone, a
 * national fan-out past 1 GB was checkpointed every second, each time for
 * the few pages written meanwhile: 4 s of the main thread's CPU in the
 * middle of its plan.) A WAL started over and cut back
 * (journal_size_limit) is smaller than it was: from then on all of it is
 * new, even once it has grown past its old size. */
bool store_checkpoint_overdue(long long *wal_at_last, long long wal_bytes,
			      int64_t since_last_ms)
{
	if (wal_bytes < *wal_at_last)
		*wal_at_last = 0; /* what grows back is all new */
	return wal_bytes - *wal_at_last >= STORE_CHECKPOINT_WAL_MAX ||
	       since_last_ms >= STORE_CHECKPOINT_DEFER_MS;
}

int store_checkpoint(struct store *s, struct err *err)
{
	int log_frames = 0, done = 0;
	int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
					   &log_frames, &done);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		return store_fail(s, err, "checkpointing the WAL");
	return done;
}

int store_list(struct store *s, sqlite3_stmt *st,
	       json_t *(*row)(sqlite3_stmt *st), const char *what,
	       json_t **out, struct err *err)
{
	json_t *items = json_array();
	int rc;
	while (items && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o = row(st);
		if (!o || json_array_append_new(items, o) < 0) {
			json_decref(items);
			items = NULL;
		}
	}
	sqlite3_reset(st);
	if (!items) {
		err_oom(err);
		return -1;
	}
	if (rc != SQLITE_DONE) {
		json_decref(items);
		return store_fail(s, err, what);
	}
	*out = json_pack("{s:o}", "items", items);
	return *out ? 0 : (err_oom(err), -1);
}

int store_one(struct store *s, sqlite3_stmt *st,
	      json_t *(*row)(sqlite3_stmt *st), const char *noun, int64_t id,
	      json_t **out, struct err *err)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = row(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		err_not_found(err, "no %s %lld", noun, (long long)id);
		return -1;
	}
	if (rc != SQLITE_ROW) {
		char what[96];
		snprintf(what, sizeof what, "reading %s %lld", noun,
			 (long long)id);
		return store_fail(s, err, what);
	}
	return *out ? 0 : (err_oom(err), -1);
}
