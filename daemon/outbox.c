/* outbox: queue operations over the deliveries table. The state lives only
 * in the database, so a crash loses nothing: on restart whatever was in
 * flight is pending again and goes out once more (receivers de-duplicate
 * by message_id). */
#define _GNU_SOURCE
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "presence.h"
#include "util.h"

void outbox_item_free(struct outbox_item *it)
{
	free(it->target);
	free(it->payload);
	if (it->secret) {
		explicit_bzero(it->secret, strlen(it->secret));
		free(it->secret);
	}
	free(it->headers);
	memset(it, 0, sizeof *it);
}

void outbox_items_free(struct outbox_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		outbox_item_free(&items[i]);
	free(items);
}

static int step_done(struct store *s, sqlite3_stmt *st, const char *what,
		     struct err *err)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, err, what);
	return 0;
}

int outbox_reset_inflight(struct store *s, const char *kind, struct err *err)
{
	static const char sql[] = "UPDATE deliveries SET state = 'pending'"
				  " WHERE state = 'inflight' AND kind = ?";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	store_bind_text(st, 1, kind);
	if (step_done(s, st, "resetting in-flight deliveries", err) < 0)
		return -1;
	int n = sqlite3_changes(store_db(s));
	if (n)
		log_info("outbox: %d %s deliveries were in flight at the last "
			 "stop; they go out again", n, kind);
	return 0;
}

#define CLAIM_SELECT                                                          \
	"SELECT d.id, d.channel_id, d.emergency_id, m.message_id,"            \
	" d.region_code, d.tier, d.attempts, m.expires_at, c.target,"         \
	" r.path, m.payload, c.secret, c.headers, c.timeout_ms,"              \
	" c.max_concurrency, m.msg_type"
#define CLAIM_JOINS                                                           \
	" JOIN messages m ON m.id = d.message"                                \
	" JOIN channels c ON c.id = d.channel_id"                             \
	" JOIN regions r ON r.code = d.region_code"
#define CLAIM_WHERE                                                           \
	" WHERE d.kind = ?1 AND d.state = 'pending'"                          \
	" AND d.next_attempt_at <= ?2 AND c.enabled = 1"
#define CLAIM_COLUMNS                                                         \
	CLAIM_SELECT " FROM deliveries d" CLAIM_JOINS CLAIM_WHERE

/* Delivery ids as a JSON array, bound as one parameter and read with
 * json_each: one statement for a batch instead of one per id. */
static int id_list_add(struct buf *b, int64_t id)
{
	return buf_appendf(b, "%c%lld", b->len ? ',' : '[', (long long)id);
}

static int id_list_end(struct buf *b)
{
	return b->len ? buf_append_char(b, ']') : buf_append_str(b, "[]");
}

static int read_item(sqlite3_stmt *st, const char *alert_prefix,
		     struct outbox_item *it)
{
	it->delivery = sqlite3_column_int64(st, 0);
	it->channel = sqlite3_column_int64(st, 1);
	it->emergency = sqlite3_column_int64(st, 2);
	util_copy(it->message_id, sizeof it->message_id,
		 store_col_text(st, 3));
	util_copy(it->region, sizeof it->region, store_col_text(st, 4));
	it->tier = sqlite3_column_int(st, 5);
	it->attempts = sqlite3_column_int(st, 6) + 1;
	it->expires_ms = sqlite3_column_int64(st, 7);
	if (sqlite3_column_type(st, 8) != SQLITE_NULL) {
		it->target = strdup(store_col_text(st, 8));
	} else {
		size_t len = strlen(alert_prefix) + 1 +
			     strlen(store_col_text(st, 9)) + 1;
		it->target = malloc(len);
		if (it->target)
			snprintf(it->target, len, "%s/%s", alert_prefix,
				 store_col_text(st, 9));
	}
	it->payload_len = (size_t)sqlite3_column_bytes(st, 10);
	it->payload = strndup(store_col_text(st, 10), it->payload_len);
	if (sqlite3_column_type(st, 11) != SQLITE_NULL)
		it->secret = strdup(store_col_text(st, 11));
	if (sqlite3_column_type(st, 12) != SQLITE_NULL)
		it->headers = strdup(store_col_text(st, 12));
	it->timeout_ms = sqlite3_column_int64(st, 13);
	it->max_concurrency = sqlite3_column_int(st, 14);
	util_copy(it->msg_type, sizeof it->msg_type, store_col_text(st, 15));
	return it->target && it->payload ? 0 : -1;
}

static int claim(struct store *s, const char *sql, const char *kind,
		 const char *alert_prefix, int limit,
		 struct outbox_item **items, size_t *n, struct err *err)
{
	/* one statement for the batch: a statement per row was a third of
	 * the claim's time */
	static const char sql_take[] =
		"UPDATE deliveries SET state = 'inflight',"
		" attempts = attempts + 1"
		" WHERE id IN (SELECT value FROM json_each(?))";
	struct buf ids = BUF_INIT;
	struct outbox_item *out = NULL;
	size_t count = 0;
	*items = NULL;
	*n = 0;
	if (limit <= 0)
		return 0;
	out = calloc((size_t)limit, sizeof *out);
	if (!out) {
		err_oom(err);
		return -1;
	}
	if (store_begin(s, err) < 0)
		goto fail;
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		goto rollback;
	store_bind_text(st, 1, kind);
	sqlite3_bind_int64(st, 2, util_now_ms());
	sqlite3_bind_int(st, 3, limit);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (read_item(st, alert_prefix, &out[count++]) < 0) {
			sqlite3_reset(st);
			err_oom(err);
			goto rollback;
		}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_fail(s, err, "claiming deliveries");
		goto rollback;
	}
	if (count) {
		int bad = 0;
		for (size_t i = 0; i < count; i++)
			bad |= id_list_add(&ids, out[i].delivery);
		if ((bad | id_list_end(&ids)) < 0) {
			err_oom(err);
			goto rollback;
		}
		st = store_stmt(s, sql_take, err);
		if (!st)
			goto rollback;
		sqlite3_bind_text(st, 1, buf_str(&ids), (int)ids.len,
				  SQLITE_TRANSIENT);
		if (step_done(s, st, "claiming deliveries", err) < 0)
			goto rollback;
	}
	if (store_commit(s, err) < 0)
		goto rollback;
	buf_free(&ids);
	*items = out;
	*n = count;
	return 0;
rollback:
	store_rollback(s);
fail:
	buf_free(&ids);
	outbox_items_free(out, count);
	return -1;
}

int outbox_claim(struct store *s, const char *kind, const char *alert_prefix,
		 int limit, struct outbox_item **items, size_t *n,
		 struct err *err)
{
	static const char sql[] = CLAIM_COLUMNS
		" ORDER BY d.priority DESC, d.next_attempt_at, d.id LIMIT ?3";
	return claim(s, sql, kind, alert_prefix, limit, items, n, err);
}

int outbox_peek(struct store *s, const char *kind, const char *alert_prefix,
		int limit, bool (*taken)(void *ud, int64_t delivery), void *ud,
		struct outbox_item **items, size_t *n, struct err *err)
{
	/* ids first, from the index alone: the ones already in flight come
	 * first in this order and are passed over cheaply */
	static const char sql_ids[] =
		"SELECT d.id FROM deliveries d"
		" JOIN channels c ON c.id = d.channel_id AND c.enabled = 1"
		" WHERE d.kind = ?1 AND d.state = 'pending'"
		" AND d.next_attempt_at <= ?2"
		" ORDER BY d.priority DESC, d.next_attempt_at, d.id LIMIT ?3";
	/* then the rows themselves in one statement, driven by the id list
	 * (CROSS JOIN keeps SQLite from scanning the due index instead): a
	 * statement per id cost the peek a third more (perf, Guangdong).
	 * No ORDER BY: the list is in due order already, and CROSS JOIN makes
	 * json_each, which walks its array in order, the outer loop; sorting
	 * again copied every row, payload and all, through a temporary
	 * B-tree. */
	static const char sql_items[] = CLAIM_SELECT
		" FROM json_each(?3) AS j CROSS JOIN deliveries d ON d.id = j.value"
		CLAIM_JOINS CLAIM_WHERE;
	struct buf idlist = BUF_INIT;
	struct outbox_item *out = NULL;
	size_t count = 0;
	int64_t *ids = NULL;
	size_t nids = 0;
	int rc;
	*items = NULL;
	*n = 0;
	if (limit <= 0)
		return 0;
	int scan = limit + (int)OUTBOX_PEEK_SLACK;
	out = calloc((size_t)limit, sizeof *out);
	ids = calloc((size_t)limit, sizeof *ids);
	if (!out || !ids) {
		err_oom(err);
		goto fail;
	}
	int64_t now = util_now_ms();
	sqlite3_stmt *st = store_stmt(s, sql_ids, err);
	if (!st)
		goto fail;
	store_bind_text(st, 1, kind);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int(st, 3, scan);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && nids < (size_t)limit) {
		int64_t id = sqlite3_column_int64(st, 0);
		if (!taken(ud, id))
			ids[nids++] = id;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		store_fail(s, err, "finding due deliveries");
		goto fail;
	}
	if (nids) {
		int bad = 0;
		for (size_t i = 0; i < nids; i++)
			bad |= id_list_add(&idlist, ids[i]);
		if ((bad | id_list_end(&idlist)) < 0) {
			err_oom(err);
			goto fail;
		}
		st = store_stmt(s, sql_items, err);
		if (!st)
			goto fail;
		store_bind_text(st, 1, kind);
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_text(st, 3, buf_str(&idlist), (int)idlist.len,
				  SQLITE_TRANSIENT);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW && count < nids)
			if (read_item(st, alert_prefix, &out[count++]) < 0) {
				sqlite3_reset(st);
				err_oom(err);
				goto fail;
			}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
			store_fail(s, err, "reading due deliveries");
			goto fail;
		}
	}
	free(ids);
	buf_free(&idlist);
	*items = out;
	*n = count;
	return 0;
fail:
	free(ids);
	buf_free(&idlist);
	outbox_items_free(out, count);
	return -1;
}

int outbox_claim_except_busy(struct store *s, const char *kind, int limit,
			     struct outbox_item **items, size_t *n,
			     struct err *err)
{
	static const char sql[] = CLAIM_COLUMNS
		" AND d.channel_id NOT IN (SELECT channel_id FROM"
		"  temp.outbox_busy)"
		" ORDER BY d.priority DESC, d.next_attempt_at, d.id LIMIT ?3";
	return claim(s, sql, kind, "", limit, items, n, err);
}

int outbox_busy_setup(struct store *s, struct err *err)
{
	return store_exec(s, "CREATE TEMP TABLE IF NOT EXISTS outbox_busy"
			     " (channel_id INTEGER PRIMARY KEY)", err);
}

int outbox_busy_set(struct store *s, int64_t channel, bool busy,
		    struct err *err)
{
	static const char sql_add[] =
		"INSERT OR IGNORE INTO temp.outbox_busy(channel_id) VALUES (?)";
	static const char sql_del[] =
		"DELETE FROM temp.outbox_busy WHERE channel_id = ?";
	sqlite3_stmt *st = store_stmt(s, busy ? sql_add : sql_del, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, channel);
	return step_done(s, st, "marking a busy channel", err);
}

int outbox_record_results(struct store *s, const struct outbox_result *r,
			  size_t n, struct err *err)
{
	static const char sql_attempt[] =
		"INSERT INTO delivery_attempts(delivery_id, attempt, started_at,"
		" duration_ms, http_status, outcome, error, next_attempt_at)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
	static const char sql_acked[] =
		"UPDATE deliveries SET state = 'acked', sent_at = ?2,"
		" acked_at = ?2, ack_status = ?3, last_error = NULL"
		" WHERE id = ?1 AND state = 'inflight'";
	static const char sql_retry[] =
		"UPDATE deliveries SET state = CASE WHEN ?4 THEN 'dead'"
		" ELSE 'pending' END, next_attempt_at = ?2, last_error = ?3"
		" WHERE id = ?1 AND state = 'inflight'";
	static const char sql_gone[] =
		"UPDATE channels SET enabled = 0, disabled_reason = ?2,"
		" updated_at = ?3 WHERE id = ?1";
	static const char sql_gone_rest[] =
		"UPDATE deliveries SET state = 'dead', last_error = ?2"
		" WHERE channel_id = ?1 AND state IN ('pending', 'failed')";
	if (!n)
		return 0;
	if (store_begin(s, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct outbox_result *x = &r[i];
		sqlite3_stmt *st = store_stmt(s, sql_attempt, err);
		if (!st)
			goto fail;
		sqlite3_bind_int64(st, 1, x->delivery);
		sqlite3_bind_int(st, 2, x->attempt);
		sqlite3_bind_int64(st, 3, x->started_ms);
		sqlite3_bind_int64(st, 4, x->duration_ms);
		if (x->http_status)
			sqlite3_bind_int(st, 5, x->http_status);
		store_bind_text(st, 6, x->outcome);
		store_bind_text(st, 7, x->error[0] ? x->error : NULL);
		if (x->next_ms)
			sqlite3_bind_int64(st, 8, x->next_ms);
		if (step_done(s, st, "recording an attempt", err) < 0)
			goto fail;
		if (strcmp(x->outcome, "acked") == 0) {
			char status[24];
			snprintf(status, sizeof status, "http %d", x->http_status);
			st = store_stmt(s, sql_acked, err);
			if (!st)
				goto fail;
			sqlite3_bind_int64(st, 1, x->delivery);
			sqlite3_bind_int64(st, 2, x->started_ms + x->duration_ms);
			store_bind_text(st, 3, status);
		} else {
			st = store_stmt(s, sql_retry, err);
			if (!st)
				goto fail;
			sqlite3_bind_int64(st, 1, x->delivery);
			sqlite3_bind_int64(st, 2, x->next_ms);
			store_bind_text(st, 3, x->error);
			sqlite3_bind_int(st, 4, strcmp(x->outcome, "retry") != 0);
		}
		if (step_done(s, st, "recording a delivery", err) < 0)
			goto fail;
		if (strcmp(x->outcome, "gone") == 0) {
			st = store_stmt(s, sql_gone, err);
			if (!st)
				goto fail;
			sqlite3_bind_int64(st, 1, x->channel);
			store_bind_text(st, 2, x->error);
			sqlite3_bind_int64(st, 3, util_now_ms());
			if (step_done(s, st, "disabling a channel", err) < 0)
				goto fail;
			st = store_stmt(s, sql_gone_rest, err);
			if (!st)
				goto fail;
			sqlite3_bind_int64(st, 1, x->channel);
			store_bind_text(st, 2, x->error);
			if (step_done(s, st, "disabling a channel", err) < 0)
				goto fail;
		}
	}
	if (store_commit(s, err) == 0)
		return 0;
fail:
	store_rollback(s);
	return -1;
}

int outbox_redrive(struct store *s, int64_t delivery, int64_t emergency,
		   long *count, struct err *err)
{
	static const char sql_one[] =
		"UPDATE deliveries SET state = 'pending', attempts = 0,"
		" next_attempt_at = ?2 WHERE id = ?1"
		" AND state IN ('dead', 'failed')";
	static const char sql_all[] =
		"UPDATE deliveries SET state = 'pending', attempts = 0,"
		" next_attempt_at = ?2 WHERE emergency_id = ?1 AND state = 'dead'"
		" AND channel_id IN (SELECT id FROM channels WHERE enabled = 1)";
	sqlite3_stmt *st = store_stmt(s, delivery ? sql_one : sql_all, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, delivery ? delivery : emergency);
	sqlite3_bind_int64(st, 2, util_now_ms());
	if (step_done(s, st, "re-driving deliveries", err) < 0)
		return -1;
	*count = sqlite3_changes(store_db(s));
	return 0;
}

int outbox_any_due(struct store *s, int64_t now, struct err *err)
{
	/* the due index's condition, so it is read from that index alone */
	static const char sql[] =
		"SELECT EXISTS (SELECT 1 FROM deliveries WHERE state = 'pending'"
		" AND next_attempt_at <= ?1)";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	int rc = sqlite3_step(st);
	int any = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_reset(st);
	if (any < 0)
		return store_fail(s, err, "looking for due deliveries");
	return any;
}

int outbox_mark_sent(struct store *s, const int64_t *ids, size_t n,
		     int64_t now, struct err *err)
{
	/* whether anyone was there to see it: the region's screens as the
	 * broker took the message. Pending: MQTT deliveries are not marked
	 * in flight (outbox_peek); a superseded one stays superseded. One
	 * statement for the batch (the ids as a JSON array). */
	static const char sql[] =
		"UPDATE deliveries SET state = 'sent', sent_at = ?2,"
		" attempts = attempts + 1, last_error = NULL, offline_at_send = "
		PRESENCE_OFFLINE_SQL("deliveries.region_code", "?2")
		" WHERE id IN (SELECT value FROM json_each(?1))"
		" AND state IN ('pending', 'inflight')";
	struct buf list = BUF_INIT;
	if (!n)
		return 0;
	int bad = 0;
	for (size_t i = 0; i < n; i++)
		bad |= id_list_add(&list, ids[i]);
	if ((bad | id_list_end(&list)) < 0) {
		buf_free(&list);
		err_oom(err);
		return -1;
	}
	if (store_begin(s, err) < 0) {
		buf_free(&list);
		return -1;
	}
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		goto fail;
	sqlite3_bind_text(st, 1, buf_str(&list), (int)list.len,
			  SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now);
	if (step_done(s, st, "marking deliveries sent", err) < 0)
		goto fail;
	if (store_commit(s, err) < 0)
		goto fail;
	buf_free(&list);
	return 0;
fail:
	store_rollback(s);
	buf_free(&list);
	return -1;
}

int outbox_parse_ack(const char *region, const void *payload, size_t len,
		     struct outbox_ack *out, char *why, size_t cap)
{
	json_error_t je;
	int rc = -1;
	if (!util_is_region_code(region, strlen(region))) {
		snprintf(why, cap, "the topic does not end in a 12-digit region "
			 "code");
		return -1;
	}
	if (len == 0 || len > 4096) {
		snprintf(why, cap, "empty or over 4096 bytes");
		return -1;
	}
	json_t *j = json_loadb(payload, len, 0, &je);
	const char *id = json_string_value(json_object_get(j, "message_id"));
	const char *status = json_string_value(json_object_get(j, "status"));
	if (!j)
		snprintf(why, cap, "%s", je.text);
	else if (!id || !*id || strlen(id) >= sizeof out->message_id)
		snprintf(why, cap, "no message_id string");
	else if (!status || (strcmp(status, "received") != 0 &&
			     strcmp(status, "displayed") != 0 &&
			     strcmp(status, "played") != 0))
		snprintf(why, cap, "status is not received, displayed or played");
	else {
		util_copy(out->message_id, sizeof out->message_id, id);
		util_copy(out->region, sizeof out->region, region);
		util_copy(out->status, sizeof out->status, status);
		out->at = 0;
		rc = 0;
	}
	json_decref(j);
	return rc;
}

int outbox_mark_acked(struct store *s, const struct outbox_ack *acks,
		      size_t n, long *unknown, struct err *err)
{
	/* the best status stays: received < displayed < played, whatever
	 * order the acks arrive in (several screens may share a region) */
	static const char sql[] =
		"UPDATE deliveries SET state = 'acked',"
		" acked_at = coalesce(acked_at, ?3),"
		" sent_at = coalesce(sent_at, ?3),"
		" ack_status = CASE WHEN ack_status IS NULL"
		"  OR instr('received displayed played', ?4) >"
		"  instr('received displayed played', ack_status)"
		"  THEN ?4 ELSE ack_status END"
		" WHERE message = (SELECT id FROM messages WHERE message_id = ?1)"
		" AND kind = 'mqtt' AND region_code = ?2"
		" AND state IN ('pending', 'inflight', 'sent', 'acked')";
	*unknown = 0;
	if (!n)
		return 0;
	if (store_begin(s, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = store_stmt(s, sql, err);
		if (!st)
			goto fail;
		store_bind_text(st, 1, acks[i].message_id);
		store_bind_text(st, 2, acks[i].region);
		sqlite3_bind_int64(st, 3, acks[i].at);
		store_bind_text(st, 4, acks[i].status);
		if (step_done(s, st, "recording acks", err) < 0)
			goto fail;
		if (sqlite3_changes(store_db(s)) == 0) {
			(*unknown)++;
			log_info("ack for unknown message_id \"%s\" from region "
				 "%s ignored", acks[i].message_id,
				 acks[i].region);
		}
	}
	if (store_commit(s, err) == 0)
		return 0;
fail:
	store_rollback(s);
	return -1;
}

int outbox_mark_failed(struct store *s, int64_t id, const char *error,
		       int64_t next_ms, bool dead, struct err *err)
{
	static const char sql[] =
		"UPDATE deliveries SET state = CASE WHEN ?4 THEN 'dead'"
		" ELSE 'pending' END, last_error = ?2, next_attempt_at = ?3,"
		" attempts = attempts + 1"
		" WHERE id = ?1 AND state IN ('pending', 'inflight')";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	store_bind_text(st, 2, error);
	sqlite3_bind_int64(st, 3, next_ms);
	sqlite3_bind_int(st, 4, dead);
	return store_write(s, st, "recording a failed delivery", err);
}

int outbox_supersede(struct store *s, int64_t emergency, int revision,
		     struct err *err)
{
	static const char sql[] =
		"UPDATE deliveries SET state = 'superseded'"
		" WHERE emergency_id = ? AND revision < ?"
		" AND state IN ('pending', 'inflight', 'failed')";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, emergency);
	sqlite3_bind_int(st, 2, revision);
	return step_done(s, st, "superseding older deliveries", err);
}

long outbox_resend_due(struct store *s, const struct config *cfg,
		       int64_t now, struct err *err)
{
	static const char sql[] =
		"UPDATE deliveries SET state = 'pending', next_attempt_at = ?1,"
		" resends = resends + 1"
		" WHERE kind = 'mqtt' AND state = 'sent' AND tier = ?4"
		" AND sent_at <= ?1 - ?2 AND resends < ?3"
		" AND emergency_id IN (SELECT id FROM emergencies"
		"  WHERE status = 'active' AND severity = ?5)"
		" AND revision = (SELECT e.revision FROM emergencies e"
		"  WHERE e.id = deliveries.emergency_id)";
	long total = 0;
	/* one transaction of ours for all of them: it waits its turn (see
	 * store_write) */
	if (store_begin(s, err) < 0)
		return -1;
	for (int sev = 0; sev < SEV_COUNT; sev++) {
		const struct severity_policy *pol = &cfg->policy[sev];
		if (pol->resend_after_ms <= 0 || pol->resend_max <= 0)
			continue;
		sqlite3_stmt *st = store_stmt(s, sql, err);
		if (!st)
			goto fail;
		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_int64(st, 2, pol->resend_after_ms);
		sqlite3_bind_int(st, 3, pol->resend_max);
		sqlite3_bind_int(st, 4, LEVEL_VILLAGE);
		store_bind_text(st, 5, config_severity_name(sev));
		if (step_done(s, st, "re-sending unacked deliveries", err) < 0)
			goto fail;
		total += sqlite3_changes(store_db(s));
	}
	if (store_commit(s, err) == 0)
		return total;
fail:
	store_rollback(s);
	return -1;
}

int64_t outbox_next_due(struct store *s, const char *kind, struct err *err)
{
	static const char sql[] =
		"SELECT min(next_attempt_at) FROM deliveries"
		" WHERE kind = ? AND state = 'pending'";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	store_bind_text(st, 1, kind);
	int rc = sqlite3_step(st);
	int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return store_fail(s, err, "reading the outbox");
	return v;
}
