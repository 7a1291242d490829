/* emergency: declarations and their revisions. A declaration is
 * validated, planned and written — emergency, revision, messages and
 * deliveries — in one transaction, and only then answered; an update, a
 * cancel, an expiry or an all-clear is a new revision through the same
 * outbox. */
#ifndef SCICAST_EMERGENCY_H
#define SCICAST_EMERGENCY_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "idempotency.h"
#include "store.h"

struct emergency_ctx {
	struct store *store;
	const struct config *cfg;
	const char *actor;
	const char *public_url;
	/* A big declaration or update commits in stages (emergency.c) when
	 * staged is set: through the API (declare, revise, an approval, CAP).
	 * role and remote go into the first stage's audit row; first_stage,
	 * if set, writes the caller's own rows (an approval's decision, a CAP
	 * identity) into the first stage, so a plan stopped after it is still
	 * known as decided; wake runs after each stage. */
	bool staged;
	const char *role, *remote;
	int (*first_stage)(void *arg, int64_t id, int revision,
			   struct err *err);
	void *first_stage_arg;
	void (*wake)(void *arg);
	void *wake_arg;
	/* set when scicastd is stopping: a staged plan stops after its
	 * current stage (the next start finishes it) instead of holding the
	 * stop up for as long as a national plan takes */
	const atomic_bool *stopping;
	/* a declaration's or update's Idempotency-Key, remembered with the
	 * emergency or revision (so in its first stage); NULL or off: none */
	const struct idem *idem;
};

/* POST /api/v1/emergencies. dry_run: the plan, nothing stored. */
int emergency_declare(const struct emergency_ctx *c, const json_t *body,
		      bool dry_run, json_t **out, struct err *err);
/* POST /api/v1/emergencies/{id}/revisions */
int emergency_revise(const struct emergency_ctx *c, int64_t id,
		     const json_t *body, bool dry_run, json_t **out,
		     struct err *err);
/* Cancel ("cancel"), expiry ("expired") or all-clear ("allclear"). */
int emergency_end(const struct emergency_ctx *c, int64_t id,
		  const char *msg_type, const char *reason, json_t **out,
		  struct err *err);

int emergency_get(struct store *s, int64_t id, json_t **out,
		  struct err *err);
struct emergency_filter {
	const char *status;
	long limit, offset;
};
int emergency_list(struct store *s, const struct emergency_filter *f,
		   json_t **out, struct err *err);
struct delivery_filter {
	const char *state, *town, *kind;
	int tier;          /* 0: any */
	int revision;      /* 0: the current one; -1: all */
	long limit, offset;
};
int emergency_deliveries(struct store *s, int64_t id,
			 const struct delivery_filter *f, json_t **out,
			 struct err *err);

/* Finishes the plans that were committed in stages and stopped before
 * their end (revisions.plan_cursor set), unless a staged plan is running
 * in this process. Returns how many were finished or closed. */
int emergency_resume_plans(const struct emergency_ctx *c, struct err *err);

/* Ends every active emergency whose expiry has come. Returns how many. */
int emergency_expire_due(const struct emergency_ctx *c, int64_t now,
			 struct err *err);

#endif
