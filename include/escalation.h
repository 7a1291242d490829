/* escalation: when a village screen stays silent through every re-send
 * of a severity whose policy escalates, its town's escalation channels
 * get one message listing the silent villages. */
#ifndef SCICAST_ESCALATION_H
#define SCICAST_ESCALATION_H

#include <stdint.h>

#include "config.h"
#include "err.h"
#include "store.h"

/* Plans the escalations that are due. Returns how many messages. */
int escalation_due(struct store *s, const struct config *cfg, int64_t now,
		   struct err *err);

#endif
