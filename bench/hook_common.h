/* hook_common.h: what the webhook benchmark's receiver (hook_sink) and bare
 * client (hook_blast) share: the clock, the secrets file, base64 and the
 * Standard Webhooks MAC. Written here rather than taken from daemon/ so the
 * benchmark checks scicastd's signatures with code that is not scicastd's
 * own (a bug in daemon/whsig.c must not sign and verify alike), and so the
 * bench tools build without the daemon's objects.
 *
 * Everything is static inline: each tool uses a part, and an unused static
 * inline function is not a warning. */
#ifndef SCICAST_BENCH_HOOK_COMMON_H
#define SCICAST_BENCH_HOOK_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define HOOK_KEY_MAX 64     /* bytes of a decoded secret (scicast: 24-64) */
#define HOOK_SIG_LEN 44     /* base64 of 32 bytes, with padding */

struct hook_key {
	unsigned char key[HOOK_KEY_MAX];
	int len;
};

static inline double hook_clock_ms(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static inline int hook_b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/* Standard base64 (padding optional); the byte count, or -1. */
static inline int hook_b64_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
	while (n && in[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return -1;
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = hook_b64_value((unsigned char)in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return (int)o;
}

/* Reads one `whsec_<base64>` per line; line k (from 0) is the secret of
 * /hook/k. Returns the keys (the caller frees them) and sets *n. */
static inline struct hook_key *hook_read_secrets(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return NULL;
	}
	struct hook_key *keys = NULL;
	size_t count = 0, cap = 0;
	char line[256];
	while (fgets(line, sizeof line, f)) {
		size_t l = strcspn(line, "\r\n");
		line[l] = '\0';
		if (l == 0)
			continue;
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			struct hook_key *g = realloc(keys, ncap * sizeof *g);
			if (!g) {
				fprintf(stderr, "%s: out of memory\n", path);
				goto fail;
			}
			keys = g;
			cap = ncap;
		}
		const char *b = strncmp(line, "whsec_", 6) == 0 ? line + 6 : line;
		int kl = hook_b64_decode(b, strlen(b), keys[count].key, HOOK_KEY_MAX);
		if (kl <= 0) {
			fprintf(stderr, "%s:%zu: not a whsec_<base64> secret\n", path, count + 1);
			goto fail;
		}
		keys[count].len = kl;
		count++;
	}
	fclose(f);
	if (count == 0) {
		fprintf(stderr, "%s: no secrets\n", path);
		free(keys);
		return NULL;
	}
	*n = count;
	return keys;
fail:
	fclose(f);
	free(keys);
	return NULL;
}

/* HMAC-SHA256(key, "{id}.{ts}." + body) where `msg` already holds the
 * whole signed content. */
static inline int hook_mac(const struct hook_key *k, const void *msg, size_t len,
			   unsigned char out[32])
{
	unsigned int olen = 32;
	return HMAC(EVP_sha256(), k->key, k->len, msg, len, out, &olen) && olen == 32 ? 0 : -1;
}

#endif
