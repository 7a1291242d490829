/* util: checked number, size, duration, address and time parsing, UTF-8
 * checks. These sit at every edge where text comes in (config, HTTP, CSV),
 * so they refuse anything they do not fully understand. */
#define _GNU_SOURCE
#include "util.h"

#include "buf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int util_parse_ll(const char *s, long long min, long long max, long long *out)
{
	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int util_parse_size(const char *s, int64_t *out)
{
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	unsigned long long mul = 1;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'K': mul = 1ULL << 10; break;
		case 'M': mul = 1ULL << 20; break;
		case 'G': mul = 1ULL << 30; break;
		default: return -1;
		}
		end++;
		if (*end == 'B' || *end == 'b')
			end++;
		if (*end)
			return -1;
	}
	if (v > (unsigned long long)INT64_MAX / mul)
		return -1;
	*out = (int64_t)(v * mul);
	return 0;
}

int util_parse_duration_ms(const char *s, int64_t *out)
{
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	unsigned long long mul;
	if (*end == '\0' || strcmp(end, "s") == 0)
		mul = 1000;
	else if (strcmp(end, "ms") == 0)
		mul = 1;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		mul = 60000;
	else if (strcmp(end, "h") == 0)
		mul = 3600000;
	else if (strcmp(end, "d") == 0)
		mul = 86400000;
	else
		return -1;
	if (v > (unsigned long long)INT64_MAX / mul)
		return -1;
	*out = (int64_t)(v * mul);
	return 0;
}

int util_parse_hostport(const char *s, char **host, int *port)
{
	const char *colon;
	const char *hs = s;
	size_t hlen;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -1;
		hs = s + 1;
		hlen = (size_t)(close - hs);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -1;
		hlen = (size_t)(colon - s);
		if (memchr(s, ':', hlen))
			return -1; /* a bare IPv6 address needs brackets */
	}
	long long p;
	if (util_parse_ll(colon + 1, 0, 65535, &p) < 0)
		return -1;
	for (size_t i = 0; i < hlen; i++)
		if (!isalnum((unsigned char)hs[i]) && !strchr(".-:_", hs[i]))
			return -1;
	char *h = strndup(hs, hlen);
	if (!h)
		return -1;
	*host = h;
	*port = (int)p;
	return 0;
}

/* Decodes one UTF-8 sequence at s (len > 0). Returns its length, or 0 if
 * it is not well formed (overlong, surrogate, beyond U+10FFFF, cut). */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xE0) == 0xC0) {
		n = 2; v = c & 0x1F; min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		n = 3; v = c & 0x0F; min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		n = 4; v = c & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

/* Every rendered message goes through this (twice, with jansson), and
 * most of it is Chinese: ASCII and the three-byte sequences of the CJK
 * planes are checked inline, the rest by utf8_decode. */
bool util_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		unsigned char c = p[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xE1 && c <= 0xEC && i + 2 < len &&
		    (p[i + 1] & 0xC0) == 0x80 && (p[i + 2] & 0xC0) == 0x80) {
			i += 3; /* U+1000–U+CFFF: never overlong or a surrogate */
			continue;
		}
		uint32_t cp;
		size_t n = utf8_decode(p + i, len - i, &cp);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

size_t util_utf8_chars(const char *s, size_t len)
{
	size_t count = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			count++;
	return count;
}

static bool is_wide(uint32_t cp)
{
	return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
	       (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
	       (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
	       (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD) ||
	       (cp >= 0x2160 && cp <= 0x216F) || (cp >= 0x3000 && cp <= 0x303F);
}

size_t util_screen_width2(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, w = 0;
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode(p + i, len - i, &cp);
		if (!n) {
			n = 1;
			cp = '?';
		}
		w += is_wide(cp) ? 2 : 1;
		i += n;
	}
	return w;
}

int64_t util_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t util_thread_cpu_us(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int util_format_iso(int64_t ms, int offset_min, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000) + (time_t)offset_min * 60;
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		return -1;
	int off = offset_min < 0 ? -offset_min : offset_min;
	int n = snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec,
			 offset_min < 0 ? '-' : '+', off / 60, off % 60);
	return (n > 0 && (size_t)n < cap) ? 0 : -1;
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int util_parse_iso(const char *s, int64_t *ms)
{
	int Y, M, D, h, m, sec = 0, frac_ms = 0;
	size_t len = strlen(s);
	if (len < 16 || digits(s, 4, &Y) || s[4] != '-' ||
	    digits(s + 5, 2, &M) || s[7] != '-' || digits(s + 8, 2, &D) ||
	    (s[10] != 'T' && s[10] != ' ') || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &m))
		return -1;
	const char *p = s + 16;
	if (*p == ':') {
		if (digits(p + 1, 2, &sec))
			return -1;
		p += 3;
		if (*p == '.') {
			int scale = 100;
			p++;
			if (!isdigit((unsigned char)*p))
				return -1;
			while (isdigit((unsigned char)*p)) {
				frac_ms += (*p - '0') * scale;
				scale /= 10;
				p++;
			}
		}
	}
	int off = 0;
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		int sign = *p == '-' ? -1 : 1;
		if (digits(p + 1, 2, &oh))
			return -1;
		const char *q = p + 3;
		if (*q == ':')
			q++;
		if (digits(q, 2, &om))
			return -1;
		off = sign * (oh * 60 + om);
		p = q + 2;
	} else {
		return -1; /* a time without an offset is ambiguous */
	}
	if (*p != '\0' || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 ||
	    m > 59 || sec > 60)
		return -1;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
	if (D > mdays[M - 1] || (M == 2 && D == 29 && !leap))
		return -1;
	struct tm tm = { .tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D,
			 .tm_hour = h, .tm_min = m, .tm_sec = sec };
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*ms = ((int64_t)t - (int64_t)off * 60) * 1000 + frac_ms;
	return 0;
}

void util_deadline(clockid_t clock, int64_t ms, struct timespec *out)
{
	clock_gettime(clock, out);
	int64_t ns = out->tv_nsec + (ms % 1000) * 1000000;
	out->tv_sec += (time_t)(ms / 1000 + ns / 1000000000);
	out->tv_nsec = (long)(ns % 1000000000);
}

void util_copy(char *dst, size_t cap, const char *src)
{
	if (!cap)
		return;
	size_t n = strnlen(src, cap);
	if (n == cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int util_cond_init_monotonic(pthread_cond_t *c)
{
	pthread_condattr_t ca;
	int rc = pthread_condattr_init(&ca);
	if (rc != 0)
		return rc;
	rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(c, &ca);
	pthread_condattr_destroy(&ca);
	return rc;
}

int util_thread_start(pthread_t *t, const char *name, void *(*fn)(void *),
		      void *arg)
{
	int rc = pthread_create(t, NULL, fn, arg);
	if (rc == 0)
		(void)pthread_setname_np(*t, name); /* a name is only a help */
	return rc;
}

int util_array_add(void **arr, size_t *len, size_t *cap, const void *src,
		   size_t n, size_t sz)
{
	if (!sz || n > SIZE_MAX / sz - *len)
		return -1;
	if (*len + n > *cap) {
		size_t c = *cap ? *cap : 64;
		while (c < *len + n)
			c *= 2;
		void *g = realloc(*arr, c * sz);
		if (!g)
			return -1;
		*arr = g;
		*cap = c;
	}
	if (n)
		memcpy((char *)*arr + *len * sz, src, n * sz);
	*len += n;
	return 0;
}

bool util_ct_equal(const void *a, const void *b, size_t len)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char acc = 0;
	for (size_t i = 0; i < len; i++)
		acc |= x[i] ^ y[i];
	return acc == 0;
}

bool util_is_region_code(const char *s, size_t len)
{
	if (len != 12)
		return false;
	for (size_t i = 0; i < 12; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int local_offset_min = 480;

void util_set_local_offset(int minutes)
{
	local_offset_min = minutes;
}

int util_local_offset(void)
{
	return local_offset_min;
}

int util_format_local(int64_t ms, char *out, size_t cap)
{
	if (ms <= 0) {
		if (cap)
			out[0] = '\0';
		return 0;
	}
	return util_format_iso(ms, local_offset_min, out, cap);
}

int util_read_file(const char *path, char **data, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f)
		return -1;
	struct buf b = BUF_INIT;
	char chunk[65536];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (buf_append(&b, chunk, n) < 0) {
			errno = ENOMEM;
			rc = -1;
			break;
		}
	if (rc == 0 && ferror(f)) {
		errno = EIO;
		rc = -1;
	}
	if (f != stdin)
		fclose(f);
	if (rc < 0) {
		buf_free(&b);
		return -1;
	}
	*len = b.len;
	*data = buf_steal(&b);
	return 0;
}
