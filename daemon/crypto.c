/* crypto: thin, checked wrappers over libcrypto so the rest of scicast
 * never touches OpenSSL's calling conventions. */
#include "crypto.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <string.h>

int crypto_random(void *out, size_t n)
{
	if (n > 0x7fffffff)
		return -1;
	return RAND_bytes(out, (int)n) == 1 ? 0 : -1;
}

int crypto_base64_encode(const void *in, size_t n, char *out, size_t cap)
{
	size_t need = 4 * ((n + 2) / 3) + 1;
	if (cap < need || n > 0x3fffffff)
		return -1;
	int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return len;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

int crypto_base64_decode(const char *in, size_t n, unsigned char *out,
			 size_t cap)
{
	while (n && in[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return -1;
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value((unsigned char)in[i]);
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

int crypto_base64url_encode(const void *in, size_t n, char *out, size_t cap)
{
	int len = crypto_base64_encode(in, n, out, cap);
	if (len < 0)
		return -1;
	for (int i = 0; i < len; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	while (len && out[len - 1] == '=')
		out[--len] = '\0';
	return len;
}

int crypto_sha256(const void *in, size_t n, unsigned char out[32])
{
	return SHA256(in, n, out) ? 0 : -1;
}

int crypto_sha256_hex(const void *in, size_t n, char out[65])
{
	unsigned char d[32];
	static const char hex[] = "0123456789abcdef";
	if (crypto_sha256(in, n, d) < 0)
		return -1;
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
	return 0;
}

int crypto_hmac_sha256(const void *key, size_t klen, const void *in,
		       size_t n, unsigned char out[32])
{
	unsigned int len = 32;
	if (klen > 0x7fffffff)
		return -1;
	return HMAC(EVP_sha256(), key, (int)klen, in, n, out, &len) && len == 32
		       ? 0
		       : -1;
}
