/* store: one SQLite connection and its prepared-statement cache.
 * A connection belongs to one thread. The HTTP worker threads get theirs
 * from store_for_thread(), opened on first use and closed when the thread
 * ends; the senders and the main thread open their own. */
#ifndef SCICAST_STORE_H
#define SCICAST_STORE_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct store;

/* The page size of a database scicastd creates ([store] max_pages counts
 * these); one created by an older build keeps its 4096 (docs/operations). */
#define STORE_PAGE_SIZE 32768

/* The most pages every connection opened from now on lets the database
 * grow to ([store] max_pages; 0: no limit). A process-wide setting
 * because SQLite's max_page_count belongs to each connection, and every
 * thread opens its own. */
void store_set_max_pages(int pages);

/* Whether commits of connections opened from now on wait until they are
 * on disk (synchronous=FULL: a declaration answered 201 survives a power
 * cut, not only a crash of the daemon) or only until the WAL has them
 * (NORMAL). [store] fsync. */
void store_set_durable(bool on);
/* This connection's commits need not wait for the disk: the senders',
 * whose marks (sent, acked) only cost a re-send if a power cut loses
 * them, and which commit many times a second in a fan-out. */
int store_relax(struct store *s, struct err *err);

/* Opens (creating if needed, with STORE_PAGE_SIZE-byte pages) the database:
 * WAL, foreign keys on, the busy timeout, the page limit. Does not migrate. */
int store_open(const char *path, int64_t busy_timeout_ms, struct store **out,
	       struct err *err);
void store_close(struct store *s);
sqlite3 *store_db(struct store *s);

/* Applies the numbered migrations that are missing, each in its own
 * transaction; refuses a database newer than this binary. */
int store_migrate(struct store *s, struct err *err);
/* The schema version of the database, and the newest this binary knows. */
int store_schema_version(struct store *s);
int store_schema_latest(void);

/* A prepared statement for sql, reset and with its bindings cleared.
 * sql must be a string literal (the cache is keyed by its address).
 * Returns NULL with err filled. */
sqlite3_stmt *store_stmt(struct store *s, const char *sql, struct err *err);

/* Write transactions take the write lock at BEGIN (IMMEDIATE), so two
 * writers wait for each other instead of failing half-way. They nest
 * (savepoints inside). A failed commit leaves the transaction open: every
 * failure path, the commit's included, ends in store_rollback. */
int store_begin(struct store *s, struct err *err);
int store_commit(struct store *s, struct err *err);
void store_rollback(struct store *s);
bool store_in_transaction(struct store *s);
/* Runs one bound write statement (and resets it) in a transaction of ours,
 * its own when none is open, so it waits its turn for the write lock like
 * every other writer here; what names it in an error. */
int store_write(struct store *s, sqlite3_stmt *st, const char *what,
		struct err *err);
/* Commits everything open (savepoints too) and begins again to the same
 * depth, after any writer that queued meanwhile: a plan committed in
 * stages lets the senders see, and mark, what it has written so far. On
 * failure nothing is open any more. */
int store_commit_stage(struct store *s, struct err *err);
/* How much room the database has. */
struct store_room {
	int64_t used_pages;   /* page_count - freelist_count */
	int64_t max_pages;    /* max_page_count */
	int64_t page_size;
	int64_t disk_free;    /* bytes free on its file system; -1 unknown */
};
int store_room(struct store *s, struct store_room *out, struct err *err);

/* Runs SQL without parameters or results (DDL, pragmas). */
int store_exec(struct store *s, const char *sql, struct err *err);

/* Fills err from the connection's last error: SQLITE_FULL becomes 507,
 * SQLITE_BUSY/LOCKED 503, anything else 500. Returns -1. */
int store_fail(struct store *s, struct err *err, const char *what);

/* A quick read that proves the database answers (for /healthz). */
int store_ping(struct store *s, struct err *err);

/* The connection of the calling thread, opened on first use with what
 * store_thread_setup() was given. */
int store_thread_setup(const char *path, int64_t busy_timeout_ms);
struct store *store_for_thread(struct err *err);
void store_thread_teardown(void);

/* Binding helpers: text may be NULL (binds NULL). */
int store_bind_text(sqlite3_stmt *st, int i, const char *text);
int store_bind_textn(sqlite3_stmt *st, int i, const char *text, size_t len);
/* A column as a C string, "" for NULL. */
const char *store_col_text(sqlite3_stmt *st, int i);

/* Copies what the WAL holds into the database file, as far as readers
 * allow (PASSIVE). Returns the frames copied. The main thread calls it
 * every second; no connection checkpoints on its own. */
int store_checkpoint(struct store *s, struct err *err);

/* The main thread defers checkpoints while a fan-out runs, but not past
 * STORE_CHECKPOINT_WAL_MAX bytes of WAL written since the last one (the
 * disk a fan-out holds) nor STORE_CHECKPOINT_DEFER_MS after it. wal_bytes
 * is the WAL file's size now; *wal_at_last its size at the last
 * checkpoint, which the caller sets and this resets when the WAL has
 * started over. */
#define STORE_CHECKPOINT_WAL_MAX (1024LL * 1024 * 1024)
#define STORE_CHECKPOINT_DEFER_MS (5 * 60 * 1000)
bool store_checkpoint_overdue(long long *wal_at_last, long long wal_bytes,
			      int64_t since_last_ms);

/* Steps a prepared, bound statement to its end and answers
 * {"items": [row(st) of each row]}; resets it. `what` names the query in
 * an error. */
int store_list(struct store *s, sqlite3_stmt *st,
	       json_t *(*row)(sqlite3_stmt *st), const char *what,
	       json_t **out, struct err *err);

/* Steps a prepared statement bound to one id for its row: row(st), or
 * 404 "no NOUN ID" when there is none; resets it. */
int store_one(struct store *s, sqlite3_stmt *st,
	      json_t *(*row)(sqlite3_stmt *st), const char *noun, int64_t id,
	      json_t **out, struct err *err);

#endif
