/* whsig: signing and verifying webhooks the Standard Webhooks way. The
 * verifier is here too: the tests' receiver and anyone who embeds scicast
 * code in a receiver use the same code that signs. Comparison is
 * constant-time; the key is wiped after use. */
#define _GNU_SOURCE
#include "whsig.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "crypto.h"
#include "util.h"

static int secret_key(const char *secret, unsigned char *key, size_t cap)
{
	if (strncmp(secret, "whsec_", 6) == 0)
		secret += 6;
	return crypto_base64_decode(secret, strlen(secret), key, cap);
}

static int mac(const char *secret, const char *id, const char *ts,
	       const void *body, size_t len, unsigned char out[32])
{
	unsigned char key[128];
	int klen = secret_key(secret, key, sizeof key);
	int rc = -1;
	struct buf content = BUF_INIT;
	if (klen <= 0)
		goto done;
	if (buf_appendf(&content, "%s.%s.", id, ts) < 0 ||
	    buf_append(&content, body, len) < 0)
		goto done;
	rc = crypto_hmac_sha256(key, (size_t)klen, content.data, content.len,
				out);
done:
	explicit_bzero(key, sizeof key);
	buf_free(&content);
	return rc;
}

int whsig_sign(const char *secret, const char *id, int64_t timestamp,
	       const void *body, size_t len, char *out, size_t cap)
{
	unsigned char d[32];
	char ts[24], b64[48];
	snprintf(ts, sizeof ts, "%lld", (long long)timestamp);
	if (mac(secret, id, ts, body, len, d) < 0 ||
	    crypto_base64_encode(d, sizeof d, b64, sizeof b64) < 0)
		return -1;
	int n = snprintf(out, cap, "v1,%s", b64);
	return (n > 0 && (size_t)n < cap) ? 0 : -1;
}

enum whsig_result whsig_verify(const char *secret, const char *id,
			       const char *timestamp, const char *signature,
			       const void *body, size_t len, int64_t now)
{
	long long ts;
	unsigned char want[32];
	if (!id || !timestamp || !signature)
		return WHSIG_MISSING_HEADER;
	if (util_parse_ll(timestamp, 0, INT64_MAX / 2, &ts) < 0)
		return WHSIG_INVALID_TIMESTAMP;
	if (now - ts > WHSIG_TOLERANCE_S)
		return WHSIG_TOO_OLD;
	if (ts > now + WHSIG_TOLERANCE_S)
		return WHSIG_TOO_NEW;
	if (mac(secret, id, timestamp, body, len, want) < 0)
		return WHSIG_INVALID_SIGNATURE;
	/* "v1,<sig> v1,<sig> v2,…": any v1 that matches will do */
	const char *p = signature;
	while (*p) {
		while (*p == ' ')
			p++;
		const char *end = strchr(p, ' ');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n > 3 && memcmp(p, "v1,", 3) == 0) {
			unsigned char got[40];
			int glen = crypto_base64_decode(p + 3, n - 3, got,
							sizeof got);
			if (glen == 32 && util_ct_equal(got, want, 32))
				return WHSIG_OK;
		}
		p += n;
	}
	return WHSIG_INVALID_SIGNATURE;
}

const char *whsig_result_name(enum whsig_result r)
{
	static const char *const names[] = {
		"ok", "missing_header", "invalid_timestamp",
		"timestamp_too_old", "timestamp_too_new", "invalid_signature",
	};
	return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}
