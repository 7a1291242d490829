/* cap: export and the feed. Documents are built as libxml2 trees in the
 * order the schema demands, one <info> in zh-CN and one in en-US, one
 * <area> per region of the declared area (not every village below it: a
 * province-wide alert would otherwise be megabytes). The identifier of a
 * revision that came in as CAP is the one it came with; others are
 * {sender_code}_{issued, YYYYMMDDhhmmss}_{emergency}-{revision}, stable
 * and unique. */
#define _GNU_SOURCE
#include "cap.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "catalog.h"
#include "library.h"
#include "log.h"
#include "regions.h"
#include "util.h"
#include "version.h"

/* Read-only after cap_load; libxml2 allows validation contexts on many
 * threads to share one schema. */
xmlSchemaPtr cap_schema;

struct cap_revision {
	int64_t emergency;
	int revision;
	char msg_type[12];
	char severity[8];
	char hazard[32];
	bool exercise;
	char *headline, *description, *instruction;
	json_t *area;
	int64_t expires_ms, issued_ms;
	char *cap_sender, *cap_identifier, *cap_sent;
};

static void rev_free(struct cap_revision *r)
{
	free(r->headline);
	free(r->description);
	free(r->instruction);
	free(r->cap_sender);
	free(r->cap_identifier);
	free(r->cap_sent);
	json_decref(r->area);
	memset(r, 0, sizeof *r);
}

int cap_load(const char *data_dir, struct err *err)
{
	char path[1100];
	xmlInitParser();
	snprintf(path, sizeof path, "%s/CAP-v1.2.xsd", data_dir);
	xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(path);
	if (pc) {
		cap_schema = xmlSchemaParse(pc);
		xmlSchemaFreeParserCtxt(pc);
	}
	if (!cap_schema) {
		err_set(err, 0, "cap", "", "%s: cannot load the CAP schema", path);
		return -1;
	}
	return cap_events_load(data_dir, err);
}

void cap_unload(void)
{
	if (cap_schema)
		xmlSchemaFree(cap_schema);
	cap_schema = NULL;
	xmlCleanupParser();
}

/* ---- reading revisions ---- */

static char *dup_col(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL
		       ? NULL
		       : strdup(store_col_text(st, i));
}

#define REV_COLUMNS                                                          \
	"SELECT r.emergency_id, r.revision, r.msg_type, r.severity, e.hazard,"\
	" e.exercise, r.headline, r.description, r.instruction, r.area,"     \
	" r.expires_at, r.issued_at, r.cap_sender, r.cap_identifier,"        \
	" r.cap_sent FROM revisions r JOIN emergencies e"                    \
	" ON e.id = r.emergency_id"

static void rev_from_row(sqlite3_stmt *st, struct cap_revision *r)
{
	memset(r, 0, sizeof *r);
	r->emergency = sqlite3_column_int64(st, 0);
	r->revision = sqlite3_column_int(st, 1);
	snprintf(r->msg_type, sizeof r->msg_type, "%s", store_col_text(st, 2));
	snprintf(r->severity, sizeof r->severity, "%s", store_col_text(st, 3));
	snprintf(r->hazard, sizeof r->hazard, "%s", store_col_text(st, 4));
	r->exercise = sqlite3_column_int(st, 5);
	r->headline = dup_col(st, 6);
	r->description = dup_col(st, 7);
	r->instruction = dup_col(st, 8);
	r->area = json_loads(store_col_text(st, 9), 0, NULL);
	r->expires_ms = sqlite3_column_int64(st, 10);
	r->issued_ms = sqlite3_column_int64(st, 11);
	r->cap_sender = dup_col(st, 12);
	r->cap_identifier = dup_col(st, 13);
	r->cap_sent = dup_col(st, 14);
}

/* All revisions up to and including the one asked for (0: the last). */
static int load_revisions(struct store *s, int64_t id, int revision,
			  struct cap_revision **out, size_t *n, struct err *err)
{
	static const char sql[] = REV_COLUMNS
		" WHERE r.emergency_id = ?1 AND (?2 = 0 OR r.revision <= ?2)"
		" ORDER BY r.revision";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, revision);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			struct cap_revision *g = realloc(*out, cap * sizeof *g);
			if (!g) {
				sqlite3_reset(st);
				err_oom(err);
				return -1;
			}
			*out = g;
		}
		rev_from_row(st, &(*out)[(*n)++]);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, err, "reading revisions");
	if (*n == 0 || (revision && (*out)[*n - 1].revision != revision)) {
		err_not_found(err, revision ? "emergency %lld has no revision %d"
					    : "no emergency %lld",
			      (long long)id, revision);
		return -1;
	}
	return 0;
}

/* ---- the identity of a revision ---- */

static void cap_time(int64_t ms, char *out, size_t cap)
{
	/* China's system writes local time with its offset */
	util_format_iso(ms, util_local_offset(), out, cap);
}

static void identity(const struct config *cfg, const struct cap_revision *r,
		     char *sender, size_t scap, char *ident, size_t icap,
		     char *sent, size_t sentcap)
{
	if (r->cap_identifier) {
		snprintf(sender, scap, "%s", r->cap_sender ? r->cap_sender : "");
		snprintf(ident, icap, "%s", r->cap_identifier);
		snprintf(sent, sentcap, "%s", r->cap_sent ? r->cap_sent : "");
		return;
	}
	char iso[40], stamp[20];
	cap_time(r->issued_ms, iso, sizeof iso);
	snprintf(stamp, sizeof stamp, "%.4s%.2s%.2s%.2s%.2s%.2s", iso, iso + 5,
		 iso + 8, iso + 11, iso + 14, iso + 17);
	snprintf(sender, scap, "%s", cfg->cap_sender);
	snprintf(ident, icap, "%s_%s_%lld-%d", cfg->cap_sender_code, stamp,
		 (long long)r->emergency, r->revision);
	snprintf(sent, sentcap, "%s", iso);
}

/* ---- building ---- */

static xmlNodePtr add(xmlNodePtr parent, xmlNsPtr ns, const char *name,
		      const char *text)
{
	return xmlNewTextChild(parent, ns, BAD_CAST name, BAD_CAST text);
}

static void add_parameter(xmlNodePtr info, xmlNsPtr ns, const char *name,
			  const char *value)
{
	xmlNodePtr p = xmlNewChild(info, ns, BAD_CAST "parameter", NULL);
	add(p, ns, "valueName", name);
	add(p, ns, "value", value);
}

static const char *msg_type_of(const char *t)
{
	if (strcmp(t, "alert") == 0)
		return "Alert";
	if (strcmp(t, "update") == 0 || strcmp(t, "allclear") == 0)
		return "Update";
	return "Cancel"; /* cancel, expired */
}

static bool is_past(const char *t)
{
	return strcmp(t, "alert") != 0 && strcmp(t, "update") != 0;
}

static void headline_of(const struct cap_revision *r, bool zh, char *out,
			size_t cap)
{
	static const char *const roman[] = { "Ⅳ", "Ⅲ", "Ⅱ", "Ⅰ" };
	static const char *const grade_en[] = { "General", "Heavy", "Serious",
						"Especially serious" };
	int sev = config_severity_parse(r->severity);
	const struct severity_info *si = catalog_severity(sev);
	const struct hazard *h = catalog_hazard(r->hazard);
	const char *hz = h ? (zh ? h->name_zh : h->name_en) : r->hazard;
	if (!si) {
		snprintf(out, cap, "%s", hz);
		return;
	}
	if (zh) {
		const char *tail = strcmp(r->msg_type, "cancel") == 0  ? "取消"
				   : strcmp(r->msg_type, "expired") == 0 ? "解除"
				   : "";
		if (strcmp(r->msg_type, "allclear") == 0)
			snprintf(out, cap, "%s预警解除", hz);
		else
			snprintf(out, cap, "%s%s预警[%s级/%s]%s", hz, si->name_zh,
				 roman[sev], si->grade_zh, tail);
	} else {
		const char *tail = strcmp(r->msg_type, "cancel") == 0 ? " Cancelled"
				   : strcmp(r->msg_type, "expired") == 0
					   ? " Expired"
					   : "";
		if (strcmp(r->msg_type, "allclear") == 0)
			snprintf(out, cap, "%s Warning: All Clear", hz);
		else
			snprintf(out, cap, "%s %s Warning [%s/%s]%s", hz,
				 si->name_en, si->level, grade_en[sev], tail);
	}
}

static void add_areas(struct store *s, const struct config *cfg,
		      xmlNodePtr info, xmlNsPtr ns, json_t *area)
{
	size_t i;
	json_t *code;
	json_array_foreach(area, i, code) {
		struct region r;
		struct err e;
		const char *c = json_string_value(code);
		if (!c)
			continue;
		xmlNodePtr a = xmlNewChild(info, ns, BAD_CAST "area", NULL);
		add(a, ns, "areaDesc", regions_get(s, c, &r, &e) == 0 ? r.name : c);
		xmlNodePtr g = xmlNewChild(a, ns, BAD_CAST "geocode", NULL);
		add(g, ns, "valueName", cfg->cap_geocode_name);
		add(g, ns, "value", c);
	}
}

static void add_info(struct store *s, const struct config *cfg,
		     xmlNodePtr alert, xmlNsPtr ns, const struct cap_revision *r,
		     bool zh)
{
	const struct hazard *h = catalog_hazard(r->hazard);
	int sev = config_severity_parse(r->severity);
	const struct severity_info *si = catalog_severity(sev);
	char buf[1200], expires[40];
	bool past = is_past(r->msg_type);
	xmlNodePtr info = xmlNewChild(alert, ns, BAD_CAST "info", NULL);
	add(info, ns, "language", zh ? "zh-CN" : "en-US");
	add(info, ns, "category", h ? h->cap_category : "Other");
	add(info, ns, "event", h ? (zh ? h->name_zh : h->name_en) : r->hazard);
	add(info, ns, "responseType",
	    strcmp(r->msg_type, "allclear") == 0 ? "AllClear"
	    : past                               ? "None"
	    : sev >= SEV_ORANGE                  ? "Execute"
						 : "Prepare");
	add(info, ns, "urgency", past ? "Past"
				 : sev == SEV_RED ? "Immediate" : "Expected");
	add(info, ns, "severity", si ? si->cap : "Unknown");
	add(info, ns, "certainty", past ? "Observed" : "Likely");
	cap_time(r->expires_ms, expires, sizeof expires);
	add(info, ns, "expires", expires);
	add(info, ns, "senderName", zh ? cfg->notice_issuer : cfg->notice_issuer_en);
	headline_of(r, zh, buf, sizeof buf);
	add(info, ns, "headline", buf);
	if (zh) {
		add(info, ns, "description", r->description && *r->description
						     ? r->description
						     : r->headline);
		if (r->instruction && *r->instruction)
			add(info, ns, "instruction", r->instruction);
	} else {
		/* the operator writes Chinese; the English info says what and
		 * where, and the library's advice */
		snprintf(buf, sizeof buf, "%s %s warning issued by %s. The "
			 "original message (Chinese): %s",
			 si ? si->name_en : "", h ? h->name_en : r->hazard,
			 cfg->notice_issuer_en, r->headline ? r->headline : "");
		add(info, ns, "description", buf);
	}
	struct err e;
	json_t *notices = library_for_message(s, cfg, r->hazard, "general",
					      zh ? "zh-CN" : "en", &e);
	json_t *first = json_array_get(notices, 0);
	if (!zh && first && !past)
		add(info, ns, "instruction",
		    json_string_value(json_object_get(first, "summary")));
	add(info, ns, "contact", zh ? cfg->notice_contact : cfg->notice_contact_en);
	add_parameter(info, ns, "severity_colour", r->severity);
	add_parameter(info, ns, "hazard", r->hazard);
	add_parameter(info, ns, "warning_level", si ? si->level : "");
	size_t i;
	json_t *n;
	json_array_foreach(notices, i, n) {
		xmlNodePtr res = xmlNewChild(info, ns, BAD_CAST "resource", NULL);
		add(res, ns, "resourceDesc",
		    json_string_value(json_object_get(n, "title")));
		add(res, ns, "mimeType", "text/html");
		add(res, ns, "uri", json_string_value(json_object_get(n, "url")));
	}
	json_decref(notices);
	add_areas(s, cfg, info, ns, r->area);
}

static int serialize(xmlDocPtr doc, char **xml, size_t *len, struct err *err)
{
	xmlChar *mem = NULL;
	int size = 0;
	xmlDocDumpFormatMemoryEnc(doc, &mem, &size, "UTF-8", 1);
	if (!mem || size <= 0) {
		err_oom(err);
		return -1;
	}
	*xml = strndup((const char *)mem, (size_t)size);
	*len = (size_t)size;
	xmlFree(mem);
	if (!*xml) {
		err_oom(err);
		return -1;
	}
	return 0;
}

int cap_export(struct store *s, const struct config *cfg, int64_t emergency,
	       int revision, bool public_only, char **xml, size_t *len,
	       struct err *err)
{
	struct cap_revision *revs = NULL;
	size_t n = 0;
	char sender[CAP_ID_MAX + 1], ident[CAP_ID_MAX + 1], sent[64];
	int rc = -1;
	if (load_revisions(s, emergency, revision, &revs, &n, err) < 0)
		goto done;
	const struct cap_revision *r = &revs[n - 1];
	if (public_only && r->exercise) {
		err_not_found(err, "no public alert %lld (drills are not "
			      "published)", (long long)emergency);
		goto done;
	}
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr alert = xmlNewNode(NULL, BAD_CAST "alert");
	xmlNsPtr ns = xmlNewNs(alert, BAD_CAST CAP_NS, NULL);
	xmlSetNs(alert, ns);
	xmlDocSetRootElement(doc, alert);
	identity(cfg, r, sender, sizeof sender, ident, sizeof ident, sent,
		 sizeof sent);
	add(alert, ns, "identifier", ident);
	add(alert, ns, "sender", sender);
	add(alert, ns, "sent", sent);
	add(alert, ns, "status", r->exercise ? "Exercise" : "Actual");
	add(alert, ns, "msgType", msg_type_of(r->msg_type));
	add(alert, ns, "source", "scicast " SCICAST_VERSION);
	add(alert, ns, "scope", "Public");
	if (r->exercise || strcmp(r->msg_type, "expired") == 0)
		add(alert, ns, "note", r->exercise ? "演练 Exercise: not a real "
						     "alert"
						   : "expired");
	if (n > 1) {
		struct buf refs = BUF_INIT;
		for (size_t i = 0; i + 1 < n; i++) {
			char s2[CAP_ID_MAX + 1], i2[CAP_ID_MAX + 1], t2[64];
			identity(cfg, &revs[i], s2, sizeof s2, i2, sizeof i2, t2,
				 sizeof t2);
			buf_appendf(&refs, "%s%s,%s,%s", i ? " " : "", s2, i2, t2);
		}
		add(alert, ns, "references", buf_str(&refs));
		buf_free(&refs);
	}
	add_info(s, cfg, alert, ns, r, true);
	add_info(s, cfg, alert, ns, r, false);
	rc = serialize(doc, xml, len, err);
	xmlFreeDoc(doc);
done:
	for (size_t i = 0; i < n; i++)
		rev_free(&revs[i]);
	free(revs);
	return rc;
}

int cap_feed(struct store *s, const struct config *cfg, const char *public_url,
	     char **xml, size_t *len, struct err *err)
{
	static const char sql[] = REV_COLUMNS
		" WHERE e.status = 'active' AND e.exercise = 0"
		" AND r.revision = e.revision ORDER BY r.issued_at DESC LIMIT 500";
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr feed = xmlNewNode(NULL, BAD_CAST "feed");
	xmlNsPtr ns = xmlNewNs(feed, BAD_CAST "http://www.w3.org/2005/Atom", NULL);
	xmlSetNs(feed, ns);
	xmlDocSetRootElement(doc, feed);
	char buf[1200], now[40];
	snprintf(buf, sizeof buf, "%s/cap/feed.atom", public_url);
	add(feed, ns, "id", buf);
	snprintf(buf, sizeof buf, "%s — 预警信息 Alerts", cfg->notice_issuer);
	add(feed, ns, "title", buf);
	util_format_iso(util_now_ms(), util_local_offset(), now, sizeof now);
	add(feed, ns, "updated", now);
	xmlNodePtr self = xmlNewChild(feed, ns, BAD_CAST "link", NULL);
	snprintf(buf, sizeof buf, "%s/cap/feed.atom", public_url);
	xmlNewProp(self, BAD_CAST "rel", BAD_CAST "self");
	xmlNewProp(self, BAD_CAST "href", BAD_CAST buf);
	xmlNodePtr author = xmlNewChild(feed, ns, BAD_CAST "author", NULL);
	add(author, ns, "name", cfg->notice_issuer);
	sqlite3_stmt *st = store_stmt(s, sql, err);
	int rc = -1;
	if (!st)
		goto done;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct cap_revision r;
		char sender[CAP_ID_MAX + 1], ident[CAP_ID_MAX + 1], sent[64];
		rev_from_row(st, &r);
		identity(cfg, &r, sender, sizeof sender, ident, sizeof ident,
			 sent, sizeof sent);
		xmlNodePtr e = xmlNewChild(feed, ns, BAD_CAST "entry", NULL);
		snprintf(buf, sizeof buf, "urn:cap:%s:%s", sender, ident);
		add(e, ns, "id", buf);
		headline_of(&r, true, buf, sizeof buf);
		add(e, ns, "title", buf);
		add(e, ns, "updated", sent);
		add(e, ns, "summary", r.headline ? r.headline : "");
		xmlNodePtr l = xmlNewChild(e, ns, BAD_CAST "link", NULL);
		snprintf(buf, sizeof buf, "%s/cap/alerts/%lld", public_url,
			 (long long)r.emergency);
		xmlNewProp(l, BAD_CAST "rel", BAD_CAST "alternate");
		xmlNewProp(l, BAD_CAST "type", BAD_CAST "application/cap+xml");
		xmlNewProp(l, BAD_CAST "href", BAD_CAST buf);
		rev_free(&r);
	}
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		store_fail(s, err, "reading the feed");
		goto done;
	}
	rc = serialize(doc, xml, len, err);
done:
	xmlFreeDoc(doc);
	return rc;
}
