/* auth: bearer tokens and roles. A token is "sct_" and 43 characters of
 * base64url (32 random bytes from the OS); only its SHA-256 is stored. A
 * token has a name (who), a role (viewer < operator < admin), and may
 * expire or be revoked. */
#ifndef SCICAST_AUTH_H
#define SCICAST_AUTH_H

#include <jansson.h>
#include <stdint.h>

#include "err.h"
#include "http.h"
#include "store.h"

#define AUTH_TOKEN_MAX 64
#define AUTH_NAME_MAX 64

struct auth_identity {
	int64_t token_id;
	char name[AUTH_NAME_MAX + 1];
	enum role role;
};

const char *auth_role_name(enum role r);
/* viewer, operator, admin; -1 otherwise (public is not a token's role) */
int auth_role_parse(const char *s);

/* Makes a token; token_out gets it (shown once), *id its row. */
int auth_token_create(struct store *s, const char *name, enum role role,
		      int64_t expires_ms, const char *created_by,
		      char token_out[AUTH_TOKEN_MAX], int64_t *id,
		      struct err *err);
/* 0 with *who filled; -1 with err 401 saying why (never the token). */
int auth_check(struct store *s, const char *token, struct auth_identity *who,
	       struct err *err);
int auth_token_list(struct store *s, json_t **out, struct err *err);
/* 404 if there is no such token; 409 if it is already revoked. */
int auth_token_revoke(struct store *s, int64_t id, const char *by,
		      struct err *err);
/* A token's row as JSON (never its hash). */
int auth_token_get(struct store *s, int64_t id, json_t **out,
		   struct err *err);

#endif
