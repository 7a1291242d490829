/* plan: turns a declaration into messages and deliveries.
 *
 * The regions in scope are held in compact arrays (a code, an offset into
 * one name arena, a level, the parent's index), sorted by tree path so a
 * parent comes before its children. Counting what each region's scope
 * holds is one walk up the parents per region. Rendering is cached twice:
 * templates are looked up and compiled once per (tier, locale), and a
 * message is rendered once per (region, locale, audience) however many
 * channels share it. Nothing here commits: the caller owns the
 * transaction in which messages and deliveries are written, and for a big
 * plan it may ask to be called back between regions to commit what is
 * written so far (plan_request.stage). */
#define _GNU_SOURCE
#include "plan.h"

#include <pthread.h>
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
	uint32_t ch_first, ch_count; /* its channels in plan.chans */
	bool ch_loaded;
};

/* A channel as loaded in bulk for a whole plan: its strings interned
 * (a province has one row per region, and a handful of locales). */
struct chan_row {
	int64_t id;
	uint16_t kind, locale, audience;
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
	char issued[40], expires[40];   /* formatted once for every payload */

	struct preg *r;
	size_t n, cap;
	struct buf arena;
	uint32_t *index;   /* open addressing: code -> index + 1 */
	size_t index_cap;
	int *order;        /* indices sorted by path */
	size_t norder;     /* regions added later are not in order[] */

	/* each entry on its own allocation: the render thread holds
	 * pointers to them while this array grows */
	struct tpl **tpl;
	size_t ntpl, captpl;

	/* the science notices of each (audience, locale), looked up once */
	struct notices {
		char audience[16];
		char locale[36];
		json_t *list;
		char *json;    /* the envelope's "notices", dumped once */
	} **notices;
	size_t nnotices, capnotices;

	/* context parts shared by every region's context: the emergency
	 * (per kind of message and language), and each region's object
	 * (by index; an ancestor of thousands of villages) */
	struct emcache {
		char msg_type[16];
		bool zh;
		json_t *obj;
	} emcache[8];
	size_t nemcache;
	json_t **rjson;
	size_t caprjson;

	/* channels reached before, for PLAN_END and out-of-scope cancels */
	struct reached {
		int64_t channel;
		char region[REGION_CODE_LEN + 1];
		bool covered;
	} *reached;
	size_t nreached;
	int64_t *targeted; /* channel ids planned in this revision, sorted */
	size_t ntargeted, captargeted;

	/* a plan committed in stages (plan_request.stage) */
	struct stager {
		bool on;
		bool first;        /* no stage committed yet */
		long since;        /* regions written since the last stage */
		int64_t last_ms;
		int64_t length_ms; /* of the stage being written */
	} sg;

	/* every notify channel of the area, loaded before planning starts
	 * (one query per area code instead of one per region) */
	struct chan_row *chans;
	size_t nchans, capchans;
	char (*strs)[36];  /* interned kinds, locales, audiences */
	size_t nstrs;
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
		if (p->tpl[i]->tier == tier &&
		    strcmp(p->tpl[i]->locale, locale) == 0) {
			*out = p->tpl[i];
			return 0;
		}
	if (p->ntpl == p->captpl) {
		size_t cap = p->captpl ? p->captpl * 2 : 8;
		struct tpl **g = realloc(p->tpl, cap * sizeof *g);
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
	struct tpl *x = calloc(1, sizeof *x);
	if (!x) {
		template_text_free(&t);
		err_oom(err);
		return -1;
	}
	x->tier = tier;
	util_copy(x->locale, sizeof x->locale, locale);
	int rc = templates_compile(&t, x->c, err);
	template_text_free(&t);
	if (rc < 0) {
		free(x);
		err->status = 500;
		err_prefix(err, "the stored template no longer compiles: ");
		return -1;
	}
	p->tpl[p->ntpl++] = x;
	*out = x;
	return 0;
}

static const struct notices *get_notices(struct plan *p, const char *audience,
					 const char *locale, struct err *err)
{
	for (size_t i = 0; i < p->nnotices; i++)
		if (strcmp(p->notices[i]->audience, audience) == 0 &&
		    strcmp(p->notices[i]->locale, locale) == 0)
			return p->notices[i];
	if (p->nnotices == p->capnotices) {
		size_t cap = p->capnotices ? p->capnotices * 2 : 8;
		struct notices **g = realloc(p->notices, cap * sizeof *g);
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
	char *json = payload_notices_json(list);
	struct notices *x = json ? calloc(1, sizeof *x) : NULL;
	if (!x) {
		free(json);
		json_decref(list);
		err_oom(err);
		return NULL;
	}
	p->notices[p->nnotices++] = x;
	util_copy(x->audience, sizeof x->audience, audience);
	util_copy(x->locale, sizeof x->locale, locale);
	x->list = list;
	x->json = json;
	return x;
}

static json_t *get_emergency_json(struct plan *p,
				  const struct context_emergency *em,
				  const char *locale)
{
	bool zh = context_locale_is_zh(locale);
	for (size_t i = 0; i < p->nemcache; i++)
		if (p->emcache[i].zh == zh &&
		    strcmp(p->emcache[i].msg_type, em->msg_type) == 0)
			return p->emcache[i].obj;
	json_t *o = context_emergency_json(em, locale, &p->nc);
	if (!o || p->nemcache == sizeof p->emcache / sizeof p->emcache[0])
		return o ? (json_decref(o), NULL) : NULL; /* built per context */
	struct emcache *c = &p->emcache[p->nemcache++];
	util_copy(c->msg_type, sizeof c->msg_type, em->msg_type);
	c->zh = zh;
	c->obj = o;
	return o;
}

/* NULL when it cannot be cached: the context builds its own. */
static json_t *get_region_json(struct plan *p, int i,
			       const struct region *r)
{
	if ((size_t)i >= p->caprjson) {
		size_t cap = p->caprjson ? p->caprjson : 1024;
		while (cap <= (size_t)i)
			cap *= 2;
		json_t **g = realloc(p->rjson, cap * sizeof *g);
		if (!g)
			return NULL;
		memset(g + p->caprjson, 0, (cap - p->caprjson) * sizeof *g);
		p->rjson = g;
		p->caprjson = cap;
	}
	if (!p->rjson[i])
		p->rjson[i] = context_region_json(r);
	return p->rjson[i];
}

/* ---- rendering one message ---- */

static void region_of(const struct plan *p, int i, struct region *out)
{
	const struct preg *x = &p->r[i];
	memset(out, 0, sizeof *out);
	memcpy(out->code, x->code, sizeof out->code);
	util_copy(out->name, sizeof out->name, arena_str(p, x->name));
	out->level = x->level;
	if (x->parent >= 0)
		memcpy(out->parent, p->r[x->parent].code, sizeof out->parent);
	util_copy(out->path, sizeof out->path, arena_str(p, x->path));
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

/* Renders one region's message. t and nz come from get_template and
 * get_notices (the only parts that read the database), so this can run
 * on the render thread. */
static int render_message(struct plan *p, int i, const char *msg_type,
			  const char *locale, const char *audience,
			  struct tpl *t, const struct notices *nz,
			  struct rendered *m, struct err *err)
{
	const struct plan_request *rq = p->rq;
	struct region reg, anc[LEVEL_COUNT_MAX];
	int nanc = 0, chain[LEVEL_COUNT_MAX];
	json_t *ctx = NULL;
	int rc = -1;
	memset(m, 0, sizeof *m);
	region_of(p, i, &reg);
	for (int j = p->r[i].parent; j >= 0 && nanc < LEVEL_COUNT_MAX;
	     j = p->r[j].parent)
		chain[nanc++] = j;
	for (int k = 0; k < nanc; k++)
		region_of(p, chain[nanc - 1 - k], &anc[k]);
	json_t *notices = nz->list;
	json_t *anc_json[LEVEL_COUNT_MAX];
	for (int k = 0; k < nanc; k++)
		anc_json[k] = get_region_json(p, chain[nanc - 1 - k], &anc[k]);
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
		.notice = &p->nc, .emergency = get_emergency_json(p, &em, locale),
		.ancestor_json = anc_json,
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
		.notices = notices, .notices_json = nz->json,
		.issued_ms = rq->issued_ms, .expires_ms = rq->expires_ms,
		.issued = p->issued, .expires = p->expires,
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

/* One message of a region: the channels that share it (same kind of
 * message, locale and audience), and what it is rendered with. */
struct group {
	size_t first;          /* index of its first channel */
	const char *msg_type;
	struct tpl *t;
	const struct notices *nz;
	struct rendered m;
};

/* Groups a region's channels by message and resolves the template and
 * notices of each group (the part that may read the database). */
static int group_channels(struct plan *p, int i, const struct chan *ch,
			  size_t nch, struct group **out, size_t *ngroups,
			  struct err *err)
{
	struct group *g = calloc(nch ? nch : 1, sizeof *g);
	size_t n = 0;
	if (!g) {
		err_oom(err);
		return -1;
	}
	for (size_t a = 0; a < nch; a++) {
		bool seen = false;
		for (size_t k = 0; k < n && !seen; k++) {
			const struct chan *b = &ch[g[k].first];
			seen = b->cancel == ch[a].cancel &&
			       strcmp(b->locale, ch[a].locale) == 0 &&
			       strcmp(b->audience, ch[a].audience) == 0;
		}
		if (seen)
			continue;
		struct group *x = &g[n++];
		x->first = a;
		x->msg_type = ch[a].cancel ? "cancel" : p->rq->msg_type;
		if (get_template(p, p->r[i].level, ch[a].locale, &x->t, err) < 0 ||
		    !(x->nz = get_notices(p, ch[a].audience, ch[a].locale, err))) {
			free(g);
			return -1;
		}
	}
	*out = g;
	*ngroups = n;
	return 0;
}

static int render_group(struct plan *p, int i, const struct chan *ch,
			struct group *g, struct err *err)
{
	const struct chan *c = &ch[g->first];
	return render_message(p, i, g->msg_type, c->locale, c->audience, g->t,
			      g->nz, &g->m, err);
}

/* Writes a rendered group: its message, and a delivery per channel. */
static int write_group(struct plan *p, int i, const struct chan *ch,
		       size_t nch, const struct group *g, struct err *err)
{
	const struct chan *c = &ch[g->first];
	int64_t message = 0;
	if (!p->dry_run &&
	    insert_message(p, i, g->msg_type, c->locale, c->audience, &g->m,
			   &message, err) < 0)
		return -1;
	p->res->messages++;
	for (size_t b = g->first; b < nch; b++) {
		if (ch[b].cancel != c->cancel ||
		    strcmp(ch[b].locale, c->locale) != 0 ||
		    strcmp(ch[b].audience, c->audience) != 0)
			continue;
		if (!p->dry_run && insert_delivery(p, i, message, &ch[b], err) < 0)
			return -1;
		count_delivery(p, i, &ch[b]);
	}
	return 0;
}

static void groups_free(struct group *g, size_t n)
{
	for (size_t k = 0; k < n; k++)
		rendered_free(&g[k].m);
	free(g);
}

/* Emits a region's channels: one message per (locale, audience, kind of
 * message), one delivery per channel. A dry run renders only the first
 * region of each tier, for its sample. */
static int emit_region(struct plan *p, int i, struct chan *ch, size_t nch,
		       struct err *err)
{
	struct group *g = NULL;
	size_t n = 0;
	if (group_channels(p, i, ch, nch, &g, &n, err) < 0)
		return -1;
	int rc = -1;
	bool sampled = json_object_get(p->res->samples,
				       config_level_name(p->r[i].level)) != NULL;
	for (size_t k = 0; k < n; k++) {
		if (!p->dry_run || !sampled) {
			if (render_group(p, i, ch, &g[k], err) < 0)
				goto done;
			if (p->dry_run && !ch[g[k].first].cancel)
				add_sample(p, i, &g[k].m);
			sampled = true;
		}
		if (write_group(p, i, ch, nch, &g[k], err) < 0)
			goto done;
	}
	rc = 0;
done:
	groups_free(g, n);
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

static int intern(struct plan *p, const char *v, uint16_t *out)
{
	for (size_t k = 0; k < p->nstrs; k++)
		if (strcmp(p->strs[k], v) == 0) {
			*out = (uint16_t)k;
			return 0;
		}
	if (p->nstrs >= UINT16_MAX)
		return -1;
	char (*g)[36] = realloc(p->strs, (p->nstrs + 1) * sizeof *g);
	if (!g)
		return -1;
	p->strs = g;
	util_copy(p->strs[p->nstrs], sizeof p->strs[0], v);
	*out = (uint16_t)p->nstrs++;
	return 0;
}

static int push_chan_row(struct plan *p, sqlite3_stmt *st, int col)
{
	if (p->nchans == p->capchans) {
		size_t cap = p->capchans ? p->capchans * 2 : 4096;
		struct chan_row *g = realloc(p->chans, cap * sizeof *g);
		if (!g)
			return -1;
		p->chans = g;
		p->capchans = cap;
	}
	struct chan_row *c = &p->chans[p->nchans];
	c->id = sqlite3_column_int64(st, col);
	if (intern(p, store_col_text(st, col + 1), &c->kind) < 0 ||
	    intern(p, store_col_text(st, col + 2), &c->locale) < 0 ||
	    intern(p, store_col_text(st, col + 3), &c->audience) < 0)
		return -1;
	p->nchans++;
	return 0;
}

/* The channels of the regions below one area code, in one pass. A
 * region met twice (areas that overlap) keeps its first load. */
static int load_channels_below(struct plan *p, int root, struct err *err)
{
	/* The region and its subtree as one range of the path index (paths
	 * are digits and '/', which sorts just before '0'). Written as
	 * "path = ?1 OR (path > ?1/ AND path < ?10)", SQLite scanned every
	 * channel of the country instead, once per area code: 31 provinces
	 * x 663,000 channels, a third of a national plan. */
	static const char sql[] =
		"SELECT r.code, ch.id, ch.kind, ch.locale, ch.audience"
		" FROM regions r JOIN channels ch ON ch.region_code = r.code"
		" WHERE r.path >= ?1 AND r.path < ?1 || '0'"
		" AND ch.enabled = 1 AND ch.role = 'notify' AND (ch.auto = 0 OR ?2)"
		" ORDER BY r.path, ch.id";
	sqlite3_stmt *st = store_stmt(p->s, sql, err);
	if (!st)
		return -1;
	store_bind_text(st, 1, arena_str(p, p->r[root].path));
	sqlite3_bind_int(st, 2, p->cfg->channels_auto_mqtt);
	int rc, cur = -1;
	bool skip = false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int i = find_region(p, store_col_text(st, 0));
		if (i < 0)
			continue; /* imported meanwhile: not in this plan */
		if (i != cur) {
			cur = i;
			skip = p->r[i].ch_loaded;
			if (!skip) {
				p->r[i].ch_loaded = true;
				p->r[i].ch_first = (uint32_t)p->nchans;
			}
		}
		if (skip)
			continue;
		if (push_chan_row(p, st, 1) < 0) {
			sqlite3_reset(st);
			err_oom(err);
			return -1;
		}
		p->r[i].ch_count++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(p->s, err, "reading channels");
	/* the rest of the subtree has none: loaded too */
	const char *top = arena_str(p, p->r[root].path);
	size_t len = strlen(top);
	for (size_t i = 0; i < p->n; i++) {
		const char *path = arena_str(p, p->r[i].path);
		if (!p->r[i].ch_loaded && strncmp(path, top, len) == 0 &&
		    (path[len] == '\0' || path[len] == '/'))
			p->r[i].ch_loaded = true;
	}
	return 0;
}

static int region_channels(struct plan *p, int i, struct chan **out,
			   size_t *n, struct err *err);

/* Every channel the plan may send to: the area's in bulk, then the
 * ancestors' (a few) one by one. */
static int load_channels(struct plan *p, struct err *err)
{
	for (size_t a = 0; a < p->rq->narea; a++) {
		int i = find_region(p, p->rq->area[a]);
		if (i >= 0 && !p->r[i].ch_loaded &&
		    load_channels_below(p, i, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < p->n; i++) {
		if (p->r[i].ch_loaded)
			continue;
		struct chan *ch = NULL;
		size_t nch = 0;
		if (region_channels(p, (int)i, &ch, &nch, err) < 0)
			return -1;
		p->r[i].ch_loaded = true;
		p->r[i].ch_first = (uint32_t)p->nchans;
		for (size_t k = 0; k < nch; k++) {
			struct chan_row *c;
			if (p->nchans == p->capchans) {
				size_t cap = p->capchans ? p->capchans * 2 : 4096;
				struct chan_row *g = realloc(p->chans, cap * sizeof *g);
				if (!g) {
					free(ch);
					err_oom(err);
					return -1;
				}
				p->chans = g;
				p->capchans = cap;
			}
			c = &p->chans[p->nchans];
			c->id = ch[k].id;
			if (intern(p, ch[k].kind, &c->kind) < 0 ||
			    intern(p, ch[k].locale, &c->locale) < 0 ||
			    intern(p, ch[k].audience, &c->audience) < 0) {
				free(ch);
				err_oom(err);
				return -1;
			}
			p->nchans++;
			p->r[i].ch_count++;
		}
		free(ch);
	}
	return 0;
}

/* A region's channels from the bulk load, as the planner's struct chan. */
static int loaded_channels(struct plan *p, int i, struct chan **out,
			   size_t *n, struct err *err)
{
	const struct preg *x = &p->r[i];
	*out = NULL;
	*n = x->ch_count;
	if (!x->ch_count)
		return 0;
	struct chan *ch = calloc(x->ch_count, sizeof *ch);
	if (!ch) {
		err_oom(err);
		return -1;
	}
	for (uint32_t k = 0; k < x->ch_count; k++) {
		const struct chan_row *r = &p->chans[x->ch_first + k];
		ch[k].id = r->id;
		util_copy(ch[k].kind, sizeof ch[k].kind, p->strs[r->kind]);
		util_copy(ch[k].locale, sizeof ch[k].locale,
			 p->strs[r->locale]);
		util_copy(ch[k].audience, sizeof ch[k].audience,
			 p->strs[r->audience]);
	}
	*out = ch;
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
		util_copy(c->kind, sizeof c->kind, store_col_text(st, 1));
		util_copy(c->locale, sizeof c->locale, store_col_text(st, 2));
		util_copy(c->audience, sizeof c->audience,
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

/* ---- the render thread ----
 *
 * A big plan renders on a second thread while this one reads channels and
 * writes rows: the two halves take about the same time, and a province's
 * declaration waits for both. What they share, and how:
 *   - the job ring and its counters, under `lock`;
 *   - each job: filled by the planning thread before it is counted in
 *     `filled`, rendered by the render thread before `rendered` passes
 *     it, written and freed by the planning thread after;
 *   - the plan: the render thread only reads the region arrays (nothing
 *     is added to them during plan_alert) and the templates and notices
 *     a job points to (their entries never move); it alone uses the
 *     context caches (emcache, rjson), which the planning thread does not
 *     touch until the render thread has ended. The database is the
 *     planning thread's alone. */

#define JOBS 512               /* regions between reading and writing */
#define PIPELINE_MIN 256       /* smaller plans render inline */

struct job {
	int region;
	size_t k;          /* regions of order[] taken up to and with it */
	struct chan *ch;
	size_t nch;
	struct group *g;
	size_t ng;
	int rc;
	struct err err;
};

/* A written job's memory, to be freed. */
struct corpse {
	struct group *g;
	size_t ng;
	struct chan *ch;
};

struct pipeline {
	struct plan *p;
	pthread_mutex_t lock;
	pthread_cond_t more, done;
	struct job jobs[JOBS];
	size_t filled, rendered;       /* jobs ever filled, ever rendered */
	bool finished, failed;
	/* Written jobs are freed on the render thread: most of their memory
	 * was allocated there, glibc frees another thread's chunks under that
	 * thread's arena lock, and the writer is the plan's critical path
	 * (free() was ~9 % of its time in a 160,000-region plan). */
	struct corpse dead[JOBS], dying[JOBS];
	size_t ndead;
};

static void corpses_free(struct corpse *c, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		groups_free(c[k].g, c[k].ng);
		free(c[k].ch);
	}
}

static void *render_main(void *arg)
{
	struct pipeline *pl = arg;
	pthread_mutex_lock(&pl->lock);
	for (;;) {
		while (pl->rendered == pl->filled && !pl->finished &&
		       !pl->ndead)
			pthread_cond_wait(&pl->more, &pl->lock);
		if (pl->ndead) {
			size_t n = pl->ndead;
			memcpy(pl->dying, pl->dead, n * sizeof *pl->dead);
			pl->ndead = 0;
			pthread_mutex_unlock(&pl->lock);
			corpses_free(pl->dying, n);
			pthread_mutex_lock(&pl->lock);
			continue;
		}
		if (pl->rendered == pl->filled)
			break;
		struct job *j = &pl->jobs[pl->rendered % JOBS];
		bool skip = pl->failed; /* the plan is abandoned */
		pthread_mutex_unlock(&pl->lock);
		j->rc = 0;
		for (size_t k = 0; k < j->ng && j->rc == 0 && !skip; k++)
			j->rc = render_group(pl->p, j->region, j->ch, &j->g[k],
					     &j->err);
		pthread_mutex_lock(&pl->lock);
		pl->rendered++;
		pthread_cond_signal(&pl->done);
	}
	pthread_mutex_unlock(&pl->lock);
	return NULL;
}

static void job_clear(struct job *j)
{
	groups_free(j->g, j->ng);
	free(j->ch);
	memset(j, 0, sizeof *j);
}

/* Reads region i's channels into a job; *j->ch stays NULL when it has
 * none. */
static int job_fill(struct plan *p, int i, struct job *j, struct err *err)
{
	memset(j, 0, sizeof *j);
	j->region = i;
	if (loaded_channels(p, i, &j->ch, &j->nch, err) < 0)
		return -1;
	for (size_t c = 0; c < j->nch; c++)
		if (target_channel(p, j->ch[c].id, err) < 0)
			return -1;
	return j->nch ? group_channels(p, i, j->ch, j->nch, &j->g, &j->ng, err)
		      : 0;
}

static int job_write(struct plan *p, struct job *j, struct err *err)
{
	if (j->rc < 0) {
		*err = j->err;
		return -1;
	}
	for (size_t k = 0; k < j->ng; k++)
		if (write_group(p, j->region, j->ch, j->nch, &j->g[k], err) < 0)
			return -1;
	return 0;
}

/* Hands jobs [from, to) of the ring, written, to the render thread to
 * free (or frees them here when it has not caught up), emptying their
 * slots for the next fill. */
static void bury(struct pipeline *pl, size_t from, size_t to)
{
	pthread_mutex_lock(&pl->lock);
	for (size_t k = from; k < to; k++) {
		struct job *j = &pl->jobs[k % JOBS];
		if (pl->ndead < JOBS) {
			pl->dead[pl->ndead++] =
				(struct corpse){ j->g, j->ng, j->ch };
			j->g = NULL;
			j->ng = 0;
			j->ch = NULL;
		}
	}
	pthread_cond_signal(&pl->more);
	pthread_mutex_unlock(&pl->lock);
	for (size_t k = from; k < to; k++)
		job_clear(&pl->jobs[k % JOBS]);
}

/* A region a staged plan wrote before it was stopped. On an update its
 * channels still count as targeted: they have this revision's update. */
static int already_planned(struct plan *p, int i, bool *yes, struct err *err)
{
	const char *after = p->rq->resume_after;
	*yes = after && strcmp(arena_str(p, p->r[i].path), after) <= 0;
	if (!*yes || !p->rq->cancel_out_of_scope)
		return 0;
	for (uint32_t c = 0; c < p->r[i].ch_count; c++)
		if (target_channel(p, p->chans[p->r[i].ch_first + c].id, err) < 0)
			return -1;
	return 0;
}

/* Staging: after whole regions, the first stage small (its messages go
 * out while the rest is planned), the later ones longer and longer (see
 * PLAN_STAGE_MS). Why they grow: each commit rewrites the last, part-full
 * page of every table and index it touched (32 KiB each) and syncs the
 * disk, and the senders' own writes wait for it; by the third stage the
 * senders have more committed than they can send in one. With 25 ms
 * stages throughout, a national plan made ~1,200 commits and its 201 came
 * 30-40 % later. cursor: the path of the last region written, or
 * PLAN_CURSOR_AREA_DONE once the ends and cancels to channels reached
 * before are being written. done and left count regions. */
static int stage_after(struct plan *p, const char *cursor, long done,
		       long left, struct err *err)
{
	struct stager *sg = &p->sg;
	if (!sg->on)
		return 0;
	sg->since++;
	int64_t now = util_now_ms();
	if (sg->first ? sg->since < PLAN_STAGE_FIRST
		      : now - sg->last_ms < sg->length_ms)
		return 0;
	if (p->rq->stage(p->rq->stage_arg, cursor, p->res, done, left, err) < 0)
		return -1;
	if (sg->first)
		sg->length_ms = PLAN_STAGE_MS;
	else if (sg->length_ms < PLAN_STAGE_MAX_MS / 2)
		sg->length_ms *= 2;
	else
		sg->length_ms = PLAN_STAGE_MAX_MS;
	sg->first = false;
	sg->since = 0;
	sg->last_ms = util_now_ms();
	return 0;
}

static int plan_alert_pipelined(struct plan *p, struct err *err)
{
	struct pipeline *pl = calloc(1, sizeof *pl);
	pthread_t thread;
	size_t written = 0, k = 0;
	int rc = -1;
	if (!pl) {
		err_oom(err);
		return -1;
	}
	pl->p = p;
	pthread_mutex_init(&pl->lock, NULL);
	pthread_cond_init(&pl->more, NULL);
	pthread_cond_init(&pl->done, NULL);
	if (util_thread_start(&thread, "plan-render", render_main, pl) != 0) {
		err_internal(err, "cannot start the render thread");
		goto destroy;
	}
	p->sg.on = p->rq->stage && p->norder >= PLAN_STAGE_MIN;
	for (;;) {
		/* fill what the ring has room for, then write what is ready */
		while (k < p->norder && pl->filled - written < JOBS) {
			int i = p->order[k++];
			bool done;
			if (!(p->rq->tiers & (1u << p->r[i].level)))
				continue;
			if (already_planned(p, i, &done, err) < 0)
				goto stop;
			if (done)
				continue;
			p->res->regions++;
			struct job *j = &pl->jobs[pl->filled % JOBS];
			if (job_fill(p, i, j, err) < 0) {
				job_clear(j);
				goto stop;
			}
			j->k = k;
			if (!j->nch) {
				job_clear(j);
				continue;
			}
			pthread_mutex_lock(&pl->lock);
			pl->filled++;
			pthread_cond_signal(&pl->more);
			pthread_mutex_unlock(&pl->lock);
		}
		if (written == pl->filled)
			break;
		pthread_mutex_lock(&pl->lock);
		while (pl->rendered == written)
			pthread_cond_wait(&pl->done, &pl->lock);
		size_t ready = pl->rendered;
		pthread_mutex_unlock(&pl->lock);
		size_t from = written;
		int w = 0;
		for (; written < ready && w == 0; written++) {
			struct job *j = &pl->jobs[written % JOBS];
			w = job_write(p, j, err);
			if (w == 0)
				w = stage_after(p, arena_str(p, p->r[j->region].path),
						(long)j->k,
						(long)(p->norder - j->k), err);
		}
		bury(pl, from, written);
		if (w < 0)
			goto stop;
	}
	rc = 0;
stop:
	pthread_mutex_lock(&pl->lock);
	pl->finished = true;
	pl->failed = rc < 0;
	pthread_cond_signal(&pl->more);
	pthread_mutex_unlock(&pl->lock);
	pthread_join(thread, NULL);
	corpses_free(pl->dead, pl->ndead);
	/* after a failure: what was filled and not written */
	for (; written < pl->filled; written++)
		job_clear(&pl->jobs[written % JOBS]);
destroy:
	pthread_cond_destroy(&pl->done);
	pthread_cond_destroy(&pl->more);
	pthread_mutex_destroy(&pl->lock);
	free(pl);
	return rc;
}

static int plan_alert(struct plan *p, struct err *err)
{
	if (load_channels(p, err) < 0)
		return -1;
	if (!p->dry_run && p->norder >= PIPELINE_MIN)
		return plan_alert_pipelined(p, err);
	for (size_t k = 0; k < p->norder; k++) {
		int i = p->order[k];
		bool done;
		if (!(p->rq->tiers & (1u << p->r[i].level)))
			continue;
		if (already_planned(p, i, &done, err) < 0)
			return -1;
		if (done)
			continue;
		p->res->regions++;
		struct chan *ch = NULL;
		size_t nch = 0;
		if (loaded_channels(p, i, &ch, &nch, err) < 0)
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
		util_copy(x->region, sizeof x->region, store_col_text(st, 1));
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
	/* an end to every channel reached is staged like an alert; it needs
	 * no cursor: what got its end is no longer "reached" */
	if (p->rq->stage && p->nreached >= PLAN_STAGE_MIN && !p->dry_run)
		p->sg.on = true;
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
				util_copy(c->kind, sizeof c->kind,
					 store_col_text(st, 1));
				util_copy(c->locale, sizeof c->locale,
					 store_col_text(st, 2));
				util_copy(c->audience, sizeof c->audience,
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
			if (emit_region(p, i, ch, nch, err) < 0 ||
			    stage_after(p, PLAN_CURSOR_AREA_DONE, (long)end,
					(long)(p->nreached - end), err) < 0) {
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
			  .res = out, .now = util_now_ms(),
			  .sg = { .first = true } };
	int rc = -1;
	memset(out, 0, sizeof *out);
	out->by_town = json_array();
	out->samples = json_object();
	if (!out->by_town || !out->samples) {
		err_oom(err);
		goto done;
	}
	preview_notice_cfg(cfg, &p.nc);
	util_format_local(rq->issued_ms, p.issued, sizeof p.issued);
	util_format_local(rq->expires_ms, p.expires, sizeof p.expires);
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
	for (size_t i = 0; i < p.ntpl; i++) {
		templates_compiled_free(p.tpl[i]->c);
		free(p.tpl[i]);
	}
	free(p.tpl);
	for (size_t i = 0; i < p.nnotices; i++) {
		json_decref(p.notices[i]->list);
		free(p.notices[i]->json);
		free(p.notices[i]);
	}
	free(p.notices);
	for (size_t i = 0; i < p.nemcache; i++)
		json_decref(p.emcache[i].obj);
	for (size_t i = 0; i < p.caprjson; i++)
		json_decref(p.rjson[i]);
	free(p.rjson);
	free(p.r);
	free(p.index);
	free(p.order);
	free(p.reached);
	free(p.targeted);
	free(p.chans);
	free(p.strs);
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
