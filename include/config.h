/* config: scicastd's settings, read from an INI file and then from
 * SCICAST_<SECTION>_<KEY> environment variables (which win). Every key is
 * one row of a table (config.c) with its type, bounds, default and help;
 * the parser, the validation and docs/config.md all come from that table. */
#ifndef SCICAST_CONFIG_H
#define SCICAST_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

/* Region levels, root first. Also the tiers of a message. */
enum level {
	LEVEL_PROVINCE = 1,
	LEVEL_CITY,
	LEVEL_COUNTY,
	LEVEL_TOWN,
	LEVEL_VILLAGE,
};
#define LEVEL_COUNT 5

/* The four warning colours, least severe first. */
enum severity { SEV_BLUE = 0, SEV_YELLOW, SEV_ORANGE, SEV_RED };
#define SEV_COUNT 4

struct severity_policy {
	unsigned tiers;          /* bit (1 << level) per level that is sent */
	int64_t resend_after_ms; /* 0: unacked villages are not re-sent */
	int resend_max;
	bool escalate;           /* call the town's escalation channels */
};

struct config {
	char *path;              /* the file read, for messages; may be NULL */
	char *dir;               /* its directory: relative paths start here */

	char *share_dir;         /* hazards.csv, templates/, library/, web/ */

	char *store_path;
	int64_t store_busy_timeout_ms;
	int store_max_pages;     /* 0: unlimited */
	bool store_fsync;

	char *http_host;
	int http_port;
	int http_threads;
	int64_t http_max_body;
	int64_t http_max_import_body;
	int64_t http_connection_timeout_ms;
	int http_max_connections;
	int64_t http_cache_ms;
	char *http_public_url;

	char *mqtt_host;
	int mqtt_port;
	int mqtt_protocol;       /* 3 (3.1.1) or 5 */
	char *mqtt_username;
	char *mqtt_password;
	char *mqtt_client_id;
	int64_t mqtt_keepalive_ms;
	char *mqtt_tls_ca;
	char *mqtt_tls_cert;
	char *mqtt_tls_key;
	char *mqtt_alert_prefix;
	char *mqtt_ack_prefix;
	char *mqtt_status_prefix;
	int mqtt_max_inflight;

	bool channels_auto_mqtt;

	bool auth_protect_health;

	unsigned approval_required;     /* bit (1 << severity) */
	int64_t approval_timeout_ms;
	bool approval_skip_drills;
	bool drills_escalate;

	int campaigns_quiet_start_min;  /* minutes after midnight */
	int campaigns_quiet_end_min;
	int64_t campaigns_notice_ttl_ms;

	int64_t webhooks_timeout_ms;
	int64_t webhooks_connect_timeout_ms;
	int webhooks_max_attempts;
	int64_t webhooks_retry_initial_ms;
	int64_t webhooks_retry_max_ms;
	int webhooks_retry_jitter;      /* percent */
	int webhooks_concurrency;       /* per endpoint, by default */
	int webhooks_max_connections;
	char *webhooks_ca_bundle;

	int log_level;

	char *templates_default_locale;
	int body_limit_city;     /* characters; province uses it too */
	int body_limit_town;     /* county uses it too */
	int body_limit_village;

	int library_notices_per_message;
	int library_summary_limit;      /* screen characters */

	char *cap_sender;
	char *cap_sender_code;
	char *cap_geocode_name;
	int64_t cap_default_duration_ms;

	char *notice_issuer, *notice_issuer_en;
	char *notice_contact, *notice_contact_en;
	char *notice_contact_tts, *notice_contact_tts_en;

	char *time_zone;         /* offset like +08:00 used in payloads */
	int tz_offset_min;

	struct severity_policy policy[SEV_COUNT];
};

/* Fills cfg with the defaults, then the file (if path is not NULL), then
 * the environment. Returns 0, or -1 with err->message "file:line: what"
 * (or "environment SCICAST_X: what"). */
int config_load(struct config *cfg, const char *path, struct err *err);
void config_free(struct config *cfg);

/* Resolves a path from the config against the config file's directory.
 * Returns a new string the caller frees, or NULL on out of memory. */
char *config_resolve_path(const struct config *cfg, const char *p);

/* Writes the key reference (markdown) that docs/config.md holds. */
void config_write_doc(FILE *out);

/* "22:00-07:00" → minutes after midnight; -1 on error. */
int config_parse_quiet(const char *s, int *start, int *end);

/* The body length limit of a tier (a level), in characters. */
int config_body_limit(const struct config *cfg, int level);

/* Names of levels and severities; -1 when unknown. */
int config_level_parse(const char *s, size_t len);
const char *config_level_name(int level);
int config_severity_parse(const char *s);
const char *config_severity_name(int sev);

#endif
