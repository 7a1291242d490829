/* Unit tests of the JSON written by hand on hot paths: ju_append_string
 * must give what jansson reads back as the very same string (or its
 * U+FFFD-cleaned form), for any bytes; and util_utf8_valid must agree
 * with a plain decoder on every kind of sequence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "jsonutil.h"
#include "util.h"

/* What jansson reads back from ju_append_string's output. */
static char *round_trip(const char *s)
{
	struct buf b = BUF_INIT;
	assert_int_equal(ju_append_string(&b, s), 0);
	json_error_t je;
	json_t *j = json_loadb(buf_str(&b), b.len, JSON_DECODE_ANY, &je);
	if (!j)
		fail_msg("not JSON: %s (%s)", buf_str(&b), je.text);
	assert_true(json_is_string(j));
	char *out = strdup(json_string_value(j));
	json_decref(j);
	buf_free(&b);
	return out;
}

static void escapes_round_trip(void **state)
{
	static const char *const cases[] = {
		"", "plain", "say \"hi\"", "back\\slash", "line\nbreak\r\n",
		"tab\there", "\b\f\x01\x1f\x7f", "台风黄色预警：请注意防风。",
		"\"\"\"\"\"\"\"\"\"", "1234567\"", "12345678\\", "ends with a control\x02",
		"</script>", "\xe2\x80\xa8 line separator",
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *back = round_trip(cases[i]);
		assert_string_equal(back, cases[i]);
		free(back);
	}
}

static void random_bytes_round_trip(void **state)
{
	static const char alphabet[] = "ab \"\\\n\t\x01\x1f/{}";
	static const char *const cjk[] = { "台", "风", "预", "警" };
	(void)state;
	srand(7);
	for (int n = 0; n < 2000; n++) {
		struct buf s = BUF_INIT;
		int len = rand() % 40;
		for (int k = 0; k < len; k++) {
			if (rand() % 4 == 0)
				assert_int_equal(buf_append_str(&s, cjk[rand() % 4]), 0);
			else
				assert_int_equal(buf_append_char(
					&s, alphabet[rand() % (sizeof alphabet - 1)]), 0);
		}
		char *back = round_trip(buf_str(&s));
		assert_string_equal(back, buf_str(&s));
		free(back);
		buf_free(&s);
	}
}

static void invalid_utf8_is_replaced(void **state)
{
	(void)state;
	char *back = round_trip("ok\xff\xfe then \xe5\x8f");
	assert_string_equal(back, "ok\xEF\xBF\xBD\xEF\xBF\xBD then "
				  "\xEF\xBF\xBD\xEF\xBF\xBD");
	free(back);
	struct buf b = BUF_INIT;
	assert_int_equal(ju_append_string(&b, NULL), 0);
	assert_string_equal(buf_str(&b), "null");
	buf_free(&b);
}

static void utf8_validation(void **state)
{
	(void)state;
	assert_true(util_utf8_valid("台风 typhoon", strlen("台风 typhoon")));
	assert_true(util_utf8_valid("\xf0\x9f\x8c\x80", 4));      /* U+1F300 */
	assert_true(util_utf8_valid("\xed\x9f\xbf", 3));          /* U+D7FF */
	assert_false(util_utf8_valid("\xed\xa0\x80", 3));         /* surrogate */
	assert_false(util_utf8_valid("\xe0\x80\x80", 3));         /* overlong */
	assert_false(util_utf8_valid("\xc0\xaf", 2));             /* overlong / */
	assert_false(util_utf8_valid("\xe5\x8f", 2));             /* cut short */
	assert_false(util_utf8_valid("\xe5\x8f\x41", 3));         /* bad continuation */
	assert_false(util_utf8_valid("\xf4\x90\x80\x80", 4));     /* past U+10FFFF */
	assert_false(util_utf8_valid("\x80", 1));
	assert_true(util_utf8_valid("\xe1\x80\x80\xec\xbf\xbf", 6)); /* the fast path's ends */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escapes_round_trip),
		cmocka_unit_test(random_bytes_round_trip),
		cmocka_unit_test(invalid_utf8_is_replaced),
		cmocka_unit_test(utf8_validation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
