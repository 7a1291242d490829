/* config: the table of every key scicastd accepts, and the one parser that
 * walks it for the INI file (inih) and for the environment. A key's row
 * says where its value lives in struct config, its type and bounds, its
 * default and its help; docs/config.md is written from the same rows
 * (`scicastd config-doc`), so the documentation cannot drift from the code. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

enum key_type {
	KT_STRING,
	KT_PATH,      /* a string; relative to the config file's directory */
	KT_INT,
	KT_SIZE,      /* bytes, with an optional K/M/G suffix */
	KT_DURATION,  /* ms in memory; "500ms", "30s", "10m", "2h"; bare = s */
	KT_BOOL,
	KT_HOSTPORT,  /* host:port into two fields */
	KT_PROTOCOL,  /* 3.1.1 | 5 */
	KT_LOGLEVEL,
	KT_TIERS,     /* a comma list of levels, or "none" */
	KT_TZ,        /* +HH:MM */
	KT_SEVERITIES,/* a comma list of colours, or "none" */
	KT_QUIET,     /* HH:MM-HH:MM into two int fields */
};

struct config_key {
	const char *section;
	const char *key;
	enum key_type type;
	size_t offset;
	size_t offset2;   /* KT_HOSTPORT: the port; KT_TZ: the minutes */
	long long min, max;
	const char *def;
	const char *help;
};

#define OFF(f) offsetof(struct config, f)
#define POL(s, f) (offsetof(struct config, policy) + \
		   (s) * sizeof(struct severity_policy) + \
		   offsetof(struct severity_policy, f))

#define POLICY_KEYS(sec, s, d_tiers, d_resend, d_max, d_esc)                        \
	{ sec, "tiers", KT_TIERS, POL(s, tiers), 0, 0, 0, d_tiers,             \
	  "Levels this colour is sent to: a comma list of province, city, "  \
	  "county, town, village (or `none`)." },                            \
	{ sec, "resend_after", KT_DURATION, POL(s, resend_after_ms), 0, 0,   \
	  86400000LL, d_resend,                                                \
	  "A village delivery sent but not acked this long is published "    \
	  "again (same message_id); 0 turns re-sending off." },              \
	{ sec, "resend_max", KT_INT, POL(s, resend_max), 0, 0, 100, d_max,    \
	  "How many times an unacked village delivery is re-sent." },        \
	{ sec, "escalate", KT_BOOL, POL(s, escalate), 0, 0, 0, d_esc,          \
	  "After the last re-send, call the town's escalation channels with " \
	  "the silent villages." }

static const struct config_key config_keys[] = {
	{ "paths", "share", KT_PATH, OFF(share_dir), 0, 0, 0,
	  "/usr/local/share/scicast",
	  "Directory holding `data/` (hazards, severities), `templates/`, "
	  "`library/` and `web/`." },

	{ "store", "path", KT_PATH, OFF(store_path), 0, 0, 0,
	  "/var/lib/scicast/scicast.db",
	  "The SQLite database file (WAL mode; `-wal` and `-shm` files sit "
	  "beside it)." },
	{ "store", "busy_timeout", KT_DURATION, OFF(store_busy_timeout_ms), 0,
	  0, 600000, "5s",
	  "How long a statement waits for another connection's write lock." },
	{ "store", "fsync", KT_BOOL, OFF(store_fsync), 0, 0, 0, "true",
	  "Every change through the API or the scheduler is on disk before it "
	  "is answered (a declaration answered 201 survives a power cut, not "
	  "only a crash of scicastd). The senders' marks (sent, acked) never "
	  "wait for the disk: losing one costs a re-send. false: changes wait "
	  "only for the WAL (faster; a power cut may lose the last seconds)." },
	{ "store", "max_pages", KT_INT, OFF(store_max_pages), 0, 0, 2147483647,
	  "0",
	  "The most pages (32 KiB each; 4 KiB in a database created before "
	  "2026-11-29) the database may grow to (SQLite's "
	  "`max_page_count`): a write that needs more is refused with 507 and "
	  "stores nothing, before the disk itself fills. 0: no limit but the "
	  "disk's." },

	{ "http", "listen", KT_HOSTPORT, OFF(http_host), OFF(http_port), 0, 0,
	  "127.0.0.1:8080",
	  "Address and port of the API and console (`host:port`, `[v6]:port`; "
	  "port 0 picks a free one and logs it)." },
	{ "http", "threads", KT_INT, OFF(http_threads), 0, 1, 64, "4",
	  "Worker threads answering requests; each has its own database "
	  "connection." },
	{ "http", "max_body", KT_SIZE, OFF(http_max_body), 0, 1024,
	  1LL << 30, "1M",
	  "Largest request body; larger ones get 413." },
	{ "http", "max_import_body", KT_SIZE, OFF(http_max_import_body), 0,
	  1024, 4LL << 30, "256M",
	  "Largest body of `POST /api/v1/regions/import` (a national region "
	  "file is about 40 MB)." },
	{ "http", "connection_timeout", KT_DURATION,
	  OFF(http_connection_timeout_ms), 0, 1000, 3600000, "30s",
	  "An idle connection, or one that takes longer than this to send "
	  "its request (a body gets a second more per 64 KiB), is closed." },
	{ "http", "cache_ms", KT_DURATION, OFF(http_cache_ms), 0, 0, 60000,
	  "250ms",
	  "How long an emergency's answer (with its coverage) may be served "
	  "again to other readers; any change through the API makes it stale "
	  "at once. Coverage counts lag by at most this. 0: never." },
	{ "http", "max_connections", KT_INT, OFF(http_max_connections), 0, 1,
	  100000, "512", "Connections served at once; more are refused." },
	{ "http", "public_url", KT_STRING, OFF(http_public_url), 0, 0, 0, "",
	  "The URL people reach the daemon at, used in links (notice URLs, "
	  "CAP resources); empty: `http://` + listen." },

	{ "mqtt", "host", KT_STRING, OFF(mqtt_host), 0, 0, 0, "127.0.0.1",
	  "The MQTT broker." },
	{ "mqtt", "port", KT_INT, OFF(mqtt_port), 0, 1, 65535, "1883",
	  "The broker's port." },
	{ "mqtt", "protocol", KT_PROTOCOL, OFF(mqtt_protocol), 0, 0, 0, "5",
	  "MQTT version: `3.1.1` or `5` (5 sets the message expiry "
	  "interval from the alert's expiry)." },
	{ "mqtt", "username", KT_STRING, OFF(mqtt_username), 0, 0, 0, "",
	  "User name for the broker; empty: none." },
	{ "mqtt", "password", KT_STRING, OFF(mqtt_password), 0, 0, 0, "",
	  "Password for the broker (prefer the environment variable)." },
	{ "mqtt", "client_id", KT_STRING, OFF(mqtt_client_id), 0, 0, 0,
	  "scicastd", "MQTT client id; two daemons on one broker need two ids." },
	{ "mqtt", "keepalive", KT_DURATION, OFF(mqtt_keepalive_ms), 0, 5000,
	  3600000, "30s", "MQTT keep-alive interval." },
	{ "mqtt", "tls_ca", KT_PATH, OFF(mqtt_tls_ca), 0, 0, 0, "",
	  "CA bundle to verify the broker; set to use TLS." },
	{ "mqtt", "tls_cert", KT_PATH, OFF(mqtt_tls_cert), 0, 0, 0, "",
	  "Client certificate for TLS (with `tls_key`)." },
	{ "mqtt", "tls_key", KT_PATH, OFF(mqtt_tls_key), 0, 0, 0, "",
	  "Client key for TLS." },
	{ "mqtt", "alert_prefix", KT_STRING, OFF(mqtt_alert_prefix), 0, 0, 0,
	  "scicast/v1/alerts",
	  "Topic prefix of alerts: `{prefix}/{city}/{town}/{village}`." },
	{ "mqtt", "ack_prefix", KT_STRING, OFF(mqtt_ack_prefix), 0, 0, 0,
	  "scicast/v1/acks",
	  "Screens publish their acks on `{ack_prefix}/{region code}`." },
	{ "mqtt", "status_prefix", KT_STRING, OFF(mqtt_status_prefix), 0, 0, 0,
	  "scicast/v1/status",
	  "Screens publish presence (retained) on "
	  "`{status_prefix}/{region code}/{screen id}`." },
	{ "mqtt", "max_inflight", KT_INT, OFF(mqtt_max_inflight), 0, 1, 65535,
	  "1000", "QoS 1 publishes awaiting their PUBACK at once." },

	{ "channels", "auto_mqtt", KT_BOOL, OFF(channels_auto_mqtt), 0, 0, 0,
	  "true",
	  "Every region gets an MQTT channel on its default topic without "
	  "anyone creating it." },

	{ "auth", "protect_health", KT_BOOL, OFF(auth_protect_health), 0, 0, 0,
	  "false",
	  "/healthz and /metrics need a viewer token too (they are open by "
	  "default, for load balancers and Prometheus)." },

	{ "approval", "required", KT_SEVERITIES, OFF(approval_required), 0, 0,
	  0, "red",
	  "Colours whose declarations (and updates to them) wait for a second "
	  "operator's approval before anything is sent (`none`: never). CAP "
	  "taken in from the upstream warning system is not held: the "
	  "upstream office has approved it." },
	{ "approval", "timeout", KT_DURATION, OFF(approval_timeout_ms), 0,
	  5000, 86400000, "30m",
	  "A request nobody approved in this time lapses (nothing is sent)." },
	{ "approval", "skip_drills", KT_BOOL, OFF(approval_skip_drills), 0, 0, 0,
	  "true", "Drills (exercise) go out without approval." },
	{ "drills", "escalate", KT_BOOL, OFF(drills_escalate), 0, 0, 0, "false",
	  "Drills call the towns' escalation channels like real alerts (by "
	  "default they do not: an escalation sends people out)." },
	{ "campaigns", "quiet_hours", KT_QUIET, OFF(campaigns_quiet_start_min),
	  OFF(campaigns_quiet_end_min), 0, 0, "22:00-07:00",
	  "When no campaign message is sent (a region may set its own); "
	  "emergencies ignore quiet hours. `none` for never." },
	{ "campaigns", "notice_ttl", KT_DURATION, OFF(campaigns_notice_ttl_ms),
	  0, 60000, 2592000000LL, "1d",
	  "How long a campaign message stays on a screen (its expiry)." },

	{ "webhooks", "timeout", KT_DURATION, OFF(webhooks_timeout_ms), 0, 100,
	  600000, "10s",
	  "How long a webhook request may take (a channel's timeout_ms "
	  "overrides it)." },
	{ "webhooks", "connect_timeout", KT_DURATION,
	  OFF(webhooks_connect_timeout_ms), 0, 100, 120000, "5s",
	  "How long connecting to a webhook endpoint may take." },
	{ "webhooks", "max_attempts", KT_INT, OFF(webhooks_max_attempts), 0, 1,
	  100, "8",
	  "Attempts before a webhook delivery is dead (visible, re-drivable)." },
	{ "webhooks", "retry_initial", KT_DURATION,
	  OFF(webhooks_retry_initial_ms), 0, 10, 86400000, "10s",
	  "Wait before the second attempt; each next wait doubles." },
	{ "webhooks", "retry_max", KT_DURATION, OFF(webhooks_retry_max_ms), 0,
	  10, 86400000, "30m", "The longest wait between two attempts." },
	{ "webhooks", "retry_jitter", KT_INT, OFF(webhooks_retry_jitter), 0, 0,
	  100, "20",
	  "Each wait is moved by up to this many percent either way, so "
	  "failed endpoints are not all retried at once." },
	{ "webhooks", "concurrency", KT_INT, OFF(webhooks_concurrency), 0, 1,
	  256, "8",
	  "Requests in flight to one endpoint at once (a channel's "
	  "max_concurrency overrides it)." },
	{ "webhooks", "max_connections", KT_INT, OFF(webhooks_max_connections),
	  0, 1, 10000, "256", "Webhook connections open at once, in all." },
	{ "webhooks", "ca_bundle", KT_PATH, OFF(webhooks_ca_bundle), 0, 0, 0,
	  "",
	  "A CA bundle for endpoints with a private CA (TLS is always "
	  "verified); empty: the system's." },

	{ "log", "level", KT_LOGLEVEL, OFF(log_level), 0, 0, 0, "info",
	  "`error`, `warn`, `info` or `debug`; reloaded on SIGHUP." },

	{ "templates", "default_locale", KT_STRING,
	  OFF(templates_default_locale), 0, 0, 0, "zh-CN",
	  "The locale a template lookup falls back to when a channel's "
	  "locale has no template." },
	{ "templates", "city_body_limit", KT_INT, OFF(body_limit_city), 0, 20,
	  100000, "1200",
	  "Characters a city (and province) body may have before saving it "
	  "warns." },
	{ "templates", "town_body_limit", KT_INT, OFF(body_limit_town), 0, 20,
	  100000, "600",
	  "Characters a town (and county) body may have before saving it "
	  "warns." },
	{ "templates", "village_body_limit", KT_INT, OFF(body_limit_village), 0,
	  20, 100000, "160",
	  "Characters a village body may have before saving it warns: a "
	  "village screen shows about three lines." },

	{ "library", "notices_per_message", KT_INT,
	  OFF(library_notices_per_message), 0, 0, 10, "3",
	  "Science notices a message carries: the channel's audience first, "
	  "general ones filling up." },
	{ "library", "summary_limit", KT_INT, OFF(library_summary_limit), 0, 10,
	  1000, "60",
	  "The longest summary a notice may have, in screen characters (a "
	  "Chinese character 1, a Latin letter ½): what a village screen "
	  "shows." },

	{ "cap", "sender", KT_STRING, OFF(cap_sender), 0, 0, 0,
	  "yjglj@zs.gov.cn",
	  "The CAP <sender> of exported alerts (an address that names the "
	  "office)." },
	{ "cap", "sender_code", KT_STRING, OFF(cap_sender_code), 0, 0, 0,
	  "44200041600000",
	  "The office's code, the first part of each exported CAP "
	  "identifier ({code}_{time}_{emergency}-{revision})." },
	{ "cap", "geocode_name", KT_STRING, OFF(cap_geocode_name), 0, 0, 0,
	  "CPEAS Geographic Code",
	  "The <valueName> of the geocode carrying a region's 12-digit code "
	  "(the name China's national early-warning system uses); ingest "
	  "accepts it, and any geocode whose value is a 12-digit code." },
	{ "cap", "default_duration", KT_DURATION, OFF(cap_default_duration_ms),
	  0, 60000, 2592000000LL, "24h",
	  "How long an ingested alert without <expires> lasts." },

	{ "notice", "issuer", KT_STRING, OFF(notice_issuer), 0, 0, 0,
	  "中山市应急管理局",
	  "Who issues the notices (`emergency.issuer` in Chinese templates)." },
	{ "notice", "issuer_en", KT_STRING, OFF(notice_issuer_en), 0, 0, 0,
	  "Zhongshan Emergency Management Bureau",
	  "`emergency.issuer` in other locales." },
	{ "notice", "contact", KT_STRING, OFF(notice_contact), 0, 0, 0,
	  "如有险情请拨打110、119、120，咨询请拨打12345",
	  "The contact line of Chinese notices (`contact`)." },
	{ "notice", "contact_en", KT_STRING, OFF(notice_contact_en), 0, 0, 0,
	  "In danger call 110, 119 or 120; for information call 12345",
	  "`contact` in other locales." },
	{ "notice", "contact_tts", KT_STRING, OFF(notice_contact_tts), 0, 0, 0,
	  "如有险情请拨打幺幺零、幺幺九、幺二零，咨询请拨打幺二三四五",
	  "The contact line as it is read aloud (`contact_tts`): numbers "
	  "written as they are spoken." },
	{ "notice", "contact_tts_en", KT_STRING, OFF(notice_contact_tts_en), 0,
	  0, 0,
	  "In danger call one one zero, one one nine or one two zero; for "
	  "information call one two three four five",
	  "`contact_tts` in other locales." },

	{ "time", "offset", KT_TZ, OFF(time_zone), OFF(tz_offset_min), 0, 0,
	  "+08:00",
	  "UTC offset of the times written in payloads and notices." },

	POLICY_KEYS("policy.blue", SEV_BLUE, "province,city,county,town", "0",
		    "0", "false"),
	POLICY_KEYS("policy.yellow", SEV_YELLOW,
		    "province,city,county,town,village", "10m", "3", "false"),
	POLICY_KEYS("policy.orange", SEV_ORANGE,
		    "province,city,county,town,village", "5m", "3", "false"),
	POLICY_KEYS("policy.red", SEV_RED,
		    "province,city,county,town,village", "2m", "3", "true"),
};

#define N_KEYS (sizeof config_keys / sizeof config_keys[0])

static const char *const level_names[] = {
	NULL, "province", "city", "county", "town", "village",
};

int config_level_parse(const char *s, size_t len)
{
	for (int i = LEVEL_PROVINCE; i <= LEVEL_VILLAGE; i++)
		if (strlen(level_names[i]) == len &&
		    memcmp(level_names[i], s, len) == 0)
			return i;
	return -1;
}

const char *config_level_name(int level)
{
	if (level < LEVEL_PROVINCE || level > LEVEL_VILLAGE)
		return "?";
	return level_names[level];
}

static int hhmm(const char *s, int *out)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    s[2] != ':' || !isdigit((unsigned char)s[3]) ||
	    !isdigit((unsigned char)s[4]))
		return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0');
	int m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 23 || m > 59)
		return -1;
	*out = h * 60 + m;
	return 0;
}

int config_parse_quiet(const char *s, int *start, int *end)
{
	if (strlen(s) != 11 || s[5] != '-' || hhmm(s, start) < 0 ||
	    hhmm(s + 6, end) < 0 || *start == *end)
		return -1;
	return 0;
}

int config_body_limit(const struct config *cfg, int level)
{
	if (level <= LEVEL_CITY)
		return cfg->body_limit_city;
	if (level <= LEVEL_TOWN)
		return cfg->body_limit_town;
	return cfg->body_limit_village;
}

static const char *const severity_names[] = { "blue", "yellow", "orange",
					      "red" };

int config_severity_parse(const char *s)
{
	for (int i = 0; i < SEV_COUNT; i++)
		if (strcmp(s, severity_names[i]) == 0)
			return i;
	return -1;
}

const char *config_severity_name(int sev)
{
	return (sev >= 0 && sev < SEV_COUNT) ? severity_names[sev] : "?";
}

/* ---- value parsers: each returns 0, or -1 with why in msg ---- */

static int parse_tiers(const char *v, unsigned *out, char *msg, size_t cap)
{
	unsigned mask = 0;
	if (strcmp(v, "none") == 0 || *v == '\0') {
		*out = 0;
		return 0;
	}
	const char *p = v;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *s = p;
		while (*p && *p != ',' && *p != ' ')
			p++;
		if (p == s)
			break;
		int lvl = config_level_parse(s, (size_t)(p - s));
		if (lvl < 0) {
			snprintf(msg, cap,
				 "unknown level \"%.*s\" (expected province, "
				 "city, county, town, village or none)",
				 (int)(p - s), s);
			return -1;
		}
		mask |= 1u << lvl;
	}
	*out = mask;
	return 0;
}

static int parse_tz(const char *v, int *minutes, char *msg, size_t cap)
{
	int sign = 0, hh = 0, mm = 0;
	if ((v[0] == '+' || v[0] == '-') && isdigit((unsigned char)v[1]) &&
	    isdigit((unsigned char)v[2]) && v[3] == ':' &&
	    isdigit((unsigned char)v[4]) && isdigit((unsigned char)v[5]) &&
	    v[6] == '\0') {
		sign = v[0] == '-' ? -1 : 1;
		hh = (v[1] - '0') * 10 + (v[2] - '0');
		mm = (v[4] - '0') * 10 + (v[5] - '0');
	}
	if (!sign || hh > 14 || mm > 59) {
		snprintf(msg, cap, "\"%s\" is not an offset like +08:00", v);
		return -1;
	}
	*minutes = sign * (hh * 60 + mm);
	return 0;
}

static int set_string(char **slot, const char *v, char *msg, size_t cap)
{
	char *dup = strdup(v);
	if (!dup) {
		snprintf(msg, cap, "out of memory");
		return -1;
	}
	free(*slot);
	*slot = dup;
	return 0;
}

static int apply_value(struct config *cfg, const struct config_key *k,
		       const char *v, char *msg, size_t cap)
{
	char *base = (char *)cfg;
	long long n;
	int64_t i64;
	switch (k->type) {
	case KT_STRING:
	case KT_PATH:
		if (!util_utf8_valid(v, strlen(v))) {
			snprintf(msg, cap, "value is not valid UTF-8");
			return -1;
		}
		return set_string((char **)(base + k->offset), v, msg, cap);
	case KT_INT:
		if (util_parse_ll(v, k->min, k->max, &n) < 0) {
			snprintf(msg, cap,
				 "\"%s\" is not a whole number from %lld to %lld",
				 v, k->min, k->max);
			return -1;
		}
		*(int *)(base + k->offset) = (int)n;
		return 0;
	case KT_SIZE:
		if (util_parse_size(v, &i64) < 0 || i64 < k->min ||
		    i64 > k->max) {
			snprintf(msg, cap,
				 "\"%s\" is not a size from %lld to %lld bytes "
				 "(e.g. 512K, 1M)", v, k->min, k->max);
			return -1;
		}
		*(int64_t *)(base + k->offset) = i64;
		return 0;
	case KT_DURATION:
		if (util_parse_duration_ms(v, &i64) < 0 || i64 < k->min ||
		    i64 > k->max) {
			snprintf(msg, cap,
				 "\"%s\" is not a duration from %lldms to "
				 "%llds (e.g. 30s, 10m)", v, k->min,
				 k->max / 1000);
			return -1;
		}
		*(int64_t *)(base + k->offset) = i64;
		return 0;
	case KT_BOOL:
		if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 ||
		    strcmp(v, "on") == 0 || strcmp(v, "1") == 0)
			*(bool *)(base + k->offset) = true;
		else if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0 ||
			 strcmp(v, "off") == 0 || strcmp(v, "0") == 0)
			*(bool *)(base + k->offset) = false;
		else {
			snprintf(msg, cap, "\"%s\" is not true or false", v);
			return -1;
		}
		return 0;
	case KT_HOSTPORT: {
		char *host = NULL;
		int port = 0;
		if (util_parse_hostport(v, &host, &port) < 0) {
			snprintf(msg, cap,
				 "\"%s\" is not host:port (e.g. 127.0.0.1:8080)",
				 v);
			return -1;
		}
		free(*(char **)(base + k->offset));
		*(char **)(base + k->offset) = host;
		*(int *)(base + k->offset2) = port;
		return 0;
	}
	case KT_PROTOCOL:
		if (strcmp(v, "3.1.1") == 0 || strcmp(v, "3") == 0)
			*(int *)(base + k->offset) = 3;
		else if (strcmp(v, "5") == 0 || strcmp(v, "5.0") == 0)
			*(int *)(base + k->offset) = 5;
		else {
			snprintf(msg, cap, "\"%s\" is not 3.1.1 or 5", v);
			return -1;
		}
		return 0;
	case KT_LOGLEVEL: {
		int lvl = log_level_parse(v);
		if (lvl < 0) {
			snprintf(msg, cap,
				 "\"%s\" is not error, warn, info or debug", v);
			return -1;
		}
		*(int *)(base + k->offset) = lvl;
		return 0;
	}
	case KT_TIERS:
		return parse_tiers(v, (unsigned *)(base + k->offset), msg, cap);
	case KT_SEVERITIES: {
		unsigned mask = 0;
		if (strcmp(v, "none") != 0 && *v) {
			char copy[128];
			snprintf(copy, sizeof copy, "%s", v);
			char *save = NULL;
			for (char *t = strtok_r(copy, ", ", &save); t;
			     t = strtok_r(NULL, ", ", &save)) {
				int sev = config_severity_parse(t);
				if (sev < 0) {
					snprintf(msg, cap, "unknown colour \"%.20s\" "
						 "(blue, yellow, orange, red or "
						 "none)", t);
					return -1;
				}
				mask |= 1u << sev;
			}
		}
		*(unsigned *)(base + k->offset) = mask;
		return 0;
	}
	case KT_QUIET: {
		int a = -1, b = -1;
		if (strcmp(v, "none") != 0 && config_parse_quiet(v, &a, &b) < 0) {
			snprintf(msg, cap, "\"%s\" is not HH:MM-HH:MM (or none)", v);
			return -1;
		}
		*(int *)(base + k->offset) = a;
		*(int *)(base + k->offset2) = b;
		return 0;
	}
	case KT_TZ: {
		int minutes;
		if (parse_tz(v, &minutes, msg, cap) < 0)
			return -1;
		*(int *)(base + k->offset2) = minutes;
		return set_string((char **)(base + k->offset), v, msg, cap);
	}
	}
	snprintf(msg, cap, "internal: unknown key type");
	return -1;
}

static const struct config_key *find_key(const char *section, const char *key)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(config_keys[i].section, section) == 0 &&
		    strcmp(config_keys[i].key, key) == 0)
			return &config_keys[i];
	return NULL;
}

static bool section_known(const char *section)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(config_keys[i].section, section) == 0)
			return true;
	return false;
}

struct ini_state {
	struct config *cfg;
	char first_error[400];
	bool failed;
};

/* inih calls this per key; it cannot tell us the line, but ini_parse
 * returns the line of the first error, so we keep only the first message. */
static int on_ini_key(void *ud, const char *section, const char *name,
		       const char *value)
{
	struct ini_state *st = ud;
	char msg[300];
	if (st->failed)
		return 0;
	if (!name) /* a section header with no keys yet */
		return 1;
	const struct config_key *k = find_key(section, name);
	if (!k) {
		if (!section_known(section))
			snprintf(st->first_error, sizeof st->first_error,
				 "unknown section [%s]", section);
		else
			snprintf(st->first_error, sizeof st->first_error,
				 "unknown key \"%s\" in [%s]", name, section);
		st->failed = true;
		return 0;
	}
	if (apply_value(st->cfg, k, value, msg, sizeof msg) < 0) {
		snprintf(st->first_error, sizeof st->first_error, "[%s] %s: %s",
			 section, name, msg);
		st->failed = true;
		return 0;
	}
	return 1;
}

static void env_name(const struct config_key *k, char *out, size_t cap)
{
	size_t n = 0;
	const char *parts[2] = { k->section, k->key };
	int w = snprintf(out, cap, "SCICAST_");
	n = w > 0 ? (size_t)w : 0;
	for (int p = 0; p < 2; p++) {
		for (const char *c = parts[p]; *c && n + 2 < cap; c++)
			out[n++] = isalnum((unsigned char)*c)
					   ? (char)toupper((unsigned char)*c)
					   : '_';
		if (p == 0 && n + 2 < cap)
			out[n++] = '_';
	}
	out[n] = '\0';
}

/* The environment names the CLI reads; not config keys, not typos. */
static bool env_is_cli(const char *name, size_t len)
{
	static const char *const cli[] = { "SCICAST_URL", "SCICAST_TOKEN",
					   "SCICAST_SHARED", "SCICAST_CONFIG" };
	for (size_t i = 0; i < sizeof cli / sizeof cli[0]; i++)
		if (strlen(cli[i]) == len && memcmp(cli[i], name, len) == 0)
			return true;
	return false;
}

extern char **environ;

static int apply_environment(struct config *cfg, struct err *err)
{
	char name[128], msg[300];
	for (size_t i = 0; i < N_KEYS; i++) {
		env_name(&config_keys[i], name, sizeof name);
		const char *v = getenv(name);
		if (!v)
			continue;
		if (apply_value(cfg, &config_keys[i], v, msg, sizeof msg) < 0) {
			err_set(err, 0, "config", name, "environment %s: %s",
				name, msg);
			return -1;
		}
	}
	for (char **e = environ; e && *e; e++) {
		if (strncmp(*e, "SCICAST_", 8) != 0)
			continue;
		const char *eq = strchr(*e, '=');
		size_t len = eq ? (size_t)(eq - *e) : strlen(*e);
		bool known = env_is_cli(*e, len);
		for (size_t i = 0; i < N_KEYS && !known; i++) {
			env_name(&config_keys[i], name, sizeof name);
			known = strlen(name) == len &&
				memcmp(name, *e, len) == 0;
		}
		if (!known)
			log_warn("ignoring environment variable %.*s: not a "
				 "configuration key", (int)len, *e);
	}
	return 0;
}

static int apply_defaults(struct config *cfg, struct err *err)
{
	char msg[300];
	for (size_t i = 0; i < N_KEYS; i++) {
		if (apply_value(cfg, &config_keys[i], config_keys[i].def, msg,
				sizeof msg) < 0) {
			err_set(err, 0, "config", "", "default of [%s] %s: %s",
				config_keys[i].section, config_keys[i].key, msg);
			return -1;
		}
	}
	return 0;
}

/* Checks across keys that no single row can check. */
static int validate(struct config *cfg, const char *where, struct err *err)
{
	const char *prefixes[] = { cfg->mqtt_alert_prefix, cfg->mqtt_ack_prefix,
				   cfg->mqtt_status_prefix };
	const char *names[] = { "alert_prefix", "ack_prefix", "status_prefix" };
	for (int i = 0; i < 3; i++) {
		const char *p = prefixes[i];
		size_t len = strlen(p);
		if (len == 0 || strpbrk(p, "+#") || p[len - 1] == '/' ||
		    p[0] == '/') {
			err_set(err, 0, "config", names[i],
				"%s: [mqtt] %s \"%s\" must be a topic without "
				"wildcards and without a leading or trailing /",
				where, names[i], p);
			return -1;
		}
	}
	if ((cfg->mqtt_tls_cert[0] != '\0') != (cfg->mqtt_tls_key[0] != '\0')) {
		err_set(err, 0, "config", "tls_cert",
			"%s: [mqtt] tls_cert and tls_key go together", where);
		return -1;
	}
	if (!strchr(cfg->templates_default_locale, '-') &&
	    strlen(cfg->templates_default_locale) > 3) {
		err_set(err, 0, "config", "default_locale",
			"%s: [templates] default_locale \"%s\" is not a language "
			"tag like zh-CN", where, cfg->templates_default_locale);
		return -1;
	}
	if (cfg->store_path[0] == '\0') {
		err_set(err, 0, "config", "path", "%s: [store] path is empty",
			where);
		return -1;
	}
	for (int s = 0; s < SEV_COUNT; s++)
		if (cfg->policy[s].tiers == 0)
			log_warn("%s: [policy.%s] tiers is empty: %s alerts will "
				 "reach no one", where, config_severity_name(s),
				 config_severity_name(s));
	return 0;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int config_load(struct config *cfg, const char *path, struct err *err)
{
	memset(cfg, 0, sizeof *cfg);
	if (apply_defaults(cfg, err) < 0)
		return -1;
	if (path) {
		cfg->path = strdup(path);
		cfg->dir = dir_of(path);
		if (!cfg->path || !cfg->dir) {
			err_oom(err);
			return -1;
		}
		FILE *f = fopen(path, "r");
		if (!f) {
			err_set(err, 0, "config", "", "%s: %s", path,
				strerror(errno));
			return -1;
		}
		struct ini_state st = { .cfg = cfg };
		int line = ini_parse_file(f, on_ini_key, &st);
		fclose(f);
		if (line != 0) {
			if (line > 0 && !st.failed)
				snprintf(st.first_error, sizeof st.first_error,
					 "syntax error (expected [section] or "
					 "key = value)");
			err_set(err, 0, "config", "", "%s:%d: %s", path,
				line > 0 ? line : 0, st.first_error);
			return -1;
		}
	} else {
		cfg->dir = strdup(".");
		if (!cfg->dir) {
			err_oom(err);
			return -1;
		}
	}
	if (apply_environment(cfg, err) < 0)
		return -1;
	return validate(cfg, path ? path : "defaults", err);
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct config_key *k = &config_keys[i];
		if (k->type == KT_STRING || k->type == KT_PATH ||
		    k->type == KT_HOSTPORT || k->type == KT_TZ) {
			char **slot = (char **)((char *)cfg + k->offset);
			free(*slot);
			*slot = NULL;
		}
	}
	free(cfg->path);
	free(cfg->dir);
	cfg->path = cfg->dir = NULL;
}

char *config_resolve_path(const struct config *cfg, const char *p)
{
	if (!p || p[0] == '/' || p[0] == '\0' || !cfg->dir)
		return strdup(p ? p : "");
	size_t n = strlen(cfg->dir) + 1 + strlen(p) + 1;
	char *out = malloc(n);
	if (!out)
		return NULL;
	snprintf(out, n, "%s/%s", cfg->dir, p);
	return out;
}

static const char *type_doc(enum key_type t)
{
	switch (t) {
	case KT_STRING: return "string";
	case KT_PATH: return "path";
	case KT_INT: return "integer";
	case KT_SIZE: return "size";
	case KT_DURATION: return "duration";
	case KT_BOOL: return "boolean";
	case KT_HOSTPORT: return "host:port";
	case KT_PROTOCOL: return "`3.1.1` \\| `5`";
	case KT_LOGLEVEL: return "level";
	case KT_TIERS: return "levels";
	case KT_TZ: return "offset";
	case KT_SEVERITIES: return "colours";
	case KT_QUIET: return "HH:MM-HH:MM";
	}
	return "?";
}

void config_write_doc(FILE *out)
{
	const char *section = "";
	char name[128];
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct config_key *k = &config_keys[i];
		if (strcmp(section, k->section) != 0) {
			section = k->section;
			fprintf(out, "\n### [%s]\n\n", section);
			fprintf(out, "| key | type | default | environment | "
				     "meaning |\n|---|---|---|---|---|\n");
		}
		env_name(k, name, sizeof name);
		fprintf(out, "| `%s` | %s", k->key, type_doc(k->type));
		if (k->type == KT_INT)
			fprintf(out, " (%lld–%lld)", k->min, k->max);
		fprintf(out, " | `%s` | `%s` | %s |\n", k->def, name, k->help);
	}
}
