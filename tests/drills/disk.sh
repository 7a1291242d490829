# Drill "disk": the database may not grow past a limit ([store] max_pages,
# SQLite's max_page_count: a full disk without filling one). A small
# declaration fits; a big one fills the database halfway through its
# transaction: the API answers 507 with a clear message, nothing of it
# remains (no emergency without its deliveries), and what was sent before
# goes on. When space returns (a restart with the limit raised) the same
# declaration goes through and every delivery arrives.
. "$(dirname "$0")/lib.sh"
TOWNS=$(size TOWNS 20 4)
VILLAGES=$(size VILLAGES 999 499)
# room in bytes: the limit counts pages, whose size the database chose
ROOM=${DRILL_HEADROOM_BYTES:-1638400}
diag "profile $PROFILE: $TOWNS towns x $VILLAGES villages, $ROOM bytes of room"

import_tree "$TOWNS" "$VILLAGES"
broker_start || bail "mosquitto did not start"
export SCICAST_APPROVAL_REQUIRED=none
# a first start without a limit seeds the templates and the library
drill_daemon_start seed || bail "scicastd did not start"
daemon_stop
pages=$(sqlite3 "$DB" "PRAGMA page_count")
limit=$((pages + ROOM / $(sqlite3 "$DB" "PRAGMA page_size")))
SCICAST_STORE_MAX_PAGES=$limit drill_daemon_start full || bail "scicastd did not start with max_pages"
ok "scicastd runs with [store] max_pages = $limit (the database has $pages)"
screens_start screens --brief || bail "the screens did not start"

# a small declaration fits
api POST /api/v1/emergencies "{\"hazard\":\"flood\",\"severity\":\"yellow\",\"headline\":\"演练镇1洪水黄色预警（演练）\",\"area\":[\"$(printf '4499%05d%03d' 1 1)\"],\"duration\":\"6h\",\"exercise\":true}"
[ "$STATUS" = 201 ] || bail "the small declaration answered $STATUS: $BODY"
E1=$(jqr .id)
planned1=$(jqr .planned.deliveries)
ok "a small declaration fits ($planned1 deliveries)"
sampler_start "/api/v1/emergencies/$E1"

# the big one does not
fingerprint=$(db_fingerprint "$DB")
BIG="{\"hazard\":\"typhoon\",\"severity\":\"yellow\",\"headline\":\"演练市台风黄色预警（演练）\",\"area\":[\"$CITY\"],\"duration\":\"6h\",\"exercise\":true}"
api POST /api/v1/emergencies "$BIG"
diag "the big declaration: $STATUS $BODY"
expect_eq "the big declaration is refused: 507 storage_full" "$STATUS/$(jqr .error.code)" 507/storage_full
expect_match "with a message that says the database is full" "$(jqr .error.message)" "database is full"
expect_eq "nothing of it was stored: one emergency, one revision" \
	"$(sqlite3 "$DB" "SELECT (SELECT count(*) FROM emergencies) || '/' || (SELECT count(*) FROM revisions)")" 1/1
expect_eq "no message or delivery but the small one's" \
	"$(sqlite3 "$DB" "SELECT (SELECT count(*) FROM messages WHERE emergency_id <> $E1) + (SELECT count(*) FROM deliveries WHERE emergency_id <> $E1)")" 0
expect_eq "no emergency without its deliveries" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM emergencies e WHERE (SELECT count(*) FROM deliveries d WHERE d.emergency_id = e.id) = 0")" 0
expect_eq "and no audit row for it" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE action = 'emergency.declare'")" 1
api POST "/api/v1/emergencies?dry_run=true" "$BIG"
expect_eq "a dry run still answers (it writes nothing)" "$STATUS" 200
expect_eq "/healthz still answers" "$(curl -s "$URL/healthz" | jq -r .status)" ok
api POST /api/v1/emergencies "$BIG"
expect_eq "a second try is refused the same way (the connection recovered from the first)" "$STATUS" 507
# the small one was not hurt
out1() { [ "$(sqlite3 "$DB" "SELECT count(*) FROM deliveries WHERE emergency_id=$E1 AND state NOT IN ('sent','acked')")" -eq 0 ]; }
check "the small declaration still goes out in full" wait_until 60 out1
daemon_stop
check "scicastd stops cleanly with its database full" [ $? -eq 0 ]
expect_eq "the database is sound" "$(sqlite3 "$DB" 'PRAGMA integrity_check')" ok

# space returns: a restart with a bigger limit, and the same declaration
SCICAST_STORE_MAX_PAGES=$((limit * 100)) drill_daemon_start roomy || bail "scicastd did not start again"
ok "scicastd starts again with max_pages = $((limit * 100))"
api POST /api/v1/emergencies "$BIG"
[ "$STATUS" = 201 ] || bail "after the restart the declaration answered $STATUS: $BODY"
ok "now the big declaration goes through"
E2=$(jqr .id)
planned2=$(jqr .planned.deliveries)
sampler_stop
sampler_start "/api/v1/emergencies/$E2"
undone="emergency_id IN ($E1, $E2) AND state NOT IN ('sent','acked')"
all_out() { [ "$(sqlite3 "$DB" "SELECT count(*) FROM deliveries WHERE $undone")" -eq 0 ]; }
check "every delivery of both goes out" wait_until "$(size SETTLE_S 300 90)" all_out
{ planned_keys "$E1"; planned_keys "$E2"; } | sort > "$T/planned"
arrived_all() { delivered_keys "$T/screens.jsonl" | sort -u | comm -23 "$T/planned" - | grep -q . && return 1; return 0; }
check "the screens got every one" wait_until 120 arrived_all
sampler_stop
delivered_keys "$T/screens.jsonl" > "$T/got"
sort -u "$T/got" > "$T/got.u"
lost=$(comm -23 "$T/planned" "$T/got.u" | wc -l)
delivered=$(comm -12 "$T/planned" "$T/got.u" | wc -l)
dups=$(($(wc -l < "$T/got") - $(wc -l < "$T/got.u")))
expect_eq "nothing lost" "$lost" 0
daemon_stop
check "no sanitizer report in any log" logs_clean
drill_result "$((planned1 + planned2))" "$delivered" "$lost" "$dups"
done_testing
