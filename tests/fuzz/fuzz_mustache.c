/* libFuzzer target: the mustache compiler and renderer (mustache.c), and
 * the walk the template check does (context_check_names).
 *
 * Input: a template; optionally followed by a NUL byte and a JSON object
 * {"data": context, "partials": {"name": "source", ...}} (the shape of a
 * spec test, which is how the seeds from ../shared/spec/mustache are
 * written). Without it, or when it does not parse, the whole input is the
 * template and renders against a notice context (the fixture a village
 * sees) plus a few values of every JSON type, with one partial, "self",
 * that is the template itself: recursion has to stop at the depth limit. */
#include "fuzz.h"

#include "buf.h"
#include "context.h"
#include "mustache.h"

static json_t *default_ctx;

struct partials {
	const json_t *map;    /* name -> source, or NULL */
	const char *self;     /* the template, for "self" */
	size_t self_len;
};

static const char *lookup_partial(void *ud, const char *name, size_t len,
				  size_t *len_out)
{
	const struct partials *p = ud;
	if (len == 4 && memcmp(name, "self", 4) == 0) {
		*len_out = p->self_len;
		return p->self;
	}
	json_t *v = p->map ? json_object_getn(p->map, name, len) : NULL;
	if (!json_is_string(v))
		return NULL;
	*len_out = json_string_length(v);
	return json_string_value(v);
}

static int count_tag(void *ud, enum mustache_tag_kind kind, const char *name,
		     size_t name_len, int line, int column)
{
	size_t *n = ud;
	(void)kind;
	/* the walk hands out slices of the source: touch every byte so
	 * ASan sees a slice that runs past it */
	for (size_t i = 0; i < name_len; i++)
		*n += (unsigned char)name[i];
	if (line < 1 || column < 1)
		abort(); /* positions are 1-based */
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[1100];
	json_error_t je;
	(void)argc, (void)argv;
	fuzz_quiet();
	snprintf(path, sizeof path, "%s/tests/fixtures/context-village.json",
		 fuzz_top());
	default_ctx = json_load_file(path, 0, &je);
	if (!default_ctx) {
		fprintf(stderr, "fuzz setup: %s: %s\n", path, je.text);
		exit(1);
	}
	/* every kind of value a section or a variable can meet */
	json_t *extra = json_pack(
		"{s:[i, s, {s:s}, [i, i], n, b], s:{s:{s:s}}, s:b, s:b, s:n,"
		" s:s, s:f, s:I, s:s, s:[]}",
		"list", 1, "<two>", "a", "x&y", 3, 4, 0,
		"nested", "a", "b", "\"quoted\" 'single' <b>",
		"t", 1, "f", 0, "nothing",
		"empty", "", "num", 1.21, "big", (json_int_t)INT64_MIN,
		"ls", "line\xE2\x80\xA8sep\\\x01", "none");
	if (!extra || json_object_update(default_ctx, extra) < 0)
		abort();
	json_decref(extra);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* split off the JSON part at the last NUL, if there is one that
	 * parses; otherwise a NUL is just a byte of the template */
	size_t tlen = size;
	json_t *spec = NULL;
	const uint8_t *nul = NULL;
	for (size_t i = size; i-- > 0 && !nul;)
		if (data[i] == 0)
			nul = data + i;
	if (nul) {
		size_t off = (size_t)(nul - data) + 1;
		spec = json_loadb((const char *)data + off, size - off, 0, NULL);
		if (json_is_object(spec))
			tlen = (size_t)(nul - data);
		else {
			json_decref(spec);
			spec = NULL;
		}
	}
	const json_t *ctx = spec ? json_object_get(spec, "data") : default_ctx;
	struct partials p = {
		.map = spec ? json_object_get(spec, "partials") : NULL,
		.self = (const char *)data,
		.self_len = tlen,
	};
	struct mustache_partials mp = { lookup_partial, &p };

	/* the compiler gets exactly the template's bytes: no terminator
	 * to lean on */
	struct mustache_template *t = NULL;
	struct mustache_error err;
	if (mustache_compile((const char *)data, tlen, &t, &err) < 0) {
		if (t)
			abort(); /* a failed compile hands nothing out */
		json_decref(spec);
		return 0;
	}
	size_t sum = 0;
	mustache_walk(t, count_tag, &sum);
	json_t *warnings = json_array();
	context_check_names(t, warnings, "body");
	json_decref(warnings);

	/* one escaper per input, picked by its length, so each sees as
	 * many inputs as the others without tripling the cost */
	static const enum mustache_escape esc[] = { MUSTACHE_ESCAPE_HTML,
						    MUSTACHE_ESCAPE_NONE,
						    MUSTACHE_ESCAPE_JSON };
	struct buf out = BUF_INIT;
	if (buf_append_str(&out, "kept") < 0)
		abort();
	int rc = mustache_render(t, ctx, esc[size % 3], &mp, &out, &err);
	/* a failed render leaves what was there before, and only that */
	if (rc < 0 && (out.len != 4 || memcmp(buf_str(&out), "kept", 4) != 0))
		abort();
	buf_free(&out);
	mustache_free(t);
	json_decref(spec);
	return 0;
}
