/* test_mustache: the official mustache spec (six files from
 * $SCICAST_SHARED/spec/mustache, one cmocka test each, a one-line summary
 * at the end) and the behaviour scicast adds or relies on: error
 * positions, escapers, data never evaluated, reuse of a compiled
 * template, walks, and robustness against hostile sources. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "buf.h"
#include "mustache.h"

/* ---- the spec runner ---- */

static char spec_dir[4096];
static int spec_found;
static int spec_passed, spec_total;

static const char *spec_partial(void *ud, const char *name, size_t name_len,
				size_t *len_out)
{
	const json_t *v = json_object_getn(ud, name, name_len);
	if (!json_is_string(v))
		return NULL;
	*len_out = json_string_length(v);
	return json_string_value(v);
}

static void print_quoted(const char *label, const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	char *d = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	printf("    %s: %s\n", label, d ? d : "(unprintable)");
	free(d);
	json_decref(j);
}

static int spec_setup(void **state)
{
	(void)state;
	const char *base = getenv("SCICAST_SHARED");
	if (!base || !*base)
		base = "../shared";
	snprintf(spec_dir, sizeof(spec_dir), "%s/spec/mustache", base);
	char probe[4200];
	snprintf(probe, sizeof(probe), "%s/sections.json", spec_dir);
	FILE *f = fopen(probe, "r");
	spec_found = f != NULL;
	if (f)
		fclose(f);
	else
		printf("mustache spec: %s not found (set SCICAST_SHARED)\n",
		       spec_dir);
	return 0;
}

static int spec_teardown(void **state)
{
	(void)state;
	if (spec_found)
		printf("mustache spec: %d/%d passed\n", spec_passed,
		       spec_total);
	fflush(stdout);
	return 0;
}

/* Runs every test of one spec file; returns the number of failures. */
static int run_spec_file(const char *file)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", spec_dir, file);
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	if (!root) {
		printf("%s: cannot load: %s\n", path, jerr.text);
		return 1;
	}
	int failures = 0;
	json_t *tests = json_object_get(root, "tests");
	size_t i;
	json_t *tc;
	json_array_foreach(tests, i, tc) {
		const char *name =
			json_string_value(json_object_get(tc, "name"));
		json_t *tmpl = json_object_get(tc, "template");
		json_t *want = json_object_get(tc, "expected");
		json_t *data = json_object_get(tc, "data");
		json_t *parts = json_object_get(tc, "partials");
		struct mustache_partials p = { spec_partial, parts };
		struct mustache_template *t = NULL;
		struct mustache_error err;
		struct buf out = BUF_INIT;
		const char *why = NULL;

		spec_total++;
		if (mustache_compile(json_string_value(tmpl),
				     json_string_length(tmpl), &t, &err) < 0)
			why = "compile failed";
		else if (mustache_render(t, data, MUSTACHE_ESCAPE_HTML,
					 parts ? &p : NULL, &out, &err) < 0)
			why = "render failed";
		else if (out.len != json_string_length(want) ||
			 memcmp(buf_str(&out), json_string_value(want),
				out.len) != 0)
			why = "output differs";

		if (why) {
			failures++;
			printf("FAIL %s: %s: %s\n", file, name ? name : "?",
			       why);
			if (strcmp(why, "output differs") != 0)
				printf("    error: %d:%d: %s\n", err.line,
				       err.column, err.message);
			print_quoted("template", json_string_value(tmpl),
				     json_string_length(tmpl));
			print_quoted("expected", json_string_value(want),
				     json_string_length(want));
			print_quoted("got", buf_str(&out), out.len);
		} else {
			spec_passed++;
		}
		buf_free(&out);
		mustache_free(t);
	}
	json_decref(root);
	return failures;
}

static void spec_file(const char *file)
{
	if (!spec_found)
		skip();
	assert_int_equal(run_spec_file(file), 0);
}

static void test_spec_comments(void **state)
{
	(void)state;
	spec_file("comments.json");
}

static void test_spec_delimiters(void **state)
{
	(void)state;
	spec_file("delimiters.json");
}

static void test_spec_interpolation(void **state)
{
	(void)state;
	spec_file("interpolation.json");
}

static void test_spec_inverted(void **state)
{
	(void)state;
	spec_file("inverted.json");
}

static void test_spec_partials(void **state)
{
	(void)state;
	spec_file("partials.json");
}

static void test_spec_sections(void **state)
{
	(void)state;
	spec_file("sections.json");
}

/* ---- helpers ---- */

/* Compiles and renders; returns the malloc'd output (length in *len_out)
 * or NULL with err filled. */
static char *render_n(const char *src, size_t n, const char *ctx_json,
		      enum mustache_escape esc,
		      const struct mustache_partials *parts, size_t *len_out,
		      struct mustache_error *err)
{
	struct mustache_template *t = NULL;
	struct buf out = BUF_INIT;
	json_t *ctx = NULL;
	char *res = NULL;

	if (ctx_json) {
		json_error_t jerr;
		ctx = json_loads(ctx_json, JSON_DECODE_ANY, &jerr);
		assert_non_null(ctx);
	}
	if (mustache_compile(src, n, &t, err) < 0)
		goto done;
	if (mustache_render(t, ctx, esc, parts, &out, err) < 0)
		goto done;
	if (len_out)
		*len_out = out.len;
	res = buf_steal(&out);
done:
	buf_free(&out);
	mustache_free(t);
	json_decref(ctx);
	return res;
}

static void assert_render(const char *src, const char *ctx_json,
			  enum mustache_escape esc, const char *want)
{
	struct mustache_error err;
	char *got = render_n(src, strlen(src), ctx_json, esc, NULL, NULL, &err);
	if (!got)
		fail_msg("%s: %d:%d: %s", src, err.line, err.column,
			 err.message);
	assert_string_equal(got, want);
	free(got);
}

static void assert_compile_error(const char *src, int line, int column,
				 const char *msg_part)
{
	struct mustache_template *t = NULL;
	struct mustache_error err;
	memset(&err, 0, sizeof(err));
	assert_int_equal(mustache_compile(src, strlen(src), &t, &err), -1);
	assert_null(t);
	if (!strstr(err.message, msg_part))
		fail_msg("message \"%s\" lacks \"%s\"", err.message, msg_part);
	assert_int_equal(err.line, line);
	assert_int_equal(err.column, column);
}

/* ---- compile errors ---- */

static void test_error_unclosed_section(void **state)
{
	(void)state;
	assert_compile_error("{{#a}}x", 1, 1, "unclosed section \"a\"");
	assert_compile_error("ab\n  {{^list}}\n{{#b}}{{/b}}", 2, 3,
			     "unclosed section \"list\"");
}

static void test_error_line_three(void **state)
{
	(void)state;
	assert_compile_error("hello {{name}}\n{{#a}}world{{/a}}\nsay {{/b}}\n",
			     3, 5, "closing tag \"b\"");
	assert_compile_error("one\ntwo\n\tx {{}}", 3, 4, "empty tag name");
}

static void test_error_mismatched_close(void **state)
{
	(void)state;
	assert_compile_error("{{#a}}\n  {{/b}}", 2, 3,
			     "closing tag \"b\" does not match open section "
			     "\"a\"");
	assert_compile_error("{{#a}}{{/a}}{{/a}}", 1, 13, "unexpected closing");
}

static void test_error_unclosed_tag(void **state)
{
	(void)state;
	assert_compile_error("abc {{ def", 1, 5, "unclosed tag");
	assert_compile_error("x\n{{{a}}", 2, 1, "unclosed tag");
	assert_compile_error("{{=<% %>=}}\n<%a", 2, 1, "unclosed tag");
	assert_compile_error("x{{", 1, 2, "unclosed tag");
}

static void test_error_bad_delimiters(void **state)
{
	(void)state;
	assert_compile_error("a\n {{=<%=}}", 2, 2, "set-delimiter");
	assert_compile_error("{{= a b c =}}", 1, 1, "set-delimiter");
	assert_compile_error("{{=a= b=}}", 1, 1, "set-delimiter");
}

static void test_error_partial(void **state)
{
	(void)state;
	/* A partial that includes itself without end is an error, not a
	 * crash, and a failed render leaves the output as it was. */
	json_t *parts = json_pack("{s:s, s:s}", "loop", "x{{>loop}}",
				  "bad", "ok\n{{#a}}");
	struct mustache_partials p = { spec_partial, parts };
	struct mustache_template *t = NULL;
	struct mustache_error err;
	struct buf out = BUF_INIT;
	assert_int_equal(buf_append_str(&out, "keep"), 0);

	assert_int_equal(mustache_compile("{{>loop}}", 9, &t, &err), 0);
	assert_int_equal(mustache_render(t, NULL, MUSTACHE_ESCAPE_HTML, &p,
					 &out, &err), -1);
	assert_non_null(strstr(err.message, "deeper"));
	assert_string_equal(buf_str(&out), "keep");
	mustache_free(t);

	assert_int_equal(mustache_compile("{{>bad}}", 8, &t, &err), 0);
	assert_int_equal(mustache_render(t, NULL, MUSTACHE_ESCAPE_HTML, &p,
					 &out, &err), -1);
	assert_non_null(strstr(err.message, "partial \"bad\""));
	assert_non_null(strstr(err.message, "unclosed section \"a\""));
	assert_int_equal(err.line, 2);
	assert_int_equal(err.column, 1);
	assert_string_equal(buf_str(&out), "keep");
	mustache_free(t);

	buf_free(&out);
	json_decref(parts);
}

/* ---- rendering ---- */

static void test_escape_json(void **state)
{
	(void)state;
	assert_render("{{s}}",
		      "{\"s\": \"say \\\"hi\\\" \\\\ a\\nb\\u0001\\t "
		      "\\u2028 台风黄色预警\"}",
		      MUSTACHE_ESCAPE_JSON,
		      "say \\\"hi\\\" \\\\ a\\nb\\u0001\\t \\u2028 台风黄色预警");
	/* Raw tags are never escaped, whatever the escaper. */
	assert_render("{{{s}}}{{&s}}", "{\"s\": \"\\\"\\n\"}",
		      MUSTACHE_ESCAPE_JSON, "\"\n\"\n");
}

static void test_escape_none_and_html(void **state)
{
	(void)state;
	assert_render("{{s}}", "{\"s\": \"<&>\\\"'\"}", MUSTACHE_ESCAPE_NONE,
		      "<&>\"'");
	assert_render("{{s}}", "{\"s\": \"<&>\\\"'\"}", MUSTACHE_ESCAPE_HTML,
		      "&lt;&amp;&gt;&quot;&#39;");
}

static void test_data_not_evaluated(void **state)
{
	(void)state;
	assert_render("{{headline}}|{{{headline}}}",
		      "{\"headline\": \"{{region.name}} {{#x}}\","
		      " \"region\": {\"name\": \"NO\"}}",
		      MUSTACHE_ESCAPE_NONE,
		      "{{region.name}} {{#x}}|{{region.name}} {{#x}}");
}

static void test_values(void **state)
{
	(void)state;
	assert_render("{{a}} {{b}} {{c}} {{d}} {{e}} {{f}} [{{g}}{{h}}{{i}}]",
		      "{\"a\": 1.21, \"b\": 0.1, \"c\": -42, \"d\": 1e100,"
		      " \"e\": true, \"f\": false, \"g\": null, \"h\": [1],"
		      " \"i\": {\"x\": 1}}",
		      MUSTACHE_ESCAPE_NONE,
		      "1.21 0.1 -42 1e+100 true false []");
	assert_render("{{n}}", "{\"n\": 9007199254740993}",
		      MUSTACHE_ESCAPE_NONE, "9007199254740993");
	/* "" is false in a section (project decision), 0 is true. */
	assert_render("{{#s}}yes{{/s}}{{^s}}no{{/s}} {{#z}}zero{{/z}}",
		      "{\"s\": \"\", \"z\": 0}", MUSTACHE_ESCAPE_NONE,
		      "no zero");
}

static void test_render_twice(void **state)
{
	(void)state;
	const char *src = "{{#emergency.exercise}}[DRILL] "
			  "{{/emergency.exercise}}{{emergency.hazard.name}}"
			  "{{#ancestors}} {{name}}{{/ancestors}}";
	struct mustache_template *t = NULL;
	struct mustache_error err;
	assert_int_equal(mustache_compile(src, strlen(src), &t, &err), 0);

	json_t *c1 = json_loads("{\"emergency\": {\"exercise\": true,"
				" \"hazard\": {\"name\": \"Typhoon\"}},"
				" \"ancestors\": [{\"name\": \"A\"},"
				" {\"name\": \"B\"}]}", 0, NULL);
	json_t *c2 = json_loads("{\"emergency\": {\"exercise\": false,"
				" \"hazard\": {\"name\": \"台风\"}}}", 0, NULL);
	assert_non_null(c1);
	assert_non_null(c2);

	struct buf out = BUF_INIT;
	assert_int_equal(mustache_render(t, c1, MUSTACHE_ESCAPE_NONE, NULL,
					 &out, &err), 0);
	assert_string_equal(buf_str(&out), "[DRILL] Typhoon A B");
	buf_reset(&out);
	assert_int_equal(mustache_render(t, c2, MUSTACHE_ESCAPE_NONE, NULL,
					 &out, &err), 0);
	assert_string_equal(buf_str(&out), "台风");

	buf_free(&out);
	json_decref(c1);
	json_decref(c2);
	mustache_free(t);
}

static void test_partial_indentation(void **state)
{
	(void)state;
	/* Nested standalone partials add up their indentation; blank lines
	 * of the partial are indented as the spec's "indent the partial's
	 * source" reading implies; data is never indented. */
	json_t *parts = json_pack("{s:s, s:s}",
				  "outer", "o1\n  {{>inner}}\no2\n",
				  "inner", "i1\n\n{{v}}\n");
	struct mustache_partials p = { spec_partial, parts };
	size_t n = 0;
	struct mustache_error err;
	const char *src = "<\n  {{>outer}}\n>";
	char *got = render_n(src, strlen(src), "{\"v\": \"a\\nb\"}",
			     MUSTACHE_ESCAPE_NONE, &p, &n, &err);
	assert_non_null(got);
	assert_string_equal(got, "<\n  o1\n    i1\n    \n    a\nb\n  o2\n>");
	free(got);
	json_decref(parts);
}

struct walk_seen {
	char text[512];
	size_t len;
};

static int walk_record(void *ud, enum mustache_tag_kind kind,
		       const char *name, size_t name_len, int line, int column)
{
	static const char kinds[] = "VSICP";
	struct walk_seen *w = ud;
	int n = snprintf(w->text + w->len, sizeof(w->text) - w->len,
			 "%c:%.*s@%d:%d ", kinds[kind], (int)name_len, name,
			 line, column);
	if (n > 0)
		w->len += (size_t)n;
	return 0;
}

static int walk_stop(void *ud, enum mustache_tag_kind kind, const char *name,
		     size_t name_len, int line, int column)
{
	(void)kind;
	(void)name;
	(void)name_len;
	(void)column;
	int *calls = ud;
	(*calls)++;
	return line == 2 ? 7 : 0;
}

static void test_walk(void **state)
{
	(void)state;
	const char *src = "Hi {{ region.name }}{{! note }}\n"
			  "{{#notices}}\n"
			  "  {{{title}}} {{^url}}-{{/url}}\n"
			  "{{/notices}}{{=<% %>=}}<%> footer %><%& x%>";
	struct mustache_template *t = NULL;
	struct mustache_error err;
	assert_int_equal(mustache_compile(src, strlen(src), &t, &err), 0);
	struct walk_seen w = { "", 0 };
	assert_int_equal(mustache_walk(t, walk_record, &w), 0);
	assert_string_equal(w.text,
			    "V:region.name@1:4 S:notices@2:1 V:title@3:3 "
			    "I:url@3:15 C:url@3:24 C:notices@4:1 "
			    "P:footer@4:24 V:x@4:37 ");
	int calls = 0;
	assert_int_equal(mustache_walk(t, walk_stop, &calls), 7);
	assert_int_equal(calls, 2);
	mustache_free(t);
}

/* ---- robustness ---- */

static void nested(const char *open, const char *close, size_t depth,
		   const char *ctx_json)
{
	struct buf src = BUF_INIT;
	for (size_t i = 0; i < depth; i++)
		assert_int_equal(buf_append_str(&src, open), 0);
	assert_int_equal(buf_append_str(&src, "x"), 0);
	for (size_t i = 0; i < depth; i++)
		assert_int_equal(buf_append_str(&src, close), 0);
	struct mustache_error err;
	size_t n = 0;
	char *got = render_n(src.data, src.len, ctx_json, MUSTACHE_ESCAPE_HTML,
			     NULL, &n, &err);
	/* Success or a clean error are both fine; a crash or leak is not. */
	free(got);
	buf_free(&src);
}

static void test_deep_nesting(void **state)
{
	(void)state;
	nested("{{#a}}", "{{/a}}", 10000, "{\"a\": true}");
	nested("{{#a}}", "{{/a}}", 10000, "{\"a\": [{\"a\": [1]}]}");
	nested("{{^a}}", "{{/a}}", 10000, "{}");
	nested("{{#a}}", "", 10000, "{\"a\": true}");

	struct buf src = BUF_INIT;
	for (size_t i = 0; i < 10000; i++)
		assert_int_equal(buf_append_str(&src, "{{#a}}"), 0);
	assert_int_equal(buf_append_str(&src, "{{.}}"), 0);
	for (size_t i = 0; i < 10000; i++)
		assert_int_equal(buf_append_str(&src, "{{/a}}"), 0);
	struct mustache_error err;
	size_t n = 0;
	char *got = render_n(src.data, src.len, "{\"a\": \"v\"}",
			     MUSTACHE_ESCAPE_HTML, NULL, &n, &err);
	assert_non_null(got);
	assert_string_equal(got, "v");
	free(got);
	buf_free(&src);
}

static void test_nul_bytes(void **state)
{
	(void)state;
	static const char src[] = "a\0b{{x}}c{{\0}}d{{#\0}}e{{/\0}}";
	struct mustache_error err;
	size_t n = 0;
	char *got = render_n(src, 8 + 1, "{\"x\": \"X\"}", MUSTACHE_ESCAPE_HTML,
			     NULL, &n, &err);
	assert_non_null(got);
	assert_int_equal(n, 5);
	assert_memory_equal(got, "a\0bXc", 5);
	free(got);

	/* The whole source, NUL-named tags and all; and a source cut in the
	 * middle of a tag, read with no NUL after it. */
	got = render_n(src, sizeof(src) - 1, "{\"x\": \"X\"}",
		       MUSTACHE_ESCAPE_JSON, NULL, &n, &err);
	free(got);
	for (size_t cut = 0; cut < sizeof(src) - 1; cut++) {
		char *copy = malloc(cut ? cut : 1);
		assert_non_null(copy);
		memcpy(copy, src, cut);
		got = render_n(copy, cut, "{\"x\": \"X\"}",
			       MUSTACHE_ESCAPE_JSON, NULL, &n, &err);
		free(got);
		free(copy);
	}
}

/* Nested list sections multiply; a render past the budget is refused
 * with the position of the tag where it stopped, never a hang. */
static void test_render_budget(void **state)
{
	(void)state;
	struct buf src = BUF_INIT;
	for (int i = 0; i < 40; i++)
		assert_int_equal(buf_append_str(&src, "{{#l}}"), 0);
	assert_int_equal(buf_append_str(&src, "x"), 0);
	for (int i = 0; i < 40; i++)
		assert_int_equal(buf_append_str(&src, "{{/l}}"), 0);
	struct mustache_template *t = NULL;
	struct mustache_error err;
	assert_int_equal(mustache_compile(src.data, src.len, &t, &err), 0);
	json_t *ctx = json_loads("{\"l\": [1, 2]}", 0, NULL);
	struct buf out = BUF_INIT;
	assert_int_equal(mustache_render(t, ctx, MUSTACHE_ESCAPE_NONE, NULL,
					 &out, &err), -1);
	assert_non_null(strstr(err.message, "too costly"));
	assert_true(err.line == 1 && err.column > 0);
	assert_int_equal(out.len, 0);
	json_decref(ctx);
	mustache_free(t);
	buf_free(&out);
	buf_free(&src);
}

/* Random sources made of template pieces: a cheap stand-in for the fuzzer
 * that runs under the sanitizers with every build. Sources stay short and
 * lists small because nested sections over a list multiply (that is
 * mustache, not a bug). */
static void test_random_sources(void **state)
{
	(void)state;
	static const char *pieces[] = {
		"{{", "}}", "{{{", "}}}", "{{#a}}", "{{/a}}", "{{^b}}",
		"{{/b}}", "{{>p}}", "{{>q}}", "{{=<% %>=}}", "<%", "%>",
		"{{!c}}", "{{.}}", "{{a.b}}", "\n", "\r\n", "  ", "x", "\0",
		"{{&a}}", "=", "}", "{", "{{=| |=}}", "|", "{{#.}}", "{{/.}}",
		"\xe2\x80\xa8", "{{ a }}", "{{#l}}", "{{/l}}",
	};
	json_t *parts = json_pack("{s:s, s:s}", "p", "P{{a}}\n {{>q}}\n",
				  "q", "Q{{#l}}{{>p}}{{/l}}");
	json_t *ctx = json_loads("{\"a\": {\"b\": \"<&>\"}, \"b\": false,"
				 " \"l\": [{\"a\": 3, \"l\": []}, \"two\"]}",
				 0, NULL);
	assert_non_null(parts);
	assert_non_null(ctx);
	struct mustache_partials p = { spec_partial, parts };
	unsigned long long seed = 0x9e3779b97f4a7c15ULL;
	size_t npieces = sizeof(pieces) / sizeof(pieces[0]);

	for (int iter = 0; iter < 3000; iter++) {
		struct buf src = BUF_INIT;
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		int count = (int)(seed >> 60) + 1;
		for (int i = 0; i < count; i++) {
			seed = seed * 6364136223846793005ULL +
			       1442695040888963407ULL;
			size_t k = (size_t)(seed >> 33) % npieces;
			size_t len = k == 20 ? 1 : strlen(pieces[k]);
			assert_int_equal(buf_append(&src, pieces[k], len), 0);
		}
		struct mustache_template *t = NULL;
		struct mustache_error err;
		struct buf out = BUF_INIT;
		/* A copy of exactly len bytes, so a read past the end shows. */
		char *copy = malloc(src.len ? src.len : 1);
		assert_non_null(copy);
		if (src.len)
			memcpy(copy, src.data, src.len);
		if (mustache_compile(copy, src.len, &t, &err) == 0) {
			for (int e = 0; e < 3; e++)
				(void)mustache_render(t, ctx,
						      (enum mustache_escape)e,
						      &p, &out, &err);
			mustache_free(t);
		}
		free(copy);
		buf_free(&out);
		buf_free(&src);
	}
	json_decref(parts);
	json_decref(ctx);
}

int main(void)
{
	const struct CMUnitTest spec[] = {
		cmocka_unit_test(test_spec_comments),
		cmocka_unit_test(test_spec_delimiters),
		cmocka_unit_test(test_spec_interpolation),
		cmocka_unit_test(test_spec_inverted),
		cmocka_unit_test(test_spec_partials),
		cmocka_unit_test(test_spec_sections),
	};
	const struct CMUnitTest unit[] = {
		cmocka_unit_test(test_error_unclosed_section),
		cmocka_unit_test(test_error_line_three),
		cmocka_unit_test(test_error_mismatched_close),
		cmocka_unit_test(test_error_unclosed_tag),
		cmocka_unit_test(test_error_bad_delimiters),
		cmocka_unit_test(test_error_partial),
		cmocka_unit_test(test_escape_json),
		cmocka_unit_test(test_escape_none_and_html),
		cmocka_unit_test(test_data_not_evaluated),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_render_twice),
		cmocka_unit_test(test_partial_indentation),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_random_sources),
		cmocka_unit_test(test_render_budget),
	};
	int failed = cmocka_run_group_tests_name("mustache spec", spec,
						 spec_setup, spec_teardown);
	failed += cmocka_run_group_tests_name("mustache", unit, NULL, NULL);
	return failed ? 1 : 0;
}
