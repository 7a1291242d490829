/* The default templates as shipped: every core hazard and the fallback,
 * three tiers, two locales; each parses, compiles, uses only documented
 * names, and renders every kind of message within the screen limits.
 * Also the template file format itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "catalog.h"
#include "config.h"
#include "preview.h"
#include "templates.h"
#include "util.h"

static const char *top;
static struct config cfg;
static struct store *db;
static char dbpath[64];

static bool has_any(const char *s, const char *const *bad)
{
	for (; *bad; bad++)
		if (strstr(s, *bad))
			return true;
	return false;
}

/* Renders one file with every message kind, as a drill and not. */
static int check_file(const char *hazard_dir, const char *hazard, int tier,
		      const char *locale)
{
	static const char *const kinds[] = { "alert", "update", "cancel",
					     "expired", "allclear" };
	static const char *const tts_bad[] = { "【", "】", "[", "]", "(", ")",
					       "（", "）", "/", "Ⅰ", "Ⅱ", "Ⅲ",
					       "Ⅳ", "{{", NULL };
	char path[1200];
	snprintf(path, sizeof path, "%s/templates/%s/%s.%s.txt", top,
		 hazard_dir, config_level_name(tier), locale);
	char *data = NULL;
	size_t len = 0;
	if (util_read_file(path, &data, &len) < 0) {
		print_error("missing: %s\n", path);
		return 1;
	}
	struct template_text t = { 0 };
	struct err e;
	struct mustache_template *c[TEMPLATE_PARTS];
	int failures = 0;
	if (templates_parse_file(data, len, &t, &e) < 0 ||
	    templates_compile(&t, c, &e) < 0) {
		print_error("%s: %s\n", path, e.message);
		free(data);
		template_text_free(&t);
		return 1;
	}
	json_t *warnings = json_array();
	for (int i = 0; i < TEMPLATE_PARTS; i++)
		context_check_names(c[i], warnings, template_part_names[i]);
	if (json_array_size(warnings)) {
		char *w = json_dumps(warnings, 0);
		print_error("%s: %s\n", path, w);
		free(w);
		failures++;
	}
	json_decref(warnings);
	bool zh = context_locale_is_zh(locale);
	for (size_t k = 0; k < 5; k++)
		for (int drill = 0; drill < 2; drill++) {
			struct preview_emergency pe = {
				.hazard = hazard, .severity = SEV_ORANGE,
				.msg_type = kinds[k], .exercise = drill,
			};
			json_t *ctx = NULL;
			char *out[TEMPLATE_PARTS];
			if (preview_context(db, &cfg, NULL, tier, locale, &pe,
					    &ctx, &e) < 0 ||
			    templates_render(c, ctx, out, &e) < 0) {
				print_error("%s %s: %s\n", path, kinds[k],
					    e.message);
				json_decref(ctx);
				failures++;
				continue;
			}
			size_t body = util_screen_width2(out[PART_BODY],
							 strlen(out[PART_BODY])) / 2;
			const char *why = NULL;
			if (!*out[PART_TITLE] || !*out[PART_BODY] ||
			    !*out[PART_TTS])
				why = "a part renders empty";
			else if (strchr(out[PART_TITLE], '\n'))
				why = "the title is more than one line";
			else if (has_any(out[PART_TTS], tts_bad))
				why = "the tts has symbols a speaker cannot read";
			else if (body > (size_t)config_body_limit(&cfg, tier))
				why = "the body is over the tier's limit";
			else if (drill && !strstr(out[PART_TITLE],
						  zh ? "演练" : "DRILL"))
				why = "a drill's title does not say so";
			else if (drill && !strstr(out[PART_TTS],
						  zh ? "演练" : "drill"))
				why = "a drill's tts does not say so";
			else if (zh && strcmp(kinds[k], "allclear") == 0 &&
				 !strstr(out[PART_TITLE], "解除"))
				why = "an all-clear title does not say 解除";
			if (why) {
				print_error("%s %s%s: %s\n  title: %s\n  body: %s\n"
					    "  tts: %s\n", path, kinds[k],
					    drill ? " drill" : "", why,
					    out[PART_TITLE], out[PART_BODY],
					    out[PART_TTS]);
				failures++;
			}
			for (int i = 0; i < TEMPLATE_PARTS; i++)
				free(out[i]);
			json_decref(ctx);
		}
	templates_compiled_free(c);
	template_text_free(&t);
	free(data);
	return failures;
}

static void defaults_cover_every_hazard_tier_and_locale(void **state)
{
	static const char *const locales[] = { "zh-CN", "en" };
	static const int tiers[] = { LEVEL_CITY, LEVEL_TOWN, LEVEL_VILLAGE };
	int files = 0, failures = 0;
	(void)state;
	for (size_t h = 0; h <= catalog_hazard_count(); h++) {
		const struct hazard *hz = h < catalog_hazard_count()
						  ? catalog_hazard_at(h)
						  : NULL;
		if (hz && !hz->core)
			continue;
		for (int ti = 0; ti < 3; ti++)
			for (int l = 0; l < 2; l++) {
				failures += check_file(hz ? hz->code : "_default",
						       hz ? hz->code : NULL,
						       tiers[ti], locales[l]);
				files++;
			}
	}
	printf("templates: %d default files checked (core hazards and the "
	       "fallback x 3 tiers x 2 locales), %d problems\n", files,
	       failures);
	assert_int_equal(failures, 0);
}

static void file_format(void **state)
{
	struct template_text t = { 0 };
	struct err e;
	(void)state;
	static const char good[] =
		"# a comment\n\n[title]\n标题\n[body]\n\n第一行\n\n第三行\n\n"
		"[tts]\r\n读出来\r\n";
	assert_int_equal(templates_parse_file(good, strlen(good), &t, &e), 0);
	assert_string_equal(t.part[PART_TITLE], "标题");
	assert_string_equal(t.part[PART_BODY], "第一行\n\n第三行");
	assert_string_equal(t.part[PART_TTS], "读出来");
	template_text_free(&t);

	static const char missing[] = "[title]\nx\n[body]\ny\n";
	assert_int_equal(templates_parse_file(missing, strlen(missing), &t, &e), -1);
	assert_string_equal(e.message, "the [tts] part is missing");
	static const char twice[] = "[title]\nx\n[body]\ny\n[title]\nz\n";
	assert_int_equal(templates_parse_file(twice, strlen(twice), &t, &e), -1);
	assert_string_equal(e.message, "line 5: a second [title] part");
	static const char stray[] = "hello\n[title]\nx\n";
	assert_int_equal(templates_parse_file(stray, strlen(stray), &t, &e), -1);
	assert_string_equal(e.message, "line 1: text before the first [title], "
				       "[body] or [tts] line");
}

int main(void)
{
	struct err e;
	char dir[1100];
	top = getenv("TEST_TOP");
	if (!top)
		top = ".";
	snprintf(dir, sizeof dir, "%s/data", top);
	snprintf(dbpath, sizeof dbpath, "/tmp/scicast-test-tpl.%d.db",
		 (int)getpid());
	unlink(dbpath);
	if (catalog_load(dir, &e) < 0 || config_load(&cfg, NULL, &e) < 0 ||
	    store_open(dbpath, 1000, &db, &e) < 0 || store_migrate(db, &e) < 0) {
		fprintf(stderr, "setup: %s\n", e.message);
		return 1;
	}
	util_set_local_offset(cfg.tz_offset_min);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_cover_every_hazard_tier_and_locale),
		cmocka_unit_test(file_format),
	};
	int rc = cmocka_run_group_tests_name("templates", tests, NULL, NULL);
	store_close(db);
	config_free(&cfg);
	char p[80];
	unlink(dbpath);
	snprintf(p, sizeof p, "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", dbpath);
	unlink(p);
	return rc;
}
