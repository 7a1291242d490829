/* libFuzzer target: CAP taken in (cap_ingest, POST /api/v1/cap): the
 * refusal of DTDs and entities, the XML parser, validation against the
 * OASIS schema, the mapping of <info> and <area> to a declaration, and
 * the declaration, update or cancel it becomes. An alert is taken in
 * once at start, so an Update or Cancel that references it
 * ("fuzz@example.org,fuzz-seed-1,...") reaches a real emergency.
 *
 * What was taken in must come out again: the CAP export of the revision
 * it made is well-formed, valid CAP 1.2, and carries the sender and
 * identifier it came with (a downstream system matches on them); and an
 * Update that references it as CAP says ("sender,identifier,sent") must
 * find it.
 *
 * Input: the document, handed over with its length only. Every input is
 * rolled back. */
#include "fuzz.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#include "buf.h"
#include "cap.h"
#include "emergency.h"

extern xmlSchemaPtr cap_schema; /* cap.c, loaded by cap_load */

static struct emergency_ctx ctx;

static const char seed_alert[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">"
	"<identifier>fuzz-seed-1</identifier><sender>fuzz@example.org</sender>"
	"<sent>2026-11-29T10:00:00+08:00</sent><status>Actual</status>"
	"<msgType>Alert</msgType><scope>Public</scope>"
	"<info><language>zh-CN</language><category>Met</category>"
	"<event>暴雨</event><urgency>Expected</urgency>"
	"<severity>Moderate</severity><certainty>Likely</certainty>"
	"<headline>暴雨预警</headline>"
	"<area><areaDesc>石岐街道</areaDesc><geocode><valueName>CPEAS "
	"Geographic Code</valueName><value>442000001000</value></geocode>"
	"</area></info></alert>\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct err e;
	char dir[1100];
	json_t *out = NULL;
	int status;
	(void)argc, (void)argv;
	ctx.store = fuzz_setup_store();
	ctx.cfg = &fuzz_env.cfg;
	ctx.actor = "fuzz";
	ctx.public_url = "http://127.0.0.1:8080";
	snprintf(dir, sizeof dir, "%s/data", fuzz_top());
	if (cap_load(dir, &e) < 0)
		fuzz_die(dir, &e);
	if (cap_ingest(&ctx, seed_alert, sizeof seed_alert - 1, &out, &status,
		       &e) < 0)
		fuzz_die("taking in the seed alert", &e);
	json_decref(out);
	return 0;
}

/* The text of the first child of alert called name, or NULL. */
static xmlChar *child_text(xmlNodePtr alert, const char *name)
{
	for (xmlNodePtr c = alert ? alert->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)c->name, name) == 0)
			return xmlNodeGetContent(c);
	return NULL;
}

static void no_errors(void *ud, const xmlError *e)
{
	(void)ud, (void)e;
}

/* Appends s to b with XML's markup characters escaped. */
static void append_escaped(struct buf *b, const char *s)
{
	for (; *s; s++) {
		int rc = *s == '&'   ? buf_append_str(b, "&amp;")
			 : *s == '<' ? buf_append_str(b, "&lt;")
			 : *s == '>' ? buf_append_str(b, "&gt;")
				     : buf_append_char(b, *s);
		if (rc < 0)
			abort();
	}
}

/* An Update that references what the export says was taken in. */
static void check_reference(const char *sender, const char *ident,
			    const char *sent)
{
	struct buf b = BUF_INIT;
	struct err e;
	json_t *out = NULL;
	int status;
	buf_append_str(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		       "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">"
		       "<identifier>fuzz-reference-check</identifier><sender>");
	append_escaped(&b, sender);
	buf_append_str(&b, "</sender><sent>2026-11-29T11:00:00+08:00</sent>"
		       "<status>Actual</status><msgType>Update</msgType>"
		       "<scope>Public</scope><references>");
	append_escaped(&b, sender);
	buf_append_char(&b, ',');
	append_escaped(&b, ident);
	buf_append_char(&b, ',');
	append_escaped(&b, sent);
	if (buf_append_str(&b, "</references><info><category>Met</category>"
			   "<event>暴雨</event><urgency>Expected</urgency>"
			   "<severity>Extreme</severity><certainty>Likely"
			   "</certainty><area><areaDesc>x</areaDesc><geocode>"
			   "<valueName>x</valueName><value>442000002000</value>"
			   "</geocode></area></info></alert>\n") < 0)
		abort();
	if (cap_ingest(&ctx, buf_str(&b), b.len, &out, &status, &e) < 0) {
		fprintf(stderr, "fuzz: an Update referencing \"%s,%s,%s\": %d "
			"%s\n", sender, ident, sent, e.status, e.message);
		abort();
	}
	json_decref(out);
	buf_free(&b);
}

static void check_export(const json_t *out)
{
	struct err e;
	char *xml = NULL;
	size_t len = 0;
	int64_t id = json_integer_value(json_object_get(out, "id"));
	if (cap_export(ctx.store, ctx.cfg, id, 0, false, &xml, &len, &e) < 0) {
		fprintf(stderr, "fuzz: export of emergency %lld: %s\n",
			(long long)id, e.message);
		abort();
	}
	xmlDocPtr doc = xmlReadMemory(xml, (int)len, "export.xml", NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR |
				      XML_PARSE_NOWARNING);
	if (!doc) {
		fprintf(stderr, "fuzz: the export is not XML:\n%s\n", xml);
		abort();
	}
	xmlSchemaValidCtxtPtr v = xmlSchemaNewValidCtxt(cap_schema);
	if (!v)
		abort();
	xmlSchemaSetValidStructuredErrors(v, (xmlStructuredErrorFunc)no_errors,
					  NULL);
	if (xmlSchemaValidateDoc(v, doc) != 0) {
		fprintf(stderr, "fuzz: the export is not valid CAP:\n%s\n", xml);
		abort();
	}
	xmlSchemaFreeValidCtxt(v);
	/* a duplicate answers the identifier it was sent again with */
	const char *want = json_string_value(json_object_get(out,
							     "cap_identifier"));
	xmlChar *got = child_text(xmlDocGetRootElement(doc), "identifier");
	if (!json_is_true(json_object_get(out, "duplicate")) &&
	    (!want || !got || strcmp(want, (const char *)got) != 0)) {
		fprintf(stderr, "fuzz: taken in as \"%s\", exported as \"%s\"\n",
			want ? want : "(none)", got ? (const char *)got : "(none)");
		abort();
	}
	xmlChar *type = child_text(xmlDocGetRootElement(doc), "msgType");
	if (type && strcmp((const char *)type, "Cancel") != 0) {
		xmlChar *sender = child_text(xmlDocGetRootElement(doc), "sender");
		xmlChar *sent = child_text(xmlDocGetRootElement(doc), "sent");
		check_reference(sender ? (const char *)sender : "",
				(const char *)got, sent ? (const char *)sent : "");
		xmlFree(sender);
		xmlFree(sent);
	}
	xmlFree(type);
	xmlFree(got);
	xmlFreeDoc(doc);
	free(xml);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e;
	json_t *out = NULL;
	int status = 0;
	fuzz_txn_begin();
	int rc = cap_ingest(&ctx, (const char *)data, size, &out, &status, &e);
	if (rc == 0 && (!json_is_object(out) ||
			(status != 200 && status != 201)))
		abort();
	if (rc < 0 && (e.status < 400 || !e.message[0]))
		abort();
	if (rc == 0)
		check_export(out);
	json_decref(out);
	fuzz_txn_end();
	return 0;
}
