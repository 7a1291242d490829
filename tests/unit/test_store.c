/* Unit tests of the store's transactions against a real SQLite file: a
 * staged commit makes what is written visible and goes on in a new
 * transaction; the write turn lets a writer that queued in between go
 * before the staged writer's next stage; store_room reads the limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "store.h"

static char dbpath[64];

static void remove_db(void)
{
	char p[80];
	unlink(dbpath);
	snprintf(p, sizeof p, "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", dbpath);
	unlink(p);
}

static struct store *open_db(void)
{
	struct store *s = NULL;
	struct err e;
	assert_int_equal(store_open(dbpath, 5000, &s, &e), 0);
	return s;
}

static int setup(void **state)
{
	snprintf(dbpath, sizeof dbpath, "/tmp/scicast-test-store.%d.db",
		 (int)getpid());
	remove_db();
	struct store *s;
	struct err e;
	if (store_open(dbpath, 5000, &s, &e) < 0 ||
	    store_exec(s, "CREATE TABLE t(id INTEGER PRIMARY KEY, who TEXT)",
		       &e) < 0)
		return -1;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	store_close(*state);
	remove_db();
	return 0;
}

static void insert(struct store *s, const char *who)
{
	static const char sql[] = "INSERT INTO t(who) VALUES (?)";
	struct err e;
	sqlite3_stmt *st = store_stmt(s, sql, &e);
	assert_non_null(st);
	store_bind_text(st, 1, who);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_reset(st);
}

static long count(struct store *s)
{
	static const char sql[] = "SELECT count(*) FROM t";
	struct err e;
	sqlite3_stmt *st = store_stmt(s, sql, &e);
	assert_non_null(st);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	long n = (long)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

static void test_stage_commits_and_goes_on(void **state)
{
	struct store *s = *state, *other = open_db();
	struct err e;
	/* as in a request: the HTTP layer's BEGIN, the module's SAVEPOINT */
	assert_int_equal(store_begin(s, &e), 0);
	assert_int_equal(store_begin(s, &e), 0);
	insert(s, "first stage");
	assert_int_equal(count(other), 0);
	assert_int_equal(store_commit_stage(s, &e), 0);
	assert_int_equal(count(other), 1);
	assert_true(store_in_transaction(s));
	insert(s, "second stage");
	/* the inner rollback undoes only what came after the stage */
	store_rollback(s);
	store_rollback(s);
	assert_false(store_in_transaction(s));
	assert_int_equal(count(other), 1);
	assert_int_equal(count(s), 1);
	store_close(other);
}

struct queued {
	struct store *s;
	pthread_mutex_t lock;
	bool waiting, done;
};

static void *queue_a_write(void *arg)
{
	struct queued *q = arg;
	struct err e;
	pthread_mutex_lock(&q->lock);
	q->waiting = true;
	pthread_mutex_unlock(&q->lock);
	if (store_begin(q->s, &e) == 0) {
		insert(q->s, "sender");
		store_commit(q->s, &e);
	}
	pthread_mutex_lock(&q->lock);
	q->done = true;
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

static bool flag(struct queued *q, bool *f)
{
	pthread_mutex_lock(&q->lock);
	bool v = *f;
	pthread_mutex_unlock(&q->lock);
	return v;
}

static void test_turn_lets_a_queued_writer_in_between_stages(void **state)
{
	struct store *s = *state;
	struct queued q = { .s = open_db() };
	struct err e;
	pthread_t th;
	pthread_mutex_init(&q.lock, NULL);
	assert_int_equal(store_begin(s, &e), 0);
	insert(s, "stage 1");
	assert_int_equal(pthread_create(&th, NULL, queue_a_write, &q), 0);
	while (!flag(&q, &q.waiting))
		usleep(1000);
	usleep(50 * 1000); /* it is queued now, behind this transaction */
	assert_false(flag(&q, &q.done));
	/* the next stage begins only after the queued writer committed */
	assert_int_equal(store_commit_stage(s, &e), 0);
	insert(s, "stage 2");
	assert_int_equal(store_commit(s, &e), 0);
	pthread_join(th, NULL);

	static const char sql[] = "SELECT group_concat(who, ',') FROM"
				  " (SELECT who FROM t ORDER BY id)";
	sqlite3_stmt *st = store_stmt(s, sql, &e);
	assert_non_null(st);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0),
			    "stage 1,sender,stage 2");
	sqlite3_reset(st);
	pthread_mutex_destroy(&q.lock);
	store_close(q.s);
}

struct impatient {
	int rc;
	int status;
};

static void *begin_impatiently(void *arg)
{
	struct impatient *r = arg;
	struct store *s = NULL;
	struct err e;
	if (store_open(dbpath, 100, &s, &e) < 0) {
		r->rc = -2;
		return NULL;
	}
	memset(&e, 0, sizeof e);
	r->rc = store_begin(s, &e);
	r->status = e.status;
	if (r->rc == 0)
		store_rollback(s);
	store_close(s);
	return NULL;
}

/* A writer that waits longer than its busy timeout gives its place up and
 * gets SQLite's "busy" (503), and the queue goes on without it. */
static void test_turn_gives_up_after_the_busy_timeout(void **state)
{
	struct store *s = *state;
	struct err e;
	struct impatient r = { 0 };
	pthread_t th;
	assert_int_equal(store_begin(s, &e), 0);
	insert(s, "long");
	assert_int_equal(pthread_create(&th, NULL, begin_impatiently, &r), 0);
	pthread_join(th, NULL); /* it gave up while this one held the lock */
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.status, 503);
	assert_int_equal(store_commit(s, &e), 0);
	/* the place it gave up does not hold the next writers back */
	assert_int_equal(pthread_create(&th, NULL, begin_impatiently, &r), 0);
	pthread_join(th, NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(store_begin(s, &e), 0);
	assert_int_equal(store_commit(s, &e), 0);
}

static void test_room(void **state)
{
	struct store *s = *state;
	struct err e;
	struct store_room r;
	assert_int_equal(store_room(s, &r, &e), 0);
	assert_true(r.used_pages > 0);
	assert_true(r.max_pages >= r.used_pages);
	assert_int_equal(r.page_size, STORE_PAGE_SIZE);
	assert_true(r.disk_free > 0);
	assert_int_equal(store_exec(s, "PRAGMA max_page_count=100", &e), 0);
	assert_int_equal(store_room(s, &r, &e), 0);
	assert_int_equal(r.max_pages, 100);
}

/* A fan-out's readers keep the WAL file at its size after a checkpoint:
 * the next one is due after another STORE_CHECKPOINT_WAL_MAX written, not
 * at every look at a file that is still over it. */
static void test_checkpoint_overdue_counts_what_was_written(void **state)
{
	(void)state;
	const long long gb = STORE_CHECKPOINT_WAL_MAX, mb = 1024 * 1024;
	long long at = 0;
	assert_false(store_checkpoint_overdue(&at, 100 * mb, 1000));
	assert_true(store_checkpoint_overdue(&at, gb + mb, 1000));
	/* checkpointed at 1 GB + 1 MB; the file did not shrink */
	at = gb + mb;
	assert_false(store_checkpoint_overdue(&at, gb + 2 * mb, 1000));
	assert_false(store_checkpoint_overdue(&at, 2 * gb, 1000));
	assert_true(store_checkpoint_overdue(&at, 2 * gb + mb, 1000));
	/* started over and cut back: all of it is new, also once it has
	 * grown back past the size of the last checkpoint */
	assert_false(store_checkpoint_overdue(&at, 64 * mb, 1000));
	assert_int_equal(at, 0);
	assert_false(store_checkpoint_overdue(&at, gb - mb, 1000));
	assert_true(store_checkpoint_overdue(&at, gb + 2 * mb, 1000));
	/* and never deferred past the time limit */
	at = mb;
	assert_false(store_checkpoint_overdue(&at, mb, STORE_CHECKPOINT_DEFER_MS - 1));
	assert_true(store_checkpoint_overdue(&at, mb, STORE_CHECKPOINT_DEFER_MS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stage_commits_and_goes_on,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_turn_lets_a_queued_writer_in_between_stages, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_turn_gives_up_after_the_busy_timeout, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_room, setup, teardown),
		cmocka_unit_test(test_checkpoint_overdue_counts_what_was_written),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
