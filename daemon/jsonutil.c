/* jsonutil: the checks every JSON request body goes through, so each
 * handler states what it accepts in a few lines and every refusal names
 * its field the same way. */
#include "jsonutil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"

json_t *ju_stringn(const char *s, size_t len)
{
	if (!s)
		return json_null();
	if (util_utf8_valid(s, len) && !memchr(s, '\0', len))
		return json_stringn(s, len);
	struct buf b = BUF_INIT;
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		size_t n = 1;
		if (p[i] >= 0x80) {
			size_t want = p[i] >= 0xF0 ? 4 : p[i] >= 0xE0 ? 3 : 2;
			if (i + want <= len && util_utf8_valid(s + i, want))
				n = want;
			else {
				if (buf_append(&b, "\xEF\xBF\xBD", 3) < 0)
					goto fail;
				i++;
				continue;
			}
		} else if (p[i] == 0) {
			if (buf_append(&b, "\xEF\xBF\xBD", 3) < 0)
				goto fail;
			i++;
			continue;
		}
		if (buf_append(&b, s + i, n) < 0)
			goto fail;
		i += n;
	}
	json_t *out = json_stringn(buf_str(&b), b.len);
	buf_free(&b);
	return out;
fail:
	buf_free(&b);
	return NULL;
}

json_t *ju_string(const char *s)
{
	return s ? ju_stringn(s, strlen(s)) : json_null();
}

int ju_check_object(const json_t *body, const char *const *allowed,
		    struct err *err)
{
	if (!json_is_object(body)) {
		err_set(err, 422, "invalid", "", "the body must be a JSON object");
		return -1;
	}
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)body, key, v) {
		bool ok = false;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = strcmp(*a, key) == 0;
		if (!ok) {
			err_set(err, 422, "invalid", key,
				"unknown field \"%.64s\"", key);
			return -1;
		}
	}
	return 0;
}

int ju_get_string(const json_t *obj, const char *key, bool required,
		  size_t max_chars, const char **out, struct err *err)
{
	json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required) {
			err_set(err, 422, "invalid", key, "%s is required", key);
			return -1;
		}
		return 0;
	}
	if (!json_is_string(v)) {
		err_set(err, 422, "invalid", key, "%s must be a string", key);
		return -1;
	}
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (required && len == 0) {
		err_set(err, 422, "invalid", key, "%s must not be empty", key);
		return -1;
	}
	if (memchr(s, '\0', len)) {
		err_set(err, 422, "invalid", key, "%s contains a NUL character",
			key);
		return -1;
	}
	if (util_utf8_chars(s, len) > max_chars) {
		err_set(err, 422, "invalid", key,
			"%s is longer than %zu characters", key, max_chars);
		return -1;
	}
	*out = s;
	return 0;
}

int ju_get_bool(const json_t *obj, const char *key, bool *out,
		struct err *err)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		err_set(err, 422, "invalid", key, "%s must be true or false",
			key);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

int ju_get_int(const json_t *obj, const char *key, long long min,
	       long long max, bool required, long long *out, struct err *err)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) {
		if (required) {
			err_set(err, 422, "invalid", key, "%s is required", key);
			return -1;
		}
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		err_set(err, 422, "invalid", key,
			"%s must be a whole number from %lld to %lld", key, min,
			max);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

json_t *ju_time(int64_t ms)
{
	char buf[40];
	if (ms <= 0 || util_format_local(ms, buf, sizeof buf) < 0)
		return json_null();
	return json_string(buf);
}
