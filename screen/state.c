/* state: the message ids a screen has handled and the state file.
 *
 * The seen list is the de-duplication memory: the last SCREEN_SEEN_MAX
 * message ids with their emergency (or campaign), revision and the best
 * ack each
 * reached (a re-send is acked again with it). It also answers the
 * revision rule after the alert itself has left the screen.
 *
 * The state file (--state-file) holds the slots and the seen list, so a
 * screen that reboots shows the alert in force at once, before it has
 * reached the broker, and does not show or speak again what it already
 * did. It is written whole to a temporary file, synced and renamed over
 * the old one: a power cut leaves the old file or the new, never half. */
#define _GNU_SOURCE
#include "screen.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define STATE_SCHEMA "scicast-screen.state/1"

static const char *const ack_names[] = { "none", "received", "displayed",
					 "played" };

const char *state_ack_name(enum screen_ack a)
{
	return (unsigned)a < 4 ? ack_names[a] : "none";
}

static enum screen_ack ack_parse(const char *s)
{
	for (int i = 0; s && i < 4; i++)
		if (strcmp(s, ack_names[i]) == 0)
			return (enum screen_ack)i;
	return SCREEN_ACK_NONE;
}

struct screen_seen *state_seen_find(struct screen *s, const char *message_id)
{
	for (size_t i = s->nseen; i-- > 0;)
		if (strcmp(s->seen[i].message_id, message_id) == 0)
			return &s->seen[i];
	return NULL;
}

static struct screen_seen *seen_add(struct screen *s, const char *id,
				    long long emergency_id, long long campaign_id,
				    int revision, enum screen_ack ack)
{
	if (strlen(id) >= SCREEN_ID_MAX)
		return NULL;
	if (s->nseen == SCREEN_SEEN_MAX) {
		memmove(&s->seen[0], &s->seen[1],
			(SCREEN_SEEN_MAX - 1) * sizeof s->seen[0]);
		s->nseen--;
	}
	struct screen_seen *e = &s->seen[s->nseen++];
	snprintf(e->message_id, sizeof e->message_id, "%s", id);
	e->emergency_id = emergency_id;
	e->campaign_id = campaign_id;
	e->revision = revision;
	e->ack = ack;
	s->state_dirty = true;
	return e;
}

struct screen_seen *state_seen_add(struct screen *s, const struct screen_msg *m,
				   enum screen_ack ack)
{
	return seen_add(s, m->message_id, m->emergency_id, m->campaign_id,
			m->revision, ack);
}

int state_revision_of(const struct screen *s, long long source)
{
	int best = 0;
	for (size_t i = 0; i < s->nseen; i++) {
		const struct screen_seen *e = &s->seen[i];
		if (screen_source(e->emergency_id, e->campaign_id) == source &&
		    e->revision > best)
			best = e->revision;
	}
	for (size_t i = 0; i < s->nslots; i++)
		if (screen_msg_source(&s->slots[i].msg) == source &&
		    s->slots[i].msg.revision > best)
			best = s->slots[i].msg.revision;
	return best;
}

bool state_emergency_shown(const struct screen *s, long long emergency_id)
{
	for (size_t i = 0; i < s->nseen; i++)
		if (s->seen[i].campaign_id == 0 &&
		    s->seen[i].emergency_id == emergency_id &&
		    s->seen[i].ack >= SCREEN_ACK_DISPLAYED)
			return true;
	return false;
}

static const char *const kind_names[] = { "alert", "end", "timed_out",
					  "notice" };
#define NKINDS (sizeof kind_names / sizeof kind_names[0])

static json_t *state_to_json(const struct screen *s)
{
	json_t *slots = json_array(), *seen = json_array();
	json_t *root = json_pack("{s:s, s:s, s:I, s:o, s:o}", "schema",
				 STATE_SCHEMA, "region", s->opts->region,
				 "saved_at_ms", (json_int_t)util_now_ms(),
				 "slots", slots, "seen", seen);
	if (!root)
		return NULL;
	for (size_t i = 0; i < s->nslots; i++) {
		const struct screen_slot *c = &s->slots[i];
		if (json_array_append_new(slots, json_pack(
			    "{s:s, s:I, s:I, s:b, s:O}", "kind", kind_names[c->kind],
			    "until_ms", (json_int_t)c->until_ms, "shown_ms",
			    (json_int_t)c->shown_ms, "presented", c->presented,
			    "envelope", c->msg.env)) < 0)
			goto fail;
	}
	for (size_t i = 0; i < s->nseen; i++) {
		const struct screen_seen *e = &s->seen[i];
		json_t *o = json_pack("{s:s, s:I, s:i, s:s}", "message_id",
				      e->message_id, "emergency_id",
				      (json_int_t)e->emergency_id, "revision",
				      e->revision, "ack", state_ack_name(e->ack));
		/* only notices have one; older files have none */
		if (o && e->campaign_id)
			json_object_set_new(o, "campaign_id",
					    json_integer(e->campaign_id));
		if (json_array_append_new(seen, o) < 0)
			goto fail;
	}
	return root;
fail:
	json_decref(root);
	return NULL;
}

/* fsync of the directory makes the rename itself durable */
static void sync_dir(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return;
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

int state_save(const struct screen *s)
{
	const char *path = s->opts->state_file;
	char tmp[4096];
	char *text = NULL;
	int fd = -1, rc = -1;
	json_t *root = NULL;
	if (!path)
		return 0;
	int n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		log_error("state: %s: path too long", path);
		return -1;
	}
	root = state_to_json(s);
	text = root ? json_dumps(root, JSON_INDENT(1)) : NULL;
	if (!text) {
		log_error("state: out of memory writing %s", path);
		goto done;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_error("state: %s: %s", tmp, strerror(errno));
		goto done;
	}
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_error("state: writing %s: %s", tmp, strerror(errno));
			goto done;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0) {
		log_error("state: syncing %s: %s", tmp, strerror(errno));
		goto done;
	}
	if (close(fd) < 0) {
		fd = -1;
		log_error("state: closing %s: %s", tmp, strerror(errno));
		goto done;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		log_error("state: renaming %s to %s: %s", tmp, path,
			  strerror(errno));
		goto done;
	}
	sync_dir(path);
	rc = 0;
done:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(text);
	json_decref(root);
	return rc;
}

static void load_slot(struct screen *s, const json_t *o, int64_t now)
{
	const char *kind = json_string_value(json_object_get(o, "kind"));
	json_t *env = json_object_get(o, "envelope");
	const json_t *until = json_object_get(o, "until_ms");
	const json_t *shown = json_object_get(o, "shown_ms");
	const json_t *presented = json_object_get(o, "presented");
	struct screen_msg m;
	const char *why;
	int k = -1;
	for (int i = 0; kind && i < (int)NKINDS; i++)
		if (strcmp(kind, kind_names[i]) == 0)
			k = i;
	if (k < 0 || !json_is_integer(until) || s->nslots == SCREEN_SLOTS_MAX)
		return;
	json_incref(env);
	if (alerts_parse(env, &m, &why) < 0) {
		log_warn("state: a saved message is unusable (%s); dropped", why);
		return;
	}
	if ((k == SLOT_NOTICE) != m.is_notice) {
		/* a notice in an emergency's place or the reverse would break
		 * the rule that an emergency always wins */
		log_warn("state: %s saved as %s; dropped", m.message_id,
			 kind_names[k]);
		alerts_msg_free(&m);
		s->state_dirty = true;
		return;
	}
	if ((int64_t)json_integer_value(until) <= now &&
	    (k == SLOT_ALERT || k == SLOT_NOTICE)) {
		/* it expired while the screen was off */
		presence_event(s, "expired", &m, "reason", "expired while stopped");
		alerts_msg_free(&m);
		s->state_dirty = true;
		return;
	}
	if ((int64_t)json_integer_value(until) <= now) {
		alerts_msg_free(&m);
		s->state_dirty = true;
		return;
	}
	struct screen_slot *slot = &s->slots[s->nslots++];
	slot->msg = m;
	slot->kind = (enum screen_slot_kind)k;
	slot->until_ms = (int64_t)json_integer_value(until);
	slot->shown_ms = json_is_integer(shown) ? (int64_t)json_integer_value(shown)
						: now;
	/* files from before notices hold only what was on the screen */
	slot->presented = json_is_boolean(presented) ? json_is_true(presented)
						     : true;
}

void state_load(struct screen *s)
{
	const char *path = s->opts->state_file;
	char *text = NULL;
	size_t len = 0;
	json_t *root = NULL;
	json_error_t je;
	if (!path)
		return;
	if (util_read_file(path, &text, &len) < 0) {
		if (errno != ENOENT)
			log_warn("state: %s: %s; starting empty", path,
				 strerror(errno));
		return;
	}
	root = json_loadb(text, len, 0, &je);
	const char *schema = json_string_value(json_object_get(root, "schema"));
	const char *region = json_string_value(json_object_get(root, "region"));
	if (!root || !schema || strcmp(schema, STATE_SCHEMA) != 0) {
		log_warn("state: %s is not a %s file (%s); starting empty", path,
			 STATE_SCHEMA, root ? "schema" : je.text);
		goto done;
	}
	if (!region || strcmp(region, s->opts->region) != 0) {
		log_warn("state: %s belongs to region %s, not %s; starting empty",
			 path, region ? region : "?", s->opts->region);
		goto done;
	}
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(root, "seen"), i, e) {
		const char *id = json_string_value(json_object_get(e, "message_id"));
		const json_t *em = json_object_get(e, "emergency_id");
		const json_t *cam = json_object_get(e, "campaign_id");
		const json_t *rev = json_object_get(e, "revision");
		if (!id || !json_is_integer(em) || !json_is_integer(rev) ||
		    json_integer_value(rev) < 0 ||
		    json_integer_value(rev) > SCREEN_REVISION_MAX)
			continue;
		seen_add(s, id, (long long)json_integer_value(em),
			 json_is_integer(cam) ? (long long)json_integer_value(cam) : 0,
			 (int)json_integer_value(rev),
			 ack_parse(json_string_value(json_object_get(e, "ack"))));
	}
	/* only what changed while the screen was off needs writing */
	s->state_dirty = false;
	int64_t now = util_now_ms();
	json_array_foreach(json_object_get(root, "slots"), i, e)
		load_slot(s, e, now);
	log_info("state: %s: %zu message(s) on screen, %zu id(s) remembered",
		 path, s->nslots, s->nseen);
done:
	json_decref(root);
	free(text);
}
