/* preview: the sample data a template is shown with before anything is
 * declared. Regions are real (from the database) so an administrator sees
 * the names a screen will show; the emergency is a plausible sample unless
 * the caller gives its own texts. */
#include "preview.h"

#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "jsonutil.h"
#include "library.h"
#include "util.h"

#define SCOPE_SAMPLE_MAX 200

void preview_notice_cfg(const struct config *cfg,
			struct context_notice_cfg *out)
{
	out->issuer = cfg->notice_issuer;
	out->issuer_en = cfg->notice_issuer_en;
	out->contact = cfg->notice_contact;
	out->contact_en = cfg->notice_contact_en;
	out->contact_tts = cfg->notice_contact_tts;
	out->contact_tts_en = cfg->notice_contact_tts_en;
}

static int first_of_level(struct store *s, int level, struct region *out,
			  struct err *err)
{
	static const char sql[] = "SELECT " REGION_COLUMNS " FROM regions"
				  " WHERE level = ? ORDER BY code LIMIT 1";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, level);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		regions_from_row(st, 0, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return store_fail(s, err, "reading regions");
}

/* A region of the tier when the database has none (before any import). */
static void made_up_region(int tier, struct region *r, struct region *anc,
			   int *nanc)
{
	static const struct {
		const char *code, *name;
		int level;
	} chain[] = {
		{ "442000000000", "中山市", LEVEL_CITY },
		{ "442000001000", "石岐街道", LEVEL_TOWN },
		{ "442000001007", "桂园社区居民委员会", LEVEL_VILLAGE },
	};
	int want = tier <= LEVEL_CITY ? 0 : tier <= LEVEL_TOWN ? 1 : 2;
	for (int i = 0; i <= want; i++) {
		struct region *x = i == want ? r : &anc[i];
		memset(x, 0, sizeof *x);
		snprintf(x->code, sizeof x->code, "%s", chain[i].code);
		snprintf(x->name, sizeof x->name, "%s", chain[i].name);
		x->level = chain[i].level;
	}
	*nanc = want;
}

static int children_scope(struct store *s, const struct region *r,
			  json_t *list, struct err *err)
{
	static const char sql[] = "SELECT code, name FROM regions"
				  " WHERE parent_code = ? ORDER BY code LIMIT ?";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	if (!st)
		return -1;
	store_bind_text(st, 1, r->code);
	sqlite3_bind_int(st, 2, SCOPE_SAMPLE_MAX);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(list, json_pack("{s:s, s:o}", "code",
						      store_col_text(st, 0),
						      "name",
						      ju_string(store_col_text(st, 1))));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, err, "reading regions");
	return 0;
}

int preview_context(struct store *s, const struct config *cfg,
		    const char *region_code, int tier, const char *locale,
		    const struct preview_emergency *pe, json_t **out,
		    struct err *err)
{
	struct region r, anc[LEVEL_COUNT_MAX];
	int nanc = 0;
	bool real = true;
	if (region_code) {
		if (regions_get(s, region_code, &r, err) < 0) {
			if (err->status == 404)
				err_invalid(err, "region", "no region with code "
					    "%.20s", region_code);
			return -1;
		}
	} else {
		int found = first_of_level(s, tier, &r, err);
		if (found < 0)
			return -1;
		if (!found) {
			made_up_region(tier, &r, anc, &nanc);
			real = false;
		}
	}
	if (real && (nanc = regions_ancestors(s, &r, anc, LEVEL_COUNT_MAX,
					      err)) < 0)
		return -1;

	struct context_scope scope = { .regions = json_array() };
	if (!scope.regions) {
		err_oom(err);
		return -1;
	}
	int rc = -1;
	if (r.level == LEVEL_VILLAGE || !real) {
		json_array_append_new(scope.regions,
				      json_pack("{s:s, s:o}", "code", r.code,
						"name", ju_string(r.name)));
		scope.village_count = r.level == LEVEL_VILLAGE;
		scope.town_count = r.level == LEVEL_TOWN;
	} else {
		if (children_scope(s, &r, scope.regions, err) < 0)
			goto done;
		scope.village_count = regions_count_below(s, &r, LEVEL_VILLAGE, err);
		scope.town_count = r.level == LEVEL_TOWN
					   ? 1
					   : regions_count_below(s, &r, LEVEL_TOWN,
								 err);
		if (scope.village_count < 0 || scope.town_count < 0)
			goto done;
	}

	const char *hcode = pe && pe->hazard ? pe->hazard : "typhoon";
	const struct hazard *h = catalog_hazard(hcode);
	if (!h) {
		err_invalid(err, "hazard", "unknown hazard \"%.40s\"", hcode);
		goto done;
	}
	int sev = pe && pe->severity >= 0 ? pe->severity : SEV_YELLOW;
	bool zh = context_locale_is_zh(locale);
	const struct severity_info *si = catalog_severity(sev);
	const char *top = nanc > 0 ? anc[0].name : r.name;
	char headline[300], description[400];
	if (zh) {
		snprintf(headline, sizeof headline, "%s%s%s预警", top,
			 h->name_zh, si->name_zh);
		snprintf(description, sizeof description,
			 "预计未来24小时内%s将受%s影响，局地影响较重，请注意防范。",
			 top, h->name_zh);
	} else {
		snprintf(headline, sizeof headline, "%s %s warning for %s",
			 h->name_en, si->name_en, top);
		snprintf(description, sizeof description,
			 "%s is expected to affect %s within 24 hours.",
			 h->name_en, top);
	}
	int64_t now = util_now_ms();
	struct context_emergency em = {
		.id = 0,
		.revision = 1,
		.msg_type = pe && pe->msg_type ? pe->msg_type : "alert",
		.exercise = pe && pe->exercise,
		.hazard = h,
		.severity = sev,
		.headline = pe && pe->headline ? pe->headline : headline,
		.description = pe && pe->description ? pe->description
						     : description,
		.instruction = pe && pe->instruction
				       ? pe->instruction
				       : (zh ? "请做好防御准备，减少外出，注意安全。"
					     : "Prepare now, limit travel and "
					       "stay safe."),
		.issued_ms = now,
		.expires_ms = now + 24 * 3600 * 1000LL,
	};
	struct context_notice_cfg nc;
	preview_notice_cfg(cfg, &nc);
	json_t *notices = library_for_message(
		s, cfg, h->code, pe && pe->audience ? pe->audience : "general",
		locale, err);
	if (!notices)
		goto done;
	struct context_input in = {
		.em = &em, .locale = locale, .region = &r, .ancestors = anc,
		.nancestors = nanc, .scope = &scope, .notices = notices,
		.notice = &nc,
	};
	*out = context_build(&in);
	json_decref(notices);
	if (!*out) {
		err_oom(err);
		goto done;
	}
	rc = 0;
done:
	json_decref(scope.regions);
	return rc;
}
