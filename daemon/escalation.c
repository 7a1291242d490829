/* escalation: finds village deliveries that were re-sent resend_max times
 * and stayed unacked for another resend_after, groups them by emergency
 * and town, and plans one escalation message per group to the town's
 * escalation channels, in one transaction with marking the villages as
 * escalated (so a village is reported once). A town with no escalation
 * channel is logged, not retried forever. */
#define _GNU_SOURCE
#include "escalation.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "jsonutil.h"
#include "log.h"
#include "metrics.h"
#include "payload.h"
#include "presence.h"
#include "regions.h"
#include "util.h"

struct silent {
	int64_t delivery;
	int64_t emergency;
	int revision;
	char town[REGION_CODE_LEN + 1];
	char code[REGION_CODE_LEN + 1];
	char name[REGION_NAME_MAX + 1];
	int64_t sent_at;
	int resends;
	char hazard[32];
	char severity[8];
	int exercise;
	int64_t expires_at;
	int screen;           /* 1 offline, 0 online, -1 no screen known */
};

static int find_silent(struct store *s, const struct config *cfg, int64_t now,
		       struct silent **out, size_t *n, struct err *err)
{
	static const char sql[] =
		"SELECT d.id, d.emergency_id, d.revision, d.town_code,"
		" d.region_code, r.name, d.sent_at, d.resends, e.hazard,"
		" e.severity, e.exercise, e.expires_at, "
		PRESENCE_OFFLINE_SQL("d.region_code", "?5")
		" FROM deliveries d"
		" JOIN emergencies e ON e.id = d.emergency_id"
		"  AND e.revision = d.revision AND e.status = 'active'"
		" JOIN regions r ON r.code = d.region_code"
		" WHERE d.kind = 'mqtt' AND d.state = 'sent' AND d.tier = ?1"
		" AND d.escalation = 0 AND d.escalated_at IS NULL"
		" AND d.town_code IS NOT NULL AND e.severity = ?2"
		" AND d.resends >= ?3 AND d.sent_at <= ?4"
		" AND (e.exercise = 0 OR ?6)"
		" ORDER BY d.emergency_id, d.town_code, d.region_code";
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	for (int sev = 0; sev < SEV_COUNT; sev++) {
		const struct severity_policy *pol = &cfg->policy[sev];
		if (!pol->escalate || pol->resend_after_ms <= 0)
			continue;
		sqlite3_stmt *st = store_stmt(s, sql, err);
		if (!st)
			return -1;
		sqlite3_bind_int(st, 1, LEVEL_VILLAGE);
		store_bind_text(st, 2, config_severity_name(sev));
		sqlite3_bind_int(st, 3, pol->resend_max);
		sqlite3_bind_int64(st, 4, now - pol->resend_after_ms);
		sqlite3_bind_int64(st, 5, now);
		/* a drill calls nobody out unless told to */
		sqlite3_bind_int(st, 6, cfg->drills_escalate);
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 64;
				struct silent *g = realloc(*out, cap * sizeof *g);
				if (!g) {
					sqlite3_reset(st);
					err_oom(err);
					return -1;
				}
				*out = g;
			}
			struct silent *x = &(*out)[(*n)++];
			x->delivery = sqlite3_column_int64(st, 0);
			x->emergency = sqlite3_column_int64(st, 1);
			x->revision = sqlite3_column_int(st, 2);
			snprintf(x->town, sizeof x->town, "%s", store_col_text(st, 3));
			snprintf(x->code, sizeof x->code, "%s", store_col_text(st, 4));
			snprintf(x->name, sizeof x->name, "%s", store_col_text(st, 5));
			x->sent_at = sqlite3_column_int64(st, 6);
			x->resends = sqlite3_column_int(st, 7);
			snprintf(x->hazard, sizeof x->hazard, "%s",
				 store_col_text(st, 8));
			snprintf(x->severity, sizeof x->severity, "%s",
				 store_col_text(st, 9));
			x->exercise = sqlite3_column_int(st, 10);
			x->expires_at = sqlite3_column_int64(st, 11);
			x->screen = sqlite3_column_type(st, 12) == SQLITE_NULL
					    ? -1
					    : sqlite3_column_int(st, 12);
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return store_fail(s, err, "finding silent villages");
	}
	return 0;
}

static char *escalation_payload(const struct silent *first, size_t count,
				const struct region *town, const char *message_id,
				int64_t now)
{
	char issued[40], at[40];
	util_format_local(now, issued, sizeof issued);
	int sev = config_severity_parse(first->severity);
	const struct hazard *h = catalog_hazard(first->hazard);
	json_t *silent = json_array();
	for (size_t i = 0; silent && i < count; i++) {
		util_format_local(first[i].sent_at, at, sizeof at);
		/* a silent village whose screen is dead needs someone to go
		 * there, not another re-send: say which it is */
		json_array_append_new(silent, json_pack(
			"{s:s, s:o, s:s, s:i, s:s}", "code", first[i].code,
			"name", ju_string(first[i].name), "last_attempt", at,
			"resends", first[i].resends, "screen",
			first[i].screen == 1   ? "offline"
			: first[i].screen == 0 ? "online"
					       : "unknown"));
	}
	json_t *o = json_pack(
		"{s:s, s:s, s:I, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:o},"
		" s:I, s:o, s:s}",
		"schema", "scicast.escalation/1",
		"message_id", message_id,
		"emergency_id", (json_int_t)first->emergency,
		"revision", first->revision,
		"msg_type", "escalation",
		"status", first->exercise ? "exercise" : "actual",
		"hazard", first->hazard,
		"hazard_name", h ? h->name_zh : first->hazard,
		"severity", first->severity,
		"colour", payload_colour(sev),
		"town", "code", town->code, "name", ju_string(town->name),
		"silent_count", (json_int_t)count,
		"silent", silent ? silent : json_array(),
		"issued", issued);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

/* Plans one escalation: the message, a delivery per escalation channel,
 * and the villages marked. */
static int escalate_group(struct store *s, const struct silent *g, size_t n,
			  int64_t now, bool *sent, struct err *err)
{
	static const char sql_ch[] =
		"SELECT id, kind FROM channels WHERE region_code = ?"
		" AND role = 'escalation' AND enabled = 1 ORDER BY id";
	static const char sql_msg[] =
		"INSERT INTO messages(emergency_id, revision, message_id,"
		" region_code, tier, locale, audience, msg_type, expires_at,"
		" payload) VALUES (?, ?, ?, ?, ?, 'zh-CN', 'general',"
		" 'escalation', ?, ?)";
	static const char sql_del[] =
		"INSERT INTO deliveries(message, emergency_id, revision,"
		" channel_id, kind, region_code, tier, town_code, priority,"
		" state, next_attempt_at, created_at, escalation)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, 200, 'pending', ?, ?, 1)";
	static const char sql_mark[] =
		"UPDATE deliveries SET escalated_at = ? WHERE id = ?";
	struct region town;
	int64_t channels[64];
	char kinds[64][8];
	int nch = 0;
	*sent = false;
	if (regions_get(s, g->town, &town, err) < 0)
		return -1;
	sqlite3_stmt *st = store_stmt(s, sql_ch, err);
	if (!st)
		return -1;
	store_bind_text(st, 1, g->town);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && nch < 64) {
		channels[nch] = sqlite3_column_int64(st, 0);
		snprintf(kinds[nch], sizeof kinds[0], "%s", store_col_text(st, 1));
		nch++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_fail(s, err, "reading escalation channels");
	if (nch == 0) {
		log_warn("escalation: %zu village(s) of %s (%s) stay silent in "
			 "emergency %lld, and the town has no escalation "
			 "channel", n, town.name, town.code,
			 (long long)g->emergency);
	} else {
		char message_id[96];
		snprintf(message_id, sizeof message_id, "e%lld-r%d-esc-%s-%lld",
			 (long long)g->emergency, g->revision, g->town,
			 (long long)g->delivery);
		char *payload = escalation_payload(g, n, &town, message_id, now);
		if (!payload) {
			err_oom(err);
			return -1;
		}
		st = store_stmt(s, sql_msg, err);
		if (!st) {
			free(payload);
			return -1;
		}
		sqlite3_bind_int64(st, 1, g->emergency);
		sqlite3_bind_int(st, 2, g->revision);
		store_bind_text(st, 3, message_id);
		store_bind_text(st, 4, g->town);
		sqlite3_bind_int(st, 5, LEVEL_TOWN);
		sqlite3_bind_int64(st, 6, g->expires_at);
		store_bind_text(st, 7, payload);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		free(payload);
		if (rc != SQLITE_DONE)
			return store_fail(s, err, "writing an escalation");
		int64_t message = sqlite3_last_insert_rowid(store_db(s));
		for (int c = 0; c < nch; c++) {
			st = store_stmt(s, sql_del, err);
			if (!st)
				return -1;
			sqlite3_bind_int64(st, 1, message);
			sqlite3_bind_int64(st, 2, g->emergency);
			sqlite3_bind_int(st, 3, g->revision);
			sqlite3_bind_int64(st, 4, channels[c]);
			store_bind_text(st, 5, kinds[c]);
			store_bind_text(st, 6, g->town);
			sqlite3_bind_int(st, 7, LEVEL_TOWN);
			store_bind_text(st, 8, g->town);
			sqlite3_bind_int64(st, 9, now);
			sqlite3_bind_int64(st, 10, now);
			rc = sqlite3_step(st);
			sqlite3_reset(st);
			if (rc != SQLITE_DONE)
				return store_fail(s, err, "writing an escalation");
		}
		log_warn("escalation: %zu silent village(s) of %s reported to %d "
			 "escalation channel(s) (emergency %lld)", n, town.name,
			 nch, (long long)g->emergency);
		*sent = true;
	}
	for (size_t i = 0; i < n; i++) {
		st = store_stmt(s, sql_mark, err);
		if (!st)
			return -1;
		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_int64(st, 2, g[i].delivery);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return store_fail(s, err, "marking escalated villages");
	}
	return 0;
}

int escalation_due(struct store *s, const struct config *cfg, int64_t now,
		   struct err *err)
{
	struct silent *rows = NULL;
	size_t n = 0;
	int sent = 0;
	/* a cheap look first: most seconds there is nothing to do, and the
	 * write lock is not taken for nothing */
	if (find_silent(s, cfg, now, &rows, &n, err) < 0) {
		free(rows);
		return -1;
	}
	free(rows);
	rows = NULL;
	if (n == 0)
		return 0;
	if (store_begin(s, err) < 0)
		return -1;
	if (find_silent(s, cfg, now, &rows, &n, err) < 0)
		goto fail;
	size_t k = 0;
	while (k < n) {
		size_t end = k;
		while (end < n && rows[end].emergency == rows[k].emergency &&
		       strcmp(rows[end].town, rows[k].town) == 0)
			end++;
		bool did;
		if (escalate_group(s, &rows[k], end - k, now, &did, err) < 0)
			goto fail;
		sent += did;
		k = end;
	}
	if (store_commit(s, err) < 0)
		goto fail;
	free(rows);
	if (sent)
		metrics_add(M_ESCALATIONS, (uint64_t)sent);
	return sent;
fail:
	store_rollback(s);
	free(rows);
	return -1;
}
