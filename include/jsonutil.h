/* jsonutil: jansson helpers for the edges: strings that must be valid
 * UTF-8 whatever they came from, and the checks of request bodies that
 * name the field at fault. */
#ifndef SCICAST_JSONUTIL_H
#define SCICAST_JSONUTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* A JSON string of s; invalid UTF-8 bytes become U+FFFD. NULL → null. */
json_t *ju_string(const char *s);
json_t *ju_stringn(const char *s, size_t len);

struct buf;
/* Appends s as a JSON string literal (quoted, escaped; invalid UTF-8
 * becomes U+FFFD as in ju_string; NULL appends null), for JSON written
 * straight into a buffer on hot paths. Returns -1 on out of memory. */
int ju_append_string(struct buf *b, const char *s);

/* A time in ms as ISO 8601 in the configured offset; 0 or less → null. */
json_t *ju_time(int64_t ms);

/* Refuses a body that is not an object, or has a key not in allowed
 * (NULL-terminated): 422 naming the key. */
int ju_check_object(const json_t *body, const char *const *allowed,
		    struct err *err);

/* Reads obj[key] as a string of at most max_chars characters. Absent or
 * null: *out = NULL, and an error if required. Empty strings are refused
 * when required. */
int ju_get_string(const json_t *obj, const char *key, bool required,
		  size_t max_chars, const char **out, struct err *err);
/* Absent: *out keeps its value. */
int ju_get_bool(const json_t *obj, const char *key, bool *out,
		struct err *err);
int ju_get_int(const json_t *obj, const char *key, long long min,
	       long long max, bool required, long long *out, struct err *err);

#endif
