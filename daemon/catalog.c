/* catalog: reads data/hazards.csv, severities.csv and audiences.csv. The
 * lists are data, not code, so a new hazard is a line in a file; what the
 * code relies on (the four colours in order, "general" among the
 * audiences) is checked here at start. */
#include "catalog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

#define MAX_HAZARDS 64
#define MAX_AUDIENCES 16

static struct hazard hazards[MAX_HAZARDS];
static size_t n_hazards;
static struct severity_info severities[SEV_COUNT];
static struct audience audiences[MAX_AUDIENCES];
static size_t n_audiences;

typedef int (*row_fn)(char **f, int n, char *why, size_t cap);

static int copy_field(char *dst, size_t cap, const char *src, char *why,
		      size_t wcap, const char *name)
{
	size_t n = strlen(src);
	if (n == 0 || n >= cap || !util_utf8_valid(src, n)) {
		snprintf(why, wcap, "%s \"%.40s\" is empty or too long", name,
			 src);
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

static int hazard_row(char **f, int n, char *why, size_t cap)
{
	if (n != 5) {
		snprintf(why, cap, "expected 5 fields, found %d", n);
		return -1;
	}
	if (n_hazards == MAX_HAZARDS) {
		snprintf(why, cap, "more than %d hazards", MAX_HAZARDS);
		return -1;
	}
	struct hazard *h = &hazards[n_hazards];
	for (const char *c = f[0]; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || *c == '_' ||
		      (*c >= '0' && *c <= '9'))) {
			snprintf(why, cap, "hazard code \"%.40s\" is not "
				 "[a-z0-9_]", f[0]);
			return -1;
		}
	if (copy_field(h->code, sizeof h->code, f[0], why, cap, "code") ||
	    copy_field(h->name_zh, sizeof h->name_zh, f[1], why, cap, "name_zh") ||
	    copy_field(h->name_en, sizeof h->name_en, f[2], why, cap, "name_en") ||
	    copy_field(h->cap_category, sizeof h->cap_category, f[3], why, cap,
		       "cap_category"))
		return -1;
	if (strcmp(f[4], "yes") != 0 && strcmp(f[4], "no") != 0) {
		snprintf(why, cap, "core must be yes or no");
		return -1;
	}
	h->core = strcmp(f[4], "yes") == 0;
	if (catalog_hazard(h->code)) {
		snprintf(why, cap, "hazard %s appears twice", h->code);
		return -1;
	}
	n_hazards++;
	return 0;
}

static int severity_row(char **f, int n, char *why, size_t cap)
{
	if (n != 6) {
		snprintf(why, cap, "expected 6 fields, found %d", n);
		return -1;
	}
	int sev = config_severity_parse(f[0]);
	if (sev < 0) {
		snprintf(why, cap, "unknown colour \"%.20s\" (scicast knows blue, "
			 "yellow, orange, red)", f[0]);
		return -1;
	}
	struct severity_info *s = &severities[sev];
	if (copy_field(s->code, sizeof s->code, f[0], why, cap, "code") ||
	    copy_field(s->level, sizeof s->level, f[1], why, cap, "level") ||
	    copy_field(s->name_zh, sizeof s->name_zh, f[2], why, cap, "name_zh") ||
	    copy_field(s->grade_zh, sizeof s->grade_zh, f[3], why, cap, "grade_zh") ||
	    copy_field(s->cap, sizeof s->cap, f[4], why, cap, "cap_severity") ||
	    copy_field(s->name_en, sizeof s->name_en, f[5], why, cap, "name_en"))
		return -1;
	return 0;
}

static int audience_row(char **f, int n, char *why, size_t cap)
{
	if (n != 3) {
		snprintf(why, cap, "expected 3 fields, found %d", n);
		return -1;
	}
	if (n_audiences == MAX_AUDIENCES) {
		snprintf(why, cap, "more than %d audiences", MAX_AUDIENCES);
		return -1;
	}
	struct audience *a = &audiences[n_audiences];
	if (copy_field(a->code, sizeof a->code, f[0], why, cap, "code") ||
	    copy_field(a->name_zh, sizeof a->name_zh, f[1], why, cap, "name_zh") ||
	    copy_field(a->name_en, sizeof a->name_en, f[2], why, cap, "name_en"))
		return -1;
	n_audiences++;
	return 0;
}

/* The catalogue files are simple (no quotes), written by us. */
static int load_csv(const char *dir, const char *name, int nfields,
		    row_fn fn, struct err *err)
{
	char path[1024], line[1024], why[256];
	int n = snprintf(path, sizeof path, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof path) {
		err_set(err, 0, "catalog", "", "path too long: %s", dir);
		return -1;
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		err_set(err, 0, "catalog", "", "%s: %s", path, strerror(errno));
		return -1;
	}
	int lineno = 0, rc = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (lineno == 1 || line[0] == '\0')
			continue; /* header */
		char *fields[8];
		int nf = 0;
		char *p = line;
		for (;;) {
			char *comma = strchr(p, ',');
			if (nf < 8)
				fields[nf] = p;
			nf++;
			if (!comma)
				break;
			*comma = '\0';
			p = comma + 1;
		}
		if (nf > 8)
			snprintf(why, sizeof why, "expected %d fields, found %d",
				 nfields, nf);
		if (nf > 8 || fn(fields, nf, why, sizeof why) < 0) {
			err_set(err, 0, "catalog", "", "%s:%d: %s", path, lineno,
				why);
			rc = -1;
			break;
		}
	}
	fclose(f);
	return rc;
}

int catalog_load(const char *data_dir, struct err *err)
{
	n_hazards = n_audiences = 0;
	memset(severities, 0, sizeof severities);
	if (load_csv(data_dir, "hazards.csv", 5, hazard_row, err) < 0 ||
	    load_csv(data_dir, "severities.csv", 6, severity_row, err) < 0 ||
	    load_csv(data_dir, "audiences.csv", 3, audience_row, err) < 0)
		return -1;
	for (int s = 0; s < SEV_COUNT; s++)
		if (!severities[s].code[0]) {
			err_set(err, 0, "catalog", "",
				"%s/severities.csv: colour %s is missing",
				data_dir, config_severity_name(s));
			return -1;
		}
	if (n_hazards == 0 || !catalog_audience("general")) {
		err_set(err, 0, "catalog", "", "%s: no hazards, or no "
			"\"general\" audience", data_dir);
		return -1;
	}
	return 0;
}

const struct hazard *catalog_hazard(const char *code)
{
	for (size_t i = 0; i < n_hazards; i++)
		if (strcmp(hazards[i].code, code) == 0)
			return &hazards[i];
	return NULL;
}

size_t catalog_hazard_count(void)
{
	return n_hazards;
}

const struct hazard *catalog_hazard_at(size_t i)
{
	return i < n_hazards ? &hazards[i] : NULL;
}

const struct severity_info *catalog_severity(int sev)
{
	return (sev >= 0 && sev < SEV_COUNT) ? &severities[sev] : NULL;
}

const struct audience *catalog_audience(const char *code)
{
	for (size_t i = 0; i < n_audiences; i++)
		if (strcmp(audiences[i].code, code) == 0)
			return &audiences[i];
	return NULL;
}

size_t catalog_audience_count(void)
{
	return n_audiences;
}

const struct audience *catalog_audience_at(size_t i)
{
	return i < n_audiences ? &audiences[i] : NULL;
}
