/* crypto: the few primitives scicast needs, over OpenSSL's libcrypto:
 * random bytes from the OS, base64, SHA-256 and HMAC-SHA256. */
#ifndef SCICAST_CRYPTO_H
#define SCICAST_CRYPTO_H

#include <stddef.h>

int crypto_random(void *out, size_t n);
/* Standard base64 with padding; out needs 4 * ((n + 2) / 3) + 1 bytes.
 * Returns the length written (NUL-terminated), or -1. */
int crypto_base64_encode(const void *in, size_t n, char *out, size_t cap);
/* Accepts standard base64 with or without padding. Returns the length
 * decoded, or -1 for anything that is not base64. */
int crypto_base64_decode(const char *in, size_t n, unsigned char *out,
			 size_t cap);
/* URL-safe base64 without padding (tokens). */
int crypto_base64url_encode(const void *in, size_t n, char *out, size_t cap);

int crypto_sha256(const void *in, size_t n, unsigned char out[32]);
/* Lower-case hex of SHA-256; out needs 65 bytes. */
int crypto_sha256_hex(const void *in, size_t n, char out[65]);
int crypto_hmac_sha256(const void *key, size_t klen, const void *in,
		       size_t n, unsigned char out[32]);

#endif
