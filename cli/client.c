/* client: one libcurl easy handle per run, reused for every request so a
 * watch keeps its connection. The server's error body is always
 * {"error": {"message", "field"?, "details"?}}; this file is the one place
 * that turns it, or a transport failure, into the user's single line. */
#include "client.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Bigger than any answer the API gives (a library export is a few MB). */
#define CLIENT_MAX_BODY (256L * 1024 * 1024)

struct client {
	CURL *curl;
	char error[CURL_ERROR_SIZE];
	struct curl_slist *auth; /* holds the token: wiped on free */
};

static size_t client__on_data(char *p, size_t size, size_t n, void *ud)
{
	struct buf *b = ud;
	size_t len = size * n;
	if (b->len + len > (size_t)CLIENT_MAX_BODY || buf_append(b, p, len) < 0)
		return 0; /* makes curl stop with a write error */
	return len;
}

static struct client *client__get(struct cli *c)
{
	if (c->http)
		return c->http;
	struct client *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->curl = curl_easy_init();
	if (!h->curl) {
		free(h);
		return NULL;
	}
	if (c->token) {
		struct buf hdr = BUF_INIT;
		if (buf_appendf(&hdr, "Authorization: Bearer %s", c->token) == 0)
			h->auth = curl_slist_append(NULL, buf_str(&hdr));
		if (hdr.data)
			explicit_bzero(hdr.data, hdr.len);
		buf_free(&hdr);
		if (!h->auth) {
			curl_easy_cleanup(h->curl);
			free(h);
			return NULL;
		}
	}
	c->http = h;
	return h;
}

void client_free(struct client *h)
{
	if (!h)
		return;
	for (struct curl_slist *s = h->auth; s; s = s->next)
		explicit_bzero(s->data, strlen(s->data));
	curl_slist_free_all(h->auth);
	curl_easy_cleanup(h->curl);
	free(h);
}

void client_resp_free(struct client_resp *r)
{
	buf_free(&r->body);
	json_decref(r->json);
	r->json = NULL;
	r->status = 0;
}

/* Why the server could not be reached, in words a person acts on. */
static const char *client__why(struct client *h, CURLcode code)
{
	long os_errno = 0;
	if (code == CURLE_COULDNT_CONNECT &&
	    curl_easy_getinfo(h->curl, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK &&
	    os_errno)
		return strerror((int)os_errno);
	if (code == CURLE_COULDNT_RESOLVE_HOST)
		return "unknown host";
	if (code == CURLE_OPERATION_TIMEDOUT)
		return "no answer in time";
	if (code == CURLE_WRITE_ERROR)
		return "the answer is too large";
	return h->error[0] ? h->error : curl_easy_strerror(code);
}

int client_send(struct cli *c, const char *method, const char *path,
		const char *content_type, const char *body, size_t len,
		struct client_resp *r)
{
	struct curl_slist *headers = NULL;
	struct buf url = BUF_INIT, ctype = BUF_INIT, idem = BUF_INIT;
	int rc = CLI_UNREACHABLE;
	if (cli_connection(c) != 0)
		return CLI_USAGE;
	struct client *h = client__get(c);
	if (!h || buf_appendf(&url, "%s%s", c->url, path) < 0) {
		fprintf(stderr, "scicast: out of memory\n");
		rc = CLI_USAGE;
		goto done;
	}
	CURL *k = h->curl;
	curl_easy_reset(k);
	h->error[0] = '\0';
	buf_reset(&r->body);
	r->status = 0;
	headers = curl_slist_append(NULL, "Accept: application/json");
	if (headers && body && content_type &&
	    buf_appendf(&ctype, "Content-Type: %s", content_type) == 0)
		headers = curl_slist_append(headers, buf_str(&ctype));
	if (headers && c->idempotency_key) {
		if (buf_appendf(&idem, "Idempotency-Key: %s",
				c->idempotency_key) < 0) {
			curl_slist_free_all(headers);
			headers = NULL;
		} else {
			headers = curl_slist_append(headers, buf_str(&idem));
		}
	}
	/* The token's header stays its own list so it is wiped once, at
	 * the end; the request's list points at copies. */
	for (struct curl_slist *s = h->auth; s && headers; s = s->next)
		headers = curl_slist_append(headers, s->data);
	if (!headers) {
		fprintf(stderr, "scicast: out of memory\n");
		rc = CLI_USAGE;
		goto done;
	}
	curl_easy_setopt(k, CURLOPT_URL, buf_str(&url));
	curl_easy_setopt(k, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(k, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, client__on_data);
	curl_easy_setopt(k, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(k, CURLOPT_ERRORBUFFER, h->error);
	curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(k, CURLOPT_TIMEOUT, 300L);
	curl_easy_setopt(k, CURLOPT_USERAGENT, "scicast-cli");
	/* A redirect would carry the token somewhere nobody configured. */
	curl_easy_setopt(k, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(k, CURLOPT_PROTOCOLS_STR, "http,https");
	if (body) {
		curl_easy_setopt(k, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(k, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(method, "DELETE") != 0) {
		/* an empty POST still says Content-Length: 0 */
		curl_easy_setopt(k, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	}
	CURLcode code = curl_easy_perform(k);
	if (code != CURLE_OK) {
		fprintf(stderr, "scicast: cannot reach %s: %s\n", c->url,
			client__why(h, code));
		goto done;
	}
	curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &r->status);
	json_decref(r->json);
	r->json = r->body.len ? json_loadb(buf_str(&r->body), r->body.len, 0,
					   NULL)
			      : NULL;
	rc = 0;
done:
	if (h)
		curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	for (struct curl_slist *s = headers; s; s = s->next)
		explicit_bzero(s->data, strlen(s->data));
	curl_slist_free_all(headers);
	buf_free(&idem);
	buf_free(&ctype);
	buf_free(&url);
	return rc;
}

/* Copies s into out as one line: control characters become spaces. */
static void client__one_line(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	for (; *s && n + 1 < cap; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '\n' && n + 1 < cap && s[1] == '\0')
			break;
		out[n++] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
	}
	out[n] = '\0';
}

int client_refused(const char *what, const struct client_resp *r)
{
	char line[600];
	const json_t *e = json_object_get(r->json, "error");
	const char *msg = json_string_value(json_object_get(e, "message"));
	if (msg)
		client__one_line(msg, line, sizeof line);
	else if (r->body.len && !r->json)
		client__one_line(buf_str(&r->body), line, 200);
	else
		snprintf(line, sizeof line, "no reason given");
	fprintf(stderr, "scicast: %s refused (%ld): %s\n", what, r->status,
		line);
	return CLI_REFUSED;
}

void client_print_line_details(const char *file, const struct client_resp *r)
{
	const json_t *d = json_object_get(json_object_get(r->json, "error"),
					  "details");
	size_t i;
	const json_t *item;
	json_array_foreach(d, i, item) {
		char line[600];
		const char *field = json_string_value(json_object_get(item, "field"));
		const char *msg = json_string_value(json_object_get(item, "message"));
		client__one_line(msg ? msg : "", line, sizeof line);
		/* The server's messages often start with the field already
		 * ("audience is required"): do not say it twice. */
		if (field && *field && strncmp(line, field, strlen(field)) != 0)
			fprintf(stderr, "%s:%lld: %s: %s\n", file,
				(long long)json_integer_value(json_object_get(item, "line")),
				field, line);
		else
			fprintf(stderr, "%s:%lld: %s\n", file,
				(long long)json_integer_value(json_object_get(item, "line")),
				line);
	}
}

int client_json(struct cli *c, const char *what, const char *method,
		const char *path, const json_t *body, json_t **out)
{
	return client_json_status(c, what, method, path, body, out, NULL);
}

int client_show(struct cli *c, const char *what, const char *path,
		json_t **out)
{
	int rc = client_json(c, what, "GET", path, NULL, out);
	if (rc == 0 && c->json) {
		cli_print_json(*out);
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

int client_json_status(struct cli *c, const char *what, const char *method,
		       const char *path, const json_t *body, json_t **out,
		       long *status)
{
	struct client_resp r = CLIENT_RESP_INIT;
	char *text = NULL;
	int rc = CLI_USAGE;
	if (out)
		*out = NULL;
	if (status)
		*status = 0;
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		if (!text) {
			fprintf(stderr, "scicast: out of memory\n");
			goto done;
		}
	}
	rc = client_send(c, method, path, "application/json", text,
			 text ? strlen(text) : 0, &r);
	if (rc != 0)
		goto done;
	if (r.status < 200 || r.status > 299) {
		rc = client_refused(what, &r);
		goto done;
	}
	if (r.body.len && !r.json) {
		fprintf(stderr, "scicast: %s: the server's answer is not JSON\n",
			what);
		rc = CLI_REFUSED;
		goto done;
	}
	if (out) {
		*out = r.json;
		r.json = NULL;
	}
	if (status)
		*status = r.status;
	rc = 0;
done:
	client_resp_free(&r);
	free(text);
	return rc;
}

int client_import(struct cli *c, const char *what, const char *path,
		  const char *file, const char *content_type, json_t **out)
{
	struct client_resp r = CLIENT_RESP_INIT;
	char *data = NULL;
	size_t len = 0;
	int rc = CLI_USAGE;
	*out = NULL;
	if (util_read_file(file, &data, &len) < 0) {
		fprintf(stderr, "scicast: %s: %s\n", file, strerror(errno));
		goto done;
	}
	rc = client_send(c, "POST", path, content_type, data, len, &r);
	if (rc != 0)
		goto done;
	if (r.status < 200 || r.status > 299) {
		rc = client_refused(what, &r);
		client_print_line_details(file, &r);
		goto done;
	}
	*out = r.json;
	r.json = NULL;
	rc = 0;
done:
	client_resp_free(&r);
	free(data);
	return rc;
}

int client_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			     (*p >= '0' && *p <= '9') || strchr("-._~", *p);
		if (plain ? buf_append_char(b, (char)*p) < 0
			  : buf_appendf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]) < 0)
			return -1;
	}
	return 0;
}

int client_query(struct buf *path, const char *key, const char *value)
{
	if (!value)
		return 0;
	if (buf_appendf(path, "%c%s=", strchr(buf_str(path), '?') ? '&' : '?',
			key) < 0)
		return -1;
	return client_escape(path, value);
}
