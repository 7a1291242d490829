# Everyday science campaigns: a schedule that reaches the villages, the
# notices in rotation, quiet hours (the region's own, inherited, or none),
# an emergency that holds a campaign back on its channels and the campaign
# coming back after the cancel; and the refusals.
. "$(dirname "$0")/../lib.sh"
ZS="$SHARED/data/regions-zhongshan.csv"
need "$ZS" "the shared data folder must be beside the checkout (or set SCICAST_SHARED)"

broker_start
# the test's clock must not fall in the default 22:00-07:00 by chance;
# quiet hours are set per region below
export SCICAST_CAMPAIGNS_QUIET_HOURS=none
daemon_start
api POST /api/v1/regions/import "@$ZS" -H 'Content-Type: text/csv'
T1=442000001000 V1=442000001007 V2=442000001008
nv=$(awk -F, -v t=$T1 '$4==t' "$ZS" | wc -l)
screens_start screens

api GET "/api/v1/library?hazard=flood&limit=2"
N1=$(jqr '.items[0].id') N2=$(jqr '.items[1].id')
check "the library has flood notices to use" [ -n "$N1" ] && [ "$N2" != null ]

# ---- refusals: 422 naming the field, nothing saved ----
refused() { # description body field
	api POST /api/v1/campaigns "$2"
	expect_eq "$1" "$STATUS $(jqr .error.field)" "422 $3"
}
refused "a schedule that is not cron is 422 naming schedule" \
	"{\"name\":\"x\",\"schedule\":\"every monday\",\"regions\":[\"$T1\"],\"notices\":[\"$N1\"]}" schedule
refused "minute 61 is 422 naming schedule" \
	"{\"name\":\"x\",\"schedule\":\"61 10 * * *\",\"regions\":[\"$T1\"],\"notices\":[\"$N1\"]}" schedule
refused "an unknown notice is 422 naming notices[1]" \
	"{\"name\":\"x\",\"schedule\":\"@every 1h\",\"regions\":[\"$T1\"],\"notices\":[\"$N1\",\"nope\"]}" "notices[1]"
refused "an unknown region is 422 naming regions[0]" \
	"{\"name\":\"x\",\"schedule\":\"@every 1h\",\"regions\":[\"442000999000\"],\"notices\":[\"$N1\"]}" "regions[0]"
refused "an end before the start is 422 naming end_date" \
	"{\"name\":\"x\",\"schedule\":\"@every 1h\",\"regions\":[\"$T1\"],\"notices\":[\"$N1\"],\"start_date\":\"2027-10-01\",\"end_date\":\"2027-05-01\"}" end_date
refused "an unknown audience is 422 naming audience" \
	"{\"name\":\"x\",\"schedule\":\"@every 1h\",\"regions\":[\"$T1\"],\"notices\":[\"$N1\"],\"audience\":\"aliens\"}" audience
refused "an unknown field is 422 naming it" \
	"{\"name\":\"x\",\"schedule\":\"@every 1h\",\"regions\":[\"$T1\"],\"notices\":[\"$N1\"],\"colour\":\"red\"}" colour
api GET /api/v1/campaigns
expect_eq "and no campaign was saved" "$(jqr '.items | length')" 0

# ---- preview: a season's Mondays at 10:00 ----
api POST /api/v1/campaigns "{\"name\":\"汛期防汛知识\",\"schedule\":\"0 10 * 5-10 mon\",\"start_date\":\"2027-05-01\",\"end_date\":\"2027-10-31\",\"regions\":[\"$T1\"],\"notices\":[\"$N1\",\"$N2\"]}"
expect_eq "creating a campaign: 201" "$STATUS" 201
CS=$(jqr .id)
api GET "/api/v1/campaigns/$CS/preview?n=3"
expect_eq "the preview lists the next sends: Mondays of May 2027 at 10:00, notices in turn" \
	"$(jqr '[.sends[] | "\(.at) \(.notice_id)"] | join(", ")')" \
	"2027-05-03T10:00:00+08:00 $N1, 2027-05-10T10:00:00+08:00 $N2, 2027-05-17T10:00:00+08:00 $N1"
api GET "/api/v1/campaigns/$CS/preview?n=500"
expect_eq "n over 100 is 400 naming n" "$STATUS $(jqr .error.field)" "400 n"
v=$(curl -s "$URL/api/v1/campaigns/$CS" | jq .version)
api PATCH "/api/v1/campaigns/$CS" "{\"version\":$v,\"enabled\":false}"
expect_eq "disabling it: 200, no next run" "$STATUS $(jqr .next_run_at)" "200 null"
api PATCH "/api/v1/campaigns/$CS" "{\"version\":$v,\"enabled\":true}"
expect_eq "an edit of an old version is 409" "$STATUS $(jqr .error.field)" "409 version"

# ---- a campaign every 2 s reaches the town's villages ----
api POST /api/v1/campaigns "{\"name\":\"防汛知识进村\",\"schedule\":\"@every 2s\",\"regions\":[\"$T1\"],\"notices\":[\"$N1\",\"$N2\"]}"
C=$(jqr .id)
runs() { curl -s "$URL/api/v1/campaigns/$C" | jq .runs; }
n1=$(curl -s "$URL/api/v1/campaigns/$C" | jq -r .next_run_at)
api GET "/api/v1/campaigns/$C/preview?n=3"
n2=$(curl -s "$URL/api/v1/campaigns/$C" | jq -r .next_run_at)
pv=$(jqr '.sends[0].at')
check "an @every preview starts at the next run ($pv)" sh -c "[ '$pv' = '$n1' ] || [ '$pv' = '$n2' ]"
expect_eq "and steps by the interval" "$(jqr '[.sends[].at | sub("\\+08:00$"; "Z") | fromdate] | [.[1] - .[0], .[2] - .[1]] | join(" ")')" "2 2"
check "the schedule runs it" wait_for 100 sh -c "[ \$(curl -s $URL/api/v1/campaigns/$C | jq .runs) -ge 2 ]"
check "every village of the town gets the first run's notice" wait_for 100 sh -c \
	"[ \$(jq -r 'select(.payload.message_id | startswith(\"c$C-n1-\")) | .payload.region.code' $T/screens.jsonl | sort -u | wc -l) -eq $nv ]"
first=$(jq -c "select(.payload.message_id == \"c$C-n1-$V1\") | .payload" "$T/screens.jsonl" | head -1)
expect_eq "as a notice of the campaign, from the library" \
	"$(printf '%s' "$first" | jq -r '"\(.msg_type) \(.campaign_id) \(.emergency_id) \(.tier) \(.notices[0].id)"')" "notice $C 0 village $N1"
expect_eq "with the notice's title" "$(printf '%s' "$first" | jq -r .title)" \
	"$(curl -s "$URL/api/v1/library/$N1" | jq -r .title)"
second=$(jq -r "select(.payload.message_id == \"c$C-n2-$V1\") | .payload.notices[0].id" "$T/screens.jsonl" | head -1)
expect_eq "the next run brings the next notice" "$second" "$N2"
check "the screens' acks are recorded" wait_for 100 sh -c \
	"[ \$(curl -s '$URL/api/v1/deliveries?campaign=$C&state=acked&limit=5000' | jq '[.items[] | select(.revision == 1)] | length') -eq $nv ]"
api GET "/api/v1/deliveries?campaign=$C&limit=5000"
expect_eq "only villages (the default tiers) get it" "$(jqr '[.items[].tier] | unique | join(",")')" village
expect_eq "each says when the region keeps quiet (none here)" "$(printf '%s' "$first" | jq -r .quiet_hours)" null

# ---- quiet hours: the town's window covers now; one village opts out ----
now=$(( ($(date -u +%s) / 60 + 480) % 1440 ))
hm() { printf '%02d:%02d' $(( ($1 + 1440) % 1440 / 60 )) $(( ($1 + 1440) % 60 )); }
win="$(hm $((now - 60)))-$(hm $((now + 60)))"
api PATCH "/api/v1/regions/$T1" "{\"quiet_hours\":\"$win\"}"
expect_eq "setting a town's quiet hours: 200" "$STATUS $(jqr .quiet_hours)" "200 $win"
api PATCH "/api/v1/regions/$V2" '{"quiet_hours":"none"}'
api GET "/api/v1/regions/$V1"
expect_eq "a village inherits its town's quiet hours" \
	"$(jqr '"\(.quiet_hours) \(.quiet_hours_effective.window) \(.quiet_hours_effective.from)"')" "null $win $T1"
api PATCH "/api/v1/regions/$T1" '{"quiet_hours":"25:00-07:00"}'
expect_eq "a bad window is 422 naming quiet_hours" "$STATUS $(jqr .error.field)" "422 quiet_hours"
api GET "/api/v1/regions/$T1"
expect_eq "and changes nothing" "$(jqr .quiet_hours)" "$win"
r0=$(runs)
check "two more runs go by" wait_for 100 sh -c "[ \$(curl -s $URL/api/v1/campaigns/$C | jq .runs) -ge $((r0 + 2)) ]"
q=$((r0 + 2))
api GET "/api/v1/campaigns/$C/runs"
expect_eq "in quiet hours the run sends only to the village that opted out" \
	"$(jqr ".items[] | select(.run == $q) | \"\(.deliveries) \(.quiet)\"")" "1 $((nv - 1))"
got=$(jq -r "select(.payload.message_id | startswith(\"c$C-n$q-\")) | .payload.region.code" "$T/screens.jsonl" | sort -u | tr '\n' ' ')
expect_eq "and the screens get nothing else" "$got" "$V2 "
later="$(hm $((now + 120)))-$(hm $((now + 180)))"
api PATCH "/api/v1/regions/$T1" "{\"quiet_hours\":\"$later\"}"
r0=$(runs)
check "outside the window the town's villages get it again" wait_for 100 sh -c \
	"jq -r 'select(.payload.message_id == \"c$C-n$((r0 + 2))-$V1\") | .topic' $T/screens.jsonl | grep -q ."
expect_eq "and the envelope carries the window, for a screen that shows it later" \
	"$(jq -r "select(.payload.message_id == \"c$C-n$((r0 + 2))-$V1\") | .payload.quiet_hours" "$T/screens.jsonl")" "$later"
api PATCH "/api/v1/regions/$T1" '{"quiet_hours":null}'
api PATCH "/api/v1/regions/$V2" '{"quiet_hours":null}'

# ---- an emergency on one village holds the campaign back there ----
api POST /api/v1/emergencies "{\"hazard\":\"flood\",\"severity\":\"yellow\",\"headline\":\"洪水黄色预警\",\"area\":[\"$V1\"],\"duration\":\"1h\"}"
E=$(jqr .id)
r0=$(runs)
check "two more runs go by" wait_for 100 sh -c "[ \$(curl -s $URL/api/v1/campaigns/$C | jq .runs) -ge $((r0 + 2)) ]"
s=$((r0 + 2))
api GET "/api/v1/campaigns/$C/runs"
expect_eq "the village in the emergency is left out of the run" \
	"$(jqr ".items[] | select(.run == $s) | \"\(.deliveries) \(.suppressed) \(.quiet)\"")" "$((nv - 1)) 1 0"
expect_eq "its screen got no notice while the alert stands" \
	"$(jq -r "select(.payload.message_id == \"c$C-n$s-$V1\") | .topic" "$T/screens.jsonl" | wc -l)" 0
expect_eq "the others did" \
	"$(jq -r "select(.payload.message_id == \"c$C-n$s-$V2\") | .topic" "$T/screens.jsonl" | wc -l)" 1
api POST "/api/v1/emergencies/$E/cancel"
r0=$(runs)
check "after the cancel, two more runs go by" wait_for 100 sh -c "[ \$(curl -s $URL/api/v1/campaigns/$C | jq .runs) -ge $((r0 + 2)) ]"
a=$((r0 + 2))
check "and the village's screen gets the campaign again" wait_for 50 sh -c \
	"jq -r 'select(.payload.message_id == \"c$C-n$a-$V1\") | .topic' $T/screens.jsonl | grep -q ."
order=$(jq -r "select(.payload.region.code == \"$V1\") | .payload.msg_type" "$T/screens.jsonl" | uniq | tr '\n' ' ')
expect_match "its screen saw: notices, the alert, the cancel, notices" "$order" "^notice alert cancel notice $"
rt=$(mosquitto_sub -p "$MQTT_PORT" -t "scicast/v1/alerts/442000000000/$T1/$V1" -C 1 -W 3 2>/dev/null)
expect_eq "notices are not retained: the cancel stays the village topic's retained message" \
	"$(printf '%s' "$rt" | jq -r '"\(.msg_type) \(.emergency_id)"')" "cancel $E"

# ---- run now, delete ----
api POST "/api/v1/campaigns/$CS/run"
expect_eq "running a campaign now: 202 with what it sent" "$STATUS $(jqr .deliveries)" "202 $nv"
api GET /api/v1/audit
expect_eq "campaign changes are in the audit log" \
	"$(jqr '[.items[].action | select(startswith("campaign.") or . == "region.update")] | unique | join(",")')" \
	"campaign.create,campaign.run,campaign.update,region.update"
api DELETE "/api/v1/campaigns/$C"
expect_eq "deleting a campaign: 204" "$STATUS" 204
r=$(sqlite3 "$DB" "SELECT count(*) FROM campaign_runs WHERE campaign_id=$C")
sleep 3
expect_eq "and it runs no more" "$(sqlite3 "$DB" "SELECT count(*) FROM deliveries WHERE campaign_id=$C AND created_at > (strftime('%s','now') - 2) * 1000")" 0
expect_eq "(its runs are gone with it)" "$r" 0
api GET "/api/v1/campaigns/$C"
expect_eq "and it is 404 after" "$STATUS" 404

check "SIGTERM stops the daemon cleanly" daemon_stop
check "no sanitizer report" daemon_log_clean
done_testing
