/* approvals: the two-person rule. By [approval] required, a declaration
 * of those colours (or an update that raises an emergency to one) is held
 * as a request until a different operator approves it; nothing is planned
 * or sent before that. Requests lapse after [approval] timeout. */
#ifndef SCICAST_APPROVALS_H
#define SCICAST_APPROVALS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "emergency.h"
#include "err.h"
#include "store.h"

bool approvals_needed(const struct config *cfg, int severity, bool exercise);

/* Holds a request (already validated by a dry run: *plan is its plan).
 * *out: {"approval_id", "status": "pending", "expires_at", "planned"}. */
int approvals_request(struct store *s, const struct config *cfg,
		      const char *kind, int64_t emergency, const json_t *body,
		      int severity, const char *actor, const json_t *plan,
		      json_t **out, struct err *err);

/* Approves (declares or revises as the requester) or rejects. The
 * approver must not be the requester (403). */
int approvals_decide(const struct emergency_ctx *c, int64_t id, bool approve,
		     const char *reason, json_t **out, struct err *err);

int approvals_list(struct store *s, const char *status, json_t **out,
		   struct err *err);
int approvals_get(struct store *s, int64_t id, json_t **out, struct err *err);

/* Pending requests past their time become lapsed. Returns how many. */
int approvals_lapse_due(struct store *s, int64_t now, struct err *err);

#endif
