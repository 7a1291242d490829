/* client: the client's HTTP to scicastd over libcurl — the base URL and
 * bearer token of the run, JSON in and out, and turning whatever went
 * wrong into the one line the user sees and the exit status it means. */
#ifndef SCICAST_CLI_CLIENT_H
#define SCICAST_CLI_CLIENT_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"
#include "cli.h"

/* What the server answered. */
struct client_resp {
	long status;     /* HTTP status; 0 when nothing came back */
	struct buf body;
	json_t *json;    /* the body parsed, when it is JSON; else NULL */
};

#define CLIENT_RESP_INIT { 0, BUF_INIT, NULL }

/* Sends one request to c->url + path (body may be NULL). Returns 0 when
 * the server answered, whatever the status, or CLI_UNREACHABLE after
 * printing "scicast: cannot reach URL: why". */
int client_send(struct cli *c, const char *method, const char *path,
		const char *content_type, const char *body, size_t len,
		struct client_resp *r);

/* Prints "scicast: WHAT refused (STATUS): message" from the error body;
 * returns CLI_REFUSED. */
int client_refused(const char *what, const struct client_resp *r);

/* Sends body as JSON (NULL: no body) and wants a 2xx: *out gets the
 * answer (NULL when it was empty; out may be NULL). Returns 0,
 * CLI_REFUSED or CLI_UNREACHABLE with the line printed. */
int client_json(struct cli *c, const char *what, const char *method,
		const char *path, const json_t *body, json_t **out);
/* GETs path for a command that shows what it gets: with --json the
 * answer is printed as it came and *out is NULL; otherwise *out is the
 * answer (NULL only when it was empty). Returns as client_json. */
int client_show(struct cli *c, const char *what, const char *path,
		json_t **out);
/* As client_json; *status gets the 2xx status of the answer, for the
 * routes where it tells outcomes apart (202: held, not done). */
int client_json_status(struct cli *c, const char *what, const char *method,
		       const char *path, const json_t *body, json_t **out,
		       long *status);

/* For refused imports: one "FILE:LINE: [field: ]message" per entry of
 * error.details, on stderr. */
void client_print_line_details(const char *file, const struct client_resp *r);

/* POSTs a file ("-": standard input) as it is to an import route. A
 * refusal prints its line and one line per bad line of the file. */
int client_import(struct cli *c, const char *what, const char *path,
		  const char *file, const char *content_type, json_t **out);

void client_resp_free(struct client_resp *r);
void client_free(struct client *h);

/* Appends s percent-encoded (all but A-Z a-z 0-9 - . _ ~), for a path
 * segment or a query value. Returns 0 or -1 (out of memory). */
int client_escape(struct buf *b, const char *s);

/* Appends "?key=value" or "&key=value" to a path, the value escaped;
 * nothing when value is NULL. Returns 0 or -1 (out of memory). */
int client_query(struct buf *path, const char *key, const char *value);

#endif
