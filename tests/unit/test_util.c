/* Unit tests of the checked parsers in util.c and crypto.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crypto.h"
#include "util.h"

static void parse_ll_bounds(void **state)
{
	long long v;
	(void)state;
	assert_int_equal(util_parse_ll("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(util_parse_ll("101", 0, 100, &v), -1);
	assert_int_equal(util_parse_ll("-1", 0, 100, &v), -1);
	assert_int_equal(util_parse_ll("4x", 0, 100, &v), -1);
	assert_int_equal(util_parse_ll("", 0, 100, &v), -1);
	assert_int_equal(util_parse_ll(" 4", 0, 100, &v), -1);
	assert_int_equal(util_parse_ll("99999999999999999999", 0, INT64_MAX, &v), -1);
}

static void sizes_and_durations(void **state)
{
	int64_t v;
	(void)state;
	assert_int_equal(util_parse_size("1M", &v), 0);
	assert_int_equal(v, 1048576);
	assert_int_equal(util_parse_size("512K", &v), 0);
	assert_int_equal(v, 524288);
	assert_int_equal(util_parse_size("12", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(util_parse_size("1T", &v), -1);
	assert_int_equal(util_parse_size("-1", &v), -1);
	assert_int_equal(util_parse_duration_ms("10m", &v), 0);
	assert_int_equal(v, 600000);
	assert_int_equal(util_parse_duration_ms("250ms", &v), 0);
	assert_int_equal(v, 250);
	assert_int_equal(util_parse_duration_ms("30", &v), 0);
	assert_int_equal(v, 30000);
	assert_int_equal(util_parse_duration_ms("2h", &v), 0);
	assert_int_equal(v, 7200000);
	assert_int_equal(util_parse_duration_ms("3 weeks", &v), -1);
	assert_int_equal(util_parse_duration_ms("m", &v), -1);
}

static void hostport(void **state)
{
	char *h = NULL;
	int p;
	(void)state;
	assert_int_equal(util_parse_hostport("127.0.0.1:8080", &h, &p), 0);
	assert_string_equal(h, "127.0.0.1");
	assert_int_equal(p, 8080);
	free(h);
	assert_int_equal(util_parse_hostport("[::1]:0", &h, &p), 0);
	assert_string_equal(h, "::1");
	assert_int_equal(p, 0);
	free(h);
	assert_int_equal(util_parse_hostport("localhost", &h, &p), -1);
	assert_int_equal(util_parse_hostport("::1:80", &h, &p), -1);
	assert_int_equal(util_parse_hostport("a:70000", &h, &p), -1);
	assert_int_equal(util_parse_hostport("a b:80", &h, &p), -1);
}

static void utf8(void **state)
{
	(void)state;
	assert_true(util_utf8_valid("中山市", strlen("中山市")));
	assert_false(util_utf8_valid("\xe4\xb8", 2));          /* cut */
	assert_false(util_utf8_valid("\xc0\xaf", 2));          /* overlong */
	assert_false(util_utf8_valid("\xed\xa0\x80", 3));      /* surrogate */
	assert_true(util_utf8_valid("莫\xf0\xa1\x90\x93村", 10)); /* non-BMP */
	assert_int_equal(util_utf8_chars("中山a", strlen("中山a")), 3);
	/* two wide characters and two narrow ones: 2*2 + 2 = 6 half-widths */
	assert_int_equal(util_screen_width2("中山ab", strlen("中山ab")), 6);
	assert_int_equal(util_screen_width2("，。", strlen("，。")), 4);
}

static void iso_times(void **state)
{
	int64_t ms;
	char buf[40];
	(void)state;
	assert_int_equal(util_parse_iso("2026-11-29T10:00:00+08:00", &ms), 0);
	assert_int_equal(ms, 1795917600000LL);
	assert_int_equal(util_parse_iso("2026-11-29T02:00:00Z", &ms), 0);
	assert_int_equal(ms, 1795917600000LL);
	assert_int_equal(util_parse_iso("2026-11-29T02:00:00.250Z", &ms), 0);
	assert_int_equal(ms, 1795917600250LL);
	assert_int_equal(util_parse_iso("2026-11-29T10:00:00", &ms), -1);
	assert_int_equal(util_parse_iso("2026-02-30T10:00:00Z", &ms), -1);
	assert_int_equal(util_parse_iso("2026-11-29T24:00:00Z", &ms), -1);
	assert_int_equal(util_format_iso(1795917600000LL, 480, buf, sizeof buf), 0);
	assert_string_equal(buf, "2026-11-29T10:00:00+08:00");
	assert_int_equal(util_format_iso(1795917600000LL, -90, buf, sizeof buf), 0);
	assert_string_equal(buf, "2026-11-29T00:30:00-01:30");
}

static void codes(void **state)
{
	(void)state;
	assert_true(util_is_region_code("442000001007", 12));
	assert_false(util_is_region_code("44200000100", 11));
	assert_false(util_is_region_code("44200000100a", 12));
}

/* util_copy cuts and terminates exactly as snprintf("%s") did */
static void copy_like_snprintf(void **state)
{
	(void)state;
	const char *srcs[] = { "", "a", "abc", "abcd", "abcdefgh" };
	for (size_t cap = 1; cap <= 6; cap++)
		for (size_t i = 0; i < sizeof srcs / sizeof *srcs; i++) {
			char a[8], b[8];
			memset(a, 'x', sizeof a);
			memset(b, 'x', sizeof b);
			util_copy(a, cap, srcs[i]);
			snprintf(b, cap, "%s", srcs[i]);
			assert_memory_equal(a, b, sizeof a);
		}
	char z = 'x';
	util_copy(&z, 0, "abc");
	assert_int_equal(z, 'x');
}

/* a deadline carries the nanoseconds over into the seconds */
static void deadline(void **state)
{
	(void)state;
	for (int64_t ms = 0; ms < 3000; ms += 137) {
		struct timespec before, d;
		clock_gettime(CLOCK_MONOTONIC, &before);
		util_deadline(CLOCK_MONOTONIC, ms, &d);
		assert_true(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
		int64_t diff = ((int64_t)d.tv_sec - before.tv_sec) * 1000000000LL +
			       (d.tv_nsec - before.tv_nsec);
		assert_true(diff >= ms * 1000000LL);
		assert_true(diff < ms * 1000000LL + 50000000LL);
	}
}

/* a wait on such a condition variable ends at a monotonic deadline, not
 * at once (as a wait against the wrong clock would) */
static void *wait_for_unlock(void *arg)
{
	pthread_mutex_t *m = arg;
	pthread_mutex_lock(m);
	pthread_mutex_unlock(m);
	return NULL;
}

/* The thread runs, under the name top -H and perf show (read while it
 * waits for the lock held here). */
static void thread_start_names(void **state)
{
	(void)state;
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	char name[16] = "";
	pthread_t t;
	pthread_mutex_lock(&m);
	assert_int_equal(util_thread_start(&t, "unit-named", wait_for_unlock, &m),
			 0);
	assert_int_equal(pthread_getname_np(t, name, sizeof name), 0);
	pthread_mutex_unlock(&m);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_string_equal(name, "unit-named");
}

static void cond_monotonic(void **state)
{
	(void)state;
	pthread_cond_t c;
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	struct timespec before, after, until;
	assert_int_equal(util_cond_init_monotonic(&c), 0);
	clock_gettime(CLOCK_MONOTONIC, &before);
	util_deadline(CLOCK_MONOTONIC, 50, &until);
	pthread_mutex_lock(&m);
	int rc;
	do
		rc = pthread_cond_timedwait(&c, &m, &until);
	while (rc == 0);
	pthread_mutex_unlock(&m);
	clock_gettime(CLOCK_MONOTONIC, &after);
	assert_int_equal(rc, ETIMEDOUT);
	int64_t ms = ((int64_t)after.tv_sec - before.tv_sec) * 1000 +
		     (after.tv_nsec - before.tv_nsec) / 1000000;
	assert_true(ms >= 49);
	pthread_cond_destroy(&c);
}

/* growing arrays keep what they had, in order, across reallocations */
static void array_add_grows(void **state)
{
	(void)state;
	int64_t *a = NULL;
	size_t n = 0, cap = 0;
	for (int64_t i = 0; i < 1000; i += 3) {
		int64_t three[3] = { i, i + 1, i + 2 };
		assert_int_equal(util_array_add((void **)&a, &n, &cap, three, 3,
						sizeof *a), 0);
	}
	assert_int_equal(n, 1002);
	assert_true(cap >= n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(a[i], (int64_t)i);
	/* nothing to add changes nothing; a size past memory fails cleanly */
	assert_int_equal(util_array_add((void **)&a, &n, &cap, NULL, 0,
					sizeof *a), 0);
	assert_int_equal(n, 1002);
	assert_int_equal(util_array_add((void **)&a, &n, &cap, a, SIZE_MAX / 4,
					sizeof *a), -1);
	assert_int_equal(n, 1002);
	free(a);
}

static void base64_round_trip(void **state)
{
	unsigned char raw[32], back[40];
	char b64[64];
	(void)state;
	for (int i = 0; i < 32; i++)
		raw[i] = (unsigned char)(i * 7 + 1);
	int n = crypto_base64_encode(raw, sizeof raw, b64, sizeof b64);
	assert_int_equal(n, 44);
	assert_int_equal(crypto_base64_decode(b64, (size_t)n, back, sizeof back), 32);
	assert_memory_equal(raw, back, 32);
	assert_int_equal(crypto_base64_decode("ab$d", 4, back, sizeof back), -1);
	assert_int_equal(crypto_base64_decode("YQ", 2, back, sizeof back), 1);
	assert_int_equal(back[0], 'a');
	char hex[65];
	assert_int_equal(crypto_sha256_hex("abc", 3, hex), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_ll_bounds),
		cmocka_unit_test(sizes_and_durations),
		cmocka_unit_test(hostport),
		cmocka_unit_test(utf8),
		cmocka_unit_test(iso_times),
		cmocka_unit_test(codes),
		cmocka_unit_test(copy_like_snprintf),
		cmocka_unit_test(deadline),
		cmocka_unit_test(cond_monotonic),
		cmocka_unit_test(thread_start_names),
		cmocka_unit_test(array_add_grows),
		cmocka_unit_test(base64_round_trip),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
