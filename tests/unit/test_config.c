/* Unit tests of the configuration table: defaults, file:line errors, the
 * environment winning over the file, the policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

static char path[64];

static void write_conf(const char *text)
{
	snprintf(path, sizeof path, "/tmp/scicast-test-conf.%d", (int)getpid());
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	unsetenv("SCICAST_HTTP_LISTEN");
	unsetenv("SCICAST_POLICY_RED_TIERS");
	return 0;
}

static void defaults_follow_the_design(void **state)
{
	struct config c;
	struct err e;
	(void)state;
	assert_int_equal(config_load(&c, NULL, &e), 0);
	assert_string_equal(c.http_host, "127.0.0.1");
	assert_int_equal(c.http_port, 8080);
	assert_int_equal(c.mqtt_protocol, 5);
	assert_string_equal(c.mqtt_alert_prefix, "scicast/v1/alerts");
	/* blue: every level but the village; yellow and above: all */
	assert_false(c.policy[SEV_BLUE].tiers & (1u << LEVEL_VILLAGE));
	assert_true(c.policy[SEV_BLUE].tiers & (1u << LEVEL_TOWN));
	assert_true(c.policy[SEV_YELLOW].tiers & (1u << LEVEL_VILLAGE));
	assert_int_equal(c.policy[SEV_YELLOW].resend_after_ms, 600000);
	assert_int_equal(c.policy[SEV_ORANGE].resend_after_ms, 300000);
	assert_int_equal(c.policy[SEV_RED].resend_after_ms, 120000);
	assert_int_equal(c.policy[SEV_RED].resend_max, 3);
	assert_true(c.policy[SEV_RED].escalate);
	assert_false(c.policy[SEV_ORANGE].escalate);
	assert_int_equal(c.tz_offset_min, 480);
	config_free(&c);
}

static void unknown_key_names_file_and_line(void **state)
{
	struct config c;
	struct err e;
	char want[128];
	(void)state;
	write_conf("# comment\n[log]\nlevel = debug\n\n[mqtt]\nhostname = x\n");
	assert_int_equal(config_load(&c, path, &e), -1);
	snprintf(want, sizeof want, "%s:6: unknown key \"hostname\" in [mqtt]", path);
	assert_string_equal(e.message, want);
	config_free(&c);
}

static void bad_value_names_what_is_allowed(void **state)
{
	struct config c;
	struct err e;
	(void)state;
	write_conf("[http]\nthreads = 0\n");
	assert_int_equal(config_load(&c, path, &e), -1);
	assert_non_null(strstr(e.message, ":2: [http] threads: \"0\" is not a whole number from 1 to 64"));
	config_free(&c);
	write_conf("[mqtt]\nalert_prefix = a/#\n");
	assert_int_equal(config_load(&c, path, &e), -1);
	assert_non_null(strstr(e.message, "without wildcards"));
	config_free(&c);
}

static void environment_wins(void **state)
{
	struct config c;
	struct err e;
	(void)state;
	write_conf("[http]\nlisten = 127.0.0.1:8080\n[policy.red]\ntiers = city\n");
	setenv("SCICAST_HTTP_LISTEN", "0.0.0.0:9999", 1);
	setenv("SCICAST_POLICY_RED_TIERS", "town, village", 1);
	assert_int_equal(config_load(&c, path, &e), 0);
	assert_string_equal(c.http_host, "0.0.0.0");
	assert_int_equal(c.http_port, 9999);
	assert_int_equal(c.policy[SEV_RED].tiers,
			 (1u << LEVEL_TOWN) | (1u << LEVEL_VILLAGE));
	config_free(&c);
}

static void relative_paths_follow_the_file(void **state)
{
	struct config c;
	struct err e;
	(void)state;
	write_conf("[store]\npath = data/x.db\n");
	assert_int_equal(config_load(&c, path, &e), 0);
	char *abs = config_resolve_path(&c, c.store_path);
	assert_string_equal(abs, "/tmp/data/x.db");
	free(abs);
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(defaults_follow_the_design, teardown),
		cmocka_unit_test_teardown(unknown_key_names_file_and_line, teardown),
		cmocka_unit_test_teardown(bad_value_names_what_is_allowed, teardown),
		cmocka_unit_test_teardown(environment_wins, teardown),
		cmocka_unit_test_teardown(relative_paths_follow_the_file, teardown),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
