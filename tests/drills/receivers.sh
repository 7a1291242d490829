# Drill "receivers": a declaration reaches many webhook endpoints, and a
# third of them misbehave: some fail at random (/flaky/50/), some hang
# (/hang/, past the timeout), some close the connection halfway through
# their answer (/close/), some always fail (/fail/99/). Every good endpoint
# gets its notice; every bad delivery ends dead with its error (a flaky
# one may get through); the MQTT fan-out beside them is untouched; and the
# API stays responsive: GET /api/v1/emergencies/{id} is timed all along.
. "$(dirname "$0")/lib.sh"
TOWNS=$(size TOWNS 10 2)
VILLAGES=$(size VILLAGES 199 99)
HOOKS=$(size HOOKS 90 30)
P99_MAX=${DRILL_P99_MAX_MS:-2000}
diag "profile $PROFILE: $TOWNS towns x $VILLAGES villages, $HOOKS webhook endpoints"

import_tree "$TOWNS" "$VILLAGES"
broker_start || bail "mosquitto did not start"
hookd_start || bail "hookd did not start"
# four attempts, quick retries and a one-second timeout: a bad endpoint is
# dead within seconds, so the drill stays short
export SCICAST_WEBHOOKS_MAX_ATTEMPTS=4 SCICAST_WEBHOOKS_RETRY_INITIAL=200ms
export SCICAST_WEBHOOKS_RETRY_MAX=1s SCICAST_WEBHOOKS_TIMEOUT=1s
export SCICAST_APPROVAL_REQUIRED=none
drill_daemon_start || bail "scicastd did not start"
screens_start screens --brief || bail "the screens did not start"

# the endpoints, on villages all over the tree: of every three, two are
# good (/ok/ and /slow/150/ in turn) and one bad (flaky, hang, close,
# fail in turn)
i=1
: > "$T/endpoints"
while [ "$i" -le "$HOOKS" ]; do
	village=$(printf '4499%05d%03d' $((i % TOWNS + 1)) $((i % VILLAGES + 1)))
	if [ $((i % 3)) -eq 0 ]; then
		case $(((i / 3) % 4)) in
		0) path=/flaky/50/r$i ;; 1) path=/hang/r$i ;; 2) path=/close/r$i ;; *) path=/fail/99/r$i ;;
		esac
	elif [ $((i % 2)) -eq 0 ]; then path=/ok/r$i
	else path=/slow/150/r$i; fi
	ch=$(hook_channel "$village" "$path" '')
	[ "$ch" != null ] && [ -n "$ch" ] || bail "channel $path was not created"
	echo "$ch $path" >> "$T/endpoints"
	i=$((i + 1))
done
ok "$HOOKS webhook endpoints, a third of them bad"

api POST /api/v1/emergencies "{\"hazard\":\"heat\",\"severity\":\"orange\",\"headline\":\"演练市高温橙色预警（演练）\",\"area\":[\"$CITY\"],\"duration\":\"6h\",\"exercise\":true}"
[ "$STATUS" = 201 ] || bail "the declaration answered $STATUS"
E=$(jqr .id)
planned=$(jqr .planned.deliveries)
diag "$(date +%T) emergency $E: $planned deliveries planned ($(jqr .planned.by_kind.webhook) webhooks)"
sampler_start "/api/v1/emergencies/$E"

# every delivery settles: sent or acked, or dead
unsettled() { sqlite3 "$DB" "SELECT count(*) FROM deliveries WHERE emergency_id=$E AND state NOT IN ('sent','acked','dead')"; }
settled_all() { [ "$(unsettled)" -eq 0 ]; }
check "every delivery settles (sent, acked or dead)" wait_until "$(size SETTLE_S 300 120)" settled_all
diag "$(date +%T) settled: $(sqlite3 "$DB" "SELECT kind || ' ' || state || ' ' || count(*) FROM deliveries WHERE emergency_id=$E GROUP BY kind, state" | tr '\n' ',' | sed 's/,/, /g')"
sampler_stop

# the webhooks, endpoint by endpoint
state_of() { sqlite3 "$DB" "SELECT state || '|' || coalesce(last_error, '') FROM deliveries WHERE channel_id=$1 AND emergency_id=$E"; }
good=0 good_ok=0 bad=0 bad_dead=0 flaky_ok=0
while read -r ch path; do
	s=$(state_of "$ch")
	case $path in
	/ok/* | /slow/*)
		good=$((good + 1))
		case $s in acked*) good_ok=$((good_ok + 1)) ;; *) diag "good $path: $s" ;; esac ;;
	/flaky/*)
		bad=$((bad + 1))
		case $s in acked*) flaky_ok=$((flaky_ok + 1)); bad_dead=$((bad_dead + 1)) ;;
		"dead|HTTP 503"*) bad_dead=$((bad_dead + 1)) ;; *) diag "flaky $path: $s" ;; esac ;;
	/hang/*)
		bad=$((bad + 1))
		case $s in "dead|timed out"*) bad_dead=$((bad_dead + 1)) ;; *) diag "hang $path: $s" ;; esac ;;
	/close/*)
		bad=$((bad + 1))
		case $s in "dead|connection failed"*) bad_dead=$((bad_dead + 1)) ;; *) diag "close $path: $s" ;; esac ;;
	/fail/*)
		bad=$((bad + 1))
		case $s in "dead|HTTP 500"*) bad_dead=$((bad_dead + 1)) ;; *) diag "fail $path: $s" ;; esac ;;
	esac
done < "$T/endpoints"
expect_eq "every good endpoint got its notice (acked)" "$good_ok" "$good"
expect_eq "every bad one ends dead with its error, or (flaky) got through" "$bad_dead" "$bad"
diag "flaky endpoints that got through in 4 attempts: $flaky_ok"
for kind in hang close fail; do
	e=$(sqlite3 "$DB" "SELECT last_error FROM deliveries d JOIN channels c ON c.id = d.channel_id
		WHERE d.emergency_id=$E AND c.target LIKE '%/$kind/%' AND d.state = 'dead' LIMIT 1")
	diag "a /$kind/ endpoint's error: $e"
done
expect_eq "each dead one was tried max_attempts (4) times" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM deliveries WHERE emergency_id=$E AND state='dead' AND attempts <> 4")" 0

# planned against arrived: an MQTT delivery counts when the screens got
# it, a webhook when the receiver answered it 2xx; a dead one is accounted
# for (visible, with its error, re-drivable), not lost
planned_keys "$E" > "$T/planned"
planned_keys "$E" "'dead'" > "$T/dead"
arrived_all() { delivered_keys "$T/screens.jsonl" | sort -u | cat - "$T/dead" | sort -u | comm -23 "$T/planned" - | grep -q . && return 1; return 0; }
check "every delivery that is not dead arrived" wait_until 60 arrived_all
delivered_keys "$T/screens.jsonl" > "$T/got"
sort -u "$T/got" > "$T/got.u"
delivered=$(comm -12 "$T/planned" "$T/got.u" | wc -l)
lost=$(sort -u "$T/got.u" "$T/dead" | comm -23 "$T/planned" - | wc -l)
dups=$(($(wc -l < "$T/got") - $(wc -l < "$T/got.u")))
expect_eq "nothing lost" "$lost" 0
diag "$(wc -l < "$T/dead") dead, each with its error; the receiver counted $(jq -r 'select(.status == 0) | .path' "$HOOK_LOG" | wc -l) answers cut halfway"
p99=$(api_p99)
diag "API: $(api_answers 200) answers to GET /api/v1/emergencies/$E, p99 $p99 ms, $(api_other) not 200"
check "the API stayed responsive (p99 $p99 ms, under $P99_MAX ms)" [ "$p99" != n/a ] && [ "$p99" -lt "$P99_MAX" ]
daemon_stop
check "no sanitizer report in any log" logs_clean
drill_result "$planned" "$delivered" "$lost" "$dups" "$(wc -l < "$T/dead")"
done_testing
