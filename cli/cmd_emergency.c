/* cmd_emergency: declare, update, cancel, allclear, list and status — the
 * commands an operator runs during an emergency. A red declaration is
 * confirmed by typing "red" (or --yes, which scripts must pass), and the
 * server may still hold it for a second operator (202, cmd_approval.c
 * decides it); that is a success, not a refusal. status --watch
 * redraws in place on a terminal and prints one plain line per poll
 * anywhere else, so scripts and tests can follow it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "buf.h"
#include "cli.h"
#include "client.h"
#include "idempotency.h"
#include "table.h"
#include "util.h"

/* The tiers in the order they are shown, top down. */
static const char *const emergency_tiers[] = { "province", "city", "county",
					       "town", "village" };
#define N_TIERS (sizeof emergency_tiers / sizeof emergency_tiers[0])

struct emergency_opts {
	const char *hazard, *severity, *headline, *area, *duration, *expires;
	const char *description, *instruction, *locale, *exercise, *dry_run;
	const char *yes, *reason, *idempotency_key;
};

/* The body of a declaration or revision from the options given; NULL
 * after a usage error. */
static json_t *emergency_body(const char *cmd, const struct emergency_opts *o)
{
	json_t *b = json_object();
	struct { const char *key, *value; } fields[] = {
		{ "hazard", o->hazard }, { "severity", o->severity },
		{ "headline", o->headline }, { "duration", o->duration },
		{ "expires_at", o->expires }, { "description", o->description },
		{ "instruction", o->instruction }, { "locale", o->locale },
	};
	if (!b)
		return NULL;
	if (o->duration && o->expires) {
		cli_usage_error(cmd, "give --duration or --expires, not both");
		goto fail;
	}
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (fields[i].value &&
		    json_object_set_new(b, fields[i].key,
					json_string(fields[i].value)) < 0) {
			cli_usage_error(cmd, "--%s is not UTF-8 text", fields[i].key);
			goto fail;
		}
	if (o->area) {
		json_t *a = cli_list(cmd, "area", "region code", o->area);
		if (!a || json_object_set_new(b, "area", a) < 0)
			goto fail;
	}
	if (o->exercise)
		json_object_set_new(b, "exercise", json_true());
	return b;
fail:
	json_decref(b);
	return NULL;
}

/* "33 deliveries planned: city 1, town 2, village 30 (mqtt 33, webhook 0)" */
void cli_print_plan(FILE *out, const json_t *planned)
{
	const json_t *tiers = json_object_get(planned, "by_tier");
	const json_t *kinds = json_object_get(planned, "by_kind");
	const char *sep = ": ";
	fprintf(out, "%lld deliveries planned", cli_int(planned, "deliveries"));
	for (size_t i = 0; i < N_TIERS; i++) {
		const json_t *n = json_object_get(tiers, emergency_tiers[i]);
		if (n) {
			fprintf(out, "%s%s %lld", sep, emergency_tiers[i],
				(long long)json_integer_value(n));
			sep = ", ";
		}
	}
	if (kinds)
		fprintf(out, " (mqtt %lld, webhook %lld)", cli_int(kinds, "mqtt"),
			cli_int(kinds, "webhook"));
	if (json_object_get(planned, "cancels"))
		fprintf(out, "; %lld of them cancels to channels now out of scope",
			cli_int(planned, "cancels"));
	fputc('\n', out);
}

/* What a dry run shows: the counts, the deliveries per town, and the
 * text the lowest tier will get. */
static void emergency_print_dry_run(struct cli *c, const json_t *ans)
{
	const json_t *planned = json_object_get(ans, "planned");
	const json_t *towns = json_object_get(planned, "by_town");
	const json_t *samples = json_object_get(planned, "samples");
	static const char *const heads[] = { "TOWN", "CODE", "DELIVERIES" };
	struct table t;
	size_t i;
	const json_t *town;
	printf("dry run: nothing was stored or sent\n");
	cli_print_plan(stdout, planned);
	if (json_array_size(towns)) {
		table_init(&t, 3, heads);
		table_right(&t, 2);
		json_array_foreach(towns, i, town) {
			table_cell(&t, cli_str(town, "name"));
			table_cell(&t, cli_str(town, "code"));
			table_cellf(&t, "%lld", cli_int(town, "deliveries"));
		}
		printf("\n");
		table_print(&t, stdout, c->width, c->out_tty);
		table_free(&t);
	}
	for (size_t k = N_TIERS; k-- > 0;) {
		const json_t *s = json_object_get(samples, emergency_tiers[k]);
		if (!s)
			continue;
		const json_t *r = json_object_get(s, "region");
		printf("\n%s sample: %s (%s)\n[title]\n%s\n[body]\n%s\n[tts]\n%s\n",
		       emergency_tiers[k], cli_str(r, "name"), cli_str(r, "code"),
		       cli_str(s, "title"), cli_str(s, "body"), cli_str(s, "tts"));
		break;
	}
}

/* A red declaration (or a revision to red) is confirmed by typing "red"
 * after the plan is shown; without a terminal it needs --yes. */
static int emergency_confirm_red(struct cli *c, const char *cmd,
				 const char *path, const json_t *body)
{
	struct buf dry = BUF_INIT;
	json_t *plan = NULL;
	char answer[32];
	int rc = CLI_USAGE;
	if (!c->in_tty) {
		fprintf(stderr, "scicast: %s: severity red needs --yes when "
			"standard input is not a terminal; nothing was sent\n", cmd);
		goto done;
	}
	if (buf_appendf(&dry, "%s?dry_run=true", path) < 0)
		goto done;
	rc = client_json(c, cmd, "POST", buf_str(&dry), body, &plan);
	if (rc != 0)
		goto done;
	rc = CLI_USAGE;
	fprintf(stderr, "This sends a RED alert. ");
	cli_print_plan(stderr, json_object_get(plan, "planned"));
	if (cli_prompt("Type \"red\" to send it: ", answer, sizeof answer) < 0 ||
	    strcmp(answer, "red") != 0) {
		fprintf(stderr, "scicast: %s: not confirmed; nothing was sent\n",
			cmd);
		goto done;
	}
	rc = 0;
done:
	json_decref(plan);
	buf_free(&dry);
	return rc;
}

/* A declaration, or a raise to red, that the server holds for a second
 * operator (202): nothing went out, so say so and who must act how. */
static void emergency_print_held(const json_t *a)
{
	long long id = cli_int(a, "approval_id");
	printf("held for approval: request %lld (%s); nothing was sent yet\n",
	       id, cli_str(a, "summary"));
	cli_print_plan(stdout, json_object_get(a, "planned"));
	printf("another operator approves it with: scicast approve %lld "
	       "(it lapses at %s)\n", id, cli_str(a, "expires_at"));
}

static void pause_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0)
		;
}

/* "cli-" and 128 random bits in hex: unique to this declaration. */
static int idempotency_key_new(char out[40])
{
	unsigned char raw[16];
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		return -1;
	memcpy(out, "cli-", 4);
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(out + 4 + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

/* The requests that follow go with the key given (checked) or a new one
 * (in fresh); the caller clears c->idempotency_key after them. */
static int use_idempotency_key(struct cli *c, const char *cmd,
			       const char *given, char fresh[40])
{
	if (given && !idem_key_valid(given)) {
		cli_usage_error(cmd, "--idempotency-key: 1 to 255 printable "
				"ASCII characters, no spaces");
		return -1;
	}
	if (!given) {
		if (idempotency_key_new(fresh) < 0) {
			fprintf(stderr, "scicast: %s: no random bytes for an "
				"Idempotency-Key\n", cmd);
			return -1;
		}
		given = fresh;
	}
	c->idempotency_key = given;
	return 0;
}

/* What the server answered a request sent again under its key with. */
static void print_replayed(const struct cli *c, const char *done,
			   const char *what, const json_t *ans)
{
	printf("already %s by an earlier send of this %s (Idempotency-Key "
	       "%s): emergency %lld (revision %lld, %s)\n", done, what,
	       c->idempotency_key, cli_int(ans, "id"), cli_int(ans, "revision"),
	       cli_str(ans, "status"));
}

/* Tries the POST up to three times when no answer came: with an
 * Idempotency-Key the server declares it once however many arrive. */
static int emergency_post(struct cli *c, const char *cmd, const char *path,
			  const json_t *body, json_t **ans, long *status)
{
	static const int64_t waits_ms[] = { 1000, 3000 };
	int rc = client_json_status(c, cmd, "POST", path, body, ans, status);
	for (size_t i = 0; rc == CLI_UNREACHABLE && c->idempotency_key &&
			   i < sizeof waits_ms / sizeof *waits_ms; i++) {
		fprintf(stderr, "scicast: %s: sending it again in %lld s with "
			"the same Idempotency-Key (%s): the server acts on it "
			"once\n", cmd, (long long)(waits_ms[i] / 1000),
			c->idempotency_key);
		pause_ms(waits_ms[i]);
		rc = client_json_status(c, cmd, "POST", path, body, ans,
					status);
	}
	return rc;
}

static int emergency_send(struct cli *c, const char *cmd, const char *path,
			  const struct emergency_opts *o, json_t *body)
{
	struct buf p = BUF_INIT;
	json_t *ans = NULL;
	long status = 0;
	int rc = CLI_USAGE;
	char fresh[40];
	/* a dry run stores nothing: nothing to send again */
	if (!o->dry_run &&
	    use_idempotency_key(c, cmd, o->idempotency_key, fresh) < 0)
		return CLI_USAGE;
	if (o->severity && strcmp(o->severity, "red") == 0 && !o->dry_run &&
	    !o->yes && (rc = emergency_confirm_red(c, cmd, path, body)) != 0)
		goto done;
	if (buf_appendf(&p, "%s%s", path, o->dry_run ? "?dry_run=true" : "") < 0)
		goto done;
	rc = emergency_post(c, cmd, buf_str(&p), body, &ans, &status);
	if (rc != 0)
		goto done;
	bool replayed = json_is_true(json_object_get(ans, "replayed"));
	if (c->json)
		cli_print_json(ans);
	else if (o->dry_run)
		emergency_print_dry_run(c, ans);
	else if (replayed && status == 202)
		printf("already held for approval by an earlier send of this "
		       "declaration (Idempotency-Key %s): request %lld, %s\n",
		       c->idempotency_key, cli_int(ans, "approval_id"),
		       cli_str(ans, "status"));
	else if (replayed && strcmp(cmd, "declare") == 0)
		print_replayed(c, "declared", "declaration", ans);
	else if (replayed)
		print_replayed(c, "updated", "update", ans);
	else if (status == 202)
		emergency_print_held(ans);
	else {
		if (strcmp(cmd, "declare") == 0)
			printf("declared emergency %lld (revision %lld, %s)\n",
			       cli_int(ans, "id"), cli_int(ans, "revision"),
			       cli_str(ans, "status"));
		else
			printf("emergency %lld updated: revision %lld (%s)\n",
			       cli_int(ans, "id"), cli_int(ans, "revision"),
			       cli_str(ans, "status"));
		cli_print_plan(stdout, json_object_get(ans, "planned"));
	}
	rc = 0;
done:
	c->idempotency_key = NULL;
	json_decref(ans);
	buf_free(&p);
	return rc;
}

int cmd_declare(struct cli *c, int argc, char **argv)
{
	struct emergency_opts o;
	const struct cli_opt opts[] = {
		{ "hazard", 0, "H", "the hazard code (typhoon, rainstorm, heat, …)", &o.hazard },
		{ "severity", 0, "S", "blue, yellow, orange or red", &o.severity },
		{ "headline", 0, "TEXT", "the headline (at most 200 characters)", &o.headline },
		{ "area", 0, "CODE[,CODE...]", "region codes: the city, towns, villages", &o.area },
		{ "duration", 0, "D", "how long it lasts: 30m, 6h, 2d", &o.duration },
		{ "expires", 0, "ISO", "or when it ends: 2026-11-29T16:00:00+08:00", &o.expires },
		{ "description", 0, "TEXT", "what is happening", &o.description },
		{ "instruction", 0, "TEXT", "what people should do", &o.instruction },
		{ "locale", 0, "L", "the language of the texts (default: the server's)", &o.locale },
		{ "exercise", 0, NULL, "a drill: every message says so", &o.exercise },
		{ "dry-run", 0, NULL, "show the plan and the texts; store and send nothing", &o.dry_run },
		{ "yes", 0, NULL, "do not ask before sending a red alert", &o.yes },
		{ "idempotency-key", 0, "K", "send it under this key (default: a new random one)", &o.idempotency_key },
		{ NULL, 0, NULL, NULL, NULL },
	};
	static const struct cli_help h = { "declare",
		"declare --hazard H --severity S --headline TEXT --area CODE[,CODE...]\n"
		"               (--duration D | --expires ISO) [--description T] [--instruction T]\n"
		"               [--locale L] [--exercise] [--dry-run] [--yes] [--idempotency-key K]",
		"Declares an emergency: every channel of the area, of the regions below\n"
		"it and of its ancestors gets its tier's notice. Prints the new id, the\n"
		"revision and the planned deliveries per tier. --dry-run prints the plan\n"
		"(counts per tier and per town, the text a village gets) and stores\n"
		"nothing. A red alert asks you to type \"red\" first; without a terminal\n"
		"it needs --yes.\n\n"
		"When the server wants a second operator for it ([approval] required,\n"
		"red by default), the alert is held, not sent: the request number is\n"
		"printed and another operator sends it with scicast approve N.\n\n"
		"The declaration goes with an Idempotency-Key: when no answer comes (a\n"
		"broken connection during a big plan), it is sent twice more under the\n"
		"same key, and the server declares it once. Sent again by hand with\n"
		"--idempotency-key K (the key printed in the retry message, or your\n"
		"own), it is answered with the emergency the first one made." };
	json_t *body = NULL;
	int rc;
	memset(&o, 0, sizeof o);
	if (cli_parse(c, &h, opts, argc, argv, NULL, 0, 0, NULL, &rc) < 0)
		return rc;
	const char *missing = !o.hazard ? "--hazard" : !o.severity ? "--severity"
			    : !o.headline ? "--headline" : !o.area ? "--area"
			    : !o.duration && !o.expires ? "--duration or --expires"
			    : NULL;
	if (missing)
		return cli_usage_error(h.cmd, "%s is required", missing);
	body = emergency_body(h.cmd, &o);
	if (!body)
		return CLI_USAGE;
	rc = emergency_send(c, h.cmd, "/api/v1/emergencies", &o, body);
	json_decref(body);
	return rc;
}

int cmd_update(struct cli *c, int argc, char **argv)
{
	struct emergency_opts o;
	const struct cli_opt opts[] = {
		{ "severity", 0, "S", "blue, yellow, orange or red", &o.severity },
		{ "headline", 0, "TEXT", "a new headline", &o.headline },
		{ "area", 0, "CODE[,CODE...]", "the new area (regions left out get a cancel)", &o.area },
		{ "duration", 0, "D", "a new expiry, from now: 30m, 6h, 2d", &o.duration },
		{ "expires", 0, "ISO", "or the new end", &o.expires },
		{ "description", 0, "TEXT", "a new description", &o.description },
		{ "instruction", 0, "TEXT", "new instructions", &o.instruction },
		{ "locale", 0, "L", "the language of the texts", &o.locale },
		{ "dry-run", 0, NULL, "show the plan; store and send nothing", &o.dry_run },
		{ "yes", 0, NULL, "do not ask before raising it to red", &o.yes },
		{ "idempotency-key", 0, "K", "send it under this key (default: a new random one)", &o.idempotency_key },
		{ NULL, 0, NULL, NULL, NULL },
	};
	static const struct cli_help h = { "update",
		"update ID [--severity S] [--headline T] [--area CODE[,CODE...]]\n"
		"              [--duration D | --expires ISO] [--description T] [--instruction T]\n"
		"              [--locale L] [--dry-run] [--yes] [--idempotency-key K]",
		"Makes a new revision of an active emergency: what is not given stays.\n"
		"Every channel in the new scope gets an update; channels it reached that\n"
		"are now out of scope get a cancel. Raising it to red asks as declare\n"
		"does, and may be held for a second operator (scicast approve N).\n"
		"Like declare, it goes with an Idempotency-Key and is sent again under it\n"
		"when no answer comes: it makes one revision." };
	struct buf path = BUF_INIT;
	json_t *body = NULL;
	long long id;
	int rc;
	memset(&o, 0, sizeof o);
	if (cli_parse_one_id(c, &h, opts, argc, argv, &id, &rc) < 0)
		return rc;
	if (!o.severity && !o.headline && !o.area && !o.duration && !o.expires &&
	    !o.description && !o.instruction && !o.locale)
		return cli_usage_error(h.cmd, "nothing to change");
	body = emergency_body(h.cmd, &o);
	if (!body)
		return CLI_USAGE;
	rc = CLI_USAGE;
	if (buf_appendf(&path, "/api/v1/emergencies/%lld/revisions", id) == 0)
		rc = emergency_send(c, h.cmd, buf_str(&path), &o, body);
	json_decref(body);
	buf_free(&path);
	return rc;
}

/* cancel and allclear differ only in the route and the words: each
 * sends its message to every channel the emergency reached. */
static int emergency_end(struct cli *c, const struct cli_help *h,
			 const char *route, const char *said, int argc,
			 char **argv)
{
	const char *reason = NULL, *key = NULL;
	const struct cli_opt opts[] = {
		{ "reason", 0, "TEXT", "why (kept in the revision)", &reason },
		{ "idempotency-key", 0, "K", "send it under this key (default: a new random one)", &key },
		{ NULL, 0, NULL, NULL, NULL },
	};
	struct buf path = BUF_INIT;
	json_t *body = NULL, *ans = NULL;
	long long id;
	long status = 0;
	char fresh[40];
	int rc;
	if (cli_parse_one_id(c, h, opts, argc, argv, &id, &rc) < 0)
		return rc;
	rc = CLI_USAGE;
	if (reason && !(body = json_pack("{s:s}", "reason", reason))) {
		cli_usage_error(h->cmd, "--reason is not UTF-8 text");
		goto done;
	}
	if (use_idempotency_key(c, h->cmd, key, fresh) < 0 ||
	    buf_appendf(&path, "/api/v1/emergencies/%lld/%s", id, route) < 0)
		goto done;
	rc = emergency_post(c, h->cmd, buf_str(&path), body, &ans, &status);
	if (rc != 0)
		goto done;
	if (c->json) {
		cli_print_json(ans);
	} else if (json_is_true(json_object_get(ans, "replayed"))) {
		print_replayed(c, "done", h->cmd, ans);
	} else {
		printf("%s %lld (revision %lld)\n", said, cli_int(ans, "id"),
		       cli_int(ans, "revision"));
		cli_print_plan(stdout, json_object_get(ans, "planned"));
	}
done:
	c->idempotency_key = NULL;
	json_decref(body);
	json_decref(ans);
	buf_free(&path);
	return rc;
}

int cmd_cancel(struct cli *c, int argc, char **argv)
{
	static const struct cli_help h = { "cancel",
		"cancel ID [--reason TEXT] [--idempotency-key K]",
		"Cancels an active emergency: every channel it reached gets a cancel,\n"
		"which replaces the retained alert on its topic. Like declare, it goes\n"
		"with an Idempotency-Key and is sent again under it when no answer\n"
		"comes." };
	return emergency_end(c, &h, "cancel", "cancelled emergency", argc, argv);
}

int cmd_allclear(struct cli *c, int argc, char **argv)
{
	static const struct cli_help h = { "allclear",
		"allclear ID [--reason TEXT] [--idempotency-key K]",
		"Gives the all clear for an active emergency: the danger is over.\n"
		"Every channel it reached gets the all-clear text (解除), which\n"
		"replaces the retained alert on its topic; the emergency ends\n"
		"(scicast list --status ended). Use cancel for an alert that should\n"
		"not have gone out. It goes with an Idempotency-Key, as cancel does." };
	return emergency_end(c, &h, "allclear", "all clear for emergency", argc,
			     argv);
}

int cmd_list(struct cli *c, int argc, char **argv)
{
	const char *status, *limit;
	const struct cli_opt opts[] = {
		{ "status", 0, "S", "active, cancelled, expired or ended", &status },
		{ "limit", 0, "N", "at most N (newest first; default 50)", &limit },
		{ NULL, 0, NULL, NULL, NULL },
	};
	static const struct cli_help h = { "list",
		"list [--status active|cancelled|expired|ended] [--limit N]",
		"Lists the emergencies, newest first, with their coverage: how many of\n"
		"the planned deliveries of the current revision were acked." };
	static const char *const heads[] = { "ID", "HAZARD", "SEVERITY", "STATUS",
					     "REV", "HEADLINE", "ACKED/PLANNED" };
	struct buf path = BUF_INIT;
	json_t *ans = NULL;
	struct table t;
	int rc;
	if (cli_parse(c, &h, opts, argc, argv, NULL, 0, 0, NULL, &rc) < 0)
		return rc;
	table_init(&t, 7, heads);
	rc = CLI_USAGE;
	if (buf_append_str(&path, "/api/v1/emergencies") < 0 ||
	    client_query(&path, "status", status) < 0 ||
	    client_query(&path, "limit", limit) < 0)
		goto done;
	rc = client_show(c, h.cmd, buf_str(&path), &ans);
	if (rc != 0 || !ans)
		goto done;
	size_t i;
	const json_t *e;
	table_right(&t, 0);
	table_right(&t, 4);
	table_right(&t, 6);
	json_array_foreach(json_object_get(ans, "items"), i, e) {
		const json_t *tot = json_object_get(json_object_get(e, "coverage"),
						    "total");
		table_cellf(&t, "%lld", cli_int(e, "id"));
		table_cell(&t, cli_str(e, "hazard"));
		table_cellf(&t, "%s%s", cli_str(e, "severity"),
			    json_is_true(json_object_get(e, "exercise")) ? " (drill)" : "");
		table_cell(&t, cli_str(e, "status"));
		table_cellf(&t, "%lld", cli_int(e, "revision"));
		table_cell(&t, cli_str(e, "headline"));
		table_cellf(&t, "%lld/%lld", cli_int(tot, "acked"),
			    cli_int(tot, "planned"));
	}
	if (table_print(&t, stdout, c->width, c->out_tty) < 0)
		rc = CLI_USAGE;
	else if (cli_int(ans, "total") > (long long)table_rows(&t))
		printf("(%zu of %lld: --limit shows more)\n", table_rows(&t),
		       cli_int(ans, "total"));
done:
	table_free(&t);
	json_decref(ans);
	buf_free(&path);
	return rc;
}

/* ---- status ---- */

/* Nothing of the current revision is still on its way: what is not
 * acked has failed or is dead. */
static bool status_settled(const json_t *total)
{
	return cli_int(total, "pending") + cli_int(total, "inflight") +
		       cli_int(total, "sent") == 0;
}

/* [####====xx....]: acked, sent (not yet acked), failed or dead, the
 * rest still to go. */
static void status_bar(char *out, size_t width, const json_t *n)
{
	long long planned = cli_int(n, "planned");
	/* the server's "failed" already counts the dead */
	long long parts[3] = { cli_int(n, "acked"), cli_int(n, "sent"),
			       cli_int(n, "failed") };
	static const char marks[3] = { '#', '=', 'x' };
	size_t at = 0;
	long long cum = 0;
	out[at++] = '[';
	for (int k = 0; k < 3; k++) {
		cum += parts[k];
		size_t upto = planned > 0 ? (size_t)((cum * (long long)width +
						      planned / 2) / planned)
					  : 0;
		if (upto > width)
			upto = width;
		while (at - 1 < upto)
			out[at++] = marks[k];
	}
	while (at - 1 < width)
		out[at++] = '.';
	out[at++] = ']';
	out[at] = '\0';
}

/* The columns add up to PLANNED: RETRYING is what failed and waits for
 * its next attempt (the server's "failed" less the dead). */
static void status_counts(struct table *t, const json_t *n)
{
	table_cellf(t, "%lld", cli_int(n, "planned"));
	table_cellf(t, "%lld", cli_int(n, "pending") + cli_int(n, "inflight"));
	table_cellf(t, "%lld", cli_int(n, "sent"));
	table_cellf(t, "%lld", cli_int(n, "acked"));
	table_cellf(t, "%lld", cli_int(n, "failed") - cli_int(n, "dead"));
	table_cellf(t, "%lld", cli_int(n, "dead"));
}

/* The whole status page: header, a bar per tier, a row per town. */
static int status_render(struct cli *c, FILE *out, const json_t *e)
{
	static const char *const tier_heads[] = { "TIER", "PROGRESS", "PLANNED",
						  "PENDING", "SENT", "ACKED",
						  "RETRYING", "DEAD" };
	static const char *const town_heads[] = { "TOWN", "CODE", "PLANNED",
						  "PENDING", "SENT", "ACKED",
						  "RETRYING", "DEAD" };
	const json_t *cov = json_object_get(e, "coverage");
	const json_t *tiers = json_object_get(cov, "by_tier");
	struct buf area = BUF_INIT;
	struct table t1, t2;
	char bar[64];
	size_t i;
	const json_t *v;
	int rc = 0;
	json_array_foreach(json_object_get(e, "area"), i, v)
		buf_appendf(&area, "%s%s", i ? ", " : "", json_string_value(v));
	table_line(out, c->width, "emergency %lld: %s %s, %s, revision %lld (%s)%s%s",
		   cli_int(e, "id"), cli_str(e, "hazard"), cli_str(e, "severity"),
		   cli_str(e, "status"), cli_int(e, "revision"),
		   cli_str(e, "msg_type"),
		   json_is_true(json_object_get(e, "exercise")) ? ", a drill" : "",
		   /* a big plan still being written, or stopped and to be
		    * finished: the counts below are what is written so far */
		   json_is_true(json_object_get(e, "planning"))
			   ? ", still being planned" : "");
	table_line(out, c->width, "  %s", cli_str(e, "headline"));
	table_line(out, c->width, "  area %s", buf_str(&area));
	table_line(out, c->width, "  declared %s by %s; expires %s",
		   cli_str(e, "created_at"), cli_str(e, "created_by"),
		   cli_str(e, "expires_at"));
	fputc('\n', out);
	table_init(&t1, 8, tier_heads);
	table_init(&t2, 8, town_heads);
	for (size_t k = 2; k < 8; k++) {
		table_right(&t1, k);
		table_right(&t2, k);
	}
	for (size_t k = 0; k < N_TIERS; k++) {
		const json_t *n = json_object_get(tiers, emergency_tiers[k]);
		if (!n)
			continue;
		status_bar(bar, 24, n);
		table_cell(&t1, emergency_tiers[k]);
		table_cell(&t1, bar);
		status_counts(&t1, n);
	}
	status_bar(bar, 24, json_object_get(cov, "total"));
	table_cell(&t1, "total");
	table_cell(&t1, bar);
	status_counts(&t1, json_object_get(cov, "total"));
	json_array_foreach(json_object_get(cov, "by_town"), i, v) {
		table_cell(&t2, cli_str(v, "name"));
		table_cell(&t2, cli_str(v, "code"));
		status_counts(&t2, v);
	}
	if (table_print(&t1, out, c->width, c->out_tty) < 0)
		rc = -1;
	if (table_rows(&t2)) {
		fputc('\n', out);
		if (table_print(&t2, out, c->width, c->out_tty) < 0)
			rc = -1;
	}
	table_free(&t1);
	table_free(&t2);
	buf_free(&area);
	return rc;
}

/* "12:00:01 city 1/1 acked, village 279/279 acked, 0 failed" */
static void status_line(const json_t *e)
{
	const json_t *cov = json_object_get(e, "coverage");
	const json_t *tiers = json_object_get(cov, "by_tier");
	const json_t *tot = json_object_get(cov, "total");
	char now[16];
	cli_clock(now, sizeof now);
	printf("%s", now);
	for (size_t k = 0; k < N_TIERS; k++) {
		const json_t *n = json_object_get(tiers, emergency_tiers[k]);
		if (n)
			printf(" %s %lld/%lld acked,", emergency_tiers[k],
			       cli_int(n, "acked"), cli_int(n, "planned"));
	}
	printf(" %lld failed", cli_int(tot, "failed"));
	if (cli_int(tot, "dead"))
		printf(" (%lld dead)", cli_int(tot, "dead"));
	printf("\n");
	fflush(stdout);
}

int cmd_status(struct cli *c, int argc, char **argv)
{
	const char *watch, *timeout_s, *interval_s;
	const struct cli_opt opts[] = {
		{ "watch", 0, NULL, "poll until everything planned is acked (or failed)", &watch },
		{ "timeout", 0, "D", "give up after D (default 10m): exit 1", &timeout_s },
		{ "interval", 0, "D", "poll every D (default 1s)", &interval_s },
		{ NULL, 0, NULL, NULL, NULL },
	};
	static const struct cli_help h = { "status",
		"status ID [--watch] [--timeout 10m] [--interval 1s]",
		"Shows an emergency and the coverage of its current revision: a bar\n"
		"per tier (# acked, = sent and waiting for the screen's ack, x failed:\n"
		"retrying or dead, . still to go) and a row per town.\n\n"
		"--watch polls until nothing is on its way any more (everything acked,\n"
		"or failed or dead) and exits 0, or exits 1 at the timeout. On a\n"
		"terminal it redraws in place; otherwise it prints one line per poll:\n"
		"  12:00:01 village 279/279 acked, 0 failed" };
	struct buf path = BUF_INIT;
	json_t *e = NULL;
	long long id;
	int64_t timeout = 600000, interval = 1000;
	size_t drawn = 0;
	int rc;
	if (cli_parse_one_id(c, &h, opts, argc, argv, &id, &rc) < 0)
		return rc;
	if (timeout_s && util_parse_duration_ms(timeout_s, &timeout) < 0)
		return cli_usage_error(h.cmd, "--timeout takes a duration such as 10m");
	if (interval_s && (util_parse_duration_ms(interval_s, &interval) < 0 ||
			   interval < 50))
		return cli_usage_error(h.cmd, "--interval takes a duration of at "
				       "least 50ms, such as 1s");
	rc = CLI_USAGE;
	if (buf_appendf(&path, "/api/v1/emergencies/%lld", id) < 0)
		goto done;
	int64_t start = util_now_ms();
	for (;;) {
		json_decref(e);
		e = NULL;
		rc = client_json(c, h.cmd, "GET", buf_str(&path), NULL, &e);
		if (rc != 0)
			goto done;
		const json_t *total = json_object_get(json_object_get(e, "coverage"),
						      "total");
		/* a big plan still being written has more to come even when
		 * the senders have caught up with it */
		bool settled = status_settled(total) &&
			       !json_is_true(json_object_get(e, "planning"));
		if (!watch) {
			if (c->json)
				cli_print_json(e);
			else
				status_render(c, stdout, e);
			break;
		}
		if (c->json) {
			json_dumpf(e, stdout, JSON_COMPACT);
			printf("\n");
			fflush(stdout);
		} else if (c->out_tty) {
			char *mem = NULL;
			size_t len = 0;
			FILE *m = open_memstream(&mem, &len);
			if (!m)
				goto done;
			status_render(c, m, e);
			fclose(m);
			/* Up to where the last page began, clear, draw again;
			 * a page taller than the terminal starts from the top. */
			if (drawn && c->rows && drawn >= c->rows)
				printf("\033[H\033[J");
			else if (drawn)
				printf("\033[%zuA\r\033[J", drawn);
			fwrite(mem, 1, len, stdout);
			fflush(stdout);
			drawn = 0;
			for (size_t k = 0; k < len; k++)
				drawn += mem[k] == '\n';
			free(mem);
		} else {
			status_line(e);
		}
		if (settled) {
			if (!c->json)
				printf("settled: %lld of %lld acked, %lld failed\n",
				       cli_int(total, "acked"), cli_int(total, "planned"),
				       cli_int(total, "failed"));
			break;
		}
		int64_t left = timeout - (util_now_ms() - start);
		if (left <= 0) {
			fprintf(stderr, "scicast: status: timed out after %s: %lld of "
				"%lld acked, %lld still on their way\n",
				timeout_s ? timeout_s : "10m", cli_int(total, "acked"),
				cli_int(total, "planned"),
				cli_int(total, "pending") + cli_int(total, "inflight") +
				cli_int(total, "sent"));
			rc = CLI_REFUSED;
			goto done;
		}
		pause_ms(left < interval ? left : interval);
	}
	rc = 0;
done:
	json_decref(e);
	buf_free(&path);
	return rc;
}
