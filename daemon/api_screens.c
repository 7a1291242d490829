/* api_screens: screen presence for the office. */
#include <string.h>

#include "api.h"
#include "presence.h"
#include "util.h"

API_HANDLER(api_screens_list)
{
	struct presence_filter f = {
		.region = http_query(req, "region"),
		.town = http_query(req, "town"),
		.status = http_query(req, "status"),
	};
	const char *codes[2] = { f.region, f.town };
	for (int i = 0; i < 2; i++)
		if (codes[i] && !util_is_region_code(codes[i], strlen(codes[i]))) {
			err_set(err, 400, "bad_request", i ? "town" : "region",
				"%s must be a 12-digit code", i ? "town" : "region");
			return -1;
		}
	if (f.status && strcmp(f.status, "online") != 0 &&
	    strcmp(f.status, "offline") != 0) {
		err_set(err, 400, "bad_request", "status",
			"status must be online or offline");
		return -1;
	}
	if (http_query_long(req, "limit", 1, 5000, 500, &f.limit, err) < 0 ||
	    http_query_long(req, "offset", 0, 100000000, 0, &f.offset, err) < 0)
		return -1;
	json_t *out = NULL;
	if (presence_list(req->store, &f, util_now_ms(), &out, err) < 0)
		return -1;
	if (http_reply_json(res, 200, out) < 0) {
		err_oom(err);
		return -1;
	}
	return 0;
}
