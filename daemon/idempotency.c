/* idempotency: remembering which request made what (see the header). */
#include "idempotency.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "crypto.h"
#include "util.h"

bool idem_key_valid(const char *key)
{
	size_t n = strlen(key);
	if (n == 0 || n > IDEM_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (key[i] <= 0x20 || key[i] >= 0x7F)
			return false;
	return true;
}

int idem_parse(const char *header, const char *actor, const char *what,
	       const json_t *body, struct idem *k, struct err *err)
{
	memset(k, 0, sizeof *k);
	if (!header)
		return 0;
	if (!idem_key_valid(header)) {
		err_set(err, 400, "bad_request", "Idempotency-Key",
			"the Idempotency-Key header must be 1 to %d printable "
			"ASCII characters without spaces (a UUID will do)",
			IDEM_KEY_MAX);
		return -1;
	}
	/* the same request sent again dumps to the same text: keys in
	 * order, no spaces */
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS)
			  : strdup("{}");
	struct buf all = BUF_INIT;
	if (!text || buf_appendf(&all, "%s\n%s", what, text) < 0) {
		free(text);
		buf_free(&all);
		err_oom(err);
		return -1;
	}
	int rc = crypto_sha256_hex(all.data, all.len, k->hash);
	free(text);
	buf_free(&all);
	if (rc < 0) {
		err_internal(err, "cannot hash the request");
		return -1;
	}
	util_copy(k->key, sizeof k->key, header);
	k->actor = actor;
	k->on = true;
	return 0;
}

/* A statement with the operator and the key bound as ?1 and ?2. */
static sqlite3_stmt *key_stmt(struct store *s, const char *sql,
			      const struct idem *k, struct err *err)
{
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (st) {
		store_bind_text(st, 1, k->actor);
		store_bind_text(st, 2, k->key);
	}
	return st;
}

int idem_lookup(struct store *s, const struct idem *k, struct idem_found *out,
		struct err *err)
{
	static const char sql[] =
		"SELECT request_hash, coalesce(emergency_id, 0),"
		" coalesce(approval_id, 0) FROM idempotency_keys"
		" WHERE actor = ? AND key = ?";
	memset(out, 0, sizeof *out);
	if (!k->on)
		return 0;
	sqlite3_stmt *st = key_stmt(s, sql, k, err);
	if (!st)
		return -1;
	int rc = sqlite3_step(st);
	bool same = false;
	if (rc == SQLITE_ROW) {
		same = strcmp(store_col_text(st, 0), k->hash) == 0;
		out->found = true;
		out->emergency = sqlite3_column_int64(st, 1);
		out->approval = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, err, "reading the Idempotency-Key");
	if (out->found && !same) {
		char what[48];
		if (out->emergency)
			snprintf(what, sizeof what, "emergency %lld",
				 (long long)out->emergency);
		else
			snprintf(what, sizeof what, "approval request %lld",
				 (long long)out->approval);
		err_set(err, 422, "invalid", "Idempotency-Key",
			"Idempotency-Key %.100s was used for a different "
			"request (%s); a new request needs a new key",
			k->key, what);
		return -1;
	}
	return 0;
}

int idem_remember(struct store *s, const struct idem *k, int64_t emergency,
		  int64_t approval, struct err *err)
{
	static const char sql[] =
		"INSERT INTO idempotency_keys(actor, key, request_hash,"
		" emergency_id, approval_id, created_at) VALUES (?, ?, ?, ?, ?, ?)";
	if (!k || !k->on)
		return 0;
	sqlite3_stmt *st = key_stmt(s, sql, k, err);
	if (!st)
		return -1;
	store_bind_text(st, 3, k->hash);
	if (emergency)
		sqlite3_bind_int64(st, 4, emergency);
	if (approval)
		sqlite3_bind_int64(st, 5, approval);
	sqlite3_bind_int64(st, 6, util_now_ms());
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		err_set(err, 409, "conflict", "Idempotency-Key",
			"another request with Idempotency-Key %.100s got there "
			"first; send this one again to get its answer", k->key);
		return -1;
	}
	if (rc != SQLITE_DONE)
		return store_fail(s, err, "remembering the Idempotency-Key");
	return 0;
}
