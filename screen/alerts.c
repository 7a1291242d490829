/* alerts: what a screen does with each message of its alert topic — the
 * rules of docs/payload.md and docs/screens.md in one place.
 *
 * The screen keeps one slot per emergency (a region can be in two at
 * once: a typhoon and a heat wave). An alert or update fills its
 * emergency's slot; an end (cancel, expired, allclear) turns it into a
 * short end notice shown for --end-hold seconds; an alert whose expiry
 * passes on the screen's own clock does the same even if nothing arrives.
 * A message id already seen is never shown or spoken again but is acked
 * again with the best status it reached, so the daemon stops re-sending
 * it; a revision lower than one already seen for the emergency is stale
 * (a re-send of an old revision after a reconnect) and is ignored.
 *
 * Campaign notices (msg_type notice: everyday science, emergency_id 0)
 * get a slot per campaign, keyed apart from emergencies by
 * screen_source. They rank below everything an emergency puts on the
 * screen: a notice that arrives is kept, and alerts_notice_step shows it
 * only once nothing of an emergency is there — acked displayed and read
 * the first time, silently when it comes back after an emergency. A
 * newer run of a campaign replaces its older notice; a notice leaves at
 * its expiry, with no end hold (nothing ended, its time is just over). */
#include "screen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

#define SCHEMA_PREFIX "scicast.alert/"

int alerts_severity_rank(const char *severity)
{
	static const char *const names[] = { "blue", "yellow", "orange", "red" };
	for (int i = 0; severity && i < 4; i++)
		if (strcmp(severity, names[i]) == 0)
			return i + 1;
	return 0;
}

void alerts_msg_free(struct screen_msg *m)
{
	json_decref(m->env);
	memset(m, 0, sizeof *m);
}

static const char *str_of(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : "";
}

/* "scicast.alert/1" or "scicast.alert/1.x": major version 1 only. */
static bool schema_ok(const char *schema)
{
	size_t n = strlen(SCHEMA_PREFIX);
	if (strncmp(schema, SCHEMA_PREFIX, n) != 0)
		return false;
	return schema[n] == '1' && (schema[n + 1] == '\0' || schema[n + 1] == '.');
}

static bool id_ok(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n >= SCREEN_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)id[i] <= 0x20 || id[i] == 0x7f)
			return false;
	return true;
}

/* What the message does: an end takes an alert down, a notice is
 * everyday science; anything else is refused (and not acked). */
static int parse_type(const json_t *env, struct screen_msg *m,
		      const char **why)
{
	m->msg_type = str_of(env, "msg_type");
	if (!strcmp(m->msg_type, "cancel") || !strcmp(m->msg_type, "expired") ||
	    !strcmp(m->msg_type, "allclear"))
		m->end = true;
	else if (!strcmp(m->msg_type, "notice"))
		m->is_notice = true;
	else if (strcmp(m->msg_type, "alert") && strcmp(m->msg_type, "update")) {
		*why = "msg_type is not alert, update, cancel, expired, allclear "
		       "or notice";
		return -1;
	}
	return 0;
}

static bool positive_int(const json_t *v, json_int_t max)
{
	return json_is_integer(v) && json_integer_value(v) > 0 &&
	       json_integer_value(v) <= max;
}

/* Where it comes from and which revision it is: an emergency, or for a
 * notice a campaign and its run. A notice must say emergency_id 0, so a
 * broken one can never join (and overrule) a real emergency's revisions. */
static int parse_source(const json_t *env, struct screen_msg *m,
			const char **why)
{
	const json_t *e = json_object_get(env, "emergency_id");
	const json_t *r = json_object_get(env, "revision");
	if (!positive_int(r, SCREEN_REVISION_MAX)) {
		*why = "revision is not a positive integer";
		return -1;
	}
	m->revision = (int)json_integer_value(r);
	if (m->is_notice) {
		const json_t *c = json_object_get(env, "campaign_id");
		if (!json_is_integer(e) || json_integer_value(e) != 0 ||
		    !positive_int(c, LLONG_MAX)) {
			*why = "a notice needs emergency_id 0 and a positive "
			       "campaign_id";
			return -1;
		}
		m->campaign_id = (long long)json_integer_value(c);
		return 0;
	}
	if (!positive_int(e, LLONG_MAX)) {
		*why = "emergency_id is not a positive integer";
		return -1;
	}
	m->emergency_id = (long long)json_integer_value(e);
	return 0;
}

int alerts_parse(json_t *env, struct screen_msg *m, const char **why)
{
	memset(m, 0, sizeof *m);
	if (!json_is_object(env)) {
		*why = "not a JSON object";
		goto bad;
	}
	const json_t *schema = json_object_get(env, "schema");
	if (schema && !(json_is_string(schema) &&
			schema_ok(json_string_value(schema)))) {
		*why = "schema is not scicast.alert/1";
		goto bad;
	}
	m->message_id = str_of(env, "message_id");
	if (!id_ok(m->message_id)) {
		*why = "message_id missing, too long or not printable";
		goto bad;
	}
	if (parse_type(env, m, why) < 0 || parse_source(env, m, why) < 0)
		goto bad;
	m->status = str_of(env, "status");
	if (!strcmp(m->status, "exercise"))
		m->exercise = true;
	else if (strcmp(m->status, "actual")) {
		*why = "status is not actual or exercise";
		goto bad;
	}
	m->expires = str_of(env, "expires");
	if (util_parse_iso(m->expires, &m->expires_ms) < 0 && !m->end) {
		/* a screen must be able to take an alert down by itself */
		*why = "expires is not an ISO 8601 time";
		goto bad;
	}
	m->issued = str_of(env, "issued");
	if (util_parse_iso(m->issued, &m->issued_ms) < 0)
		m->issued_ms = 0;
	m->quiet_hours = str_of(env, "quiet_hours");
	m->severity = str_of(env, "severity");
	m->colour_name = str_of(env, "colour_name");
	m->level = str_of(env, "level");
	m->hazard_name = str_of(env, "hazard_name");
	m->title = str_of(env, "title");
	m->body = str_of(env, "body");
	m->tts = str_of(env, "tts");
	const json_t *n0 = json_array_get(json_object_get(env, "notices"), 0);
	m->notice_title = str_of(n0, "title");
	m->notice_summary = str_of(n0, "summary");
	m->env = env;
	return 0;
bad:
	memset(m, 0, sizeof *m);
	json_decref(env);
	return -1;
}

static struct screen_slot *slot_of(struct screen *s, long long source)
{
	for (size_t i = 0; i < s->nslots; i++)
		if (screen_msg_source(&s->slots[i].msg) == source)
			return &s->slots[i];
	return NULL;
}

/* Who wins the screen: an alert in force, then an end being held (it
 * belongs to the emergency), then everyday science. */
static int kind_rank(enum screen_slot_kind kind)
{
	switch (kind) {
	case SLOT_ALERT: return 3;
	case SLOT_END:
	case SLOT_TIMED_OUT: return 2;
	case SLOT_NOTICE: return 1;
	}
	return 0;
}

static void slot_remove(struct screen *s, struct screen_slot *slot)
{
	size_t i = (size_t)(slot - s->slots);
	alerts_msg_free(&slot->msg);
	memmove(&s->slots[i], &s->slots[i + 1],
		(s->nslots - i - 1) * sizeof s->slots[0]);
	s->nslots--;
	s->view_dirty = s->state_dirty = true;
}

/* Which slot leaves first when all are taken: the oldest notice, then
 * the oldest end notice, then the alert that expires first. */
static bool evict_before(const struct screen_slot *c,
			 const struct screen_slot *victim)
{
	int ck = kind_rank(c->kind), vk = kind_rank(victim->kind);
	if (ck != vk)
		return ck < vk;
	if (c->kind == SLOT_ALERT)
		return c->until_ms < victim->until_ms;
	return c->shown_ms < victim->shown_ms;
}

/* A free slot: past SCREEN_SLOTS_MAX sources, one leaves (evict_before). */
static struct screen_slot *slot_new(struct screen *s)
{
	if (s->nslots == SCREEN_SLOTS_MAX) {
		struct screen_slot *victim = &s->slots[0];
		for (size_t i = 1; i < s->nslots; i++)
			if (evict_before(&s->slots[i], victim))
				victim = &s->slots[i];
		log_warn("screen: %d emergencies on screen; %s leaves it",
			 SCREEN_SLOTS_MAX, victim->msg.message_id);
		slot_remove(s, victim);
	}
	struct screen_slot *slot = &s->slots[s->nslots++];
	memset(slot, 0, sizeof *slot);
	return slot;
}

static bool shown_before(const struct screen_slot *c,
			 const struct screen_slot *best)
{
	int ck = kind_rank(c->kind), bk = kind_rank(best->kind);
	int cr = alerts_severity_rank(c->msg.severity);
	int br = alerts_severity_rank(best->msg.severity);
	if (ck != bk)
		return ck > bk;
	if (cr != br)
		return cr > br;
	return c->shown_ms > best->shown_ms;
}

/* The index of the slot shown first; nslots when there is none. */
static size_t top_index(const struct screen *s)
{
	size_t best = s->nslots;
	for (size_t i = 0; i < s->nslots; i++)
		if (best == s->nslots || shown_before(&s->slots[i], &s->slots[best]))
			best = i;
	return best;
}

const struct screen_slot *alerts_top(const struct screen *s)
{
	size_t i = top_index(s);
	return i < s->nslots ? &s->slots[i] : NULL;
}

bool alerts_update_shown(struct screen *s)
{
	const struct screen_slot *top = alerts_top(s);
	const char *id = top ? top->msg.message_id : "";
	if (strcmp(id, s->shown_id) == 0)
		return false;
	snprintf(s->shown_id, sizeof s->shown_id, "%s", id);
	return true;
}

static void bad_message(struct screen *s, const char *topic, const char *why)
{
	/* a broken publisher could flood the log: the first ones, then
	 * every hundredth */
	if (s->bad_logged < 20 || s->bad_logged % 100 == 0)
		log_warn("screen: message on %.200s ignored: %s", topic, why);
	s->bad_logged++;
}

/* The slot of m's source (a new one if it has none), holding m from now
 * on; takes m. */
static struct screen_slot *take_slot(struct screen *s, struct screen_msg *m,
				     int64_t now)
{
	struct screen_slot *slot = slot_of(s, screen_msg_source(m));
	if (slot)
		alerts_msg_free(&slot->msg);
	else
		slot = slot_new(s);
	slot->msg = *m;
	memset(m, 0, sizeof *m);
	slot->shown_ms = now;
	s->view_dirty = s->state_dirty = true;
	return slot;
}

/* The moment a message is on the screen: printed, logged, acked
 * displayed, and read out when speak (else whatever its source was still
 * reading stops: the screen no longer says that). */
static void put_on_screen(struct screen *s, struct screen_slot *slot,
			  bool speak)
{
	const struct screen_msg *m = &slot->msg;
	struct screen_seen *seen = state_seen_find(s, m->message_id);
	slot->presented = true;
	s->view_dirty = s->state_dirty = true;
	display_slot(s, slot);
	presence_event(s, "displayed", m, NULL, NULL);
	presence_ack(s, m->message_id, SCREEN_ACK_DISPLAYED);
	if (seen && seen->ack < SCREEN_ACK_DISPLAYED)
		seen->ack = SCREEN_ACK_DISPLAYED;
	if (!s->speaker)
		return;
	if (speak && m->tts[0])
		speak_say(s->speaker, screen_msg_source(m), m->message_id, m->tts);
	else
		speak_drop(s->speaker, screen_msg_source(m));
}

/* An emergency takes the loudspeaker too: a notice being read (or
 * waiting to be) must not hold up the alert, so it stops. */
static void hush_notices(struct screen *s)
{
	for (size_t i = 0; s->speaker && i < s->nslots; i++)
		if (s->slots[i].kind == SLOT_NOTICE)
			speak_drop(s->speaker, screen_msg_source(&s->slots[i].msg));
}

/* Puts an emergency's message on the screen in its slot; takes m. */
static void show(struct screen *s, struct screen_msg *m,
		 enum screen_slot_kind kind, int64_t now)
{
	struct screen_slot *slot = take_slot(s, m, now);
	slot->kind = kind;
	slot->until_ms = kind == SLOT_ALERT ? slot->msg.expires_ms
					    : now + s->opts->end_hold_s * 1000;
	hush_notices(s);
	put_on_screen(s, slot, true);
}

/* Keeps a notice in its campaign's slot; takes m. It is not shown here:
 * alerts_notice_step does that once nothing of an emergency is on the
 * screen. A newer run replaces the campaign's older notice, shown or not. */
static void keep_notice(struct screen *s, struct screen_msg *m, int64_t now)
{
	long long src = screen_msg_source(m);
	struct screen_slot *old = slot_of(s, src);
	if (old) {
		presence_event(s, "replaced", m, "replaced", old->msg.message_id);
		if (s->speaker)
			speak_drop(s->speaker, src);
	}
	if (m->expires_ms <= now) {
		presence_event(s, "expired", m, "reason",
			       "arrived after its expiry");
		if (old)
			slot_remove(s, old);
		return;
	}
	struct screen_slot *slot = take_slot(s, m, now);
	slot->kind = SLOT_NOTICE;
	slot->until_ms = slot->msg.expires_ms;
	slot->presented = false;
}

void alerts_handle(struct screen *s, const char *topic, const char *payload,
		   size_t len)
{
	json_error_t je;
	const char *why = NULL;
	struct screen_msg m;
	json_t *env = json_loadb(payload, len, 0, &je);
	if (!env) {
		bad_message(s, topic, je.text);
		return;
	}
	if (alerts_parse(env, &m, &why) < 0) {
		bad_message(s, topic, why);
		return;
	}
	struct screen_seen *seen = state_seen_find(s, m.message_id);
	if (seen) {
		/* a re-send: the daemon has not heard our ack; say again how
		 * far we got, show and say nothing */
		presence_event(s, "duplicate", &m, "ack", state_ack_name(seen->ack));
		presence_ack(s, m.message_id, seen->ack);
		goto done;
	}
	int known = state_revision_of(s, screen_msg_source(&m));
	if (m.revision < known) {
		char k[24];
		snprintf(k, sizeof k, "%d", known);
		presence_event(s, "stale_revision", &m, "shown_revision", k);
		if (state_seen_add(s, &m, SCREEN_ACK_RECEIVED))
			presence_ack(s, m.message_id, SCREEN_ACK_RECEIVED);
		goto done;
	}
	seen = state_seen_add(s, &m, SCREEN_ACK_RECEIVED);
	if (!seen)
		goto done;
	presence_event(s, "received", &m, NULL, NULL);
	presence_ack(s, m.message_id, SCREEN_ACK_RECEIVED);

	int64_t now = util_now_ms();
	if (m.is_notice) {
		keep_notice(s, &m, now);
		goto done;
	}
	struct screen_slot *slot = slot_of(s, screen_msg_source(&m));
	if (!m.end) {
		if (m.expires_ms <= now) {
			/* retained by a broker without message expiry, or
			 * queued while we were away: over already */
			presence_event(s, "expired", &m, "reason",
				       "arrived after its expiry");
			if (slot && slot->kind == SLOT_ALERT)
				slot_remove(s, slot);
			goto done;
		}
		show(s, &m, SLOT_ALERT, now);
		goto done;
	}
	/* an end: take the alert down, show the end notice for a while; an
	 * end for an emergency this screen never showed is only acked
	 * (received), except an all-clear, which is news in itself */
	if (slot && slot->kind == SLOT_ALERT)
		presence_event(s, "cleared", &m, "cleared", slot->msg.message_id);
	if (slot || state_emergency_shown(s, m.emergency_id) ||
	    !strcmp(m.msg_type, "allclear")) {
		show(s, &m, SLOT_END, now);
		goto done;
	}
	s->state_dirty = true;
done:
	alerts_msg_free(&m);
}

void alerts_tick(struct screen *s, int64_t now)
{
	for (size_t i = 0; i < s->nslots;) {
		struct screen_slot *slot = &s->slots[i];
		if (slot->until_ms > now) {
			i++;
			continue;
		}
		if (slot->kind == SLOT_NOTICE) {
			/* its time is over: it just goes, no end to hold */
			presence_event(s, "expired", &slot->msg, NULL, NULL);
			if (s->speaker)
				speak_drop(s->speaker, screen_msg_source(&slot->msg));
			slot_remove(s, slot);
			continue;
		}
		if (slot->kind == SLOT_ALERT) {
			/* the screen's own clock: nothing has to arrive */
			presence_event(s, "expired", &slot->msg, NULL, NULL);
			if (s->speaker)
				speak_drop(s->speaker, slot->msg.emergency_id);
			slot->kind = SLOT_TIMED_OUT;
			slot->shown_ms = now;
			slot->until_ms = now + s->opts->end_hold_s * 1000;
			s->view_dirty = s->state_dirty = true;
			display_slot(s, slot);
			i++;
			continue;
		}
		slot_remove(s, slot);
	}
}

/* The minutes east of UTC of an ISO 8601 time ("…+08:00"); 0 if none. */
static int iso_offset_min(const char *iso)
{
	size_t n = strlen(iso);
	int h, m;
	char sign;
	if (n < 6 || sscanf(iso + n - 6, "%c%2d:%2d", &sign, &h, &m) != 3 ||
	    (sign != '+' && sign != '-'))
		return 0;
	return (sign == '-' ? -1 : 1) * (h * 60 + m);
}

/* Whether now falls in the notice's quiet hours, in the region's clock
 * (the offset it was issued in): a notice shown late, after an
 * emergency, must not be read aloud at night. */
static bool notice_quiet_now(const struct screen_msg *m, int64_t now)
{
	int h1, m1, h2, m2;
	if (sscanf(m->quiet_hours, "%2d:%2d-%2d:%2d", &h1, &m1, &h2, &m2) != 4)
		return false;
	int start = h1 * 60 + m1, end = h2 * 60 + m2;
	int64_t local = now / 60000 + iso_offset_min(m->issued);
	int minute = (int)(((local % 1440) + 1440) % 1440);
	if (start < end)
		return minute >= start && minute < end;
	return minute >= start || minute < end; /* over midnight */
}

void alerts_notice_step(struct screen *s)
{
	size_t i = top_index(s);
	struct screen_slot *top = i < s->nslots && s->slots[i].kind == SLOT_NOTICE
					  ? &s->slots[i] : NULL;
	const char *id = top ? top->msg.message_id : "";
	if (strcmp(id, s->notice_on) == 0)
		return;
	snprintf(s->notice_on, sizeof s->notice_on, "%s", id);
	if (!top)
		return;
	if (!top->presented) {
		put_on_screen(s, top, !s->opts->no_speak_notices &&
				      !notice_quiet_now(&top->msg,
							util_now_ms()));
		return;
	}
	/* back after an emergency: the same notice, shown again but not
	 * acked or read again (it was, when it first came) */
	display_slot(s, top);
	presence_event(s, "resumed", &top->msg, NULL, NULL);
	s->view_dirty = true;
}

void alerts_restore(struct screen *s)
{
	for (size_t i = 0; i < s->nslots; i++) {
		const struct screen_slot *slot = &s->slots[i];
		if (slot->kind == SLOT_NOTICE)
			continue;   /* only the top one, below */
		display_slot(s, slot);
		if (slot->kind == SLOT_ALERT)
			presence_event(s, "displayed", &slot->msg, "from",
				       "state file");
	}
	/* a notice never displayed before the restart (an emergency was on)
	 * is left to alerts_notice_step, which acks it once connected */
	size_t i = top_index(s);
	if (i == s->nslots || s->slots[i].kind != SLOT_NOTICE ||
	    !s->slots[i].presented)
		return;
	display_slot(s, &s->slots[i]);
	presence_event(s, "displayed", &s->slots[i].msg, "from", "state file");
	snprintf(s->notice_on, sizeof s->notice_on, "%s",
		 s->slots[i].msg.message_id);
}

void alerts_played(struct screen *s, const char *message_id)
{
	struct screen_seen *seen = state_seen_find(s, message_id);
	const struct screen_msg *m = NULL;
	for (size_t i = 0; i < s->nslots; i++)
		if (!strcmp(s->slots[i].msg.message_id, message_id))
			m = &s->slots[i].msg;
	if (m)
		presence_event(s, "played", m, NULL, NULL);
	else
		presence_event(s, "played", NULL, "message_id", message_id);
	presence_ack(s, message_id, SCREEN_ACK_PLAYED);
	if (seen) {
		seen->ack = SCREEN_ACK_PLAYED;
		s->state_dirty = true;
	}
}
