/* audit: who changed what. Every change made through the API writes one
 * row in the same transaction as the change itself. */
#ifndef SCICAST_AUDIT_H
#define SCICAST_AUDIT_H

#include <jansson.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

int audit_write(struct store *s, const char *actor, const char *role,
		const char *action, const char *object, const char *summary,
		const char *remote, struct err *err);

struct audit_filter {
	const char *action;   /* exact, or a prefix ending in '.' */
	const char *actor, *object;
	int64_t since_ms, until_ms;
	long limit, offset;
};
int audit_list(struct store *s, const struct audit_filter *f, json_t **out,
	       struct err *err);

#endif
