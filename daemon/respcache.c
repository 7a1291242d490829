/* respcache: a handful of recent answers, behind one mutex (the HTTP
 * worker threads share it; that is its purpose). See respcache.h. */
#include "respcache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define RESPCACHE_SLOTS 16
#define RESPCACHE_KEY 128

struct entry {
	char key[RESPCACHE_KEY];
	char *body;
	size_t len;
	int64_t at_ms;
	uint64_t generation;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry slots[RESPCACHE_SLOTS];
static atomic_uint_fast64_t generation;

void respcache_invalidate(void)
{
	atomic_fetch_add(&generation, 1);
}

static struct entry *find(const char *key)
{
	for (int i = 0; i < RESPCACHE_SLOTS; i++)
		if (slots[i].body && strcmp(slots[i].key, key) == 0)
			return &slots[i];
	return NULL;
}

char *respcache_get(const char *key, int64_t max_age_ms, size_t *len)
{
	char *copy = NULL;
	if (max_age_ms <= 0 || strlen(key) >= RESPCACHE_KEY)
		return NULL;
	int64_t now = util_now_ms();
	uint64_t gen = atomic_load(&generation);
	pthread_mutex_lock(&lock);
	struct entry *e = find(key);
	if (e && e->generation == gen && now - e->at_ms <= max_age_ms) {
		copy = malloc(e->len + 1);
		if (copy) {
			memcpy(copy, e->body, e->len + 1);
			*len = e->len;
		}
	}
	pthread_mutex_unlock(&lock);
	return copy;
}

uint64_t respcache_generation(void)
{
	return atomic_load(&generation);
}

/* The slot for key: its own, an empty one, else the oldest. */
static struct entry *slot_for(const char *key)
{
	struct entry *e = find(key);
	for (int i = 0; !e && i < RESPCACHE_SLOTS; i++)
		if (!slots[i].body)
			e = &slots[i];
	if (!e) {
		e = &slots[0];
		for (int i = 1; i < RESPCACHE_SLOTS; i++)
			if (slots[i].at_ms < e->at_ms)
				e = &slots[i];
	}
	return e;
}

void respcache_put(const char *key, uint64_t gen, const char *body,
		   size_t len)
{
	size_t klen = strlen(key);
	if (klen >= RESPCACHE_KEY)
		return;
	char *copy = malloc(len + 1);
	if (!copy)
		return;
	memcpy(copy, body, len);
	copy[len] = '\0';
	pthread_mutex_lock(&lock);
	struct entry *e = slot_for(key);
	char *old = e->body;
	memcpy(e->key, key, klen + 1);
	e->body = copy;
	e->len = len;
	e->at_ms = util_now_ms();
	e->generation = gen;
	pthread_mutex_unlock(&lock);
	free(old);
}

void respcache_clear(void)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < RESPCACHE_SLOTS; i++) {
		free(slots[i].body);
		slots[i].body = NULL;
	}
	pthread_mutex_unlock(&lock);
}
