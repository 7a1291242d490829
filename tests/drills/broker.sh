# Drill "broker": mosquitto is stopped and started again three times in the
# middle of a big fan-out. scicastd is never restarted (same PID all
# along); nothing is lost: every planned delivery ends sent or acked and
# is on the broker (the screens got it live, or as the retained message
# of its topic after their own reconnect). Live duplicates are counted.
. "$(dirname "$0")/lib.sh"
TOWNS=$(size TOWNS 20 12)
VILLAGES=$(size VILLAGES 999 999)
OUTAGES=$(size OUTAGES 3 3)
SEED=${DRILL_SEED:-$$}
diag "profile $PROFILE: $TOWNS towns x $VILLAGES villages, $OUTAGES outages, seed $SEED"

import_tree "$TOWNS" "$VILLAGES"
broker_start || bail "mosquitto did not start"
# a small in-flight window stretches the fan-out so the outages land in it
export SCICAST_MQTT_MAX_INFLIGHT=${SCICAST_MQTT_MAX_INFLIGHT:-16}
export SCICAST_APPROVAL_REQUIRED=none
drill_daemon_start || bail "scicastd did not start"
pid=$DPID
screens_start screens --brief || bail "the screens did not start"
screens=$SCREENS_PID

DECL="{\"hazard\":\"rainstorm\",\"severity\":\"orange\",\"headline\":\"演练市暴雨橙色预警（演练）\",\"area\":[\"$CITY\"],\"duration\":\"6h\",\"exercise\":true}"
declare_staged "$DECL"
sampler_start "/api/v1/emergencies/$E"

# each outage starts at a random point of what is still to go out (5 to
# 30 % of it: points drawn over the whole fan-out at the start could all
# fall behind a sender that races ahead after each reconnect) and lasts
# 1 to 3 s
done_now() { sqlite3 "$DB" "SELECT count(*) FROM deliveries WHERE emergency_id=$E AND state IN ('sent','acked')"; }
awk -v n="$OUTAGES" -v s="$SEED" 'BEGIN { srand(s)
	for (i = 0; i < n; i++) printf "%.3f %.1f\n", 0.05 + rand() * 0.25, 1 + rand() * 2 }' > "$T/outages"
outages=0 round=1
while read -r share length; do
	start=$(done_now)
	point=$(point_ahead "$start" "$planned" "$share")
	wait_point "$point" "$start" "$planned"
	case $? in
	1) diag "outage $round: the fan-out was over before it"; break ;;
	2) diag "outage $round: no progress for a minute"; break ;;
	esac
	broker_stop
	outages=$((outages + 1))
	diag "$(date +%T) outage $round: mosquitto stopped at $D of $planned out, for ${length}s"
	sleep "$length"
	broker_start || break
	round=$((round + 1))
done < "$T/outages"
wait "$post_pid"
expect_eq "declared: 201, the plan unhurt by the outages" "$(cat "$T/post.out")" 201
expect_eq "every outage came in the middle of the fan-out" "$outages" "$OUTAGES"
check "scicastd noticed each one" [ "$(grep -c 'mqtt: lost the broker' "$DLOG")" -ge "$OUTAGES" ]
undone="emergency_id=$E AND state NOT IN ('sent','acked')"
all_out() { [ "$(sqlite3 "$DB" "SELECT count(*) FROM deliveries WHERE $undone")" -eq 0 ]; }
check "every delivery ends sent or acked" wait_until "$(size SETTLE_S 300 90)" all_out
diag "deliveries by state: $(sqlite3 "$DB" "SELECT state || ' ' || count(*) FROM deliveries WHERE emergency_id=$E GROUP BY state" | tr '\n' ' ')"
diag "$(date +%T) all out"
expect_eq "scicastd was not restarted (the same PID)" "$DPID" "$pid"
check "and it is still running" kill -0 "$pid"

# the screens' session is a clean one: what was published while they were
# away reached them as the retained message of its topic when they came
# back; at the end, every topic's retained message is the plan's
planned_keys "$E" > "$T/planned"
arrived_all() {
	{ delivered_keys "$T/screens.jsonl"; jq -r 'select(.retained and .message_id != null) | "mqtt \(.message_id)"' "$T/screens.jsonl"; } |
		sort -u | comm -23 "$T/planned" - | grep -q . && return 1
	return 0
}
check "the screens got every delivery" wait_until 120 arrived_all
mosquitto_sub -p "$MQTT_PORT" -t 'scicast/v1/alerts/#' -C "$planned" -W 60 2>/dev/null |
	jq -r '"mqtt \(.message_id)"' | sort -u > "$T/retained"
expect_eq "the broker holds every one as its topic's retained message" \
	"$(comm -23 "$T/planned" "$T/retained" | wc -l)" 0
sampler_stop
# live arrivals only: a retained copy after a reconnect is not a duplicate
jq -r 'select((.retained | not) and .message_id != null) | "mqtt \(.message_id)"' "$T/screens.jsonl" | sort > "$T/got"
{ cat "$T/got"; jq -r 'select(.retained and .message_id != null) | "mqtt \(.message_id)"' "$T/screens.jsonl"; } |
	sort -u > "$T/got.u"
lost=$(comm -23 "$T/planned" "$T/got.u" | wc -l)
delivered=$(comm -12 "$T/planned" "$T/got.u" | wc -l)
dups=$(($(wc -l < "$T/got") - $(sort -u "$T/got" | wc -l)))
expect_eq "nothing lost" "$lost" 0
diag "the screens got $(wc -l < "$T/got") live and $(jq -r 'select(.retained) | .topic' "$T/screens.jsonl" | wc -l) retained messages"
daemon_stop
check "no sanitizer report in any log" logs_clean
screens_stop "$screens"
drill_result "$planned" "$delivered" "$lost" "$dups"
done_testing
