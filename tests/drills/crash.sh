# Drill "crash": kill -9 at random moments of a big fan-out (MQTT to every
# region, plus webhooks, some failing at first), each kill followed by a
# restart; one more kill lands inside a declaration of its own. In the end
# every planned delivery is sent or acked and reached its receiver, by
# message_id: nothing lost; a message that arrived twice is a duplicate
# (at least once: receivers de-duplicate), counted and reported.
. "$(dirname "$0")/lib.sh"
TOWNS=$(size TOWNS 20 12)
VILLAGES=$(size VILLAGES 999 499)
ROUNDS=$(size ROUNDS 20 4)
SEED=${DRILL_SEED:-$$}
diag "profile $PROFILE: $TOWNS towns x $VILLAGES villages, $ROUNDS kills, seed $SEED"

import_tree "$TOWNS" "$VILLAGES"
broker_start || bail "mosquitto did not start"
hookd_start || bail "hookd did not start"
# a small in-flight window stretches the fan-out so that the kills land in
# it; retries come quickly so the failing webhooks finish within the drill
export SCICAST_MQTT_MAX_INFLIGHT=${SCICAST_MQTT_MAX_INFLIGHT:-16}
export SCICAST_WEBHOOKS_RETRY_INITIAL=300ms SCICAST_WEBHOOKS_RETRY_MAX=2s
export SCICAST_APPROVAL_REQUIRED=none
drill_daemon_start || bail "scicastd did not start"
screens_start screens --brief || bail "the screens did not start"
t=1
while [ "$t" -le "$TOWNS" ]; do
	hook_channel "$(town_code "$t")" "/ok/crash/$t" '' > /dev/null
	hook_channel "$(town_code "$t")" "/fail/2/crash/$t" '' > /dev/null
	t=$((t + 1))
done

count() { sqlite3 "$DB" "SELECT count(*) FROM deliveries WHERE $1"; }
DECL="{\"hazard\":\"typhoon\",\"severity\":\"yellow\",\"headline\":\"演练市台风黄色预警（演练）\",\"area\":[\"$CITY\"],\"duration\":\"6h\",\"exercise\":true}"

# kill -9 inside the declaration: all of it is stored, or none
post_bg /api/v1/emergencies "$DECL"
sleep "$(size DECLARE_KILL_AT 2 0.3)"
kill -9 "$DPID"; wait "$DPID" 2>/dev/null
wait "$post_pid"
diag "kill -9 during the declaration (its answer: $(cat "$T/post.out"))"
drill_daemon_start after-declare-kill || bail "scicastd did not start again"
n=$(sqlite3 "$DB" "SELECT count(*) FROM emergencies")
E1=""
if [ "$n" -eq 0 ]; then
	expect_eq "killed inside the declaration: nothing of it was stored" \
		"$(sqlite3 "$DB" "SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM deliveries) + (SELECT count(*) FROM revisions)")" 0
else
	# a big plan commits in stages: killed after its first, it is
	# finished after the restart
	E1=$(sqlite3 "$DB" "SELECT max(id) FROM emergencies")
	whole1() { [ "$(sqlite3 "$DB" "SELECT count(*) FROM revisions WHERE emergency_id=$E1 AND plan_cursor IS NOT NULL")" -eq 0 ]; }
	wait_until 300 whole1
	expect_eq "killed after the declaration's first stage: the restart finished its plan" \
		"$(count "emergency_id=$E1 AND escalation=0")/$(sqlite3 "$DB" "SELECT count(*) FROM revisions WHERE emergency_id=$E1 AND plan_cursor IS NOT NULL")" \
		"$(sqlite3 "$DB" "SELECT planned FROM revisions WHERE emergency_id=$E1")/0"
fi

# the rounds, on a declaration of their own: a big plan goes out while it
# is written, so the rounds start with its POST, not after its 201 (by
# then most of it is out), and the first kills may land in its plan
DECL2="{\"hazard\":\"rainstorm\",\"severity\":\"yellow\",\"headline\":\"演练市暴雨黄色预警（演练）\",\"area\":[\"$CITY\"],\"duration\":\"6h\",\"exercise\":true}"
declare_staged "$DECL2"
sampler_start "/api/v1/emergencies/$E"

# each kill at a random point of what is still to go out (2 to 12 % of
# it, once the restarted daemon has moved on), then a start. Points drawn
# over the whole fan-out at the start fell behind a sender that races
# ahead after each restart: the last round found it over.
done_now() { sqlite3 "$DB" "SELECT count(*) FROM deliveries WHERE emergency_id=$E AND state IN ('sent','acked')"; }
awk -v n="$ROUNDS" -v s="$SEED" 'BEGIN { srand(s)
	for (i = 0; i < n; i++) printf "%.3f\n", 0.02 + rand() * 0.10 }' > "$T/shares"
kills=0 round=1
for share in $(cat "$T/shares"); do
	start=$(done_now)
	point=$(point_ahead "$start" "$planned" "$share")
	wait_point "$point" "$start" "$planned"
	case $? in
	1) diag "round $round: the fan-out was over before the kill"; break ;;
	2) diag "round $round: no progress for a minute"; break ;;
	esac
	kill -9 "$DPID"; wait "$DPID" 2>/dev/null
	kills=$((kills + 1))
	diag "$(date +%T) round $round: kill -9 at $D of $planned out"
	drill_daemon_start "after-kill-$round" || break
	round=$((round + 1))
done
wait "$post_pid"
diag "the second declaration's answer: $(cat "$T/post.out")"
expect_eq "every kill landed mid-fan-out" "$kills" "$ROUNDS"
undone="emergency_id IN (${E1:+$E1, }$E) AND state NOT IN ('sent','acked')"
all_out() { [ "$(count "$undone")" -eq 0 ]; }
check "after the last restart every delivery is sent or acked" wait_until 300 all_out
diag "$(date +%T) all out"

# what the screens and the receiver got, against the plan
{ [ -z "$E1" ] || planned_keys "$E1"; planned_keys "$E"; } | sort > "$T/planned"
planned=$(wc -l < "$T/planned")
arrived_all() { delivered_keys "$T/screens.jsonl" | sort -u | comm -23 "$T/planned" - | grep -q . && return 1; return 0; }
check "the screens and the receiver got every delivery" wait_until 120 arrived_all
diag "$(date +%T) all arrived"
sampler_stop
delivered_keys "$T/screens.jsonl" > "$T/got"
sort -u "$T/got" > "$T/got.u"
lost=$(comm -23 "$T/planned" "$T/got.u" | wc -l)
extra=$(comm -13 "$T/planned" "$T/got.u" | wc -l)
delivered=$(comm -12 "$T/planned" "$T/got.u" | wc -l)
dups=$(($(wc -l < "$T/got") - $(wc -l < "$T/got.u")))
expect_eq "nothing lost: every planned delivery arrived" "$lost" 0
expect_eq "nothing arrived that was not planned" "$extra" 0
comm -23 "$T/planned" "$T/got.u" | head -5 | sed 's/^/# lost: /'
diag "API: $(api_answers 200) answers, $(api_other) refused while the daemon was down"
daemon_stop
check "no sanitizer report in any log" logs_clean
drill_result "$planned" "$delivered" "$lost" "$dups"
done_testing
