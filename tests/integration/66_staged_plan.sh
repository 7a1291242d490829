# A province-wide plan commits in stages: its first messages reach the
# villages while the rest is still being planned, the 201 comes after the
# last stage with the whole count, and a kill -9 half-way through the plan
# loses nothing: at the next start scicastd finishes the plan (its API
# answering meanwhile), and every region gets exactly one delivery.
. "$(dirname "$0")/../lib.sh"
GD="$SHARED/data/regions-guangdong.csv"
need "$GD" "the shared data folder must be beside the checkout (or set SCICAST_SHARED)"

broker_start
DB="$T/staged.db"
SCICAST_STORE_PATH="$DB" "$SCICASTD" -c "$TOP/config/scicast.conf" import-regions "$GD" > /dev/null 2>&1
export SCICAST_APPROVAL_REQUIRED=none
daemon_start
screens_start watch --no-ack --brief
watch_pid=$SCREENS_PID

DECL='{"hazard":"typhoon","severity":"yellow","headline":"广东省台风黄色预警","area":["440000000000"],"duration":"6h"}'
api POST "/api/v1/emergencies?dry_run=true" "$DECL"
expect_eq "a dry run of the province answers 200" "$STATUS" 200
planned=$(jqr .planned.deliveries)
check "it plans more than 20,000 deliveries (a staged plan)" [ "$planned" -gt 20000 ]

# live PREFIX — live messages at the subscriber whose message_id starts so
live() { jq -r 'select(.retained | not) | .message_id' "$T/watch.jsonl" 2>/dev/null | grep -c "^$1"; }
# wait_live PREFIX COUNT — until more than COUNT such messages came (60 s)
wait_live() {
	_i=0
	while [ "$(live "$1")" -le "$2" ]; do
		_i=$((_i + 1)); [ "$_i" -lt 600 ] || return 1; sleep 0.1
	done
}
# wait_out E REVISION — until the broker has acknowledged a first delivery
# of that revision (60 s). After a fan-out the subscriber may still be
# reading its backlog for seconds; the database says what went out.
wait_out() {
	_i=0
	while [ "$(sqlite3 "$DB" "SELECT count(*) FROM deliveries WHERE emergency_id=$1 AND revision=$2 AND state IN ('sent','acked')" 2>/dev/null || echo 0)" -eq 0 ]; do
		_i=$((_i + 1)); [ "$_i" -lt 3000 ] || return 1; sleep 0.02
	done
}
answer_state() { [ -s "$T/post.out" ] && echo answered || echo planning; }
kill_daemon() {
	kill -9 "$DPID"; wait "$DPID" 2>/dev/null
	DPID=""
	wait "$post_pid" 2>/dev/null
}

# ---- kill -9 while the plan is half-way ----
POST_HEADER="Idempotency-Key: gd-typhoon-1"
post_bg /api/v1/emergencies "$DECL"
POST_HEADER=""
check "the first messages reach the subscriber" wait_live e 0
expect_eq "while the declaration is still being planned (no answer yet)" "$(answer_state)" planning
kill_daemon
expect_eq "killed before its 201: the client got no answer" "$(cat "$T/post.out")" "000"
E=$(sqlite3 "$DB" "SELECT max(id) FROM emergencies")
check "the emergency is on disk (its first stage committed)" [ -n "$E" ]
on_disk=$(sqlite3 "$DB" "SELECT count(*) FROM deliveries WHERE emergency_id=$E")
diag "killed with $on_disk of $planned deliveries planned, $(live e) messages out"
check "with part of its plan" [ "$on_disk" -gt 0 ] && [ "$on_disk" -lt "$planned" ]
expect_eq "its revision is marked unfinished" \
	"$(sqlite3 "$DB" "SELECT plan_cursor IS NOT NULL FROM revisions WHERE emergency_id=$E")" 1
expect_eq "the audit log says it started" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE action='emergency.plan' AND object='emergency/$E'")" 1

daemon_start after-kill
api GET "/api/v1/emergencies/$E"
expect_eq "after the restart the API answers, the plan still unfinished or just finished" \
	"$STATUS/$(jqr '.revisions[0].planned > 0')" "200/true"
api POST /api/v1/emergencies "$DECL" -H "Idempotency-Key: gd-typhoon-1"
expect_eq "the client sends it again with its Idempotency-Key: the same emergency, not a second" \
	"$STATUS $(jqr .id) $(jqr .replayed) $(sqlite3 "$DB" "SELECT count(*) FROM emergencies")" "200 $E true 1"
check "the restart finishes the plan" \
	wait_for 3000 grep -q "emergency $E: revision 1: planning finished after a stop" "$DLOG"
expect_eq "the revision is whole" \
	"$(sqlite3 "$DB" "SELECT plan_cursor IS NULL FROM revisions WHERE emergency_id=$E")" 1
expect_eq "every region in scope has exactly one delivery" \
	"$(sqlite3 "$DB" "SELECT count(*) || '/' || count(DISTINCT channel_id) FROM deliveries WHERE emergency_id=$E")" \
	"$planned/$planned"
expect_eq "the API counts them all as planned" "$(cov "$E" total.planned)" "$planned"
expect_eq "the audit log says who finished it" \
	"$(sqlite3 "$DB" "SELECT actor FROM audit WHERE action='emergency.plan_resumed' AND object='emergency/$E'")" scicastd
check "and everything goes out" wait_for 1800 settled "$E"
expect_eq "every planned delivery ends sent" "$(cov "$E" total.sent)" "$planned"
sqlite3 "$DB" "SELECT 'scicast/v1/alerts/' || r.path FROM deliveries d JOIN regions r ON r.code = d.region_code WHERE d.emergency_id = $E" | sort > "$T/expected"
missing() { jq -r 'select(.retained | not) | .topic' "$T/watch.jsonl" | sort -u | comm -23 "$T/expected" - | wc -l; }
wait_for 1200 sh -c "[ \$(jq -r 'select(.retained | not) | .topic' '$T/watch.jsonl' | sort -u | comm -23 '$T/expected' - | wc -l) -eq 0 ]"
expect_eq "every topic in scope got the alert (none lost)" "$(missing)" 0

# ---- an update of the province: staged too, answered when whole ----
post_bg "/api/v1/emergencies/$E/revisions" '{"severity":"orange","headline":"广东省台风橙色预警"}'
check "the update's first messages go out" wait_out "$E" 2
expect_eq "before the update is answered" "$(answer_state)" planning
wait "$post_pid"
expect_eq "the update answers 201" "$(cat "$T/post.out")" 201
expect_eq "with the whole count" "$(jq -r .planned.deliveries "$T/post.body")" "$planned"
expect_eq "revision 2 is whole" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM revisions WHERE emergency_id=$E AND revision=2 AND plan_cursor IS NULL AND planned=$planned")" 1
check "revision 2 goes out in full" wait_for 1800 settled "$E"
expect_eq "every delivery of revision 2 is sent" "$(cov "$E" total.sent)" "$planned"
check "stages were committed (metrics)" sh -c \
	"curl -s '$URL/metrics' | awk '/^scicast_plan_stages_total/ {exit !(\$2 > 2)}'"

# ---- SIGTERM during a big plan: the stop does not wait for the plan ----
post_bg "/api/v1/emergencies/$E/revisions" '{"headline":"广东省台风橙色预警（更新）"}'
check "a second update's first messages go out" wait_out "$E" 3
kill -TERM "$DPID"
wait "$DPID"
rc=$?
DPID=""
wait "$post_pid" 2>/dev/null
expect_eq "SIGTERM mid-plan: scicastd stops cleanly" "$rc" 0
expect_eq "the client is told it is stopping: 503" "$(cat "$T/post.out")" 503
expect_match "and that the plan is finished at the next start" "$(jq -r .error.message "$T/post.body")" "next start"
expect_eq "the revision waits unfinished" \
	"$(sqlite3 "$DB" "SELECT plan_cursor IS NOT NULL FROM revisions WHERE emergency_id=$E AND revision=3")" 1
daemon_start after-term
check "the next start finishes it" \
	wait_for 3000 grep -q "emergency $E: revision 3: planning finished after a stop" "$DLOG"
expect_eq "one delivery per region for it" \
	"$(sqlite3 "$DB" "SELECT count(*) || '/' || count(DISTINCT channel_id) FROM deliveries WHERE emergency_id=$E AND revision=3")" \
	"$planned/$planned"
check "revision 3 goes out in full" wait_for 1800 settled "$E"

# ---- a cancel of the province, killed half-way: an end needs no cursor ----
post_bg "/api/v1/emergencies/$E/cancel" '{"reason":"演练结束"}'
check "the first cancels go out" wait_out "$E" 4
expect_eq "while the cancel is still being planned" "$(answer_state)" planning
kill_daemon
expect_eq "the emergency is cancelled already (its first stage)" \
	"$(sqlite3 "$DB" "SELECT status || '/' || revision FROM emergencies WHERE id=$E")" "cancelled/4"
daemon_start after-cancel-kill
check "the restart finishes the cancel" \
	wait_for 3000 grep -q "emergency $E: revision 4: planning finished after a stop" "$DLOG"
expect_eq "every channel reached gets exactly one cancel" \
	"$(sqlite3 "$DB" "SELECT count(*) || '/' || count(DISTINCT channel_id) FROM deliveries WHERE emergency_id=$E AND revision=4")" \
	"$planned/$planned"
check "all cancels go out" wait_for 1800 settled "$E"
cancels() { jq -r 'select(.retained | not) | .message_id' "$T/watch.jsonl" | grep "^e$E-r4-" | sort -u | wc -l; }
_i=0
while [ "$(cancels)" -lt "$planned" ] && [ "$_i" -lt 1200 ]; do _i=$((_i + 1)); sleep 0.1; done
expect_eq "and every screen got its cancel" "$(cancels)" "$planned"

# ---- a red alert, approved by a second operator, killed half-way ----
daemon_stop
export SCICAST_APPROVAL_REQUIRED=red
daemon_start approval
mk() { curl -s -X POST "$URL/api/v1/tokens" -d "{\"name\":\"$1\",\"role\":\"operator\"}" | jq -r .token; }
OP1=$(mk op-zhang) OP2=$(mk op-li)
RED='{"hazard":"typhoon","severity":"red","headline":"广东省台风红色预警","area":["440000000000"],"duration":"6h"}'
STATUS=$(curl -q -s -o "$T/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $OP1" \
	-H 'Content-Type: application/json' --data-binary "$RED" "$URL/api/v1/emergencies")
BODY=$(cat "$T/body")
expect_eq "a red province declaration is held: 202" "$STATUS" 202
A=$(jqr .approval_id)
R=$((E + 1))
post_bg "/api/v1/approvals/$A/approve" '{}' "$OP2"
check "once approved, the first red alerts go out" wait_out "$R" 1
expect_eq "while the approved declaration is still being planned" "$(answer_state)" planning
kill_daemon
expect_eq "the approval is recorded with the first stage, naming the emergency" \
	"$(sqlite3 "$DB" "SELECT status || '/' || emergency_id || '/' || decided_by FROM approvals WHERE id=$A")" "approved/$R/op-li"
daemon_start after-approval-kill
STATUS=$(curl -q -s -o "$T/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $OP2" \
	-H 'Content-Type: application/json' --data-binary '{}' "$URL/api/v1/approvals/$A/approve")
expect_eq "it cannot be approved a second time: 409" "$STATUS" 409
check "the restart finishes the red alert's plan" \
	wait_for 3000 grep -q "emergency $R: revision 1: planning finished after a stop" "$DLOG"
expect_eq "one red delivery per region, declared in the requester's name" \
	"$(sqlite3 "$DB" "SELECT count(*) || '/' || count(DISTINCT channel_id) FROM deliveries WHERE emergency_id=$R")/$(sqlite3 "$DB" "SELECT author FROM revisions WHERE emergency_id=$R")" \
	"$planned/$planned/op-zhang"
expect_eq "no second emergency" "$(sqlite3 "$DB" "SELECT count(*) FROM emergencies")" 2
check "the red alert goes out in full" wait_for 1800 settled "$R"
daemon_stop
check "scicastd stops cleanly" [ $? -eq 0 ]
check "no sanitizer report" daemon_log_clean
screens_stop "$watch_pid"
done_testing
