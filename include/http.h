/* http: the API server (libmicrohttpd) and what its handlers see. Routes
 * are one table (routes.c): method, path pattern, the role a caller needs,
 * the handler. Access control, body limits, JSON errors and metrics are
 * done here once, not in each handler. */
#ifndef SCICAST_HTTP_H
#define SCICAST_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "app.h"
#include "buf.h"
#include "err.h"
#include "store.h"

enum role { ROLE_PUBLIC = 0, ROLE_VIEWER, ROLE_OPERATOR, ROLE_ADMIN };

#define HTTP_MAX_PARAMS 4

struct http_req;
struct http_res;

typedef int (*http_handler_fn)(struct http_req *req, struct http_res *res,
			       struct err *err);

enum route_flags {
	ROUTE_BIG_BODY = 1,   /* [http] max_import_body instead of max_body */
	ROUTE_READ_ONLY = 2,  /* a POST that changes nothing (a preview) */
	ROUTE_STATIC = 4,     /* the console's files: never under /api/, GET
				 only, so other paths stay 404 not 405 */
};

struct route {
	const char *method;
	const char *pattern;  /* "/api/v1/regions/{code}"; "{*}" = the rest */
	enum role role;
	http_handler_fn handler;
	unsigned flags;
	const char *summary;  /* for docs/api.md */
};

extern const struct route http_routes[];
extern const int http_route_count;

struct http_res {
	int status;
	char *body;            /* owned */
	size_t len;
	const char *content_type;
	char extra_headers[4][2][128];
	int nheaders;   /* at most 4 */
};

struct http_req {
	struct MHD_Connection *conn;
	struct app *app;
	struct store *store;   /* the worker thread's connection */
	const char *method;
	const char *path;
	const struct route *route;
	int route_index;
	char *params[HTTP_MAX_PARAMS];
	int nparams;
	struct buf body;
	int64_t max_body;
	bool too_large;
	int64_t started_us;
	int status;            /* what was sent, for metrics and the log */
	/* who is asking: the token's name and role once auth has run */
	const char *actor;
	enum role actor_role;
	char actor_name[72];
	char remote[64];
	/* what a change was, for the audit log (http_audit) */
	bool audit_set, audit_skip, commit_on_error;
	char audit_action[48];
	char audit_object[96];
	char audit_summary[400];
	struct http_res early;   /* a refusal made before the body is read */
	/* a change runs on the writer thread (http.c): its answer waits
	 * here until the connection is resumed */
	struct http_req *writer_next;
	struct http_res answer;
	bool answered;
};


struct http_server;

/* Binds the listen address (a clear message if it is taken); then
 * http_serve starts the workers. Between the two the port is known and no
 * request is served yet. */
int http_listen(struct app *app, struct http_server **out, struct err *err);
int http_serve(struct http_server *srv, struct err *err);
/* The port actually bound (for listen port 0). */
int http_port(const struct http_server *srv);
/* Stops accepting, lets requests in progress finish (up to wait_ms),
 * then stops the workers. */
void http_stop(struct http_server *srv, int64_t wait_ms);

/* ---- for handlers ---- */

/* A request header, or NULL. */
const char *http_header(struct http_req *req,
					       const char *name);
/* A query parameter, or NULL. */
const char *http_query(struct http_req *req, const char *name);
int http_query_long(struct http_req *req, const char *name, long min,
		    long max, long def, long *out, struct err *err);
/* Parses the body as JSON: 400 naming line and column when malformed. */
int http_body_json(struct http_req *req, json_t **out, struct err *err);

/* Takes j (a reference is stolen). */
int http_reply_json(struct http_res *res, int status, json_t *j);
int http_reply_text(struct http_res *res, int status, const char *ctype,
		    const char *text, size_t len);
void http_reply_error(struct http_res *res, const struct err *e);
/* The same with "details" (stolen) inside the error object. */
void http_reply_error_details(struct http_res *res, const struct err *e,
			      json_t *details);
int http_add_header(struct http_res *res, const char *name, const char *v);

/* Says what a change was: one audit row, written in the request's own
 * transaction when the answer is a success. A successful change that does
 * not call it is logged as "METHOD route". */
void http_audit(struct http_req *req, const char *action, const char *object,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* This request changed nothing after all (a dry run): no audit row. */
void http_no_audit(struct http_req *req);
/* Keep what the handler wrote even though it answers with an error (a
 * refused template save is kept in the history). */
void http_commit_on_error(struct http_req *req);

#endif
