/* migrations: the database schema as numbered steps. A step is never
 * edited once released; a change is a new step. store_migrate() applies
 * the missing ones in order, each in its own transaction, and records
 * them in schema_migrations. */
#include "store.h"

#include <stdio.h>

#include "log.h"
#include "util.h"

struct migration {
	int version;
	const char *name;
	const char *sql;
};

static const struct migration migrations[] = {
	{ 1, "regions and channels",
	  /* path: the codes from the root down to the region joined by '/',
	   * so a subtree is one index range (path > p||'/' AND path <
	   * p||'0', '0' being the byte after '/'). */
	  "CREATE TABLE regions ("
	  " code TEXT PRIMARY KEY CHECK (length(code) = 12),"
	  " name TEXT NOT NULL,"
	  " level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),"
	  " parent_code TEXT REFERENCES regions(code)"
	  "   DEFERRABLE INITIALLY DEFERRED,"
	  " path TEXT NOT NULL DEFAULT '',"
	  " updated_at INTEGER NOT NULL"
	  ") WITHOUT ROWID;"
	  "CREATE INDEX regions_parent ON regions(parent_code);"
	  "CREATE INDEX regions_path ON regions(path);"
	  "CREATE INDEX regions_level ON regions(level, code);"
	  "CREATE TABLE channels ("
	  " id INTEGER PRIMARY KEY,"
	  " region_code TEXT NOT NULL REFERENCES regions(code),"
	  " kind TEXT NOT NULL CHECK (kind IN ('mqtt', 'webhook')),"
	  " name TEXT NOT NULL DEFAULT '',"
	  /* NULL target on an MQTT channel: the region's default topic, so
	   * a change of [mqtt] alert_prefix moves every default channel. */
	  " target TEXT,"
	  " secret TEXT,"
	  " locale TEXT NOT NULL DEFAULT 'zh-CN',"
	  " audience TEXT NOT NULL DEFAULT 'general',"
	  " role TEXT NOT NULL DEFAULT 'notify'"
	  "   CHECK (role IN ('notify', 'escalation')),"
	  " enabled INTEGER NOT NULL DEFAULT 1,"
	  " auto INTEGER NOT NULL DEFAULT 0,"
	  " headers TEXT,"
	  " timeout_ms INTEGER,"
	  " max_concurrency INTEGER,"
	  " disabled_reason TEXT,"
	  " created_at INTEGER NOT NULL,"
	  " updated_at INTEGER NOT NULL"
	  ");"
	  "CREATE INDEX channels_region ON channels(region_code, kind);"
	  "CREATE UNIQUE INDEX channels_auto ON channels(region_code)"
	  " WHERE auto = 1;"
	  "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);" },
	{ 2, "templates with versions",
	  /* templates.version is the current version; a delete is a version
	   * too (deleted = 1), so rollback can bring a template back. */
	  "CREATE TABLE templates ("
	  " id INTEGER PRIMARY KEY,"
	  " hazard TEXT NOT NULL,"
	  " tier TEXT NOT NULL CHECK (tier IN ('province', 'city', 'county',"
	  "   'town', 'village')),"
	  " locale TEXT NOT NULL,"
	  " version INTEGER NOT NULL,"
	  " deleted INTEGER NOT NULL DEFAULT 0,"
	  " UNIQUE (hazard, tier, locale)"
	  ");"
	  "CREATE TABLE template_versions ("
	  " template_id INTEGER NOT NULL REFERENCES templates(id),"
	  " version INTEGER NOT NULL,"
	  " action TEXT NOT NULL CHECK (action IN ('create', 'update',"
	  "   'rollback', 'delete')),"
	  " based_on INTEGER,"
	  " title TEXT NOT NULL, body TEXT NOT NULL, tts TEXT NOT NULL,"
	  " author TEXT NOT NULL, comment TEXT NOT NULL DEFAULT '',"
	  " created_at INTEGER NOT NULL,"
	  " PRIMARY KEY (template_id, version)"
	  ") WITHOUT ROWID;"
	  /* saves refused because someone else saved first: kept so the
	   * history shows them and their text is not lost */
	  "CREATE TABLE template_attempts ("
	  " id INTEGER PRIMARY KEY,"
	  " template_id INTEGER NOT NULL REFERENCES templates(id),"
	  " based_on INTEGER NOT NULL,"
	  " current_version INTEGER NOT NULL,"
	  " title TEXT, body TEXT, tts TEXT,"
	  " author TEXT NOT NULL, comment TEXT NOT NULL DEFAULT '',"
	  " created_at INTEGER NOT NULL"
	  ");"
	  "CREATE INDEX template_attempts_template ON"
	  " template_attempts(template_id);" },
	{ 3, "emergencies, messages and the outbox",
	  "CREATE TABLE emergencies ("
	  " id INTEGER PRIMARY KEY,"
	  " hazard TEXT NOT NULL,"
	  " status TEXT NOT NULL CHECK (status IN ('active', 'cancelled',"
	  "   'expired', 'ended')),"
	  " revision INTEGER NOT NULL,"
	  " severity TEXT NOT NULL,"
	  " exercise INTEGER NOT NULL DEFAULT 0,"
	  " expires_at INTEGER NOT NULL,"
	  " created_at INTEGER NOT NULL,"
	  " updated_at INTEGER NOT NULL,"
	  " created_by TEXT NOT NULL"
	  ");"
	  "CREATE INDEX emergencies_status ON emergencies(status, expires_at);"
	  "CREATE TABLE revisions ("
	  " emergency_id INTEGER NOT NULL REFERENCES emergencies(id),"
	  " revision INTEGER NOT NULL,"
	  " msg_type TEXT NOT NULL CHECK (msg_type IN ('alert', 'update',"
	  "   'cancel', 'expired', 'allclear')),"
	  " severity TEXT NOT NULL,"
	  " headline TEXT NOT NULL,"
	  " description TEXT,"
	  " instruction TEXT,"
	  " locale TEXT NOT NULL,"
	  " area TEXT NOT NULL," /* JSON array of the codes given */
	  " expires_at INTEGER NOT NULL,"
	  " issued_at INTEGER NOT NULL,"
	  " author TEXT NOT NULL,"
	  " reason TEXT,"
	  " planned INTEGER NOT NULL DEFAULT 0,"
	  " PRIMARY KEY (emergency_id, revision)"
	  ") WITHOUT ROWID;"
	  /* one rendered payload per (region, locale, audience) of a
	   * revision; every channel that shares them shares the message */
	  "CREATE TABLE messages ("
	  " id INTEGER PRIMARY KEY,"
	  " emergency_id INTEGER NOT NULL,"
	  " revision INTEGER NOT NULL,"
	  " message_id TEXT NOT NULL UNIQUE,"
	  " region_code TEXT NOT NULL,"
	  " tier INTEGER NOT NULL,"
	  " locale TEXT NOT NULL,"
	  " audience TEXT NOT NULL,"
	  " msg_type TEXT NOT NULL,"
	  " expires_at INTEGER NOT NULL,"
	  " payload TEXT NOT NULL"
	  ");"
	  "CREATE INDEX messages_emergency ON messages(emergency_id, revision);"
	  /* the outbox: pending -> inflight -> sent -> acked, or failed/dead;
	   * superseded when a newer revision replaced it before it went out */
	  "CREATE TABLE deliveries ("
	  " id INTEGER PRIMARY KEY,"
	  " message INTEGER NOT NULL REFERENCES messages(id),"
	  " emergency_id INTEGER NOT NULL,"
	  " revision INTEGER NOT NULL,"
	  " channel_id INTEGER NOT NULL REFERENCES channels(id),"
	  " kind TEXT NOT NULL,"
	  " region_code TEXT NOT NULL,"
	  " tier INTEGER NOT NULL,"
	  " town_code TEXT,"
	  " priority INTEGER NOT NULL DEFAULT 0,"
	  " state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending',"
	  "   'inflight', 'sent', 'acked', 'failed', 'dead', 'superseded')),"
	  " attempts INTEGER NOT NULL DEFAULT 0,"
	  " resends INTEGER NOT NULL DEFAULT 0,"
	  " next_attempt_at INTEGER NOT NULL,"
	  " last_error TEXT,"
	  " created_at INTEGER NOT NULL,"
	  " sent_at INTEGER,"
	  " acked_at INTEGER,"
	  " ack_status TEXT"
	  ");"
	  /* the claim reads this index in its own order: no sort of the
	   * whole outbox per batch */
	  "CREATE INDEX deliveries_due ON deliveries(kind, state,"
	  " priority DESC, next_attempt_at, id);"
	  "CREATE INDEX deliveries_emergency ON deliveries(emergency_id,"
	  " revision, state);"
	  "CREATE INDEX deliveries_message ON deliveries(message);"
	  "CREATE INDEX deliveries_channel ON deliveries(channel_id,"
	  " emergency_id);" },
	{ 4, "webhook attempts and escalation",
	  /* one row per try of a webhook: the history behind "dead" */
	  "CREATE TABLE delivery_attempts ("
	  " id INTEGER PRIMARY KEY,"
	  " delivery_id INTEGER NOT NULL REFERENCES deliveries(id),"
	  " attempt INTEGER NOT NULL,"
	  " started_at INTEGER NOT NULL,"
	  " duration_ms INTEGER NOT NULL,"
	  " http_status INTEGER,"
	  " outcome TEXT NOT NULL,"
	  " error TEXT,"
	  " next_attempt_at INTEGER"
	  ");"
	  "CREATE INDEX delivery_attempts_delivery ON"
	  " delivery_attempts(delivery_id, attempt);"
	  /* escalation: the silent village delivery that was reported, and
	   * the deliveries that report it (kept out of coverage counts) */
	  "ALTER TABLE deliveries ADD COLUMN escalated_at INTEGER;"
	  "ALTER TABLE deliveries ADD COLUMN escalation INTEGER NOT NULL"
	  " DEFAULT 0;"
	  "CREATE INDEX deliveries_state ON deliveries(state, kind);" },
	{ 5, "the science library",
	  "CREATE TABLE resources ("
	  " rid INTEGER PRIMARY KEY," /* the FTS index's rowid */
	  " id TEXT NOT NULL UNIQUE,"
	  " hazard TEXT NOT NULL,"
	  " audience TEXT NOT NULL,"
	  " locale TEXT NOT NULL,"
	  " title TEXT NOT NULL,"
	  " summary TEXT NOT NULL,"
	  " text TEXT NOT NULL,"
	  " keywords TEXT NOT NULL DEFAULT '',"  /* space separated */
	  " authority TEXT NOT NULL,"
	  " priority INTEGER NOT NULL,"
	  " updated TEXT NOT NULL,"
	  " version INTEGER NOT NULL,"
	  " deleted INTEGER NOT NULL DEFAULT 0"
	  ");"
	  "CREATE INDEX resources_match ON resources(hazard, locale, audience,"
	  " priority DESC);"
	  "CREATE TABLE resource_versions ("
	  " resource_id TEXT NOT NULL,"
	  " version INTEGER NOT NULL,"
	  " action TEXT NOT NULL,"
	  " doc TEXT NOT NULL," /* the notice as JSON */
	  " author TEXT NOT NULL,"
	  " comment TEXT NOT NULL DEFAULT '',"
	  " created_at INTEGER NOT NULL,"
	  " PRIMARY KEY (resource_id, version)"
	  ") WITHOUT ROWID;"
	  /* trigram: Chinese has no spaces, so words cannot be tokens; any
	   * three characters can */
	  "CREATE VIRTUAL TABLE resources_fts USING fts5(title, summary, text,"
	  " keywords, content='resources', content_rowid='rid',"
	  " tokenize='trigram');"
	  "CREATE TRIGGER resources_ai AFTER INSERT ON resources BEGIN"
	  " INSERT INTO resources_fts(rowid, title, summary, text, keywords)"
	  " VALUES (new.rid, new.title, new.summary, new.text, new.keywords);"
	  " END;"
	  "CREATE TRIGGER resources_ad AFTER DELETE ON resources BEGIN"
	  " INSERT INTO resources_fts(resources_fts, rowid, title, summary,"
	  " text, keywords) VALUES ('delete', old.rid, old.title, old.summary,"
	  " old.text, old.keywords); END;"
	  "CREATE TRIGGER resources_au AFTER UPDATE ON resources BEGIN"
	  " INSERT INTO resources_fts(resources_fts, rowid, title, summary,"
	  " text, keywords) VALUES ('delete', old.rid, old.title, old.summary,"
	  " old.text, old.keywords);"
	  " INSERT INTO resources_fts(rowid, title, summary, text, keywords)"
	  " VALUES (new.rid, new.title, new.summary, new.text, new.keywords);"
	  " END;" },
	{ 6, "tokens and the audit log",
	  /* only the SHA-256 of a token is kept: a copy of the database
	   * gives nobody a working token */
	  "CREATE TABLE tokens ("
	  " id INTEGER PRIMARY KEY,"
	  " name TEXT NOT NULL,"
	  " role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),"
	  " hash TEXT NOT NULL UNIQUE,"
	  " prefix TEXT NOT NULL,"
	  " created_at INTEGER NOT NULL,"
	  " created_by TEXT NOT NULL,"
	  " expires_at INTEGER,"
	  " revoked_at INTEGER,"
	  " revoked_by TEXT"
	  ");"
	  "CREATE TABLE audit ("
	  " id INTEGER PRIMARY KEY,"
	  " at INTEGER NOT NULL,"
	  " actor TEXT NOT NULL,"
	  " role TEXT NOT NULL,"
	  " action TEXT NOT NULL,"
	  " object TEXT NOT NULL,"
	  " summary TEXT NOT NULL DEFAULT '',"
	  " remote TEXT"
	  ");"
	  "CREATE INDEX audit_at ON audit(at);"
	  "CREATE INDEX audit_action ON audit(action, at);" },
	{ 7, "screen presence",
	  "CREATE TABLE screens ("
	  " region_code TEXT NOT NULL,"
	  " screen_id TEXT NOT NULL,"
	  " status TEXT NOT NULL CHECK (status IN ('online', 'offline')),"
	  " version TEXT,"
	  " message_id TEXT,"   /* what it says it shows */
	  " heartbeat_s INTEGER,"
	  " reason TEXT,"
	  " last_seen_at INTEGER NOT NULL,"
	  " status_since INTEGER NOT NULL,"
	  " PRIMARY KEY (region_code, screen_id)"
	  ") WITHOUT ROWID;"
	  /* 1: the region's screens were all offline when the broker took the
	   * delivery; 0: one was online; NULL: no screen ever reported */
	  "ALTER TABLE deliveries ADD COLUMN offline_at_send INTEGER;" },
	{ 8, "CAP identities of revisions",
	  /* set on revisions that came in as CAP: exported again under the
	   * identifier they came with, and found by later references */
	  "ALTER TABLE revisions ADD COLUMN cap_sender TEXT;"
	  "ALTER TABLE revisions ADD COLUMN cap_identifier TEXT;"
	  "ALTER TABLE revisions ADD COLUMN cap_sent TEXT;"
	  "CREATE UNIQUE INDEX revisions_cap ON revisions(cap_sender,"
	  " cap_identifier) WHERE cap_identifier IS NOT NULL;" },
	{ 9, "campaigns, quiet hours and approvals",
	  "CREATE TABLE campaigns ("
	  " id INTEGER PRIMARY KEY,"
	  " name TEXT NOT NULL,"
	  " enabled INTEGER NOT NULL DEFAULT 1,"
	  " schedule TEXT NOT NULL,"       /* cron, or @every DURATION */
	  " start_date TEXT,"              /* YYYY-MM-DD, inclusive */
	  " end_date TEXT,"
	  " regions TEXT NOT NULL,"        /* JSON codes; each covers below */
	  " tiers INTEGER NOT NULL,"       /* bit per level */
	  " audience TEXT,"                /* NULL: every channel */
	  " notices TEXT NOT NULL,"        /* JSON ids, in rotation */
	  " next_index INTEGER NOT NULL DEFAULT 0,"
	  " next_run_at INTEGER,"
	  " last_run_at INTEGER,"
	  " runs INTEGER NOT NULL DEFAULT 0,"
	  " version INTEGER NOT NULL DEFAULT 1,"
	  " created_by TEXT NOT NULL,"
	  " created_at INTEGER NOT NULL,"
	  " updated_at INTEGER NOT NULL"
	  ");"
	  "CREATE TABLE campaign_runs ("
	  " id INTEGER PRIMARY KEY,"
	  " campaign_id INTEGER NOT NULL REFERENCES campaigns(id),"
	  " run INTEGER NOT NULL,"
	  " at INTEGER NOT NULL,"
	  " notice_id TEXT NOT NULL,"
	  " deliveries INTEGER NOT NULL,"
	  " suppressed INTEGER NOT NULL,"  /* channels in an emergency */
	  " quiet INTEGER NOT NULL"        /* channels in quiet hours */
	  ");"
	  "CREATE INDEX campaign_runs_campaign ON campaign_runs(campaign_id, run);"
	  /* a campaign's messages live in the outbox too: emergency_id 0 */
	  "ALTER TABLE messages ADD COLUMN campaign_id INTEGER;"
	  "ALTER TABLE deliveries ADD COLUMN campaign_id INTEGER;"
	  "CREATE INDEX deliveries_campaign ON deliveries(campaign_id, revision)"
	  " WHERE campaign_id IS NOT NULL;"
	  "ALTER TABLE regions ADD COLUMN quiet_hours TEXT;"  /* 22:00-07:00 */
	  "CREATE TABLE approvals ("
	  " id INTEGER PRIMARY KEY,"
	  " kind TEXT NOT NULL CHECK (kind IN ('declare', 'revise')),"
	  " emergency_id INTEGER,"         /* revise: which; declare: result */
	  " revision INTEGER,"             /* the revision it made */
	  " body TEXT NOT NULL,"           /* the request, as JSON */
	  " severity TEXT NOT NULL,"
	  " summary TEXT NOT NULL,"
	  " status TEXT NOT NULL CHECK (status IN ('pending', 'approved',"
	  "   'rejected', 'lapsed')),"
	  " requested_by TEXT NOT NULL,"
	  " requested_at INTEGER NOT NULL,"
	  " expires_at INTEGER NOT NULL,"
	  " decided_by TEXT,"
	  " decided_at INTEGER,"
	  " reason TEXT,"
	  " planned TEXT"                  /* the plan as the requester saw it */
	  ");"
	  "CREATE INDEX approvals_status ON approvals(status, expires_at);" },
	{ 10, "outbox indexes that move less as deliveries go out",
	  /* coverage reads only this index, in its order (it is polled
	   * while a fan-out runs) */
	  "CREATE INDEX deliveries_coverage ON deliveries(emergency_id,"
	  " revision, escalation, town_code, tier, state, offline_at_send);"
	  "DROP INDEX deliveries_emergency;"
	  "DROP INDEX deliveries_state;"
	  /* the claim's index holds only what waits: a delivery leaves it
	   * once, when claimed, instead of moving at every state */
	  "DROP INDEX deliveries_due;"
	  "CREATE INDEX deliveries_due ON deliveries(kind, priority DESC,"
	  " next_attempt_at, id) WHERE state = 'pending';"
	  /* re-sends and escalation look for what was sent and not acked */
	  "CREATE INDEX deliveries_sent ON deliveries(kind, tier, sent_at)"
	  " WHERE state = 'sent';"
	  /* nothing reads messages by emergency: by id or message_id only */
	  "DROP INDEX messages_emergency;" },
	{ 11, "plans committed in stages",
	  /* a big plan commits in chunks, its first deliveries going out
	   * before the rest is written: the path of the last region
	   * committed ('' before the first), NULL once the plan is whole.
	   * Whatever is not NULL at start is planned to its end. */
	  "ALTER TABLE revisions ADD COLUMN plan_cursor TEXT;"
	  "CREATE INDEX revisions_planning ON revisions(emergency_id)"
	  " WHERE plan_cursor IS NOT NULL;" },
	{ 12, "idempotency keys of declarations",
	  /* a declaration sent again with its key is answered with what
	   * the first made: an emergency, or a held approval request */
	  "CREATE TABLE idempotency_keys ("
	  " actor TEXT NOT NULL,"
	  " key TEXT NOT NULL,"
	  " request_hash TEXT NOT NULL,"
	  " emergency_id INTEGER REFERENCES emergencies(id),"
	  " approval_id INTEGER REFERENCES approvals(id),"
	  " created_at INTEGER NOT NULL,"
	  " PRIMARY KEY (actor, key)) WITHOUT ROWID;" },
};

#define N_MIGRATIONS (int)(sizeof migrations / sizeof migrations[0])

int store_schema_latest(void)
{
	return migrations[N_MIGRATIONS - 1].version;
}

int store_schema_version(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int v = 0;
	if (sqlite3_prepare_v2(store_db(s),
			       "SELECT coalesce(max(version), 0) FROM "
			       "schema_migrations", -1, &st, NULL) != SQLITE_OK)
		return 0; /* no table yet: an empty database */
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int apply(struct store *s, const struct migration *m, struct err *err)
{
	sqlite3_stmt *st = NULL;
	if (store_begin(s, err) < 0)
		return -1;
	if (store_exec(s, m->sql, err) < 0)
		goto fail;
	if (sqlite3_prepare_v2(store_db(s),
			       "INSERT INTO schema_migrations(version, name, "
			       "applied_at) VALUES (?, ?, ?)", -1, &st,
			       NULL) != SQLITE_OK) {
		store_fail(s, err, "recording a migration");
		goto fail;
	}
	sqlite3_bind_int(st, 1, m->version);
	sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, util_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE) {
		store_fail(s, err, "recording a migration");
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (store_commit(s, err) < 0) {
		store_rollback(s);
		return -1;
	}
	log_info("database: applied migration %d (%s)", m->version, m->name);
	return 0;
fail:
	sqlite3_finalize(st);
	err_prefix(err, "migration %d (%s): ", m->version, m->name);
	store_rollback(s);
	return -1;
}

int store_migrate(struct store *s, struct err *err)
{
	if (store_exec(s,
		       "CREATE TABLE IF NOT EXISTS schema_migrations ("
		       " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
		       " applied_at INTEGER NOT NULL)", err) < 0)
		return -1;
	int have = store_schema_version(s);
	int latest = store_schema_latest();
	if (have > latest) {
		err_set(err, 0, "store", "",
			"the database has schema version %d, newer than this "
			"scicastd knows (%d): run a newer scicastd or restore a "
			"backup", have, latest);
		return -1;
	}
	for (int i = 0; i < N_MIGRATIONS; i++)
		if (migrations[i].version > have &&
		    apply(s, &migrations[i], err) < 0)
			return -1;
	return 0;
}
