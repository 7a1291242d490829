/* cmd_template: the notice templates from the command line — list, show
 * (in the [title]/[body]/[tts] file format of templates/), edit in
 * $EDITOR with a preview before saving, history, rollback, and render
 * (offline, no daemon). An edit saves with the version it started from;
 * when someone else saved in between, the server refuses (409) and this
 * file shows their text against the user's and keeps the user's file. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "client.h"
#include "mustache.h"
#include "table.h"
#include "templates.h"
#include "util.h"

static int read_cli_file(const char *path, char **data, size_t *len)
{
	if (util_read_file(path, data, len) < 0) {
		fprintf(stderr, "scicast: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- template render (offline) ---- */

struct partial_files {
	int n;
	char *name[32];
	char *text[32];
	size_t len[32];
};

static const char *lookup_partial(void *ud, const char *name, size_t len,
				  size_t *len_out)
{
	struct partial_files *p = ud;
	for (int i = 0; i < p->n; i++)
		if (strlen(p->name[i]) == len && memcmp(p->name[i], name, len) == 0) {
			*len_out = p->len[i];
			return p->text[i];
		}
	return NULL;
}

static bool has_parts(const char *text, size_t len)
{
	(void)len;
	return strstr(text, "[title]\n") || strstr(text, "[body]\n") ||
	       strstr(text, "[title]\r\n");
}

/* Renders one source; line_base shifts error lines to the file's. */
static int render_one(const char *file, const char *src, size_t len,
		      int line_base, const json_t *data, enum mustache_escape esc,
		      struct partial_files *pf, struct buf *out)
{
	struct mustache_template *t = NULL;
	struct mustache_error me;
	struct mustache_partials partials = { lookup_partial, pf };
	if (mustache_compile(src, len, &t, &me) < 0 ||
	    mustache_render(t, data, esc, &partials, out, &me) < 0) {
		fprintf(stderr, "%s:%d:%d: %s\n", file,
			me.line ? me.line + line_base : 0, me.column, me.message);
		mustache_free(t);
		return -1;
	}
	mustache_free(t);
	return 0;
}

static void template_render_usage(FILE *out)
{
	fprintf(out,
		"usage: scicast template render FILE --data CONTEXT.json "
		"[--partial NAME=FILE]... [--escape html|none|json]\n"
		"\nRenders a template file offline (no daemon needed) and prints "
		"the result.\nA file with [title], [body] and [tts] parts (the "
		"format of templates/) is\nrendered part by part; any other file "
		"as one template. --escape defaults to\nnone (screen text and "
		"speech). A template error exits 2 with FILE:LINE:COLUMN.\n");
}

static int cmd_template_render(struct cli *c, int argc, char **argv)
{
	const char *file = NULL, *data_path = NULL;
	enum mustache_escape esc = MUSTACHE_ESCAPE_NONE;
	struct partial_files pf = { 0 };
	char *src = NULL, *data_text = NULL;
	size_t src_len = 0, data_len = 0;
	json_t *data = NULL;
	struct buf out = BUF_INIT;
	int rc = CLI_USAGE;
	(void)c;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			template_render_usage(stdout);
			rc = 0;
			goto done;
		} else if (strcmp(a, "--data") == 0 && i + 1 < argc) {
			data_path = argv[++i];
		} else if (strcmp(a, "--escape") == 0 && i + 1 < argc) {
			const char *e = argv[++i];
			if (strcmp(e, "html") == 0)
				esc = MUSTACHE_ESCAPE_HTML;
			else if (strcmp(e, "none") == 0)
				esc = MUSTACHE_ESCAPE_NONE;
			else if (strcmp(e, "json") == 0)
				esc = MUSTACHE_ESCAPE_JSON;
			else {
				fprintf(stderr, "scicast: --escape must be html, "
					"none or json\n");
				goto done;
			}
		} else if (strcmp(a, "--partial") == 0 && i + 1 < argc) {
			const char *spec = argv[++i];
			const char *eq = strchr(spec, '=');
			if (!eq || eq == spec || pf.n == 32) {
				fprintf(stderr, "scicast: --partial takes NAME=FILE "
					"(at most 32)\n");
				goto done;
			}
			pf.name[pf.n] = strndup(spec, (size_t)(eq - spec));
			if (!pf.name[pf.n] ||
			    read_cli_file(eq + 1, &pf.text[pf.n], &pf.len[pf.n]) < 0) {
				free(pf.name[pf.n]);
				goto done;
			}
			pf.n++;
		} else if (a[0] == '-' && a[1]) {
			cli_usage_error("template render", "unknown option %.60s "
					"(or a missing value)", a);
			goto done;
		} else if (!file) {
			file = a;
		} else {
			fprintf(stderr, "scicast: one template file at a time\n");
			goto done;
		}
	}
	if (!file || !data_path) {
		cli_usage_error("template render", "FILE and --data CONTEXT.json "
				"are required");
		goto done;
	}
	if (read_cli_file(file, &src, &src_len) < 0 ||
	    read_cli_file(data_path, &data_text, &data_len) < 0)
		goto done;
	json_error_t je;
	data = json_loadb(data_text, data_len, 0, &je);
	if (!data) {
		fprintf(stderr, "%s:%d:%d: %s\n", data_path, je.line, je.column,
			je.text);
		goto done;
	}
	if (has_parts(src, src_len)) {
		struct template_text t = { 0 };
		struct err e;
		if (templates_parse_file(src, src_len, &t, &e) < 0) {
			fprintf(stderr, "%s: %s\n", file, e.message);
			goto done;
		}
		for (int p = 0; p < TEMPLATE_PARTS; p++) {
			buf_appendf(&out, "[%s]\n", template_part_names[p]);
			if (render_one(file, t.part[p], strlen(t.part[p]),
				       t.line[p] - 1, data, esc, &pf, &out) < 0) {
				template_text_free(&t);
				goto done;
			}
			buf_append_char(&out, '\n');
		}
		template_text_free(&t);
	} else if (render_one(file, src, src_len, 0, data, esc, &pf, &out) < 0) {
		goto done;
	}
	fwrite(buf_str(&out), 1, out.len, stdout);
	rc = 0;
done:
	for (int i = 0; i < pf.n; i++) {
		free(pf.name[i]);
		free(pf.text[i]);
	}
	buf_free(&out);
	json_decref(data);
	free(src);
	free(data_text);
	return rc;
}

/* ---- the file format ---- */

/* The three parts as the file format, without a comment header. */
static int template_format(struct buf *b, const char *const part[TEMPLATE_PARTS])
{
	for (int i = 0; i < TEMPLATE_PARTS; i++)
		if (buf_appendf(b, "[%s]\n%s\n", template_part_names[i],
				part[i] ? part[i] : "") < 0)
			return -1;
	return 0;
}

static int template_format_json(struct buf *b, const json_t *t)
{
	const char *part[TEMPLATE_PARTS];
	for (int i = 0; i < TEMPLATE_PARTS; i++)
		part[i] = cli_str(t, template_part_names[i]);
	return template_format(b, part);
}

/* "# template 6: typhoon village zh-CN, version 3 (admin, 2026-…)" */
static int template_header(struct buf *b, const json_t *t)
{
	return buf_appendf(b, "# template %lld: %s %s %s, version %lld (%s, %s)%s\n",
			   cli_int(t, "id"), cli_str(t, "hazard"),
			   cli_str(t, "tier"), cli_str(t, "locale"),
			   cli_int(t, "version"), cli_str(t, "author"),
			   cli_str(t, "updated_at"),
			   json_is_true(json_object_get(t, "deleted")) ? ", deleted" : "");
}

/* ---- a line diff, for conflicts ---- */

struct template_lines {
	size_t n;
	const char **at;
	size_t *len;
};

static int template_split(const char *s, struct template_lines *l)
{
	size_t n = 1;
	for (const char *p = s; *p; p++)
		n += *p == '\n';
	l->at = calloc(n, sizeof *l->at);
	l->len = calloc(n, sizeof *l->len);
	if (!l->at || !l->len)
		return -1;
	l->n = 0;
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		l->at[l->n] = s;
		l->len[l->n++] = len;
		s += len + (nl ? 1 : 0);
	}
	return 0;
}

static bool template_same(const struct template_lines *a, size_t i,
			  const struct template_lines *b, size_t j)
{
	return a->len[i] == b->len[j] &&
	       memcmp(a->at[i], b->at[j], a->len[i]) == 0;
}

/* A unified-style diff of two texts from their longest common
 * subsequence of lines; texts too long for that are shown whole. */
static void template_diff(FILE *out, const char *theirs, const char *yours,
			  const char *their_name, const char *your_name)
{
	struct template_lines a = { 0 }, b = { 0 };
	unsigned *lcs = NULL;
	fprintf(out, "--- %s\n+++ %s\n", their_name, your_name);
	if (template_split(theirs, &a) < 0 || template_split(yours, &b) < 0 ||
	    (a.n + 1) * (b.n + 1) > 4000000 ||
	    !(lcs = calloc((a.n + 1) * (b.n + 1), sizeof *lcs))) {
		fprintf(out, "%s\n%s\n", theirs, yours);
		goto done;
	}
	size_t w = b.n + 1;
	for (size_t i = a.n; i-- > 0;)
		for (size_t j = b.n; j-- > 0;)
			lcs[i * w + j] = template_same(&a, i, &b, j)
				? lcs[(i + 1) * w + j + 1] + 1
				: (lcs[(i + 1) * w + j] > lcs[i * w + j + 1]
					   ? lcs[(i + 1) * w + j] : lcs[i * w + j + 1]);
	size_t i = 0, j = 0;
	while (i < a.n || j < b.n) {
		if (i < a.n && j < b.n && template_same(&a, i, &b, j)) {
			fprintf(out, " %.*s\n", (int)a.len[i], a.at[i]);
			i++;
			j++;
		} else if (j < b.n && (i == a.n ||
				       lcs[i * w + j + 1] >= lcs[(i + 1) * w + j])) {
			fprintf(out, "+%.*s\n", (int)b.len[j], b.at[j]);
			j++;
		} else {
			fprintf(out, "-%.*s\n", (int)a.len[i], a.at[i]);
			i++;
		}
	}
done:
	free(lcs);
	free(a.at);
	free(a.len);
	free(b.at);
	free(b.len);
}

/* ---- list, show, history, rollback ---- */

static int cmd_template_list(struct cli *c, int argc, char **argv)
{
	const char *hazard, *tier, *locale;
	const struct cli_opt opts[] = {
		{ "hazard", 0, "H", "a hazard code, or * for the fallbacks", &hazard },
		{ "tier", 0, "T", "city, town or village", &tier },
		{ "locale", 0, "L", "zh-CN, en, …", &locale },
		{ NULL, 0, NULL, NULL, NULL },
	};
	static const struct cli_help h = { "template list",
		"template list [--hazard H] [--tier T] [--locale L]",
		"Lists the current templates: one per (hazard, tier, locale)." };
	static const char *const heads[] = { "ID", "HAZARD", "TIER", "LOCALE",
					     "VERSION", "UPDATED", "AUTHOR",
					     "COMMENT" };
	struct buf path = BUF_INIT;
	json_t *ans = NULL;
	struct table t;
	size_t i;
	const json_t *x;
	int rc;
	if (cli_parse(c, &h, opts, argc, argv, NULL, 0, 0, NULL, &rc) < 0)
		return rc;
	table_init(&t, 8, heads);
	rc = CLI_USAGE;
	if (buf_append_str(&path, "/api/v1/templates") < 0 ||
	    client_query(&path, "hazard", hazard) < 0 ||
	    client_query(&path, "tier", tier) < 0 ||
	    client_query(&path, "locale", locale) < 0)
		goto done;
	rc = client_show(c, h.cmd, buf_str(&path), &ans);
	if (rc != 0 || !ans)
		goto done;
	table_right(&t, 0);
	table_right(&t, 4);
	json_array_foreach(json_object_get(ans, "items"), i, x) {
		table_cellf(&t, "%lld", cli_int(x, "id"));
		table_cell(&t, cli_str(x, "hazard"));
		table_cell(&t, cli_str(x, "tier"));
		table_cell(&t, cli_str(x, "locale"));
		table_cellf(&t, "%lld%s", cli_int(x, "version"),
			    json_is_true(json_object_get(x, "deleted")) ? " deleted" : "");
		table_cell(&t, cli_str(x, "updated_at"));
		table_cell(&t, cli_str(x, "author"));
		table_cell(&t, cli_str(x, "comment"));
	}
	if (table_print(&t, stdout, c->width, c->out_tty) < 0)
		rc = CLI_USAGE;
done:
	table_free(&t);
	json_decref(ans);
	buf_free(&path);
	return rc;
}

static int cmd_template_show(struct cli *c, int argc, char **argv)
{
	const char *version;
	const struct cli_opt opts[] = {
		{ "version", 0, "N", "an older version", &version },
		{ NULL, 0, NULL, NULL, NULL },
	};
	static const struct cli_help h = { "template show",
		"template show ID [--version N]",
		"Prints a template in the file format of templates/ ([title], [body],\n"
		"[tts]), with a comment line saying which one it is; the output can be\n"
		"rendered with scicast template render." };
	const char *pos[1];
	struct buf path = BUF_INIT, out = BUF_INIT;
	json_t *t = NULL;
	long long id, v = 0;
	int rc;
	if (cli_parse(c, &h, opts, argc, argv, pos, 1, 1, NULL, &rc) < 0)
		return rc;
	if (cli_parse_id(h.cmd, "ID", pos[0], &id) < 0 ||
	    (version && cli_parse_id(h.cmd, "--version", version, &v) < 0))
		return CLI_USAGE;
	rc = CLI_USAGE;
	if ((v ? buf_appendf(&path, "/api/v1/templates/%lld/versions/%lld", id, v)
	       : buf_appendf(&path, "/api/v1/templates/%lld", id)) < 0)
		goto done;
	rc = client_show(c, h.cmd, buf_str(&path), &t);
	if (rc != 0 || !t)
		goto done;
	if (template_header(&out, t) < 0 || template_format_json(&out, t) < 0) {
		rc = CLI_USAGE;
		goto done;
	}
	fwrite(out.data, 1, out.len, stdout);
done:
	json_decref(t);
	buf_free(&out);
	buf_free(&path);
	return rc;
}

static int cmd_template_history(struct cli *c, int argc, char **argv)
{
	static const struct cli_help h = { "template history",
		"template history ID",
		"Lists a template's versions and the saves that were refused because\n"
		"someone else had saved first (their text is kept), newest first." };
	static const char *const heads[] = { "AT", "OUTCOME", "VERSION",
					     "BASED ON", "AUTHOR", "COMMENT" };
	struct buf path = BUF_INIT;
	json_t *ans = NULL;
	struct table t;
	long long id;
	size_t i;
	const json_t *ev;
	int rc;
	if (cli_parse_one_id(c, &h, NULL, argc, argv, &id, &rc) < 0)
		return rc;
	table_init(&t, 6, heads);
	rc = CLI_USAGE;
	if (buf_appendf(&path, "/api/v1/templates/%lld/history", id) < 0)
		goto done;
	rc = client_show(c, h.cmd, buf_str(&path), &ans);
	if (rc != 0 || !ans)
		goto done;
	table_right(&t, 2);
	table_right(&t, 3);
	json_array_foreach(json_object_get(ans, "events"), i, ev) {
		bool conflict = strcmp(cli_str(ev, "outcome"), "conflict") == 0;
		table_cell(&t, cli_str(ev, "at"));
		if (conflict)
			table_cellf(&t, "conflict (version %lld was current)",
				    cli_int(ev, "current_version"));
		else
			table_cellf(&t, "%s %s", cli_str(ev, "outcome"),
				    cli_str(ev, "action"));
		if (conflict)
			table_cell(&t, "-");
		else
			table_cellf(&t, "%lld", cli_int(ev, "version"));
		if (json_integer_value(json_object_get(ev, "based_on")))
			table_cellf(&t, "%lld", cli_int(ev, "based_on"));
		else
			table_cell(&t, "-");
		table_cell(&t, cli_str(ev, "author"));
		table_cell(&t, cli_str(ev, "comment"));
	}
	if (table_print(&t, stdout, c->width, c->out_tty) < 0)
		rc = CLI_USAGE;
done:
	table_free(&t);
	json_decref(ans);
	buf_free(&path);
	return rc;
}

static int cmd_template_rollback(struct cli *c, int argc, char **argv)
{
	const char *to, *comment;
	const struct cli_opt opts[] = {
		{ "to", 0, "N", "the version whose text comes back", &to },
		{ "comment", 0, "TEXT", "why (kept in the history)", &comment },
		{ NULL, 0, NULL, NULL, NULL },
	};
	static const struct cli_help h = { "template rollback",
		"template rollback ID --to N [--comment TEXT]",
		"Makes a new version with the text of version N. The history keeps\n"
		"every version, so a rollback can itself be rolled back." };
	const char *pos[1];
	struct buf path = BUF_INIT;
	json_t *cur = NULL, *body = NULL, *ans = NULL;
	long long id, n;
	int rc;
	if (cli_parse(c, &h, opts, argc, argv, pos, 1, 1, NULL, &rc) < 0)
		return rc;
	if (!to)
		return cli_usage_error(h.cmd, "--to N is required");
	if (cli_parse_id(h.cmd, "ID", pos[0], &id) < 0 ||
	    cli_parse_id(h.cmd, "--to", to, &n) < 0)
		return CLI_USAGE;
	rc = CLI_USAGE;
	/* The server wants the version this rollback replaces: the current. */
	if (buf_appendf(&path, "/api/v1/templates/%lld", id) < 0)
		goto done;
	rc = client_json(c, h.cmd, "GET", buf_str(&path), NULL, &cur);
	if (rc != 0)
		goto done;
	rc = CLI_USAGE;
	body = json_pack("{s:I, s:I}", "to_version", (json_int_t)n, "version",
			 (json_int_t)cli_int(cur, "version"));
	if (!body || (comment && json_object_set_new(body, "comment",
						     json_string(comment)) < 0) ||
	    buf_append_str(&path, "/rollback") < 0)
		goto done;
	rc = client_json(c, h.cmd, "POST", buf_str(&path), body, &ans);
	if (rc != 0)
		goto done;
	if (c->json)
		cli_print_json(ans);
	else
		printf("template %lld: version %lld has the text of version %lld\n",
		       id, cli_int(ans, "version"), n);
done:
	json_decref(cur);
	json_decref(body);
	json_decref(ans);
	buf_free(&path);
	return rc;
}

/* ---- edit ---- */

/* Runs $EDITOR (default vi) on path through the shell, so EDITOR may
 * carry arguments ("code -w"). Like git, the client ignores ^C while the
 * editor has the terminal. Returns the editor's exit status, or -1. */
static int template_run_editor(const char *path)
{
	struct sigaction ign = { 0 }, old_int, old_quit;
	int status = -1;
	ign.sa_handler = SIG_IGN;
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		execl("/bin/sh", "sh", "-c", "exec ${EDITOR:-vi} \"$1\"", "sh",
		      path, (char *)NULL);
		_exit(127);
	}
	if (pid > 0) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	return status;
}

/* The region a preview renders for: --region, else the first region of
 * the template's tier. NULL (and no error) when there is none. */
static int template_preview_region(struct cli *c, const char *cmd,
				   const char *given, const char *tier,
				   char *out, size_t cap)
{
	struct buf path = BUF_INIT;
	json_t *ans = NULL;
	int rc = CLI_USAGE;
	out[0] = '\0';
	if (given) {
		snprintf(out, cap, "%s", given);
		rc = 0;
		goto done;
	}
	if (buf_append_str(&path, "/api/v1/regions") < 0 ||
	    client_query(&path, "level", tier) < 0 ||
	    client_query(&path, "limit", "1") < 0)
		goto done;
	rc = client_json(c, cmd, "GET", buf_str(&path), NULL, &ans);
	if (rc == 0)
		snprintf(out, cap, "%s",
			 cli_str(json_array_get(json_object_get(ans, "items"), 0),
				 "code"));
done:
	json_decref(ans);
	buf_free(&path);
	return rc;
}

static void template_print_warnings(const json_t *warnings)
{
	size_t i;
	const json_t *w;
	json_array_foreach(warnings, i, w) {
		if (json_object_get(w, "line"))
			printf("warning: %s: line %lld, column %lld: %s\n",
			       cli_str(w, "field"), cli_int(w, "line"),
			       cli_int(w, "column"), cli_str(w, "message"));
		else
			printf("warning: %s: %s\n", cli_str(w, "field"),
			       cli_str(w, "message"));
	}
}

/* Renders the edited text for a real region and shows it with the
 * warnings a save would give. */
static int template_preview(struct cli *c, const char *cmd, const json_t *cur,
			    const struct template_text *t, const char *region)
{
	json_t *body = NULL, *ans = NULL;
	int rc = CLI_USAGE;
	body = json_pack("{s:s, s:s, s:s, s:s, s:s}", "title", t->part[PART_TITLE],
			 "body", t->part[PART_BODY], "tts", t->part[PART_TTS],
			 "region", region, "locale", cli_str(cur, "locale"));
	if (!body)
		goto done;
	/* A hazard's own template previews with that hazard; the fallback
	 * ("*") with the server's sample. */
	if (strcmp(cli_str(cur, "hazard"), "*") != 0 &&
	    json_object_set_new(body, "emergency",
				json_pack("{s:s}", "hazard",
					  cli_str(cur, "hazard"))) < 0)
		goto done;
	rc = client_json(c, cmd, "POST", "/api/v1/templates/preview", body, &ans);
	if (rc != 0)
		goto done;
	const json_t *reg = json_object_get(json_object_get(ans, "context"),
					    "region");
	const json_t *b = json_object_get(ans, "body");
	printf("preview for %s (%s), a sample alert:\n[title]\n%s\n"
	       "[body] (%lld of %lld screen characters)\n%s\n[tts]\n%s\n",
	       cli_str(reg, "name"), region,
	       cli_str(json_object_get(ans, "title"), "text"),
	       cli_int(b, "length"), cli_int(b, "limit"), cli_str(b, "text"),
	       cli_str(json_object_get(ans, "tts"), "text"));
	template_print_warnings(json_object_get(ans, "warnings"));
done:
	json_decref(body);
	json_decref(ans);
	return rc;
}

/* The PUT was refused because someone else saved first: say who, show
 * their text against the user's. */
static void template_conflict(long long id, const struct client_resp *r,
			      const struct template_text *mine,
			      const char *file)
{
	const json_t *theirs = json_object_get(json_object_get(r->json, "error"),
					       "details");
	struct buf a = BUF_INIT, b = BUF_INIT;
	char name[64];
	fprintf(stderr, "scicast: template edit: someone else saved version %lld "
		"of template %lld meanwhile (%s, %s); yours is not saved and is "
		"kept in %s\n", cli_int(theirs, "version"), id,
		cli_str(theirs, "author"), cli_str(theirs, "updated_at"), file);
	snprintf(name, sizeof name, "version %lld (theirs)",
		 cli_int(theirs, "version"));
	if (template_format_json(&a, theirs) == 0 &&
	    template_format(&b, (const char *const *)mine->part) == 0)
		template_diff(stdout, buf_str(&a), buf_str(&b), name, file);
	printf("To go on: scicast template edit %lld, and bring your changes "
	       "over from %s.\n", id, file);
	buf_free(&a);
	buf_free(&b);
}

static int cmd_template_edit(struct cli *c, int argc, char **argv)
{
	const char *region, *yes, *comment;
	const struct cli_opt opts[] = {
		{ "region", 0, "CODE", "preview for this region (default: the first of the tier)", &region },
		{ "comment", 0, "TEXT", "a comment for the history", &comment },
		{ "yes", 0, NULL, "save without asking", &yes },
		{ NULL, 0, NULL, NULL, NULL },
	};
	static const struct cli_help h = { "template edit",
		"template edit ID [--region CODE] [--comment TEXT] [--yes]",
		"Opens the template in $EDITOR (default vi) in the file format of\n"
		"templates/. When the editor exits, the text is checked and previewed\n"
		"for a region with a sample alert, with the warnings a save gives;\n"
		"then it is saved as a new version (asked first on a terminal, unless\n"
		"--yes). If someone else saved in the meantime, nothing is saved: their\n"
		"text is shown against yours, your file is kept, and the exit status\n"
		"is 1." };
	struct buf path = BUF_INIT, file = BUF_INIT, text = BUF_INIT;
	json_t *cur = NULL, *body = NULL;
	struct client_resp r = CLIENT_RESP_INIT;
	struct template_text mine = { 0 };
	char *edited = NULL, code[32], answer[16];
	size_t edited_len = 0;
	bool keep = true;
	long long id;
	int fd = -1, rc;
	if (cli_parse_one_id(c, &h, opts, argc, argv, &id, &rc) < 0)
		return rc;
	if (region && !util_is_region_code(region, strlen(region)))
		return cli_usage_error(h.cmd, "--region takes a 12-digit code");
	rc = CLI_USAGE;
	if (buf_appendf(&path, "/api/v1/templates/%lld", id) < 0)
		goto done;
	rc = client_json(c, h.cmd, "GET", buf_str(&path), NULL, &cur);
	if (rc != 0)
		goto done;
	rc = CLI_USAGE;
	const char *tmp = getenv("TMPDIR");
	if (buf_appendf(&file, "%s/scicast-template-%lld-XXXXXX.txt",
			tmp && *tmp ? tmp : "/tmp", id) < 0 ||
	    template_header(&text, cur) < 0 ||
	    buf_append_str(&text, "# Edit the parts below. Lines starting with # "
			   "before [title] are ignored.\n") < 0 ||
	    template_format_json(&text, cur) < 0)
		goto done;
	fd = mkstemps(file.data, 4);
	if (fd < 0 || write(fd, text.data, text.len) != (ssize_t)text.len ||
	    close(fd) < 0) {
		fprintf(stderr, "scicast: %s: %s\n", buf_str(&file), strerror(errno));
		if (fd >= 0)
			unlink(buf_str(&file));
		keep = false;
		goto done;
	}
	int st = template_run_editor(buf_str(&file));
	if (st != 0) {
		fprintf(stderr, "scicast: template edit: the editor exited with "
			"status %d; nothing was saved (your text is in %s)\n", st,
			buf_str(&file));
		goto done;
	}
	if (read_cli_file(buf_str(&file), &edited, &edited_len) < 0)
		goto done;
	struct err perr;
	if (templates_parse_file(edited, edited_len, &mine, &perr) < 0) {
		fprintf(stderr, "scicast: %s: %s; nothing was saved\n",
			buf_str(&file), perr.message);
		goto done;
	}
	bool changed = false;
	for (int i = 0; i < TEMPLATE_PARTS; i++)
		changed |= strcmp(mine.part[i], cli_str(cur, template_part_names[i])) != 0;
	if (!changed) {
		printf("no changes; nothing was saved\n");
		keep = false;
		rc = 0;
		goto done;
	}
	rc = template_preview_region(c, h.cmd, region, cli_str(cur, "tier"),
				     code, sizeof code);
	if (rc == 0 && code[0])
		rc = template_preview(c, h.cmd, cur, &mine, code);
	else if (rc == 0)
		printf("(no %s region to preview with)\n", cli_str(cur, "tier"));
	if (rc != 0) {
		fprintf(stderr, "scicast: template edit: nothing was saved; your "
			"text is in %s\n", buf_str(&file));
		goto done;
	}
	rc = CLI_USAGE;
	if (!yes && c->in_tty) {
		char q[160];
		snprintf(q, sizeof q, "Save as a new version of template %lld "
			 "(edited from version %lld)? [y/N] ", id,
			 cli_int(cur, "version"));
		if (cli_prompt(q, answer, sizeof answer) < 0 ||
		    (strcmp(answer, "y") != 0 && strcmp(answer, "yes") != 0)) {
			printf("not saved; your text is in %s\n", buf_str(&file));
			rc = 0;
			goto done;
		}
	}
	body = json_pack("{s:I, s:s, s:s, s:s}", "version",
			 (json_int_t)cli_int(cur, "version"),
			 "title", mine.part[PART_TITLE], "body", mine.part[PART_BODY],
			 "tts", mine.part[PART_TTS]);
	if (!body || (comment && json_object_set_new(body, "comment",
						     json_string(comment)) < 0))
		goto done;
	char *json_text = json_dumps(body, JSON_COMPACT);
	if (!json_text)
		goto done;
	rc = client_send(c, "PUT", buf_str(&path), "application/json", json_text,
			 strlen(json_text), &r);
	free(json_text);
	if (rc != 0)
		goto done;
	if (r.status == 409) {
		template_conflict(id, &r, &mine, buf_str(&file));
		rc = CLI_REFUSED;
		goto done;
	}
	if (r.status < 200 || r.status > 299) {
		rc = client_refused(h.cmd, &r);
		fprintf(stderr, "scicast: template edit: your text is in %s\n",
			buf_str(&file));
		goto done;
	}
	if (c->json) {
		cli_print_json(r.json);
	} else {
		printf("saved template %lld: version %lld\n", id,
		       cli_int(r.json, "version"));
		template_print_warnings(json_object_get(r.json, "warnings"));
	}
	keep = false;
	rc = 0;
done:
	if (!keep && file.len)
		unlink(buf_str(&file));
	client_resp_free(&r);
	template_text_free(&mine);
	json_decref(cur);
	json_decref(body);
	free(edited);
	buf_free(&text);
	buf_free(&file);
	buf_free(&path);
	return rc;
}

static const struct cli_cmd template_cmds[] = {
	{ "list", "list [--hazard H] [--tier T] [--locale L]",
	  "the current templates", cmd_template_list },
	{ "show", "show ID [--version N]", "a template in the file format",
	  cmd_template_show },
	{ "edit", "edit ID [--region CODE] [--comment TEXT] [--yes]",
	  "edit in $EDITOR, preview, save as a new version", cmd_template_edit },
	{ "history", "history ID", "versions and refused saves",
	  cmd_template_history },
	{ "rollback", "rollback ID --to N [--comment TEXT]",
	  "a new version with an old version's text", cmd_template_rollback },
	{ "render", "render FILE --data CONTEXT.json [--partial NAME=FILE]... "
		    "[--escape html|none|json]",
	  "render a template file offline", cmd_template_render },
};

int cmd_template(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "template", template_cmds,
			    sizeof template_cmds / sizeof template_cmds[0], argc,
			    argv);
}
