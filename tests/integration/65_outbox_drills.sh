# Nothing lost: kill -9 in the middle of a province-wide fan-out, several
# times; the broker down during a declaration. Every planned delivery
# ends sent and every topic got its message at least once.
. "$(dirname "$0")/../lib.sh"
GD="$SHARED/data/regions-guangdong.csv"
need "$GD" "the shared data folder must be beside the checkout (or set SCICAST_SHARED)"

broker_start
DB="$T/drill.db"
SCICAST_STORE_PATH="$DB" "$SCICASTD" -c "$TOP/config/scicast.conf" import-regions "$GD" > /dev/null 2>&1
# a small in-flight window stretches the fan-out so the kills land in it
export SCICAST_MQTT_MAX_INFLIGHT=64
daemon_start
screens_start watch --no-ack --brief
watch_pid=$SCREENS_PID

DECL='{"hazard":"typhoon","severity":"yellow","headline":"广东省台风黄色预警","area":["440000000000"],"duration":"6h"}'
api POST "/api/v1/emergencies?dry_run=true" "$DECL"
planned=$(jqr .planned.deliveries)
check "it plans at least 20,000 deliveries" [ "$planned" -ge 20000 ]
diag "planned $planned deliveries"
# a big plan goes out while it is written (in stages): the kills come at
# points of the fan-out, the first may come before the 201
post_bg /api/v1/emergencies "$DECL"
wait_for 600 sh -c "[ -n \"\$(sqlite3 '$DB' 'SELECT max(id) FROM emergencies' 2>/dev/null)\" ]"
E=$(sqlite3 "$DB" "SELECT max(id) FROM emergencies")

sent_now() { sqlite3 "$DB" "SELECT count(*) FROM deliveries WHERE emergency_id=$E AND state IN ('sent','acked')" 2>/dev/null || echo 0; }
kills=0
for round in 1 2 3 4; do
	# a point 3-12 % of the way from what is out to the end: still ahead
	# of a sender that races on after each restart
	before=$(sent_now)
	point=$(awk -v c="$before" -v p="$planned" -v s=$round 'BEGIN { srand(s * 7919); printf "%d", c + (p - c) * (0.03 + rand() * 0.09) }')
	wait_for 600 sh -c "[ \$(sqlite3 '$DB' \"SELECT count(*) FROM deliveries WHERE emergency_id=$E AND state IN ('sent','acked')\" 2>/dev/null || echo 0) -ge $point ]"
	at=$(sent_now)
	if [ "$at" -ge "$planned" ]; then diag "round $round: already done"; break; fi
	kill -9 "$DPID"; wait "$DPID" 2>/dev/null
	kills=$((kills + 1))
	diag "round $round: kill -9 with $at of $planned sent"
	DPID=""
	daemon_start "after-kill-$round"
done
wait "$post_pid" 2>/dev/null
check "the daemon was killed mid-fan-out at least twice" [ "$kills" -ge 2 ]
check "after the last restart everything goes out" wait_for 1800 sh -c \
	"[ \$(sqlite3 '$DB' \"SELECT count(*) FROM deliveries WHERE emergency_id=$E AND state IN ('sent','acked')\") -eq $planned ]"
expect_eq "every planned delivery ends sent" "$(cov $E total.sent)" "$planned"
expect_eq "none is still pending or in flight" "$(cov $E total.pending)/$(cov $E total.inflight)" "0/0"
sqlite3 "$DB" "SELECT 'scicast/v1/alerts/' || r.path FROM deliveries d JOIN regions r ON r.code = d.region_code WHERE d.emergency_id = $E" | sort > "$T/expected"
# the broker has taken every message; the watching subscriber (a
# sanitizer build, on a busy machine) may still be reading its queue
missing_now() {
	jq -r 'select(.retained | not) | .topic' "$T/watch.jsonl" | sort > "$T/got"
	sort -u "$T/got" | comm -23 "$T/expected" - | wc -l
}
wait_for 1200 sh -c "[ \$(jq -r 'select(.retained | not) | .topic' '$T/watch.jsonl' | sort -u | comm -23 '$T/expected' - | wc -l) -eq 0 ]"
missing=$(missing_now)
expect_eq "every topic in scope got the message at least once (none lost)" "$missing" 0
dups=$(($(wc -l < "$T/got") - $(sort -u "$T/got" | wc -l)))
diag "duplicates after $kills kill -9 rounds: $dups (at-least-once; screens de-duplicate by message_id)"
last_log=$DLOG

# the broker is down during a declaration
broker_stop
check "the daemon notices the broker is gone" wait_for 100 grep -q "lost the broker\|cannot reach the broker" "$last_log"
api POST /api/v1/emergencies '{"hazard":"rainstorm","severity":"orange","headline":"广州市暴雨橙色预警","area":["440100000000"],"duration":"6h"}'
expect_eq "with the broker down, declaring still answers 201" "$STATUS" 201
E2=$(jqr .id)
planned2=$(jqr .planned.deliveries)
expect_eq "everything waits in the outbox" "$(cov $E2 total.pending)" "$planned2"
pid_before=$DPID
broker_start
screens_start watch2 --no-ack --brief
check "when the broker is back, all go out" wait_for 600 sh -c \
	"[ \$(sqlite3 '$DB' \"SELECT count(*) FROM deliveries WHERE emergency_id=$E2 AND state IN ('sent','acked')\") -eq $planned2 ]"
expect_eq "without a restart of scicastd" "$DPID" "$pid_before"
check "it is still the same process" kill -0 "$pid_before"
check "the log says it reconnected" grep -q "mqtt: connected" "$last_log"
daemon_stop
check "no sanitizer report" daemon_log_clean
screens_stop "$watch_pid"
done_testing
