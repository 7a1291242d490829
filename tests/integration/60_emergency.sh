# Declaring, the tiered fan-out over MQTT, screen acks and coverage,
# retained alerts, update, cancel, expiry, re-sends, refused requests.
. "$(dirname "$0")/../lib.sh"
ZS="$SHARED/data/regions-zhongshan.csv"
need "$ZS" "the shared data folder must be beside the checkout (or set SCICAST_SHARED)"

broker_start
export SCICAST_POLICY_YELLOW_RESEND_AFTER=2s SCICAST_POLICY_YELLOW_RESEND_MAX=2
daemon_start
api POST /api/v1/regions/import "@$ZS" -H 'Content-Type: text/csv'
check "the daemon connects to the broker" wait_for 50 grep -q "mqtt: connected" "$DLOG"

# What two towns cover, from the file: the city, the towns, their villages
T1=442000001000 T2=442000002000
{
	echo "scicast/v1/alerts/442000000000"
	for t in $T1 $T2; do
		echo "scicast/v1/alerts/442000000000/$t"
		awk -F, -v t=$t '$4==t {print "scicast/v1/alerts/442000000000/" t "/" $1}' "$ZS"
	done
} | sort > "$T/expected-topics"
n_expected=$(wc -l < "$T/expected-topics")

screens_start watch --no-ack
watch_pid=$SCREENS_PID

body='{"hazard":"typhoon","severity":"yellow","headline":"中山市台风黄色预警","instruction":"停止户外集体活动","area":["'$T1'","'$T2'"],"duration":"6h"}'
api POST "/api/v1/emergencies?dry_run=true" "$body"
expect_eq "a dry run answers 200 with the plan" "$STATUS/$(jqr .planned.deliveries)" "200/$n_expected"
expect_eq "counts per tier" "$(jqr '.planned.by_tier | "\(.city) \(.town) \(.village)"')" "1 2 $((n_expected - 3))"
expect_eq "counts per town" "$(jqr '[.planned.by_town[].code] | join(",")')" "$T1,$T2"
expect_match "and a rendered sample per tier" "$(jqr '.planned.samples.village.body')" "居民请注意"
expect_eq "a dry run stores nothing" "$(sqlite3 "$DB" 'SELECT count(*) FROM emergencies')" 0

api POST /api/v1/emergencies "$body"
expect_eq "declaring answers 201" "$STATUS" 201
E=$(jqr .id)
expect_eq "with the planned count" "$(jqr .planned.deliveries)" "$n_expected"
expect_eq "every delivery is on disk when 201 arrives" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM deliveries WHERE emergency_id=$E")" "$n_expected"
check "all go out" wait_for 100 sh -c "[ \$(curl -s $URL/api/v1/emergencies/$E | jq .coverage.total.sent) -eq $n_expected ]"
wait_for 50 sh -c "[ \$(wc -l < $T/watch.jsonl) -ge $n_expected ]"
sleep 0.5
jq -r 'select(.retained|not) | .topic' "$T/watch.jsonl" | sort > "$T/got-topics"
expect_eq "a subscriber got exactly one message per topic in scope, none outside" \
	"$(sort -u "$T/got-topics" | diff - "$T/expected-topics" >/dev/null && echo same)/$(wc -l < "$T/got-topics")" "same/$n_expected"
bad=$(jq -r 'select(.retained|not) | .payload as $p |
	if $p.tier == "village" then (if ($p.body | contains($p.region.short_name)) and ($p.body | contains("居民请注意")) then empty else $p.region.code end)
	elif $p.tier == "town" then (if ($p.body | startswith($p.region.name + "各有关部门")) then empty else $p.region.code end)
	else (if ($p.body | startswith("市各有关单位")) and ($p.body | contains("石岐街道、东区街道")) then empty else $p.region.code end) end' "$T/watch.jsonl")
expect_eq "each body is its tier's template naming its own region" "$bad" ""
jq -r 'select(.retained|not) | "\(.topic | split("/") | length) \(.payload.tier)"' "$T/watch.jsonl" | sort -u > "$T/tiers"
expect_eq "the tier follows the topic depth" "$(tr '\n' ' ' < "$T/tiers")" "4 city 5 town 6 village "
expect_eq "the payload carries the envelope fields" \
	"$(jq -r 'select(.retained|not) | .payload | [.schema, .msg_type, .hazard, .severity, .colour, .status] | join(" ")' "$T/watch.jsonl" | sort -u)" \
	"scicast.alert/1 alert typhoon yellow #FFD000 actual"

# a screen that connects later gets the retained alert at once
V=442000001007
mosquitto_sub -p "$MQTT_PORT" -t "scicast/v1/alerts/442000000000/$T1/$V" -C 1 -W 5 > "$T/late.json"
expect_eq "a late subscriber gets the retained alert on its village topic" "$(jq -r .message_id "$T/late.json")" "e$E-r1-$V"
# MQTT 5: the broker drops a retained alert at its expiry by itself
if [ "$MQTT_PROTOCOL" = 5 ]; then
	x=$(mosquitto_sub -V mqttv5 -p "$MQTT_PORT" -t "scicast/v1/alerts/442000000000/$T1/$V" -C 1 -W 5 -F %E 2>/dev/null)
	check "its message expiry is the alert's time left (6 h)" test "${x:-0}" -gt 21000 -a "${x:-0}" -le 21600
else
	skip "message expiry is MQTT 5 only (RabbitMQ speaks 3.1.1): the retained alert stays until its end message replaces it"
fi

# screens ack; coverage for the town shows acked = planned
# (RabbitMQ 3.x hands the retained alerts only to subscriptions of the
# exact topics: there the screens take the topics one by one)
if [ "$BROKER" = rabbitmq ]; then
	screens_start screens --status displayed --topics "$T/expected-topics"
else
	screens_start screens --status displayed
fi
acks_pid=$SCREENS_PID
planned_t1=$(awk -F, -v t=$T1 '$4==t' "$ZS" | wc -l); planned_t1=$((planned_t1 + 1))
check "screens' acks turn the town's coverage complete" wait_for 100 sh -c \
	"[ \"\$(curl -s $URL/api/v1/emergencies/$E | jq -r '.coverage.by_town[] | select(.code==\"$T1\") | \"\(.acked)/\(.planned)\"')\" = '$planned_t1/$planned_t1' ]"
api GET "/api/v1/emergencies/$E/deliveries?town=$T1&state=acked&limit=1000"
expect_eq "the deliveries list shows them acked with the screen's status" "$(jqr '[.items[].ack_status] | unique | join(",")')" "displayed"
api GET "/api/v1/emergencies?status=active"
expect_eq "the active list shows it" "$(jqr '[.items[].id] | join(",")')" "$E"

# acks the daemon cannot use are counted, never crash it
mosquitto_pub -p "$MQTT_PORT" -t scicast/v1/acks/442000001007 -m 'not json'
mosquitto_pub -p "$MQTT_PORT" -t scicast/v1/acks/nonsense -m '{"message_id":"x","status":"displayed"}'
mosquitto_pub -p "$MQTT_PORT" -t scicast/v1/acks/442000001007 -m '{"message_id":"e999-r1-442000001007","status":"displayed"}'
check "malformed acks are counted" wait_for 30 sh -c "curl -s $URL/metrics | grep -q '^scicast_mqtt_malformed_total 2'"
check "unknown message ids are counted" wait_for 30 sh -c "curl -s $URL/metrics | grep -q '^scicast_mqtt_acks_unknown_total 1'"
check "and logged" grep -q 'malformed message on scicast/v1/acks/nonsense' "$DLOG"

# update: drop the second town; its channels get a cancel
api POST "/api/v1/emergencies/$E/revisions" '{"severity":"orange","area":["'$T1'"]}'
expect_eq "an update answers 201 with revision 2" "$STATUS/$(jqr .revision)" "201/2"
dropped=$(awk -F, -v t=$T2 '$4==t' "$ZS" | wc -l); dropped=$((dropped + 1))
expect_eq "the channels out of scope get a cancel" "$(jqr .planned.cancels)" "$dropped"
check "the update goes out" wait_for 100 settled $E
retained_sub "scicast/v1/alerts/442000000000/$T2/#" "$T/expected-topics" | jq -r .msg_type | sort -u > "$T/t2"
expect_eq "the dropped town's topics now hold a cancel" "$(cat "$T/t2")" "cancel"
retained_sub "scicast/v1/alerts/442000000000/$T1/#" "$T/expected-topics" | jq -r '"\(.msg_type) \(.severity) \(.revision)"' | sort -u > "$T/t1"
expect_eq "the kept town's topics hold the update" "$(cat "$T/t1")" "update orange 2"

# cancel: every topic's retained message becomes the cancel
api POST "/api/v1/emergencies/$E/cancel" '{"reason":"台风转向"}'
expect_eq "cancel answers 200" "$STATUS/$(jqr .status)" "200/cancelled"
check "the cancel goes out" wait_for 100 settled $E
retained_sub "scicast/v1/alerts/#" "$T/expected-topics" | jq -r .msg_type | sort | uniq -c | awk '{print $2":"$1}' > "$T/after-cancel"
expect_eq "a new subscriber sees only cancels, on every topic reached" "$(cat "$T/after-cancel")" "cancel:$n_expected"
if [ "$MQTT_PROTOCOL" = 5 ]; then
	x=$(mosquitto_sub -V mqttv5 -p "$MQTT_PORT" -t "scicast/v1/alerts/442000000000/$T1/$V" -C 1 -W 5 -F %E 2>/dev/null)
	check "a retained cancel expires after a day" test "${x:-0}" -gt 86000 -a "${x:-0}" -le 86400
else
	skip "message expiry is MQTT 5 only (RabbitMQ speaks 3.1.1): the retained cancel stays until the topic's next message"
fi
api POST "/api/v1/emergencies/$E/revisions" '{"headline":"x"}'
expect_eq "a cancelled emergency cannot be updated (409)" "$STATUS" 409
api POST "/api/v1/emergencies/$E/cancel"
expect_eq "nor cancelled twice (409)" "$STATUS" 409

# re-sends: a silent village is published again, the same message_id
screens_stop "$acks_pid"
S=442000002002
screens_start screens2 --silent $S
api POST /api/v1/emergencies '{"hazard":"rainstorm","severity":"yellow","headline":"暴雨黄色预警","area":["'$T2'"],"duration":"1h"}'
E2=$(jqr .id)
check "the silent village is re-sent twice (resend_max 2)" wait_for 150 sh -c \
	"[ \"\$(curl -s '$URL/api/v1/emergencies/$E2/deliveries?state=sent' | jq -r '.items[] | \"\(.region) \(.resends)\"')\" = '$S 2' ]"
sleep 3
n=$(jq -r "select(.payload.message_id==\"e$E2-r1-$S\" and (.retained|not)) | .payload.message_id" "$T/watch.jsonl" | wc -l)
expect_eq "with the same message_id each time (1 + 2 re-sends)" "$n" 3
api GET "/api/v1/emergencies/$E2"
expect_eq "the others were acked and not re-sent" "$(jqr '.coverage.total | "\(.acked) \(.sent)"')" "$(($(awk -F, -v t=$T2 '$4==t' "$ZS" | wc -l) + 1)) 1"
check "re-sends are counted in the metrics" sh -c "curl -s $URL/metrics | grep -q '^scicast_outbox_resends_total 2'"

# expiry: the daemon ends it and replaces the retained messages
api POST /api/v1/emergencies '{"hazard":"heat","severity":"yellow","headline":"高温黄色预警","area":["'$V'"],"duration":"2s"}'
E3=$(jqr .id)
check "an emergency expires by itself" wait_for 80 sh -c "[ \"\$(curl -s $URL/api/v1/emergencies/$E3 | jq -r .status)\" = expired ]"
check "and the expiry goes out" wait_for 50 settled $E3
mosquitto_sub -p "$MQTT_PORT" -t "scicast/v1/alerts/442000000000/$T1/$V" -C 1 -W 5 > "$T/expired.json"
expect_eq "the village's retained message is the expired envelope" "$(jq -r '"\(.msg_type) \(.emergency_id)"' "$T/expired.json")" "expired $E3"

# blue: no village topic; refused requests store nothing
api POST /api/v1/emergencies '{"hazard":"cold","severity":"blue","headline":"寒冷蓝色预警","area":["'$T1'"],"duration":"1h"}'
expect_eq "a blue alert reaches the city and the town only" "$(jqr '.planned.by_tier | keys | join(",")')" "city,town"
rows() { sqlite3 "$DB" "SELECT (SELECT count(*) FROM emergencies), (SELECT count(*) FROM revisions), (SELECT count(*) FROM messages), (SELECT count(*) FROM deliveries)"; }
fp=$(rows)
refused() { # description body field
	api POST /api/v1/emergencies "$2"
	if [ "$STATUS" = 422 ] && [ "$(jqr .error.field)" = "$3" ]; then ok "$1"; else
		fail "$1"; diag "status $STATUS body $BODY"; fi
}
refused "an unknown region is 422 naming area[1]" '{"hazard":"typhoon","severity":"red","headline":"x","area":["'$T1'","442000999000"],"duration":"1h"}' "area[1]"
refused "a past expiry is 422 naming expires_at" '{"hazard":"typhoon","severity":"red","headline":"x","area":["'$T1'"],"expires_at":"2020-01-01T00:00:00+08:00"}' expires_at
refused "a missing hazard is 422 naming hazard" '{"severity":"red","headline":"x","area":["'$T1'"],"duration":"1h"}' hazard
refused "an unknown hazard is 422 naming hazard" '{"hazard":"meteor","severity":"red","headline":"x","area":["'$T1'"],"duration":"1h"}' hazard
refused "an empty area is 422 naming area" '{"hazard":"typhoon","severity":"red","headline":"x","area":[],"duration":"1h"}' area
refused "a bad severity is 422 naming severity" '{"hazard":"typhoon","severity":"purple","headline":"x","area":["'$T1'"],"duration":"1h"}' severity
refused "no expiry is 422 naming expires_at" '{"hazard":"typhoon","severity":"red","headline":"x","area":["'$T1'"]}' expires_at
expect_eq "and none of them stored anything" "$(rows)" "$fp"

screens_stop "$watch_pid"
daemon_stop; rc=$?
expect_eq "the daemon stops cleanly" "$rc" 0
check "no sanitizer report" daemon_log_clean

# its session is persistent: an ack sent while it is down waits in the
# broker and is recorded when it is back
mosquitto_pub -p "$MQTT_PORT" -q 1 -t "scicast/v1/acks/$S" -m "{\"message_id\":\"e$E2-r1-$S\",\"status\":\"played\"}"
daemon_start again
acked_late() {
	api GET "/api/v1/emergencies/$E2/deliveries?state=acked&limit=1000"
	[ "$(jqr ".items[] | select(.region == \"$S\") | .ack_status")" = played ]
}
check "an ack sent while the daemon was down is recorded when it is back" wait_for 100 acked_late
daemon_stop; rc=$?
expect_eq "it stops cleanly again" "$rc" 0
check "no sanitizer report" daemon_log_clean
done_testing
