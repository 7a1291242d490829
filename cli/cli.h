/* cli: what the files of the command-line client share — the exit
 * statuses, the run's settings (where the server is, how to print), the
 * command tables and the option parser every command uses. Private to
 * cli/. */
#ifndef SCICAST_CLI_H
#define SCICAST_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* The documented exit statuses (docs/cli.md). */
#define CLI_OK 0
#define CLI_REFUSED 1     /* the server answered 4xx/5xx, or a wait timed out */
#define CLI_USAGE 2       /* unknown command or option, missing argument, bad input */
#define CLI_UNREACHABLE 3 /* no answer from the server */

#define CLI_DEFAULT_URL "http://127.0.0.1:8080"
/* A table is cut to this many columns (or the terminal's width, if
 * narrower) when it goes to a terminal. */
#define CLI_TERM_WIDTH 100

struct client;

/* One run of the client. The connection is settled at the first
 * request (cli_connection), so offline commands never read the config. */
struct cli {
	const char *opt_url;   /* --url, --token: win over everything */
	const char *opt_token;
	char *url;           /* base, without a trailing '/' */
	char *token;         /* NULL: send none; wiped at exit */
	bool json;           /* print the server's JSON instead of tables */
	bool out_tty;        /* stdout is a terminal: cut tables, use ANSI */
	size_t width;        /* cut tables to this (0: never, off a terminal) */
	size_t rows;         /* the terminal's height (0: unknown) */
	bool in_tty;         /* stdin is a terminal: prompts may ask */
	struct client *http; /* made on the first request */
	/* sent as Idempotency-Key with the requests that follow (declare) */
	const char *idempotency_key;
};

/* A command or a group of commands: argv[0] is its own name. */
struct cli_cmd {
	const char *name;
	const char *usage;   /* after "scicast " */
	const char *summary; /* one line for the listing */
	int (*exec)(struct cli *c, int argc, char **argv);
};

/* Settles url and token: --url/--token, else SCICAST_URL/SCICAST_TOKEN,
 * else the config file, else the default URL and no token. Returns 0, or
 * CLI_USAGE after one line (a bad config file or URL). */
int cli_connection(struct cli *c);

/* Runs argv[1] out of cmds, or prints the group's help. */
int cli_dispatch(struct cli *c, const char *group, const struct cli_cmd *cmds,
		 size_t n, int argc, char **argv);

/* ---- options ---- */

/* A command's option: --name ARG (or --name=ARG), a flag without arg. */
struct cli_opt {
	const char *name;
	char short_name;      /* 'o' for -o; 0 for none */
	const char *arg;      /* shown in the help; NULL: a flag */
	const char *help;
	const char **value;   /* the argument; "" for a flag that is set */
};

/* What --help prints for a command. */
struct cli_help {
	const char *cmd;   /* "template edit" */
	const char *usage; /* after "scicast " */
	const char *text;  /* a paragraph or two */
};

/* Parses argv[1..] against opts and the global options (--json, --url,
 * --token, --help); what is not an option goes to pos (between min_pos
 * and max_pos of them). Returns 0 to go on; -1 when the command is done,
 * with *rc 0 (--help was printed) or CLI_USAGE (one line on stderr). */
int cli_parse(struct cli *c, const struct cli_help *h,
	      const struct cli_opt *opts, int argc, char **argv,
	      const char **pos, int min_pos, int max_pos, int *npos, int *rc);

/* One-line usage error for cmd; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A positive id: 0, or -1 after a usage error naming what. */
int cli_parse_id(const char *cmd, const char *what, const char *s,
		 long long *out);
/* cli_parse for a command of exactly one positional ID (a positive id,
 * into *id): 0 to go on; -1 when the command is done, with *rc set as
 * cli_parse sets it. */
int cli_parse_one_id(struct cli *c, const struct cli_help *h,
		     const struct cli_opt *opts, int argc, char **argv,
		     long long *id, int *rc);
/* The "CMD ID" command that deletes /api/v1/COLLECTION/ID and says
 * "DONE ID" (e.g. "deleted channel 7"); returns the exit status. */
int cli_delete(struct cli *c, const struct cli_help *h, int argc,
	       char **argv, const char *collection, const char *done);
/* Prints the JSON for --json (indented, UTF-8 as it is). */
void cli_print_json(const json_t *j);

/* ---- small helpers for commands ---- */

/* Asks on the terminal (prompt on stderr); the answer without its
 * newline, in out. -1 at end of input. */
int cli_prompt(const char *prompt, char *out, size_t cap);
/* "" for NULL, for printing optional strings. */
const char *cli_str(const json_t *obj, const char *key);
long long cli_int(const json_t *obj, const char *key);
/* The local time of day, "14:03:07". */
void cli_clock(char *out, size_t cap);
/* "A,B , C" → ["A", "B", "C"] for an option that takes a list; NULL
 * after a usage error naming --opt and what an item is. */
json_t *cli_list(const char *cmd, const char *opt, const char *item,
		 const char *list);
/* "33 deliveries planned: city 1, town 2, village 30 (mqtt 33, webhook 0)"
 * from a plan's counts (cmd_emergency.c). */
void cli_print_plan(FILE *out, const json_t *planned);

/* ---- the commands (cmd_*.c) ---- */
int cmd_declare(struct cli *c, int argc, char **argv);
int cmd_update(struct cli *c, int argc, char **argv);
int cmd_cancel(struct cli *c, int argc, char **argv);
int cmd_allclear(struct cli *c, int argc, char **argv);
int cmd_list(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_report(struct cli *c, int argc, char **argv);
int cmd_approvals(struct cli *c, int argc, char **argv);
int cmd_approve(struct cli *c, int argc, char **argv);
int cmd_reject(struct cli *c, int argc, char **argv);
int cmd_campaign(struct cli *c, int argc, char **argv);
int cmd_template(struct cli *c, int argc, char **argv);
int cmd_library(struct cli *c, int argc, char **argv);
int cmd_regions(struct cli *c, int argc, char **argv);
int cmd_channels(struct cli *c, int argc, char **argv);
int cmd_deliveries(struct cli *c, int argc, char **argv);
int cmd_token(struct cli *c, int argc, char **argv);
int cmd_whoami(struct cli *c, int argc, char **argv);

#endif
