/* libFuzzer target: the JSON body of a declaration (POST
 * /api/v1/emergencies?dry_run=true) and of a revision (POST
 * /api/v1/emergencies/{id}/revisions?dry_run=true): decoded as the HTTP
 * layer decodes it, validated field by field, and planned over a small
 * region tree with the shipped templates and library, nothing stored.
 *
 * A dry run is what an operator confirms before sending, so what it
 * accepts, the real thing must accept too, with the same plan: each body
 * a dry run takes is then declared (or revised) for real, inside the
 * input's transaction, and the counts compared.
 *
 * Input: the request body. Every input is rolled back. */
#include "fuzz.h"

#include "emergency.h"

static struct emergency_ctx ctx;
static int64_t active; /* an emergency a revision can change */

static const char seed_body[] =
	"{\"hazard\":\"typhoon\",\"severity\":\"yellow\",\"headline\":\"中山市台风"
	"黄色预警\",\"area\":[\"442000001000\"],\"duration\":\"6h\"}";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct err e;
	json_t *out = NULL;
	(void)argc, (void)argv;
	ctx.store = fuzz_setup_store();
	ctx.cfg = &fuzz_env.cfg;
	ctx.actor = "fuzz";
	ctx.public_url = "http://127.0.0.1:8080";
	json_t *body = json_loads(seed_body, 0, NULL);
	if (!body || emergency_declare(&ctx, body, false, &out, &e) < 0)
		fuzz_die("declaring the emergency to revise", &e);
	active = json_integer_value(json_object_get(out, "id"));
	json_decref(out);
	json_decref(body);
	return 0;
}

static void check(int rc, json_t *out, const struct err *e)
{
	if (rc == 0 && !json_is_object(out))
		abort();
	if (rc < 0 && (e->status < 400 || !e->message[0]))
		abort();
}

/* The real declaration or revision after a dry run that took the body:
 * it must succeed and plan what the dry run showed. */
static void check_real(const char *what, int rc, const json_t *dry,
		       const json_t *real, const struct err *e)
{
	static const char *const counts[] = { "deliveries", "messages",
					      "regions", "cancels" };
	if (rc < 0) {
		fprintf(stderr, "fuzz: the dry run took it, the %s refused it: "
			"%d %s\n", what, e->status, e->message);
		abort();
	}
	const json_t *a = json_object_get(dry, "planned");
	const json_t *b = json_object_get(real, "planned");
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
		json_int_t x = json_integer_value(json_object_get(a, counts[i]));
		json_int_t y = json_integer_value(json_object_get(b, counts[i]));
		if (x != y) {
			fprintf(stderr, "fuzz: %s: the dry run planned %lld %s, "
				"the real one %lld\n", what, (long long)x,
				counts[i], (long long)y);
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* what http_body_json does with a request body */
	json_t *body = json_loadb((const char *)data, size,
				 JSON_REJECT_DUPLICATES, NULL);
	if (!body)
		return 0;
	struct err e;
	json_t *out = NULL;
	json_t *real = NULL;
	fuzz_txn_begin();
	int rc = emergency_declare(&ctx, body, true, &out, &e);
	check(rc, out, &e);
	if (rc == 0) {
		rc = emergency_declare(&ctx, body, false, &real, &e);
		check_real("declaration", rc, out, real, &e);
		json_decref(real);
		real = NULL;
	}
	json_decref(out);
	out = NULL;
	rc = emergency_revise(&ctx, active, body, true, &out, &e);
	check(rc, out, &e);
	if (rc == 0) {
		rc = emergency_revise(&ctx, active, body, false, &real, &e);
		check_real("revision", rc, out, real, &e);
		json_decref(real);
	}
	json_decref(out);
	fuzz_txn_end();
	json_decref(body);
	return 0;
}
