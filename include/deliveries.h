/* deliveries: reading the outbox for people — lists with filters, one
 * delivery with every attempt — and re-driving dead ones. */
#ifndef SCICAST_DELIVERIES_H
#define SCICAST_DELIVERIES_H

#include <jansson.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

struct deliveries_filter {
	int64_t emergency;   /* 0: any */
	int revision;        /* -1: any */
	const char *state, *town, *kind;
	int tier;            /* 0: any */
	int64_t campaign;    /* 0: any */
	long limit, offset;
};

/* {"items": [...], "total", "limit", "offset"} */
int deliveries_list(struct store *s, const struct deliveries_filter *f,
		    json_t **out, struct err *err);
/* One delivery with "attempts": [{attempt, at, duration_ms, http_status,
 * outcome, error, next_attempt_at}]. */
int deliveries_get(struct store *s, int64_t id, json_t **out,
		   struct err *err);

#endif
