/* libFuzzer target: saving a template. A JSON body is decoded as the
 * HTTP layer decodes it and goes where its keys send it: "to_version" to
 * a rollback (POST /api/v1/templates/{id}/rollback), "version" to an
 * update (PUT /api/v1/templates/{id}), anything else to a create (POST
 * /api/v1/templates); each validates, compiles, checks names and renders
 * a sample before it stores a version. Input that does not start with '{'
 * is a template file ([title]/[body]/[tts], what `scicast template edit`
 * reads back from the editor), parsed and then checked as a save would.
 *
 * Every input is rolled back. */
#include "fuzz.h"

static struct store *store;
static int64_t existing; /* the shipped typhoon village zh-CN template */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct template_text t;
	struct err e;
	(void)argc, (void)argv;
	store = fuzz_setup_store();
	if (templates_lookup(store, "typhoon", LEVEL_VILLAGE, "zh-CN", "zh-CN",
			     &t, &e) < 0)
		fuzz_die("the template to update", &e);
	existing = t.id;
	template_text_free(&t);
	return 0;
}

static void check(int rc, json_t *out, json_t *details, const struct err *e)
{
	if (rc == 0 && !json_is_object(out))
		abort();
	if (rc < 0 && (e->status < 400 || !e->message[0]))
		abort();
	json_decref(out);
	json_decref(details);
}

static void save_json(json_t *body)
{
	struct err e;
	json_t *out = NULL, *details = NULL;
	int rc;
	if (json_object_get(body, "to_version"))
		rc = templates_rollback(store, &fuzz_env.cfg, existing, body,
					"fuzz", &out, &details, &e);
	else if (json_object_get(body, "version"))
		rc = templates_update(store, &fuzz_env.cfg, existing, body,
				      "fuzz", &out, &details, &e);
	else
		rc = templates_create(store, &fuzz_env.cfg, body, "fuzz", &out,
				      &e);
	check(rc, out, details, &e);
}

static void save_file(const uint8_t *data, size_t size)
{
	struct template_text t = { 0 };
	struct err e;
	if (templates_parse_file((const char *)data, size, &t, &e) < 0)
		return;
	snprintf(t.hazard, sizeof t.hazard, "typhoon");
	t.tier = size % 2 ? LEVEL_TOWN : LEVEL_VILLAGE;
	snprintf(t.locale, sizeof t.locale, "zh-CN");
	json_t *warnings = json_array();
	if (!warnings)
		abort();
	templates_check(store, &fuzz_env.cfg, &t, warnings, &e);
	json_decref(warnings);
	template_text_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_txn_begin();
	if (size && data[0] == '{') {
		json_t *body = json_loadb((const char *)data, size,
					 JSON_REJECT_DUPLICATES, NULL);
		if (body)
			save_json(body);
		json_decref(body);
	} else {
		save_file(data, size);
	}
	fuzz_txn_end();
	return 0;
}
