/* screen: the private header of scicast-screen, the reference village
 * screen. The program is split by concern:
 *   main.c      options, signals, the main loop (timers, hand-offs)
 *   link.c      the MQTT connection, on a thread of its own
 *   alerts.c    the envelope and the rules: de-duplication, revisions,
 *               update, cancel, expiry, all-clear, campaign notices, acks
 *   display.c   the terminal: a block per event, or a full-screen view
 *   speak.c     the loudspeaker: the tts command in a child process
 *   state.c     the seen message ids and the state file
 *   presence.c  the retained online/offline status and the event log
 * Everything but link.c runs on the main thread; link.c talks to it only
 * through two queues and two eventfds. */
#ifndef SCICAST_SCREEN_H
#define SCICAST_SCREEN_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SCREEN_NAME "scicast-screen"
#define SCREEN_ID_MAX 128      /* a message_id, with its NUL */
#define SCREEN_SEEN_MAX 200    /* message ids remembered */
#define SCREEN_SLOTS_MAX 16    /* emergencies on the screen at once */
#define SCREEN_TOPIC_MAX 512
#define SCREEN_PAYLOAD_MAX (256 * 1024)
/* A campaign's run number grows for as long as it runs (every minute is
 * half a million a year): only the type bounds a revision. */
#define SCREEN_REVISION_MAX INT_MAX

/* ---- options (main.c) ---- */

struct screen_opts {
	const char *region;
	const char *topic;          /* --topic: the full alert topic */
	const char *broker;
	char *host;                 /* parsed from broker */
	int port;
	const char *protocol_name;
	int protocol;               /* 5 or 4 (3.1.1) */
	const char *username, *password;
	const char *prefix, *ack_prefix, *status_prefix;
	const char *screen_id;
	long long keepalive_s, heartbeat_s, end_hold_s;
	const char *tts_command;
	const char *state_file;
	const char *log_file;
	bool fullscreen;
	bool no_speak_notices;      /* show campaign notices, never read them */
	bool help, version;
};

/* ---- the screen's state ---- */

enum screen_ack {
	SCREEN_ACK_NONE = 0,
	SCREEN_ACK_RECEIVED,
	SCREEN_ACK_DISPLAYED,
	SCREEN_ACK_PLAYED
};

/* One envelope, checked. The strings point into env, which it owns. */
struct screen_msg {
	json_t *env;
	const char *message_id, *msg_type, *status, *severity, *colour_name;
	const char *level, *hazard_name, *title, *body, *tts;
	const char *notice_title, *notice_summary;   /* the first notice */
	const char *issued, *expires;                /* as sent */
	const char *quiet_hours;    /* a notice: "22:00-07:00", "" for none */
	long long emergency_id;     /* 0 for a campaign notice */
	long long campaign_id;      /* a notice's campaign, else 0 */
	int revision;               /* a notice: the campaign's run number */
	int64_t issued_ms, expires_ms;
	bool end;        /* cancel, expired or allclear */
	bool is_notice;  /* msg_type notice: everyday science, no emergency */
	bool exercise;
};

/* Where a message comes from: its emergency, or its campaign negated so
 * that the two can never meet. Slots, the revision rule and the
 * loudspeaker's queue are keyed by it. */
static inline long long screen_source(long long emergency_id,
				      long long campaign_id)
{
	return campaign_id > 0 ? -campaign_id : emergency_id;
}

static inline long long screen_msg_source(const struct screen_msg *m)
{
	return screen_source(m->emergency_id, m->campaign_id);
}

enum screen_slot_kind {
	SLOT_ALERT,      /* an alert or update in force */
	SLOT_END,        /* a cancel, expired or allclear, shown for a while */
	SLOT_TIMED_OUT,  /* an alert whose expiry passed on our own clock */
	SLOT_NOTICE      /* a campaign notice: shown when nothing else is */
};

/* What the screen holds for one emergency, or one campaign. */
struct screen_slot {
	struct screen_msg msg;
	enum screen_slot_kind kind;
	int64_t until_ms;    /* alert, notice: its expiry; the others: end of hold */
	int64_t shown_ms;    /* a notice: when it arrived */
	bool presented;      /* a notice: displayed (acked, spoken) already */
};

/* A message id already handled, and the best ack it reached. */
struct screen_seen {
	char message_id[SCREEN_ID_MAX];
	long long emergency_id;
	long long campaign_id;
	int revision;
	enum screen_ack ack;
};

struct link;
struct speaker;

struct screen {
	const struct screen_opts *opts;
	struct screen_slot slots[SCREEN_SLOTS_MAX];
	size_t nslots;
	struct screen_seen seen[SCREEN_SEEN_MAX];   /* oldest first */
	size_t nseen;
	struct link *link;
	struct speaker *speaker;
	FILE *events;                /* --log */
	bool connected;
	int64_t next_heartbeat;
	bool state_dirty;            /* the state file must be written */
	bool view_dirty;             /* the full-screen view must be redrawn */
	char shown_id[SCREEN_ID_MAX];   /* the message presence reports */
	char notice_on[SCREEN_ID_MAX];  /* the notice on screen, "" if none */
	char ack_topic[SCREEN_TOPIC_MAX];
	char status_topic[SCREEN_TOPIC_MAX];
	long bad_logged;
};

/* ---- link.c ---- */

struct link_cfg {          /* the strings must outlive the link */
	const char *host;
	int port;
	int protocol;          /* 5 or 4 */
	const char *username, *password;
	const char *client_id;
	int keepalive_s;
	char *const *filters;  /* subscribed QoS 1 at every connect */
	int nfilters;
	const char *will_topic, *will_payload;   /* retained, QoS 1 */
};

enum link_event_kind { LINK_EV_CONNECTED, LINK_EV_DISCONNECTED, LINK_EV_MESSAGE };

struct link_event {
	enum link_event_kind kind;
	bool session_present;  /* connected: the broker kept our session */
	char *topic;           /* message */
	char *payload;         /* message, NUL-terminated */
	size_t len;
	char detail[160];      /* connected/disconnected: for the log */
	struct link_event *next;
};

/* Starts the connection thread; it connects, and reconnects with backoff,
 * until link_stop. 0, or -1 (reported). */
int link_start(const struct link_cfg *cfg, struct link **out);
/* Readable when events wait (an eventfd). */
int link_fd(const struct link *l);
/* Takes every pending event, oldest first. */
struct link_event *link_take(struct link *l);
void link_event_free(struct link_event *ev);
/* Queues a QoS 1 publish. A message queued while offline goes out at the
 * next connect if keep_offline, else it is dropped. 0, or -1 (full). */
int link_publish(struct link *l, const char *topic, const char *payload,
		 bool retain, bool keep_offline);
/* Publishes a last retained message if connected, waits up to wait_ms for
 * its PUBACK, disconnects cleanly (no will) and joins the thread. */
void link_stop(struct link *l, const char *topic, const char *payload,
	       int wait_ms);
void link_free(struct link *l);

/* ---- alerts.c ---- */

/* Checks an envelope and fills m (which then owns env). 0, or -1 with a
 * reason in why. */
int alerts_parse(json_t *env, struct screen_msg *m, const char **why);
void alerts_msg_free(struct screen_msg *m);
/* Handles one message from the alert topic: acks, de-duplication, the
 * revision rule, what the screen shows and says. */
void alerts_handle(struct screen *s, const char *topic, const char *payload,
		   size_t len);
/* Clears what expired on the screen's own clock and drops end notices
 * whose hold is over. */
void alerts_tick(struct screen *s, int64_t now);
/* Puts the current campaign notice on the screen when nothing of an
 * emergency is there: the first time it is displayed, acked and spoken,
 * after an emergency it comes back silently. Called after every change. */
void alerts_notice_step(struct screen *s);
/* At start, before the broker is reached: shows what the state file
 * brought back, without acking or speaking it again. */
void alerts_restore(struct screen *s);
/* The speaker finished a message with exit status 0. */
void alerts_played(struct screen *s, const char *message_id);
/* The slot the screen puts first (alerts, then end notices, then campaign
 * notices; then by severity and time); NULL when it shows nothing. */
const struct screen_slot *alerts_top(const struct screen *s);
/* Severity rank: blue 1 … red 4, 0 unknown. */
int alerts_severity_rank(const char *severity);
/* Re-computes shown_id; true if it changed. */
bool alerts_update_shown(struct screen *s);

/* ---- state.c ---- */

struct screen_seen *state_seen_find(struct screen *s, const char *message_id);
/* Remembers a message id (forgetting the oldest past SCREEN_SEEN_MAX). */
struct screen_seen *state_seen_add(struct screen *s, const struct screen_msg *m,
				   enum screen_ack ack);
/* The highest revision known for a source (screen_source), 0 if none. */
int state_revision_of(const struct screen *s, long long source);
/* True if a message of this emergency was ever displayed. */
bool state_emergency_shown(const struct screen *s, long long emergency_id);
const char *state_ack_name(enum screen_ack a);
/* Writes the state file atomically (temp file, fsync, rename). 0 / -1. */
int state_save(const struct screen *s);
/* Loads the state file if there is one; a missing file is no error, an
 * unreadable one is reported and ignored. */
void state_load(struct screen *s);

/* ---- presence.c ---- */

/* The retained status payloads; the caller frees them. */
char *presence_online(const struct screen *s);
char *presence_offline(const struct screen *s, const char *reason);
void presence_publish_online(struct screen *s);
int presence_open_log(struct screen *s);
/* One JSON line on --log. m may be NULL; extra_key/extra_value add one
 * string field when not NULL. */
void presence_event(struct screen *s, const char *event,
		    const struct screen_msg *m, const char *extra_key,
		    const char *extra_value);
/* Publishes an ack on the region's ack topic. */
void presence_ack(struct screen *s, const char *message_id,
		  enum screen_ack ack);

/* ---- display.c ---- */

int display_open(const struct screen_opts *o);
void display_close(void);
/* A slot was put on the screen: block mode prints it. */
void display_slot(const struct screen *s, const struct screen_slot *slot);
/* Something changed: full-screen mode redraws; block mode says when the
 * screen became empty. */
void display_refresh(const struct screen *s);
/* Copies text for a terminal: control characters (escape sequences from
 * the network) are dropped, tabs become spaces, newlines are kept. */
void display_clean(const char *in, char *out, size_t cap);

/* ---- speak.c ---- */

int speak_new(const char *command, struct speaker **out);
/* Queues a text; anything queued or playing for the same source (an
 * emergency or a campaign, screen_source) is dropped first (a newer
 * revision replaces it). */
void speak_say(struct speaker *sp, long long source, const char *message_id,
	       const char *text);
/* Stops and drops what belongs to a source (its alert expired, or an
 * emergency silences a notice). */
void speak_drop(struct speaker *sp, long long source);
/* Reaps a finished child and starts the next text. Returns 1 and copies
 * the message id when one played to the end with exit status 0. */
int speak_poll(struct speaker *sp, char *done_id, size_t cap);
void speak_free(struct speaker *sp);

#endif
