# scicast-screen and campaign notices, against a real mosquitto and the
# real daemon: a campaign run's notice is shown, read once and acked (the
# daemon records it); an emergency takes the screen and the notice comes
# back after the end hold, silently; a newer run replaces the notice; a
# restart brings it back from the state file without reading it again; a
# notice kept while an alert stands is shown once the alert is over; a
# notice leaves at its expiry; a drill is marked 【演练】 even when its
# title forgot it, and the log says exercise; an all-clear shows its text;
# with --no-speak-notices a notice is shown and acked but not read.
. "$(dirname "$0")/../lib.sh"
ZS="$SHARED/data/regions-zhongshan.csv"
SCREEN=$BUILD/scicast-screen
need "$ZS" "the shared data folder must be beside the checkout (or set SCICAST_SHARED)"
need "$SCREEN" "build it with 'make test-build'"

broker_start
# the test's clock must not fall in the default 22:00-07:00 quiet hours
export SCICAST_CAMPAIGNS_QUIET_HOURS=none
daemon_start
api POST /api/v1/regions/import "@$ZS" -H 'Content-Type: text/csv'
TOWN=442000001000 V=442000001007
check "the daemon connects to the broker" wait_for 50 grep -q "mqtt: connected" "$DLOG"

# The speaker appends what it reads to $T/said.txt, each text ended by a
# line @@.
printf '#!/bin/sh\n{ cat; printf "\\n@@\\n"; } >> "$1"\n' > "$T/say.sh"
chmod +x "$T/say.sh"
: > "$T/said.txt"
# screen_start NAME [options] — the village's screen, block mode, its
# own event log ($T/NAME.jsonl); the state file is shared by all runs.
screen_start() {
	_n=$1; shift
	# RabbitMQ 3.x hands a retained message only to a subscription of the
	# exact topic, not to the screen's wildcards: name the topic there
	[ "$BROKER" = rabbitmq ] && set -- --topic "$TOPIC" "$@"
	"$SCREEN" --region "$V" --broker "127.0.0.1:$MQTT_PORT" $SCREEN_MQTT_OPTS --keepalive 5 \
		--end-hold 2 --log "$T/$_n.jsonl" --state-file "$T/screen.state" \
		--tts-command "$T/say.sh $T/said.txt" "$@" \
		> "$T/$_n-screen.log" 2> "$T/$_n-stderr.log" &
	SPID=$!
	PIDS="$PIDS $SPID"
}
# ev FILE EVENT [MESSAGE_ID] — how many such lines the event log holds
ev() {
	jq -r --arg e "$2" --arg m "${3:-}" \
		'select(.event == $e and ($m == "" or .message_id == $m)) | .event' \
		"$1" 2>/dev/null | wc -l
}
has_ev() { [ "$(ev "$@")" -ge 1 ]; }
# on_screen FILE — what block mode printed last (after the last rule)
on_screen() { awk '/^── / { b = "" ; next } { b = b $0 "\n" } END { printf "%s", b }' "$1"; }
# shows NAME TEXT — the screen's last block holds TEXT (for wait_for)
shows() { on_screen "$T/$1-screen.log" | grep -qF -- "$2"; }
# status_id — the message the retained presence says is on the screen
status_id() {
	mosquitto_sub -p "$MQTT_PORT" -t "scicast/v1/status/$V/$V" -C 1 -W 3 2>/dev/null |
		jq -r .message_id
}
status_is() { [ "$(status_id)" = "$1" ]; }
said() { grep -c '^@@$' "$T/said.txt"; }
# said_times TEXT — how many times exactly TEXT was read
said_times() {
	SAID=$1 awk 'BEGIN { RS = "\n@@\n" } $0 == ENVIRON["SAID"] { n++ } END { print n + 0 }' \
		"$T/said.txt"
}
iso_in() { date -u -d "@$(( $(date +%s) + $1 ))" +%Y-%m-%dT%H:%M:%SZ; }
# notice CAMPAIGN RUN EXPIRES_ISO — a hand-made campaign notice, for what
# the daemon cannot be made to send (a notice queued under an alert, a
# short expiry: notice_ttl is a minute at least)
notice() {
	jq -cn --argjson c "$1" --argjson r "$2" --arg v "$V" --arg x "$3" --arg q "${4:-}" '{
		schema: "scicast.alert/1", message_id: "c\($c)-n\($r)-\($v)",
		emergency_id: 0, campaign_id: $c, revision: $r, msg_type: "notice",
		status: "actual", hazard: "heat", hazard_name: "高温", severity: null,
		colour: "#2E7D32", region: {code: $v}, title: "防暑知识 \($c)-\($r)",
		body: "多喝水", tts: "防暑知识 \($c)-\($r)。多喝水。", notices: [],
		issued: "2026-01-01T00:00:00+08:00", expires: $x,
		quiet_hours: (if $q == "" then null else $q end)}'
}
TOPIC=$(curl -s "$URL/api/v1/regions/$V" | jq -r .topic)

screen_start s1
check "the screen connects" wait_for 100 has_ev "$T/s1.jsonl" connected

# ---- a campaign run: shown, read once, acked ----
api GET "/api/v1/library?hazard=flood&locale=zh-CN&limit=2"
N1=$(jqr '.items[0].id') N2=$(jqr '.items[1].id')
N1T=$(jqr '.items[0].title') N2T=$(jqr '.items[1].title') N1S=$(jqr '.items[0].summary')
expect_eq "the library has two zh-CN flood notices" "$(jqr '.items | length')" 2
api POST /api/v1/campaigns "{\"name\":\"防汛知识\",\"schedule\":\"@every 1h\",\"enabled\":false,\"regions\":[\"$TOWN\"],\"notices\":[\"$N1\",\"$N2\"]}"
expect_eq "a disabled campaign (runs only when asked): 201" "$STATUS" 201
C=$(jqr .id)
api POST "/api/v1/campaigns/$C/run"
expect_eq "run 1: 202" "$STATUS" 202
M1="c$C-n1-$V"
check "the screen displays the run's notice" wait_for 100 has_ev "$T/s1.jsonl" displayed "$M1"
check "with its title on the screen" wait_for 20 shows s1 "$N1T"
expect_eq "its presence names the notice" "$(status_id)" "$M1"
check "and reads it out" wait_for 100 has_ev "$T/s1.jsonl" played "$M1"
expect_eq "its text, once" "$(said_times "$N1S")" 1
# acked RUN STATUS — the daemon's delivery of that run to the village
acked() {
	api GET "/api/v1/deliveries?campaign=$C&limit=1000"
	[ "$(jqr "[.items[] | select(.region == \"$V\" and .revision == $1) | \"\(.state) \(.ack_status)\"] | join(\",\")")" = "acked $2" ]
}
check "the daemon records the screen's ack: acked, played" wait_for 100 acked 1 played
expect_eq "the log line says which campaign" \
	"$(jq -r "select(.event == \"displayed\" and .message_id == \"$M1\") | \"\(.msg_type) \(.campaign_id) \(.emergency_id) \(.status)\"" "$T/s1.jsonl")" \
	"notice $C 0 actual"

# ---- an emergency wins; the notice comes back after the end hold ----
api POST /api/v1/emergencies "{\"hazard\":\"flood\",\"severity\":\"yellow\",\"headline\":\"洪水黄色预警\",\"area\":[\"$V\"],\"duration\":\"1h\"}"
E=$(jqr .id)
check "the alert is displayed" wait_for 100 has_ev "$T/s1.jsonl" displayed "e$E-r1-$V"
check "it replaces the notice on the screen" shows s1 "e$E-r1-$V"
check "and in the presence" wait_for 50 status_is "e$E-r1-$V"
api POST "/api/v1/emergencies/$E/cancel" '{"reason":"误报"}'
check "the cancel takes the alert down" wait_for 100 has_ev "$T/s1.jsonl" cleared "e$E-r2-$V"
check "the cancel line is shown for the end hold" wait_for 20 shows s1 "已取消"
check "then the notice is back" wait_for 60 has_ev "$T/s1.jsonl" resumed "$M1"
check "on the screen" shows s1 "$N1T"
check "and in the presence" wait_for 50 status_is "$M1"
expect_eq "shown again, not acked or read again" \
	"$(ev "$T/s1.jsonl" displayed "$M1") $(ev "$T/s1.jsonl" played "$M1") $(said_times "$N1S")" "1 1 1"

# ---- a newer run replaces it ----
api POST "/api/v1/campaigns/$C/run"
M2="c$C-n2-$V"
check "run 2 replaces run 1" wait_for 100 has_ev "$T/s1.jsonl" displayed "$M2"
expect_eq "the log names the notice it replaced" \
	"$(jq -r "select(.event == \"replaced\") | .replaced" "$T/s1.jsonl")" "$M1"
check "the new title is on the screen" shows s1 "$N2T"
check "and it is read" wait_for 100 has_ev "$T/s1.jsonl" played "$M2"
check "and acked" wait_for 100 acked 2 played

# ---- a restart: back from the state file, not read again ----
kill -TERM "$SPID"
wait "$SPID"
expect_eq "the screen stops cleanly" "$?" 0
n=$(said)
screen_start s2
check "restarted, it shows the notice from its state file" \
	wait_for 50 has_ev "$T/s2.jsonl" displayed "$M2"
expect_eq "before it has reached the broker" \
	"$(jq -r 'select(.event == "displayed" or .event == "connected") | "\(.event) \(.from)"' "$T/s2.jsonl" | head -1)" \
	"displayed state file"
check "it connects" wait_for 100 sh -c "jq -r .event $T/s2.jsonl | grep -qx connected"
sleep 1
expect_eq "and no copy comes from the broker: notices are not retained" \
	"$(jq -r "select(.message_id == \"$M2\") | .event" "$T/s2.jsonl" | sort -u | tr '\n' ' ')" "displayed "
expect_eq "and nothing is read again" "$(said) $(ev "$T/s2.jsonl" played)" "$n 0"

# ---- a drill: marked 【演练】, even when its title forgot; the all-clear ----
api POST /api/v1/emergencies "{\"hazard\":\"flood\",\"severity\":\"orange\",\"headline\":\"洪水橙色预警\",\"area\":[\"$V\"],\"duration\":\"1h\",\"exercise\":true}"
D=$(jqr .id)
check "the drill is displayed" wait_for 100 has_ev "$T/s2.jsonl" displayed "e$D-r1-$V"
expect_eq "the log says it is an exercise" \
	"$(jq -r "select(.event == \"displayed\" and .message_id == \"e$D-r1-$V\") | .status" "$T/s2.jsonl")" exercise
check "the screen shows the drill banner" shows s2 "演练 DRILL"
check "and its title line says 【演练】" shows s2 "【演练】"
# a notice that comes while the drill stands is kept, not shown
notice 99001 1 "$(iso_in 120)" | mosquitto_pub -p "$MQTT_PORT" -q 1 -t "$TOPIC" -s
check "a notice that comes during the drill is received" wait_for 50 has_ev "$T/s2.jsonl" received "c99001-n1-$V"
expect_eq "but not shown: the drill stays" "$(ev "$T/s2.jsonl" displayed "c99001-n1-$V")" 0
check "on the screen too" shows s2 "e$D-r1-$V"
api POST "/api/v1/emergencies/$D/allclear" '{"reason":"演练结束"}'
expect_eq "the all-clear answers 200" "$STATUS" 200
check "the all-clear is displayed" wait_for 100 has_ev "$T/s2.jsonl" displayed "e$D-r2-$V"
check "with its text (解除) on the screen" wait_for 20 shows s2 "解除"
check "then the kept notice is shown, for the first time" \
	wait_for 60 has_ev "$T/s2.jsonl" displayed "c99001-n1-$V"
check "and read" wait_for 100 has_ev "$T/s2.jsonl" played "c99001-n1-$V"
expect_eq "after the end hold, not during it" \
	"$(jq -s "([.[] | select(.message_id == \"c99001-n1-$V\" and .event == \"displayed\")][0].at_ms) - ([.[] | select(.message_id == \"e$D-r2-$V\" and .event == \"displayed\")][0].at_ms) >= 1900" "$T/s2.jsonl")" true

# a hand-made drill whose title forgot 【演练】: the screen adds it
jq -cn --arg v "$V" --arg x "$(iso_in 3)" '{schema: "scicast.alert/1",
	message_id: "e99002-r1-\($v)", emergency_id: 99002, revision: 1,
	msg_type: "alert", status: "exercise", severity: "blue",
	title: "暴雨蓝色预警", body: "测试", tts: "", notices: [],
	region: {code: $v}, issued: "2026-01-01T00:00:00+08:00", expires: $x}' |
	mosquitto_pub -p "$MQTT_PORT" -q 1 -t "$TOPIC" -s
check "a drill without the marker in its title is displayed" \
	wait_for 50 has_ev "$T/s2.jsonl" displayed "e99002-r1-$V"
check "with 【演练】 put before its title" shows s2 "【演练】暴雨蓝色预警"

# a "notice" that names an emergency is refused (not acked): it could
# otherwise join that emergency's revisions
notice 99003 1 "$(iso_in 60)" | jq -c '.emergency_id = 7' |
	mosquitto_pub -p "$MQTT_PORT" -q 1 -t "$TOPIC" -s
check "a notice with an emergency_id is refused" \
	wait_for 50 grep -q "a notice needs emergency_id 0" "$T/s2-stderr.log"
expect_eq "and neither acked nor logged" "$(ev "$T/s2.jsonl" received "c99003-n1-$V")" 0

# ---- a notice leaves at its expiry; the older one comes back ----
check "after the drill's own expiry, the kept notice is back" \
	wait_for 100 has_ev "$T/s2.jsonl" resumed "c99001-n1-$V"
notice 99001 2 "$(iso_in 3)" | mosquitto_pub -p "$MQTT_PORT" -q 1 -t "$TOPIC" -s
check "a newer notice of that campaign is shown" wait_for 50 has_ev "$T/s2.jsonl" displayed "c99001-n2-$V"
check "and taken down at its expiry by the screen itself" \
	wait_for 80 has_ev "$T/s2.jsonl" expired "c99001-n2-$V"
check "then the campaign's notice is on the screen again" wait_for 30 has_ev "$T/s2.jsonl" resumed "$M2"
check "in the presence too" wait_for 50 status_is "$M2"

# ---- quiet hours: a notice is shown but not read in its window ----
now=$(( ($(date -u +%s) / 60 + 480) % 1440 ))
hm() { printf '%02d:%02d' $(( ($1 + 1440) % 1440 / 60 )) $(( ($1 + 1440) % 60 )); }
n=$(said)
notice 99004 1 "$(iso_in 120)" "$(hm $((now - 60)))-$(hm $((now + 60)))" |
	mosquitto_pub -p "$MQTT_PORT" -q 1 -t "$TOPIC" -s
check "a notice in its quiet hours is shown" wait_for 50 has_ev "$T/s2.jsonl" displayed "c99004-n1-$V"
sleep 1
expect_eq "and not read aloud" "$(said) $(ev "$T/s2.jsonl" played "c99004-n1-$V")" "$n 0"

# ---- --no-speak-notices: shown and acked, never read ----
kill -TERM "$SPID"
wait "$SPID"
n=$(said)
screen_start s3 --no-speak-notices --fullscreen
check "a screen that does not read notices connects" wait_for 100 has_ev "$T/s3.jsonl" connected
api POST "/api/v1/campaigns/$C/run"
M3="c$C-n3-$V"
check "it displays run 3" wait_for 100 has_ev "$T/s3.jsonl" displayed "$M3"
check "the daemon records it displayed" wait_for 100 acked 3 displayed
expect_eq "and it was not read" "$(said) $(ev "$T/s3.jsonl" played)" "$n 0"

kill -TERM "$SPID"
wait "$SPID"
expect_eq "it stops cleanly" "$?" 0
check "no sanitizer report from any screen" sh -c \
	"! grep -lE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' $T/*-stderr.log"
daemon_stop; rc=$?
expect_eq "the daemon stops cleanly" "$rc" 0
check "no sanitizer report from the daemon" daemon_log_clean
done_testing
