/* api: the handlers behind the routes table (routes.c), one file per
 * resource (api_regions.c, api_channels.c, api_system.c, …). */
#ifndef SCICAST_API_H
#define SCICAST_API_H

#include "http.h"

#define API_HANDLER(name) \
	int name(struct http_req *req, struct http_res *res, struct err *err)

API_HANDLER(api_healthz);
API_HANDLER(api_metrics);
API_HANDLER(api_version);

API_HANDLER(api_regions_list);
API_HANDLER(api_regions_get);
API_HANDLER(api_regions_import);

API_HANDLER(api_channels_list);
API_HANDLER(api_channels_create);
API_HANDLER(api_channels_get);
API_HANDLER(api_channels_update);
API_HANDLER(api_channels_delete);

API_HANDLER(api_templates_list);
API_HANDLER(api_templates_get);
API_HANDLER(api_templates_version);
API_HANDLER(api_templates_create);
API_HANDLER(api_templates_update);
API_HANDLER(api_templates_delete);
API_HANDLER(api_templates_history);
API_HANDLER(api_templates_rollback);
API_HANDLER(api_templates_preview);

API_HANDLER(api_emergencies_declare);
API_HANDLER(api_emergencies_list);
API_HANDLER(api_emergencies_get);
API_HANDLER(api_emergencies_revise);
API_HANDLER(api_emergencies_cancel);
API_HANDLER(api_emergencies_deliveries);

API_HANDLER(api_emergencies_retry);
API_HANDLER(api_deliveries_list);
API_HANDLER(api_deliveries_get);
API_HANDLER(api_deliveries_retry);

API_HANDLER(api_library_list);
API_HANDLER(api_library_get);
API_HANDLER(api_library_create);
API_HANDLER(api_library_update);
API_HANDLER(api_library_delete);
API_HANDLER(api_library_history);
API_HANDLER(api_library_search);
API_HANDLER(api_library_import);
API_HANDLER(api_library_export);
API_HANDLER(page_library_notice);

API_HANDLER(api_whoami);
API_HANDLER(api_tokens_list);
API_HANDLER(api_tokens_create);
API_HANDLER(api_tokens_revoke);
API_HANDLER(api_audit_list);

API_HANDLER(api_screens_list);

API_HANDLER(api_emergencies_cap);
API_HANDLER(page_cap_alert);
API_HANDLER(page_cap_feed);
API_HANDLER(api_cap_ingest);

API_HANDLER(page_static);

API_HANDLER(api_emergencies_allclear);
API_HANDLER(api_emergencies_report);
API_HANDLER(api_approvals_list);
API_HANDLER(api_approvals_get);
API_HANDLER(api_approvals_approve);
API_HANDLER(api_approvals_reject);

API_HANDLER(api_campaigns_list);
API_HANDLER(api_campaigns_get);
API_HANDLER(api_campaigns_create);
API_HANDLER(api_campaigns_update);
API_HANDLER(api_campaigns_delete);
API_HANDLER(api_campaigns_preview);
API_HANDLER(api_campaigns_runs);
API_HANDLER(api_campaigns_run);
API_HANDLER(api_regions_update);

/* Shared by handlers: the {id} path parameter as a positive integer. */
int api_param_id(struct http_req *req, int i, int64_t *out, struct err *err);

struct emergency_ctx;
/* What declaring, updating and ending need from a request (staged plans
 * that wake the senders and stop with scicastd): the emergency routes and
 * CAP ingestion. */
void api_emergency_ctx(struct http_req *req, struct emergency_ctx *c);

#endif
