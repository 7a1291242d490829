/* scicast: the command-line client of scicastd. This file owns the
 * command table, the global options, the option parser every command
 * uses, and where the connection comes from (options, environment, the
 * config file). Every failure is one line on stderr and a documented
 * exit status: 0 ok, 1 the server refused, 2 usage or input error, 3 the
 * server could not be reached. */
#include <curl/curl.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "client.h"
#include "util.h"
#include "version.h"

static const struct cli_cmd main_cmds[] = {
	{ "declare", "declare --hazard H --severity S --headline TEXT --area CODE[,CODE...] (--duration D | --expires ISO) ...",
	  "declare an emergency (--dry-run: the plan only)", cmd_declare },
	{ "update", "update ID [--severity S] [--headline T] [--area ...] ...",
	  "a new revision of an active emergency", cmd_update },
	{ "cancel", "cancel ID [--reason TEXT]", "cancel an emergency", cmd_cancel },
	{ "allclear", "allclear ID [--reason TEXT]",
	  "all clear: the danger is over", cmd_allclear },
	{ "list", "list [--status active|cancelled|expired|ended]",
	  "the emergencies, newest first", cmd_list },
	{ "status", "status ID [--watch] [--timeout 10m] [--interval 1s]",
	  "coverage of an emergency per tier and town", cmd_status },
	{ "report", "report ID [--csv]",
	  "what a drill (or alert) reached, per town", cmd_report },
	{ "approvals", "approvals [ID] [--status pending|approved|rejected|lapsed]",
	  "red alerts held for a second operator", cmd_approvals },
	{ "approve", "approve ID [--reason TEXT]",
	  "approve another operator's held request: it is sent", cmd_approve },
	{ "reject", "reject ID [--reason TEXT]",
	  "reject a held request: nothing is sent", cmd_reject },
	{ "template", "template list|show|edit|history|rollback|render ...",
	  "notice templates", cmd_template },
	{ "library", "library search|show|import|export ...",
	  "the science notice library", cmd_library },
	{ "campaign", "campaign list|show|create|set|rm|preview|runs|run ...",
	  "everyday science sent on a schedule", cmd_campaign },
	{ "regions", "regions import|show|quiet ...",
	  "the region tree and its quiet hours", cmd_regions },
	{ "channels", "channels list|add|set|rm ...",
	  "MQTT and webhook channels", cmd_channels },
	{ "deliveries", "deliveries dead|show|retry ...",
	  "dead letters and re-drives", cmd_deliveries },
	{ "token", "token create|list|revoke ...", "API tokens",
	  cmd_token },
	{ "whoami", "whoami", "the name and role of the token in use",
	  cmd_whoami },
};

#define N_MAIN_CMDS (sizeof main_cmds / sizeof main_cmds[0])

static const char main_globals_help[] =
	"global options (anywhere on the line):\n"
	"  --json                 print the server's JSON (for scripts)\n"
	"  --url URL              the server (else $SCICAST_URL, the config file,\n"
	"                         else " CLI_DEFAULT_URL ")\n"
	"  --token TOKEN          the API token (else $SCICAST_TOKEN, the config "
	"file)\n"
	"  --help                 help for the command\n";

static void main_usage(FILE *out)
{
	fprintf(out, "usage: scicast [--json] [--url URL] [--token TOKEN] "
		     "COMMAND [ARGS]\n\nThe command-line client of scicast, "
		     "the emergency notice broadcaster.\n\ncommands:\n");
	for (size_t i = 0; i < N_MAIN_CMDS; i++)
		fprintf(out, "  %-11s %s\n", main_cmds[i].name,
			main_cmds[i].summary);
	fprintf(out, "\n%s\nThe connection: --url/--token, else SCICAST_URL "
		     "and SCICAST_TOKEN, else\n~/.config/scicast/config "
		     "(keys url and token).\n\nExit status: 0 ok, 1 the "
		     "server refused (or a wait timed out), 2 usage\nor input "
		     "error, 3 the server could not be reached. See "
		     "docs/cli.md.\n", main_globals_help);
}

/* ---- the connection ---- */

struct main_ini {
	char *url, *token;
};

static char *main_unquote(const char *v)
{
	size_t n = strlen(v);
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0])
		return strndup(v + 1, n - 2);
	return strdup(v);
}

/* inih calls this per key; returning 0 makes ini_parse report the line. */
static int main_on_ini(void *ud, const char *section, const char *name,
		       const char *value)
{
	struct main_ini *ini = ud;
	char **slot = NULL;
	if (section[0] != '\0' && strcmp(section, "scicast") != 0)
		return 0;
	if (strcmp(name, "url") == 0)
		slot = &ini->url;
	else if (strcmp(name, "token") == 0)
		slot = &ini->token;
	else
		return 0;
	if (*slot) {
		explicit_bzero(*slot, strlen(*slot));
		free(*slot);
	}
	*slot = main_unquote(value);
	return *slot != NULL;
}

static int main_read_config(struct main_ini *ini)
{
	struct buf path = BUF_INIT;
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	FILE *f = NULL;
	int rc = CLI_USAGE;
	if (xdg && xdg[0] == '/')
		buf_appendf(&path, "%s/scicast/config", xdg);
	else if (home && home[0])
		buf_appendf(&path, "%s/.config/scicast/config", home);
	if (!path.len) {
		rc = 0;
		goto done;
	}
	f = fopen(buf_str(&path), "r");
	if (!f) {
		if (errno == ENOENT) {
			rc = 0;
			goto done;
		}
		fprintf(stderr, "scicast: %s: %s\n", buf_str(&path),
			strerror(errno));
		goto done;
	}
	int line = ini_parse_file(f, main_on_ini, ini);
	if (line != 0) {
		fprintf(stderr, "scicast: %s:%d: expected url = URL or token = "
			"TOKEN\n", buf_str(&path), line > 0 ? line : 0);
		goto done;
	}
	rc = 0;
done:
	if (f)
		fclose(f);
	buf_free(&path);
	return rc;
}

static void main_wipe(char **s)
{
	if (*s) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

int cli_connection(struct cli *c)
{
	struct main_ini ini = { 0 };
	const char *url, *token;
	int rc = CLI_USAGE;
	if (c->url)
		return 0;
	if (main_read_config(&ini) != 0)
		goto done;
	url = c->opt_url ? c->opt_url : getenv("SCICAST_URL");
	if (!url || !*url)
		url = ini.url && *ini.url ? ini.url : CLI_DEFAULT_URL;
	token = c->opt_token ? c->opt_token : getenv("SCICAST_TOKEN");
	if (!token || !*token)
		token = ini.token && *ini.token ? ini.token : NULL;
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		fprintf(stderr, "scicast: the server URL must start with http:// "
			"or https:// (got \"%.80s\")\n", url);
		goto done;
	}
	c->url = strdup(url);
	c->token = token ? strdup(token) : NULL;
	if (!c->url || (token && !c->token)) {
		fprintf(stderr, "scicast: out of memory\n");
		goto done;
	}
	/* People paste the API's base; the paths already carry it. */
	size_t n = strlen(c->url);
	while (n && c->url[n - 1] == '/')
		c->url[--n] = '\0';
	if (n >= 7 && strcmp(c->url + n - 7, "/api/v1") == 0)
		c->url[n - 7] = '\0';
	rc = 0;
done:
	if (rc != 0) {
		free(c->url);
		c->url = NULL;
		main_wipe(&c->token);
	}
	main_wipe(&ini.url);
	main_wipe(&ini.token);
	return rc;
}

/* ---- options ---- */

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "scicast: %s%s", cmd, *cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see scicast %s%s--help)\n", cmd, *cmd ? " " : "");
	return CLI_USAGE;
}

int cli_parse_id(const char *cmd, const char *what, const char *s,
		 long long *out)
{
	if (util_parse_ll(s, 1, INT64_MAX, out) < 0) {
		cli_usage_error(cmd, "%s must be a positive number, not \"%.40s\"",
				what, s);
		return -1;
	}
	return 0;
}

int cli_parse_one_id(struct cli *c, const struct cli_help *h,
		     const struct cli_opt *opts, int argc, char **argv,
		     long long *id, int *rc)
{
	const char *pos[1];
	if (cli_parse(c, h, opts, argc, argv, pos, 1, 1, NULL, rc) < 0)
		return -1;
	if (cli_parse_id(h->cmd, "ID", pos[0], id) < 0) {
		*rc = CLI_USAGE;
		return -1;
	}
	return 0;
}

int cli_delete(struct cli *c, const struct cli_help *h, int argc,
	       char **argv, const char *collection, const char *done)
{
	struct buf path = BUF_INIT;
	long long id;
	int rc;
	if (cli_parse_one_id(c, h, NULL, argc, argv, &id, &rc) < 0)
		return rc;
	rc = CLI_USAGE;
	if (buf_appendf(&path, "/api/v1/%s/%lld", collection, id) == 0)
		rc = client_json(c, h->cmd, "DELETE", buf_str(&path), NULL, NULL);
	if (rc == 0 && !c->json)
		printf("%s %lld\n", done, id);
	buf_free(&path);
	return rc;
}

/* A global option at argv[*i]: 1 if it was one (and *i moved past its
 * value), 0 if not, -1 after a usage error. */
static int main_global(struct cli *c, const char *cmd, int argc, char **argv,
		       int *i)
{
	const char *a = argv[*i];
	const char **slot = NULL;
	if (strcmp(a, "--json") == 0) {
		c->json = true;
		return 1;
	}
	if (strncmp(a, "--url", 5) == 0 && (a[5] == '\0' || a[5] == '='))
		slot = &c->opt_url;
	else if (strncmp(a, "--token", 7) == 0 && (a[7] == '\0' || a[7] == '='))
		slot = &c->opt_token;
	else
		return 0;
	const char *eq = strchr(a, '=');
	if (eq) {
		*slot = eq + 1;
	} else if (*i + 1 < argc) {
		*slot = argv[++*i];
	} else {
		cli_usage_error(cmd, "%s needs a value", a);
		return -1;
	}
	return 1;
}

static void main_help(const struct cli_help *h, const struct cli_opt *opts)
{
	printf("usage: scicast %s\n\n%s\n", h->usage, h->text);
	if (opts && opts[0].name) {
		printf("\noptions:\n");
		for (const struct cli_opt *o = opts; o->name; o++) {
			char left[64];
			if (o->short_name)
				snprintf(left, sizeof left, "-%c, --%s%s%s",
					 o->short_name, o->name, o->arg ? " " : "",
					 o->arg ? o->arg : "");
			else
				snprintf(left, sizeof left, "--%s%s%s", o->name,
					 o->arg ? " " : "", o->arg ? o->arg : "");
			if (strlen(left) > 22)
				printf("  %s\n  %-22s %s\n", left, "", o->help);
			else
				printf("  %-22s %s\n", left, o->help);
		}
	}
	printf("\n%s", main_globals_help);
}

int cli_parse(struct cli *c, const struct cli_help *h,
	      const struct cli_opt *opts, int argc, char **argv,
	      const char **pos, int min_pos, int max_pos, int *npos, int *rc)
{
	int n = 0;
	bool only_pos = false;
	*rc = CLI_USAGE;
	for (const struct cli_opt *o = opts; o && o->name; o++)
		*o->value = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!only_pos && strcmp(a, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (n == max_pos) {
				cli_usage_error(h->cmd, "unexpected argument \"%.60s\"",
						a);
				return -1;
			}
			pos[n++] = a;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			main_help(h, opts);
			*rc = 0;
			return -1;
		}
		int g = main_global(c, h->cmd, argc, argv, &i);
		if (g < 0)
			return -1;
		if (g > 0)
			continue;
		const struct cli_opt *o = NULL;
		const char *inline_val = NULL;
		size_t len = 0;
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			inline_val = eq ? eq + 1 : NULL;
			for (const struct cli_opt *p = opts; p && p->name; p++)
				if (strlen(p->name) == len &&
				    strncmp(p->name, a + 2, len) == 0)
					o = p;
		} else if (a[2] == '\0') {
			for (const struct cli_opt *p = opts; p && p->name; p++)
				if (p->short_name == a[1])
					o = p;
		}
		if (!o) {
			cli_usage_error(h->cmd, "unknown option %.60s", a);
			return -1;
		}
		if (*o->value) {
			cli_usage_error(h->cmd, "--%s given twice", o->name);
			return -1;
		}
		if (!o->arg) {
			if (inline_val) {
				cli_usage_error(h->cmd, "--%s takes no value", o->name);
				return -1;
			}
			*o->value = "";
		} else if (inline_val) {
			*o->value = inline_val;
		} else if (i + 1 < argc) {
			*o->value = argv[++i];
		} else {
			cli_usage_error(h->cmd, "--%s needs a value (%s)", o->name,
					o->arg);
			return -1;
		}
	}
	if (n < min_pos) {
		cli_usage_error(h->cmd, "missing argument (usage: scicast %s)",
				h->usage);
		return -1;
	}
	if (npos)
		*npos = n;
	*rc = 0;
	return 0;
}

int cli_dispatch(struct cli *c, const char *group, const struct cli_cmd *cmds,
		 size_t n, int argc, char **argv)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: scicast %s COMMAND [ARGS]\n\ncommands:\n",
			       group);
			for (size_t k = 0; k < n; k++)
				printf("  %s\n      %s\n", cmds[k].usage,
				       cmds[k].summary);
			printf("\nscicast %s COMMAND --help says more.\n\n%s",
			       group, main_globals_help);
			return 0;
		}
		int g = main_global(c, group, argc, argv, &i);
		if (g < 0)
			return CLI_USAGE;
		if (g == 0)
			return cli_usage_error(group, "unknown option %.60s",
					       argv[i]);
	}
	if (i >= argc)
		return cli_usage_error(group, "missing command");
	for (size_t k = 0; k < n; k++)
		if (strcmp(cmds[k].name, argv[i]) == 0)
			return cmds[k].exec(c, argc - i, argv + i);
	return cli_usage_error(group, "unknown command \"%.60s\"", argv[i]);
}

/* ---- small helpers ---- */

void cli_print_json(const json_t *j)
{
	if (!j)
		return;
	json_dumpf(j, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
}

int cli_prompt(const char *prompt, char *out, size_t cap)
{
	fputs(prompt, stderr);
	fflush(stderr);
	if (!fgets(out, (int)cap, stdin))
		return -1;
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

const char *cli_str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : "";
}

long long cli_int(const json_t *obj, const char *key)
{
	return (long long)json_integer_value(json_object_get(obj, key));
}

json_t *cli_list(const char *cmd, const char *opt, const char *item,
		 const char *list)
{
	json_t *a = json_array();
	const char *p = list;
	while (a && *p) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		const char *s = p, *e = end;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (s == e) {
			cli_usage_error(cmd, "--%s has an empty %s in \"%.80s\"",
					opt, item, list);
			json_decref(a);
			return NULL;
		}
		json_t *v = json_stringn(s, (size_t)(e - s));
		if (!v) {
			cli_usage_error(cmd, "--%s is not UTF-8 text", opt);
			json_decref(a);
			return NULL;
		}
		if (json_array_append_new(a, v) < 0) {
			json_decref(a);
			a = NULL;
		}
		p = comma ? comma + 1 : end;
	}
	if (!a)
		fprintf(stderr, "scicast: out of memory\n");
	else if (json_array_size(a) == 0) {
		cli_usage_error(cmd, "--%s needs at least one %s", opt, item);
		json_decref(a);
		return NULL;
	}
	return a;
}

void cli_clock(char *out, size_t cap)
{
	time_t now = time(NULL);
	struct tm tm;
	if (!localtime_r(&now, &tm) || strftime(out, cap, "%H:%M:%S", &tm) == 0)
		snprintf(out, cap, "--:--:--");
}

int main(int argc, char **argv)
{
	struct cli c = { 0 };
	int rc = CLI_USAGE, i = 1;
	c.out_tty = isatty(STDOUT_FILENO);
	c.in_tty = isatty(STDIN_FILENO);
	if (c.out_tty) {
		struct winsize ws;
		c.width = CLI_TERM_WIDTH;
		if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
			if (ws.ws_col > 20 && ws.ws_col < c.width)
				c.width = ws.ws_col;
			c.rows = ws.ws_row;
		}
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "scicast: libcurl did not start\n");
		return CLI_USAGE;
	}
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			main_usage(stdout);
			rc = 0;
			goto done;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("scicast %s\n", SCICAST_VERSION);
			rc = 0;
			goto done;
		}
		int g = main_global(&c, "", argc, argv, &i);
		if (g < 0)
			goto done;
		if (g == 0) {
			fprintf(stderr, "scicast: unknown option %.60s (see "
				"scicast --help)\n", argv[i]);
			goto done;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "scicast: missing command (see scicast --help)\n");
		goto done;
	}
	for (size_t k = 0; k < N_MAIN_CMDS; k++)
		if (strcmp(main_cmds[k].name, argv[i]) == 0) {
			rc = main_cmds[k].exec(&c, argc - i, argv + i);
			goto done;
		}
	fprintf(stderr, "scicast: unknown command \"%.60s\" (see scicast "
		"--help)\n", argv[i]);
done:
	fflush(stdout);
	client_free(c.http);
	free(c.url);
	main_wipe(&c.token);
	curl_global_cleanup();
	return rc;
}
