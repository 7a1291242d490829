# Webhooks: signed, retried with backoff, never silently dropped; 410, 429,
# redirects, a hanging endpoint, dead letters and re-drives, a crash with
# retries pending, and the escalation of a silent village.
. "$(dirname "$0")/../lib.sh"
ZS="$SHARED/data/regions-zhongshan.csv"
need "$ZS" "the shared data folder must be beside the checkout (or set SCICAST_SHARED)"

broker_start
hookd_start
export SCICAST_WEBHOOKS_RETRY_INITIAL=300ms SCICAST_WEBHOOKS_MAX_ATTEMPTS=5
export SCICAST_POLICY_RED_RESEND_AFTER=1s SCICAST_POLICY_RED_RESEND_MAX=2
export SCICAST_APPROVAL_REQUIRED=none # one operator here; the two-person rule is tested in 97_campaigns_drills
daemon_start
api POST /api/v1/regions/import "@$ZS" -H 'Content-Type: text/csv'
V=442000001007 T1=442000001000 T2=442000002000

ok_ch=$(hook_channel $T1 /ok/town '')
fail_ch=$(hook_channel $V /fail/3/village '')
rl_ch=$(hook_channel $V /ratelimit/1/village '')
redir_ch=$(hook_channel $V /redirect/village '')
gone_ch=$(hook_channel $V /gone/village '')
key_ch=$(hook_channel $T1 /ok/with-key ',"headers":{"X-Api-Key":"k-123"}')
declare() { api POST /api/v1/emergencies "{\"hazard\":\"typhoon\",\"severity\":\"yellow\",\"headline\":\"台风黄色预警\",\"area\":[\"$1\"],\"duration\":\"1h\"}"; jqr .id; }
E=$(declare $T1)
expect_eq "the plan includes the webhook channels" "$(curl -s $URL/api/v1/emergencies/$E | jq .revisions[0].planned)" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM deliveries WHERE emergency_id=$E")"
check "the good endpoint gets the notice" wait_for 100 sh -c "[ \$(jq -r 'select(.path==\"/ok/town\") | .path' $HOOK_LOG | wc -l) -ge 1 ]"
check "the endpoint failing 3 times gets it on the 4th attempt" wait_for 150 sh -c \
	"[ \$(jq -r 'select(.path==\"/fail/3/village\" and .status==200) | .path' $HOOK_LOG | wc -l) -eq 1 ]"
wait_for 50 sh -c "[ \$(sqlite3 $DB \"SELECT state FROM deliveries WHERE channel_id=$fail_ch\") = acked ]"
d=$(sqlite3 "$DB" "SELECT id FROM deliveries WHERE channel_id=$fail_ch")
api GET "/api/v1/deliveries/$d"
expect_eq "its history lists the four attempts" "$(jqr '[.history[] | "\(.outcome):\(.http_status)"] | join(",")')" "retry:500,retry:500,retry:500,acked:200"
expect_eq "the delivery is acked after 4 attempts" "$(jqr '"\(.state) \(.attempts)"')" "acked 4"
waits=$(jqr '[.history[] | select(.wait_ms) | .wait_ms] | join(" ")')
diag "chosen waits (ms): $waits (initial 300, doubling, jitter 20%)"
check "the backoff doubles (with jitter) between attempts" sh -c '
	set -- '"$waits"'
	[ $# -eq 3 ] && [ $1 -ge 240 ] && [ $1 -le 360 ] && [ $2 -ge 480 ] && [ $2 -le 720 ] && [ $3 -ge 960 ] && [ $3 -le 1440 ]'
gaps=$(jq -r 'select(.path=="/fail/3/village") | .at_ms' "$HOOK_LOG" | awk 'NR>1 {printf "%d ", $1-p} {p=$1}')
diag "gaps seen by the receiver (ms): $gaps"
if [ -z "$SCICASTD_WRAP" ]; then
	check "and the receiver saw the waits grow" sh -c 'set -- '"$gaps"'; [ $# -eq 3 ] && [ $2 -gt $1 ] && [ $3 -gt $2 ]'
else
	# under valgrind (one thread at a time) the first retry can come
	# hundreds of ms late, behind the declaration's own writes: seen
	# 906 559 1353 once, 410 559 1400 the next time; the waits themselves
	# are checked above, from the database
	check "and the receiver saw the later waits grow" sh -c 'set -- '"$gaps"'; [ $# -eq 3 ] && [ $3 -gt $2 ]'
fi

check "a 429 is retried after its Retry-After" wait_for 100 sh -c \
	"[ \$(jq -r 'select(.path==\"/ratelimit/1/village\" and .status==200) | .path' $HOOK_LOG | wc -l) -eq 1 ]"
gap=$(jq -r 'select(.path=="/ratelimit/1/village") | .at_ms' "$HOOK_LOG" | awk 'NR>1 {print $1-p} {p=$1}')
check "Retry-After: 1 is honoured (gap ${gap} ms, retry_initial is 300)" [ "$gap" -ge 950 ]

check "a redirect is not followed and ends dead" wait_for 150 sh -c \
	"[ \$(sqlite3 $DB \"SELECT state FROM deliveries WHERE channel_id=$redir_ch\") = dead ]"
expect_eq "no request reached the redirect's target" "$(hook_hits /ok/redirected)" 0
api GET "/api/v1/deliveries?state=dead"
expect_match "the dead letters list it with its last error" "$(jqr ".items[] | select(.channel_id==$redir_ch) | .last_error")" "HTTP 302: a redirect .*not followed"
expect_eq "after max_attempts (5)" "$(jqr ".items[] | select(.channel_id==$redir_ch) | .attempts")" 5

check "410 disables the channel" wait_for 100 sh -c \
	"[ \$(curl -s $URL/api/v1/channels/$gone_ch | jq .enabled) = false ]"
api GET "/api/v1/channels/$gone_ch"
expect_match "and says why in the API" "$(jqr .disabled_reason)" "410 Gone"
check "and in the log" grep -q "channel $gone_ch answered 410 Gone" "$DLOG"
check "the extra header is sent" sh -c "jq -r 'select(.path==\"/ok/with-key\") | .x_api_key' $HOOK_LOG | grep -qx k-123"

E2=$(declare $T1)
check "a further declaration goes out" wait_for 100 sh -c "[ \$(jq -r 'select(.path==\"/ok/town\") | .path' $HOOK_LOG | wc -l) -ge 2 ]"
sleep 1
expect_eq "but does not call the disabled channel" "$(hook_hits /gone/)" 1
expect_eq "(it has no delivery in the new emergency)" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM deliveries WHERE emergency_id=$E2 AND channel_id=$gone_ch")" 0

# re-drive: a dead delivery goes out again
api PATCH "/api/v1/channels/$redir_ch" "{\"target\":\"$HOOK_URL/ok/fixed\"}"
rd=$(sqlite3 "$DB" "SELECT id FROM deliveries WHERE channel_id=$redir_ch AND emergency_id=$E")
api POST "/api/v1/deliveries/$rd/retry"
expect_eq "re-driving a dead delivery answers 200" "$STATUS" 200
check "it is delivered" wait_for 100 sh -c "[ \$(sqlite3 $DB \"SELECT state FROM deliveries WHERE id=$rd\") = acked ]"
api POST "/api/v1/deliveries/$rd/retry"
expect_eq "re-driving an acked delivery is 409" "$STATUS" 409

check "every webhook the receiver got carries a valid signature" sh -c \
	"[ -s $HOOK_LOG ] && [ \$(jq -r .verified $HOOK_LOG | sort -u) = ok ]"
diag "webhooks received: $(wc -l < "$HOOK_LOG")"
check "the secret is never written to the log" sh -c "! grep -q '$HOOK_SECRET' '$DLOG'"

# a hanging endpoint holds only its own slots
for i in 1 2 3 4 5 6; do hook_channel $T2 "/hang/$i" ',"timeout_ms":4000,"max_concurrency":1' > /dev/null; done
quick=$(hook_channel $T2 /ok/quick '')
t0=$(date +%s%3N)
E3=$(declare $T2)
check "the other endpoints are not delayed by the hanging ones" wait_for 60 sh -c \
	"[ \$(sqlite3 $DB \"SELECT state FROM deliveries WHERE channel_id=$quick AND emergency_id=$E3\") = acked ]"
t1=$(date +%s%3N)
diag "the quick endpoint acked $((t1 - t0)) ms after the declaration; the hanging ones time out after 4000 ms"
check "(well before the hanging ones time out)" [ $((t1 - t0)) -lt 3500 ]
check "a hanging endpoint times out per its timeout and is retried" wait_for 150 sh -c \
	"sqlite3 $DB \"SELECT error FROM delivery_attempts a JOIN deliveries d ON d.id=a.delivery_id WHERE d.emergency_id=$E3 AND a.error LIKE 'timed out%'\" | grep -q timed"

# kill -9 with retries pending: they continue after the restart
slow_ch=$(hook_channel $T2 /fail/2/after-crash '')
export SCICAST_WEBHOOKS_RETRY_INITIAL=3s
E4=$(declare $T2)
check "the first attempt fails" wait_for 100 sh -c "[ \$(jq -r 'select(.path==\"/fail/2/after-crash\") | .path' $HOOK_LOG | wc -l) -ge 1 ]"
kill -9 "$DPID"; wait "$DPID" 2>/dev/null; DPID=""
state=$(sqlite3 "$DB" "SELECT state || ' ' || attempts FROM deliveries WHERE channel_id=$slow_ch")
diag "after kill -9 the delivery is: $state"
daemon_start restarted
check "after the restart the retries continue and complete" wait_for 300 sh -c \
	"[ \$(sqlite3 $DB \"SELECT state FROM deliveries WHERE channel_id=$slow_ch\") = acked ]"
expect_eq "on the third attempt" "$(sqlite3 "$DB" "SELECT attempts FROM deliveries WHERE channel_id=$slow_ch")" 3

# escalation: a red alert, one screen that never acks
esc_ch=$(hook_channel $T1 /ok/escalation ',"role":"escalation"')
screens_start screens --silent $V
api POST /api/v1/emergencies "{\"hazard\":\"typhoon\",\"severity\":\"red\",\"headline\":\"台风红色预警\",\"area\":[\"$T1\"],\"duration\":\"1h\"}"
E5=$(jqr .id)
check "after the re-sends, the town's escalation webhook is called" wait_for 200 sh -c \
	"[ \$(jq -r 'select(.path==\"/ok/escalation\") | .path' $HOOK_LOG | wc -l) -ge 1 ]"
esc=$(jq -c 'select(.path=="/ok/escalation") | .payload' "$HOOK_LOG" | head -1)
expect_eq "it names the silent village" "$(printf '%s' "$esc" | jq -r '[.silent[].code] | join(",")')" "$V"
expect_eq "and only it" "$(printf '%s' "$esc" | jq -r '"\(.msg_type) \(.town.code) \(.silent_count) \(.emergency_id)"')" "escalation $T1 1 $E5"
expect_eq "after the configured re-sends" "$(printf '%s' "$esc" | jq -r '.silent[0].resends')" 2
expect_eq "an ordinary channel of the town is not called for it" \
	"$(jq -r 'select(.path=="/ok/town" and .msg_type=="escalation") | .path' "$HOOK_LOG" | wc -l)" 0
sleep 2
expect_eq "the village is reported once" "$(jq -r 'select(.path=="/ok/escalation") | .path' "$HOOK_LOG" | wc -l)" 1
expect_eq "escalations stay out of the coverage counts" "$(cov $E5 total.planned)" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM deliveries WHERE emergency_id=$E5 AND escalation=0")"
daemon_stop
check "no sanitizer report" daemon_log_clean
done_testing
