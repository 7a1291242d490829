/* jsonutil: the checks every JSON request body goes through, so each
 * handler states what it accepts in a few lines and every refusal names
 * its field the same way. */
#include "jsonutil.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"

json_t *ju_stringn(const char *s, size_t len)
{
	if (!s)
		return json_null();
	/* checked here, so jansson need not check again */
	if (util_utf8_valid(s, len) && !memchr(s, '\0', len))
		return json_stringn_nocheck(s, len);
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
	json_t *out = json_stringn_nocheck(buf_str(&b), b.len);
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

static bool is_special(unsigned char ch)
{
	return ch < 0x20 || ch == '"' || ch == '\\';
}

/* Whether any byte of the word is a control character, '"' or '\\'
 * (the bit tricks of "Bit Twiddling Hacks": a byte is zero, a byte is
 * below n). */
static bool word_special(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t highs = 0x8080808080808080ULL;
	uint64_t quote = w ^ (ones * '"'), bslash = w ^ (ones * '\\');
	uint64_t below = (w - ones * 0x20) & ~w & highs;
	uint64_t zq = (quote - ones) & ~quote & highs;
	uint64_t zb = (bslash - ones) & ~bslash & highs;
	return (below | zq | zb) != 0;
}

/* The index of the next byte that needs an escape, or len. Eight bytes
 * at a time: a province's messages are megabytes of text. */
static size_t next_special(const char *s, size_t i, size_t len)
{
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if (word_special(w))
			break;
	}
	while (i < len && !is_special((unsigned char)s[i]))
		i++;
	return i;
}

/* s is valid UTF-8 without NUL: only quotes, backslashes and control
 * characters need escaping, so the rest goes in runs. */
static int append_valid(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	int rc = buf_reserve(b, len + 2) | buf_append_char(b, '"');
	size_t i = 0;
	while (rc == 0) {
		size_t j = next_special(s, i, len);
		rc |= buf_append(b, s + i, j - i);
		if (j == len)
			break;
		unsigned char ch = (unsigned char)s[j];
		char esc[6] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15] };
		switch (ch) {
		case '"': rc |= buf_append(b, "\\\"", 2); break;
		case '\\': rc |= buf_append(b, "\\\\", 2); break;
		case '\n': rc |= buf_append(b, "\\n", 2); break;
		case '\r': rc |= buf_append(b, "\\r", 2); break;
		case '\t': rc |= buf_append(b, "\\t", 2); break;
		case '\b': rc |= buf_append(b, "\\b", 2); break;
		case '\f': rc |= buf_append(b, "\\f", 2); break;
		default: rc |= buf_append(b, esc, sizeof esc); break;
		}
		i = j + 1;
	}
	rc |= buf_append_char(b, '"');
	return rc ? -1 : 0;
}

int ju_append_string(struct buf *b, const char *s)
{
	if (!s)
		return buf_append_str(b, "null");
	size_t len = strlen(s);
	if (util_utf8_valid(s, len))
		return append_valid(b, s, len);
	json_t *clean = ju_stringn(s, len);
	int rc = clean ? append_valid(b, json_string_value(clean),
				      json_string_length(clean))
		       : -1;
	json_decref(clean);
	return rc;
}
