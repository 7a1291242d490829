/* cmd_approval: the two-person rule. A red declaration (or a raise to
 * red) is held by the server until another operator approves or rejects
 * it; these commands list the held requests, show one with what it would
 * send, and decide. The server refuses the requester's own decision
 * (403), so the client does not try to guess who may decide. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "client.h"
#include "table.h"
#include "util.h"

static const char *const approval_statuses[] = { "pending", "approved",
						 "rejected", "lapsed" };

static bool approval_status_known(const char *s)
{
	for (size_t i = 0; i < sizeof approval_statuses / sizeof approval_statuses[0];
	     i++)
		if (strcmp(s, approval_statuses[i]) == 0)
			return true;
	return false;
}

/* "-" for a time that has not come (decided_at of a pending request). */
static const char *approval_time(const json_t *a, const char *key)
{
	const char *s = cli_str(a, key);
	return *s ? s : "-";
}

static int approval_list(struct cli *c, const char *cmd, const char *status)
{
	static const char *const heads[] = { "ID", "KIND", "SEVERITY", "SUMMARY",
					     "REQUESTED BY", "REQUESTED AT",
					     "EXPIRES", "STATUS" };
	struct buf path = BUF_INIT;
	json_t *ans = NULL;
	struct table t;
	size_t i;
	const json_t *a;
	int rc = CLI_USAGE;
	table_init(&t, 8, heads);
	if (buf_append_str(&path, "/api/v1/approvals") < 0 ||
	    client_query(&path, "status", status) < 0)
		goto done;
	rc = client_json(c, cmd, "GET", buf_str(&path), NULL, &ans);
	if (rc != 0)
		goto done;
	if (c->json) {
		cli_print_json(ans);
		goto done;
	}
	if (!json_array_size(json_object_get(ans, "items"))) {
		printf("no %s%sapproval requests\n", status ? status : "",
		       status ? " " : "");
		goto done;
	}
	table_right(&t, 0);
	json_array_foreach(json_object_get(ans, "items"), i, a) {
		table_cellf(&t, "%lld", cli_int(a, "approval_id"));
		table_cell(&t, cli_str(a, "kind"));
		table_cell(&t, cli_str(a, "severity"));
		table_cell(&t, cli_str(a, "summary"));
		table_cell(&t, cli_str(a, "requested_by"));
		table_cell(&t, cli_str(a, "requested_at"));
		table_cell(&t, cli_str(a, "expires_at"));
		table_cell(&t, cli_str(a, "status"));
	}
	if (table_print(&t, stdout, c->width, c->out_tty) < 0)
		rc = CLI_USAGE;
done:
	table_free(&t);
	json_decref(ans);
	buf_free(&path);
	return rc;
}

/* The held body as the requester sent it, a line per field, so the
 * approver reads what they are about to send. */
static void approval_print_request(struct cli *c, json_t *req)
{
	const char *key;
	const json_t *v;
	json_object_foreach(req, key, v) {
		if (json_is_string(v)) {
			table_line(stdout, c->width, "  %-12s %s", key,
				   json_string_value(v));
		} else if (json_is_array(v)) {
			struct buf b = BUF_INIT;
			size_t i;
			const json_t *x;
			json_array_foreach(v, i, x)
				buf_appendf(&b, "%s%s", i ? ", " : "",
					    json_is_string(x) ? json_string_value(x) : "?");
			table_line(stdout, c->width, "  %-12s %s", key, buf_str(&b));
			buf_free(&b);
		} else {
			char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			table_line(stdout, c->width, "  %-12s %s", key,
				   text ? text : "?");
			free(text);
		}
	}
}

static int approval_show(struct cli *c, const char *cmd, long long id)
{
	struct buf path = BUF_INIT;
	json_t *a = NULL;
	int rc = CLI_USAGE;
	if (buf_appendf(&path, "/api/v1/approvals/%lld", id) < 0)
		goto done;
	rc = client_json(c, cmd, "GET", buf_str(&path), NULL, &a);
	if (rc != 0)
		goto done;
	if (c->json) {
		cli_print_json(a);
		goto done;
	}
	table_line(stdout, c->width, "request %lld: %s, %s", id,
		   cli_str(a, "summary"), cli_str(a, "status"));
	bool pending = strcmp(cli_str(a, "status"), "pending") == 0;
	table_line(stdout, c->width, "  requested by %s at %s%s%s",
		   cli_str(a, "requested_by"), cli_str(a, "requested_at"),
		   pending ? "; lapses at " : "",
		   pending ? cli_str(a, "expires_at") : "");
	if (*cli_str(a, "decided_by"))
		table_line(stdout, c->width, "  decided by %s at %s%s%s",
			   cli_str(a, "decided_by"), approval_time(a, "decided_at"),
			   *cli_str(a, "reason") ? ": " : "", cli_str(a, "reason"));
	else if (strcmp(cli_str(a, "status"), "lapsed") == 0)
		printf("  lapsed at %s: nobody decided in time\n",
		       approval_time(a, "decided_at"));
	if (json_object_get(a, "revision"))
		printf("  emergency %lld, revision %lld\n",
		       cli_int(a, "emergency_id"), cli_int(a, "revision"));
	else if (json_object_get(a, "emergency_id"))
		printf("  emergency %lld\n", cli_int(a, "emergency_id"));
	printf("\nthe request:\n");
	approval_print_request(c, json_object_get(a, "request"));
	if (pending)
		printf("\nan operator other than %s approves it with: scicast "
		       "approve %lld\n", cli_str(a, "requested_by"), id);
done:
	json_decref(a);
	buf_free(&path);
	return rc;
}

int cmd_approvals(struct cli *c, int argc, char **argv)
{
	const char *status;
	const struct cli_opt opts[] = {
		{ "status", 0, "S", "pending, approved, rejected or lapsed", &status },
		{ NULL, 0, NULL, NULL, NULL },
	};
	static const struct cli_help h = { "approvals",
		"approvals [--status pending|approved|rejected|lapsed] | approvals ID",
		"Lists the requests held for a second operator, newest first: red\n"
		"declarations and raises to red (the server's [approval] required).\n"
		"With an ID, shows one request: who asked, until when, and the alert\n"
		"as it would be sent. Decide with scicast approve ID or reject ID." };
	const char *pos[1];
	long long id;
	int n, rc;
	if (cli_parse(c, &h, opts, argc, argv, pos, 0, 1, &n, &rc) < 0)
		return rc;
	if (n == 1 && status)
		return cli_usage_error(h.cmd, "give an ID or --status, not both");
	if (status && !approval_status_known(status))
		return cli_usage_error(h.cmd, "--status is pending, approved, "
				       "rejected or lapsed, not \"%.40s\"", status);
	if (n == 0)
		return approval_list(c, h.cmd, status);
	if (cli_parse_id(h.cmd, "ID", pos[0], &id) < 0)
		return CLI_USAGE;
	return approval_show(c, h.cmd, id);
}

/* approve and reject: the same request but for the verb in the path. */
static int approval_decide(struct cli *c, const struct cli_help *h,
			   const char *verb, int argc, char **argv)
{
	const char *reason;
	const struct cli_opt opts[] = {
		{ "reason", 0, "TEXT", "why (kept with the decision)", &reason },
		{ NULL, 0, NULL, NULL, NULL },
	};
	struct buf path = BUF_INIT;
	json_t *body = NULL, *ans = NULL;
	long long id;
	int rc;
	if (cli_parse_one_id(c, h, opts, argc, argv, &id, &rc) < 0)
		return rc;
	rc = CLI_USAGE;
	if (reason && !(body = json_pack("{s:s}", "reason", reason))) {
		cli_usage_error(h->cmd, "--reason is not UTF-8 text");
		goto done;
	}
	if (buf_appendf(&path, "/api/v1/approvals/%lld/%s", id, verb) < 0)
		goto done;
	rc = client_json(c, h->cmd, "POST", buf_str(&path), body, &ans);
	if (rc != 0)
		goto done;
	if (c->json) {
		cli_print_json(ans);
	} else if (strcmp(verb, "approve") == 0) {
		const json_t *e = json_object_get(ans, "result");
		printf("approved request %lld: emergency %lld revision %lld (%s), "
		       "in %s's name\n", id, cli_int(e, "id"), cli_int(e, "revision"),
		       cli_str(e, "status"), cli_str(ans, "requested_by"));
		cli_print_plan(stdout, json_object_get(e, "planned"));
	} else {
		printf("rejected request %lld (%s): nothing was sent\n", id,
		       cli_str(ans, "summary"));
	}
done:
	json_decref(body);
	json_decref(ans);
	buf_free(&path);
	return rc;
}

int cmd_approve(struct cli *c, int argc, char **argv)
{
	static const struct cli_help h = { "approve", "approve ID [--reason TEXT]",
		"Approves a request another operator made (scicast approvals lists\n"
		"them): the alert is sent at once, in the requester's name, and you\n"
		"are recorded as the approver. You cannot approve your own request,\n"
		"nor one that was decided or has lapsed." };
	return approval_decide(c, &h, "approve", argc, argv);
}

int cmd_reject(struct cli *c, int argc, char **argv)
{
	static const struct cli_help h = { "reject", "reject ID [--reason TEXT]",
		"Rejects a request another operator made: nothing is sent, and the\n"
		"reason is kept with the decision." };
	return approval_decide(c, &h, "reject", argc, argv);
}
