/* catalog: the fixed vocabularies loaded from data/ at start —
 * hazards, the four warning colours, audiences. Loaded once before any
 * thread starts and read-only afterwards, so every thread may read it
 * without a lock. */
#ifndef SCICAST_CATALOG_H
#define SCICAST_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct hazard {
	char code[32];
	char name_zh[64];
	char name_en[64];
	char cap_category[16];
	bool core;
};

struct severity_info {
	char code[8];      /* blue … red */
	char level[4];     /* IV … I */
	char name_zh[16];  /* 蓝色 */
	char grade_zh[16]; /* 一般 */
	char cap[16];      /* Minor */
	char name_en[16];  /* Blue */
};

struct audience {
	char code[16];
	char name_zh[32];
	char name_en[48];
};

int catalog_load(const char *data_dir, struct err *err);

const struct hazard *catalog_hazard(const char *code);
size_t catalog_hazard_count(void);
const struct hazard *catalog_hazard_at(size_t i);

/* By enum severity (SEV_BLUE …). */
const struct severity_info *catalog_severity(int sev);

const struct audience *catalog_audience(const char *code);
size_t catalog_audience_count(void);
const struct audience *catalog_audience_at(size_t i);

#endif
