# Safe practice: a drill says so everywhere, is reported per town from the
# screens' acks and calls out nobody; a red alert waits for a second
# operator (not the first, not a viewer), can be rejected, lapses, and all
# of it is in the audit log; an all-clear reaches every channel the alert
# reached.
. "$(dirname "$0")/../lib.sh"
ZS="$SHARED/data/regions-zhongshan.csv"
need "$ZS" "the shared data folder must be beside the checkout (or set SCICAST_SHARED)"

broker_start
hookd_start
export SCICAST_POLICY_RED_RESEND_AFTER=1s SCICAST_POLICY_RED_RESEND_MAX=1
export SCICAST_APPROVAL_TIMEOUT=10s
daemon_start
api POST /api/v1/regions/import "@$ZS" -H 'Content-Type: text/csv'
T1=442000001000 T2=442000002000 V1=442000001007 V2=442000001008 CITY=442000000000
nv=$(awk -F, -v t=$T1 '$4==t' "$ZS" | wc -l)
mk() { curl -s -X POST "$URL/api/v1/tokens" -d "{\"name\":\"$1\",\"role\":\"$2\"}" | jq -r .token; }
OP1=$(mk op-zhang operator) OP2=$(mk op-li operator) VIEWER=$(mk viewer-wang viewer)
as() { # TOKEN METHOD PATH [BODY] — like api, as another token
	_tok=$1; shift
	_m=$1; _p=$2; shift 2
	printf '%s' "${1:-}" > "$T/req"
	STATUS=$(curl -q -s -o "$T/body" -w '%{http_code}' -X "$_m" -H "Authorization: Bearer $_tok" \
		-H 'Content-Type: application/json' ${1:+--data-binary "@$T/req"} "$URL$_p")
	BODY=$(cat "$T/body")
}
esc_ch=$(hook_channel $T1 /ok/escalation ',"role":"escalation"')
screens_start screens --silent $V2
msgs() { jq -r "select(.payload.message_id | startswith(\"$1\")) | .payload.region.code" "$T/screens.jsonl"; }

# ---- a drill ----
as "$OP1" POST /api/v1/emergencies "{\"hazard\":\"typhoon\",\"severity\":\"red\",\"headline\":\"台风红色预警\",\"area\":[\"$T1\"],\"duration\":\"1h\",\"exercise\":true}"
expect_eq "a red drill needs no approval ([approval] skip_drills): 201" "$STATUS" 201
D=$(jqr .id)
check "it goes out" wait_for 100 settled "$D"
pl=$(jq -c "select(.payload.message_id == \"e$D-r1-$V1\") | .payload" "$T/screens.jsonl" | head -1)
expect_eq "the village payload says it is a drill" "$(printf '%s' "$pl" | jq -r .status)" exercise
expect_match "its title starts with 【演练】" "$(printf '%s' "$pl" | jq -r .title)" "^【演练】"
expect_match "and its speech with 这是演练" "$(printf '%s' "$pl" | jq -r .tts)" "^这是演练"
expect_eq "every payload of it says so" \
	"$(jq -r "select(.payload.message_id | startswith(\"e$D-\")) | .payload.status" "$T/screens.jsonl" | sort -u)" exercise
check "its CAP says Exercise" sh -c "curl -s $URL/api/v1/emergencies/$D/cap | grep -q '<status>Exercise</status>'"
acks=$(msgs "e$D-r1-" | grep -v -e "^$V2\$" -e "^$CITY\$" | sort -u | wc -l)
check "the screens ack all but the silent one" wait_for 100 sh -c \
	"[ \$(curl -s '$URL/api/v1/emergencies/$D/report' | jq .towns[0].reached) -eq $acks ]"
api GET "/api/v1/emergencies/$D/report"
diag "report: $(jqr -c '.towns[0] | del(.name)')"
expect_eq "the report per town: planned (villages and town), reached = the screens' acks" \
	"$(jqr '.towns[] | "\(.code) \(.planned) \(.reached)"')" "$T1 $((nv + 1)) $acks"
expect_eq "(the acks the screens sent: all villages but one, and the town)" "$acks" "$nv"
expect_eq "the silent screen is named" "$(jqr '[.towns[0].silent[].code] | join(",")')" "$V2"
check "times to the first and last ack are given, first ≤ last" \
	sh -c "curl -s $URL/api/v1/emergencies/$D/report | jq -e '.towns[0] | .first_ack_s >= 0 and .first_ack_s <= .last_ack_s' > /dev/null"
expect_eq "the totals add up" "$(jqr '"\(.exercise) \(.planned) \(.reached)"')" "true $((nv + 1)) $acks"
csv=$(curl -s "$URL/api/v1/emergencies/$D/report?format=csv" | tr -d "\r")
expect_match "the CSV report has the same row" "$(printf '%s' "$csv" | sed -n 2p)" "^$T1,[^,]+,$((nv + 1)),$acks,[0-9]+\.[0-9]{3},[0-9]+\.[0-9]{3},1,$V2 [^,]+ \\(unknown\\)\$"
diag "$(printf '%s' "$csv" | head -1)"
api GET "/api/v1/emergencies/$D/report?format=pdf"
expect_eq "an unknown format is 400 naming format" "$STATUS $(jqr .error.field)" "400 format"
sleep 4 # the red policy would escalate the silent village after 1 s + 1 re-send
expect_eq "a drill calls no escalation webhook ([drills] escalate = false)" "$(hook_hits /ok/escalation)" 0
as "$OP1" POST "/api/v1/emergencies/$D/cancel"
check "the drill is cancelled" wait_for 100 settled "$D"

# ---- a red alert waits for a second operator ----
town_ch=$(hook_channel $T1 /ok/town '')
before=$(sqlite3 "$DB" "SELECT count(*) FROM deliveries")
seen=$(wc -l < "$T/screens.jsonl")
red="{\"hazard\":\"typhoon\",\"severity\":\"red\",\"headline\":\"台风红色预警\",\"area\":[\"$T1\"],\"duration\":\"2h\"}"
as "$OP1" POST /api/v1/emergencies "$red"
expect_eq "a red declaration is held: 202 pending" "$STATUS $(jqr .status)" "202 pending"
A=$(jqr .approval_id)
expect_eq "with its plan, for the approver to see" "$(jqr .planned.deliveries)" "$((nv + 3))"
as "$VIEWER" GET /api/v1/approvals?status=pending
expect_eq "it is listed as pending" "$(jqr '[.items[] | "\(.approval_id) \(.requested_by) \(.severity)"] | join(",")')" "$A op-zhang red"
as "$OP2" GET "/api/v1/approvals/$A"
expect_eq "the approver sees the plan the requester saw" "$(jqr .planned.deliveries)" "$((nv + 3))"
api POST "/api/v1/emergencies?dry_run=true" "$red"
expect_eq "a dry run says it would wait for approval" "$STATUS $(jqr .approval_required)" "200 true"
as "$OP1" POST "/api/v1/approvals/$A/approve"
expect_eq "the same operator cannot approve it: 403" "$STATUS $(jqr .error.code)" "403 same_operator"
expect_match "and is told why" "$(jqr .error.message)" "another operator"
as "$VIEWER" POST "/api/v1/approvals/$A/approve"
expect_eq "a viewer cannot: 403" "$STATUS" 403
sleep 1
expect_eq "nothing is planned meanwhile" "$(sqlite3 "$DB" "SELECT count(*) FROM deliveries")" "$before"
expect_eq "nothing reaches a screen" "$(wc -l < "$T/screens.jsonl")" "$seen"
expect_eq "no emergency is active" "$(curl -s "$URL/api/v1/emergencies?status=active" | jq .total)" 0
as "$OP2" POST "/api/v1/approvals/$A/approve" '{"reason":"值班领导已确认"}'
expect_eq "another operator approves: 200" "$STATUS $(jqr .status) $(jqr .decided_by)" "200 approved op-li"
E=$(jqr .result.id)
check "then it goes out" wait_for 100 sh -c "msgs() { jq -r \"select(.payload.message_id | startswith(\\\"\$1\\\")) | .payload.region.code\" $T/screens.jsonl; }; [ \$(msgs e$E-r1- | sort -u | wc -l) -eq $((nv + 2)) ]"
api GET "/api/v1/emergencies/$E"
expect_eq "declared in the requester's name" "$(jqr '"\(.severity) \(.revisions[0].author)"')" "red op-zhang"
check "and a real alert does escalate the silent village" wait_for 150 sh -c "[ \$(jq -r 'select(.path==\"/ok/escalation\") | .path' $HOOK_LOG | wc -l) -ge 1 ]"
as "$OP2" POST "/api/v1/approvals/$A/approve"
expect_eq "approving twice is 409" "$STATUS" 409

# rejection
before=$(sqlite3 "$DB" "SELECT count(*) FROM deliveries")
as "$OP1" POST /api/v1/emergencies "{\"hazard\":\"flood\",\"severity\":\"red\",\"headline\":\"洪水红色预警\",\"area\":[\"$T2\"],\"duration\":\"1h\"}"
R=$(jqr .approval_id)
as "$OP2" POST "/api/v1/approvals/$R/reject" '{"reason":"水文站数据有误"}'
expect_eq "another operator rejects: 200" "$STATUS $(jqr .status) $(jqr .reason)" "200 rejected 水文站数据有误"
as "$OP1" POST "/api/v1/approvals/$R/approve"
as "$OP2" POST "/api/v1/approvals/$R/approve"
expect_eq "a rejected request cannot be approved after: 409" "$STATUS" 409
expect_eq "nothing was planned for it" "$(sqlite3 "$DB" "SELECT count(*) FROM deliveries")" "$before"
expect_eq "(one active emergency: the approved one)" "$(curl -s "$URL/api/v1/emergencies?status=active" | jq .total)" 1

# raising an alert to red needs approval too
as "$OP1" POST /api/v1/emergencies "{\"hazard\":\"flood\",\"severity\":\"yellow\",\"headline\":\"洪水黄色预警\",\"area\":[\"$T2\"],\"duration\":\"1h\"}"
expect_eq "yellow goes straight out: 201" "$STATUS" 201
Y=$(jqr .id)
as "$OP1" POST "/api/v1/emergencies/$Y/revisions" '{"severity":"red","headline":"洪水红色预警"}'
expect_eq "raising it to red is held: 202" "$STATUS $(jqr .kind)" "202 revise"
expect_eq "its summary names the emergency" "$(jqr .summary)" "update emergency $Y to red: 洪水红色预警"
U=$(jqr .approval_id)
expect_eq "the emergency stays at revision 1 meanwhile" "$(curl -s "$URL/api/v1/emergencies/$Y" | jq -r '"\(.revision) \(.severity)"')" "1 yellow"
as "$OP2" POST "/api/v1/approvals/$U/approve"
expect_eq "approved, it becomes revision 2, red" "$STATUS $(curl -s "$URL/api/v1/emergencies/$Y" | jq -r '"\(.revision) \(.severity)"')" "200 2 red"

# a request nobody decides lapses
as "$OP1" POST /api/v1/emergencies "{\"hazard\":\"flood\",\"severity\":\"red\",\"headline\":\"洪水红色预警\",\"area\":[\"$T2\"],\"duration\":\"1h\"}"
L=$(jqr .approval_id)
check "after [approval] timeout (10 s) it lapses" wait_for 150 sh -c "[ \$(curl -s $URL/api/v1/approvals/$L | jq -r .status) = lapsed ]"
as "$OP2" POST "/api/v1/approvals/$L/approve"
expect_eq "a lapsed request cannot be approved: 409" "$STATUS" 409
check "the lapse is logged" grep -q "approval: 1 request(s) lapsed" "$DLOG"

api GET "/api/v1/audit?limit=200"
trail=$(jqr '[.items[] | select(.action | startswith("approval.")) | "\(.action) \(.actor) \(.object)"] | reverse | join(", ")')
expect_eq "the audit log has every request and decision, by whom" "$trail" \
	"approval.request op-zhang approval/$A, approval.approve op-li approval/$A, approval.request op-zhang approval/$R, approval.reject op-li approval/$R, approval.request op-zhang approval/$U, approval.approve op-li approval/$U, approval.request op-zhang approval/$L"

# ---- all clear ----
check "the red alert has settled" wait_for 100 settled "$E"
reached=$(sqlite3 "$DB" "SELECT group_concat(channel_id) FROM (SELECT DISTINCT channel_id FROM deliveries WHERE emergency_id=$E AND revision=1 AND escalation=0 AND state IN ('sent','acked') ORDER BY channel_id)")
as "$OP1" POST "/api/v1/emergencies/$E/allclear" '{"reason":"台风已登陆减弱"}'
expect_eq "an all-clear: 200, the emergency ends" "$STATUS $(curl -s "$URL/api/v1/emergencies/$E" | jq -r .status)" "200 ended"
check "it goes out" wait_for 100 settled "$E"
got=$(sqlite3 "$DB" "SELECT group_concat(channel_id) FROM (SELECT DISTINCT channel_id FROM deliveries WHERE emergency_id=$E AND revision=2 AND state IN ('sent','acked') ORDER BY channel_id)")
expect_eq "to every channel the alert reached" "$got" "$reached"
check "(the webhook among them)" sh -c "echo ,$got, | grep -q ,$town_ch,"
ac=$(jq -c "select(.payload.message_id == \"e$E-r2-$V1\") | .payload" "$T/screens.jsonl" | head -1)
expect_eq "the village screen gets an all-clear" "$(printf '%s' "$ac" | jq -r .msg_type)" allclear
expect_match "with the all-clear text (解除)" "$(printf '%s' "$ac" | jq -r '.title + " " + (.body | gsub("\\n"; " "))')" "^台风预警解除 .*台风预警已解除。"
check "the town's webhook gets it too" sh -c \
	"jq -r 'select(.path==\"/ok/town\") | .payload.msg_type' $HOOK_LOG | grep -qx allclear"
topic=$(printf '%s' "$ac" | jq -r .region.code)
rt=$(mosquitto_sub -p "$MQTT_PORT" -t "scicast/v1/alerts/$CITY/$T1/$V1" -C 1 -W 3 2>/dev/null)
expect_eq "the retained message on the village topic is the all-clear" "$(printf '%s' "$rt" | jq -r .msg_type)" allclear
check "its CAP says AllClear" sh -c "curl -s $URL/api/v1/emergencies/$E/cap | grep -q '<responseType>AllClear</responseType>'"
as "$OP1" POST "/api/v1/emergencies/$E/allclear"
expect_eq "an ended emergency cannot be ended again: 409" "$STATUS" 409

check "SIGTERM stops the daemon cleanly" daemon_stop
check "no sanitizer report" daemon_log_clean
done_testing
