/* whsig: Standard Webhooks signatures (shared/spec/webhooks): the signed
 * content is "{id}.{timestamp}.{body}", HMAC-SHA256 keyed with the
 * base64-decoded secret (the "whsec_" prefix dropped), sent as
 * "webhook-signature: v1,<base64>". */
#ifndef SCICAST_WHSIG_H
#define SCICAST_WHSIG_H

#include <stddef.h>
#include <stdint.h>

#define WHSIG_HEADER_MAX 64   /* "v1," + 44 base64 + NUL fits */
#define WHSIG_TOLERANCE_S 300

/* Writes "v1,<base64>" into out. Returns 0, or -1 for a secret that is
 * not base64. */
int whsig_sign(const char *secret, const char *id, int64_t timestamp,
	       const void *body, size_t len, char *out, size_t cap);

enum whsig_result {
	WHSIG_OK = 0,
	WHSIG_MISSING_HEADER,
	WHSIG_INVALID_TIMESTAMP,
	WHSIG_TOO_OLD,
	WHSIG_TOO_NEW,
	WHSIG_INVALID_SIGNATURE,
};

/* Verifies the three headers (any may be NULL: missing) at time now. */
enum whsig_result whsig_verify(const char *secret, const char *id,
			       const char *timestamp, const char *signature,
			       const void *body, size_t len, int64_t now);
const char *whsig_result_name(enum whsig_result r);

#endif
