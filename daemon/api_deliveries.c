/* api_deliveries: the dead letters and re-drives. */
#include <string.h>

#include "api.h"
#include "config.h"
#include "deliveries.h"
#include "log.h"
#include "outbox.h"
#include "util.h"

static int reply(struct http_res *res, int status, json_t *j, struct err *err)
{
	if (http_reply_json(res, status, j) < 0) {
		err_oom(err);
		return -1;
	}
	return 0;
}

API_HANDLER(api_deliveries_list)
{
	static const char *const states[] = { "pending", "inflight", "sent",
					      "acked", "failed", "dead",
					      "superseded", NULL };
	struct deliveries_filter f = {
		.revision = -1,
		.state = http_query(req, "state"),
		.kind = http_query(req, "kind"),
	};
	long e, campaign;
	if (f.state) {
		bool ok = false;
		for (const char *const *s = states; *s && !ok; s++)
			ok = strcmp(*s, f.state) == 0;
		if (!ok) {
			err_set(err, 400, "bad_request", "state",
				"state must be one of pending, inflight, sent, "
				"acked, failed, dead, superseded");
			return -1;
		}
	}
	if (f.kind && strcmp(f.kind, "mqtt") != 0 &&
	    strcmp(f.kind, "webhook") != 0) {
		err_set(err, 400, "bad_request", "kind",
			"kind must be mqtt or webhook");
		return -1;
	}
	if (http_query_long(req, "emergency", 1, INT32_MAX, 0, &e, err) < 0 ||
	    http_query_long(req, "campaign", 1, INT32_MAX, 0, &campaign,
			    err) < 0 ||
	    http_query_long(req, "limit", 1, 5000, 100, &f.limit, err) < 0 ||
	    http_query_long(req, "offset", 0, 100000000, 0, &f.offset, err) < 0)
		return -1;
	f.emergency = e;
	f.campaign = campaign;
	json_t *out = NULL;
	if (deliveries_list(req->store, &f, &out, err) < 0)
		return -1;
	return reply(res, 200, out, err);
}

API_HANDLER(api_deliveries_get)
{
	int64_t id;
	json_t *out = NULL;
	if (api_param_id(req, 0, &id, err) < 0 ||
	    deliveries_get(req->store, id, &out, err) < 0)
		return -1;
	return reply(res, 200, out, err);
}

API_HANDLER(api_deliveries_retry)
{
	int64_t id;
	long n = 0;
	json_t *out = NULL;
	if (api_param_id(req, 0, &id, err) < 0 ||
	    deliveries_get(req->store, id, &out, err) < 0)
		return -1;
	json_decref(out);
	out = NULL;
	if (outbox_redrive(req->store, id, 0, &n, err) < 0)
		return -1;
	if (n == 0) {
		err_conflict(err, "delivery %lld is not dead or failed: nothing "
			     "to re-drive", (long long)id);
		return -1;
	}
	log_info("delivery %lld re-driven by %s", (long long)id, req->actor);
	char object[32];
	snprintf(object, sizeof object, "delivery/%lld", (long long)id);
	http_audit(req, "delivery.retry", object, "re-driven");
	if (deliveries_get(req->store, id, &out, err) < 0)
		return -1;
	return reply(res, 200, out, err);
}

API_HANDLER(api_emergencies_retry)
{
	int64_t id;
	long n = 0;
	if (api_param_id(req, 0, &id, err) < 0)
		return -1;
	static const char sql[] = "SELECT 1 FROM emergencies WHERE id = ?";
	sqlite3_stmt *st = store_stmt(req->store, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		err_not_found(err, "no emergency %lld", (long long)id);
		return -1;
	}
	if (rc != SQLITE_ROW)
		return store_fail(req->store, err, "reading the emergency");
	if (outbox_redrive(req->store, 0, id, &n, err) < 0)
		return -1;
	log_info("emergency %lld: %ld dead deliveries re-driven by %s",
		 (long long)id, n, req->actor);
	char object[32];
	snprintf(object, sizeof object, "emergency/%lld", (long long)id);
	http_audit(req, "emergency.retry", object, "%ld dead deliveries "
		   "re-driven", n);
	return reply(res, 200, json_pack("{s:I, s:I}", "emergency_id",
					 (json_int_t)id, "redriven",
					 (json_int_t)n), err);
}
