/* bench_util.h: what the benchmark tools share (header-only: each tool is
 * one file, built alone by bench/Makefile). */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <errno.h>
#include <stdlib.h>

/* A whole decimal number in [min, max], or -1. */
static inline int bench_parse_ll(const char *s, long long min, long long max,
				 long long *out)
{
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

#endif
