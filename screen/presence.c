/* presence: what a screen says about itself — the retained status on
 * {status-prefix}/{region}/{screen id} (online at connect and every
 * heartbeat, offline by the broker's last will or at a clean stop), the
 * acks on {ack-prefix}/{region}, and the event log (--log), one JSON line
 * per event, which is what the integration tests read. */
#include "screen.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"
#include "version.h"

/* ISO 8601 in the machine's own offset: the clock a technician on site
 * reads. */
static void now_iso(char *out, size_t cap)
{
	int64_t ms = util_now_ms();
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	int off = 0;
	if (localtime_r(&t, &tm))
		off = (int)(tm.tm_gmtoff / 60);
	if (util_format_iso(ms, off, out, cap) < 0 && cap)
		out[0] = '\0';
}

static char *dump(json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

char *presence_online(const struct screen *s)
{
	char at[40];
	now_iso(at, sizeof at);
	return dump(json_pack("{s:s, s:s, s:s, s:s, s:s?, s:I, s:s}",
			      "status", "online", "region", s->opts->region,
			      "screen_id", s->opts->screen_id, "version",
			      SCREEN_NAME " " SCICAST_VERSION, "message_id",
			      s->shown_id[0] ? s->shown_id : NULL, "heartbeat_s",
			      (json_int_t)s->opts->heartbeat_s, "at", at));
}

char *presence_offline(const struct screen *s, const char *reason)
{
	return dump(json_pack("{s:s, s:s, s:s, s:s}", "status", "offline",
			      "region", s->opts->region, "screen_id",
			      s->opts->screen_id, "reason", reason));
}

void presence_publish_online(struct screen *s)
{
	char *text = presence_online(s);
	if (!text) {
		log_error("presence: out of memory");
		return;
	}
	/* a stale heartbeat is worthless: not kept while offline */
	link_publish(s->link, s->status_topic, text, true, false);
	free(text);
	s->next_heartbeat = util_now_ms() + s->opts->heartbeat_s * 1000;
}

void presence_ack(struct screen *s, const char *message_id,
		  enum screen_ack ack)
{
	if (ack == SCREEN_ACK_NONE)
		return;
	char *text = dump(json_pack("{s:s, s:s}", "message_id", message_id,
				    "status", state_ack_name(ack)));
	if (!text) {
		log_error("presence: out of memory for an ack");
		return;
	}
	/* acks are kept while offline: the daemon re-sends until it hears
	 * one */
	link_publish(s->link, s->ack_topic, text, false, true);
	free(text);
}

int presence_open_log(struct screen *s)
{
	if (!s->opts->log_file)
		return 0;
	s->events = fopen(s->opts->log_file, "ae");
	if (!s->events) {
		log_error("cannot open the log %s: %s", s->opts->log_file,
			  strerror(errno));
		return -1;
	}
	return 0;
}

/* What an event line says of its message. status is there so a drill
 * reads as one in the log ("exercise"), whatever its title says. */
static void message_fields(json_t *o, const struct screen_msg *m)
{
	json_object_set_new(o, "emergency_id", json_integer(m->emergency_id));
	if (m->campaign_id)
		json_object_set_new(o, "campaign_id",
				    json_integer(m->campaign_id));
	json_object_set_new(o, "revision", json_integer(m->revision));
	json_object_set_new(o, "status", json_string(m->status));
}

void presence_event(struct screen *s, const char *event,
		    const struct screen_msg *m, const char *extra_key,
		    const char *extra_value)
{
	if (!s->events)
		return;
	json_t *o = json_pack("{s:s, s:s?, s:s?, s:I}", "event", event,
			      "message_id", m ? m->message_id : NULL,
			      "msg_type", m ? m->msg_type : NULL, "at_ms",
			      (json_int_t)util_now_ms());
	if (o && m)
		message_fields(o, m);
	if (o && extra_key && extra_value)
		json_object_set_new(o, extra_key, json_string(extra_value));
	char *text = dump(o);
	if (!text) {
		log_error("presence: out of memory for the event log");
		return;
	}
	fprintf(s->events, "%s\n", text);
	fflush(s->events);
	free(text);
}
