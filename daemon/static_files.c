/* static_files: the web console's files under [paths] share/web, served at
 * "/". A path is refused unless every segment is plain (no "..", no ".",
 * no hidden files, no odd bytes) and the file it names, resolved, still
 * lies inside the web folder; so neither "../" nor its encodings nor a
 * symbolic link lead out of it. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api.h"
#include "util.h"

#define STATIC_MAX (8 << 20)

static const struct {
	const char *ext, *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".woff2", "font/woff2" },
	{ ".txt", "text/plain; charset=utf-8" },
};

static const char *type_of(const char *path)
{
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

/* Plain segments of [A-Za-z0-9._-], none starting with a dot. */
static bool plain_path(const char *p)
{
	if (*p != '/' || strlen(p) > 512)
		return false;
	bool seg_start = true;
	for (const char *c = p + 1; *c; c++) {
		if (*c == '/') {
			if (seg_start)
				return false; /* "//" */
			seg_start = true;
			continue;
		}
		if (seg_start && *c == '.')
			return false;     /* ".", "..", hidden files */
		seg_start = false;
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '.' || *c == '-' ||
		      *c == '_'))
			return false;
	}
	return true;
}

API_HANDLER(page_static)
{
	const char *path = req->path;
	char want[1200], real_root[PATH_MAX], real_file[PATH_MAX];
	if (strcmp(path, "/") == 0)
		path = "/index.html";
	if (!plain_path(path) || !type_of(path)) {
		err_not_found(err, "no such page");
		return -1;
	}
	snprintf(want, sizeof want, "%s%s", req->app->web_root, path);
	if (!realpath(req->app->web_root, real_root) ||
	    !realpath(want, real_file) ||
	    strncmp(real_file, real_root, strlen(real_root)) != 0 ||
	    real_file[strlen(real_root)] != '/') {
		err_not_found(err, "no such page");
		return -1;
	}
	struct stat sb;
	if (stat(real_file, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > STATIC_MAX) {
		err_not_found(err, "no such page");
		return -1;
	}
	char etag[64];
	snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)sb.st_size,
		 (unsigned long long)sb.st_mtime);
	const char *inm = http_header(req, "If-None-Match");
	bool html = strstr(path, ".html") != NULL;
	if (inm && strcmp(inm, etag) == 0) {
		if (http_reply_text(res, 304, NULL, "", 0) < 0) {
			err_oom(err);
			return -1;
		}
	} else {
		char *data = NULL;
		size_t len = 0;
		if (util_read_file(real_file, &data, &len) < 0) {
			err_not_found(err, "no such page");
			return -1;
		}
		int rc = http_reply_text(res, 200, type_of(path), data, len);
		free(data);
		if (rc < 0) {
			err_oom(err);
			return -1;
		}
	}
	http_add_header(res, "ETag", etag);
	/* no build step, so no hashed names: pages are revalidated every
	 * time, the rest may be kept five minutes */
	http_add_header(res, "Cache-Control",
			html ? "no-cache" : "public, max-age=300");
	if (html)
		http_add_header(res, "Content-Security-Policy",
				"default-src 'self'; img-src 'self' data:; "
				"style-src 'self' 'unsafe-inline'; "
				"frame-ancestors 'none'");
	return 0;
}
