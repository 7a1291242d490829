/* hookd: a webhook receiver for the integration tests (libmicrohttpd). It
 * verifies the Standard Webhooks signature of every request with scicast's
 * own verifier, records each request as a JSON line, and behaves as the
 * path says:
 *   /ok/...            200
 *   /fail/N/...        500 for the first N requests on that path, then 200
 *   /ratelimit/N/...   429 with Retry-After: 1 for the first N, then 200
 *   /hang/...          holds the request 60 s (the client times out;
 *                      logged with status 0, as no sender waits that long)
 *   /slow/MS/...       answers 200 after MS milliseconds
 *   /gone/...          410
 *   /redirect/...      302 to /ok/redirected
 *   /flaky/P/...       503 at random, P percent of the requests, else 200
 *   /close/...         200 and a Content-Length, then the connection is
 *                      closed halfway through the body (logged with
 *                      status 0: the sender never got a whole answer)
 * One thread per connection, so a hanging request holds only its own. */
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "util.h"
#include "whsig.h"

static const char *secret;
static FILE *log_file;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* counters, log */
static volatile sig_atomic_t stop;

struct counter {
	char path[256];
	int n;
};
static struct counter counters[4096];
static int ncounters;

static void on_signal(int s) { (void)s; stop = 1; }

/* How many requests this path has had before this one. */
static int seen(const char *path)
{
	pthread_mutex_lock(&lock);
	int i;
	for (i = 0; i < ncounters; i++)
		if (strcmp(counters[i].path, path) == 0)
			break;
	if (i == ncounters && ncounters < 4096)
		snprintf(counters[ncounters++].path, sizeof counters[0].path,
			 "%s", path);
	int n = i < 4096 ? counters[i].n++ : 0;
	pthread_mutex_unlock(&lock);
	return n;
}

static int number_after(const char *path, const char *prefix)
{
	long long v;
	char num[16];
	size_t pl = strlen(prefix);
	const char *p = path + pl;
	size_t n = strcspn(p, "/");
	if (n == 0 || n >= sizeof num)
		return 0;
	memcpy(num, p, n);
	num[n] = '\0';
	return util_parse_ll(num, 0, 1000000, &v) == 0 ? (int)v : 0;
}

/* /flaky/: one draw per request, under the lock (random() is shared) */
static bool flaky_fails(int percent)
{
	pthread_mutex_lock(&lock);
	bool fails = random() % 100 < percent;
	pthread_mutex_unlock(&lock);
	return fails;
}

/* /close/: part of the body, then an error, on which libmicrohttpd
 * closes the connection with the rest of the promised length unsent. */
static ssize_t cut_body(void *cls, uint64_t pos, char *buf, size_t max)
{
	static const char part[] = "{\"ok\":tr";
	(void)cls;
	if (pos > 0 || max < sizeof part - 1)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	memcpy(buf, part, sizeof part - 1);
	return (ssize_t)(sizeof part - 1);
}

static enum MHD_Result answer_cut(struct MHD_Connection *c)
{
	struct MHD_Response *r = MHD_create_response_from_callback(
		64, 64, cut_body, NULL, NULL);
	enum MHD_Result rc = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status,
			      const char *hname, const char *hval)
{
	static const char body[] = "{\"ok\":true}";
	struct MHD_Response *r = MHD_create_response_from_buffer(
		sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (hname)
		MHD_add_response_header(r, hname, hval);
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct buf *body = *con_cls;
	(void)cls, (void)method;
	if (!body) {
		body = calloc(1, sizeof *body);
		*con_cls = body;
		return MHD_YES;
	}
	if (*upload_size) {
		buf_append(body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-id");
	const char *ts = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-timestamp");
	const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-signature");
	const char *extra = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Api-Key");
	enum whsig_result v = whsig_verify(secret, id, ts, sig, buf_str(body),
					   body->len, util_now_ms() / 1000);
	int n = seen(url);
	unsigned status = 200;
	const char *hname = NULL, *hval = NULL;
	if (strncmp(url, "/fail/", 6) == 0 && n < number_after(url, "/fail/"))
		status = 500;
	else if (strncmp(url, "/ratelimit/", 11) == 0 &&
		 n < number_after(url, "/ratelimit/")) {
		status = 429;
		hname = "Retry-After";
		hval = "1";
	} else if (strncmp(url, "/flaky/", 7) == 0 &&
		   flaky_fails(number_after(url, "/flaky/")))
		status = 503;
	else if (strncmp(url, "/close/", 7) == 0)
		status = 0;
	else if (strncmp(url, "/gone/", 6) == 0)
		status = 410;
	else if (strncmp(url, "/redirect/", 10) == 0) {
		status = 302;
		hname = "Location";
		hval = "/ok/redirected";
	}
	bool hang = strncmp(url, "/hang/", 6) == 0;
	json_t *payload = json_loadb(buf_str(body), body->len, 0, NULL);
	json_t *line = json_pack("{s:s, s:s?, s:s, s:I, s:i, s:s, s:s?, s:O?, s:s?, s:O?}",
				 "path", url, "webhook_id", id,
				 "verified", whsig_result_name(v),
				 "at_ms", (json_int_t)util_now_ms(),
				 "status", hang ? 0 : (int)status, "version", version,
				 "x_api_key", extra,
				 "message_id", json_object_get(payload, "message_id"),
				 "msg_type", json_string_value(json_object_get(payload, "msg_type")),
				 "payload", payload);
	char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
	pthread_mutex_lock(&lock);
	if (text && log_file) {
		fprintf(log_file, "%s\n", text);
		fflush(log_file);
	}
	pthread_mutex_unlock(&lock);
	free(text);
	json_decref(line);
	json_decref(payload);
	if (hang) {
		for (int i = 0; i < 600 && !stop; i++)
			usleep(100000);
	} else if (strncmp(url, "/slow/", 6) == 0) {
		usleep((useconds_t)number_after(url, "/slow/") * 1000);
	}
	if (status == 0)
		return answer_cut(c);
	return answer(c, status, hname, hval);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
		    enum MHD_RequestTerminationCode toe)
{
	(void)cls, (void)c, (void)toe;
	struct buf *b = *con_cls;
	if (b) {
		buf_free(b);
		free(b);
	}
	*con_cls = NULL;
}

int main(int argc, char **argv)
{
	int port = 0;
	const char *log_path = NULL;
	for (int i = 1; i + 1 < argc; i += 2) {
		long long v;
		if (!strcmp(argv[i], "--port") &&
		    util_parse_ll(argv[i + 1], 1, 65535, &v) == 0)
			port = (int)v;
		else if (!strcmp(argv[i], "--secret"))
			secret = argv[i + 1];
		else if (!strcmp(argv[i], "--log"))
			log_path = argv[i + 1];
	}
	if (!port || !secret || !log_path) {
		fprintf(stderr, "usage: hookd --port P --secret whsec_... --log FILE\n");
		return 2;
	}
	log_file = fopen(log_path, "a");
	if (!log_file) {
		perror(log_path);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)(util_now_ms() ^ getpid()));
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
		(uint16_t)port, NULL, NULL, on_request, NULL,
		MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "hookd: cannot listen on %d\n", port);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		usleep(100000);
	MHD_stop_daemon(d);
	fclose(log_file);
	return 0;
}
