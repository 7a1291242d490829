/* routes: every URL scicastd answers, in one table, with the role a caller
 * will need. docs/api.md lists the same table (`scicastd routes` prints
 * it), so access control and documentation come from one place. */
#include "api.h"

const struct route http_routes[] = {
	{ "GET", "/healthz", ROLE_PUBLIC, api_healthz, 0,
	  "Liveness and database check" },
	{ "GET", "/metrics", ROLE_PUBLIC, api_metrics, 0,
	  "Prometheus metrics" },
	{ "GET", "/api/v1/version", ROLE_PUBLIC, api_version, 0,
	  "Version and schema of the daemon" },

	{ "GET", "/api/v1/regions", ROLE_VIEWER, api_regions_list, 0,
	  "List regions (?parent=&level=&q=&limit=&offset=)" },
	{ "GET", "/api/v1/regions/{code}", ROLE_VIEWER, api_regions_get, 0,
	  "One region with its ancestors, children and counts" },
	{ "POST", "/api/v1/regions/import", ROLE_ADMIN, api_regions_import,
	  ROUTE_BIG_BODY, "Import regions from CSV (all or nothing)" },

	{ "GET", "/api/v1/channels", ROLE_VIEWER, api_channels_list, 0,
	  "List channels (?region=&kind=&enabled=&limit=&offset=)" },
	{ "POST", "/api/v1/channels", ROLE_ADMIN, api_channels_create, 0,
	  "Create a channel" },
	{ "GET", "/api/v1/channels/{id}", ROLE_VIEWER, api_channels_get, 0,
	  "One channel" },
	{ "PATCH", "/api/v1/channels/{id}", ROLE_ADMIN, api_channels_update, 0,
	  "Change a channel" },
	{ "DELETE", "/api/v1/channels/{id}", ROLE_ADMIN, api_channels_delete,
	  0, "Delete a channel" },

	{ "GET", "/api/v1/templates", ROLE_VIEWER, api_templates_list, 0,
	  "List templates (?hazard=&tier=&locale=)" },
	{ "POST", "/api/v1/templates", ROLE_ADMIN, api_templates_create, 0,
	  "Create a template" },
	{ "POST", "/api/v1/templates/preview", ROLE_VIEWER,
	  api_templates_preview, 0,
	  "Render a saved or unsaved template for a region" },
	{ "GET", "/api/v1/templates/{id}", ROLE_VIEWER, api_templates_get, 0,
	  "One template, current version" },
	{ "PUT", "/api/v1/templates/{id}", ROLE_ADMIN, api_templates_update, 0,
	  "Save a new version (with the version edited)" },
	{ "DELETE", "/api/v1/templates/{id}", ROLE_ADMIN, api_templates_delete,
	  0, "Delete (?version=N); the history stays" },
	{ "GET", "/api/v1/templates/{id}/history", ROLE_VIEWER,
	  api_templates_history, 0, "Versions and refused saves, newest first" },
	{ "GET", "/api/v1/templates/{id}/versions/{n}", ROLE_VIEWER,
	  api_templates_version, 0, "One version's text" },
	{ "POST", "/api/v1/templates/{id}/rollback", ROLE_ADMIN,
	  api_templates_rollback, 0,
	  "Make a new version with an old version's text" },

	{ "POST", "/api/v1/emergencies", ROLE_OPERATOR, api_emergencies_declare,
	  0, "Declare an emergency (?dry_run=true: the plan only)" },
	{ "GET", "/api/v1/emergencies", ROLE_VIEWER, api_emergencies_list, 0,
	  "List emergencies (?status=active&limit=&offset=)" },
	{ "GET", "/api/v1/emergencies/{id}", ROLE_VIEWER, api_emergencies_get,
	  0, "One emergency: revisions and coverage per tier and town" },
	{ "POST", "/api/v1/emergencies/{id}/revisions", ROLE_OPERATOR,
	  api_emergencies_revise, 0,
	  "Update: a new revision (?dry_run=true: the plan only)" },
	{ "POST", "/api/v1/emergencies/{id}/cancel", ROLE_OPERATOR,
	  api_emergencies_cancel, 0, "Cancel: every channel reached gets it" },
	{ "GET", "/api/v1/emergencies/{id}/deliveries", ROLE_VIEWER,
	  api_emergencies_deliveries, 0,
	  "Deliveries (?state=&town=&tier=&kind=&revision=&limit=&offset=)" },
};

const int http_route_count = sizeof http_routes / sizeof http_routes[0];
