/* scicast: the command-line client. Subcommands are a table ({name,
 * usage, help, exec}); each prints one clear line on failure and exits
 * with a documented status: 0 ok, 1 the server refused, 2 usage or input
 * error, 3 the server could not be reached. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mustache.h"
#include "templates.h"
#include "util.h"
#include "version.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define EXIT_UNREACHABLE 3

struct cmd {
	const char *name;
	const char *usage;
	const char *help;
	int (*exec)(int argc, char **argv);
};

static int read_cli_file(const char *path, char **data, size_t *len)
{
	if (util_read_file(path, data, len) < 0) {
		fprintf(stderr, "scicast: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- template render ---- */

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

static int cmd_template_render(int argc, char **argv)
{
	const char *file = NULL, *data_path = NULL;
	enum mustache_escape esc = MUSTACHE_ESCAPE_NONE;
	struct partial_files pf = { 0 };
	char *src = NULL, *data_text = NULL;
	size_t src_len = 0, data_len = 0;
	json_t *data = NULL;
	struct buf out = BUF_INIT;
	int rc = EXIT_USAGE;
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
			fprintf(stderr, "scicast: unknown option %s\n", a);
			template_render_usage(stderr);
			goto done;
		} else if (!file) {
			file = a;
		} else {
			fprintf(stderr, "scicast: one template file at a time\n");
			goto done;
		}
	}
	if (!file || !data_path) {
		template_render_usage(stderr);
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

static const struct cmd template_cmds[] = {
	{ "render", "render FILE --data CONTEXT.json [--partial NAME=FILE]... "
		    "[--escape html|none|json]",
	  "render a template file offline", cmd_template_render },
};

static int dispatch(const char *group, const struct cmd *cmds, size_t n,
		    int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		FILE *out = argc < 2 ? stderr : stdout;
		fprintf(out, "usage: scicast %s COMMAND\n\ncommands:\n", group);
		for (size_t i = 0; i < n; i++)
			fprintf(out, "  %s\n      %s\n", cmds[i].usage,
				cmds[i].help);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(cmds[i].name, argv[1]) == 0)
			return cmds[i].exec(argc - 1, argv + 1);
	fprintf(stderr, "scicast: unknown command \"%s %s\" (see scicast %s "
		"--help)\n", group, argv[1], group);
	return EXIT_USAGE;
}

static int cmd_template(int argc, char **argv)
{
	return dispatch("template", template_cmds,
			sizeof template_cmds / sizeof template_cmds[0], argc,
			argv);
}

static const struct cmd commands[] = {
	{ "template", "template render ...", "work with notice templates",
	  cmd_template },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: scicast COMMAND [ARGS]\n\n"
		"The command-line client of scicast.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-22s %s\n", commands[i].usage, commands[i].help);
	fprintf(out, "\nEvery command takes --help. Exit status: 0 ok, 1 the "
		     "server refused,\n2 usage or input error, 3 the server "
		     "could not be reached.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("scicast %s\n", SCICAST_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(commands[i].name, argv[1]) == 0)
			return commands[i].exec(argc - 1, argv + 1);
	fprintf(stderr, "scicast: unknown command \"%s\" (see scicast --help)\n",
		argv[1]);
	return EXIT_USAGE;
}
