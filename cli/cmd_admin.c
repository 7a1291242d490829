/* cmd_admin: what an administrator keeps in order between emergencies —
 * the region tree and its quiet hours, the channels, dead deliveries and their re-drives,
 * and API tokens. Secrets the server shows once (a webhook's secret, a
 * new token) are printed so they cannot be missed, and token create
 * prints the token alone so TOKEN=$(scicast token create …) works. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "client.h"
#include "table.h"
#include "util.h"

/* ---- regions ---- */

static int cmd_regions_import(struct cli *c, int argc, char **argv)
{
	static const struct cli_help h = { "regions import",
		"regions import FILE",
		"Imports regions from CSV (code,name,level,parent_code with a header\n"
		"line; - reads standard input), all or nothing. When a row is bad\n"
		"nothing is imported, and every bad line is printed as FILE:LINE:\n"
		"message. Importing the same file again changes nothing." };
	const char *pos[1];
	json_t *ans = NULL;
	int rc;
	if (cli_parse(c, &h, NULL, argc, argv, pos, 1, 1, NULL, &rc) < 0)
		return rc;
	rc = client_import(c, h.cmd, "/api/v1/regions/import", pos[0],
			   "text/csv", &ans);
	if (rc == 0 && c->json)
		cli_print_json(ans);
	else if (rc == 0)
		printf("%s: %lld inserted, %lld updated, %lld unchanged\n", pos[0],
		       cli_int(ans, "inserted"), cli_int(ans, "updated"),
		       cli_int(ans, "unchanged"));
	json_decref(ans);
	return rc;
}

/* The name of an ancestor of region r, for "from 中山市 (442000000000)". */
static const char *admin_ancestor_name(const json_t *r, const char *code)
{
	size_t i;
	const json_t *x;
	json_array_foreach(json_object_get(r, "ancestors"), i, x)
		if (strcmp(cli_str(x, "code"), code) == 0)
			return cli_str(x, "name");
	return "";
}

/* "22:00-07:00, from 中山市 (442000000000)": where the window that holds
 * campaigns back comes from matters as much as the window, since
 * changing it there changes it for every region below. */
static void admin_quiet(struct buf *b, const json_t *r)
{
	const json_t *eff = json_object_get(r, "quiet_hours_effective");
	const char *window = cli_str(eff, "window");
	const char *from = cli_str(eff, "from");
	if (!eff)
		buf_append_str(b, "unknown (the server does not say)");
	else if (!*from)
		buf_appendf(b, "%s (the server's default)", window);
	else if (strcmp(from, cli_str(r, "code")) == 0)
		buf_appendf(b, "%s (its own)", window);
	else
		buf_appendf(b, "%s, from %s (%s)", window,
			    admin_ancestor_name(r, from), from);
}

static int cmd_regions_show(struct cli *c, int argc, char **argv)
{
	static const struct cli_help h = { "regions show", "regions show CODE",
		"Shows a region: its level, where it is in the tree, its MQTT topic,\n"
		"the quiet hours campaigns keep there (and where they come from), and\n"
		"its children with the villages below each." };
	static const char *const heads[] = { "CODE", "NAME", "LEVEL", "VILLAGES" };
	const char *pos[1];
	struct buf path = BUF_INIT, anc = BUF_INIT, quiet = BUF_INIT;
	json_t *r = NULL;
	struct table t;
	size_t i;
	const json_t *x;
	int rc;
	if (cli_parse(c, &h, NULL, argc, argv, pos, 1, 1, NULL, &rc) < 0)
		return rc;
	if (!util_is_region_code(pos[0], strlen(pos[0])))
		return cli_usage_error(h.cmd, "CODE is a 12-digit region code");
	table_init(&t, 4, heads);
	rc = CLI_USAGE;
	if (buf_appendf(&path, "/api/v1/regions/%s", pos[0]) < 0)
		goto done;
	rc = client_show(c, h.cmd, buf_str(&path), &r);
	if (rc != 0 || !r)
		goto done;
	json_array_foreach(json_object_get(r, "ancestors"), i, x)
		buf_appendf(&anc, "%s%s (%s)", i ? " > " : "", cli_str(x, "name"),
			    cli_str(x, "code"));
	printf("%s (%s), %s\n", cli_str(r, "name"), cli_str(r, "code"),
	       cli_str(r, "level"));
	if (anc.len)
		printf("  in %s\n", buf_str(&anc));
	printf("  topic %s\n  %lld villages below, %lld regions below in all\n",
	       cli_str(r, "topic"), cli_int(r, "village_count"),
	       cli_int(r, "descendant_count"));
	admin_quiet(&quiet, r);
	table_line(stdout, c->width, "  quiet hours %s", buf_str(&quiet));
	table_right(&t, 3);
	json_array_foreach(json_object_get(r, "children"), i, x) {
		table_cell(&t, cli_str(x, "code"));
		table_cell(&t, cli_str(x, "name"));
		table_cell(&t, cli_str(x, "level"));
		if (json_object_get(x, "village_count"))
			table_cellf(&t, "%lld", cli_int(x, "village_count"));
		else
			table_cell(&t, "-");
	}
	if (table_rows(&t)) {
		printf("\n");
		if (table_print(&t, stdout, c->width, c->out_tty) < 0)
			rc = CLI_USAGE;
	}
done:
	table_free(&t);
	json_decref(r);
	buf_free(&quiet);
	buf_free(&anc);
	buf_free(&path);
	return rc;
}

static int cmd_regions_quiet(struct cli *c, int argc, char **argv)
{
	static const struct cli_help h = { "regions quiet",
		"regions quiet CODE HH:MM-HH:MM|none|inherit",
		"Sets when campaigns keep quiet in a region and everything below it\n"
		"that has no window of its own: a window such as 22:00-07:00 (it may\n"
		"cross midnight), none (campaigns may send at any hour), or inherit\n"
		"(the parent's window again, else the server's [campaigns]\n"
		"quiet_hours). Emergencies ignore quiet hours. scicast regions show\n"
		"CODE says which window applies and where it comes from." };
	const char *pos[2];
	struct buf path = BUF_INIT, quiet = BUF_INIT;
	json_t *body = NULL, *ans = NULL, *r = NULL;
	int rc;
	if (cli_parse(c, &h, NULL, argc, argv, pos, 2, 2, NULL, &rc) < 0)
		return rc;
	if (!util_is_region_code(pos[0], strlen(pos[0])))
		return cli_usage_error(h.cmd, "CODE is a 12-digit region code");
	rc = CLI_USAGE;
	body = json_pack("{s:o}", "quiet_hours", strcmp(pos[1], "inherit") == 0
				  ? json_null() : json_string(pos[1]));
	if (!body) {
		cli_usage_error(h.cmd, "the window is not UTF-8 text");
		goto done;
	}
	if (buf_appendf(&path, "/api/v1/regions/%s", pos[0]) < 0)
		goto done;
	rc = client_json(c, h.cmd, "PATCH", buf_str(&path), body, &ans);
	if (rc != 0)
		goto done;
	if (c->json) {
		cli_print_json(ans);
		goto done;
	}
	/* the answer has the region's own setting only; what applies after
	 * an inherit comes from the region */
	rc = client_json(c, h.cmd, "GET", buf_str(&path), NULL, &r);
	if (rc != 0)
		goto done;
	admin_quiet(&quiet, r);
	table_line(stdout, c->width, "%s (%s): quiet hours %s", cli_str(r, "name"),
		   cli_str(r, "code"), buf_str(&quiet));
done:
	buf_free(&quiet);
	json_decref(body);
	json_decref(ans);
	json_decref(r);
	buf_free(&path);
	return rc;
}

static const struct cli_cmd regions_cmds[] = {
	{ "import", "import FILE", "import regions from CSV (all or nothing)",
	  cmd_regions_import },
	{ "show", "show CODE", "a region, its ancestors and children",
	  cmd_regions_show },
	{ "quiet", "quiet CODE HH:MM-HH:MM|none|inherit",
	  "when campaigns keep quiet in a region", cmd_regions_quiet },
};

int cmd_regions(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "regions", regions_cmds,
			    sizeof regions_cmds / sizeof regions_cmds[0], argc,
			    argv);
}

/* ---- channels ---- */

/* "webhook 石岐街道工作群 on 石岐街道 (442000001000) -> https://…" */
static void admin_channel_line(const json_t *ch)
{
	printf("channel %lld: %s%s%s on %s (%s), %s, %s -> %s\n",
	       cli_int(ch, "id"), cli_str(ch, "kind"),
	       *cli_str(ch, "name") ? " " : "", cli_str(ch, "name"),
	       cli_str(ch, "region_name"), cli_str(ch, "region"),
	       cli_str(ch, "role"),
	       json_is_true(json_object_get(ch, "enabled")) ? "enabled" : "disabled",
	       cli_str(ch, "target"));
}

static void admin_secret(const json_t *ch)
{
	const char *secret = json_string_value(json_object_get(ch, "secret"));
	if (secret)
		printf("\nsecret: %s\n  (shown this once: store it now where the "
		       "receiver verifies signatures)\n", secret);
}

static int cmd_channels_list(struct cli *c, int argc, char **argv)
{
	const char *region, *kind, *limit, *offset;
	const struct cli_opt opts[] = {
		{ "region", 0, "CODE", "the channels of one region", &region },
		{ "kind", 0, "K", "mqtt or webhook", &kind },
		{ "limit", 0, "N", "at most N (default 100)", &limit },
		{ "offset", 0, "N", "skip the first N", &offset },
		{ NULL, 0, NULL, NULL, NULL },
	};
	static const struct cli_help h = { "channels list",
		"channels list [--region CODE] [--kind mqtt|webhook] [--limit N] [--offset N]",
		"Lists channels: every region has its MQTT channel; webhooks are\n"
		"added by hand." };
	static const char *const heads[] = { "ID", "REGION", "KIND", "NAME",
					     "ROLE", "ENABLED", "TARGET" };
	struct buf path = BUF_INIT;
	json_t *ans = NULL;
	struct table t;
	size_t i;
	const json_t *x;
	int rc;
	if (cli_parse(c, &h, opts, argc, argv, NULL, 0, 0, NULL, &rc) < 0)
		return rc;
	table_init(&t, 7, heads);
	rc = CLI_USAGE;
	if (buf_append_str(&path, "/api/v1/channels") < 0 ||
	    client_query(&path, "region", region) < 0 ||
	    client_query(&path, "kind", kind) < 0 ||
	    client_query(&path, "limit", limit) < 0 ||
	    client_query(&path, "offset", offset) < 0)
		goto done;
	rc = client_show(c, h.cmd, buf_str(&path), &ans);
	if (rc != 0 || !ans)
		goto done;
	table_right(&t, 0);
	json_array_foreach(json_object_get(ans, "items"), i, x) {
		table_cellf(&t, "%lld", cli_int(x, "id"));
		table_cell(&t, cli_str(x, "region_name"));
		table_cell(&t, cli_str(x, "kind"));
		table_cell(&t, cli_str(x, "name"));
		table_cell(&t, cli_str(x, "role"));
		table_cell(&t, json_is_true(json_object_get(x, "enabled")) ? "yes" : "no");
		table_cell(&t, cli_str(x, "target"));
	}
	if (table_print(&t, stdout, c->width, c->out_tty) < 0)
		rc = CLI_USAGE;
	else if (cli_int(ans, "total") > cli_int(ans, "offset") + (long long)table_rows(&t))
		printf("(%zu of %lld: --limit and --offset show more)\n",
		       table_rows(&t), cli_int(ans, "total"));
done:
	table_free(&t);
	json_decref(ans);
	buf_free(&path);
	return rc;
}

static int cmd_channels_add(struct cli *c, int argc, char **argv)
{
	const char *region, *kind, *target, *name, *role, *audience, *locale;
	const struct cli_opt opts[] = {
		{ "region", 0, "CODE", "the region it serves (required)", &region },
		{ "kind", 0, "K", "webhook or mqtt (required)", &kind },
		{ "target", 0, "URL", "the webhook's URL, or an MQTT topic", &target },
		{ "name", 0, "N", "a name people recognise", &name },
		{ "role", 0, "R", "notify (default) or escalation", &role },
		{ "audience", 0, "A", "general, elderly, children, farmers, workers", &audience },
		{ "locale", 0, "L", "the language of its notices (default zh-CN)", &locale },
		{ NULL, 0, NULL, NULL, NULL },
	};
	static const struct cli_help h = { "channels add",
		"channels add --region CODE --kind webhook --target URL [--name N]\n"
		"                     [--role notify|escalation] [--audience A] [--locale L]",
		"Adds a channel. A webhook gets a signing secret, which is printed\n"
		"this once: store it where the receiver verifies signatures." };
	json_t *body = NULL, *ans = NULL;
	int rc;
	if (cli_parse(c, &h, opts, argc, argv, NULL, 0, 0, NULL, &rc) < 0)
		return rc;
	if (!region || !kind)
		return cli_usage_error(h.cmd, "--region and --kind are required");
	struct { const char *key, *value; } fields[] = {
		{ "region", region }, { "kind", kind }, { "target", target },
		{ "name", name }, { "role", role }, { "audience", audience },
		{ "locale", locale },
	};
	rc = CLI_USAGE;
	if (!(body = json_object()))
		goto done;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (fields[i].value &&
		    json_object_set_new(body, fields[i].key,
					json_string(fields[i].value)) < 0) {
			cli_usage_error(h.cmd, "--%s is not UTF-8 text", fields[i].key);
			goto done;
		}
	rc = client_json(c, h.cmd, "POST", "/api/v1/channels", body, &ans);
	if (rc != 0)
		goto done;
	if (c->json) {
		cli_print_json(ans);
		goto done;
	}
	printf("created ");
	admin_channel_line(ans);
	admin_secret(ans);
done:
	json_decref(body);
	json_decref(ans);
	return rc;
}

/* "true"/"false" → booleans, "null" → null, whole numbers → numbers,
 * anything else a string (quote nothing: the shell already did). */
static json_t *admin_value(const char *v)
{
	long long n;
	if (strcmp(v, "true") == 0)
		return json_true();
	if (strcmp(v, "false") == 0)
		return json_false();
	if (strcmp(v, "null") == 0)
		return json_null();
	if (util_parse_ll(v, INT64_MIN, INT64_MAX, &n) == 0)
		return json_integer((json_int_t)n);
	return json_string(v);
}

static int cmd_channels_set(struct cli *c, int argc, char **argv)
{
	static const struct cli_help h = { "channels set",
		"channels set ID KEY=VALUE...",
		"Changes a channel (any field but region and kind): name, target,\n"
		"enabled, role, audience, locale, secret, timeout_ms, max_concurrency,\n"
		"headers.NAME. VALUE true/false is a boolean, null clears (target=null\n"
		"points an MQTT channel back to its default topic), a whole number is\n"
		"a number, anything else a string.\n\n"
		"  scicast channels set 304 enabled=false timeout_ms=8000" };
	const char *pos[33];
	json_t *body = NULL, *headers = NULL, *ans = NULL;
	struct buf path = BUF_INIT;
	long long id;
	int n, rc;
	if (cli_parse(c, &h, NULL, argc, argv, pos, 2, 33, &n, &rc) < 0)
		return rc;
	if (cli_parse_id(h.cmd, "ID", pos[0], &id) < 0)
		return CLI_USAGE;
	rc = CLI_USAGE;
	if (!(body = json_object()))
		goto done;
	for (int i = 1; i < n; i++) {
		const char *eq = strchr(pos[i], '=');
		if (!eq || eq == pos[i]) {
			cli_usage_error(h.cmd, "\"%.60s\" is not KEY=VALUE", pos[i]);
			goto done;
		}
		char key[64];
		if ((size_t)(eq - pos[i]) >= sizeof key) {
			cli_usage_error(h.cmd, "\"%.60s\": the key is too long", pos[i]);
			goto done;
		}
		memcpy(key, pos[i], (size_t)(eq - pos[i]));
		key[eq - pos[i]] = '\0';
		json_t *v = strncmp(key, "headers.", 8) == 0 ? json_string(eq + 1)
							     : admin_value(eq + 1);
		if (!v) {
			cli_usage_error(h.cmd, "\"%.60s\": the value is not UTF-8 text",
					pos[i]);
			goto done;
		}
		if (strncmp(key, "headers.", 8) == 0) {
			if (!headers && (!(headers = json_object()) ||
					 json_object_set(body, "headers", headers) < 0)) {
				json_decref(v);
				goto done;
			}
			json_object_set_new(headers, key + 8, v);
		} else {
			json_object_set_new(body, key, v);
		}
	}
	if (buf_appendf(&path, "/api/v1/channels/%lld", id) < 0)
		goto done;
	rc = client_json(c, h.cmd, "PATCH", buf_str(&path), body, &ans);
	if (rc != 0)
		goto done;
	if (c->json) {
		cli_print_json(ans);
		goto done;
	}
	printf("updated ");
	admin_channel_line(ans);
	admin_secret(ans);
done:
	json_decref(headers);
	json_decref(body);
	json_decref(ans);
	buf_free(&path);
	return rc;
}

static int cmd_channels_rm(struct cli *c, int argc, char **argv)
{
	static const struct cli_help h = { "channels rm", "channels rm ID",
		"Deletes a channel. A region's automatic MQTT channel cannot be\n"
		"deleted: disable it (scicast channels set ID enabled=false)." };
	return cli_delete(c, &h, argc, argv, "channels", "deleted channel");
}

static const struct cli_cmd channels_cmds[] = {
	{ "list", "list [--region CODE] [--kind mqtt|webhook]", "the channels",
	  cmd_channels_list },
	{ "add", "add --region CODE --kind webhook --target URL [--name N] "
		 "[--role escalation] [--audience A] [--locale L]",
	  "add a channel (prints a webhook's secret once)", cmd_channels_add },
	{ "set", "set ID KEY=VALUE...", "change a channel", cmd_channels_set },
	{ "rm", "rm ID", "delete a channel", cmd_channels_rm },
};

int cmd_channels(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "channels", channels_cmds,
			    sizeof channels_cmds / sizeof channels_cmds[0], argc,
			    argv);
}

/* ---- deliveries ---- */

static int cmd_deliveries_dead(struct cli *c, int argc, char **argv)
{
	const char *emergency, *kind, *limit;
	const struct cli_opt opts[] = {
		{ "emergency", 0, "ID", "only this emergency's", &emergency },
		{ "kind", 0, "K", "mqtt or webhook", &kind },
		{ "limit", 0, "N", "at most N (default 100)", &limit },
		{ NULL, 0, NULL, NULL, NULL },
	};
	static const struct cli_help h = { "deliveries dead",
		"deliveries dead [--emergency ID] [--kind mqtt|webhook] [--limit N]",
		"Lists the dead letters: deliveries that used up their attempts (or\n"
		"whose webhook answered 410 Gone), with their last error." };
	static const char *const heads[] = { "ID", "EMERGENCY", "REGION", "KIND",
					     "TARGET", "ATTEMPTS", "LAST ERROR" };
	struct buf path = BUF_INIT;
	json_t *ans = NULL;
	struct table t;
	size_t i;
	const json_t *x;
	long long eid;
	int rc;
	if (cli_parse(c, &h, opts, argc, argv, NULL, 0, 0, NULL, &rc) < 0)
		return rc;
	if (emergency && cli_parse_id(h.cmd, "--emergency", emergency, &eid) < 0)
		return CLI_USAGE;
	table_init(&t, 7, heads);
	rc = CLI_USAGE;
	if (buf_append_str(&path, "/api/v1/deliveries?state=dead") < 0 ||
	    client_query(&path, "emergency", emergency) < 0 ||
	    client_query(&path, "kind", kind) < 0 ||
	    client_query(&path, "limit", limit) < 0)
		goto done;
	rc = client_show(c, h.cmd, buf_str(&path), &ans);
	if (rc != 0 || !ans)
		goto done;
	if (!json_array_size(json_object_get(ans, "items"))) {
		printf("no dead deliveries\n");
		goto done;
	}
	table_right(&t, 0);
	table_right(&t, 1);
	table_right(&t, 5);
	json_array_foreach(json_object_get(ans, "items"), i, x) {
		table_cellf(&t, "%lld", cli_int(x, "id"));
		table_cellf(&t, "%lld", cli_int(x, "emergency_id"));
		table_cell(&t, cli_str(x, "region_name"));
		table_cell(&t, cli_str(x, "kind"));
		table_cell(&t, cli_str(x, "target"));
		table_cellf(&t, "%lld", cli_int(x, "attempts"));
		table_cell(&t, cli_str(x, "last_error"));
	}
	if (table_print(&t, stdout, c->width, c->out_tty) < 0)
		rc = CLI_USAGE;
done:
	table_free(&t);
	json_decref(ans);
	buf_free(&path);
	return rc;
}

static int cmd_deliveries_show(struct cli *c, int argc, char **argv)
{
	static const struct cli_help h = { "deliveries show", "deliveries show ID",
		"Shows one delivery and, for a webhook, every attempt: when, the HTTP\n"
		"status, how long it took, what came of it." };
	static const char *const heads[] = { "ATTEMPT", "AT", "HTTP", "MS",
					     "OUTCOME", "ERROR" };
	struct buf path = BUF_INIT;
	json_t *d = NULL;
	struct table t;
	size_t i;
	const json_t *x;
	long long id;
	int rc;
	if (cli_parse_one_id(c, &h, NULL, argc, argv, &id, &rc) < 0)
		return rc;
	table_init(&t, 6, heads);
	rc = CLI_USAGE;
	if (buf_appendf(&path, "/api/v1/deliveries/%lld", id) < 0)
		goto done;
	rc = client_show(c, h.cmd, buf_str(&path), &d);
	if (rc != 0 || !d)
		goto done;
	printf("delivery %lld: %s (%s), emergency %lld revision %lld\n"
	       "  %s (%s), %s tier; channel %lld, %s %s\n"
	       "  %s after %lld attempts and %lld re-sends; sent %s; acked %s %s\n",
	       cli_int(d, "id"), cli_str(d, "message_id"), cli_str(d, "msg_type"),
	       cli_int(d, "emergency_id"), cli_int(d, "revision"),
	       cli_str(d, "region_name"), cli_str(d, "region"), cli_str(d, "tier"),
	       cli_int(d, "channel_id"), cli_str(d, "kind"), cli_str(d, "target"),
	       cli_str(d, "state"), cli_int(d, "attempts"), cli_int(d, "resends"),
	       *cli_str(d, "sent_at") ? cli_str(d, "sent_at") : "-",
	       *cli_str(d, "acked_at") ? cli_str(d, "acked_at") : "-",
	       cli_str(d, "ack_status"));
	if (*cli_str(d, "last_error"))
		printf("  last error: %s\n", cli_str(d, "last_error"));
	if (*cli_str(d, "next_attempt_at"))
		printf("  next attempt: %s\n", cli_str(d, "next_attempt_at"));
	table_right(&t, 0);
	table_right(&t, 2);
	table_right(&t, 3);
	json_array_foreach(json_object_get(d, "history"), i, x) {
		table_cellf(&t, "%lld", cli_int(x, "attempt"));
		table_cell(&t, cli_str(x, "at"));
		if (json_integer_value(json_object_get(x, "http_status")))
			table_cellf(&t, "%lld", cli_int(x, "http_status"));
		else
			table_cell(&t, "-");
		table_cellf(&t, "%lld", cli_int(x, "duration_ms"));
		table_cell(&t, cli_str(x, "outcome"));
		table_cell(&t, cli_str(x, "error"));
	}
	if (table_rows(&t)) {
		printf("\n");
		if (table_print(&t, stdout, c->width, c->out_tty) < 0)
			rc = CLI_USAGE;
	}
done:
	table_free(&t);
	json_decref(d);
	buf_free(&path);
	return rc;
}

static int cmd_deliveries_retry(struct cli *c, int argc, char **argv)
{
	const char *emergency;
	const struct cli_opt opts[] = {
		{ "emergency", 0, "ID", "every dead delivery of this emergency", &emergency },
		{ NULL, 0, NULL, NULL, NULL },
	};
	static const struct cli_help h = { "deliveries retry",
		"deliveries retry ID | deliveries retry --emergency ID",
		"Re-drives a dead (or failed) delivery with a fresh set of attempts,\n"
		"or every dead delivery of an emergency whose channel is enabled." };
	const char *pos[1];
	struct buf path = BUF_INIT;
	json_t *ans = NULL;
	long long id;
	int n, rc;
	if (cli_parse(c, &h, opts, argc, argv, pos, 0, 1, &n, &rc) < 0)
		return rc;
	if ((n == 1) == (emergency != NULL))
		return cli_usage_error(h.cmd, "give a delivery ID or --emergency "
				       "ID (one of them)");
	if (cli_parse_id(h.cmd, "ID", n ? pos[0] : emergency, &id) < 0)
		return CLI_USAGE;
	rc = CLI_USAGE;
	if (buf_appendf(&path, emergency ? "/api/v1/emergencies/%lld/retry"
					 : "/api/v1/deliveries/%lld/retry", id) < 0)
		goto done;
	rc = client_json(c, h.cmd, "POST", buf_str(&path), NULL, &ans);
	if (rc != 0)
		goto done;
	if (c->json)
		cli_print_json(ans);
	else if (emergency)
		printf("emergency %lld: %lld dead deliveries re-driven\n", id,
		       cli_int(ans, "redriven"));
	else
		printf("delivery %lld re-driven: %s\n", id, cli_str(ans, "state"));
done:
	json_decref(ans);
	buf_free(&path);
	return rc;
}

static const struct cli_cmd deliveries_cmds[] = {
	{ "dead", "dead [--emergency ID] [--kind K]", "the dead letters",
	  cmd_deliveries_dead },
	{ "show", "show ID", "one delivery with its attempts",
	  cmd_deliveries_show },
	{ "retry", "retry ID | retry --emergency ID",
	  "re-drive one dead delivery, or all of an emergency",
	  cmd_deliveries_retry },
};

int cmd_deliveries(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "deliveries", deliveries_cmds,
			    sizeof deliveries_cmds / sizeof deliveries_cmds[0],
			    argc, argv);
}

/* ---- tokens ---- */

static int cmd_token_create(struct cli *c, int argc, char **argv)
{
	const char *name, *role, *expires_in, *expires_at;
	const struct cli_opt opts[] = {
		{ "name", 0, "N", "who or what uses it (required)", &name },
		{ "role", 0, "R", "viewer, operator or admin (required)", &role },
		{ "expires-in", 0, "D", "it stops working after D: 12h, 30d", &expires_in },
		{ "expires-at", 0, "ISO", "or at this time", &expires_at },
		{ NULL, 0, NULL, NULL, NULL },
	};
	static const struct cli_help h = { "token create",
		"token create --name N --role viewer|operator|admin [--expires-in 30d]",
		"Makes an API token and prints it alone on standard output, this once\n"
		"(the server keeps only its hash):\n\n"
		"  TOKEN=$(scicast token create --name 值班员 --role viewer)" };
	json_t *body = NULL, *ans = NULL;
	int rc;
	if (cli_parse(c, &h, opts, argc, argv, NULL, 0, 0, NULL, &rc) < 0)
		return rc;
	if (!name || !role)
		return cli_usage_error(h.cmd, "--name and --role are required");
	if (expires_in && expires_at)
		return cli_usage_error(h.cmd, "give --expires-in or --expires-at, "
				       "not both");
	rc = CLI_USAGE;
	body = json_pack("{s:s, s:s}", "name", name, "role", role);
	if (!body ||
	    (expires_in && json_object_set_new(body, "expires_in",
					       json_string(expires_in)) < 0) ||
	    (expires_at && json_object_set_new(body, "expires_at",
					       json_string(expires_at)) < 0)) {
		cli_usage_error(h.cmd, "the name must be UTF-8 text");
		goto done;
	}
	rc = client_json(c, h.cmd, "POST", "/api/v1/tokens", body, &ans);
	if (rc != 0)
		goto done;
	if (c->json)
		cli_print_json(ans);
	else
		printf("%s\n", cli_str(ans, "token"));
done:
	if (ans) {
		json_t *tok = json_object_get(ans, "token");
		if (json_is_string(tok))
			explicit_bzero((char *)json_string_value(tok),
				       json_string_length(tok));
	}
	json_decref(body);
	json_decref(ans);
	return rc;
}

static int cmd_token_list(struct cli *c, int argc, char **argv)
{
	static const struct cli_help h = { "token list", "token list",
		"Lists the API tokens (never the tokens themselves: their first\n"
		"characters, to tell them apart)." };
	static const char *const heads[] = { "ID", "NAME", "ROLE", "PREFIX",
					     "STATE", "CREATED", "BY", "EXPIRES" };
	json_t *ans = NULL;
	struct table t;
	size_t i;
	const json_t *x;
	int rc;
	if (cli_parse(c, &h, NULL, argc, argv, NULL, 0, 0, NULL, &rc) < 0)
		return rc;
	table_init(&t, 8, heads);
	rc = client_show(c, h.cmd, "/api/v1/tokens", &ans);
	if (rc != 0 || !ans)
		goto done;
	table_right(&t, 0);
	json_array_foreach(json_object_get(ans, "items"), i, x) {
		table_cellf(&t, "%lld", cli_int(x, "id"));
		table_cell(&t, cli_str(x, "name"));
		table_cell(&t, cli_str(x, "role"));
		table_cellf(&t, "%s…", cli_str(x, "prefix"));
		table_cell(&t, cli_str(x, "state"));
		table_cell(&t, cli_str(x, "created_at"));
		table_cell(&t, cli_str(x, "created_by"));
		table_cell(&t, *cli_str(x, "expires_at") ? cli_str(x, "expires_at")
							 : "never");
	}
	if (table_print(&t, stdout, c->width, c->out_tty) < 0)
		rc = CLI_USAGE;
done:
	table_free(&t);
	json_decref(ans);
	return rc;
}

static int cmd_token_revoke(struct cli *c, int argc, char **argv)
{
	static const struct cli_help h = { "token revoke", "token revoke ID",
		"Revokes a token: it stops working at once." };
	return cli_delete(c, &h, argc, argv, "tokens", "revoked token");
}

static const struct cli_cmd token_cmds[] = {
	{ "create", "create --name N --role R [--expires-in 30d]",
	  "make a token (printed alone, once)", cmd_token_create },
	{ "list", "list", "the tokens", cmd_token_list },
	{ "revoke", "revoke ID", "revoke a token", cmd_token_revoke },
};

int cmd_token(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "token", token_cmds,
			    sizeof token_cmds / sizeof token_cmds[0], argc, argv);
}

int cmd_whoami(struct cli *c, int argc, char **argv)
{
	static const struct cli_help h = { "whoami", "whoami",
		"Prints the name and role of the token in use, and the server." };
	json_t *ans = NULL;
	int rc;
	if (cli_parse(c, &h, NULL, argc, argv, NULL, 0, 0, NULL, &rc) < 0)
		return rc;
	rc = client_json(c, h.cmd, "GET", "/api/v1/whoami", NULL, &ans);
	if (rc == 0 && c->json)
		cli_print_json(ans);
	else if (rc == 0)
		printf("%s (%s) at %s\n", cli_str(ans, "name"), cli_str(ans, "role"),
		       c->url);
	json_decref(ans);
	return rc;
}
