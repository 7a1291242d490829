/* hook_sink: the receiving end of the webhook benchmark (bench/webhooks).
 *
 * A libmicrohttpd server that takes POST /hook/K, checks the request's
 * Standard Webhooks signature with the K-th secret of --secrets (line K,
 * from 0), and answers 200, or 400 when the signature, the timestamp or a
 * header is wrong (the script fails the run on any such request). It
 * counts, and with --record writes `K<TAB>body_length<TAB>webhook-id<TAB>ms`
 * per request (ms since the first request), which is what
 * bench/build/hook_blast replays and what shows how a run was paced.
 *
 * It is the same end for both sides of the comparison (scicastd, and the
 * bare libcurl client), so it is kept cheap: an epoll thread pool, one
 * buffer per request that holds exactly the signed content ("id.ts." then
 * the body, so the MAC is one call over it), a response object made once,
 * and counters under one mutex.
 *
 * When --expect N requests have come it prints one JSON line,
 *   {"received": N, "good": N, "bad": 0, "first_ms": t, "last_ms": t, ...}
 * (CLOCK_REALTIME milliseconds, so the script can subtract the time it
 * sent the POST or started the client) and goes on serving until SIGTERM
 * or SIGINT, so no client sees its last request cut off; if it is stopped
 * before, it prints the line then, with "complete": false.
 *
 * `hook_sink --make-secrets N` writes N fresh whsec_ secrets, one a line,
 * for the script to give scicastd's channels and this server alike. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/rand.h>

#include "bench_util.h"
#include "hook_common.h"

#define HOOK_TOLERANCE_S 300   /* Standard Webhooks: 5 minutes either way */
#define HOOK_BODY_MAX (4 << 20)

enum verdict {
	V_OK, V_NO_HEADER, V_BAD_TIMESTAMP, V_OLD, V_BAD_SIGNATURE, V_UNKNOWN_PATH,
	V_INTERNAL, V_COUNT
};
static const char *const verdict_names[V_COUNT] = {
	"ok", "missing_header", "invalid_timestamp", "timestamp_out_of_range",
	"invalid_signature", "unknown_path", "receiver_error",
};

struct sink {
	struct hook_key *keys;
	size_t nkeys;
	long long expect;
	FILE *record;

	pthread_mutex_t lock;  /* everything below */
	long long received;
	long long by_verdict[V_COUNT];
	long long bytes;
	long long connections;  /* TCP connections accepted: the client's window, if it keeps them alive */
	double first_ms;
	double last_ms;
	bool reported;
};

/* One request's state, owned by libmicrohttpd's per-request pointer from
 * the first call of the handler to on_done, which frees it. */
struct req {
	char *buf;      /* "{id}.{ts}." then the body: the signed content */
	size_t len, cap;
	size_t prefix;  /* where the body starts in buf */
	long key;       /* -1: no such /hook/K */
	enum verdict early; /* a fault found before the body */
	char id[128];
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static struct MHD_Response *resp_ok, *resp_bad;

static void usage(FILE *to)
{
	fprintf(to,
		"usage: hook_sink --port P --secrets FILE [--expect N] [--record FILE] [--threads T]\n"
		"       hook_sink --make-secrets N\n"
		"  Serves POST /hook/K and verifies each request's Standard Webhooks\n"
		"  signature with line K (from 0) of FILE. Prints 'ready' once\n"
		"  listening and one JSON line after N requests (or when stopped).\n"
		"  --threads T   server threads (default 2)\n"
		"  --record FILE write 'K<TAB>body_length<TAB>webhook-id<TAB>ms' per request\n"
		"                (ms since the first request)\n");
}

static int make_secrets(long long n)
{
	for (long long i = 0; i < n; i++) {
		unsigned char raw[32];
		unsigned char b64[48];
		if (RAND_bytes(raw, sizeof raw) != 1) {
			fprintf(stderr, "hook_sink: no random bytes\n");
			return 1;
		}
		EVP_EncodeBlock(b64, raw, sizeof raw);
		printf("whsec_%s\n", (const char *)b64);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

static void print_summary(struct sink *s, bool complete)
{
	/* the caller holds the lock */
	printf("{\"received\": %lld, \"good\": %lld, \"bad\": %lld, \"complete\": %s, "
	       "\"first_ms\": %.3f, \"last_ms\": %.3f, \"bytes\": %lld, "
	       "\"connections\": %lld",
	       s->received, s->by_verdict[V_OK], s->received - s->by_verdict[V_OK],
	       complete ? "true" : "false", s->first_ms, s->last_ms, s->bytes,
	       s->connections);
	for (int v = 1; v < V_COUNT; v++)
		printf(", \"%s\": %lld", verdict_names[v], s->by_verdict[v]);
	printf("}\n");
	fflush(stdout);
	s->reported = true;
}

static int req_reserve(struct req *r, size_t more)
{
	if (r->len + more <= r->cap)
		return 0;
	if (r->len + more > HOOK_BODY_MAX)
		return -1;
	size_t cap = r->cap ? r->cap : 4096;
	while (cap < r->len + more)
		cap *= 2;
	char *g = realloc(r->buf, cap);
	if (!g)
		return -1;
	r->buf = g;
	r->cap = cap;
	return 0;
}

/* The headers are all there at the first call: check what can be checked
 * and write the signed content's prefix. */
static void req_start(struct sink *s, struct req *r, struct MHD_Connection *c, const char *url)
{
	r->key = -1;
	long long k;
	if (strncmp(url, "/hook/", 6) != 0 || bench_parse_ll(url + 6, 0, LLONG_MAX, &k) < 0 ||
	    (size_t)k >= s->nkeys) {
		r->early = V_UNKNOWN_PATH;
		return;
	}
	r->key = (long)k;
	const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-id");
	const char *ts = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-timestamp");
	if (!id || !ts || !MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-signature")) {
		r->early = V_NO_HEADER;
		return;
	}
	snprintf(r->id, sizeof r->id, "%s", id);
	long long t;
	if (bench_parse_ll(ts, 0, LLONG_MAX / 2, &t) < 0) {
		r->early = V_BAD_TIMESTAMP;
		return;
	}
	long long now = (long long)time(NULL);
	if (t < now - HOOK_TOLERANCE_S || t > now + HOOK_TOLERANCE_S) {
		r->early = V_OLD;
		return;
	}
	size_t il = strlen(id), tl = strlen(ts);
	if (req_reserve(r, il + tl + 2) < 0) {
		r->early = V_INTERNAL;
		return;
	}
	memcpy(r->buf, id, il);
	r->buf[il] = '.';
	memcpy(r->buf + il + 1, ts, tl);
	r->buf[il + 1 + tl] = '.';
	r->len = r->prefix = il + tl + 2;
}

/* "v1,<b64> v1,<b64> v2,...": any v1 that matches will do. */
static enum verdict req_verify(struct sink *s, struct req *r, struct MHD_Connection *c)
{
	if (r->early != V_OK)
		return r->early;
	const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-signature");
	unsigned char want[32];
	if (!sig || hook_mac(&s->keys[r->key], r->buf, r->len, want) < 0)
		return V_BAD_SIGNATURE;
	const char *p = sig;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (n > 3 && memcmp(p, "v1,", 3) == 0) {
			unsigned char got[40];
			int gl = hook_b64_decode(p + 3, n - 3, got, sizeof got);
			if (gl == 32 && CRYPTO_memcmp(got, want, 32) == 0)
				return V_OK;
		}
		p += n;
	}
	return V_BAD_SIGNATURE;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_size, void **con_cls)
{
	struct sink *s = cls;
	struct req *r = *con_cls;
	(void)version;
	if (!r) {
		r = calloc(1, sizeof *r);
		if (!r)
			return MHD_NO;
		*con_cls = r;
		if (strcmp(method, "POST") != 0)
			r->early = V_UNKNOWN_PATH;
		else
			req_start(s, r, c, url);
		return MHD_YES;
	}
	if (*upload_size) {
		/* a fault already found: the body is read and dropped */
		if (r->early == V_OK) {
			if (req_reserve(r, *upload_size) < 0) {
				r->early = V_INTERNAL; /* out of memory, or over 4 MiB */
			} else {
				memcpy(r->buf + r->len, upload, *upload_size);
				r->len += *upload_size;
			}
		}
		*upload_size = 0;
		return MHD_YES;
	}
	enum verdict v = req_verify(s, r, c);
	double now = hook_clock_ms(CLOCK_REALTIME);
	size_t body = r->len - r->prefix;
	pthread_mutex_lock(&s->lock);
	if (s->received == 0)
		s->first_ms = now;
	s->last_ms = now;
	s->received++;
	s->by_verdict[v]++;
	s->bytes += (long long)body;
	if (s->record)
		fprintf(s->record, "%ld\t%zu\t%s\t%.3f\n", r->key, body,
			r->id[0] ? r->id : "-", now - s->first_ms);
	if (s->expect && s->received == s->expect && !s->reported)
		print_summary(s, true);
	pthread_mutex_unlock(&s->lock);
	return MHD_queue_response(c, v == V_OK ? MHD_HTTP_OK : MHD_HTTP_BAD_REQUEST,
				  v == V_OK ? resp_ok : resp_bad);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	struct sink *s = cls;
	(void)c, (void)socket_ctx;
	if (code != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	pthread_mutex_lock(&s->lock);
	s->connections++;
	pthread_mutex_unlock(&s->lock);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
		    enum MHD_RequestTerminationCode toe)
{
	(void)cls, (void)c, (void)toe;
	struct req *r = *con_cls;
	if (r) {
		free(r->buf);
		free(r);
	}
	*con_cls = NULL;
}

int main(int argc, char **argv)
{
	struct sink s = { .lock = PTHREAD_MUTEX_INITIALIZER };
	long long port = 0, threads = 2, v;
	const char *secrets = NULL, *record = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (!val) {
			usage(stderr);
			return 2;
		}
		i++;
		if (strcmp(a, "--make-secrets") == 0 && bench_parse_ll(val, 1, 10000000, &v) == 0)
			return make_secrets(v);
		else if (strcmp(a, "--port") == 0 && bench_parse_ll(val, 1, 65535, &port) == 0)
			;
		else if (strcmp(a, "--threads") == 0 && bench_parse_ll(val, 1, 64, &threads) == 0)
			;
		else if (strcmp(a, "--expect") == 0 && bench_parse_ll(val, 1, LLONG_MAX, &s.expect) == 0)
			;
		else if (strcmp(a, "--secrets") == 0)
			secrets = val;
		else if (strcmp(a, "--record") == 0)
			record = val;
		else {
			fprintf(stderr, "hook_sink: bad option %s %s\n", a, val);
			usage(stderr);
			return 2;
		}
	}
	if (!port || !secrets) {
		usage(stderr);
		return 2;
	}
	s.keys = hook_read_secrets(secrets, &s.nkeys);
	if (!s.keys)
		return 1;
	int rc = 1;
	struct MHD_Daemon *d = NULL;
	if (record) {
		s.record = fopen(record, "w");
		if (!s.record) {
			fprintf(stderr, "hook_sink: %s: %s\n", record, strerror(errno));
			goto out;
		}
	}
	static const char ok_body[] = "{\"ok\":true}";
	static const char bad_body[] = "{\"ok\":false,\"error\":\"signature\"}";
	resp_ok = MHD_create_response_from_buffer(sizeof ok_body - 1, (void *)ok_body,
						  MHD_RESPMEM_PERSISTENT);
	resp_bad = MHD_create_response_from_buffer(sizeof bad_body - 1, (void *)bad_body,
						   MHD_RESPMEM_PERSISTENT);
	if (!resp_ok || !resp_bad ||
	    MHD_add_response_header(resp_ok, "Content-Type", "application/json") != MHD_YES ||
	    MHD_add_response_header(resp_bad, "Content-Type", "application/json") != MHD_YES) {
		fprintf(stderr, "hook_sink: cannot make the responses\n");
		goto out;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* epoll and a small thread pool: 64 keep-alive connections need no
	 * thread each, and the same few threads serve A and B. */
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
			     (uint16_t)port, NULL, NULL, on_request, &s,
			     MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
			     MHD_OPTION_NOTIFY_CONNECTION, on_connection, &s,
			     MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)4000,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
			     MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
			     MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "hook_sink: cannot listen on port %lld\n", port);
		goto out;
	}
	printf("ready port %lld, %zu secrets\n", port, s.nkeys);
	fflush(stdout);
	/* a short sleep, not pause(): a signal between the test and pause()
	 * would leave us waiting for another */
	while (!stop_signal)
		usleep(50000);
	MHD_stop_daemon(d);
	d = NULL;
	pthread_mutex_lock(&s.lock);
	if (!s.reported)
		print_summary(&s, false);
	pthread_mutex_unlock(&s.lock);
	rc = 0;
out:
	if (s.record && fclose(s.record) != 0) {
		fprintf(stderr, "hook_sink: writing %s failed\n", record);
		rc = 1;
	}
	if (resp_ok)
		MHD_destroy_response(resp_ok);
	if (resp_bad)
		MHD_destroy_response(resp_bad);
	free(s.keys);
	return rc;
}
