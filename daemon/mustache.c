/* mustache: compiling and rendering notice templates (the official spec:
 * interpolation, sections, inverted sections, comments, partials, set
 * delimiters and the standalone-line rules; no lambdas).
 *
 * Why it is shaped so:
 *
 * - A compiled template is a flat array of nodes, not a tree. A section
 *   node holds the index of its CLOSE node and the CLOSE node the index of
 *   its opener, so compiling, rendering, walking and freeing are all loops
 *   over an array with explicit, heap-allocated stacks. Templates come from
 *   administrators (and from a fuzzer), so 10,000 nested sections must cost
 *   memory, never the C stack.
 *
 * - The template keeps its own copy of the source; text and names are
 *   (offset, length) slices of it. Sources may hold NUL bytes and are not
 *   NUL-terminated, so every scan is bounded by an explicit length.
 *
 * - The spec indents every line of a standalone partial "before
 *   rendering". Rather than rewriting the partial's source per call site
 *   (which would also indent the inside of multi-line tags), the compiler
 *   marks text nodes that begin a source line ("bol") and the renderer
 *   writes the current indentation there and after every newline inside a
 *   text node. Text that comes from the context is never indented, as the
 *   spec requires. A line start directly before a tag becomes an empty
 *   text node so that the indentation lands on the right side of a
 *   section boundary.
 *
 * - Partials are looked up through the caller's callback when they are
 *   first rendered and compiled then; the compiled partials are cached for
 *   one render call. Nesting of partials is limited (PARTIAL_DEPTH_MAX) so
 *   that a partial that includes itself unconditionally is an error rather
 *   than unbounded growth.
 *
 * - Numbers are formatted with "%g", so the process must keep the "C"
 *   LC_NUMERIC locale (the daemon never calls setlocale for it).
 */
#include "mustache.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deep enough for any sensible template (the spec's recursive partial
 * needs two levels); shallow enough that runaway recursion stops fast. */
#define PARTIAL_DEPTH_MAX 64
/* Sections over lists nested in each other multiply: {{#l}} nested n deep
 * over two items runs 2^n times. A notice is a few hundred bytes made in a
 * few thousand steps, so a render past these bounds is a template that
 * would stall a fan-out, and is refused. */
#define RENDER_STEPS_MAX 2000000
#define RENDER_OUTPUT_MAX (1u << 20)

/* How much of a name or delimiter an error message quotes. */
#define QUOTE_MAX 64

#define NOT_FOUND SIZE_MAX

enum node_kind {
	NODE_TEXT,
	NODE_VAR,
	NODE_SECTION,
	NODE_INVERTED,
	NODE_CLOSE,
	NODE_PARTIAL,
};

struct node {
	enum node_kind kind;
	int line, column;	/* of the tag, for walks and render errors */
	size_t off, len;	/* TEXT: the text; others: the trimmed name */
	size_t ind_off, ind_len; /* PARTIAL: indentation when standalone */
	size_t link;		/* SECTION/INVERTED: its CLOSE; CLOSE: opener */
	bool bol;		/* TEXT: begins a line of the source */
	bool raw;		/* VAR: {{{x}}} or {{&x}}, never escaped */
};

struct mustache_template {
	char *src;
	size_t len;
	struct node *nodes;
	size_t n, cap;
};

/* ---- small shared helpers ---- */

static void set_error(struct mustache_error *err, int line, int column,
		      const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void set_error(struct mustache_error *err, int line, int column,
		      const char *fmt, ...)
{
	if (!err)
		return;
	err->line = line;
	err->column = column;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	if (n < 0)
		err->message[0] = '\0';
}

/* Makes a name or delimiter printable for an error message: bounded, with
 * control bytes (a NUL among them) shown as '?', and never cut inside a
 * UTF-8 sequence. */
static void quote_bytes(char *dst, size_t cap, const char *s, size_t n)
{
	size_t max = cap - 4; /* room for "..." and the NUL */
	bool cut = false;
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
		cut = true;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (cut) {
		memcpy(dst + n, "...", 3);
		n += 3;
	}
	dst[n] = '\0';
}

/* Grows an array to hold at least need elements: the (possibly moved)
 * array, or NULL when out of memory (the old array is then untouched). */
static void *grow(void *arr, size_t *cap, size_t need, size_t elsize)
{
	if (need <= *cap)
		return arr;
	size_t c = *cap ? *cap : 16;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			return NULL;
		c *= 2;
	}
	if (c > SIZE_MAX / elsize)
		return NULL;
	void *p = realloc(arr, c * elsize);
	if (!p)
		return NULL;
	*cap = c;
	return p;
}

/* First occurrence of needle in s[from..len), or NOT_FOUND. */
static size_t find(const char *s, size_t from, size_t len, const char *needle,
		   size_t nlen)
{
	if (nlen == 0 || from > len || len - from < nlen)
		return NOT_FOUND;
	size_t last = len - nlen;
	size_t i = from;
	while (i <= last) {
		const char *p = memchr(s + i, needle[0], last - i + 1);
		if (!p)
			return NOT_FOUND;
		i = (size_t)(p - s);
		if (memcmp(s + i, needle, nlen) == 0)
			return i;
		i++;
	}
	return NOT_FOUND;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/* ---- compiling ---- */

struct parser {
	struct mustache_template *t;
	const char *s; /* t->src */
	size_t len;
	struct mustache_error *err;

	const char *otag, *ctag;
	size_t olen, clen;

	/* Line counting moves forward with the parse; an earlier offset
	 * (an unclosed section's opener) restarts from the top. */
	size_t lc_pos, lc_chars; /* chars from the line start to lc_pos */
	int lc_line;

	size_t *open; /* node indices of the open sections */
	size_t nopen, capopen;

	/* The source position where text resumes begins a line whose
	 * indentation has not been placed yet. */
	bool bol;
};

static void locate(struct parser *p, size_t off, int *line, int *column)
{
	if (off < p->lc_pos) {
		p->lc_pos = 0;
		p->lc_chars = 0;
		p->lc_line = 1;
	}
	/* columns count characters, as an editor shows them, not bytes;
	 * the scan goes on from the last position, so it stays linear */
	for (size_t i = p->lc_pos; i < off; i++) {
		if (p->s[i] == '\n') {
			if (p->lc_line < INT_MAX)
				p->lc_line++;
			p->lc_chars = 0;
		} else if (((unsigned char)p->s[i] & 0xC0) != 0x80) {
			p->lc_chars++;
		}
	}
	p->lc_pos = off;
	*line = p->lc_line;
	*column = p->lc_chars >= INT_MAX ? INT_MAX : (int)p->lc_chars + 1;
}

static int parse_error(struct parser *p, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int parse_error(struct parser *p, size_t off, const char *fmt, ...)
{
	if (!p->err)
		return -1;
	locate(p, off, &p->err->line, &p->err->column);
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
	va_end(ap);
	if (n < 0)
		p->err->message[0] = '\0';
	return -1;
}

static int oom(struct parser *p)
{
	set_error(p->err, 0, 0, "out of memory");
	return -1;
}

/* Appends a node; returns its index, or NOT_FOUND when out of memory. */
static size_t add_node(struct parser *p, enum node_kind kind)
{
	struct mustache_template *t = p->t;
	if (t->n == SIZE_MAX)
		return NOT_FOUND;
	struct node *nodes = grow(t->nodes, &t->cap, t->n + 1,
				  sizeof(*t->nodes));
	if (!nodes)
		return NOT_FOUND;
	t->nodes = nodes;
	struct node *nd = &t->nodes[t->n];
	memset(nd, 0, sizeof(*nd));
	nd->kind = kind;
	return t->n++;
}

/* Emits s[from..to) as literal text. */
static int emit_text(struct parser *p, size_t from, size_t to)
{
	if (from >= to)
		return 0;
	size_t i = add_node(p, NODE_TEXT);
	if (i == NOT_FOUND)
		return oom(p);
	struct node *nd = &p->t->nodes[i];
	nd->off = from;
	nd->len = to - from;
	nd->bol = p->bol;
	p->bol = p->s[to - 1] == '\n';
	return 0;
}

/* A tag that is not standalone sits where the pending line start is: the
 * indentation goes before it (and inside the section, for a close tag). */
static int flush_bol(struct parser *p)
{
	if (!p->bol)
		return 0;
	size_t i = add_node(p, NODE_TEXT);
	if (i == NOT_FOUND)
		return oom(p);
	p->t->nodes[i].bol = true;
	p->bol = false;
	return 0;
}

/* {{=<% %>=}}: content is what lies between the two '='. */
static int set_delimiters(struct parser *p, size_t tag, size_t from, size_t to)
{
	const char *s = p->s;
	while (from < to && is_space(s[from]))
		from++;
	while (to > from && is_space(s[to - 1]))
		to--;
	size_t a = from;
	while (a < to && !is_space(s[a]))
		a++;
	size_t b = a;
	while (b < to && is_space(s[b]))
		b++;
	/* Two words, the second without inner whitespace. */
	bool ok = a > from && b < to && b > a;
	for (size_t i = b; ok && i < to; i++)
		if (is_space(s[i]))
			ok = false;
	for (size_t i = from; ok && i < to; i++)
		if (s[i] == '=')
			ok = false;
	if (!ok)
		return parse_error(p, tag,
				   "bad set-delimiter tag (expected two "
				   "delimiters without spaces or '=')");
	p->otag = s + from;
	p->olen = a - from;
	p->ctag = s + b;
	p->clen = to - b;
	return 0;
}

static int open_section(struct parser *p, enum node_kind kind, size_t tag,
			size_t name, size_t name_len)
{
	size_t i = add_node(p, kind);
	if (i == NOT_FOUND)
		return oom(p);
	struct node *nd = &p->t->nodes[i];
	nd->off = name;
	nd->len = name_len;
	locate(p, tag, &nd->line, &nd->column);
	size_t *open = grow(p->open, &p->capopen, p->nopen + 1,
			    sizeof(*p->open));
	if (!open)
		return oom(p);
	p->open = open;
	p->open[p->nopen++] = i;
	return 0;
}

static int close_section(struct parser *p, size_t tag, size_t name,
			 size_t name_len)
{
	char q1[QUOTE_MAX], q2[QUOTE_MAX];
	struct mustache_template *t = p->t;
	if (p->nopen == 0) {
		quote_bytes(q1, sizeof(q1), p->s + name, name_len);
		return parse_error(p, tag,
				   "unexpected closing tag \"%s\" (no open "
				   "section)", q1);
	}
	size_t o = p->open[p->nopen - 1];
	if (t->nodes[o].len != name_len ||
	    memcmp(p->s + t->nodes[o].off, p->s + name, name_len) != 0) {
		quote_bytes(q1, sizeof(q1), p->s + name, name_len);
		quote_bytes(q2, sizeof(q2), p->s + t->nodes[o].off,
			    t->nodes[o].len);
		return parse_error(p, tag,
				   "closing tag \"%s\" does not match open "
				   "section \"%s\"", q1, q2);
	}
	size_t i = add_node(p, NODE_CLOSE);
	if (i == NOT_FOUND)
		return oom(p);
	struct node *nd = &t->nodes[i];
	nd->off = name;
	nd->len = name_len;
	nd->link = o;
	locate(p, tag, &nd->line, &nd->column);
	t->nodes[o].link = i;
	p->nopen--;
	return 0;
}

/* Where a tag's content ends, for a tag whose content starts at from:
 * sets *cend (end of content) and *tend (past the closing delimiter).
 * {{{x}}} and {{=a b=}} close with their sigil's partner before the
 * delimiter. */
static int find_tag_end(struct parser *p, char sigil, size_t from,
			size_t *cend, size_t *tend)
{
	char partner = sigil == '{' ? '}' : sigil == '=' ? '=' : 0;
	size_t at = from;
	for (;;) {
		size_t c = find(p->s, at, p->len, p->ctag, p->clen);
		if (c == NOT_FOUND)
			return -1;
		if (!partner) {
			*cend = c;
			*tend = c + p->clen;
			return 0;
		}
		if (c > from && p->s[c - 1] == partner) {
			*cend = c - 1;
			*tend = c + p->clen;
			return 0;
		}
		at = c + 1;
	}
}

static int parse(struct parser *p)
{
	const char *s = p->s;
	size_t len = p->len;
	size_t pos = 0, text_start = 0;
	bool at_line_start = true; /* text_start begins a source line */
	char q1[QUOTE_MAX], q2[QUOTE_MAX];

	p->bol = true;
	for (;;) {
		size_t tag = find(s, pos, len, p->otag, p->olen);
		if (tag == NOT_FOUND)
			break;

		size_t q = tag + p->olen;
		while (q < len && is_space(s[q]))
			q++;
		char sigil = q < len ? s[q] : 0;
		switch (sigil) {
		case '#': case '^': case '/': case '>':
		case '!': case '=': case '{': case '&':
			q++;
			break;
		default:
			sigil = 0;
		}

		size_t cend, tend;
		if (find_tag_end(p, sigil, q, &cend, &tend) < 0) {
			char closer[QUOTE_MAX + 1];
			quote_bytes(q1, sizeof(q1), p->otag, p->olen);
			quote_bytes(q2, sizeof(q2), p->ctag, p->clen);
			snprintf(closer, sizeof(closer), "%s%s",
				 sigil == '{' ? "}" : sigil == '=' ? "=" : "",
				 q2);
			return parse_error(p, tag, "unclosed tag: \"%s\" "
					   "without \"%s\"", q1, closer);
		}

		size_t name = q, name_end = cend;
		while (name < name_end && is_space(s[name]))
			name++;
		while (name_end > name && is_space(s[name_end - 1]))
			name_end--;
		size_t name_len = name_end - name;
		if (name_len == 0 && sigil != '!' && sigil != '=')
			return parse_error(p, tag, "empty tag name");

		/* Standalone: only blanks around the tag on its line; the
		 * whole line, newline included, then disappears. */
		bool standalone = false;
		size_t ls = 0, next = tend;
		if (sigil && sigil != '{' && sigil != '&') {
			size_t k = tag;
			while (k > text_start && s[k - 1] != '\n')
				k--;
			bool line_start = k > text_start || at_line_start;
			bool blanks = true;
			for (size_t i = k; i < tag && blanks; i++)
				blanks = is_blank(s[i]);
			if (line_start && blanks) {
				size_t e = tend;
				while (e < len && is_blank(s[e]))
					e++;
				if (e == len) {
					standalone = true;
					next = e;
				} else if (s[e] == '\n') {
					standalone = true;
					next = e + 1;
				} else if (s[e] == '\r' && e + 1 < len &&
					   s[e + 1] == '\n') {
					standalone = true;
					next = e + 2;
				}
			}
			ls = k;
		}

		if (standalone) {
			if (emit_text(p, text_start, ls) < 0)
				return -1;
			p->bol = false; /* that line is gone */
		} else {
			if (emit_text(p, text_start, tag) < 0 ||
			    flush_bol(p) < 0)
				return -1;
		}

		size_t i;
		switch (sigil) {
		case '!':
			break;
		case '=':
			if (set_delimiters(p, tag, q, cend) < 0)
				return -1;
			break;
		case '#':
		case '^':
			if (open_section(p, sigil == '#' ? NODE_SECTION :
					 NODE_INVERTED, tag, name,
					 name_len) < 0)
				return -1;
			break;
		case '/':
			if (close_section(p, tag, name, name_len) < 0)
				return -1;
			break;
		case '>':
			i = add_node(p, NODE_PARTIAL);
			if (i == NOT_FOUND)
				return oom(p);
			p->t->nodes[i].off = name;
			p->t->nodes[i].len = name_len;
			if (standalone) {
				p->t->nodes[i].ind_off = ls;
				p->t->nodes[i].ind_len = tag - ls;
			}
			locate(p, tag, &p->t->nodes[i].line,
			       &p->t->nodes[i].column);
			break;
		default: /* variable */
			i = add_node(p, NODE_VAR);
			if (i == NOT_FOUND)
				return oom(p);
			p->t->nodes[i].off = name;
			p->t->nodes[i].len = name_len;
			p->t->nodes[i].raw = sigil == '{' || sigil == '&';
			locate(p, tag, &p->t->nodes[i].line,
			       &p->t->nodes[i].column);
			break;
		}

		pos = text_start = next;
		at_line_start = standalone;
		if (standalone)
			p->bol = true;
	}
	if (emit_text(p, text_start, len) < 0)
		return -1;
	if (p->nopen) {
		const struct node *o = &p->t->nodes[p->open[p->nopen - 1]];
		quote_bytes(q1, sizeof(q1), s + o->off, o->len);
		/* The opener's position is already known; report it. */
		if (p->err) {
			p->err->line = o->line;
			p->err->column = o->column;
			snprintf(p->err->message, sizeof(p->err->message),
				 "unclosed section \"%s\"", q1);
		}
		return -1;
	}
	return 0;
}

int mustache_compile(const char *src, size_t len,
		     struct mustache_template **out, struct mustache_error *err)
{
	struct parser p;
	memset(&p, 0, sizeof(p));
	p.err = err;
	*out = NULL;

	if (!src && len) {
		set_error(err, 0, 0, "no template source");
		return -1;
	}
	if (len == SIZE_MAX) {
		set_error(err, 0, 0, "out of memory");
		return -1;
	}
	struct mustache_template *t = calloc(1, sizeof(*t));
	if (!t)
		goto fail_oom;
	p.t = t;
	t->src = malloc(len + 1);
	if (!t->src)
		goto fail_oom;
	if (len)
		memcpy(t->src, src, len);
	t->src[len] = '\0';
	t->len = len;

	p.s = t->src;
	p.len = len;
	p.otag = "{{";
	p.olen = 2;
	p.ctag = "}}";
	p.clen = 2;
	p.lc_line = 1;
	if (parse(&p) < 0)
		goto fail;

	free(p.open);
	*out = t;
	return 0;

fail_oom:
	set_error(err, 0, 0, "out of memory");
fail:
	free(p.open);
	mustache_free(t);
	return -1;
}

void mustache_free(struct mustache_template *t)
{
	if (!t)
		return;
	free(t->src);
	free(t->nodes);
	free(t);
}

int mustache_walk(const struct mustache_template *t, mustache_walk_fn fn,
		  void *ud)
{
	if (!t)
		return 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct node *nd = &t->nodes[i];
		enum mustache_tag_kind k;
		switch (nd->kind) {
		case NODE_VAR:
			k = MUSTACHE_TAG_VAR;
			break;
		case NODE_SECTION:
			k = MUSTACHE_TAG_SECTION;
			break;
		case NODE_INVERTED:
			k = MUSTACHE_TAG_INVERTED;
			break;
		case NODE_CLOSE:
			k = MUSTACHE_TAG_CLOSE;
			break;
		case NODE_PARTIAL:
			k = MUSTACHE_TAG_PARTIAL;
			break;
		default:
			continue;
		}
		int rc = fn(ud, k, t->src + nd->off, nd->len, nd->line,
			    nd->column);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- rendering ---- */

/* One entry of the render's explicit stack: an entered section or a
 * partial being rendered. */
struct frame {
	bool partial;
	const struct mustache_template *t; /* partial: template to return to */
	size_t pc;          /* partial: where to resume; section: its opener */
	size_t ind_len;     /* partial: the indentation to go back to */
	const json_t *list; /* section over a list, else NULL */
	size_t idx;         /* section over a list: the current element */
};

struct cached_partial {
	const char *name; /* slice of a template that outlives the render */
	size_t len;
	struct mustache_template *t; /* NULL: the lookup found nothing */
};

struct render {
	enum mustache_escape esc;
	const struct mustache_partials *partials;
	struct buf *out;
	struct mustache_error *err;

	const json_t **ctx; /* the context stack, innermost last */
	size_t nctx, capctx;
	struct frame *fr;
	size_t nfr, capfr;
	struct cached_partial *cache;
	size_t ncache, capcache;
	struct buf indent; /* indentation of the standalone partials entered */
	int depth;         /* partials entered */
	size_t steps;
	size_t out_start;
};

static int push_ctx(struct render *r, const json_t *v)
{
	const json_t **ctx = grow(r->ctx, &r->capctx, r->nctx + 1,
				 sizeof(*r->ctx));
	if (!ctx)
		return -1;
	r->ctx = ctx;
	r->ctx[r->nctx++] = v;
	return 0;
}

static struct frame *push_frame(struct render *r)
{
	struct frame *fr = grow(r->fr, &r->capfr, r->nfr + 1, sizeof(*r->fr));
	if (!fr)
		return NULL;
	r->fr = fr;
	struct frame *f = &r->fr[r->nfr++];
	memset(f, 0, sizeof(*f));
	return f;
}

/* The spec's name resolution: "." is the innermost context; otherwise the
 * first part of a dotted name is looked up through the stack, innermost
 * first, and the rest only inside what that found. "a.b" is never a single
 * key. */
static const json_t *lookup(const struct render *r, const char *name,
			    size_t len)
{
	if (len == 1 && name[0] == '.')
		return r->nctx ? r->ctx[r->nctx - 1] : NULL;
	const char *dot = memchr(name, '.', len);
	size_t first = dot ? (size_t)(dot - name) : len;
	const json_t *v = NULL;
	for (size_t i = r->nctx; i-- > 0;) {
		const json_t *c = r->ctx[i];
		if (json_is_object(c)) {
			v = json_object_getn(c, name, first);
			if (v)
				break;
		}
	}
	while (v && dot) {
		const char *part = dot + 1;
		size_t rest = len - (size_t)(part - name);
		dot = memchr(part, '.', rest);
		size_t plen = dot ? (size_t)(dot - part) : rest;
		v = json_is_object(v) ? json_object_getn(v, part, plen) : NULL;
	}
	return v;
}

/* The empty string is false too: a project decision (docs/templates.md),
 * so that an optional text given as "" hides its section. */
static bool is_falsy(const json_t *v)
{
	if (!v || json_is_null(v) || json_is_false(v))
		return true;
	if (json_is_array(v))
		return json_array_size(v) == 0;
	if (json_is_string(v))
		return json_string_length(v) == 0;
	return false;
}

static int append_html(struct buf *b, const char *s, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		const char *rep;
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		if (buf_append(b, s + run, i - run) < 0 ||
		    buf_append_str(b, rep) < 0)
			return -1;
		run = i + 1;
	}
	return buf_append(b, s + run, n - run);
}

/* The inside of a JSON string literal. U+2028/2029 are escaped because
 * they end lines in JavaScript; other UTF-8 passes through as it is. */
static int append_json(struct buf *b, const char *s, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char tmp[8];
		const char *rep = NULL;
		size_t skip = 1;
		switch (c) {
		case '"': rep = "\\\""; break;
		case '\\': rep = "\\\\"; break;
		case '\n': rep = "\\n"; break;
		case '\r': rep = "\\r"; break;
		case '\t': rep = "\\t"; break;
		case '\b': rep = "\\b"; break;
		case '\f': rep = "\\f"; break;
		default:
			if (c < 0x20) {
				snprintf(tmp, sizeof(tmp), "\\u%04x", c);
				rep = tmp;
			} else if (c == 0xE2 && n - i >= 3 &&
				   (unsigned char)s[i + 1] == 0x80 &&
				   ((unsigned char)s[i + 2] == 0xA8 ||
				    (unsigned char)s[i + 2] == 0xA9)) {
				rep = (unsigned char)s[i + 2] == 0xA8 ?
				      "\\u2028" : "\\u2029";
				skip = 3;
			}
		}
		if (!rep)
			continue;
		if (buf_append(b, s + run, i - run) < 0 ||
		    buf_append_str(b, rep) < 0)
			return -1;
		i += skip - 1;
		run = i + 1;
	}
	return buf_append(b, s + run, n - run);
}

static int append_escaped(struct render *r, const char *s, size_t n, bool raw)
{
	if (raw || r->esc == MUSTACHE_ESCAPE_NONE)
		return buf_append(r->out, s, n);
	if (r->esc == MUSTACHE_ESCAPE_JSON)
		return append_json(r->out, s, n);
	return append_html(r->out, s, n);
}

/* Shortest "%g" that reads back as the same double (1.21, not
 * 1.2099999999999999645). */
static void format_real(char *dst, size_t cap, double d)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(dst, cap, "%.*g", prec, d);
		if (strtod(dst, NULL) == d)
			return;
	}
}

/* Objects and arrays interpolate as nothing: there is no text form of
 * them a notice could want, and printing JSON would leak structure. */
static int append_value(struct render *r, const json_t *v, bool raw)
{
	char tmp[64];
	if (!v)
		return 0;
	switch (json_typeof(v)) {
	case JSON_STRING:
		return append_escaped(r, json_string_value(v),
				      json_string_length(v), raw);
	case JSON_INTEGER:
		snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		return append_escaped(r, tmp, strlen(tmp), raw);
	case JSON_REAL:
		format_real(tmp, sizeof(tmp), json_real_value(v));
		return append_escaped(r, tmp, strlen(tmp), raw);
	case JSON_TRUE:
		return append_escaped(r, "true", 4, raw);
	case JSON_FALSE:
		return append_escaped(r, "false", 5, raw);
	default:
		return 0;
	}
}

/* Template text, with the current indentation at each line start. */
static int append_text(struct render *r, const struct mustache_template *t,
		       const struct node *nd)
{
	const char *s = t->src + nd->off;
	size_t n = nd->len;
	const struct buf *ind = &r->indent;
	if (ind->len == 0)
		return buf_append(r->out, s, n);
	if (nd->bol && buf_append(r->out, ind->data, ind->len) < 0)
		return -1;
	size_t run = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] != '\n')
			continue;
		if (buf_append(r->out, s + run, i + 1 - run) < 0 ||
		    buf_append(r->out, ind->data, ind->len) < 0)
			return -1;
		run = i + 1;
	}
	return buf_append(r->out, s + run, n - run);
}

/* Finds (or looks up and compiles) a partial; *out is NULL when there is
 * no such partial, which renders as nothing. */
static int get_partial(struct render *r, const struct mustache_template *t,
		       const struct node *nd, struct mustache_template **out)
{
	const char *name = t->src + nd->off;
	*out = NULL;
	for (size_t i = 0; i < r->ncache; i++) {
		if (r->cache[i].len == nd->len &&
		    memcmp(r->cache[i].name, name, nd->len) == 0) {
			*out = r->cache[i].t;
			return 0;
		}
	}
	if (!r->partials || !r->partials->lookup)
		return 0;

	size_t plen = 0;
	const char *psrc = r->partials->lookup(r->partials->ud, name, nd->len,
					       &plen);
	struct mustache_template *pt = NULL;
	if (psrc) {
		struct mustache_error perr;
		memset(&perr, 0, sizeof(perr));
		if (mustache_compile(psrc, plen, &pt, &perr) < 0) {
			char q[QUOTE_MAX];
			quote_bytes(q, sizeof(q), name, nd->len);
			set_error(r->err, perr.line, perr.column,
				  "in partial \"%s\": %s", q, perr.message);
			return -1;
		}
	}
	struct cached_partial *cache = grow(r->cache, &r->capcache,
					    r->ncache + 1, sizeof(*r->cache));
	if (!cache) {
		mustache_free(pt);
		set_error(r->err, 0, 0, "out of memory");
		return -1;
	}
	r->cache = cache;
	r->cache[r->ncache].name = name;
	r->cache[r->ncache].len = nd->len;
	r->cache[r->ncache].t = pt;
	r->ncache++;
	*out = pt;
	return 0;
}

static int enter_partial(struct render *r, const struct mustache_template **t,
			 size_t *pc)
{
	const struct node *nd = &(*t)->nodes[*pc];
	struct mustache_template *pt;
	if (r->depth >= PARTIAL_DEPTH_MAX) {
		char q[QUOTE_MAX];
		quote_bytes(q, sizeof(q), (*t)->src + nd->off, nd->len);
		set_error(r->err, nd->line, nd->column,
			  "partial \"%s\": partials nested deeper than %d", q,
			  PARTIAL_DEPTH_MAX);
		return -1;
	}
	if (get_partial(r, *t, nd, &pt) < 0)
		return -1;
	if (!pt) {
		(*pc)++;
		return 0;
	}
	struct frame *f = push_frame(r);
	if (!f)
		goto fail_oom;
	f->partial = true;
	f->t = *t;
	f->pc = *pc + 1;
	f->ind_len = r->indent.len;
	if (nd->ind_len &&
	    buf_append(&r->indent, (*t)->src + nd->ind_off, nd->ind_len) < 0) {
		r->nfr--;
		goto fail_oom;
	}
	r->depth++;
	*t = pt;
	*pc = 0;
	return 0;

fail_oom:
	set_error(r->err, 0, 0, "out of memory");
	return -1;
}

static int run(struct render *r, const struct mustache_template *t)
{
	size_t pc = 0;
	for (;;) {
		if (pc >= t->n) {
			/* Sections always close inside their own template,
			 * so only a partial's frame can be on top here. */
			if (r->nfr == 0)
				return 0;
			struct frame *f = &r->fr[--r->nfr];
			t = f->t;
			pc = f->pc;
			r->indent.len = f->ind_len;
			r->depth--;
			continue;
		}
		const struct node *nd = &t->nodes[pc];
		const json_t *v;
		struct frame *f;
		if (++r->steps > RENDER_STEPS_MAX ||
		    r->out->len - r->out_start > RENDER_OUTPUT_MAX) {
			set_error(r->err, nd->line, nd->column,
				  "the template is too costly to render (over "
				  "%d steps or %u bytes): check nested sections",
				  RENDER_STEPS_MAX, RENDER_OUTPUT_MAX);
			return -1;
		}
		switch (nd->kind) {
		case NODE_TEXT:
			if (append_text(r, t, nd) < 0)
				goto fail_oom;
			pc++;
			break;
		case NODE_VAR:
			v = lookup(r, t->src + nd->off, nd->len);
			if (append_value(r, v, nd->raw) < 0)
				goto fail_oom;
			pc++;
			break;
		case NODE_INVERTED:
			v = lookup(r, t->src + nd->off, nd->len);
			pc = is_falsy(v) ? pc + 1 : nd->link + 1;
			break;
		case NODE_SECTION:
			v = lookup(r, t->src + nd->off, nd->len);
			if (is_falsy(v)) {
				pc = nd->link + 1;
				break;
			}
			f = push_frame(r);
			if (!f)
				goto fail_oom;
			f->pc = pc;
			if (json_is_array(v)) {
				f->list = v;
				v = json_array_get(v, 0);
			}
			if (push_ctx(r, v) < 0)
				goto fail_oom;
			pc++;
			break;
		case NODE_CLOSE:
			if (t->nodes[nd->link].kind == NODE_INVERTED) {
				pc++;
				break;
			}
			f = &r->fr[r->nfr - 1];
			if (f->list && f->idx + 1 < json_array_size(f->list)) {
				f->idx++;
				r->ctx[r->nctx - 1] =
					json_array_get(f->list, f->idx);
				pc = nd->link + 1;
				break;
			}
			r->nfr--;
			r->nctx--;
			pc++;
			break;
		case NODE_PARTIAL:
			if (enter_partial(r, &t, &pc) < 0)
				return -1;
			break;
		}
	}

fail_oom:
	set_error(r->err, 0, 0, "out of memory");
	return -1;
}

int mustache_render(const struct mustache_template *t, const json_t *ctx,
		    enum mustache_escape esc,
		    const struct mustache_partials *partials, struct buf *out,
		    struct mustache_error *err)
{
	struct render r;
	memset(&r, 0, sizeof(r));
	r.esc = esc;
	r.partials = partials;
	r.out = out;
	r.err = err;
	size_t out_len = out->len;
	int rc = -1;
	r.out_start = out_len;

	if (!t) {
		set_error(err, 0, 0, "no template");
		return -1;
	}
	if (ctx && push_ctx(&r, ctx) < 0) {
		set_error(err, 0, 0, "out of memory");
		goto done;
	}
	rc = run(&r, t);

done:
	if (rc < 0 && out->data) {
		/* A failed render adds nothing. */
		out->len = out_len;
		out->data[out_len] = '\0';
	}
	for (size_t i = 0; i < r.ncache; i++)
		mustache_free(r.cache[i].t);
	free(r.cache);
	free(r.ctx);
	free(r.fr);
	buf_free(&r.indent);
	return rc;
}
