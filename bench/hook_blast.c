/* hook_blast: the bare webhook client of the webhook benchmark
 * (bench/webhooks, side B).
 *
 * Replays what the receiver recorded during scicastd's run (--record, one
 * `K<TAB>body_length<TAB>...` line per request): the same number of POSTs
 * to the same /hook/K paths, bodies of the same lengths, each signed the
 * Standard Webhooks way with the K-th secret, with at most --inflight
 * requests in flight. It is what libcurl's multi interface, OpenSSL's HMAC
 * and the loopback can do with nothing to claim, store or record, and so
 * the floor scicastd's webhook sender is compared with.
 *
 * Shaped like scicastd's sender where that costs the same (one thread, a
 * multi handle with CURLMOPT_MAX_TOTAL_CONNECTIONS = the window, HTTP/1.1
 * keep-alive, the same headers, a fresh timestamp and MAC per request) and
 * bare where scicastd has work to do: keys decoded once, one easy handle
 * per slot of the window, reused, and one buffer per slot holding the
 * signed content with the body at its end.
 *
 * Prints one JSON line: {"sent": N, "ok": N, "failed": N, "first_ms": t,
 * "last_ms": t, "cpu_s": S, "max_rss_kb": K} (CLOCK_REALTIME ms). Exits 1
 * if any request failed or was not a 2xx. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <curl/curl.h>

#include "bench_util.h"
#include "hook_common.h"

#define BLAST_USER_AGENT "scicast-bench/hook_blast"

struct job {
	long key;
	size_t len;
};

struct slot {
	CURL *easy;
	struct curl_slist *headers; /* owned until the transfer ends */
	char *buf;                  /* "{id}.{ts}." + body; the body is sent */
	size_t cap;
	size_t job;
	bool busy;
};

static void usage(FILE *to)
{
	fprintf(to,
		"usage: hook_blast --url BASE --secrets FILE --record FILE [--inflight N]\n"
		"  POSTs one signed body per line of FILE (K<TAB>length...) to\n"
		"  BASE/hook/K, at most N (default 64) at once; prints one JSON line.\n");
}

/* The jobs of the record file; the caller frees them. */
static struct job *read_record(const char *path, size_t nkeys, size_t *n)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "hook_blast: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	struct job *jobs = NULL;
	size_t count = 0, cap = 0, lineno = 0;
	char line[512];
	while (fgets(line, sizeof line, f)) {
		lineno++;
		char *tab = strchr(line, '\t');
		if (!tab)
			continue;
		*tab = '\0';
		char *len = tab + 1;
		len[strcspn(len, "\t\r\n")] = '\0';
		long long k, l;
		if (bench_parse_ll(line, 0, (long long)nkeys - 1, &k) < 0 ||
		    bench_parse_ll(len, 0, 4 << 20, &l) < 0) {
			fprintf(stderr, "hook_blast: %s:%zu: not K<TAB>length with a known K\n", path, lineno);
			goto fail;
		}
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			struct job *g = realloc(jobs, ncap * sizeof *g);
			if (!g) {
				fprintf(stderr, "hook_blast: out of memory\n");
				goto fail;
			}
			jobs = g;
			cap = ncap;
		}
		jobs[count].key = (long)k;
		jobs[count].len = (size_t)l;
		count++;
	}
	fclose(f);
	if (count == 0) {
		fprintf(stderr, "hook_blast: %s has no requests\n", path);
		free(jobs);
		return NULL;
	}
	*n = count;
	return jobs;
fail:
	fclose(f);
	free(jobs);
	return NULL;
}

/* A JSON-looking body of exactly len bytes: its content does not matter to
 * anyone, its length does (it is MACed and sent). */
static void fill_body(char *p, size_t len, size_t n)
{
	char head[64];
	int hl = snprintf(head, sizeof head, "{\"bench\":%zu,\"pad\":\"", n);
	if (hl < 0 || (size_t)hl + 2 > len) {
		memset(p, 'x', len);
		return;
	}
	memcpy(p, head, (size_t)hl);
	memset(p + hl, 'x', len - (size_t)hl - 2);
	p[len - 2] = '"';
	p[len - 1] = '}';
}

static int add_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *l = curl_slist_append(*list, line);
	if (!l)
		return -1;
	*list = l;
	return 0;
}

static int slot_start(CURLM *multi, struct slot *sl, const char *base,
		      const struct hook_key *keys, const struct job *jobs, size_t j)
{
	const struct job *jb = &jobs[j];
	char id[48], ts[24], url[600], line[160];
	snprintf(id, sizeof id, "bench-b-%zu", j);
	snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
	size_t il = strlen(id), tl = strlen(ts), prefix = il + tl + 2;
	if (prefix + jb->len > sl->cap) {
		size_t cap = prefix + jb->len + 256;
		char *g = realloc(sl->buf, cap);
		if (!g)
			return -1;
		sl->buf = g;
		sl->cap = cap;
	}
	memcpy(sl->buf, id, il);
	sl->buf[il] = '.';
	memcpy(sl->buf + il + 1, ts, tl);
	sl->buf[il + 1 + tl] = '.';
	fill_body(sl->buf + prefix, jb->len, j);

	unsigned char mac[32], b64[48];
	if (hook_mac(&keys[jb->key], sl->buf, prefix + jb->len, mac) < 0)
		return -1;
	EVP_EncodeBlock(b64, mac, sizeof mac);

	curl_slist_free_all(sl->headers);
	sl->headers = NULL;
	snprintf(line, sizeof line, "webhook-id: %s", id);
	if (add_header(&sl->headers, "Content-Type: application/json") < 0 ||
	    add_header(&sl->headers, line) < 0)
		return -1;
	snprintf(line, sizeof line, "webhook-timestamp: %s", ts);
	if (add_header(&sl->headers, line) < 0)
		return -1;
	snprintf(line, sizeof line, "webhook-signature: v1,%s", (const char *)b64);
	/* Expect: none, as scicastd sends: no 100-continue round trip */
	if (add_header(&sl->headers, line) < 0 || add_header(&sl->headers, "Expect:") < 0)
		return -1;

	snprintf(url, sizeof url, "%s/hook/%ld", base, jb->key);
	CURL *e = sl->easy;
	int bad = 0;
	bad |= curl_easy_setopt(e, CURLOPT_URL, url);
	bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, sl->buf + prefix);
	bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)jb->len);
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, sl->headers);
	if (bad || curl_multi_add_handle(multi, e) != CURLM_OK)
		return -1;
	sl->job = j;
	sl->busy = true;
	return 0;
}

/* Thrown away: the receiver's answer is a few bytes we do not need. */
static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	(void)p, (void)ud;
	return size * n;
}

int main(int argc, char **argv)
{
	const char *base = NULL, *secrets = NULL, *record = NULL;
	long long inflight = 64;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		}
		const char *val = i + 1 < argc ? argv[++i] : NULL;
		if (!val) {
			usage(stderr);
			return 2;
		}
		if (strcmp(a, "--url") == 0)
			base = val;
		else if (strcmp(a, "--secrets") == 0)
			secrets = val;
		else if (strcmp(a, "--record") == 0)
			record = val;
		else if (strcmp(a, "--inflight") == 0 && bench_parse_ll(val, 1, 10000, &inflight) == 0)
			;
		else {
			fprintf(stderr, "hook_blast: bad option %s %s\n", a, val);
			usage(stderr);
			return 2;
		}
	}
	if (!base || !secrets || !record || strlen(base) > 500) {
		usage(stderr);
		return 2;
	}
	size_t nkeys = 0, njobs = 0;
	struct hook_key *keys = hook_read_secrets(secrets, &nkeys);
	if (!keys)
		return 1;
	struct job *jobs = read_record(record, nkeys, &njobs);
	if (!jobs) {
		free(keys);
		return 1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "hook_blast: curl_global_init failed\n");
		free(jobs);
		free(keys);
		return 1;
	}
	int rc = 1;
	size_t nslots = (size_t)inflight < njobs ? (size_t)inflight : njobs;
	struct slot *slots = calloc(nslots, sizeof *slots);
	CURLM *multi = curl_multi_init();
	if (!slots || !multi) {
		fprintf(stderr, "hook_blast: out of memory\n");
		goto out;
	}
	curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)nslots);
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)nslots);
	for (size_t i = 0; i < nslots; i++) {
		CURL *e = curl_easy_init();
		if (!e) {
			fprintf(stderr, "hook_blast: curl_easy_init failed\n");
			goto out;
		}
		slots[i].easy = e;
		int bad = 0;
		bad |= curl_easy_setopt(e, CURLOPT_POST, 1L);
		bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, BLAST_USER_AGENT);
		bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
		bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
		bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
		bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, &slots[i]);
		if (bad) {
			fprintf(stderr, "hook_blast: curl_easy_setopt failed\n");
			goto out;
		}
	}

	size_t next = 0, done = 0, ok = 0, failed = 0;
	double first_ms = hook_clock_ms(CLOCK_REALTIME), last_ms = first_ms;
	while (done < njobs) {
		for (size_t i = 0; i < nslots && next < njobs; i++) {
			if (slots[i].busy)
				continue;
			if (slot_start(multi, &slots[i], base, keys, jobs, next) < 0) {
				fprintf(stderr, "hook_blast: cannot start request %zu\n", next);
				goto out;
			}
			next++;
		}
		int running = 0;
		curl_multi_perform(multi, &running);
		CURLMsg *m;
		int left;
		size_t finished = 0;
		while ((m = curl_multi_info_read(multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			struct slot *sl = NULL;
			long status = 0;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&sl);
			curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
			CURLcode cc = m->data.result;
			curl_multi_remove_handle(multi, m->easy_handle);
			if (cc == CURLE_OK && status >= 200 && status < 300) {
				ok++;
			} else {
				if (failed < 5)
					fprintf(stderr, "hook_blast: request %zu: %s, HTTP %ld\n",
						sl->job, curl_easy_strerror(cc), status);
				failed++;
			}
			sl->busy = false;
			done++;
			finished++;
			last_ms = hook_clock_ms(CLOCK_REALTIME);
		}
		/* A freed slot is filled before waiting: with every request
		 * answered in one perform, a wait would have nothing to wake it. */
		if (finished && next < njobs)
			continue;
		if (done < njobs && curl_multi_poll(multi, NULL, 0, 1000, NULL) != CURLM_OK) {
			fprintf(stderr, "hook_blast: curl_multi_poll failed\n");
			goto out;
		}
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	printf("{\"sent\": %zu, \"ok\": %zu, \"failed\": %zu, \"inflight\": %zu, "
	       "\"first_ms\": %.3f, \"last_ms\": %.3f, \"cpu_s\": %.3f, \"max_rss_kb\": %ld}\n",
	       done, ok, failed, nslots, first_ms, last_ms, cpu, ru.ru_maxrss);
	fflush(stdout);
	rc = failed ? 1 : 0;
out:
	for (size_t i = 0; slots && i < nslots; i++) {
		if (slots[i].easy) {
			if (slots[i].busy)
				curl_multi_remove_handle(multi, slots[i].easy);
			curl_easy_cleanup(slots[i].easy);
		}
		curl_slist_free_all(slots[i].headers);
		free(slots[i].buf);
	}
	free(slots);
	if (multi)
		curl_multi_cleanup(multi);
	curl_global_cleanup();
	free(jobs);
	free(keys);
	return rc;
}
