/* cmd_campaign: everyday science on a schedule — a campaign sends the
 * library's notices in turn to the channels of some regions, on a cron
 * schedule, outside quiet hours and never on a channel an emergency is
 * using. preview answers the question people ask first ("what goes out
 * when?"), with each notice's title so nobody has to look ids up. set
 * sends the version it read, so two admins editing at once get a 409
 * rather than one silently undoing the other. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "client.h"
#include "table.h"
#include "util.h"

/* The options create and set share. */
struct campaign_opts {
	const char *name, *schedule, *regions, *notices, *tiers, *audience;
	const char *from, *until, *disabled, *enable, *disable;
};

#define CAMPAIGN_FIELD_OPTS(o)                                                  \
	{ "name", 0, "N", "what people call it", &(o).name },                   \
	{ "schedule", 0, "S", "cron \"m h dom mon dow\" (0 10 * 5-10 mon) or @every 30m", &(o).schedule }, \
	{ "regions", 0, "CODE[,CODE...]", "the regions: every channel in them and below", &(o).regions }, \
	{ "notices", 0, "ID[,ID...]", "library notices, sent in turn", &(o).notices }, \
	{ "tiers", 0, "T[,T...]", "the levels that get it (default village)", &(o).tiers }, \
	{ "audience", 0, "A", "only channels for this audience (all: every channel)", &(o).audience }, \
	{ "from", 0, "DATE", "the first day it may send, 2027-05-01 (none: no start)", &(o).from }, \
	{ "until", 0, "DATE", "the last day it may send (none: no end)", &(o).until }

/* 2027-05-01: the server checks it is a real day; this catches a
 * misplaced argument before a request is made. */
static bool campaign_date_shape(const char *s)
{
	if (strlen(s) != 10)
		return false;
	for (int i = 0; i < 10; i++)
		if ((i == 4 || i == 7) ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return false;
	return true;
}

static int campaign_set(const char *cmd, json_t *body, const char *key,
			const char *opt, json_t *v)
{
	if (!v || json_object_set_new(body, key, v) < 0)
		return cli_usage_error(cmd, "--%s is not UTF-8 text", opt);
	return 0;
}

/* A date option: "none" clears it (null). */
static int campaign_set_date(const char *cmd, json_t *body, const char *key,
			     const char *opt, const char *v)
{
	if (strcmp(v, "none") == 0)
		return campaign_set(cmd, body, key, opt, json_null());
	if (!campaign_date_shape(v))
		return cli_usage_error(cmd, "--%s takes a date like 2027-05-01 (or "
				       "none), not \"%.40s\"", opt, v);
	return campaign_set(cmd, body, key, opt, json_string(v));
}

static int campaign_set_list(const char *cmd, json_t *body, const char *key,
			     const char *item, const char *v)
{
	json_t *a = cli_list(cmd, key, item, v);
	if (!a)
		return CLI_USAGE;
	return json_object_set_new(body, key, a) < 0 ? CLI_USAGE : 0;
}

/* The body of a create or a change from the options given; NULL after a
 * usage error. */
static json_t *campaign_body(const char *cmd, const struct campaign_opts *o)
{
	json_t *b = json_object();
	if (!b)
		return NULL;
	if (o->enable && (o->disable || o->disabled)) {
		cli_usage_error(cmd, "give --enable or --disable, not both");
		goto fail;
	}
	if ((o->name && campaign_set(cmd, b, "name", "name",
				     json_string(o->name))) ||
	    (o->schedule && campaign_set(cmd, b, "schedule", "schedule",
					 json_string(o->schedule))) ||
	    (o->regions && campaign_set_list(cmd, b, "regions", "region code",
					     o->regions)) ||
	    (o->notices && campaign_set_list(cmd, b, "notices", "notice id",
					     o->notices)) ||
	    (o->tiers && campaign_set_list(cmd, b, "tiers", "tier", o->tiers)) ||
	    (o->audience && campaign_set(cmd, b, "audience", "audience",
					 strcmp(o->audience, "all") == 0
						 ? json_null()
						 : json_string(o->audience))) ||
	    (o->from && campaign_set_date(cmd, b, "start_date", "from", o->from)) ||
	    (o->until && campaign_set_date(cmd, b, "end_date", "until", o->until)))
		goto fail;
	if ((o->disabled || o->disable) &&
	    json_object_set_new(b, "enabled", json_false()) < 0)
		goto fail;
	if (o->enable && json_object_set_new(b, "enabled", json_true()) < 0)
		goto fail;
	return b;
fail:
	json_decref(b);
	return NULL;
}

/* "a, b, c" from an array of strings. */
static void campaign_join(struct buf *b, const json_t *a)
{
	size_t i;
	const json_t *x;
	json_array_foreach(a, i, x)
		buf_appendf(b, "%s%s", i ? ", " : "",
			    json_is_string(x) ? json_string_value(x) : "?");
}

static const char *campaign_or(const json_t *k, const char *key,
			       const char *dflt)
{
	const char *s = cli_str(k, key);
	return *s ? s : dflt;
}

/* "created campaign 3: 汛期防汛知识, version 1, enabled; next run …" */
static void campaign_print_saved(const char *what, const json_t *k)
{
	printf("%s campaign %lld: %s, version %lld, %s; next run %s\n", what,
	       cli_int(k, "id"), cli_str(k, "name"), cli_int(k, "version"),
	       json_is_true(json_object_get(k, "enabled")) ? "enabled" : "disabled",
	       campaign_or(k, "next_run_at", "none"));
}

static int campaign_path(struct buf *path, long long id, const char *rest)
{
	return buf_appendf(path, "/api/v1/campaigns/%lld%s", id, rest);
}

/* ---- list, show ---- */

static int cmd_campaign_list(struct cli *c, int argc, char **argv)
{
	static const struct cli_help h = { "campaign list", "campaign list",
		"Lists the campaigns: their schedule, regions, how many notices they\n"
		"rotate, the next run and how many ran." };
	static const char *const heads[] = { "ID", "NAME", "ENABLED", "SCHEDULE",
					     "REGIONS", "NOTICES", "NEXT RUN",
					     "RUNS" };
	json_t *ans = NULL;
	struct table t;
	size_t i;
	const json_t *k;
	int rc;
	if (cli_parse(c, &h, NULL, argc, argv, NULL, 0, 0, NULL, &rc) < 0)
		return rc;
	table_init(&t, 8, heads);
	rc = client_show(c, h.cmd, "/api/v1/campaigns", &ans);
	if (rc != 0 || !ans)
		goto done;
	if (!json_array_size(json_object_get(ans, "items"))) {
		printf("no campaigns\n");
		goto done;
	}
	table_right(&t, 0);
	table_right(&t, 5);
	table_right(&t, 7);
	json_array_foreach(json_object_get(ans, "items"), i, k) {
		struct buf regions = BUF_INIT;
		campaign_join(&regions, json_object_get(k, "regions"));
		table_cellf(&t, "%lld", cli_int(k, "id"));
		table_cell(&t, cli_str(k, "name"));
		table_cell(&t, json_is_true(json_object_get(k, "enabled")) ? "yes" : "no");
		table_cell(&t, cli_str(k, "schedule"));
		table_cell(&t, buf_str(&regions));
		table_cellf(&t, "%zu", json_array_size(json_object_get(k, "notices")));
		table_cell(&t, campaign_or(k, "next_run_at", "-"));
		table_cellf(&t, "%lld", cli_int(k, "runs"));
		buf_free(&regions);
	}
	if (table_print(&t, stdout, c->width, c->out_tty) < 0)
		rc = CLI_USAGE;
done:
	table_free(&t);
	json_decref(ans);
	return rc;
}

static void campaign_print(struct cli *c, const json_t *k)
{
	struct buf regions = BUF_INIT, notices = BUF_INIT, tiers = BUF_INIT;
	const json_t *list = json_object_get(k, "notices");
	size_t n = json_array_size(list);
	const char *next = n ? json_string_value(json_array_get(
				       list, (size_t)cli_int(k, "next_index") % n))
			     : NULL;
	campaign_join(&regions, json_object_get(k, "regions"));
	campaign_join(&notices, list);
	campaign_join(&tiers, json_object_get(k, "tiers"));
	table_line(stdout, c->width, "campaign %lld: %s (%s, version %lld)",
		   cli_int(k, "id"), cli_str(k, "name"),
		   json_is_true(json_object_get(k, "enabled")) ? "enabled" : "disabled",
		   cli_int(k, "version"));
	table_line(stdout, c->width, "  schedule  %s, from %s until %s",
		   cli_str(k, "schedule"), campaign_or(k, "start_date", "now"),
		   campaign_or(k, "end_date", "no end"));
	table_line(stdout, c->width, "  regions   %s", buf_str(&regions));
	table_line(stdout, c->width, "  tiers     %s; audience %s", buf_str(&tiers),
		   campaign_or(k, "audience", "all"));
	table_line(stdout, c->width, "  notices   %s (next: %s)", buf_str(&notices),
		   next ? next : "-");
	table_line(stdout, c->width, "  next run  %s", campaign_or(k, "next_run_at", "none"));
	table_line(stdout, c->width, "  last run  %s; %lld runs",
		   campaign_or(k, "last_run_at", "never"), cli_int(k, "runs"));
	buf_free(&regions);
	buf_free(&notices);
	buf_free(&tiers);
}

static int cmd_campaign_show(struct cli *c, int argc, char **argv)
{
	static const struct cli_help h = { "campaign show", "campaign show ID",
		"Shows a campaign: its schedule and dates, regions, tiers and\n"
		"audience, the notices in the order they go out (and which is next),\n"
		"the next and the last run." };
	struct buf path = BUF_INIT;
	json_t *k = NULL;
	long long id;
	int rc;
	if (cli_parse_one_id(c, &h, NULL, argc, argv, &id, &rc) < 0)
		return rc;
	rc = CLI_USAGE;
	if (campaign_path(&path, id, "") < 0)
		goto done;
	rc = client_json(c, h.cmd, "GET", buf_str(&path), NULL, &k);
	if (rc == 0 && c->json)
		cli_print_json(k);
	else if (rc == 0)
		campaign_print(c, k);
done:
	json_decref(k);
	buf_free(&path);
	return rc;
}

/* ---- create, set, rm ---- */

static int cmd_campaign_create(struct cli *c, int argc, char **argv)
{
	struct campaign_opts o;
	const struct cli_opt opts[] = {
		CAMPAIGN_FIELD_OPTS(o),
		{ "disabled", 0, NULL, "save it without scheduling it", &o.disabled },
		{ NULL, 0, NULL, NULL, NULL },
	};
	static const struct cli_help h = { "campaign create",
		"campaign create --name N --schedule S --regions CODE[,CODE...]\n"
		"                       --notices ID[,ID...] [--tiers village,town] [--audience A]\n"
		"                       [--from DATE] [--until DATE] [--disabled]",
		"Creates a campaign: at each time of the schedule the next notice (in\n"
		"turn) goes to the channels of the regions and of everything below them\n"
		"that are of the tiers (default: villages). Channels in quiet hours\n"
		"(scicast regions quiet) or in an active emergency are skipped.\n\n"
		"The schedule is cron, \"minute hour day-of-month month day-of-week\"\n"
		"(names allowed: 0 10 * 5-10 mon is Mondays at 10:00, May to October),\n"
		"or @every 30m. scicast campaign preview shows the next sends." };
	json_t *body = NULL, *ans = NULL;
	int rc;
	memset(&o, 0, sizeof o);
	if (cli_parse(c, &h, opts, argc, argv, NULL, 0, 0, NULL, &rc) < 0)
		return rc;
	const char *missing = !o.name ? "--name" : !o.schedule ? "--schedule"
			    : !o.regions ? "--regions" : !o.notices ? "--notices"
			    : NULL;
	if (missing)
		return cli_usage_error(h.cmd, "%s is required", missing);
	body = campaign_body(h.cmd, &o);
	if (!body)
		return CLI_USAGE;
	rc = client_json(c, h.cmd, "POST", "/api/v1/campaigns", body, &ans);
	if (rc == 0 && c->json)
		cli_print_json(ans);
	else if (rc == 0)
		campaign_print_saved("created", ans);
	json_decref(body);
	json_decref(ans);
	return rc;
}

static int cmd_campaign_set(struct cli *c, int argc, char **argv)
{
	struct campaign_opts o;
	const struct cli_opt opts[] = {
		CAMPAIGN_FIELD_OPTS(o),
		{ "enable", 0, NULL, "schedule it again", &o.enable },
		{ "disable", 0, NULL, "stop it (nothing more is sent)", &o.disable },
		{ NULL, 0, NULL, NULL, NULL },
	};
	static const struct cli_help h = { "campaign set",
		"campaign set ID [--name N] [--schedule S] [--regions ...] [--notices ...]\n"
		"                    [--tiers ...] [--audience A|all] [--from DATE|none]\n"
		"                    [--until DATE|none] [--enable | --disable]",
		"Changes a campaign: what is not given stays. It reads the campaign\n"
		"and saves the change as an edit of the version it read, so a change\n"
		"someone made meanwhile is refused (1) rather than undone. New\n"
		"--notices start again from the first." };
	struct buf path = BUF_INIT;
	json_t *body = NULL, *cur = NULL, *ans = NULL;
	long long id;
	int rc;
	memset(&o, 0, sizeof o);
	if (cli_parse_one_id(c, &h, opts, argc, argv, &id, &rc) < 0)
		return rc;
	body = campaign_body(h.cmd, &o);
	if (!body)
		return CLI_USAGE;
	rc = CLI_USAGE;
	if (json_object_size(body) == 0) {
		cli_usage_error(h.cmd, "nothing to change");
		goto done;
	}
	if (campaign_path(&path, id, "") < 0)
		goto done;
	rc = client_json(c, h.cmd, "GET", buf_str(&path), NULL, &cur);
	if (rc != 0)
		goto done;
	rc = CLI_USAGE;
	if (json_object_set_new(body, "version",
				json_integer(cli_int(cur, "version"))) < 0)
		goto done;
	rc = client_json(c, h.cmd, "PATCH", buf_str(&path), body, &ans);
	if (rc == 0 && c->json)
		cli_print_json(ans);
	else if (rc == 0)
		campaign_print_saved("updated", ans);
done:
	json_decref(body);
	json_decref(cur);
	json_decref(ans);
	buf_free(&path);
	return rc;
}

static int cmd_campaign_rm(struct cli *c, int argc, char **argv)
{
	static const struct cli_help h = { "campaign rm", "campaign rm ID",
		"Deletes a campaign and its run history. Notices already on their\n"
		"way still go out; to pause it instead: scicast campaign set ID\n"
		"--disable." };
	return cli_delete(c, &h, argc, argv, "campaigns", "deleted campaign");
}

/* ---- preview, runs, run ---- */

/* The title of a library notice, fetched once per id into titles (a
 * notice deleted since is shown by its id alone, not as an error). 0, or
 * the exit status when the server could not be reached. */
static int campaign_title(struct cli *c, json_t *titles, const char *id,
			  const char **title)
{
	struct client_resp r = CLIENT_RESP_INIT;
	struct buf path = BUF_INIT;
	const json_t *have = json_object_get(titles, id);
	int rc = 0;
	if (!have) {
		if (buf_append_str(&path, "/api/v1/library/") < 0 ||
		    client_escape(&path, id) < 0) {
			rc = CLI_USAGE;
			goto done;
		}
		rc = client_send(c, "GET", buf_str(&path), NULL, NULL, 0, &r);
		if (rc != 0)
			goto done;
		const char *t = r.status == 200
			? json_string_value(json_object_get(r.json, "title")) : NULL;
		json_object_set_new(titles, id, json_string(t ? t : ""));
		have = json_object_get(titles, id);
	}
	*title = json_string_value(have);
done:
	client_resp_free(&r);
	buf_free(&path);
	return rc;
}

static int cmd_campaign_preview(struct cli *c, int argc, char **argv)
{
	const char *n_s;
	const struct cli_opt opts[] = {
		{ "count", 'n', "N", "how many sends (1 to 100, default 10)", &n_s },
		{ NULL, 0, NULL, NULL, NULL },
	};
	static const struct cli_help h = { "campaign preview",
		"campaign preview ID [-n N]",
		"Shows the next N sends of a campaign as its schedule, dates and\n"
		"notice rotation make them: when, which notice and its title. Quiet\n"
		"hours and emergencies are decided per channel at the time, so they\n"
		"are not in the preview." };
	static const char *const heads[] = { "WHEN", "NOTICE", "TITLE" };
	const char *pos[1];
	struct buf path = BUF_INIT;
	json_t *ans = NULL, *titles = json_object();
	struct table t;
	size_t i;
	const json_t *s;
	long long id, n = 10;
	int rc;
	table_init(&t, 3, heads);
	if (cli_parse(c, &h, opts, argc, argv, pos, 1, 1, NULL, &rc) < 0)
		goto done;
	rc = CLI_USAGE;
	if (cli_parse_id(h.cmd, "ID", pos[0], &id) < 0)
		goto done;
	if (n_s && util_parse_ll(n_s, 1, 100, &n) < 0) {
		cli_usage_error(h.cmd, "-n takes a number from 1 to 100, not "
				"\"%.40s\"", n_s);
		goto done;
	}
	if (!titles || campaign_path(&path, id, "/preview") < 0 ||
	    buf_appendf(&path, "?n=%lld", n) < 0)
		goto done;
	rc = client_show(c, h.cmd, buf_str(&path), &ans);
	if (rc != 0 || !ans)
		goto done;
	if (!json_array_size(json_object_get(ans, "sends"))) {
		printf("campaign %lld sends nothing more: it is disabled, or past "
		       "its end date\n", id);
		goto done;
	}
	json_array_foreach(json_object_get(ans, "sends"), i, s) {
		const char *notice = cli_str(s, "notice_id"), *title = "";
		rc = campaign_title(c, titles, notice, &title);
		if (rc != 0)
			goto done;
		table_cell(&t, cli_str(s, "at"));
		table_cell(&t, notice);
		table_cell(&t, title);
	}
	if (table_print(&t, stdout, c->width, c->out_tty) < 0)
		rc = CLI_USAGE;
done:
	table_free(&t);
	json_decref(titles);
	json_decref(ans);
	buf_free(&path);
	return rc;
}

static int cmd_campaign_runs(struct cli *c, int argc, char **argv)
{
	static const struct cli_help h = { "campaign runs", "campaign runs ID",
		"Lists the runs of a campaign, newest first: the notice, the\n"
		"deliveries planned, and the channels skipped because an emergency\n"
		"was active on them or it was their quiet hours. (The deliveries\n"
		"themselves: GET /api/v1/deliveries?campaign=ID.)" };
	static const char *const heads[] = { "RUN", "AT", "NOTICE", "DELIVERIES",
					     "IN EMERGENCY", "QUIET HOURS" };
	struct buf path = BUF_INIT;
	json_t *ans = NULL;
	struct table t;
	size_t i;
	const json_t *r;
	long long id;
	int rc;
	if (cli_parse_one_id(c, &h, NULL, argc, argv, &id, &rc) < 0)
		return rc;
	table_init(&t, 6, heads);
	rc = CLI_USAGE;
	if (campaign_path(&path, id, "/runs") < 0)
		goto done;
	rc = client_show(c, h.cmd, buf_str(&path), &ans);
	if (rc != 0 || !ans)
		goto done;
	if (!json_array_size(json_object_get(ans, "items"))) {
		printf("campaign %lld has not run yet\n", id);
		goto done;
	}
	table_right(&t, 0);
	for (size_t k = 3; k < 6; k++)
		table_right(&t, k);
	json_array_foreach(json_object_get(ans, "items"), i, r) {
		table_cellf(&t, "%lld", cli_int(r, "run"));
		table_cell(&t, cli_str(r, "at"));
		table_cell(&t, cli_str(r, "notice_id"));
		table_cellf(&t, "%lld", cli_int(r, "deliveries"));
		table_cellf(&t, "%lld", cli_int(r, "suppressed"));
		table_cellf(&t, "%lld", cli_int(r, "quiet"));
	}
	if (table_print(&t, stdout, c->width, c->out_tty) < 0)
		rc = CLI_USAGE;
done:
	table_free(&t);
	json_decref(ans);
	buf_free(&path);
	return rc;
}

static int cmd_campaign_run(struct cli *c, int argc, char **argv)
{
	static const struct cli_help h = { "campaign run", "campaign run ID",
		"Runs a campaign now, out of its schedule: the next notice goes out\n"
		"as at a scheduled time (quiet hours and emergencies still hold it\n"
		"back per channel), and the rotation moves on." };
	struct buf path = BUF_INIT;
	json_t *ans = NULL;
	long long id;
	int rc;
	if (cli_parse_one_id(c, &h, NULL, argc, argv, &id, &rc) < 0)
		return rc;
	rc = CLI_USAGE;
	if (campaign_path(&path, id, "/run") < 0)
		goto done;
	rc = client_json(c, h.cmd, "POST", buf_str(&path), NULL, &ans);
	if (rc == 0 && c->json)
		cli_print_json(ans);
	else if (rc == 0)
		printf("campaign %lld, run %lld: notice %s, %lld deliveries planned; "
		       "skipped %lld channels in an emergency, %lld in quiet hours\n",
		       id, cli_int(ans, "run"), cli_str(ans, "notice_id"),
		       cli_int(ans, "deliveries"), cli_int(ans, "suppressed"),
		       cli_int(ans, "quiet"));
done:
	json_decref(ans);
	buf_free(&path);
	return rc;
}

static const struct cli_cmd campaign_cmds[] = {
	{ "list", "list", "the campaigns", cmd_campaign_list },
	{ "show", "show ID", "one campaign", cmd_campaign_show },
	{ "create", "create --name N --schedule S --regions C[,C] --notices ID[,ID] ...",
	  "create a campaign", cmd_campaign_create },
	{ "set", "set ID [--schedule S] ... [--enable | --disable]",
	  "change a campaign", cmd_campaign_set },
	{ "rm", "rm ID", "delete a campaign", cmd_campaign_rm },
	{ "preview", "preview ID [-n N]", "the next sends: when, which notice",
	  cmd_campaign_preview },
	{ "runs", "runs ID", "past runs", cmd_campaign_runs },
	{ "run", "run ID", "run it now", cmd_campaign_run },
};

int cmd_campaign(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "campaign", campaign_cmds,
			    sizeof campaign_cmds / sizeof campaign_cmds[0], argc,
			    argv);
}
