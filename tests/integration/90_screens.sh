# scicast-screen, the reference screen, against a real mosquitto and the
# real daemon: 50 village screens show and ack an alert; a re-send is not
# shown twice; a stale revision is ignored; presence (online, the will when
# a screen is killed or hangs, offline at a clean stop); the state file
# brings the alert back before the broker is reached; speech gets exactly
# the tts text on stdin; a screen started while the broker is down catches
# up; cancel and expiry clear the screen, expiry even with nothing sent.
. "$(dirname "$0")/../lib.sh"
ZS="$SHARED/data/regions-zhongshan.csv"
SCREEN=$BUILD/scicast-screen
need "$ZS" "the shared data folder must be beside the checkout (or set SCICAST_SHARED)"
need "$SCREEN" "build it with 'make test-build'"

broker_start
daemon_start
api POST /api/v1/regions/import "@$ZS" -H 'Content-Type: text/csv'
check "the daemon connects to the broker" wait_for 50 grep -q "mqtt: connected" "$DLOG"

# screen_start NAME CODE [options] — a screen with its own event log
# ($T/NAME.jsonl) and state file ($T/NAME.state); sets SPID.
screen_start() {
	_n=$1; _c=$2; shift 2
	# RabbitMQ 3.x hands a retained message only to a subscription of the
	# exact topic, not to the screen's wildcards: name the topic there
	[ "$BROKER" = rabbitmq ] &&
		set -- --topic "$(curl -s "$URL/api/v1/regions/$_c" | jq -r .topic)" "$@"
	"$SCREEN" --region "$_c" --broker "127.0.0.1:$MQTT_PORT" $SCREEN_MQTT_OPTS --keepalive 5 \
		--log "$T/$_n.jsonl" --state-file "$T/$_n.state" "$@" \
		> "$T/$_n-screen.log" 2> "$T/$_n-stderr.log" &
	SPID=$!
	PIDS="$PIDS $SPID"
	echo "$_c $SPID" >> "$T/screen-pids"
}
pid_of() { awk -v c="$1" '$1 == c { p = $2 } END { print p }' "$T/screen-pids"; }
# ev FILE EVENT [MESSAGE_ID] — how many such lines the event log holds
ev() {
	jq -r --arg e "$2" --arg m "${3:-}" \
		'select(.event == $e and ($m == "" or .message_id == $m)) | .event' \
		"$1" 2>/dev/null | wc -l
}
has_ev() { [ "$(ev "$@")" -ge 1 ]; }
# status CODE — the retained presence of a region's screen (its screen id
# is the region code), one line
status() {
	mosquitto_sub -p "$MQTT_PORT" -t "scicast/v1/status/$1/$1" -C 1 -W 3 2>/dev/null |
		jq -c '{status, reason, message_id}'
}
status_is() { status "$1" | grep -q "\"status\":\"$2\""; }
village_topic() { api GET "/api/v1/regions/$1"; jqr .topic; }
# envelope ID REV TYPE CODE EXPIRES_ISO [TTS] — a hand-made message, for
# what the daemon cannot be made to send (a stale revision, a hostile tts)
envelope() {
	jq -cn --argjson e "$1" --argjson r "$2" --arg t "$3" --arg c "$4" \
		--arg x "$5" --arg tts "${6:-测试}" '{schema: "scicast.alert/1",
		message_id: "e\($e)-r\($r)-\($c)", emergency_id: $e, revision: $r,
		msg_type: $t, status: "exercise", severity: "orange", title: "测试 r\($r)",
		body: "测试", tts: $tts, notices: [], region: {code: $c},
		issued: "2026-01-01T00:00:00+08:00", expires: $x}'
}
iso_in() { date -u -d "@$(( $(date +%s) + $1 ))" +%Y-%m-%dT%H:%M:%SZ; }

# ---- 50 village screens: shown and acked once ----
awk -F, '$3 == "village" && n < 50 { print $1; n++ }' "$ZS" > "$T/v50"
area=$(awk -F, 'NR == FNR { v[$1] = 1; next } $1 in v { print $4 }' "$T/v50" "$ZS" |
	sort -u | jq -R . | jq -sc .)
for v in $(cat "$T/v50"); do screen_start "v$v" "$v"; done
V1=$(sed -n 1p "$T/v50")
all_connected() { for v in $(cat "$T/v50"); do has_ev "$T/v$v.jsonl" connected || return 1; done; }
check "50 screens connect" wait_for 300 all_connected
expect_eq "each announces itself online, retained" "$(status "$V1")" \
	'{"status":"online","reason":null,"message_id":null}'

api POST /api/v1/emergencies '{"hazard":"typhoon","severity":"yellow","headline":"中山市台风黄色预警","area":'"$area"',"duration":"1h"}'
expect_eq "declaring for their towns answers 201" "$STATUS" 201
E=$(jqr .id)
acked() {
	api GET "/api/v1/emergencies/$E/deliveries?tier=village&state=acked&limit=1000"
	[ "$(jqr '[.items[] | select(.ack_status == "displayed")] | length')" -eq 50 ]
}
check "the daemon records 50 village acks with status displayed" wait_for 200 acked
shown=0
for v in $(cat "$T/v50"); do
	[ "$(ev "$T/v$v.jsonl" displayed "e$E-r1-$v")" -eq 1 ] &&
		[ "$(ev "$T/v$v.jsonl" received "e$E-r1-$v")" -eq 1 ] && shown=$((shown + 1))
done
expect_eq "every screen received and displayed its own message once" "$shown" 50
expect_eq "the status names the message on screen" "$(status "$V1")" \
	"{\"status\":\"online\",\"reason\":null,\"message_id\":\"e$E-r1-$V1\"}"

# a re-send (same message_id): acked again, not shown again
V2=$(sed -n 2p "$T/v50")
T2=$(village_topic "$V2")
mosquitto_sub -p "$MQTT_PORT" -t "$T2" -C 1 -W 5 > "$T/resend.json"
mosquitto_sub -p "$MQTT_PORT" -t "scicast/v1/acks/$V2" -C 1 -W 20 > "$T/reack.json" &
sub=$!
# again until the ack listener (no ready signal) has caught one
for i in 1 2 3 4 5 6 7 8 9 10; do
	mosquitto_pub -p "$MQTT_PORT" -q 1 -t "$T2" -f "$T/resend.json"
	wait_for 10 test -s "$T/reack.json" && break
done
check "a re-send is logged as a duplicate" wait_for 50 has_ev "$T/v$V2.jsonl" duplicate "e$E-r1-$V2"
wait "$sub"
expect_eq "and acked again with the best status reached" "$(jq -c . "$T/reack.json")" \
	"{\"message_id\":\"e$E-r1-$V2\",\"status\":\"displayed\"}"
expect_eq "but displayed only once" "$(ev "$T/v$V2.jsonl" displayed "e$E-r1-$V2")" 1

# ---- presence: killed, hung, restarted from the state file ----
V1PID=$(pid_of "$V1")
t0=$(date +%s)
kill -KILL "$V1PID"
check "a killed screen's retained status turns offline (the will)" wait_for 150 status_is "$V1" offline
expect_eq "within the keep-alive window" "$(( $(date +%s) - t0 <= 8 ))" 1
expect_eq "saying the connection was lost" "$(status "$V1" | jq -r .reason)" "connection lost"

# (the later --state-file wins: the killed run's file)
screen_start "v$V1-again" "$V1" --state-file "$T/v$V1.state"
check "restarted with its state file, it shows the alert at once" \
	wait_for 50 has_ev "$T/v$V1-again.jsonl" displayed "e$E-r1-$V1"
first=$(jq -r 'select(.event == "displayed" or .event == "connected") | .event' \
	"$T/v$V1-again.jsonl" | head -1)
expect_eq "before it has reached the broker" "$first" displayed
check "then the retained copy is a duplicate, not shown again" \
	wait_for 50 has_ev "$T/v$V1-again.jsonl" duplicate "e$E-r1-$V1"
check "and it is online again" wait_for 50 status_is "$V1" online

# a screen that hangs (SIGSTOP) sends no PINGREQ: the broker gives up on
# it after 1.5 keep-alives (5 s here) and publishes the will
V3=$(sed -n 3p "$T/v50")
V3PID=$(pid_of "$V3")
t0=$(date +%s)
kill -STOP "$V3PID"
# (RabbitMQ 3.x gives up on a silent client after 2 to 3 keep-alives)
ka_wait=150; [ "$BROKER" = rabbitmq ] && ka_wait=300
check "a hung screen goes offline by the keep-alive" wait_for $ka_wait status_is "$V3" offline
expect_eq "after about 1.5 keep-alives" "$(( $(date +%s) - t0 >= 5 ))" 1
kill -CONT "$V3PID"
check "and comes back online when it wakes" wait_for 150 status_is "$V3" online

# ---- speech: the tts text exactly, on stdin ----
VT=$(awk -F, '$3 == "village" { v = $1 } END { print v }' "$ZS")
printf '#!/bin/sh\ncat > "$1.tmp" && mv "$1.tmp" "$1"\n' > "$T/say.sh"
chmod +x "$T/say.sh"
screen_start vt "$VT" --tts-command "$T/say.sh $T/spoken.txt"
check "the speaking screen connects" wait_for 100 has_ev "$T/vt.jsonl" connected
api POST /api/v1/emergencies '{"hazard":"rainstorm","severity":"orange","headline":"暴雨橙色预警","area":["'"$VT"'"],"duration":"1h"}'
ET=$(jqr .id)
check "the message is played" wait_for 100 has_ev "$T/vt.jsonl" played "e$ET-r1-$VT"
mosquitto_sub -p "$MQTT_PORT" -t "$(village_topic "$VT")" -C 1 -W 5 | jq -j .tts > "$T/tts.want"
check "the command read exactly the payload's tts" cmp -s "$T/tts.want" "$T/spoken.txt"
played_ack() {
	api GET "/api/v1/emergencies/$ET/deliveries?tier=village&limit=10"
	[ "$(jqr '.items[0].ack_status')" = played ]
}
check "and the daemon records the ack played" wait_for 50 played_ack
expect_eq "a screen outside the area heard nothing of the typhoon" \
	"$(jq -r "select(.emergency_id == $E) | .event" "$T/vt.jsonl" | wc -l)" 0

# hostile text stays text: it is on stdin, never on a command line
TT=$(village_topic "$VT")
evil='$(touch '"$T"'/pwned); `touch '"$T"'/pwned`'"'"'; touch '"$T"'/pwned; "'
envelope 90001 2 alert "$VT" "$(iso_in 600)" "$evil" > "$T/evil.json"
mosquitto_pub -p "$MQTT_PORT" -q 1 -t "$TT" -f "$T/evil.json"
check "a tts full of shell syntax is played" wait_for 100 has_ev "$T/vt.jsonl" played "e90001-r2-$VT"
expect_eq "word for word, and nothing ran" "$(cat "$T/spoken.txt")/$([ -e "$T/pwned" ] && echo ran)" "$evil/"
# the revision rule: an older revision of the same emergency is ignored
envelope 90001 1 alert "$VT" "$(iso_in 600)" > "$T/old.json"
mosquitto_pub -p "$MQTT_PORT" -q 1 -t "$TT" -f "$T/old.json"
check "a lower revision than the one shown is stale" wait_for 50 has_ev "$T/vt.jsonl" stale_revision "e90001-r1-$VT"
expect_eq "and neither shown nor spoken" "$(ev "$T/vt.jsonl" displayed "e90001-r1-$VT")$(ev "$T/vt.jsonl" played "e90001-r1-$VT")" 00
# the screen's own clock: an alert expires with nothing more arriving
envelope 90002 1 alert "$VT" "$(iso_in 2)" > "$T/short.json"
mosquitto_pub -p "$MQTT_PORT" -q 1 -t "$TT" -f "$T/short.json"
check "a hand-made alert is shown" wait_for 50 has_ev "$T/vt.jsonl" displayed "e90002-r1-$VT"
check "and taken down at its expiry by the screen itself" wait_for 60 has_ev "$T/vt.jsonl" expired "e90002-r1-$VT"

# ---- a screen started while the broker is down ----
VB=$(awk -F, '$3 == "village" { p = v; v = $1 } END { print p }' "$ZS")
broker_stop
screen_start vb "$VB"
sleep 1
api POST /api/v1/emergencies '{"hazard":"flood","severity":"orange","headline":"洪水橙色预警","area":["'"$VB"'"],"duration":"1h"}'
EB=$(jqr .id)
expect_eq "declared while the broker is down" "$STATUS/$(ev "$T/vb.jsonl" connected)" 201/0
sleep 1
broker_start
check "the screen connects when the broker is back" wait_for 200 has_ev "$T/vb.jsonl" connected
check "and shows the alert declared in between" wait_for 200 has_ev "$T/vb.jsonl" displayed "e$EB-r1-$VB"
check "the 50 screens are back online too" wait_for 200 status_is "$(sed -n 50p "$T/v50")" online

# ---- cancel and expiry clear the screen ----
api POST "/api/v1/emergencies/$E/cancel" '{"reason":"台风转向"}'
expect_eq "cancel answers 200" "$STATUS" 200
logs=$(for v in $(cat "$T/v50"); do [ "$v" = "$V1" ] && echo "$T/v$V1-again.jsonl" || echo "$T/v$v.jsonl"; done)
all_cleared() {
	for f in $logs; do
		has_ev "$f" cleared "e$E-r2-$(basename "$f" .jsonl | sed 's/^v//; s/-again$//')" || return 1
	done
}
check "the cancel clears all 50 screens" wait_for 200 all_cleared
expect_eq "the cleared line names the alert it took down" \
	"$(jq -r "select(.event == \"cleared\") | .cleared" "$T/v$V2.jsonl")" "e$E-r1-$V2"

api POST /api/v1/emergencies '{"hazard":"heat","severity":"yellow","headline":"高温黄色预警","area":["'"$VB"'"],"duration":"3s"}'
EX=$(jqr .id)
check "a 3 s alert is shown" wait_for 50 has_ev "$T/vb.jsonl" displayed "e$EX-r1-$VB"
gone() { has_ev "$T/vb.jsonl" expired "e$EX-r1-$VB" || has_ev "$T/vb.jsonl" cleared "e$EX-r2-$VB"; }
check "and cleared when it expires" wait_for 80 gone
check "the daemon's expired envelope follows" wait_for 80 has_ev "$T/vb.jsonl" received "e$EX-r2-$VB"

# ---- a clean stop: offline "stopped", exit 0, sanitizer-clean ----
kill -TERM "$SPID"
wait "$SPID"
expect_eq "a screen stopped with SIGTERM exits 0" "$?" 0
expect_eq "and says so in its retained status" "$(status "$VB" | jq -r '"\(.status) \(.reason)"')" "offline stopped"
rcs=""
for p in $(awk -v k="$V1PID" -v s="$SPID" '$2 != k && $2 != s { print $2 }' "$T/screen-pids"); do
	kill -TERM "$p"
done
for p in $(awk -v k="$V1PID" -v s="$SPID" '$2 != k && $2 != s { print $2 }' "$T/screen-pids"); do
	wait "$p" || rcs="$rcs $?"
done
expect_eq "every other screen stops cleanly too" "$rcs" ""
check "no sanitizer report from any screen" sh -c \
	"! grep -lE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' $T/*-stderr.log"
daemon_stop; rc=$?
expect_eq "the daemon stops cleanly" "$rc" 0
check "no sanitizer report from the daemon" daemon_log_clean
done_testing
