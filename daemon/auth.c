/* auth: tokens. The database holds only SHA-256(token); a request's token
 * is hashed and looked up, and the stored hash is compared in constant
 * time, so neither the database nor the timing of a refusal gives a token
 * away. Tokens are never logged. */
#define _GNU_SOURCE
#include "auth.h"

#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "jsonutil.h"
#include "util.h"

#define TOKEN_PREFIX "sct_"
#define TOKEN_RANDOM 32

static const char *const role_names[] = { "public", "viewer", "operator",
					  "admin" };

const char *auth_role_name(enum role r)
{
	return (unsigned)r < 4 ? role_names[r] : "?";
}

int auth_role_parse(const char *s)
{
	for (int r = ROLE_VIEWER; r <= ROLE_ADMIN; r++)
		if (strcmp(s, role_names[r]) == 0)
			return r;
	return -1;
}

static bool token_shaped(const char *t)
{
	size_t n = strlen(t);
	if (n < 10 || n >= AUTH_TOKEN_MAX || strncmp(t, TOKEN_PREFIX, 4) != 0)
		return false;
	for (size_t i = 4; i < n; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
		      (t[i] >= '0' && t[i] <= '9') || t[i] == '-' || t[i] == '_'))
			return false;
	return true;
}

int auth_token_create(struct store *s, const char *name, enum role role,
		      int64_t expires_ms, const char *created_by,
		      char token_out[AUTH_TOKEN_MAX], int64_t *id,
		      struct err *err)
{
	static const char sql[] =
		"INSERT INTO tokens(name, role, hash, prefix, created_at,"
		" created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
	unsigned char raw[TOKEN_RANDOM];
	char b64[64], hash[65];
	size_t nlen = strlen(name);
	if (nlen == 0 || nlen > AUTH_NAME_MAX || !util_utf8_valid(name, nlen)) {
		err_invalid(err, "name", "name must be 1 to %d bytes of text",
			    AUTH_NAME_MAX);
		return -1;
	}
	if (role < ROLE_VIEWER || role > ROLE_ADMIN) {
		err_invalid(err, "role", "role must be viewer, operator or admin");
		return -1;
	}
	if (expires_ms && expires_ms <= util_now_ms()) {
		err_invalid(err, "expires_at", "the expiry is in the past");
		return -1;
	}
	if (crypto_random(raw, sizeof raw) < 0 ||
	    crypto_base64url_encode(raw, sizeof raw, b64, sizeof b64) < 0) {
		explicit_bzero(raw, sizeof raw);
		err_internal(err, "no random bytes from the OS");
		return -1;
	}
	explicit_bzero(raw, sizeof raw);
	snprintf(token_out, AUTH_TOKEN_MAX, "%s%.50s", TOKEN_PREFIX, b64);
	explicit_bzero(b64, sizeof b64);
	crypto_sha256_hex(token_out, strlen(token_out), hash);
	char prefix[16];
	snprintf(prefix, sizeof prefix, "%.8s", token_out);
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		goto fail;
	store_bind_text(st, 1, name);
	store_bind_text(st, 2, auth_role_name(role));
	store_bind_text(st, 3, hash);
	store_bind_text(st, 4, prefix);
	sqlite3_bind_int64(st, 5, util_now_ms());
	store_bind_text(st, 6, created_by);
	if (expires_ms)
		sqlite3_bind_int64(st, 7, expires_ms);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_fail(s, err, "saving a token");
		goto fail;
	}
	*id = sqlite3_last_insert_rowid(store_db(s));
	return 0;
fail:
	explicit_bzero(token_out, AUTH_TOKEN_MAX);
	return -1;
}

int auth_check(struct store *s, const char *token, struct auth_identity *who,
	       struct err *err)
{
	static const char sql[] =
		"SELECT id, name, role, hash, expires_at, revoked_at FROM tokens"
		" WHERE hash = ?";
	char hash[65];
	if (!token_shaped(token)) {
		err_set(err, 401, "unauthorized", "", "the token is not valid");
		return -1;
	}
	crypto_sha256_hex(token, strlen(token), hash);
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	store_bind_text(st, 1, hash);
	int rc = sqlite3_step(st);
	int result = -1;
	if (rc == SQLITE_ROW) {
		const char *stored = store_col_text(st, 3);
		bool same = strlen(stored) == 64 && util_ct_equal(stored, hash, 64);
		int64_t expires = sqlite3_column_int64(st, 4);
		bool revoked = sqlite3_column_type(st, 5) != SQLITE_NULL;
		if (!same)
			err_set(err, 401, "unauthorized", "", "the token is not valid");
		else if (revoked)
			err_set(err, 401, "unauthorized", "",
				"the token was revoked");
		else if (expires && expires <= util_now_ms())
			err_set(err, 401, "unauthorized", "", "the token expired");
		else {
			who->token_id = sqlite3_column_int64(st, 0);
			snprintf(who->name, sizeof who->name, "%s",
				 store_col_text(st, 1));
			who->role = (enum role)auth_role_parse(store_col_text(st, 2));
			result = 0;
		}
	} else if (rc == SQLITE_DONE) {
		err_set(err, 401, "unauthorized", "", "the token is not valid");
	} else {
		store_fail(s, err, "checking a token");
	}
	sqlite3_reset(st);
	explicit_bzero(hash, sizeof hash);
	return result;
}

#define TOKEN_COLUMNS                                                         \
	"SELECT id, name, role, prefix, created_at, created_by, expires_at,"  \
	" revoked_at, revoked_by FROM tokens"

static json_t *token_json(sqlite3_stmt *st)
{
	char at[40], exp[40], rev[40];
	util_format_local(sqlite3_column_int64(st, 4), at, sizeof at);
	util_format_local(sqlite3_column_int64(st, 6), exp, sizeof exp);
	util_format_local(sqlite3_column_int64(st, 7), rev, sizeof rev);
	int64_t expires = sqlite3_column_int64(st, 6);
	bool revoked = sqlite3_column_type(st, 7) != SQLITE_NULL;
	const char *state = revoked ? "revoked"
			    : expires && expires <= util_now_ms() ? "expired"
								    : "active";
	return json_pack("{s:I, s:o, s:s, s:s, s:s, s:o, s:o, s:o, s:s}",
			 "id", (json_int_t)sqlite3_column_int64(st, 0),
			 "name", ju_string(store_col_text(st, 1)),
			 "role", store_col_text(st, 2),
			 "prefix", store_col_text(st, 3),
			 "created_at", at,
			 "created_by", ju_string(store_col_text(st, 5)),
			 "expires_at", exp[0] ? json_string(exp) : json_null(),
			 "revoked_at", rev[0] ? json_string(rev) : json_null(),
			 "state", state);
}

int auth_token_list(struct store *s, json_t **out, struct err *err)
{
	static const char sql[] = TOKEN_COLUMNS " ORDER BY id";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	return store_list(s, st, token_json, "listing tokens", out, err);
}

int auth_token_get(struct store *s, int64_t id, json_t **out, struct err *err)
{
	static const char sql[] = TOKEN_COLUMNS " WHERE id = ?";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return store_one(s, st, token_json, "token", id, out, err);
}

int auth_token_revoke(struct store *s, int64_t id, const char *by,
		      struct err *err)
{
	static const char sql[] =
		"UPDATE tokens SET revoked_at = ?2, revoked_by = ?3"
		" WHERE id = ?1 AND revoked_at IS NULL";
	json_t *t = NULL;
	if (auth_token_get(s, id, &t, err) < 0)
		return -1;
	bool already = strcmp(json_string_value(json_object_get(t, "state")),
			      "revoked") == 0;
	json_decref(t);
	if (already) {
		err_conflict(err, "token %lld is already revoked", (long long)id);
		return -1;
	}
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, util_now_ms());
	store_bind_text(st, 3, by);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, err, "revoking a token");
}
