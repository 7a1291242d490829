/* idempotency: the Idempotency-Key of a declaration (POST
 * /api/v1/emergencies) and of an update (POST .../{id}/revisions).
 *
 * A big plan's first messages go out before its answer (plans are
 * committed in stages), so a client whose connection broke cannot tell
 * whether it went through. Sent again with the same key, the request is
 * answered with what the first one made (the emergency, or the held
 * approval request) and nothing new is stored or sent. Keys belong to the
 * operator (token name) that sent them and are kept. */
#ifndef SCICAST_IDEMPOTENCY_H
#define SCICAST_IDEMPOTENCY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

#define IDEM_KEY_MAX 255

struct idem {
	bool on;                      /* the request carried a key */
	const char *actor;            /* borrowed */
	char key[IDEM_KEY_MAX + 1];
	char hash[65];                /* SHA-256 of what and the body */
};

/* What an earlier request with the key made. */
struct idem_found {
	bool found;
	int64_t emergency;            /* 0 if none */
	int64_t approval;             /* 0 if none */
};

/* 1 to IDEM_KEY_MAX printable ASCII characters, no spaces (the CLI checks
 * --idempotency-key with it too). */
bool idem_key_valid(const char *key);

/* Reads the header value (NULL: no key; k->on stays false). what names
 * the request ("declare", "revise 12"): a key sent with another request
 * or body is refused (no body counts as {}). 400 naming Idempotency-Key if it is empty, too long
 * or not printable ASCII. */
int idem_parse(const char *header, const char *actor, const char *what,
	       const json_t *body, struct idem *k, struct err *err);

/* 422 if the key was used for another request or body. */
int idem_lookup(struct store *s, const struct idem *k, struct idem_found *out,
		struct err *err);

/* Remembers what the key made, inside the transaction that made it. A
 * twin request that got there first: 409, to be sent again. */
int idem_remember(struct store *s, const struct idem *k, int64_t emergency,
		  int64_t approval, struct err *err);

#endif
