# scicast, the command-line client, for the work around the alerts: a red
# declaration held for a second operator (approvals, approve, reject, a
# raise to red), the all-clear, a drill's report (table and CSV),
# everyday-science campaigns (create, preview, run, runs, set, rm) and
# quiet hours; the usage errors and --help of every new command.
. "$(dirname "$0")/../lib.sh"
CLI=$BUILD/scicast
ZS="$SHARED/data/regions-zhongshan.csv"
need "$CLI" "build it with 'make test-build'"
need "$ZS" "the shared data folder must be beside the checkout (or set SCICAST_SHARED)"

broker_start
# the test's clock must not fall in the default 22:00-07:00 by chance
export SCICAST_CAMPAIGNS_QUIET_HOURS=none
daemon_start
api POST /api/v1/regions/import "@$ZS" -H 'Content-Type: text/csv'
T1=442000001000 T2=442000002000 T3=442000003000 V2=442000001008 V3=442000003002
nv1=$(awk -F, -v t=$T1 '$4==t' "$ZS" | wc -l)
nv3=$(awk -F, -v t=$T3 '$4==t' "$ZS" | wc -l)
mk() { curl -s -X POST "$URL/api/v1/tokens" -d "{\"name\":\"$1\",\"role\":\"$2\"}" | jq -r .token; }
OPA=$(mk op-a operator) OPB=$(mk op-b operator)
export SCICAST_URL="$URL" SCICAST_TOKEN="$TOKEN"
# The client must not read the tester's own config file.
export XDG_CONFIG_HOME="$T/xdg-none"
screens_start screens --silent $V2

# run ARGS... — the client's stdout in $OUT, stderr in $ERR, status in $RC.
run() {
	"$CLI" "$@" > "$T/out" 2> "$T/err" < /dev/null
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	cat "$T/err" >> "$T/cli-stderr.log"
}
lines() { printf '%s' "$1" | grep -c '' ; }
row() { printf '%s\n' "$OUT" | grep -E -- "$1" | head -1; }

# ---- --help on every new command ----
bad_help=""
for args in "allclear --help" "report --help" "approvals --help" "approve --help" \
	"reject --help" "campaign --help" "campaign list --help" "campaign show --help" \
	"campaign create --help" "campaign set --help" "campaign rm --help" \
	"campaign preview --help" "campaign runs --help" "campaign run --help" \
	"regions quiet --help"; do
	# shellcheck disable=SC2086
	run $args
	if [ "$RC" -ne 0 ] || ! printf '%s' "$OUT" | grep -q '^usage: scicast'; then
		bad_help="$bad_help [$args: $RC]"
	fi
done
expect_eq "--help exits 0 with a usage on every new command" "$bad_help" ""
run --help
expect_match "scicast --help lists them" "$(printf '%s' "$OUT" | awk '{print $1}' | tr '\n' ' ')" \
	"allclear .*report approvals approve reject .*campaign regions"

# ---- usage errors: exit 2, one line, nothing sent ----
bad_usage=""
for args in "approve" "approve abc" "reject 1 2" "approvals --status bogus" \
	"approvals 3 --status pending" "allclear" "report" "report x1" \
	"campaign" "campaign frob" "campaign create --name x --regions $T1 --notices n" \
	"campaign create --name x --schedule @every\\ 1h --regions $T1 --notices n --from 1/5/2027" \
	"campaign create --name x --schedule @every\\ 1h --regions $T1,,$T2 --notices n" \
	"campaign set 1" "campaign set 1 --enable --disable" "campaign preview 1 -n 0" \
	"campaign preview 1 -n 101" "campaign runs" "regions quiet $T1" "regions quiet 123 none"; do
	# shellcheck disable=SC2086
	eval "run $args"
	if [ "$RC" -ne 2 ] || [ "$(lines "$ERR")" -ne 1 ] || [ -n "$OUT" ]; then
		bad_usage="$bad_usage [$args: $RC, $(lines "$ERR") lines]"
	fi
done
expect_eq "usage errors exit 2 with one line on stderr and nothing on stdout" "$bad_usage" ""
run campaign create --name x --regions $T1 --notices n
expect_eq "naming what is missing" "$ERR" \
	"scicast: campaign create: --schedule is required (see scicast campaign create --help)"
run approvals --status bogus
expect_match "or what is wrong" "$ERR" '^scicast: approvals: --status is pending, approved, rejected or lapsed'
run --url http://127.0.0.1:9 approvals
expect_eq "an unreachable server exits 3 with one line" "$RC/$(lines "$ERR")" "3/1"

# ---- a red declaration waits for a second operator ----
run --token "$OPA" declare --hazard typhoon --severity red --headline 台风红色预警 \
	--area $T1 --duration 2h --yes
expect_eq "a held red declaration exits 0" "$RC/$ERR" "0/"
expect_match "saying it is held, with the request number and its summary" "$OUT" \
	'^held for approval: request [0-9]+ \(declare red: 台风红色预警\); nothing was sent yet$'
A=$(printf '%s' "$OUT" | sed -n 's/^held for approval: request \([0-9]*\).*/\1/p')
expect_match "what it would send" "$OUT" "^$((nv1 + 2)) deliveries planned: city 1, town 1, village $nv1"
expect_match "and how another operator sends it" "$OUT" "another operator approves it with: scicast approve $A \\(it lapses at 20[0-9-]+T"
run --json list
expect_eq "no emergency is listed meanwhile" "$(printf '%s' "$OUT" | jq .total)" 0

run approvals --status pending
expect_match "approvals --status pending: a table" "$OUT" \
	'^ID +KIND +SEVERITY +SUMMARY +REQUESTED BY +REQUESTED AT +EXPIRES +STATUS$'
expect_match "with the request" "$OUT" \
	"^ *$A +declare +red +declare red: 台风红色预警 +op-a +20[0-9T:+-]+ +20[0-9T:+-]+ +pending$"
run approvals "$A"
expect_match "approvals ID shows the request as it would be sent" "$OUT" "^  area +$T1$"
expect_match "and who may approve it" "$OUT" "an operator other than op-a approves it with: scicast approve $A"

run --token "$OPA" approve "$A"
curl -q -s -X POST -H "Authorization: Bearer $OPA" "$URL/api/v1/approvals/$A/approve" > "$T/own.json"
expect_eq "the requester cannot approve it: exit 1, the server's 403 message in one line" \
	"$RC/$ERR" "1/scicast: approve refused (403): $(jq -r .error.message "$T/own.json")"
run --token "$OPB" approve "$A" --reason 值班领导已确认
expect_eq "another operator approves it: exit 0" "$RC" 0
expect_match "the emergency is declared in the requester's name" "$OUT" \
	"^approved request $A: emergency [0-9]+ revision 1 \\(active\\), in op-a's name$"
expect_match "with its plan" "$OUT" "^$((nv1 + 2)) deliveries planned"
E=$(printf '%s' "$OUT" | sed -n 's/^approved request [0-9]*: emergency \([0-9]*\).*/\1/p')
run list
expect_match "and it is in the list" "$OUT" "^ *$E +typhoon +red +active +1 +台风红色预警 "
run --token "$OPB" approve "$A"
expect_eq "approving twice is refused (1, one line)" "$RC/$(lines "$ERR")" "1/1"
expect_match "as already approved" "$ERR" "refused \\(409\\): approval $A is already approved"

# rejection
run --token "$OPA" declare --hazard flood --severity red --headline 洪水红色预警 --area $T2 --duration 1h --yes
R=$(printf '%s' "$OUT" | sed -n 's/^held for approval: request \([0-9]*\).*/\1/p')
run --token "$OPB" reject "$R" --reason 水文站数据有误
expect_eq "reject exits 0 and says nothing was sent" "$RC/$OUT" \
	"0/rejected request $R (declare red: 洪水红色预警): nothing was sent"
run --json approvals "$R"
expect_eq "the request is rejected, with the reason" \
	"$(printf '%s' "$OUT" | jq -r '"\(.status) \(.decided_by) \(.reason)"')" "rejected op-b 水文站数据有误"
run approvals --status rejected
expect_match "approvals --status rejected lists it" "$OUT" "^ *$R +declare +red +declare red: 洪水红色预警 +op-a .* rejected$"
run approvals --status pending
expect_eq "and nothing is pending any more" "$OUT" "no pending approval requests"
run --json list
expect_eq "still one emergency" "$(printf '%s' "$OUT" | jq .total)" 1

# --json prints what the server held
run --json --token "$OPA" declare --hazard flood --severity red --headline 洪水 --area $T2 --duration 1h --yes
expect_eq "declare --json prints the held request" \
	"$(printf '%s' "$OUT" | jq -r '"\(.status) \(.kind) \(.requested_by) \(.planned.deliveries > 0)"')" "pending declare op-a true"
run --token "$OPB" reject "$(printf '%s' "$OUT" | jq -r .approval_id)"

# raising an alert to red is held too
run declare --hazard flood --severity yellow --headline 洪水黄色预警 --area $T2 --duration 1h
Y=$(printf '%s' "$OUT" | sed -n 's/^declared emergency \([0-9]*\).*/\1/p')
run --token "$OPA" update "$Y" --severity red --yes
expect_match "update to red is held: exit 0" "$RC $OUT" "^0 held for approval: request [0-9]+ \\(update emergency [0-9]+ to red\\)"
U=$(printf '%s' "$OUT" | sed -n 's/^held for approval: request \([0-9]*\).*/\1/p')
run --token "$OPB" approve "$U"
expect_match "approved, it becomes revision 2" "$RC $OUT" "^0 approved request $U: emergency $Y revision 2 \\(active\\)"

# ---- all clear ----
run allclear "$E" --reason 台风已登陆减弱
expect_eq "allclear exits 0" "$RC" 0
expect_match "and says so" "$OUT" "^all clear for emergency $E \\(revision 2\\)$"
expect_match "with what goes out" "$OUT" "^[0-9]+ deliveries planned"
run list --status ended
expect_match "the emergency has ended (list --status ended)" "$OUT" "^ *$E +typhoon +red +ended +2 "
run allclear "$E"
expect_eq "an all-clear for an ended emergency is refused (1)" "$RC/$(lines "$ERR")" "1/1"
run cancel "$Y"

# ---- a drill's report ----
run declare --hazard typhoon --severity red --headline 台风红色预警演练 --area $T1 --duration 1h --exercise --yes
expect_match "a red drill needs no approval" "$OUT" '^declared emergency [0-9]+ \(revision 1, active\)'
D=$(printf '%s' "$OUT" | sed -n 's/^declared emergency \([0-9]*\).*/\1/p')
# every village but the silent one acks, and the town
check "the screens ack" wait_for 150 sh -c \
	"[ \$(curl -s '$URL/api/v1/emergencies/$D/report' | jq .reached) -eq $nv1 ]"
run --json report "$D"
printf '%s' "$OUT" > "$T/report.json"
run report "$D"
expect_eq "report exits 0" "$RC" 0
expect_match "its header: the drill and its coverage" "$OUT" \
	"^emergency $D: typhoon red \\(a drill\\), active, revision 1$"
expect_match "reached of planned" "$OUT" "^  $nv1 of $((nv1 + 1)) reached \\([0-9]+%\\)$"
expect_match "a table per town" "$OUT" '^TOWN +CODE +PLANNED +REACHED +FIRST ACK +LAST ACK +SILENT$'
town=$(row "^石岐街道 ")
expect_eq "the town's numbers are the JSON report's (planned reached silent)" \
	"$(printf '%s' "$town" | awk '{print $3, $4, $7}')" \
	"$(jq -r '.towns[0] | "\(.planned) \(.reached) \(.silent | length)"' "$T/report.json")"
expect_match "with the times to the first and last ack" "$town" " [0-9.]+s +[0-9.]+(s|m[0-9]{2}s) +1$"
expect_match "the silent village is listed below" "$OUT" "^石岐街道 +[^ ]+ +$V2 +(unknown|offline|online)$"
"$CLI" report "$D" --csv > "$T/cli.csv" 2>>"$T/cli-stderr.log"
rc=$?
curl -s "$URL/api/v1/emergencies/$D/report?format=csv" > "$T/server.csv"
check "report --csv exits 0 and is the server's CSV byte for byte" sh -c \
	"[ $rc -eq 0 ] && [ -s '$T/cli.csv' ] && cmp -s '$T/cli.csv' '$T/server.csv'"
run report "$D" --csv --json
expect_eq "--csv with --json is a usage error" "$RC/$(lines "$ERR")" "2/1"
run report 99999
expect_eq "the report of an unknown emergency is refused (1)" "$RC/$ERR" \
	"1/scicast: report refused (404): no emergency 99999"
run cancel "$D"

# ---- campaigns ----
api GET "/api/v1/library?hazard=flood&limit=2"
N1=$(jqr '.items[0].id') N2=$(jqr '.items[1].id')
title1=$(curl -s "$URL/api/v1/library/$N1" | jq -r .title)
title2=$(curl -s "$URL/api/v1/library/$N2" | jq -r .title)
run campaign create --name x --schedule "every monday" --regions $T3 --notices "$N1"
expect_eq "a bad schedule is refused (1, one line)" "$RC/$(lines "$ERR")" "1/1"
expect_match "naming the schedule" "$ERR" '^scicast: campaign create refused \(422\): schedule: '
run campaign create --name x --schedule @every\ 1h --regions $T3 --notices "$N1,nope"
expect_match "an unknown notice is named too" "$RC $ERR" "^1 .*notices\\[1\\]: no notice \"nope\""
run campaign list
expect_eq "nothing was saved" "$OUT" "no campaigns"

run campaign create --name 汛期防汛知识 --schedule "0 10 * 5-10 mon" --from 2027-05-01 \
	--until 2027-10-31 --regions $T3 --notices "$N1,$N2"
expect_match "campaign create exits 0 with the id and the first run" "$RC $OUT" \
	'^0 created campaign [0-9]+: 汛期防汛知识, version 1, enabled; next run 2027-05-03T10:00:00\+08:00$'
CS=$(printf '%s' "$OUT" | sed -n 's/^created campaign \([0-9]*\):.*/\1/p')
run campaign preview "$CS" -n 3
expect_eq "campaign preview -n 3 shows 3 dated lines" \
	"$(printf '%s\n' "$OUT" | grep -cE '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T')" 3
expect_eq "Mondays in May 2027 at 10:00, the notices in turn with their titles" \
	"$(printf '%s\n' "$OUT" | sed 1d | sed 's/  */ /g')" \
	"2027-05-03T10:00:00+08:00 $N1 $title1
2027-05-10T10:00:00+08:00 $N2 $title2
2027-05-17T10:00:00+08:00 $N1 $title1"
run campaign list
expect_match "campaign list shows it" "$OUT" \
	"^ *$CS +汛期防汛知识 +yes +0 10 \\* 5-10 mon +$T3 +2 +2027-05-03T10:00:00\\+08:00 +0$"
run campaign show "$CS"
expect_match "campaign show gives the schedule and dates" "$OUT" \
	'^  schedule  0 10 \* 5-10 mon, from 2027-05-01 until 2027-10-31$'
expect_match "and the notices in order" "$OUT" "^  notices   $N1, $N2 \\(next: $N1\\)$"

run campaign run "$CS"
expect_eq "campaign run prints the deliveries it planned" "$RC/$OUT" \
	"0/campaign $CS, run 1: notice $N1, $nv3 deliveries planned; skipped 0 channels in an emergency, 0 in quiet hours"
expect_eq "(the server has as many)" \
	"$(curl -s "$URL/api/v1/deliveries?campaign=$CS&limit=1000" | jq '.items | length')" "$nv3"
run campaign runs "$CS"
expect_match "campaign runs lists the run" "$OUT" "^ +1 +20[0-9T:+-]+ +$N1 +$nv3 +0 +0$"
run campaign preview "$CS" -n 1
expect_match "the rotation moved on" "$OUT" "^2027-05-03T10:00:00\\+08:00 +$N2 "

run campaign set "$CS" --disable
expect_eq "campaign set --disable" "$RC/$OUT" \
	"0/updated campaign $CS: 汛期防汛知识, version 2, disabled; next run none"
run campaign preview "$CS"
expect_match "a disabled campaign sends nothing" "$OUT" "^campaign $CS sends nothing more"
run campaign set "$CS" --enable --name 防汛知识 --until none
expect_match "campaign set changes several fields at once" "$RC $OUT" \
	"^0 updated campaign $CS: 防汛知识, version 3, enabled; next run 2027-05-03T10:00:00\\+08:00$"
expect_eq "(the end date is gone)" "$(curl -s "$URL/api/v1/campaigns/$CS" | jq -r .end_date)" null
run campaign set "$CS" --schedule "99 10 * * *"
expect_match "a bad change is refused (1) naming the schedule" "$RC/$ERR" "^1/.*refused \\(422\\): schedule: "
run campaign rm "$CS"
expect_eq "campaign rm deletes it" "$RC/$OUT" "0/deleted campaign $CS"
run campaign show "$CS"
expect_eq "it is gone (refused, 1)" "$RC/$ERR" "1/scicast: campaign show refused (404): no campaign $CS"

# ---- quiet hours ----
run regions quiet $T3 22:00-07:00
expect_eq "regions quiet sets a town's window" "$RC/$OUT" "0/中山港街道 ($T3): quiet hours 22:00-07:00 (its own)"
run regions show $V3
expect_match "regions show: its villages inherit it, and say from where" "$OUT" \
	"^  quiet hours 22:00-07:00, from 中山港街道 \\($T3\\)$"
run regions quiet $T3 none
expect_eq "none: never quiet" "$OUT" "中山港街道 ($T3): quiet hours none (its own)"
run regions quiet $T3 inherit
expect_eq "inherit: the default again" "$OUT" "中山港街道 ($T3): quiet hours none (the server's default)"
expect_eq "(null on the server)" "$(curl -s "$URL/api/v1/regions/$T3" | jq -r .quiet_hours)" null
run regions quiet $T3 25:00-07:00
expect_match "a bad window is refused (1) naming quiet_hours" "$RC/$ERR" '^1/.*refused \(422\): quiet_hours must be'

check "the client printed no sanitizer report" sh -c \
	"! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' '$T/cli-stderr.log'"
daemon_stop; rc=$?
expect_eq "the daemon stops cleanly" "$rc" 0
check "no sanitizer report from the daemon" daemon_log_clean
done_testing
