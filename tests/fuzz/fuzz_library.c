/* libFuzzer target: the science library's JSON-lines import
 * (library_import), all or nothing, against the shipped library, so lines
 * can insert, update or leave notices unchanged.
 *
 * Input: the file as POSTed to /api/v1/library/import, handed over with
 * its length only. Every input is rolled back.
 *
 * After an import that was taken, the export (the same format) must
 * import again as it is: every notice unchanged. What the export writes
 * and what the import reads are the two halves of a backup. */
#include "fuzz.h"

static struct store *store;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	store = fuzz_setup_store();
	return 0;
}

/* The hazard of the input's first notice: the round trip exports that
 * hazard's notices only, a twelfth of the library, to stay fast. */
static char *first_hazard(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	json_t *o = json_loadb((const char *)data, nl ? (size_t)(nl - data) : size,
			       0, NULL);
	const char *h = json_string_value(json_object_get(o, "hazard"));
	char *copy = h ? strdup(h) : NULL;
	json_decref(o);
	return copy;
}

static void check_round_trip(const char *hazard)
{
	struct library_import_result res;
	struct err e;
	char *text = NULL;
	size_t len = 0;
	if (library_export(store, hazard, NULL, &text, &len, &e) < 0) {
		fprintf(stderr, "fuzz: export: %s\n", e.message);
		abort();
	}
	if (library_import(store, &fuzz_env.cfg, text, len, "fuzz", &res,
			   &e) < 0 || res.inserted || res.updated) {
		char *why = json_dumps(res.errors, 0);
		fprintf(stderr, "fuzz: the export does not import as it is: %s "
			"(%ld inserted, %ld updated) %s\n", e.message,
			res.inserted, res.updated, why ? why : "");
		abort();
	}
	json_decref(res.errors);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct library_import_result res;
	struct err e;
	fuzz_txn_begin();
	int rc = library_import(store, &fuzz_env.cfg, (const char *)data, size,
				"fuzz", &res, &e);
	if (rc < 0 && (e.status < 400 || !e.message[0]))
		abort();
	if (rc == 0 && json_array_size(res.errors) != 0)
		abort();
	if (rc == 0) {
		char *hazard = first_hazard(data, size);
		check_round_trip(hazard);
		free(hazard);
	}
	json_decref(res.errors);
	fuzz_txn_end();
	return 0;
}
