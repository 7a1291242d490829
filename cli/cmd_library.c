/* cmd_library: the science notice library — search (snippets with the
 * matches in bold on a terminal, in [brackets] elsewhere), show, and the
 * JSON-lines import and export an editor works with. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "client.h"
#include "table.h"

/* The server's snippet is HTML-escaped text with <mark> around the
 * matches: back to text, the marks to bold markers or brackets. */
static int library_snippet(struct buf *out, const char *s, bool bold)
{
	static const struct { const char *from, *to; } ents[] = {
		{ "&lt;", "<" }, { "&gt;", ">" }, { "&amp;", "&" },
		{ "&quot;", "\"" }, { "&#39;", "'" }, { "&#x27;", "'" },
	};
	while (*s) {
		size_t skip = 0;
		const char *put = NULL;
		char mark[2] = { 0 };
		if (strncmp(s, "<mark>", 6) == 0) {
			skip = 6;
			mark[0] = bold ? TABLE_BOLD_ON : '[';
			put = mark;
		} else if (strncmp(s, "</mark>", 7) == 0) {
			skip = 7;
			mark[0] = bold ? TABLE_BOLD_OFF : ']';
			put = mark;
		} else if (*s == '&') {
			for (size_t i = 0; i < sizeof ents / sizeof ents[0]; i++)
				if (strncmp(s, ents[i].from, strlen(ents[i].from)) == 0) {
					skip = strlen(ents[i].from);
					put = ents[i].to;
				}
		}
		if (put) {
			if (buf_append_str(out, put) < 0)
				return -1;
			s += skip;
		} else if (buf_append_char(out, *s++) < 0) {
			return -1;
		}
	}
	return 0;
}

static int cmd_library_search(struct cli *c, int argc, char **argv)
{
	const char *locale, *hazard, *limit;
	const struct cli_opt opts[] = {
		{ "locale", 0, "L", "zh-CN, en, …", &locale },
		{ "hazard", 0, "H", "a hazard code", &hazard },
		{ "limit", 0, "N", "at most N results (default 20)", &limit },
		{ NULL, 0, NULL, NULL, NULL },
	};
	static const struct cli_help h = { "library search",
		"library search QUERY [--locale L] [--hazard H] [--limit N]",
		"Searches the notices' titles, keywords, summaries and texts (Chinese\n"
		"words of any length). The snippet shows the matches in bold on a\n"
		"terminal and in [brackets] otherwise." };
	static const char *const heads[] = { "ID", "TITLE", "SNIPPET" };
	const char *pos[1];
	struct buf path = BUF_INIT, snip = BUF_INIT;
	json_t *ans = NULL;
	struct table t;
	size_t i;
	const json_t *x;
	int rc;
	if (cli_parse(c, &h, opts, argc, argv, pos, 1, 1, NULL, &rc) < 0)
		return rc;
	table_init(&t, 3, heads);
	rc = CLI_USAGE;
	if (buf_append_str(&path, "/api/v1/library/search") < 0 ||
	    client_query(&path, "q", pos[0]) < 0 ||
	    client_query(&path, "locale", locale) < 0 ||
	    client_query(&path, "hazard", hazard) < 0 ||
	    client_query(&path, "limit", limit) < 0)
		goto done;
	rc = client_show(c, h.cmd, buf_str(&path), &ans);
	if (rc != 0 || !ans)
		goto done;
	json_array_foreach(json_object_get(ans, "items"), i, x) {
		buf_reset(&snip);
		if (library_snippet(&snip, cli_str(x, "snippet"), c->out_tty) < 0) {
			rc = CLI_USAGE;
			goto done;
		}
		table_cell(&t, cli_str(x, "id"));
		table_cell(&t, cli_str(x, "title"));
		table_cell(&t, buf_str(&snip));
	}
	if (!table_rows(&t)) {
		printf("nothing found for \"%s\"\n", pos[0]);
		goto done;
	}
	if (table_print(&t, stdout, c->width, c->out_tty) < 0)
		rc = CLI_USAGE;
	else if (cli_int(ans, "total") > (long long)table_rows(&t))
		printf("(%zu of %lld: --limit shows more)\n", table_rows(&t),
		       cli_int(ans, "total"));
done:
	table_free(&t);
	json_decref(ans);
	buf_free(&snip);
	buf_free(&path);
	return rc;
}

static int cmd_library_show(struct cli *c, int argc, char **argv)
{
	const char *version;
	const struct cli_opt opts[] = {
		{ "version", 0, "N", "an older version", &version },
		{ NULL, 0, NULL, NULL, NULL },
	};
	static const struct cli_help h = { "library show",
		"library show ID [--version N]",
		"Prints one notice: what it is for, its summary (what a village\n"
		"screen shows) and its full text." };
	const char *pos[1];
	struct buf path = BUF_INIT, kw = BUF_INIT;
	json_t *n = NULL;
	size_t i;
	const json_t *k;
	int rc;
	if (cli_parse(c, &h, opts, argc, argv, pos, 1, 1, NULL, &rc) < 0)
		return rc;
	rc = CLI_USAGE;
	if (buf_append_str(&path, "/api/v1/library/") < 0 ||
	    client_escape(&path, pos[0]) < 0)
		goto done;
	if (client_query(&path, "version", version) < 0)
		goto done;
	rc = client_show(c, h.cmd, buf_str(&path), &n);
	if (rc != 0 || !n)
		goto done;
	json_array_foreach(json_object_get(n, "keywords"), i, k)
		buf_appendf(&kw, "%s%s", i ? ", " : "", json_string_value(k));
	printf("%s\n  %s, version %lld: %s, for %s, %s; priority %lld; updated %s\n"
	       "  authority: %s\n  keywords: %s\n  page: %s\n\nsummary: %s\n\n%s\n",
	       cli_str(n, "title"), cli_str(n, "id"), cli_int(n, "version"),
	       cli_str(n, "hazard"), cli_str(n, "audience"), cli_str(n, "locale"),
	       cli_int(n, "priority"), cli_str(n, "updated"),
	       cli_str(n, "authority"), buf_str(&kw), cli_str(n, "url"),
	       cli_str(n, "summary"), cli_str(n, "text"));
done:
	json_decref(n);
	buf_free(&kw);
	buf_free(&path);
	return rc;
}

static int cmd_library_import(struct cli *c, int argc, char **argv)
{
	static const struct cli_help h = { "library import",
		"library import FILE",
		"Imports a JSON-lines file (one notice per line, the format of\n"
		"library/*.jsonl; - reads standard input), all or nothing. A notice\n"
		"that exists gets a new version if something differs. When a line is\n"
		"bad nothing is imported, and every bad line is printed as\n"
		"FILE:LINE: field: message." };
	const char *pos[1];
	json_t *ans = NULL;
	int rc;
	if (cli_parse(c, &h, NULL, argc, argv, pos, 1, 1, NULL, &rc) < 0)
		return rc;
	rc = client_import(c, h.cmd, "/api/v1/library/import", pos[0],
			   "application/x-ndjson", &ans);
	if (rc == 0 && c->json)
		cli_print_json(ans);
	else if (rc == 0)
		printf("%s: %lld inserted, %lld updated, %lld unchanged\n", pos[0],
		       cli_int(ans, "inserted"), cli_int(ans, "updated"),
		       cli_int(ans, "unchanged"));
	json_decref(ans);
	return rc;
}

static int cmd_library_export(struct cli *c, int argc, char **argv)
{
	const char *hazard, *locale, *output;
	const struct cli_opt opts[] = {
		{ "hazard", 0, "H", "only this hazard's notices", &hazard },
		{ "locale", 0, "L", "only this language", &locale },
		{ "output", 'o', "FILE", "write to FILE instead of standard output", &output },
		{ NULL, 0, NULL, NULL, NULL },
	};
	static const struct cli_help h = { "library export",
		"library export [--hazard H] [--locale L] [-o FILE]",
		"Writes the notices as JSON lines, the format library import reads:\n"
		"an import of an export changes nothing." };
	struct buf path = BUF_INIT;
	struct client_resp r = CLIENT_RESP_INIT;
	FILE *f = NULL;
	int rc;
	if (cli_parse(c, &h, opts, argc, argv, NULL, 0, 0, NULL, &rc) < 0)
		return rc;
	rc = CLI_USAGE;
	if (buf_append_str(&path, "/api/v1/library/export") < 0 ||
	    client_query(&path, "hazard", hazard) < 0 ||
	    client_query(&path, "locale", locale) < 0)
		goto done;
	rc = client_send(c, "GET", buf_str(&path), NULL, NULL, 0, &r);
	if (rc != 0)
		goto done;
	if (r.status != 200) {
		rc = client_refused(h.cmd, &r);
		goto done;
	}
	rc = CLI_USAGE;
	if (output && !(f = fopen(output, "w"))) {
		fprintf(stderr, "scicast: %s: %s\n", output, strerror(errno));
		goto done;
	}
	bool bad = fwrite(r.body.data ? r.body.data : "", 1, r.body.len,
			  f ? f : stdout) != r.body.len;
	if (f && fclose(f) != 0)
		bad = true;
	f = NULL;
	if (bad) {
		fprintf(stderr, "scicast: %s: %s\n", output ? output : "stdout",
			strerror(errno));
		goto done;
	}
	if (output) {
		size_t lines = 0;
		for (size_t i = 0; i < r.body.len; i++)
			lines += r.body.data[i] == '\n';
		printf("wrote %zu notices to %s\n", lines, output);
	}
	rc = 0;
done:
	if (f)
		fclose(f);
	client_resp_free(&r);
	buf_free(&path);
	return rc;
}

static const struct cli_cmd library_cmds[] = {
	{ "search", "search QUERY [--locale L] [--hazard H] [--limit N]",
	  "full-text search", cmd_library_search },
	{ "show", "show ID [--version N]", "one notice", cmd_library_show },
	{ "import", "import FILE", "import JSON lines (all or nothing)",
	  cmd_library_import },
	{ "export", "export [--hazard H] [--locale L] [-o FILE]",
	  "export as JSON lines", cmd_library_export },
};

int cmd_library(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "library", library_cmds,
			    sizeof library_cmds / sizeof library_cmds[0], argc,
			    argv);
}
