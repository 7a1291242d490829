# A declaration, update, cancel or all-clear sent again with its
# Idempotency-Key (its answer was lost) is answered with what the first
# one made, and nothing is stored or sent twice: not the emergency, not a
# revision, not a held red alert's approval request. The same key with
# another body or request, or a malformed key, is refused and changes
# nothing. (66_staged_plan sends a province-wide one again after a kill.)
. "$(dirname "$0")/../lib.sh"
ZS="$SHARED/data/regions-zhongshan.csv"
need "$ZS" "the shared data folder must be beside the checkout (or set SCICAST_SHARED)"

broker_start
daemon_start
api POST /api/v1/regions/import "@$ZS" -H 'Content-Type: text/csv'
T1=442000001000 T2=442000002000
nv=$(awk -F, -v t=$T1 '$4==t' "$ZS" | wc -l)
mk() { curl -s -X POST "$URL/api/v1/tokens" -d "{\"name\":\"$1\",\"role\":\"$2\"}" | jq -r .token; }
OP1=$(mk op-zhang operator) OP2=$(mk op-li operator)
as() { # TOKEN METHOD PATH BODY [curl args...] — like api, as another token
	_tok=$1 _m=$2 _p=$3; shift 3
	printf '%s' "$1" > "$T/req"; shift
	STATUS=$(curl -q -s -D "$T/headers" -o "$T/body" -w '%{http_code}' -X "$_m" \
		-H "Authorization: Bearer $_tok" -H 'Content-Type: application/json' \
		--data-binary "@$T/req" "$@" "$URL$_p")
	BODY=$(cat "$T/body")
}
count() { sqlite3 "$DB" "SELECT count(*) FROM $1"; }
screens_start watch --no-ack --brief

DECL='{"hazard":"typhoon","severity":"yellow","headline":"台风黄色预警","area":["'$T1'"],"duration":"6h"}'
as "$OP1" POST /api/v1/emergencies "$DECL" -H 'Idempotency-Key: 9f1c6a0e-typhoon-1'
expect_eq "a declaration with an Idempotency-Key answers 201" "$STATUS" 201
E=$(jqr .id)
planned=$(jqr .planned.deliveries)
check "it goes out" wait_for 100 settled "$E"
sent_before=$(jq -r "select(.message_id | startswith(\"e$E-\")) | .message_id" "$T/watch.jsonl" | wc -l)

as "$OP1" POST /api/v1/emergencies "$DECL" -H 'Idempotency-Key: 9f1c6a0e-typhoon-1'
expect_eq "sent again with its key: 200 with the same emergency, marked replayed" \
	"$STATUS $(jqr .id) $(jqr .replayed)" "200 $E true"
check "and the header Idempotent-Replayed: true" grep -qi '^Idempotent-Replayed: true' "$T/headers"
expect_eq "no second emergency" "$(count emergencies)" 1
expect_eq "no second delivery" "$(count deliveries)" "$planned"
sleep 1
expect_eq "no second message at the screens" \
	"$(jq -r "select(.message_id | startswith(\"e$E-\")) | .message_id" "$T/watch.jsonl" | wc -l)" "$sent_before"
check "the log says it was sent again" grep -q "Idempotency-Key 9f1c6a0e-typhoon-1 sent again: answered with emergency $E" "$DLOG"

# ---- refused, and nothing changes ----
before=$(db_fingerprint "$DB")
OTHER='{"hazard":"typhoon","severity":"yellow","headline":"另一个预警","area":["'$T2'"],"duration":"6h"}'
as "$OP1" POST /api/v1/emergencies "$OTHER" -H 'Idempotency-Key: 9f1c6a0e-typhoon-1'
expect_eq "the same key with another declaration: 422 naming the header" \
	"$STATUS $(jqr .error.field)" "422 Idempotency-Key"
expect_match "and the emergency it made" "$(jqr .error.message)" "different request \(emergency $E\)"
as "$OP1" POST /api/v1/emergencies "$OTHER" -H 'Idempotency-Key: has space'
expect_eq "a key with a space: 400 naming the header" "$STATUS $(jqr .error.field)" "400 Idempotency-Key"
long=$(head -c 256 /dev/zero | tr '\0' k)
as "$OP1" POST /api/v1/emergencies "$OTHER" -H "Idempotency-Key: $long"
expect_eq "a key of 256 characters: 400" "$STATUS $(jqr .error.field)" "400 Idempotency-Key"
expect_eq "none of them changed anything" "$(db_fingerprint "$DB")" "$before"
as "$OP1" POST "/api/v1/emergencies?dry_run=true" "$OTHER" -H 'Idempotency-Key: 9f1c6a0e-typhoon-1'
expect_eq "a dry run does not look at the key (it stores nothing)" "$STATUS" 200
expect_eq "and stored nothing" "$(db_fingerprint "$DB")" "$before"

# ---- an update sent again ----
UPD='{"severity":"orange"}'
as "$OP1" POST "/api/v1/emergencies/$E/revisions" "$UPD" -H 'Idempotency-Key: upd-1'
expect_eq "an update with a key: 201, revision 2" "$STATUS $(jqr .revision)" "201 2"
n_del=$(count deliveries)
as "$OP1" POST "/api/v1/emergencies/$E/revisions" "$UPD" -H 'Idempotency-Key: upd-1'
expect_eq "sent again: 200, still revision 2, replayed" "$STATUS $(jqr .revision) $(jqr .replayed)" "200 2 true"
expect_eq "no third revision, no new delivery" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM revisions WHERE emergency_id=$E")/$(count deliveries)" "2/$n_del"
as "$OP1" POST "/api/v1/emergencies/$E/revisions" "$UPD" -H 'Idempotency-Key: 9f1c6a0e-typhoon-1'
expect_eq "the declaration's key on an update: 422" "$STATUS $(jqr .error.field)" "422 Idempotency-Key"

# ---- keys are the operator's own ----
as "$OP2" POST /api/v1/emergencies "$DECL" -H 'Idempotency-Key: 9f1c6a0e-typhoon-1'
expect_eq "another operator's same key is a new declaration: 201" "$STATUS" 201
E2=$(jqr .id)
check "a new emergency" [ "$E2" != "$E" ]
as "$OP2" POST "/api/v1/emergencies/$E2/cancel" '{"reason":"重复"}' -H 'Idempotency-Key: cancel-1'
expect_eq "a cancel with a key: 200, cancelled" "$STATUS $(jqr .status)" "200 cancelled"
revs=$(sqlite3 "$DB" "SELECT count(*) FROM revisions WHERE emergency_id=$E2")
as "$OP2" POST "/api/v1/emergencies/$E2/cancel" '{"reason":"重复"}' -H 'Idempotency-Key: cancel-1'
expect_eq "sent again with its key: 200 replayed, not 409" "$STATUS $(jqr .status) $(jqr .replayed)" "200 cancelled true"
expect_eq "and no second cancel revision" "$(sqlite3 "$DB" "SELECT count(*) FROM revisions WHERE emergency_id=$E2")" "$revs"
as "$OP2" POST "/api/v1/emergencies/$E2/cancel" '{"reason":"重复"}'
expect_eq "without the key, a second cancel is refused: 409" "$STATUS" 409

# ---- a red alert held for a second operator ----
RED='{"hazard":"typhoon","severity":"red","headline":"台风红色预警","area":["'$T1'"],"duration":"2h"}'
as "$OP1" POST /api/v1/emergencies "$RED" -H 'Idempotency-Key: red-1'
expect_eq "a red declaration is held: 202" "$STATUS" 202
A=$(jqr .approval_id)
as "$OP1" POST /api/v1/emergencies "$RED" -H 'Idempotency-Key: red-1'
expect_eq "sent again: 202 with the same request, marked replayed" \
	"$STATUS $(jqr .approval_id) $(jqr .replayed)" "202 $A true"
expect_eq "one request waits, not two" "$(sqlite3 "$DB" "SELECT count(*) FROM approvals WHERE status='pending'")" 1
as "$OP2" POST "/api/v1/approvals/$A/approve" '{}'
expect_eq "approved by the second operator" "$STATUS $(jqr .status)" "200 approved"
R=$(sqlite3 "$DB" "SELECT emergency_id FROM approvals WHERE id=$A")
as "$OP1" POST /api/v1/emergencies "$RED" -H 'Idempotency-Key: red-1'
expect_eq "sent again after the approval: still that request, now with its emergency" \
	"$STATUS $(jqr .status) $(jqr .emergency_id)" "202 approved $R"
expect_eq "one red emergency" "$(sqlite3 "$DB" "SELECT count(*) FROM emergencies WHERE severity='red'")" 1

# ---- the CLI sends a key of its own ----
CLI=$BUILD/scicast
export SCICAST_URL="$URL" SCICAST_TOKEN="$OP1" XDG_CONFIG_HOME="$T/xdg-none"
"$CLI" declare --hazard rainstorm --severity blue --headline "暴雨蓝色预警" --area "$T2" --duration 1h > "$T/cli.out" 2>&1
expect_eq "scicast declare works" "$?" 0
expect_eq "and its key is remembered" "$(sqlite3 "$DB" "SELECT count(*) FROM idempotency_keys WHERE actor='op-zhang' AND key LIKE 'cli-%'")" 1
"$CLI" declare --hazard rainstorm --severity blue --headline "暴雨蓝色预警" --area "$T2" --duration 1h \
	--idempotency-key cli-rain-1 > "$T/cli.out" 2>&1
"$CLI" declare --hazard rainstorm --severity blue --headline "暴雨蓝色预警" --area "$T2" --duration 1h \
	--idempotency-key cli-rain-1 > "$T/cli2.out" 2>&1
expect_eq "--idempotency-key sent twice: exit 0" "$?" 0
expect_match "and says it was declared already" "$(cat "$T/cli2.out")" "already declared"
expect_eq "one emergency for the two" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM idempotency_keys WHERE key='cli-rain-1'")/$(sqlite3 "$DB" "SELECT count(*) FROM emergencies WHERE hazard='rainstorm'")" "1/2"
"$CLI" update "$E" --headline "台风橙色预警（更新）" --idempotency-key cli-upd-1 > "$T/cli4.out" 2>&1
"$CLI" update "$E" --headline "台风橙色预警（更新）" --idempotency-key cli-upd-1 > "$T/cli5.out" 2>&1
expect_eq "scicast update sent twice with its key: exit 0" "$?" 0
expect_match "and says it was updated already" "$(cat "$T/cli5.out")" "already updated by an earlier send of this update"
expect_eq "one new revision for the two" "$(sqlite3 "$DB" "SELECT max(revision) FROM revisions WHERE emergency_id=$E")" 3
R1=$(sqlite3 "$DB" "SELECT min(id) FROM emergencies WHERE hazard='rainstorm'")
"$CLI" allclear "$R1" --idempotency-key cli-clear-1 > "$T/cli6.out" 2>&1
"$CLI" allclear "$R1" --idempotency-key cli-clear-1 > "$T/cli7.out" 2>&1
expect_eq "scicast allclear sent twice with its key: exit 0" "$?" 0
expect_match "and says it was done already" "$(cat "$T/cli7.out")" "already done by an earlier send of this allclear"
"$CLI" declare --hazard rainstorm --severity blue --headline "暴雨蓝色预警" --area "$T2" --duration 1h \
	--idempotency-key 'bad key' > "$T/cli3.out" 2>&1
expect_eq "a bad key: the CLI exits non-zero" "$?" 2
expect_match "naming the option" "$(cat "$T/cli3.out")" "idempotency-key"

check "no sanitizer report" daemon_log_clean
done_testing
