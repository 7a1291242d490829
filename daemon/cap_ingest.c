/* cap_ingest: CAP from an upstream warning system becomes a declaration,
 * a revision or a cancel, through the same code (and the same checks) as
 * one made over the API. A document is refused before it is parsed if it
 * carries a DTD or an entity (CAP needs neither: no XXE, no billion
 * laughs), then must be well-formed and valid CAP 1.2 against the OASIS
 * schema. The same (sender, identifier) twice is answered with what it
 * did the first time, and nothing is sent again. */
#define _GNU_SOURCE
#include "cap.h"

#include <ctype.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "catalog.h"
#include "jsonutil.h"
#include "log.h"
#include "regions.h"
#include "util.h"

extern xmlSchemaPtr cap_schema;

#define EVENTS_MAX 512

static struct {
	char event[96];
	char hazard[32];
} events[EVENTS_MAX];
static size_t nevents;

int cap_events_load(const char *data_dir, struct err *err)
{
	char path[1100], *data = NULL;
	size_t len;
	snprintf(path, sizeof path, "%s/cap-events.csv", data_dir);
	if (util_read_file(path, &data, &len) < 0) {
		err_set(err, 0, "cap", "", "%s: cannot read it", path);
		return -1;
	}
	nevents = 0;
	int line = 0, rc = 0;
	char *save = NULL;
	for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		line++;
		l[strcspn(l, "\r")] = '\0';
		if (line == 1 || !*l)
			continue;
		char *comma = strrchr(l, ',');
		if (!comma || comma == l || nevents == EVENTS_MAX ||
		    !catalog_hazard(comma + 1) ||
		    (size_t)(comma - l) >= sizeof events[0].event) {
			err_set(err, 0, "cap", "", "%s:%d: expected event,hazard "
				"with a known hazard", path, line);
			rc = -1;
			break;
		}
		snprintf(events[nevents].event, sizeof events[0].event, "%.*s",
			 (int)(comma - l), l);
		snprintf(events[nevents].hazard, sizeof events[0].hazard, "%s",
			 comma + 1);
		nevents++;
	}
	free(data);
	return rc;
}

static const char *hazard_of_event(const char *event)
{
	for (size_t i = 0; i < nevents; i++)
		if (strcasecmp(events[i].event, event) == 0)
			return events[i].hazard;
	/* an upstream system may send our own code */
	return catalog_hazard(event) ? event : NULL;
}

/* ---- reading the document ---- */

static bool named(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       strcmp((const char *)n->ns->href, CAP_NS) == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (named(c, name))
			return c;
	return NULL;
}

/* The text of a child, trimmed, owned by the caller (NULL if absent). */
static char *text_of(xmlNodePtr n, const char *name)
{
	xmlNodePtr c = child(n, name);
	if (!c)
		return NULL;
	xmlChar *t = xmlNodeGetContent(c);
	if (!t)
		return NULL;
	const char *s = (const char *)t;
	while (isspace((unsigned char)*s))
		s++;
	size_t len = strlen(s);
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	char *out = strndup(s, len);
	xmlFree(t);
	return out;
}

static bool has_markup_declarations(const char *body, size_t len)
{
	static const char *const bad[] = { "<!DOCTYPE", "<!ENTITY", NULL };
	for (const char *const *b = bad; *b; b++) {
		size_t bl = strlen(*b);
		for (size_t i = 0; i + bl <= len; i++)
			if (body[i] == '<' && strncasecmp(body + i, *b, bl) == 0)
				return true;
	}
	return false;
}

struct schema_errors {
	struct buf b;
	int count;
};

static void on_schema_error(void *ud, const xmlError *e)
{
	struct schema_errors *se = ud;
	if (se->count++ >= 3 || !e || !e->message)
		return;
	char msg[300];
	snprintf(msg, sizeof msg, "%s", e->message);
	msg[strcspn(msg, "\n")] = '\0';
	buf_appendf(&se->b, "%sline %d: %s", se->b.len ? "; " : "", e->line, msg);
}

static int parse_and_validate(const char *body, size_t len, xmlDocPtr *out,
			      struct err *err)
{
	if (len > CAP_MAX_BODY) {
		err_set(err, 413, "too_large", "body", "a CAP document of more "
			"than %d bytes is refused", CAP_MAX_BODY);
		return -1;
	}
	if (has_markup_declarations(body, len)) {
		err_set(err, 400, "bad_request", "body", "a DOCTYPE or ENTITY "
			"declaration is not accepted in CAP (no DTDs, no "
			"entities)");
		return -1;
	}
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	if (!ctxt) {
		err_oom(err);
		return -1;
	}
	/* no network, no entity substitution, no DTD loading, no huge; and
	 * no printing: libxml2 would write every error of a bad document,
	 * the sender's bytes included, to stderr (the journal) past log.c.
	 * The error still reaches the answer through xmlCtxtGetLastError. */
	xmlDocPtr doc = xmlCtxtReadMemory(ctxt, body, (int)len, "cap.xml", NULL,
					  XML_PARSE_NONET | XML_PARSE_NOBLANKS |
					  XML_PARSE_NOERROR |
					  XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		char msg[300] = "not XML";
		if (e && e->message) {
			snprintf(msg, sizeof msg, "%s", e->message);
			msg[strcspn(msg, "\n")] = '\0';
		}
		err_set(err, 400, "bad_xml", "body", "malformed XML at line %d: %s",
			e ? e->line : 0, msg);
		xmlFreeParserCtxt(ctxt);
		return -1;
	}
	xmlFreeParserCtxt(ctxt);
	if (doc->intSubset || doc->extSubset) {
		xmlFreeDoc(doc);
		err_set(err, 400, "bad_request", "body", "a DTD is not accepted in "
			"CAP");
		return -1;
	}
	struct schema_errors se = { BUF_INIT, 0 };
	xmlSchemaValidCtxtPtr v = xmlSchemaNewValidCtxt(cap_schema);
	if (!v) {
		xmlFreeDoc(doc);
		err_oom(err);
		return -1;
	}
	xmlSchemaSetValidStructuredErrors(v, (xmlStructuredErrorFunc)on_schema_error,
					  &se);
	int rc = xmlSchemaValidateDoc(v, doc);
	xmlSchemaFreeValidCtxt(v);
	if (rc != 0) {
		err_set(err, 422, "invalid", "body", "not valid CAP 1.2: %s",
			se.b.len ? buf_str(&se.b) : "the schema refused it");
		buf_free(&se.b);
		xmlFreeDoc(doc);
		return -1;
	}
	buf_free(&se.b);
	*out = doc;
	return 0;
}

/* ---- mapping ---- */

static xmlNodePtr pick_info(xmlNodePtr alert)
{
	xmlNodePtr first = NULL;
	for (xmlNodePtr c = alert->children; c; c = c->next) {
		if (!named(c, "info"))
			continue;
		if (!first)
			first = c;
		char *lang = text_of(c, "language");
		bool zh = lang && strncasecmp(lang, "zh", 2) == 0;
		free(lang);
		if (zh)
			return c;
	}
	return first;
}

static int map_severity(const char *s)
{
	static const char *const caps[] = { "Minor", "Moderate", "Severe",
					     "Extreme" };
	for (int i = 0; s && i < 4; i++)
		if (strcmp(s, caps[i]) == 0)
			return i;
	return -1;
}

/* The area codes of an <info>: 422 naming the first unknown area. */
static int map_areas(struct store *s, xmlNodePtr info, json_t *codes,
		     struct err *err)
{
	for (xmlNodePtr a = info->children; a; a = a->next) {
		if (!named(a, "area"))
			continue;
		char *desc = text_of(a, "areaDesc");
		bool found = false;
		char seen[200] = "";
		for (xmlNodePtr g = a->children; g && !found; g = g->next) {
			if (!named(g, "geocode"))
				continue;
			char *name = text_of(g, "valueName");
			char *value = text_of(g, "value");
			/* any geocode whose value is a 12-digit division code
			 * will do, whatever the sender named it */
			bool ours = value && util_is_region_code(value, strlen(value));
			if (ours) {
				struct region r;
				if (regions_get(s, value, &r, err) == 0) {
					json_array_append_new(codes, json_string(value));
					found = true;
				} else if (err->status != 404) {
					free(name);
					free(value);
					free(desc);
					return -1;
				}
			}
			if (!found && !seen[0])
				snprintf(seen, sizeof seen, "%.60s=%.60s",
					 name ? name : "?", value ? value : "?");
			free(name);
			free(value);
		}
		if (!found) {
			if (seen[0])
				err_invalid(err, "area", "area \"%.80s\": geocode %s is "
					    "not a region scicast knows",
					    desc ? desc : "?", seen);
			else
				err_invalid(err, "area", "area \"%.80s\" has no "
					    "geocode with a region code (polygons "
					    "and circles alone cannot be mapped)",
					    desc ? desc : "?");
			free(desc);
			return -1;
		}
		free(desc);
	}
	if (json_array_size(codes) == 0) {
		err_invalid(err, "area", "the alert names no area");
		return -1;
	}
	return 0;
}

/* The emergency an earlier identifier belongs to, from <references>. */
static int64_t referenced(struct store *s, const char *refs, struct err *err)
{
	static const char sql[] =
		"SELECT emergency_id FROM revisions WHERE cap_sender = ?"
		" AND cap_identifier = ? ORDER BY revision DESC LIMIT 1";
	int64_t found = 0;
	char *copy = strdup(refs ? refs : "");
	char *save = NULL;
	if (!copy) {
		err_oom(err);
		return -1;
	}
	/* CAP separates the references by whitespace, not only spaces */
	for (char *r = strtok_r(copy, " \t\r\n", &save); r && !found;
	     r = strtok_r(NULL, " \t\r\n", &save)) {
		char *c1 = strchr(r, ',');
		char *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
		if (!c2)
			continue;
		*c1 = '\0';
		*c2 = '\0';
		sqlite3_stmt *st = store_stmt(s, sql, err);
		if (!st) {
			free(copy);
			return -1;
		}
		store_bind_text(st, 1, r);
		store_bind_text(st, 2, c1 + 1);
		if (sqlite3_step(st) == SQLITE_ROW)
			found = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	free(copy);
	if (!found)
		err_invalid(err, "references", "references name no alert scicast "
			    "has taken in");
	return found ? found : -1;
}

static int existing(struct store *s, const char *sender, const char *ident,
		    int64_t *emergency, int *revision, struct err *err)
{
	static const char sql[] =
		"SELECT emergency_id, revision FROM revisions"
		" WHERE cap_sender = ? AND cap_identifier = ?";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	store_bind_text(st, 1, sender);
	store_bind_text(st, 2, ident);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*emergency = sqlite3_column_int64(st, 0);
		*revision = sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, err, "reading revisions");
	return rc == SQLITE_ROW;
}

struct cap_identity {
	struct store *s;
	const char *sender, *ident, *sent;
};

static int remember(struct store *s, int64_t emergency, int revision,
		    const char *sender, const char *ident, const char *sent,
		    struct err *err);

/* A staged plan remembers the identity in its first stage: a plan stopped
 * after it is finished at the next start, and the same alert sent again
 * meanwhile must be known as taken in. */
static int remember_in_first_stage(void *arg, int64_t emergency,
				   int revision, struct err *err)
{
	const struct cap_identity *ci = arg;
	return remember(ci->s, emergency, revision, ci->sender, ci->ident,
			ci->sent, err);
}

static int remember(struct store *s, int64_t emergency, int revision,
		    const char *sender, const char *ident, const char *sent,
		    struct err *err)
{
	static const char sql[] =
		"UPDATE revisions SET cap_sender = ?3, cap_identifier = ?4,"
		" cap_sent = ?5 WHERE emergency_id = ?1 AND revision = ?2";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, emergency);
	sqlite3_bind_int(st, 2, revision);
	store_bind_text(st, 3, sender);
	store_bind_text(st, 4, ident);
	store_bind_text(st, 5, sent);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, err, "remembering CAP");
}

/* CAP 1.2 (3.2.1): a sender or identifier has no spaces, commas or
 * restricted characters (< and &); "sender,identifier,sent" in a later
 * alert's <references> could not name it otherwise. The length bound is
 * the export's (CAP_ID_MAX). */
static int check_id(const char *s, const char *field, struct err *err)
{
	size_t len = s ? strlen(s) : 0;
	if (len == 0 || len > CAP_ID_MAX) {
		err_invalid(err, field, "%s must be 1 to %d bytes", field,
			    CAP_ID_MAX);
		return -1;
	}
	for (const char *p = s; *p; p++)
		if (isspace((unsigned char)*p) || *p == ',' || *p == '<' ||
		    *p == '&') {
			err_invalid(err, field, "%s must not contain spaces, "
				    "commas, < or & (CAP 1.2)", field);
			return -1;
		}
	return 0;
}

/* Cuts text to at most max characters, on a character boundary. */
static void cut_chars(char *s, size_t max)
{
	size_t chars = 0, i = 0;
	for (; s[i]; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80 && ++chars > max)
			break;
	s[i] = '\0';
}

struct fields {
	char *identifier, *sender, *sent, *status, *msg_type, *references,
		*note, *language, *event, *severity, *headline, *description,
		*instruction, *expires;
};

static void fields_free(struct fields *f)
{
	char **all[] = { &f->identifier, &f->sender, &f->sent, &f->status,
			 &f->msg_type, &f->references, &f->note, &f->language,
			 &f->event, &f->severity, &f->headline, &f->description,
			 &f->instruction, &f->expires };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		free(*all[i]);
		*all[i] = NULL;
	}
}

int cap_ingest(const struct emergency_ctx *c, const char *body, size_t len,
	       json_t **out, int *status, struct err *err)
{
	xmlDocPtr doc = NULL;
	struct fields f = { 0 };
	json_t *req = NULL, *codes = NULL;
	int rc = -1;
	*status = 201;
	if (parse_and_validate(body, len, &doc, err) < 0)
		return -1;
	xmlNodePtr alert = xmlDocGetRootElement(doc);
	xmlNodePtr info = pick_info(alert);
	f.identifier = text_of(alert, "identifier");
	f.sender = text_of(alert, "sender");
	f.sent = text_of(alert, "sent");
	f.status = text_of(alert, "status");
	f.msg_type = text_of(alert, "msgType");
	f.references = text_of(alert, "references");
	f.note = text_of(alert, "note");
	if (info) {
		f.language = text_of(info, "language");
		f.event = text_of(info, "event");
		f.severity = text_of(info, "severity");
		f.headline = text_of(info, "headline");
		f.description = text_of(info, "description");
		f.instruction = text_of(info, "instruction");
		f.expires = text_of(info, "expires");
	}
	if (check_id(f.sender, "sender", err) < 0 ||
	    check_id(f.identifier, "identifier", err) < 0)
		goto done;
	int64_t had_emergency = 0;
	int had_revision = 0;
	int found = existing(c->store, f.sender, f.identifier, &had_emergency,
			     &had_revision, err);
	if (found < 0)
		goto done;
	if (found) {
		*status = 200;
		*out = json_pack("{s:I, s:i, s:b, s:s}", "id",
				 (json_int_t)had_emergency, "revision",
				 had_revision, "duplicate", 1, "cap_identifier",
				 f.identifier);
		rc = *out ? 0 : (err_oom(err), -1);
		goto done;
	}
	bool exercise = strcmp(f.status, "Exercise") == 0 ||
			strcmp(f.status, "Test") == 0;
	if (strcmp(f.status, "Actual") != 0 && !exercise) {
		err_invalid(err, "status", "status %s is not something scicast "
			    "broadcasts (Actual, Exercise, Test)", f.status);
		goto done;
	}
	bool cancel = strcmp(f.msg_type, "Cancel") == 0;
	bool update = strcmp(f.msg_type, "Update") == 0;
	if (!cancel && !update && strcmp(f.msg_type, "Alert") != 0) {
		err_invalid(err, "msgType", "msgType %s is not something scicast "
			    "acts on (Alert, Update, Cancel)", f.msg_type);
		goto done;
	}
	/* the areas first: an alert for a place scicast does not know is
	 * the first thing an upstream system needs to hear about */
	if (!cancel) {
		if (!info) {
			err_invalid(err, "info", "the alert has no <info>");
			goto done;
		}
		codes = json_array();
		if (!codes || map_areas(c->store, info, codes, err) < 0)
			goto done;
	}
	int64_t emergency = 0;
	if (cancel || update) {
		emergency = referenced(c->store, f.references, err);
		if (emergency < 0)
			goto done;
	}
	struct cap_identity ci = { c->store, f.sender, f.identifier, f.sent };
	struct emergency_ctx staged = *c;
	staged.first_stage = remember_in_first_stage;
	staged.first_stage_arg = &ci;
	if (cancel) {
		if (emergency_end(&staged, emergency, "cancel",
				  f.note ? f.note : "cancelled by CAP", out,
				  err) < 0)
			goto done;
	} else {
		const char *hazard = f.event ? hazard_of_event(f.event) : NULL;
		int sev = map_severity(f.severity);
		if (!hazard) {
			err_invalid(err, "event", "event \"%.80s\" is not mapped to "
				    "a hazard (data/cap-events.csv)",
				    f.event ? f.event : "");
			goto done;
		}
		if (sev < 0) {
			err_invalid(err, "severity", "severity %s has no warning "
				    "colour (Minor, Moderate, Severe, Extreme)",
				    f.severity ? f.severity : "?");
			goto done;
		}
		char expires[48];
		if (f.expires) {
			snprintf(expires, sizeof expires, "%s", f.expires);
		} else {
			util_format_local(util_now_ms() +
					  c->cfg->cap_default_duration_ms,
					  expires, sizeof expires);
		}
		char *headline = f.headline ? f.headline : f.event;
		cut_chars(headline, 200);
		if (f.description)
			cut_chars(f.description, 4000);
		if (f.instruction)
			cut_chars(f.instruction, 2000);
		const char *locale = f.language && strncasecmp(f.language, "zh", 2) == 0
					     ? "zh-CN" : (f.language ? f.language : "zh-CN");
		req = json_pack("{s:s, s:s, s:s, s:O, s:s}",
				"severity", config_severity_name(sev),
				"headline", headline, "expires_at", expires,
				"area", codes, "locale", locale);
		if (!req) {
			err_oom(err);
			goto done;
		}
		if (f.description)
			json_object_set_new(req, "description", json_string(f.description));
		if (f.instruction)
			json_object_set_new(req, "instruction", json_string(f.instruction));
		if (update) {
			if (emergency_revise(&staged, emergency, req, false, out,
					     err) < 0)
				goto done;
		} else {
			json_object_set_new(req, "hazard", json_string(hazard));
			json_object_set_new(req, "exercise", json_boolean(exercise));
			if (emergency_declare(&staged, req, false, out, err) < 0)
				goto done;
		}
	}
	int64_t id = json_integer_value(json_object_get(*out, "id"));
	int revision = (int)json_integer_value(json_object_get(*out, "revision"));
	if (remember(c->store, id, revision, f.sender, f.identifier, f.sent,
		     err) < 0) {
		json_decref(*out);
		*out = NULL;
		goto done;
	}
	json_object_set_new(*out, "cap_identifier", json_string(f.identifier));
	log_info("cap: %s %s from %s taken in as emergency %lld revision %d",
		 f.msg_type, f.identifier, f.sender, (long long)id, revision);
	rc = 0;
done:
	if (rc < 0 && err->status == 422 && err->field[0] && info) {
		/* say where in the CAP document the problem is */
		char field[32];
		snprintf(field, sizeof field, "%.31s", err->field);
		if (strcmp(field, "event") == 0 || strcmp(field, "severity") == 0 ||
		    strcmp(field, "area") == 0)
			snprintf(err->field, sizeof err->field, "info.%s", field);
	}
	json_decref(req);
	json_decref(codes);
	fields_free(&f);
	xmlFreeDoc(doc);
	return rc;
}
