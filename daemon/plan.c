/* plan: turns a declaration into messages and deliveries.
 *
 * The regions in scope are held in compact arrays (a code, an offset into
 * one name arena, a level, the parent's index), sorted by tree path so a
 * parent comes before its children. Counting what each region's scope
 * holds is one walk up the parents per region. Rendering is cached twice:
 * templates are looked up and compiled once per (tier, locale), and a
 * message is rendered once per (region, locale, audience) however many
 * channels share it. Nothing here commits: the caller owns the one
 * transaction in which all messages and deliveries are written. */
#define _GNU_SOURCE
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "context.h"
#include "jsonutil.h"
#include "library.h"
#include "log.h"
#include "payload.h"
#include "preview.h"
#include "templates.h"
#include "util.h"

struct preg {
	char code[REGION_CODE_LEN + 1];
	uint8_t level;
	bool member;       /* an area region or below one (not an ancestor) */
	uint32_t name;     /* offset in the arena */
	uint32_t path;     /* offset in the arena */
	int parent;        /* index, -1 for none */
	int first_child, next_sibling;
	int towns, villages;
	long deliveries;   /* towns: deliveries at and below them */
};

struct tpl {
	int tier;
	char locale[36];
	struct mustache_template *c[TEMPLATE_PARTS];
};

struct chan {
	int64_t id;
	char kind[8];
	char locale[36];
	char audience[16];
	bool cancel;       /* gets a cancel (out of scope on an update) */
};

struct plan {
	struct store *s;
	const struct config *cfg;
	const struct plan_request *rq;
	bool dry_run;
	struct plan_result *res;
	struct context_notice_cfg nc;
	int64_t now;

	struct preg *r;
	size_t n, cap;
	struct buf arena;
	uint32_t *index;   /* open addressing: code -> index + 1 */
	size_t index_cap;
	int *order;        /* indices sorted by path */
	size_t norder;     /* regions added later are not in order[] */

	struct tpl *tpl;
	size_t ntpl, captpl;

	/* the science notices of each (audience, locale), looked up once */
	struct notices {
		char audience[16];
		char locale[36];
		json_t *list;
	} *notices;
	size_t nnotices, capnotices;

	/* channels reached before, for PLAN_END and out-of-scope cancels */
	struct reached {
		int64_t channel;
		char region[REGION_CODE_LEN + 1];
		bool covered;
	} *reached;
	size_t nreached;
	int64_t *targeted; /* channel ids planned in this revision, sorted */
	size_t ntargeted, captargeted;
};

/* ---- the region set ---- */

static uint64_t code_hash(const char *code)
{
	uint64_t k = 0;
	for (int i = 0; i < REGION_CODE_LEN; i++)
		k = k * 10 + (uint64_t)(code[i] - '0');
	k ^= k >> 29;
	k *= 0xBF58476D1CE4E5B9ULL;
	return k ^ (k >> 32);
}

static int find_region(const struct plan *p, const char *code)
{
	if (!p->index_cap)
		return -1;
	for (size_t i = code_hash(code) & (p->index_cap - 1);;
	     i = (i + 1) & (p->index_cap - 1)) {
		uint32_t v = p->index[i];
		if (!v)
			return -1;
		if (memcmp(p->r[v - 1].code, code, REGION_CODE_LEN) == 0)
			return (int)v - 1;
	}
}

static int index_grow(struct plan *p)
{
	size_t cap = p->index_cap ? p->index_cap * 2 : 1024;
	uint32_t *idx = calloc(cap, sizeof *idx);
	if (!idx)
		return -1;
	for (size_t k = 0; k < p->n; k++) {
		size_t i = code_hash(p->r[k].code) & (cap - 1);
		while (idx[i])
			i = (i + 1) & (cap - 1);
		idx[i] = (uint32_t)(k + 1);
	}
	free(p->index);
	p->index = idx;
	p->index_cap = cap;
	return 0;
}

static const char *arena_str(const struct plan *p, uint32_t off)
{
	return p->arena.data + off;
}

static int arena_put(struct plan *p, const char *s, uint32_t *off)
{
	if (p->arena.len > UINT32_MAX - 4096)
		return -1;
	*off = (uint32_t)p->arena.len;
	return buf_append(&p->arena, s, strlen(s) + 1);
}

/* Adds a region (or marks it a member); returns its index or -1. */
static int add_region(struct plan *p, const struct region *r, bool member)
{
	int at = find_region(p, r->code);
	if (at >= 0) {
		p->r[at].member |= member;
		return at;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		struct preg *g = realloc(p->r, cap * sizeof *g);
		if (!g)
			return -1;
		p->r = g;
		p->cap = cap;
	}
	if ((p->n + 1) * 2 > p->index_cap && index_grow(p) < 0)
		return -1;
	struct preg *x = &p->r[p->n];
	memset(x, 0, sizeof *x);
	memcpy(x->code, r->code, sizeof x->code);
	x->level = (uint8_t)r->level;
	x->member = member;
	x->parent = x->first_child = x->next_sibling = -1;
	if (arena_put(p, r->name, &x->name) < 0 ||
	    arena_put(p, r->path, &x->path) < 0)
		return -1;
	size_t i = code_hash(x->code) & (p->index_cap - 1);
	while (p->index[i])
		i = (i + 1) & (p->index_cap - 1);
	p->index[i] = (uint32_t)(p->n + 1);
	/* parents may have been added before or be added later: linked
	 * in link_tree once the set is complete */
	return (int)p->n++;
}

static int add_with_ancestors(struct plan *p, const struct region *r,
			      bool member, struct err *err)
{
	struct region anc[LEVEL_COUNT_MAX];
	int na = regions_ancestors(p->s, r, anc, LEVEL_COUNT_MAX, err);
	if (na < 0)
		return -1;
	for (int i = 0; i < na; i++)
		if (add_region(p, &anc[i], false) < 0)
			goto oom;
	int at = add_region(p, r, member);
	if (at < 0)
		goto oom;
	return at;
oom:
	err_oom(err);
	return -1;
}

static int add_subtree(struct plan *p, const struct region *r,
		       struct err *err)
{
	static const char sql[] =
		"SELECT " REGION_COLUMNS " FROM regions"
		" WHERE path > ?1 || '/' AND path < ?1 || '0'";
	sqlite3_stmt *st = store_stmt(p->s, sql, err);
	if (!st)
		return -1;
	store_bind_text(st, 1, r->path);
	int rc;
	struct region x;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		regions_from_row(st, 0, &x);
		if (add_region(p, &x, true) < 0) {
			sqlite3_reset(st);
			err_oom(err);
			return -1;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(p->s, err, "reading the area");
	return 0;
}

/* The parent is the code before the last '/' of the path. */
static void set_parent(struct plan *p, int i)
{
	const char *path = arena_str(p, p->r[i].path);
	const char *slash = strrchr(path, '/');
	if (slash && slash - path >= REGION_CODE_LEN) {
		char parent[REGION_CODE_LEN + 1];
		memcpy(parent, slash - REGION_CODE_LEN, REGION_CODE_LEN);
		parent[REGION_CODE_LEN] = '\0';
		p->r[i].parent = find_region(p, parent);
	}
}

/* Links a region added after link_tree (and its new ancestors). */
static void relink_one(struct plan *p, int i)
{
	for (int x = i; x >= 0 && p->r[x].parent < 0; x = p->r[x].parent)
		set_parent(p, x);
}

static const struct plan *sort_plan; /* qsort has no context argument */

static int by_path(const void *a, const void *b)
{
	const struct preg *x = &sort_plan->r[*(const int *)a];
	const struct preg *y = &sort_plan->r[*(const int *)b];
	return strcmp(arena_str(sort_plan, x->path),
		      arena_str(sort_plan, y->path));
}

/* Sorts by path, links parents and children, counts what lies below. */
static int link_tree(struct plan *p)
{
	p->order = malloc((p->n ? p->n : 1) * sizeof *p->order);
	if (!p->order)
		return -1;
	for (size_t i = 0; i < p->n; i++)
		p->order[i] = (int)i;
	p->norder = p->n;
	sort_plan = p;
	qsort(p->order, p->n, sizeof *p->order, by_path);
	sort_plan = NULL;
	for (size_t k = 0; k < p->n; k++)
		set_parent(p, (int)k);
	/* children in path order: walk backwards, prepend */
	for (size_t k = p->n; k-- > 0;) {
		int i = p->order[k];
		int par = p->r[i].parent;
		if (par >= 0) {
			p->r[i].next_sibling = p->r[par].first_child;
			p->r[par].first_child = i;
		}
	}
	for (size_t i = 0; i < p->n; i++) {
		int lvl = p->r[i].level;
		if (lvl != LEVEL_TOWN && lvl != LEVEL_VILLAGE)
			continue;
		for (int j = (int)i; j >= 0; j = p->r[j].parent) {
			if (lvl == LEVEL_TOWN)
				p->r[j].towns++;
			else
				p->r[j].villages++;
		}
	}
	return 0;
}

static int load_area(struct plan *p, struct err *err)
{
	const struct plan_request *rq = p->rq;
	for (size_t a = 0; a < rq->narea; a++) {
		struct region r;
		if (regions_get(p->s, rq->area[a], &r, err) < 0) {
			if (err->status == 404) {
				char field[32];
				snprintf(field, sizeof field, "area[%zu]", a);
				err_invalid(err, field, "area[%zu]: no region with "
					    "code %s", a, rq->area[a]);
			}
			return -1;
		}
		if (add_with_ancestors(p, &r, true, err) < 0 ||
		    add_subtree(p, &r, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- templates ---- */

static int get_template(struct plan *p, int tier, const char *locale,
			struct tpl **out, struct err *err)
{
	for (size_t i = 0; i < p->ntpl; i++)
		if (p->tpl[i].tier == tier &&
		    strcmp(p->tpl[i].locale, locale) == 0) {
			*out = &p->tpl[i];
			return 0;
		}
	if (p->ntpl == p->captpl) {
		size_t cap = p->captpl ? p->captpl * 2 : 8;
		struct tpl *g = realloc(p->tpl, cap * sizeof *g);
		if (!g) {
			err_oom(err);
			return -1;
		}
		p->tpl = g;
		p->captpl = cap;
	}
	struct template_text t;
	if (templates_lookup(p->s, p->rq->hazard->code, tier, locale,
			     p->cfg->templates_default_locale, &t, err) < 0) {
		err->status = 500;
		return -1;
	}
	struct tpl *x = &p->tpl[p->ntpl];
	memset(x, 0, sizeof *x);
	x->tier = tier;
	snprintf(x->locale, sizeof x->locale, "%s", locale);
	int rc = templates_compile(&t, x->c, err);
	template_text_free(&t);
	if (rc < 0) {
		err->status = 500;
		err_prefix(err, "the stored template no longer compiles: ");
		return -1;
	}
	p->ntpl++;
	*out = x;
	return 0;
}

static json_t *get_notices(struct plan *p, const char *audience,
			   const char *locale, struct err *err)
{
	for (size_t i = 0; i < p->nnotices; i++)
		if (strcmp(p->notices[i].audience, audience) == 0 &&
		    strcmp(p->notices[i].locale, locale) == 0)
			return p->notices[i].list;
	if (p->nnotices == p->capnotices) {
		size_t cap = p->capnotices ? p->capnotices * 2 : 8;
		struct notices *g = realloc(p->notices, cap * sizeof *g);
		if (!g) {
			err_oom(err);
			return NULL;
		}
		p->notices = g;
		p->capnotices = cap;
	}
	json_t *list = library_for_message(p->s, p->cfg, p->rq->hazard->code,
					   audience, locale, err);
	if (!list)
		return NULL;
	struct notices *x = &p->notices[p->nnotices++];
	snprintf(x->audience, sizeof x->audience, "%s", audience);
	snprintf(x->locale, sizeof x->locale, "%s", locale);
	x->list = list;
	return list;
}

/* ---- rendering one message ---- */

static void region_of(const struct plan *p, int i, struct region *out)
{
	const struct preg *x = &p->r[i];
	memset(out, 0, sizeof *out);
	memcpy(out->code, x->code, sizeof out->code);
	snprintf(out->name, sizeof out->name, "%s", arena_str(p, x->name));
	out->level = x->level;
	if (x->parent >= 0)
		memcpy(out->parent, p->r[x->parent].code, sizeof out->parent);
	snprintf(out->path, sizeof out->path, "%s", arena_str(p, x->path));
}

static json_t *scope_regions(const struct plan *p, int i)
{
	json_t *list = json_array();
	if (!list)
		return NULL;
	const struct preg *x = &p->r[i];
	if (x->first_child < 0 || x->level == LEVEL_VILLAGE) {
		json_array_append_new(list, json_pack("{s:s, s:o}", "code", x->code,
						      "name", ju_string(arena_str(p, x->name))));
		return list;
	}
	int count = 0;
	for (int c = x->first_child; c >= 0 && count < 200;
	     c = p->r[c].next_sibling, count++)
		json_array_append_new(list, json_pack("{s:s, s:o}", "code",
						      p->r[c].code, "name",
						      ju_string(arena_str(p, p->r[c].name))));
	return list;
}

struct rendered {
	char *part[TEMPLATE_PARTS];
	char *payload;
	char message_id[96];
};

static void rendered_free(struct rendered *m)
{
	for (int i = 0; i < TEMPLATE_PARTS; i++)
		free(m->part[i]);
	free(m->payload);
	memset(m, 0, sizeof *m);
}

static int render_message(struct plan *p, int i, const char *msg_type,
			  const char *locale, const char *audience,
			  struct rendered *m, struct err *err)
{
	const struct plan_request *rq = p->rq;
	struct region reg, anc[LEVEL_COUNT_MAX];
	int nanc = 0, chain[LEVEL_COUNT_MAX];
	struct tpl *t;
	json_t *ctx = NULL;
	int rc = -1;
	memset(m, 0, sizeof *m);
	region_of(p, i, &reg);
	for (int j = p->r[i].parent; j >= 0 && nanc < LEVEL_COUNT_MAX;
	     j = p->r[j].parent)
		chain[nanc++] = j;
	for (int k = 0; k < nanc; k++)
		region_of(p, chain[nanc - 1 - k], &anc[k]);
	if (get_template(p, reg.level, locale, &t, err) < 0)
		return -1;
	json_t *notices = get_notices(p, audience, locale, err);
	if (!notices)
		return -1;
	struct context_emergency em = {
		.id = rq->emergency_id, .revision = rq->revision,
		.msg_type = msg_type, .exercise = rq->exercise,
		.hazard = rq->hazard, .severity = rq->severity,
		.headline = rq->headline, .description = rq->description,
		.instruction = rq->instruction, .issued_ms = rq->issued_ms,
		.expires_ms = rq->expires_ms,
	};
	struct context_scope scope = {
		.regions = scope_regions(p, i),
		.town_count = p->r[i].towns,
		.village_count = p->r[i].villages,
	};
	struct context_input in = {
		.em = &em, .locale = locale, .region = &reg, .ancestors = anc,
		.nancestors = nanc, .scope = &scope, .notices = notices,
		.notice = &p->nc,
	};
	if (!scope.regions || !(ctx = context_build(&in))) {
		err_oom(err);
		goto done;
	}
	if (templates_render(t->c, ctx, m->part, err) < 0) {
		err->status = 500;
		goto done;
	}
	bool plain = strcmp(locale, p->cfg->templates_default_locale) == 0 &&
		     strcmp(audience, "general") == 0;
	snprintf(m->message_id, sizeof m->message_id, "e%lld-r%d-%s%s%s%s%s",
		 (long long)rq->emergency_id, rq->revision, reg.code,
		 plain ? "" : "-", plain ? "" : locale, plain ? "" : "-",
		 plain ? "" : audience);
	if (strcmp(msg_type, rq->msg_type) != 0) /* an out-of-scope cancel */
		snprintf(m->message_id + strlen(m->message_id),
			 sizeof m->message_id - strlen(m->message_id), "-%s",
			 msg_type);
	struct payload_in pin = {
		.message_id = m->message_id, .emergency_id = rq->emergency_id,
		.revision = rq->revision, .msg_type = msg_type,
		.exercise = rq->exercise, .hazard = rq->hazard,
		.severity = rq->severity, .region = &reg, .locale = locale,
		.audience = audience, .title = m->part[PART_TITLE],
		.body = m->part[PART_BODY], .tts = m->part[PART_TTS],
		.notices = notices, .issued_ms = rq->issued_ms,
		.expires_ms = rq->expires_ms,
	};
	m->payload = payload_envelope(&pin);
	if (!m->payload) {
		err_oom(err);
		goto done;
	}
	rc = 0;
done:
	json_decref(scope.regions);
	json_decref(ctx);
	if (rc < 0)
		rendered_free(m);
	return rc;
}

/* ---- writing ---- */

static int insert_message(struct plan *p, int i, const char *msg_type,
			  const char *locale, const char *audience,
			  const struct rendered *m, int64_t *id,
			  struct err *err)
{
	static const char sql[] =
		"INSERT INTO messages(emergency_id, revision, message_id,"
		" region_code, tier, locale, audience, msg_type, expires_at,"
		" payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = store_stmt(p->s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, p->rq->emergency_id);
	sqlite3_bind_int(st, 2, p->rq->revision);
	store_bind_text(st, 3, m->message_id);
	store_bind_text(st, 4, p->r[i].code);
	sqlite3_bind_int(st, 5, p->r[i].level);
	store_bind_text(st, 6, locale);
	store_bind_text(st, 7, audience);
	store_bind_text(st, 8, msg_type);
	sqlite3_bind_int64(st, 9, p->rq->expires_ms);
	sqlite3_bind_text(st, 10, m->payload, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(p->s, err, "writing a message");
	*id = sqlite3_last_insert_rowid(store_db(p->s));
	return 0;
}

static const char *town_of(const struct plan *p, int i)
{
	for (int j = i; j >= 0; j = p->r[j].parent)
		if (p->r[j].level == LEVEL_TOWN)
			return p->r[j].code;
	return NULL;
}

static int insert_delivery(struct plan *p, int i, int64_t message,
			   const struct chan *c, struct err *err)
{
	static const char sql[] =
		"INSERT INTO deliveries(message, emergency_id, revision,"
		" channel_id, kind, region_code, tier, town_code, priority,"
		" state, next_attempt_at, created_at)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)";
	sqlite3_stmt *st = store_stmt(p->s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, message);
	sqlite3_bind_int64(st, 2, p->rq->emergency_id);
	sqlite3_bind_int(st, 3, p->rq->revision);
	sqlite3_bind_int64(st, 4, c->id);
	store_bind_text(st, 5, c->kind);
	store_bind_text(st, 6, p->r[i].code);
	sqlite3_bind_int(st, 7, p->r[i].level);
	store_bind_text(st, 8, town_of(p, i));
	sqlite3_bind_int(st, 9, p->rq->priority);
	sqlite3_bind_int64(st, 10, p->now);
	sqlite3_bind_int64(st, 11, p->now);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(p->s, err, "writing a delivery");
	return 0;
}

static void count_delivery(struct plan *p, int i, const struct chan *c)
{
	struct plan_result *res = p->res;
	res->deliveries++;
	res->by_tier[p->r[i].level]++;
	if (strcmp(c->kind, "webhook") == 0)
		res->by_kind_webhook++;
	else
		res->by_kind_mqtt++;
	if (c->cancel)
		res->cancels++;
	for (int j = i; j >= 0; j = p->r[j].parent)
		if (p->r[j].level == LEVEL_TOWN) {
			p->r[j].deliveries++;
			break;
		}
}

static int add_sample(struct plan *p, int i, const struct rendered *m)
{
	const char *tier = config_level_name(p->r[i].level);
	if (json_object_get(p->res->samples, tier))
		return 0;
	return json_object_set_new(p->res->samples, tier, json_pack(
		"{s:{s:s, s:o}, s:o, s:o, s:o, s:o}",
		"region", "code", p->r[i].code, "name",
		ju_string(arena_str(p, p->r[i].name)),
		"message_id", ju_string(m->message_id),
		"title", ju_string(m->part[PART_TITLE]),
		"body", ju_string(m->part[PART_BODY]),
		"tts", ju_string(m->part[PART_TTS])));
}

/* Emits a region's channels: one message per (locale, audience, kind of
 * message), one delivery per channel. */
static int emit_region(struct plan *p, int i, struct chan *ch, size_t nch,
		       struct err *err)
{
	bool *done = calloc(nch ? nch : 1, sizeof *done);
	if (!done) {
		err_oom(err);
		return -1;
	}
	int rc = -1;
	bool sampled = json_object_get(p->res->samples,
				       config_level_name(p->r[i].level)) != NULL;
	for (size_t a = 0; a < nch; a++) {
		if (done[a])
			continue;
		const char *msg_type = ch[a].cancel ? "cancel" : p->rq->msg_type;
		struct rendered m = { 0 };
		int64_t message = 0;
		bool need_render = !p->dry_run || !sampled;
		if (need_render) {
			if (render_message(p, i, msg_type, ch[a].locale,
					   ch[a].audience, &m, err) < 0)
				goto done;
			if (p->dry_run && !ch[a].cancel)
				add_sample(p, i, &m);
			sampled = true;
		}
		if (!p->dry_run &&
		    insert_message(p, i, msg_type, ch[a].locale, ch[a].audience,
				   &m, &message, err) < 0) {
			rendered_free(&m);
			goto done;
		}
		rendered_free(&m);
		p->res->messages++;
		for (size_t b = a; b < nch; b++) {
			if (done[b] || ch[b].cancel != ch[a].cancel ||
			    strcmp(ch[b].locale, ch[a].locale) != 0 ||
			    strcmp(ch[b].audience, ch[a].audience) != 0)
				continue;
			done[b] = true;
			if (!p->dry_run &&
			    insert_delivery(p, i, message, &ch[b], err) < 0)
				goto done;
			count_delivery(p, i, &ch[b]);
		}
	}
	rc = 0;
done:
	free(done);
	return rc;
}

static int target_channel(struct plan *p, int64_t id, struct err *err)
{
	if (p->ntargeted == p->captargeted) {
		size_t cap = p->captargeted ? p->captargeted * 2 : 1024;
		int64_t *g = realloc(p->targeted, cap * sizeof *g);
		if (!g) {
			err_oom(err);
			return -1;
		}
		p->targeted = g;
		p->captargeted = cap;
	}
	p->targeted[p->ntargeted++] = id;
	return 0;
}

/* The channels of one region that a PLAN_ALERT sends to. */
static int region_channels(struct plan *p, int i, struct chan **out,
			   size_t *n, struct err *err)
{
	static const char sql[] =
		"SELECT id, kind, locale, audience FROM channels"
		" WHERE region_code = ? AND enabled = 1 AND role = 'notify'"
		" AND (auto = 0 OR ?) ORDER BY id";
	sqlite3_stmt *st = store_stmt(p->s, sql, err);
	if (!st)
		return -1;
	store_bind_text(st, 1, p->r[i].code);
	sqlite3_bind_int(st, 2, p->cfg->channels_auto_mqtt);
	size_t cap = 0;
	int rc;
	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			struct chan *g = realloc(*out, cap * sizeof *g);
			if (!g) {
				sqlite3_reset(st);
				free(*out);
				*out = NULL;
				err_oom(err);
				return -1;
			}
			*out = g;
		}
		struct chan *c = &(*out)[(*n)++];
		memset(c, 0, sizeof *c);
		c->id = sqlite3_column_int64(st, 0);
		snprintf(c->kind, sizeof c->kind, "%s", store_col_text(st, 1));
		snprintf(c->locale, sizeof c->locale, "%s", store_col_text(st, 2));
		snprintf(c->audience, sizeof c->audience, "%s",
			 store_col_text(st, 3));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(*out);
		*out = NULL;
		return store_fail(p->s, err, "reading channels");
	}
	return 0;
}

static int plan_alert(struct plan *p, struct err *err)
{
	for (size_t k = 0; k < p->norder; k++) {
		int i = p->order[k];
		if (!(p->rq->tiers & (1u << p->r[i].level)))
			continue;
		p->res->regions++;
		struct chan *ch = NULL;
		size_t nch = 0;
		if (region_channels(p, i, &ch, &nch, err) < 0)
			return -1;
		int rc = 0;
		for (size_t c = 0; c < nch && rc == 0; c++)
			rc = target_channel(p, ch[c].id, err);
		if (rc == 0)
			rc = emit_region(p, i, ch, nch, err);
		free(ch);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Channels this emergency reached whose last message was not an end. */
static int load_reached(struct plan *p, struct err *err)
{
	static const char sql[] =
		"SELECT c.id, c.region_code FROM channels c"
		" JOIN (SELECT channel_id, max(id) AS last FROM deliveries"
		"  WHERE emergency_id = ?1 AND escalation = 0"
		"  GROUP BY channel_id) d"
		"  ON d.channel_id = c.id"
		" JOIN deliveries dl ON dl.id = d.last"
		" JOIN messages m ON m.id = dl.message"
		" WHERE m.msg_type IN ('alert', 'update') AND c.enabled = 1"
		" ORDER BY c.region_code, c.id";
	sqlite3_stmt *st = store_stmt(p->s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, p->rq->emergency_id);
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (p->nreached == cap) {
			cap = cap ? cap * 2 : 1024;
			struct reached *g = realloc(p->reached, cap * sizeof *g);
			if (!g) {
				sqlite3_reset(st);
				err_oom(err);
				return -1;
			}
			p->reached = g;
		}
		struct reached *x = &p->reached[p->nreached++];
		x->channel = sqlite3_column_int64(st, 0);
		snprintf(x->region, sizeof x->region, "%s", store_col_text(st, 1));
		x->covered = false;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(p->s, err, "reading reached channels");
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sends the end (or, on an update, a cancel) to reached channels: all of
 * them for PLAN_END, the ones this revision did not target otherwise. */
static int plan_reached(struct plan *p, bool only_untargeted, struct err *err)
{
	static const char sql[] =
		"SELECT id, kind, locale, audience FROM channels WHERE id = ?";
	if (only_untargeted && p->ntargeted)
		qsort(p->targeted, p->ntargeted, sizeof *p->targeted, cmp_i64);
	size_t k = 0;
	while (k < p->nreached) {
		/* one region at a time: its channels share its messages */
		size_t end = k;
		while (end < p->nreached &&
		       strcmp(p->reached[end].region, p->reached[k].region) == 0)
			end++;
		struct chan *ch = calloc(end - k, sizeof *ch);
		size_t nch = 0;
		if (!ch) {
			err_oom(err);
			return -1;
		}
		for (size_t x = k; x < end; x++) {
			int64_t id = p->reached[x].channel;
			if (only_untargeted && p->ntargeted &&
			    bsearch(&id, p->targeted, p->ntargeted,
				    sizeof *p->targeted, cmp_i64))
				continue;
			sqlite3_stmt *st = store_stmt(p->s, sql, err);
			if (!st) {
				free(ch);
				return -1;
			}
			sqlite3_bind_int64(st, 1, id);
			if (sqlite3_step(st) == SQLITE_ROW) {
				struct chan *c = &ch[nch++];
				c->id = id;
				snprintf(c->kind, sizeof c->kind, "%s",
					 store_col_text(st, 1));
				snprintf(c->locale, sizeof c->locale, "%s",
					 store_col_text(st, 2));
				snprintf(c->audience, sizeof c->audience, "%s",
					 store_col_text(st, 3));
				c->cancel = only_untargeted;
			}
			sqlite3_reset(st);
		}
		if (nch) {
			int i = find_region(p, p->reached[k].region);
			if (i < 0) {
				/* reached before, outside the area now */
				struct region r;
				if (regions_get(p->s, p->reached[k].region, &r,
						err) < 0 ||
				    (i = add_with_ancestors(p, &r, false, err)) < 0) {
					free(ch);
					return -1;
				}
				relink_one(p, i);
			}
			p->res->regions++;
			if (emit_region(p, i, ch, nch, err) < 0) {
				free(ch);
				return -1;
			}
		}
		free(ch);
		k = end;
	}
	return 0;
}

/* ---- the whole ---- */

int plan_run(struct store *s, const struct config *cfg,
	     const struct plan_request *rq, bool dry_run,
	     struct plan_result *out, struct err *err)
{
	struct plan p = { .s = s, .cfg = cfg, .rq = rq, .dry_run = dry_run,
			  .res = out, .now = util_now_ms() };
	int rc = -1;
	memset(out, 0, sizeof *out);
	out->by_town = json_array();
	out->samples = json_object();
	if (!out->by_town || !out->samples) {
		err_oom(err);
		goto done;
	}
	preview_notice_cfg(cfg, &p.nc);
	if (load_area(&p, err) < 0)
		goto done;
	if (link_tree(&p) < 0) {
		err_oom(err);
		goto done;
	}
	if (rq->mode == PLAN_ALERT) {
		if (plan_alert(&p, err) < 0)
			goto done;
		if (rq->cancel_out_of_scope &&
		    (load_reached(&p, err) < 0 || plan_reached(&p, true, err) < 0))
			goto done;
	} else if (load_reached(&p, err) < 0 || plan_reached(&p, false, err) < 0) {
		goto done;
	}
	for (size_t k = 0; k < p.norder; k++) {
		const struct preg *x = &p.r[p.order[k]];
		if (x->level == LEVEL_TOWN && x->deliveries)
			json_array_append_new(out->by_town, json_pack(
				"{s:s, s:o, s:I}", "code", x->code, "name",
				ju_string(arena_str(&p, x->name)), "deliveries",
				(json_int_t)x->deliveries));
	}
	rc = 0;
done:
	for (size_t i = 0; i < p.ntpl; i++)
		templates_compiled_free(p.tpl[i].c);
	free(p.tpl);
	for (size_t i = 0; i < p.nnotices; i++)
		json_decref(p.notices[i].list);
	free(p.notices);
	free(p.r);
	free(p.index);
	free(p.order);
	free(p.reached);
	free(p.targeted);
	buf_free(&p.arena);
	if (rc < 0)
		plan_result_free(out);
	return rc;
}

void plan_result_free(struct plan_result *r)
{
	json_decref(r->by_town);
	json_decref(r->samples);
	r->by_town = r->samples = NULL;
}

json_t *plan_result_json(const struct plan_result *r, bool details)
{
	json_t *tiers = json_object();
	if (!tiers)
		return NULL;
	for (int l = LEVEL_PROVINCE; l <= LEVEL_VILLAGE; l++)
		if (r->by_tier[l])
			json_object_set_new(tiers, config_level_name(l),
					    json_integer(r->by_tier[l]));
	json_t *o = json_pack("{s:I, s:I, s:I, s:o, s:{s:I, s:I}}",
			      "deliveries", (json_int_t)r->deliveries,
			      "messages", (json_int_t)r->messages,
			      "regions", (json_int_t)r->regions,
			      "by_tier", tiers,
			      "by_kind", "mqtt", (json_int_t)r->by_kind_mqtt,
			      "webhook", (json_int_t)r->by_kind_webhook);
	if (!o)
		return NULL;
	if (r->cancels)
		json_object_set_new(o, "cancels", json_integer(r->cancels));
	if (details) {
		json_object_set(o, "by_town", r->by_town);
		json_object_set(o, "samples", r->samples);
	}
	return o;
}
