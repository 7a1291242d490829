/* Every vector of shared/spec/webhooks/vectors.json, signed and verified
 * by scicast's own code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "whsig.h"

static json_t *vectors;

static int load(void **state)
{
	char path[1024];
	const char *shared = getenv("SCICAST_SHARED");
	(void)state;
	snprintf(path, sizeof path, "%s/spec/webhooks/vectors.json",
		 shared ? shared : "../shared");
	vectors = json_load_file(path, 0, NULL);
	if (!vectors)
		printf("webhooks: %s not found (set SCICAST_SHARED)\n", path);
	return 0;
}

static int unload(void **state)
{
	(void)state;
	json_decref(vectors);
	return 0;
}

static void sign_vectors(void **state)
{
	size_t i;
	json_t *v;
	(void)state;
	if (!vectors)
		skip();
	json_t *list = json_object_get(vectors, "sign_vectors");
	assert_true(json_array_size(list) >= 3);
	json_array_foreach(list, i, v) {
		char sig[WHSIG_HEADER_MAX];
		const char *payload = json_string_value(json_object_get(v, "payload"));
		assert_int_equal(whsig_sign(
			json_string_value(json_object_get(v, "secret")),
			json_string_value(json_object_get(v, "msg_id")),
			json_integer_value(json_object_get(v, "timestamp")),
			payload, strlen(payload), sig, sizeof sig), 0);
		assert_string_equal(sig, json_string_value(json_object_get(
						 v, "expected_signature")));
	}
	printf("webhooks: %zu sign vectors reproduced\n", json_array_size(list));
}

static void verify_vectors(void **state)
{
	size_t i;
	json_t *v;
	(void)state;
	if (!vectors)
		skip();
	json_t *list = json_object_get(vectors, "verify_vectors");
	assert_true(json_array_size(list) >= 20);
	int right = 0;
	json_array_foreach(list, i, v) {
		json_t *h = json_object_get(v, "headers");
		const char *payload = json_string_value(json_object_get(v, "payload"));
		enum whsig_result r = whsig_verify(
			json_string_value(json_object_get(v, "secret")),
			json_string_value(json_object_get(h, "webhook-id")),
			json_string_value(json_object_get(h, "webhook-timestamp")),
			json_string_value(json_object_get(h, "webhook-signature")),
			payload, strlen(payload),
			json_integer_value(json_object_get(v, "now")));
		bool want = json_is_true(json_object_get(v, "valid"));
		const char *err = json_string_value(json_object_get(v, "error"));
		if ((r == WHSIG_OK) != want ||
		    (!want && err && strcmp(err, whsig_result_name(r)) != 0)) {
			print_error("vector \"%s\": got %s, want %s\n",
				    json_string_value(json_object_get(v, "name")),
				    whsig_result_name(r), want ? "ok" : err);
			continue;
		}
		right++;
	}
	printf("webhooks: %d/%zu verify vectors right\n", right,
	       json_array_size(list));
	assert_int_equal((size_t)right, json_array_size(list));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sign_vectors),
		cmocka_unit_test(verify_vectors),
	};
	return cmocka_run_group_tests_name("whsig", tests, load, unload);
}
