/* http: the API server. libmicrohttpd runs a pool of worker threads; each
 * worker has its own SQLite connection (store_for_thread). This file owns
 * the request life cycle: route matching, 404/405, body limits (413),
 * JSON parsing errors (400 with line and column), the uniform error body
 * {"error": {"code", "message", "field"?}}, metrics, the request log, and
 * a graceful stop that lets requests in progress finish. */
#define _GNU_SOURCE
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "auth.h"
#include "jsonutil.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

/* Slow clients. libmicrohttpd's connection timeout is an idle timeout: a
 * client that sends a byte now and then (slowloris) keeps its connection
 * for ever, and enough of them take every slot of max_connections. So
 * every connection is watched from the moment it opens (or its previous
 * answer went out) until its request has arrived, and the watchdog thread
 * cuts one that takes longer than connection_timeout, plus a second per
 * BODY_RATE bytes of body so that a big import on a slow link still gets
 * through. Cutting is shutdown(): the connection's own worker then sees
 * the end of the stream and closes it; libmicrohttpd tells us it is
 * closed before it closes the descriptor, so a watched fd is never one
 * that was reused. */
#define BODY_RATE (64 * 1024)

/* A body over the limit by at most this much is read and dropped before
 * the 413 (see on_first_call); a bigger one is refused unread. */
#define DRAIN_MAX (64LL << 20)

struct conn_watch {
	struct conn_watch *prev, *next;
	int fd;
	int64_t since_ms;     /* opened, or its previous answer went out */
	int64_t allow_ms;     /* the timeout, plus the body's allowance */
	bool receiving;       /* false while its request is being answered */
	bool cut;
};

/* Changes run on one writer thread, not on the pool's. libmicrohttpd's
 * pool thread serves all the connections it was given, so a declaration
 * that takes seconds to plan would stall every reader that shares its
 * thread (a p99 of seconds for GETs during a province fan-out). The
 * connection is suspended, the change queued; the writer runs it on its
 * own database connection and resumes the connection with the answer.
 * One writer is no loss: SQLite takes one write at a time anyway, and a
 * queue waits in order where concurrent writers would wait on the lock
 * (and give up after busy_timeout). */
struct http_server {
	struct MHD_Daemon *mhd;
	struct app *app;
	int listen_fd;
	int port;
	atomic_int in_progress;
	int64_t timeout_ms;
	pthread_mutex_t watch_lock;   /* the list, and each entry's fields */
	pthread_cond_t watch_wake;    /* http_stop ends the watchdog early */
	struct conn_watch *watched;
	bool watchdog_running, watchdog_stop;
	pthread_t watchdog;
	pthread_mutex_t writer_lock;  /* the queue and writer_stop */
	pthread_cond_t writer_wake;
	struct http_req *writer_head, *writer_tail;
	bool writer_running, writer_stop;
	pthread_t writer;
};

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- responses ---- */

int http_reply_text(struct http_res *res, int status, const char *ctype,
		    const char *text, size_t len)
{
	char *copy = malloc(len + 1);
	if (!copy)
		return -1;
	memcpy(copy, text, len);
	copy[len] = '\0';
	free(res->body);
	res->body = copy;
	res->len = len;
	res->status = status;
	res->content_type = ctype;
	return 0;
}

int http_reply_json(struct http_res *res, int status, json_t *j)
{
	if (!j)
		return -1;
	char *text = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII * 0);
	json_decref(j);
	if (!text)
		return -1;
	size_t len = strlen(text);
	char *with_nl = realloc(text, len + 2);
	if (!with_nl) {
		free(text);
		return -1;
	}
	with_nl[len] = '\n';
	with_nl[len + 1] = '\0';
	free(res->body);
	res->body = with_nl;
	res->len = len + 1;
	res->status = status;
	res->content_type = "application/json; charset=utf-8";
	return 0;
}

void http_reply_error_details(struct http_res *res, const struct err *e,
			      json_t *details)
{
	int status = e->status >= 400 && e->status <= 599 ? e->status : 500;
	json_t *inner = json_pack("{s:s, s:o}", "code",
				  e->code[0] ? e->code : "error", "message",
				  ju_string(e->message[0] ? e->message
							  : "error"));
	if (inner && e->field[0])
		json_object_set_new(inner, "field", ju_string(e->field));
	if (inner && details)
		json_object_set(inner, "details", details);
	json_decref(details);
	if (!inner || http_reply_json(res, status,
				      json_pack("{s:o}", "error", inner)) < 0) {
		static const char fallback[] =
			"{\"error\":{\"code\":\"internal\",\"message\":\"out of "
			"memory\"}}\n";
		free(res->body);
		res->body = NULL;
		res->status = 500;
		res->content_type = "application/json";
		res->body = strdup(fallback);
		res->len = res->body ? sizeof fallback - 1 : 0;
	}
}

void http_reply_error(struct http_res *res, const struct err *e)
{
	http_reply_error_details(res, e, NULL);
}

int http_add_header(struct http_res *res, const char *name, const char *v)
{
	if (res->nheaders >= 4)
		return -1;
	snprintf(res->extra_headers[res->nheaders][0], 128, "%s", name);
	snprintf(res->extra_headers[res->nheaders][1], 128, "%s", v);
	res->nheaders++;
	return 0;
}

/* ---- request helpers ---- */

const char *http_header(struct http_req *req,
					       const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_query(struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND,
					   name);
}

int http_query_long(struct http_req *req, const char *name, long min,
		    long max, long def, long *out, struct err *err)
{
	const char *v = http_query(req, name);
	long long n;
	if (!v || !*v) {
		*out = def;
		return 0;
	}
	if (util_parse_ll(v, min, max, &n) < 0) {
		err_set(err, 400, "bad_request", name,
			"query parameter %s must be a whole number from %ld to "
			"%ld", name, min, max);
		return -1;
	}
	*out = (long)n;
	return 0;
}

int http_body_json(struct http_req *req, json_t **out, struct err *err)
{
	json_error_t je;
	if (req->body.len == 0) {
		err_set(err, 400, "bad_request", "body",
			"the request needs a JSON body");
		return -1;
	}
	*out = json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES,
			  &je);
	if (!*out) {
		metrics_add(M_HTTP_BAD_JSON, 1);
		err_set(err, 400, "bad_json", "body",
			"malformed JSON at line %d, column %d: %s", je.line,
			je.column, je.text);
		return -1;
	}
	return 0;
}

void http_audit(struct http_req *req, const char *action, const char *object,
		const char *fmt, ...)
{
	va_list ap;
	snprintf(req->audit_action, sizeof req->audit_action, "%s", action);
	snprintf(req->audit_object, sizeof req->audit_object, "%s", object);
	va_start(ap, fmt);
	vsnprintf(req->audit_summary, sizeof req->audit_summary, fmt, ap);
	va_end(ap);
	req->audit_set = true;
}

void http_no_audit(struct http_req *req)
{
	req->audit_skip = true;
}

void http_commit_on_error(struct http_req *req)
{
	req->commit_on_error = true;
}

/* ---- routing ---- */

/* Matches path against a pattern, capturing {x} segments. 1 on match. */
static int route_match(const char *pattern, const char *path,
		       char **params, int *nparams)
{
	const char *p = pattern, *s = path;
	int n = 0;
	while (*p && *s) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			if (!close)
				return 0;
			bool rest = close - p == 2 && p[1] == '*';
			const char *end = rest ? s + strlen(s) : strchrnul(s, '/');
			if (end == s || n >= HTTP_MAX_PARAMS)
				goto nomatch;
			params[n] = strndup(s, (size_t)(end - s));
			if (!params[n])
				goto nomatch;
			n++;
			p = close + 1;
			s = end;
			continue;
		}
		if (*p != *s)
			goto nomatch;
		p++, s++;
	}
	if (*p || *s)
		goto nomatch;
	*nparams = n;
	return 1;
nomatch:
	for (int i = 0; i < n; i++) {
		free(params[i]);
		params[i] = NULL;
	}
	return 0;
}

/* Finds the route; sets *allow to the methods of a path that matched with
 * another method (for 405). */
static int find_route(struct http_req *req, char *allow, size_t cap)
{
	allow[0] = '\0';
	for (int i = 0; i < http_route_count; i++) {
		char *params[HTTP_MAX_PARAMS] = { 0 };
		int n = 0;
		if ((http_routes[i].flags & ROUTE_STATIC) &&
		    (strncmp(req->path, "/api/", 5) == 0 ||
		     (strcmp(req->method, "GET") != 0 &&
		      strcmp(req->method, "HEAD") != 0)))
			continue;
		if (!route_match(http_routes[i].pattern, req->path, params, &n))
			continue;
		if (strcmp(http_routes[i].method, req->method) == 0 ||
		    (strcmp(req->method, "HEAD") == 0 &&
		     strcmp(http_routes[i].method, "GET") == 0)) {
			memcpy(req->params, params, sizeof params);
			req->nparams = n;
			return i;
		}
		for (int k = 0; k < n; k++)
			free(params[k]);
		size_t len = strlen(allow);
		snprintf(allow + len, cap - len, "%s%s", len ? ", " : "",
			 http_routes[i].method);
	}
	return -1;
}

/* ---- slow clients (see struct conn_watch) ---- */

static struct conn_watch *watch_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* The request has arrived, or was answered before its body: from now on
 * the time is ours, however long the answer takes. */
static void watch_arrived(struct http_server *srv, struct conn_watch *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&srv->watch_lock);
	w->receiving = false;
	pthread_mutex_unlock(&srv->watch_lock);
}

/* Body bytes arrived: a big body earns its time at BODY_RATE; a trickle
 * earns next to nothing. */
static void watch_body(struct http_server *srv, struct conn_watch *w,
		       size_t bytes)
{
	if (!w)
		return;
	pthread_mutex_lock(&srv->watch_lock);
	w->allow_ms += (int64_t)(bytes * 1000 / BODY_RATE);
	pthread_mutex_unlock(&srv->watch_lock);
}

/* An answer went out on a kept-alive connection: the next request has
 * connection_timeout from now. */
static void watch_next(struct http_server *srv, struct conn_watch *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&srv->watch_lock);
	w->receiving = true;
	w->since_ms = now_us() / 1000;
	w->allow_ms = srv->timeout_ms;
	pthread_mutex_unlock(&srv->watch_lock);
}

static void on_connection(void *cls, struct MHD_Connection *conn,
			  void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http_server *srv = cls;
	struct conn_watch *w = *socket_context;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
			conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		/* without memory it goes unwatched: the idle timeout still
		 * applies, and refusing it would help nobody */
		w = ci ? calloc(1, sizeof *w) : NULL;
		*socket_context = w;
		if (!w)
			return;
		w->fd = ci->connect_fd;
		w->since_ms = now_us() / 1000;
		w->allow_ms = srv->timeout_ms;
		w->receiving = true;
		pthread_mutex_lock(&srv->watch_lock);
		w->next = srv->watched;
		if (w->next)
			w->next->prev = w;
		srv->watched = w;
		pthread_mutex_unlock(&srv->watch_lock);
		return;
	}
	if (!w)
		return;
	pthread_mutex_lock(&srv->watch_lock);
	if (w->prev)
		w->prev->next = w->next;
	else
		srv->watched = w->next;
	if (w->next)
		w->next->prev = w->prev;
	pthread_mutex_unlock(&srv->watch_lock);
	free(w);
	*socket_context = NULL;
}

static void *watchdog_main(void *arg)
{
	struct http_server *srv = arg;
	/* a quarter of the timeout: a slow connection is cut at most a
	 * quarter late */
	int64_t every_ms = srv->timeout_ms / 4;
	if (every_ms > 1000)
		every_ms = 1000;
	pthread_mutex_lock(&srv->watch_lock);
	while (!srv->watchdog_stop) {
		struct timespec until;
		util_deadline(CLOCK_MONOTONIC, every_ms, &until);
		pthread_cond_timedwait(&srv->watch_wake, &srv->watch_lock,
				       &until);
		int64_t now = now_us() / 1000;
		int cut = 0;
		for (struct conn_watch *w = srv->watched; w; w = w->next) {
			if (!w->receiving || w->cut ||
			    now - w->since_ms <= w->allow_ms)
				continue;
			shutdown(w->fd, SHUT_RDWR);
			w->cut = true;
			cut++;
		}
		if (cut) {
			pthread_mutex_unlock(&srv->watch_lock);
			log_info("http: closed %d connection(s) that took over "
				 "%lld ms to send a request", cut,
				 (long long)srv->timeout_ms);
			pthread_mutex_lock(&srv->watch_lock);
		}
	}
	pthread_mutex_unlock(&srv->watch_lock);
	return NULL;
}

static void watchdog_end(struct http_server *srv)
{
	if (!srv->watchdog_running)
		return;
	pthread_mutex_lock(&srv->watch_lock);
	srv->watchdog_stop = true;
	pthread_cond_signal(&srv->watch_wake);
	pthread_mutex_unlock(&srv->watch_lock);
	pthread_join(srv->watchdog, NULL);
	srv->watchdog_running = false;
}

/* ---- the life cycle ---- */

static enum MHD_Result send_res(struct http_req *req, struct http_res *res)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		res->len, res->body ? res->body : (char *)"",
		res->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(res->body);
		res->body = NULL;
		return MHD_NO;
	}
	res->body = NULL; /* MHD owns it now */
	if (res->content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					res->content_type);
	for (int i = 0; i < res->nheaders; i++)
		MHD_add_response_header(r, res->extra_headers[i][0],
					res->extra_headers[i][1]);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (strncmp(req->path, "/api/", 5) == 0)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
					"no-store");
	enum MHD_Result ok = MHD_queue_response(req->conn, (unsigned)res->status,
						r);
	MHD_destroy_response(r);
	req->status = res->status;
	return ok;
}

static enum MHD_Result send_error(struct http_req *req, int status,
				  const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum MHD_Result send_error(struct http_req *req, int status,
				  const char *code, const char *fmt, ...)
{
	struct err e;
	struct http_res res = { 0 };
	err_set(&e, status, code, "", "%s", "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e.message, sizeof e.message, fmt, ap);
	va_end(ap);
	http_reply_error(&res, &e);
	return send_res(req, &res);
}

static bool is_change(const struct http_req *req)
{
	return strcmp(req->method, "GET") != 0 &&
	       strcmp(req->method, "HEAD") != 0 &&
	       !(req->route->flags & ROUTE_READ_ONLY);
}

/* The change and its audit row commit together, or neither does. */
static int finish_change(struct http_req *req, bool ok, struct err *e)
{
	if (!ok) {
		if (req->commit_on_error && store_commit(req->store, e) == 0)
			return 0;
		store_rollback(req->store);
		return 0;
	}
	if (!req->audit_skip) {
		if (!req->audit_set)
			http_audit(req, req->route->method, req->route->pattern,
				   "%s", req->path);
		if (audit_write(req->store, req->actor,
				auth_role_name(req->actor_role),
				req->audit_action, req->audit_object,
				req->audit_summary, req->remote, e) < 0) {
			store_rollback(req->store);
			return -1;
		}
	}
	if (store_commit(req->store, e) < 0) {
		store_rollback(req->store);
		return -1;
	}
	/* only now can the senders see it */
	app_wake_senders(req->app);
	return 0;
}

static void run_handler(struct http_req *req, struct http_res *res)
{
	struct err e;
	err_clear(&e);
	bool change = is_change(req);
	if (change && store_begin(req->store, &e) < 0) {
		log_error("%s %s: %s", req->method, req->path, e.message);
		http_reply_error(res, &e);
		return;
	}
	int rc = req->route->handler(req, res, &e);
	if (rc == 0 && !res->status) {
		err_internal(&e, "the handler gave no answer");
		rc = -1;
	}
	if (rc < 0) {
		if (e.status == 0)
			e.status = 500;
		if (e.status >= 500)
			log_error("%s %s: %s", req->method, req->path, e.message);
		http_reply_error(res, &e);
	}
	if (change) {
		struct err ce;
		err_clear(&ce);
		if (finish_change(req, rc == 0 && res->status < 400, &ce) < 0) {
			log_error("%s %s: %s", req->method, req->path, ce.message);
			http_reply_error(res, &ce);
		}
	} else if (store_in_transaction(req->store)) {
		/* a read must never leave a transaction open for the next
		 * request of this thread */
		store_rollback(req->store);
	}
}

/* The answer goes out; HEAD gets the headers only (libmicrohttpd sends
 * the Content-Length of what it is given). */
static enum MHD_Result send_answer(struct http_req *req, struct http_res *res)
{
	if (strcmp(req->method, "HEAD") == 0) {
		free(res->body);
		res->body = NULL;
		res->len = 0;
	}
	return send_res(req, res);
}

/* ---- the writer (see struct http_server) ---- */

static enum MHD_Result writer_queue(struct http_server *srv,
				    struct http_req *req)
{
	MHD_suspend_connection(req->conn);
	pthread_mutex_lock(&srv->writer_lock);
	req->writer_next = NULL;
	if (srv->writer_tail)
		srv->writer_tail->writer_next = req;
	else
		srv->writer_head = req;
	srv->writer_tail = req;
	pthread_cond_signal(&srv->writer_wake);
	pthread_mutex_unlock(&srv->writer_lock);
	return MHD_YES;
}

/* Runs one change (or refuses it when scicastd is stopping) and hands the
 * connection back; req belongs to libmicrohttpd's thread again after the
 * resume, so nothing here touches it afterwards. */
static void writer_run(struct http_req *req, bool stopping)
{
	struct err e;
	err_clear(&e);
	struct http_res res = { 0 };
	struct store *st = stopping ? NULL : store_for_thread(&e);
	if (stopping) {
		err_set(&e, 503, "unavailable", "", "scicastd is stopping; "
			"nothing was changed: send it again after the restart");
		http_reply_error(&res, &e);
	} else if (!st) {
		log_error("%s %s: %s", req->method, req->path, e.message);
		http_reply_error(&res, &e);
	} else {
		req->store = st;
		run_handler(req, &res);
	}
	req->answer = res;
	req->answered = true;
	MHD_resume_connection(req->conn);
}

static void *writer_main(void *arg)
{
	struct http_server *srv = arg;
	pthread_mutex_lock(&srv->writer_lock);
	for (;;) {
		while (!srv->writer_head && !srv->writer_stop)
			pthread_cond_wait(&srv->writer_wake, &srv->writer_lock);
		struct http_req *req = srv->writer_head;
		if (!req)
			break;
		srv->writer_head = req->writer_next;
		if (!srv->writer_head)
			srv->writer_tail = NULL;
		bool stopping = srv->writer_stop;
		pthread_mutex_unlock(&srv->writer_lock);
		writer_run(req, stopping);
		pthread_mutex_lock(&srv->writer_lock);
	}
	pthread_mutex_unlock(&srv->writer_lock);
	return NULL;
}

static void writer_end(struct http_server *srv)
{
	if (!srv->writer_running)
		return;
	pthread_mutex_lock(&srv->writer_lock);
	srv->writer_stop = true;
	pthread_cond_signal(&srv->writer_wake);
	pthread_mutex_unlock(&srv->writer_lock);
	pthread_join(srv->writer, NULL);
	srv->writer_running = false;
}

static void req_free(struct http_req *req)
{
	for (int i = 0; i < req->nparams; i++)
		free(req->params[i]);
	buf_free(&req->body);
	free(req);
}

static void remote_of(struct MHD_Connection *conn, char *out, size_t cap)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	out[0] = '\0';
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  out, (socklen_t)cap);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
			  out, (socklen_t)cap);
}

/* Who is asking, and may they? 401 without a valid token, 403 with a
 * token whose role is too low. Fills req->early with the refusal. */
static int authenticate(struct http_server *srv, struct http_req *req)
{
	struct err e;
	err_clear(&e);
	enum role need = req->route->role;
	if (need == ROLE_PUBLIC && srv->app->cfg->auth_protect_health &&
	    (strcmp(req->route->pattern, "/healthz") == 0 ||
	     strcmp(req->route->pattern, "/metrics") == 0))
		need = ROLE_VIEWER;
	req->store = store_for_thread(&e);
	if (!req->store) {
		http_reply_error(&req->early, &e);
		return -1;
	}
	const char *h = MHD_lookup_connection_value(
		req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	bool has_token = h && strncasecmp(h, "Bearer ", 7) == 0;
	if (!has_token) {
		if (need == ROLE_PUBLIC)
			return 0;
		err_set(&e, 401, "unauthorized", "",
			"this needs a token: send \"Authorization: Bearer "
			"<token>\"");
	} else {
		const char *token = h + 7;
		while (*token == ' ')
			token++;
		struct auth_identity who;
		if (auth_check(req->store, token, &who, &e) == 0) {
			snprintf(req->actor_name, sizeof req->actor_name, "%s",
				 who.name);
			req->actor = req->actor_name;
			req->actor_role = who.role;
			if (who.role >= need)
				return 0;
			err_set(&e, 403, "forbidden", "",
				"%s %s needs the %s role; token \"%s\" is %s",
				req->method, req->route->pattern,
				auth_role_name(need), who.name,
				auth_role_name(who.role));
		} else if (need == ROLE_PUBLIC) {
			return 0; /* a bad token on an open page is no matter */
		}
	}
	if (e.status == 401) {
		metrics_add(M_AUTH_FAILURES, 1);
		log_warn("auth: %s %s from %s refused: %s", req->method,
			 req->path, req->remote[0] ? req->remote : "?",
			 e.message);
	} else if (e.status == 403) {
		metrics_add(M_AUTH_FORBIDDEN, 1);
		log_warn("auth: %s %s from %s refused: %s", req->method,
			 req->path, req->remote[0] ? req->remote : "?",
			 e.message);
	}
	http_reply_error(&req->early, &e);
	if (e.status == 401)
		http_add_header(&req->early, "WWW-Authenticate",
				"Bearer realm=\"scicast\"");
	return -1;
}

static enum MHD_Result on_first_call(struct http_server *srv,
				     struct MHD_Connection *conn,
				     const char *url, const char *method,
				     void **con_cls)
{
	struct http_req *req = calloc(1, sizeof *req);
	if (!req)
		return MHD_NO;
	req->conn = conn;
	req->app = srv->app;
	req->method = method;
	req->path = url;
	req->started_us = now_us();
	req->route_index = -1;
	req->actor = "anonymous";
	req->actor_role = ROLE_PUBLIC;
	remote_of(conn, req->remote, sizeof req->remote);
	*con_cls = req;
	atomic_fetch_add(&srv->in_progress, 1);

	char allow[128];
	req->route_index = find_route(req, allow, sizeof allow);
	if (req->route_index < 0) {
		if (allow[0]) {
			struct err e;
			struct http_res res = { 0 };
			err_set(&e, 405, "method_not_allowed", "",
				"%s is not allowed on %s (allowed: %s)", method,
				url, allow);
			http_reply_error(&res, &e);
			http_add_header(&res, "Allow", allow);
			return send_res(req, &res);
		}
		return send_error(req, 404, "not_found", "no such route: %s %s",
				  method, url);
	}
	req->route = &http_routes[req->route_index];
	if (authenticate(srv, req) < 0)
		return send_res(req, &req->early);
	req->max_body = (req->route->flags & ROUTE_BIG_BODY)
				? srv->app->cfg->http_max_import_body
				: srv->app->cfg->http_max_body;
	const char *cl = MHD_lookup_connection_value(
		conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	long long n;
	if (cl && util_parse_ll(cl, 0, INT64_MAX, &n) == 0 &&
	    n > req->max_body) {
		/* Answering now leaves the body unread, and libmicrohttpd then
		 * closes the connection on it: the kernel answers unread data
		 * with a reset, which can destroy our 413 before a client that
		 * is still sending reads it. So only a client that waits for
		 * "100 Continue" (it sends nothing more), or one whose body is
		 * too big to be worth reading, is answered now; the others
		 * have their body read and dropped (too_large), then 413. */
		const char *expect = MHD_lookup_connection_value(
			conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
		if ((expect && strcasecmp(expect, "100-continue") == 0) ||
		    n - req->max_body > DRAIN_MAX) {
			metrics_add(M_HTTP_BODY_TOO_LARGE, 1);
			return send_error(req, 413, "too_large",
					  "the body (%lld bytes) is larger than "
					  "the limit of %lld bytes", n,
					  (long long)req->max_body);
		}
		req->too_large = true;
	}
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct http_req *req = *con_cls;
	(void)version;
	if (!req) {
		enum MHD_Result r = on_first_call(srv, conn, url, method,
						  con_cls);
		req = *con_cls;
		if (req && req->status)
			watch_arrived(srv, watch_of(conn));
		return r;
	}
	if (req->answered) { /* resumed by the writer */
		req->answered = false;
		return send_answer(req, &req->answer);
	}
	if (req->status) { /* answered early; drop what still arrives */
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size) {
		watch_body(srv, watch_of(conn), *upload_size);
		if (!req->too_large &&
		    (int64_t)(req->body.len + *upload_size) <= req->max_body) {
			if (buf_append(&req->body, upload, *upload_size) < 0)
				req->too_large = true; /* out of memory */
		} else {
			req->too_large = true;
			buf_free(&req->body);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	watch_arrived(srv, watch_of(conn));
	if (req->too_large) {
		metrics_add(M_HTTP_BODY_TOO_LARGE, 1);
		return send_error(req, 413, "too_large",
				  "the body is larger than the limit of %lld "
				  "bytes", (long long)req->max_body);
	}
	if (is_change(req) && srv->writer_running)
		return writer_queue(srv, req);
	struct http_res res = { 0 };
	run_handler(req, &res);
	return send_answer(req, &res);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct http_req *req = *con_cls;
	if (!req)
		return;
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		watch_next(srv, watch_of(conn));
	int64_t dur = now_us() - req->started_us;
	int status = req->status ? req->status : 0;
	metrics_http_observe(req->route_index, status, dur);
	bool read_only = strcmp(req->method, "GET") == 0 ||
			 strcmp(req->method, "HEAD") == 0;
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		log_info("%s %s: connection ended before the answer was sent "
			 "(%d)", req->method, req->path, (int)toe);
	else if (status >= 500)
		log_error("%s %s %d %.1fms", req->method, req->path, status,
			  (double)dur / 1000);
	else if (!read_only || status >= 400)
		log_info("%s %s %d %.1fms", req->method, req->path, status,
			 (double)dur / 1000);
	else
		log_debug("%s %s %d %.1fms", req->method, req->path, status,
			  (double)dur / 1000);
	req_free(req);
	*con_cls = NULL;
	atomic_fetch_sub(&srv->in_progress, 1);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	(void)cls;
	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_warn("http: %s", line);
}

/* Binding ourselves gives a clear message when the port is taken, which
 * libmicrohttpd alone does not. */
static int bind_listen(const char *host, int port, int *fd_out, int *port_out,
		       struct err *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char portstr[8];
	snprintf(portstr, sizeof portstr, "%d", port);
	int rc = getaddrinfo(host[0] ? host : NULL, portstr, &hints, &ai);
	if (rc != 0) {
		err_set(err, 0, "http", "listen", "[http] listen %s:%d: %s",
			host, port, gai_strerror(rc));
		return -1;
	}
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			ai->ai_protocol);
	if (fd < 0) {
		err_set(err, 0, "http", "listen", "socket: %s", strerror(errno));
		freeaddrinfo(ai);
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		int e = errno;
		err_set(err, 0, "http", "listen",
			"cannot listen on %s:%d: %s%s", host, port, strerror(e),
			e == EADDRINUSE ? " (is another scicastd or another "
					  "server running on that port?)"
					: "");
		close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	if (listen(fd, 128) < 0) {
		err_set(err, 0, "http", "listen", "listen: %s", strerror(errno));
		close(fd);
		return -1;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	*port_out = port;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET)
			*port_out = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			*port_out = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	*fd_out = fd;
	return 0;
}

int http_listen(struct app *app, struct http_server **out, struct err *err)
{
	const struct config *cfg = app->cfg;
	struct http_server *srv = calloc(1, sizeof *srv);
	if (!srv) {
		err_oom(err);
		return -1;
	}
	srv->app = app;
	srv->timeout_ms = cfg->http_connection_timeout_ms;
	if (bind_listen(cfg->http_host, cfg->http_port, &srv->listen_fd,
			&srv->port, err) < 0) {
		free(srv);
		return -1;
	}
	if (util_cond_init_monotonic(&srv->watch_wake) != 0) {
		close(srv->listen_fd);
		free(srv);
		err_internal(err, "pthread_cond_init failed");
		return -1;
	}
	pthread_mutex_init(&srv->watch_lock, NULL);
	pthread_mutex_init(&srv->writer_lock, NULL);
	pthread_cond_init(&srv->writer_wake, NULL);
	*out = srv;
	return 0;
}

int http_serve(struct http_server *srv, struct err *err)
{
	const struct config *cfg = srv->app->cfg;
	unsigned timeout_s = (unsigned)((cfg->http_connection_timeout_ms + 999) /
					1000);
	if (util_thread_start(&srv->watchdog, "http-watchdog", watchdog_main,
			      srv) != 0) {
		err_set(err, 0, "http", "", "could not start the HTTP watchdog");
		return -1;
	}
	srv->watchdog_running = true;
	if (util_thread_start(&srv->writer, "http-writer", writer_main, srv) != 0) {
		watchdog_end(srv);
		err_set(err, 0, "http", "", "could not start the HTTP writer");
		return -1;
	}
	srv->writer_running = true;
	srv->mhd = MHD_start_daemon(
		MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
			MHD_ALLOW_SUSPEND_RESUME,
		0, NULL, NULL, on_request, srv,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)srv->listen_fd,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->http_threads,
		MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->http_max_connections,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
		MHD_OPTION_END);
	if (!srv->mhd) {
		watchdog_end(srv);
		writer_end(srv);
		err_set(err, 0, "http", "", "could not start the HTTP server");
		return -1;
	}
	return 0;
}

int http_port(const struct http_server *srv)
{
	return srv->port;
}

void http_stop(struct http_server *srv, int64_t wait_ms)
{
	if (!srv)
		return;
	watchdog_end(srv);
	if (!srv->mhd) {
		close(srv->listen_fd);
		pthread_cond_destroy(&srv->watch_wake);
		pthread_mutex_destroy(&srv->watch_lock);
		pthread_cond_destroy(&srv->writer_wake);
		pthread_mutex_destroy(&srv->writer_lock);
		free(srv);
		return;
	}
	MHD_socket fd = MHD_quiesce_daemon(srv->mhd);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	int64_t until = util_now_ms() + wait_ms;
	while (atomic_load(&srv->in_progress) > 0 && util_now_ms() < until) {
		struct timespec ts = { 0, 20 * 1000000 };
		nanosleep(&ts, NULL);
	}
	int left = atomic_load(&srv->in_progress);
	if (left > 0)
		log_warn("http: stopping with %d request(s) still running", left);
	/* a change already running finishes; queued ones are refused (503)
	 * and their connections handed back before the pool stops */
	writer_end(srv);
	MHD_stop_daemon(srv->mhd);
	pthread_cond_destroy(&srv->watch_wake);
	pthread_mutex_destroy(&srv->watch_lock);
	pthread_cond_destroy(&srv->writer_wake);
	pthread_mutex_destroy(&srv->writer_lock);
	free(srv);
}
