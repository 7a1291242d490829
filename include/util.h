/* util: small checked parsers and helpers shared by the daemon, the CLI
 * and the tests. Every parser returns 0 or -1 and never reads past the
 * given length. */
#ifndef SCICAST_UTIL_H
#define SCICAST_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Whole decimal number within [min, max], nothing else in the string. */
int util_parse_ll(const char *s, long long min, long long max, long long *out);
/* "1048576", "512K", "1M", "2G" (binary units). */
int util_parse_size(const char *s, int64_t *out);
/* "500ms", "30s", "10m", "2h", "1d", or a bare number of seconds. */
int util_parse_duration_ms(const char *s, int64_t *out);
/* "host:port", "[v6]:port"; *host is allocated. Port 0–65535. */
int util_parse_hostport(const char *s, char **host, int *port);

/* The time ms (>= 0) from now on clock (CLOCK_MONOTONIC, CLOCK_REALTIME), for
 * pthread_cond_timedwait. */
void util_deadline(clockid_t clock, int64_t ms, struct timespec *out);
/* A condition variable whose timed waits use CLOCK_MONOTONIC (deadlines
 * from util_deadline(CLOCK_MONOTONIC, …)); 0 or an errno value. */
int util_cond_init_monotonic(pthread_cond_t *c);

/* Starts fn(arg) on *t, named (at most 15 bytes) for top -H, perf and
 * gdb. 0 or an errno value. */
int util_thread_start(pthread_t *t, const char *name, void *(*fn)(void *),
		      void *arg);

/* Copies src into dst (cut to cap - 1 bytes, always terminated), as
 * snprintf(dst, cap, "%s", src) does at several times the cost; the
 * plan copies a few strings per region and per delivery. */
void util_copy(char *dst, size_t cap, const char *src);
/* Appends n elements of size sz from src to a growing array *arr of *len
 * elements and room for *cap; -1 (nothing changed) when out of memory. */
int util_array_add(void **arr, size_t *len, size_t *cap, const void *src,
		   size_t n, size_t sz);

bool util_utf8_valid(const char *s, size_t len);
/* Code points in valid UTF-8 text. */
size_t util_utf8_chars(const char *s, size_t len);
/* Screen width: a wide (CJK, full-width) character is 1, any other 0.5;
 * returned doubled so it stays an integer (60 wide chars = 120). */
size_t util_screen_width2(const char *s, size_t len);

int64_t util_now_ms(void);
/* CPU time of the calling thread, in microseconds (for logs: a busy
 * machine stretches wall time, not this). */
int64_t util_thread_cpu_us(void);
/* Writes ISO 8601 with the given offset ("2026-11-29T10:00:00+08:00"). */
int util_format_iso(int64_t ms, int offset_min, char *out, size_t cap);
/* Parses ISO 8601 ("2026-11-29T10:00:00+08:00", "…Z", "…+0800",
 * fractional seconds allowed) to ms since the epoch. */
int util_parse_iso(const char *s, int64_t *ms);

/* Constant-time comparison of two byte strings of equal length. */
bool util_ct_equal(const void *a, const void *b, size_t len);

/* Reads a whole file ("-": standard input) into a new NUL-terminated
 * buffer. Returns 0, or -1 with errno set. */
int util_read_file(const char *path, char **data, size_t *len);

/* A 12-digit region code. */
bool util_is_region_code(const char *s, size_t len);

/* The configured UTC offset for times shown to people; set once at start
 * before any thread runs. */
void util_set_local_offset(int minutes);
int util_local_offset(void);
/* ISO 8601 in the configured offset; "" for ms <= 0. */
int util_format_local(int64_t ms, char *out, size_t cap);

#endif
