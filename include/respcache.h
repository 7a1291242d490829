/* respcache: short-lived copies of expensive read answers (an emergency
 * with its coverage), shared by the HTTP worker threads: while a
 * province-wide alert goes out, every console polls the same emergency,
 * and one computation per moment serves them all. An entry is good for
 * [http] cache_ms and only while nothing was committed through the API
 * since (respcache_invalidate), so an answer never predates the caller's
 * own change; delivery counts may lag by at most cache_ms. */
#ifndef SCICAST_RESPCACHE_H
#define SCICAST_RESPCACHE_H

#include <stddef.h>
#include <stdint.h>

/* The generation to pass to respcache_put: read it before computing the
 * answer, so a change committed meanwhile makes the answer stale. */
uint64_t respcache_generation(void);
/* A copy of the cached body for key (caller frees), or NULL. */
char *respcache_get(const char *key, int64_t max_age_ms, size_t *len);
/* Keeps a copy of body under key (ignored on out of memory). */
void respcache_put(const char *key, uint64_t generation, const char *body,
		   size_t len);
/* Something changed: every entry is stale. Thread-safe, cheap. */
void respcache_invalidate(void);
void respcache_clear(void);

#endif
