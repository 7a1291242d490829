/* cmd_report: what a drill (or a real alert) reached, per town, from the
 * deliveries' own acks — the table a town's officer is asked about after
 * an exercise — and the village screens that stayed silent, so someone
 * can go and look at them. --csv passes the server's CSV through as it
 * is, so a spreadsheet gets exactly what the web page offers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "client.h"
#include "table.h"
#include "util.h"

/* Seconds from the issue to an ack: "0.4s", "2m05s", "1h03m"; "-" when
 * nothing was acked. */
static void report_secs(char *out, size_t cap, const json_t *v)
{
	if (!json_is_number(v)) {
		snprintf(out, cap, "-");
		return;
	}
	double s = json_number_value(v);
	long whole = (long)s;
	if (s < 60)
		snprintf(out, cap, "%.1fs", s);
	else if (s < 3600)
		snprintf(out, cap, "%ldm%02lds", whole / 60, whole % 60);
	else
		snprintf(out, cap, "%ldh%02ldm", whole / 3600, whole % 3600 / 60);
}

static int report_csv(struct cli *c, const char *cmd, const char *path)
{
	struct client_resp r = CLIENT_RESP_INIT;
	int rc = client_send(c, "GET", path, NULL, NULL, 0, &r);
	if (rc != 0)
		goto done;
	if (r.status < 200 || r.status > 299) {
		rc = client_refused(cmd, &r);
		goto done;
	}
	if (r.body.len && fwrite(r.body.data, 1, r.body.len, stdout) != r.body.len) {
		fprintf(stderr, "scicast: %s: cannot write standard output\n", cmd);
		rc = CLI_USAGE;
	}
done:
	client_resp_free(&r);
	return rc;
}

static void report_header(struct cli *c, const json_t *r)
{
	long long planned = cli_int(r, "planned"), reached = cli_int(r, "reached");
	table_line(stdout, c->width, "emergency %lld: %s %s%s, %s, revision %lld",
		   cli_int(r, "emergency_id"), cli_str(r, "hazard"),
		   cli_str(r, "severity"),
		   json_is_true(json_object_get(r, "exercise")) ? " (a drill)" : "",
		   cli_str(r, "status"), cli_int(r, "revision"));
	if (planned > 0)
		printf("  %lld of %lld reached (%lld%%)\n", reached, planned,
		       reached * 100 / planned);
	else
		printf("  nothing was planned\n");
}

/* A row per town and a total; SILENT counts the village screens that
 * did not ack, listed by silent_table. */
static int report_towns(struct cli *c, const json_t *r)
{
	static const char *const heads[] = { "TOWN", "CODE", "PLANNED", "REACHED",
					     "FIRST ACK", "LAST ACK", "SILENT" };
	struct table t;
	size_t i, silent = 0;
	const json_t *town;
	char first[32], last[32];
	int rc = 0;
	table_init(&t, 7, heads);
	for (size_t k = 2; k < 7; k++)
		table_right(&t, k);
	json_array_foreach(json_object_get(r, "towns"), i, town) {
		size_t n = json_array_size(json_object_get(town, "silent"));
		report_secs(first, sizeof first, json_object_get(town, "first_ack_s"));
		report_secs(last, sizeof last, json_object_get(town, "last_ack_s"));
		table_cell(&t, cli_str(town, "name"));
		table_cell(&t, cli_str(town, "code"));
		table_cellf(&t, "%lld", cli_int(town, "planned"));
		table_cellf(&t, "%lld", cli_int(town, "reached"));
		table_cell(&t, first);
		table_cell(&t, last);
		table_cellf(&t, "%zu", n);
		silent += n;
	}
	if (table_rows(&t) > 1) {
		table_cell(&t, "total");
		table_cell(&t, "");
		table_cellf(&t, "%lld", cli_int(r, "planned"));
		table_cellf(&t, "%lld", cli_int(r, "reached"));
		table_cell(&t, "");
		table_cell(&t, "");
		table_cellf(&t, "%zu", silent);
	}
	if (table_rows(&t)) {
		printf("\n");
		rc = table_print(&t, stdout, c->width, c->out_tty);
	}
	table_free(&t);
	return rc;
}

/* Every silent village screen, with what its presence says: offline
 * sends someone with a ladder, online means it got nothing it acked. */
static int report_silent(struct cli *c, const json_t *r)
{
	static const char *const heads[] = { "TOWN", "VILLAGE", "CODE", "SCREEN" };
	struct table t;
	size_t i, k;
	const json_t *town, *v;
	int rc = 0;
	table_init(&t, 4, heads);
	json_array_foreach(json_object_get(r, "towns"), i, town)
		json_array_foreach(json_object_get(town, "silent"), k, v) {
			table_cell(&t, cli_str(town, "name"));
			table_cell(&t, cli_str(v, "name"));
			table_cell(&t, cli_str(v, "code"));
			table_cell(&t, cli_str(v, "screen"));
		}
	if (table_rows(&t)) {
		printf("\nsilent village screens (no ack):\n");
		rc = table_print(&t, stdout, c->width, c->out_tty);
	}
	table_free(&t);
	return rc;
}

int cmd_report(struct cli *c, int argc, char **argv)
{
	const char *csv;
	const struct cli_opt opts[] = {
		{ "csv", 0, NULL, "print the server's CSV as it is (for a spreadsheet)", &csv },
		{ NULL, 0, NULL, NULL, NULL },
	};
	static const struct cli_help h = { "report", "report ID [--csv]",
		"What a drill (or an alert) reached, per town, for its current\n"
		"revision: deliveries planned, reached (acked), the time from the\n"
		"issue to the first and the last ack, and the village screens that\n"
		"stayed silent, listed below with what their presence says (online,\n"
		"offline, unknown). --csv prints the server's CSV unchanged:\n\n"
		"  scicast report 12 --csv > drill-12.csv" };
	struct buf path = BUF_INIT;
	json_t *r = NULL;
	long long id;
	int rc;
	if (cli_parse_one_id(c, &h, opts, argc, argv, &id, &rc) < 0)
		return rc;
	if (csv && c->json)
		return cli_usage_error(h.cmd, "give --csv or --json, not both");
	rc = CLI_USAGE;
	if (buf_appendf(&path, "/api/v1/emergencies/%lld/report%s", id,
			csv ? "?format=csv" : "") < 0)
		goto done;
	if (csv) {
		rc = report_csv(c, h.cmd, buf_str(&path));
		goto done;
	}
	rc = client_show(c, h.cmd, buf_str(&path), &r);
	if (rc != 0 || !r)
		goto done;
	report_header(c, r);
	if (report_towns(c, r) < 0 || report_silent(c, r) < 0)
		rc = CLI_USAGE;
done:
	json_decref(r);
	buf_free(&path);
	return rc;
}
