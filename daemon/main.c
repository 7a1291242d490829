/* main: scicastd's command line, start-up and shutdown. Start-up checks
 * everything it can before it serves (configuration, catalogues,
 * database and schema, the listen port) and stops with one clear line if
 * something is wrong. Signals are blocked in every thread and taken by the
 * main thread with sigtimedwait, so no code runs in a signal handler. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "approvals.h"
#include "campaigns.h"
#include "audit.h"
#include "auth.h"
#include "cap.h"
#include "catalog.h"
#include "channels.h"
#include "config.h"
#include "http.h"
#include "library.h"
#include "log.h"
#include "emergency.h"
#include "metrics.h"
#include "mqtt.h"
#include "escalation.h"
#include "webhook.h"
#include "outbox.h"
#include "regions.h"
#include "respcache.h"
#include "sdnotify.h"
#include "store.h"
#include "templates.h"
#include "util.h"
#include "version.h"

#define EXIT_USAGE 2
#define DEFAULT_CONFIG "/etc/scicast/scicast.conf"

struct cmd {
	const char *name;
	const char *usage;
	const char *help;
	int (*exec)(const char *config_path, int argc, char **argv);
};

static int cmd_run(const char *config_path, int argc, char **argv);
static int cmd_check_config(const char *config_path, int argc, char **argv);
static int cmd_import_regions(const char *config_path, int argc, char **argv);
static int cmd_config_doc(const char *config_path, int argc, char **argv);
static int cmd_routes(const char *config_path, int argc, char **argv);
static int cmd_token(const char *config_path, int argc, char **argv);

static const struct cmd commands[] = {
	{ "run", "run", "serve the API and send alerts (the default)", cmd_run },
	{ "check-config", "check-config",
	  "check the configuration, the catalogues and the database, then "
	  "exit", cmd_check_config },
	{ "import-regions", "import-regions FILE",
	  "import a region CSV (code,name,level,parent_code) into the "
	  "database, all or nothing", cmd_import_regions },
	{ "config-doc", "config-doc",
	  "print the reference of every configuration key (markdown)",
	  cmd_config_doc },
	{ "token", "token create|list|revoke",
	  "manage API tokens in the database directly (token --help)",
	  cmd_token },
	{ "routes", "routes", "print the API routes and their roles (markdown)",
	  cmd_routes },
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: scicastd [-c FILE] [COMMAND [ARGS]]\n"
		"\n"
		"scicast daemon: keeps the emergency science resource library "
		"and pushes\ntiered emergency notices over MQTT and webhooks.\n"
		"\nCommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-22s %s\n", commands[i].usage, commands[i].help);
	fprintf(out,
		"\nOptions:\n"
		"  -c, --config FILE      configuration file (default: "
		"$SCICAST_CONFIG, else\n"
		"                         " DEFAULT_CONFIG " if it exists, "
		"else built-in defaults)\n"
		"      --check-config     same as the check-config command\n"
		"  -h, --help             this help\n"
		"  -V, --version          print the version\n"
		"\nEvery key can also be set by SCICAST_<SECTION>_<KEY> "
		"(e.g. SCICAST_HTTP_LISTEN=127.0.0.1:8080).\n"
		"Exit status: 0 ok, 1 runtime failure, 2 usage or "
		"configuration error.\n");
}

/* Picks the configuration file: -c, $SCICAST_CONFIG, the default path if
 * it exists, or none (built-in defaults and the environment). */
static const char *config_choose(const char *given)
{
	if (given)
		return given;
	const char *env = getenv("SCICAST_CONFIG");
	if (env && *env)
		return env;
	struct stat sb;
	if (stat(DEFAULT_CONFIG, &sb) == 0)
		return DEFAULT_CONFIG;
	return NULL;
}

static int load_config(const char *path, struct config *cfg)
{
	struct err err;
	err_clear(&err);
	if (config_load(cfg, path, &err) < 0) {
		log_error("%s", err.message);
		config_free(cfg);
		return -1;
	}
	log_set_level((enum log_level)cfg->log_level);
	return 0;
}

/* Resolves the relative paths of the config against its directory. */
static int resolve_paths(struct config *cfg)
{
	char **paths[] = { &cfg->share_dir, &cfg->store_path, &cfg->mqtt_tls_ca,
			   &cfg->mqtt_tls_cert, &cfg->mqtt_tls_key,
			   &cfg->webhooks_ca_bundle };
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		if (!**paths[i])
			continue;
		char *abs = config_resolve_path(cfg, *paths[i]);
		if (!abs)
			return -1;
		free(*paths[i]);
		*paths[i] = abs;
	}
	return 0;
}

static int load_catalog(const struct config *cfg)
{
	char dir[1100];
	struct err err;
	snprintf(dir, sizeof dir, "%s/data", cfg->share_dir);
	if (catalog_load(dir, &err) < 0) {
		log_error("%s (is [paths] share right? it is %s)", err.message,
			  cfg->share_dir);
		return -1;
	}
	return 0;
}

static int open_store(const struct config *cfg, struct store **out)
{
	struct err err;
	if (store_open(cfg->store_path, cfg->store_busy_timeout_ms, out,
		       &err) < 0) {
		log_error("%s", err.message);
		return -1;
	}
	if (store_migrate(*out, &err) < 0) {
		log_error("database %s: %s", cfg->store_path, err.message);
		store_close(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* Everything a run or a check needs before it can serve. */
static int prepare(const char *config_path, struct config *cfg,
		   struct store **store)
{
	if (load_config(config_path, cfg) < 0)
		return EXIT_USAGE;
	if (resolve_paths(cfg) < 0) {
		log_error("out of memory");
		config_free(cfg);
		return EXIT_FAILURE;
	}
	util_set_local_offset(cfg->tz_offset_min);
	store_set_max_pages(cfg->store_max_pages);
	store_set_durable(cfg->store_fsync);
	if (load_catalog(cfg) < 0) {
		config_free(cfg);
		return EXIT_USAGE;
	}
	if (open_store(cfg, store) < 0) {
		config_free(cfg);
		return EXIT_FAILURE;
	}
	return 0;
}

static int cmd_check_config(const char *config_path, int argc, char **argv)
{
	struct config cfg;
	struct store *store = NULL;
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "scicastd: check-config takes no arguments\n");
		return EXIT_USAGE;
	}
	int rc = prepare(config_path, &cfg, &store);
	if (rc)
		return rc;
	printf("configuration OK (%s; database %s, schema %d)\n",
	       config_path ? config_path : "built-in defaults", cfg.store_path,
	       store_schema_version(store));
	store_close(store);
	config_free(&cfg);
	return 0;
}

static int cmd_import_regions(const char *config_path, int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: scicastd [-c FILE] import-regions FILE\n");
		return EXIT_USAGE;
	}
	struct config cfg;
	struct store *store = NULL;
	int rc = prepare(config_path, &cfg, &store);
	if (rc)
		return rc;
	char *data = NULL;
	size_t len = 0;
	struct regions_import_result res = { 0 };
	struct err err;
	rc = EXIT_FAILURE;
	if (util_read_file(argv[1], &data, &len) < 0) {
		log_error("%s: %s", argv[1], strerror(errno));
		goto done;
	}
	if (regions_import_csv(store, data, len, cfg.channels_auto_mqtt, &res,
			       &err) < 0) {
		fprintf(stderr, "scicastd: %s: %s\n", argv[1], err.message);
		size_t i;
		json_t *e;
		json_array_foreach(res.errors, i, e) {
			json_t *line = json_object_get(e, "line");
			const char *msg =
				json_string_value(json_object_get(e, "message"));
			if (json_is_integer(line))
				fprintf(stderr, "%s: line %lld: %s\n", argv[1],
					(long long)json_integer_value(line), msg);
			else
				fprintf(stderr, "%s: %s\n", argv[1], msg);
		}
		goto done;
	}
	printf("%s: %ld inserted, %ld updated, %ld unchanged\n", argv[1],
	       res.inserted, res.updated, res.unchanged);
	rc = 0;
done:
	json_decref(res.errors);
	free(data);
	store_close(store);
	config_free(&cfg);
	return rc;
}

static int cmd_config_doc(const char *config_path, int argc, char **argv)
{
	(void)config_path, (void)argc, (void)argv;
	config_write_doc(stdout);
	return 0;
}

static int cmd_routes(const char *config_path, int argc, char **argv)
{
	static const char *const roles[] = { "public", "viewer", "operator",
					     "admin" };
	(void)config_path, (void)argc, (void)argv;
	printf("| method | path | role | what |\n|---|---|---|---|\n");
	for (int i = 0; i < http_route_count; i++)
		printf("| %s | `%s` | %s | %s |\n", http_routes[i].method,
		       http_routes[i].pattern, roles[http_routes[i].role],
		       http_routes[i].summary);
	return 0;
}

/* ---- token ---- */

static void token_usage(FILE *out)
{
	fprintf(out,
		"usage: scicastd [-c FILE] token create --role viewer|operator|admin "
		"--name NAME [--expires 30d|2027-01-01T00:00:00+08:00]\n"
		"       scicastd [-c FILE] token list\n"
		"       scicastd [-c FILE] token revoke ID\n"
		"\ncreate prints the token alone on standard output (it is shown "
		"once;\nonly its hash is stored). Works on the database directly: "
		"no HTTP needed.\n");
}

static int token_create(struct store *store, int argc, char **argv)
{
	const char *role = NULL, *name = NULL, *expires = NULL;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
			role = argv[++i];
		else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name = argv[++i];
		else if (strcmp(argv[i], "--expires") == 0 && i + 1 < argc)
			expires = argv[++i];
		else {
			token_usage(stderr);
			return EXIT_USAGE;
		}
	}
	int r = role ? auth_role_parse(role) : -1;
	if (r < 0 || !name) {
		fprintf(stderr, "scicastd: token create needs --role viewer, "
			"operator or admin, and --name\n");
		return EXIT_USAGE;
	}
	int64_t exp = 0, ms;
	if (expires) {
		if (util_parse_duration_ms(expires, &ms) == 0 && ms > 0) {
			exp = util_now_ms() + ms;
		} else if (util_parse_iso(expires, &exp) < 0) {
			fprintf(stderr, "scicastd: --expires takes a duration "
				"(30d, 12h) or a time with an offset\n");
			return EXIT_USAGE;
		}
	}
	char token[AUTH_TOKEN_MAX], summary[160];
	int64_t id;
	struct err err;
	snprintf(summary, sizeof summary, "token \"%.60s\" (%s) from the "
		 "command line", name, role);
	if (store_begin(store, &err) < 0)
		goto fail;
	if (auth_token_create(store, name, (enum role)r, exp, "scicastd (local)",
			      token, &id, &err) < 0 ||
	    audit_write(store, "scicastd (local)", "admin", "token.create",
			"token", summary, NULL, &err) < 0 ||
	    store_commit(store, &err) < 0) {
		store_rollback(store);
		goto fail;
	}
	printf("%s\n", token);
	explicit_bzero(token, sizeof token);
	fprintf(stderr, "scicastd: token %lld \"%s\" (%s) created; it is shown "
		"once\n", (long long)id, name, role);
	return 0;
fail:
	fprintf(stderr, "scicastd: %s\n", err.message);
	return err.status == 422 ? EXIT_USAGE : EXIT_FAILURE;
}

static int cmd_token(const char *config_path, int argc, char **argv)
{
	struct config cfg;
	struct store *store = NULL;
	struct err err;
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		token_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "create") != 0 && strcmp(argv[1], "list") != 0 &&
	    strcmp(argv[1], "revoke") != 0) {
		token_usage(stderr);
		return EXIT_USAGE;
	}
	int rc = prepare(config_path, &cfg, &store);
	if (rc)
		return rc;
	if (strcmp(argv[1], "create") == 0) {
		rc = token_create(store, argc, argv);
	} else if (strcmp(argv[1], "list") == 0) {
		json_t *list = NULL;
		rc = EXIT_FAILURE;
		if (auth_token_list(store, &list, &err) == 0) {
			size_t i;
			json_t *t;
			printf("%-5s %-24s %-9s %-8s %s\n", "ID", "NAME", "ROLE",
			       "STATE", "PREFIX");
			json_array_foreach(json_object_get(list, "items"), i, t)
				printf("%-5lld %-24s %-9s %-8s %s…\n",
				       (long long)json_integer_value(json_object_get(t, "id")),
				       json_string_value(json_object_get(t, "name")),
				       json_string_value(json_object_get(t, "role")),
				       json_string_value(json_object_get(t, "state")),
				       json_string_value(json_object_get(t, "prefix")));
			rc = 0;
		} else {
			fprintf(stderr, "scicastd: %s\n", err.message);
		}
		json_decref(list);
	} else {
		long long id;
		if (argc != 3 || util_parse_ll(argv[2], 1, INT64_MAX, &id) < 0) {
			token_usage(stderr);
			rc = EXIT_USAGE;
		} else if (store_begin(store, &err) < 0) {
			fprintf(stderr, "scicastd: %s\n", err.message);
			rc = EXIT_FAILURE;
		} else if (auth_token_revoke(store, id, "scicastd (local)", &err) < 0 ||
			   audit_write(store, "scicastd (local)", "admin",
				       "token.revoke", "token", "revoked from the "
				       "command line", NULL, &err) < 0 ||
			   store_commit(store, &err) < 0) {
			store_rollback(store);
			fprintf(stderr, "scicastd: %s\n", err.message);
			rc = EXIT_FAILURE;
		} else {
			fprintf(stderr, "scicastd: token %lld revoked\n", id);
			rc = 0;
		}
	}
	store_close(store);
	config_free(&cfg);
	return rc;
}

/* ---- run ---- */

/* First start: the default templates (and later the library) go into the
 * empty tables; from then on the database is the truth. */
static int seed_defaults(const struct config *cfg, struct store *store)
{
	char dir[1100];
	struct err err;
	snprintf(dir, sizeof dir, "%s/templates", cfg->share_dir);
	if (templates_seed(store, dir, &err) < 0) {
		log_error("default templates: %s", err.message);
		return -1;
	}
	snprintf(dir, sizeof dir, "%s/library", cfg->share_dir);
	if (library_seed(store, cfg, dir, &err) < 0) {
		log_error("science library: %s", err.message);
		return -1;
	}
	return 0;
}

static void app_public_url(struct app *app, int port)
{
	const struct config *cfg = app->cfg;
	if (cfg->http_public_url[0]) {
		snprintf(app->public_url, sizeof app->public_url, "%s",
			 cfg->http_public_url);
		size_t n = strlen(app->public_url);
		while (n && app->public_url[n - 1] == '/')
			app->public_url[--n] = '\0';
		return;
	}
	const char *host = cfg->http_host;
	bool any = !host[0] || strcmp(host, "0.0.0.0") == 0 ||
		   strcmp(host, "::") == 0;
	bool v6 = strchr(host, ':') != NULL;
	snprintf(app->public_url, sizeof app->public_url, "http://%s%s%s:%d",
		 v6 ? "[" : "", any ? "127.0.0.1" : host, v6 ? "]" : "", port);
}

static void reload(struct app *app, const char *config_path)
{
	struct config fresh;
	struct err err;
	if (config_load(&fresh, config_path, &err) < 0) {
		log_error("reload refused, keeping the running configuration: %s",
			  err.message);
		return;
	}
	log_set_level((enum log_level)fresh.log_level);
	app->cfg->log_level = fresh.log_level;
	log_info("reloaded %s: log level %s", config_path ? config_path
							 : "defaults",
		 log_level_name((enum log_level)fresh.log_level));
	config_free(&fresh);
}

/* Once a second on the main thread (its own connection): expiries and
 * re-sends to silent screens. */
/* Copying the WAL into the database file competes with a fan-out for the
 * disk and the CPU, so it waits while the senders have messages in
 * flight or due (a declaration just committed: the first tick after it
 * used to find nothing in flight yet and copy a province's plan, a
 * second of work, in the middle of its fan-out), unless it is overdue
 * (store_checkpoint_overdue). */
#define RESUME_EVERY_MS (60 * 1000)

static void checkpoint_when_quiet(struct app *app, struct store *store,
				  int64_t now)
{
	static int64_t last_ms;
	static long long wal_at_last; /* the WAL's size at the last one */
	struct err err;
	char wal[1100];
	struct stat st;
	snprintf(wal, sizeof wal, "%s-wal", app->cfg->store_path);
	long long bytes = stat(wal, &st) == 0 ? (long long)st.st_size : 0;
	bool busy = metrics_gauge_get(M_MQTT_INFLIGHT) > 0 ||
		    metrics_gauge_get(M_WEBHOOK_INFLIGHT) > 0;
	if (!last_ms)
		last_ms = now;
	if (!store_checkpoint_overdue(&wal_at_last, bytes, now - last_ms)) {
		int due = busy ? 1 : outbox_any_due(store, now, &err);
		if (due < 0)
			log_error("%s", err.message);
		if (due != 0)
			return;
	}
	static int last_frames;
	int frames = store_checkpoint(store, &err);
	last_ms = now;
	wal_at_last = bytes;
	if (frames < 0)
		log_error("%s", err.message);
	else if (frames > last_frames + 64 * 1024 * 1024 / STORE_PAGE_SIZE)
		log_info("store: checkpointed %d pages of WAL in %lld ms",
			 frames - last_frames,
			 (long long)(util_now_ms() - now));
	last_frames = frames > 0 ? frames : 0;
}

/* Plans committed in stages that stopped half-way: at start, and then
 * once a minute (after a failed stage). */
static void resume_plans(struct app *app, struct store *store, int64_t now)
{
	static int64_t last_ms;
	if (now && now - last_ms < RESUME_EVERY_MS)
		return;
	last_ms = now ? now : util_now_ms();
	struct err err;
	struct emergency_ctx c = { .store = store, .cfg = app->cfg,
				   .actor = "scicastd",
				   .public_url = app->public_url,
				   .wake = app_wake_senders_cb, .wake_arg = app };
	if (emergency_resume_plans(&c, &err) < 0)
		log_error("finishing stopped plans: %s", err.message);
}

static void run_periodic(struct app *app, struct store *store)
{
	struct err err;
	/* an expiry of a big emergency is staged like a cancel */
	struct emergency_ctx c = { .store = store, .cfg = app->cfg,
				   .actor = "scicastd",
				   .public_url = app->public_url,
				   .staged = true, .role = "admin",
				   .wake = app_wake_senders_cb,
				   .wake_arg = app };
	int64_t now = util_now_ms();
	bool wake = false;
	resume_plans(app, store, now);
	int expired = emergency_expire_due(&c, now, &err);
	if (expired < 0)
		log_error("expiring emergencies: %s", err.message);
	wake |= expired > 0;
	long resent = outbox_resend_due(store, app->cfg, now, &err);
	if (resent < 0)
		log_error("re-sending unacked deliveries: %s", err.message);
	if (resent > 0) {
		log_info("outbox: re-sending %ld village deliveries that were "
			 "not acked in time", resent);
		metrics_add(M_OUTBOX_RESENDS, (uint64_t)resent);
		wake = true;
	}
	if (approvals_lapse_due(store, now, &err) < 0)
		log_error("lapsing approval requests: %s", err.message);
	int campaigned = campaigns_due(store, app->cfg, now, &err);
	if (campaigned < 0)
		log_error("running campaigns: %s", err.message);
	wake |= campaigned > 0;
	int escalated = escalation_due(store, app->cfg, now, &err);
	if (escalated < 0)
		log_error("escalating silent villages: %s", err.message);
	wake |= escalated > 0;
	if (wake)
		app_wake_senders(app);
	checkpoint_when_quiet(app, store, now);
}

static int cmd_run(const char *config_path, int argc, char **argv)
{
	struct config cfg;
	struct store *store = NULL;
	struct http_server *http = NULL;
	struct app app = { .cfg = &cfg };
	struct err err;
	sigset_t set;
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "scicastd: run takes no arguments\n");
		return EXIT_USAGE;
	}
	int rc = prepare(config_path, &cfg, &store);
	if (rc)
		return rc;
	rc = EXIT_FAILURE;
	app.started_ms = util_now_ms();
	char data_dir[1100];
	snprintf(data_dir, sizeof data_dir, "%s/data", cfg.share_dir);
	if (cap_load(data_dir, &err) < 0) {
		log_error("%s", err.message);
		goto done;
	}
	snprintf(app.web_root, sizeof app.web_root, "%s/web", cfg.share_dir);

	if (cfg.channels_auto_mqtt && channels_ensure_auto(store, &err) < 0) {
		log_error("creating default channels: %s", err.message);
		goto done;
	}
	if (seed_defaults(&cfg, store) < 0)
		goto done;
	if (metrics_init(http_route_count) < 0 ||
	    store_thread_setup(cfg.store_path, cfg.store_busy_timeout_ms) < 0) {
		log_error("out of memory");
		goto done;
	}

	/* Block the signals before any thread exists, so every thread
	 * inherits the mask and only sigtimedwait below receives them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		log_error("libcurl could not start");
		goto done;
	}

	/* the port first: a daemon that cannot serve should say so before
	 * it starts sending anything */
	if (http_listen(&app, &http, &err) < 0) {
		log_error("%s", err.message);
		goto done;
	}
	app_public_url(&app, http_port(http));
	library_set_public_url(app.public_url);
	if (outbox_reset_inflight(store, "mqtt", &err) < 0 ||
	    outbox_reset_inflight(store, "webhook", &err) < 0 ||
	    mqtt_sender_start(&app, &app.mqtt, &err) < 0 ||
	    webhook_sender_start(&app, &app.webhook, &err) < 0 ||
	    http_serve(http, &err) < 0) {
		log_error("%s", err.message);
		goto done;
	}
	log_info("scicastd %s: database %s (schema %d), API %s/api/v1/",
		 SCICAST_VERSION, cfg.store_path, store_schema_version(store),
		 app.public_url);
	log_info("listening on %s:%d", cfg.http_host, http_port(http));
	sdnotify("READY=1");
	/* a plan stopped half-way by the last stop: finished now, with the
	 * API answering meanwhile (a national one takes seconds) */
	resume_plans(&app, store, 0);

	for (;;) {
		struct timespec tick = { 1, 0 };
		siginfo_t info;
		int sig = sigtimedwait(&set, &info, &tick);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("%s: stopping", sig == SIGTERM ? "SIGTERM"
								: "SIGINT");
			/* before the HTTP stop waits for the writer: a staged
			 * plan stops at its next stage */
			atomic_store(&app.stopping, true);
			break;
		}
		if (sig == SIGHUP)
			reload(&app, config_path);
		run_periodic(&app, store);
	}
	sdnotify("STOPPING=1");
	rc = 0;
done:
	http_stop(http, 10000);
	mqtt_sender_stop(app.mqtt);
	webhook_sender_stop(app.webhook);
	store_close(store);
	store_thread_teardown();
	metrics_free();
	respcache_clear();
	cap_unload();
	curl_global_cleanup();
	config_free(&cfg);
	if (rc == 0)
		log_info("stopped");
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	bool check = false;
	int c;
	/* '+': stop at the first non-option, the command's own arguments
	 * follow it */
	while ((c = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'C':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("scicastd %s\n", SCICAST_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	const char *path = config_choose(config);
	if (check)
		return cmd_check_config(path, 1, argv);
	const char *name = optind < argc ? argv[optind] : "run";
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return commands[i].exec(path,
						optind < argc ? argc - optind : 1,
						optind < argc ? argv + optind
							      : argv);
	fprintf(stderr, "scicastd: unknown command \"%s\" (see scicastd "
		"--help)\n", name);
	return EXIT_USAGE;
}
