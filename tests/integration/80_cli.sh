# scicast, the command-line client, against a real scicastd: declare,
# status and its watch, cancel, list; the exit statuses (usage, refused,
# unreachable); template edit with an editor, and a conflicting save;
# library search and import, region import, channels, dead letters,
# tokens; the config file; --help everywhere; tables that line up with
# Chinese text.
. "$(dirname "$0")/../lib.sh"
CLI=$BUILD/scicast
ZS="$SHARED/data/regions-zhongshan.csv"
need "$CLI" "build it with 'make test-build'"
need "$ZS" "the shared data folder must be beside the checkout (or set SCICAST_SHARED)"

broker_start
# a webhook to a closed port goes dead fast
export SCICAST_WEBHOOKS_RETRY_INITIAL=100ms SCICAST_WEBHOOKS_MAX_ATTEMPTS=2
daemon_start
api POST /api/v1/regions/import "@$ZS" -H 'Content-Type: text/csv'
T1=442000001000 T2=442000002000 V=442000001007
export SCICAST_URL="$URL" SCICAST_TOKEN="$TOKEN"
# The client must not read the tester's own config file.
export XDG_CONFIG_HOME="$T/xdg-none"

# run ARGS... — the client's stdout in $OUT, stderr in $ERR, status in $RC;
# every stderr is kept for the sanitizer check at the end.
run() {
	"$CLI" "$@" > "$T/out" 2> "$T/err" < /dev/null
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	cat "$T/err" >> "$T/cli-stderr.log"
}
lines() { printf '%s' "$1" | grep -c '' ; }
# The terminal column where NEEDLE starts in LINE (a Chinese character is
# 3 bytes of UTF-8 and 2 columns, an ASCII one 1 and 1: (bytes + chars) / 2).
dispcol() {
	_pre=${1%%"$2"*}
	printf '%s' "$_pre" | jq -Rr '(length + utf8bytelength) / 2'
}

# ---- help on every level ----
bad_help=""
for args in "--help" "declare --help" "update --help" "cancel --help" "list --help" \
	"status --help" "template --help" "template list --help" "template show --help" \
	"template edit --help" "template history --help" "template rollback --help" \
	"template render --help" "library --help" "library search --help" \
	"library show --help" "library import --help" "library export --help" \
	"regions --help" "regions import --help" "regions show --help" \
	"channels --help" "channels list --help" "channels add --help" \
	"channels set --help" "channels rm --help" "deliveries --help" \
	"deliveries dead --help" "deliveries show --help" "deliveries retry --help" \
	"token --help" "token create --help" "token list --help" "token revoke --help" \
	"whoami --help"; do
	# shellcheck disable=SC2086
	run $args
	if [ "$RC" -ne 0 ] || ! printf '%s' "$OUT" | grep -q '^usage: scicast'; then
		bad_help="$bad_help [$args: $RC]"
	fi
done
expect_eq "--help exits 0 with a usage on every level" "$bad_help" ""
run --version
expect_match "--version names the version" "$OUT" '^scicast [0-9]+\.[0-9]+'

# ---- usage errors: exit 2, one line ----
run frobnicate
expect_eq "an unknown command exits 2" "$RC" 2
expect_eq "with one line on stderr and nothing on stdout" "$(lines "$ERR")/$(lines "$OUT")" "1/0"
run list --bogus
expect_eq "an unknown option exits 2 with one line" "$RC/$(lines "$ERR")" "2/1"
expect_match "naming the option" "$ERR" 'unknown option --bogus'
run declare --hazard typhoon --severity yellow --headline x --duration 1h
expect_eq "a missing required option exits 2 with one line" "$RC/$(lines "$ERR")" "2/1"
expect_match "naming it" "$ERR" '--area is required'
run status
expect_eq "a missing argument exits 2" "$RC/$(lines "$ERR")" "2/1"
run cancel abc
expect_eq "an id that is not a number exits 2" "$RC" 2

# ---- the server cannot be reached: exit 3 ----
run --url http://127.0.0.1:9 list
expect_eq "an unreachable server exits 3" "$RC/$(lines "$ERR")" "3/1"
expect_match "the line names the URL and why" "$ERR" '^scicast: cannot reach http://127\.0\.0\.1:9: .+'
run list --url http://127.0.0.1:9
expect_eq "--url after the command works too" "$RC" 3

# ---- the server refuses: exit 1 with its message ----
run declare --hazard typhoon --severity yellow --headline 测试 --area $T1,442000999000 --duration 1h
expect_eq "a refused declaration exits 1 with one line" "$RC/$(lines "$ERR")" "1/1"
expect_eq "with the server's message" "$ERR" \
	"scicast: declare refused (422): area[1]: no region with code 442000999000"
run declare --hazard typhoon --severity red --headline 测试 --area $T1 --duration 1h
expect_eq "red without a terminal and without --yes exits 2" "$RC/$(lines "$ERR")" "2/1"
expect_match "and says to pass --yes" "$ERR" 'needs --yes'
run --json list
expect_eq "and nothing was declared" "$(printf '%s' "$OUT" | jq .total)" 0

# ---- declare: the plan, then the real thing ----
n_t1=$(( $(awk -F, -v t=$T1 '$4==t' "$ZS" | wc -l) + 2 )) # villages + town + city
run declare --hazard typhoon --severity yellow --headline 中山市台风黄色预警 --area $T1 --duration 6h --dry-run
expect_eq "a dry run exits 0" "$RC" 0
expect_match "and prints the counts per tier" "$OUT" "^$n_t1 deliveries planned: city 1, town 1, village $((n_t1 - 2))"
expect_match "per town" "$OUT" "石岐街道  $T1 +$((n_t1 - 1))"
expect_match "and the sample village text" "$OUT" "桂园社区居民请注意"
run --json list
expect_eq "a dry run stores nothing" "$(printf '%s' "$OUT" | jq .total)" 0

run declare --hazard typhoon --severity yellow --headline 中山市台风黄色预警 --area $T1 --duration 6h
expect_eq "declare exits 0" "$RC" 0
expect_match "and prints the id and revision" "$OUT" '^declared emergency [0-9]+ \(revision 1, active\)'
E=$(printf '%s' "$OUT" | sed -n 's/^declared emergency \([0-9]*\).*/\1/p')
expect_match "and the planned counts" "$OUT" "$n_t1 deliveries planned: city 1, town 1, village $((n_t1 - 2))"
run status "$E" --json
expect_eq "status --json shows the plan" \
	"$(printf '%s' "$OUT" | jq -r '.coverage | "\(.total.planned) \(.by_tier.village.planned) \(.by_town[0].planned)"')" \
	"$n_t1 $((n_t1 - 2)) $((n_t1 - 1))"
run status "$E"
expect_match "status prints a bar per tier" "$OUT" 'village +\[[#=x.]{24}\] +'"$((n_t1 - 2))"
expect_match "and a row per town" "$OUT" "石岐街道  $T1"

# nobody acks yet: the watch gives up at its timeout
run status "$E" --watch --timeout 1s --interval 200ms
expect_eq "a watch that times out exits 1" "$RC" 1
expect_match "saying so in one line" "$ERR" '^scicast: status: timed out after 1s: 0 of [0-9]+ acked'

screens_start screens --status displayed
run status "$E" --watch --timeout 60s --interval 200ms
expect_eq "with screens acking, the watch exits 0" "$RC" 0
expect_match "printing plain progress lines when stdout is not a terminal" "$OUT" \
	"^[0-9]{2}:[0-9]{2}:[0-9]{2} city [01]/1 acked, town [01]/1 acked, village [0-9]+/$((n_t1 - 2)) acked, 0 failed"
expect_match "the last one complete" "$OUT" \
	"[0-9]{2}:[0-9]{2}:[0-9]{2} city 1/1 acked, town 1/1 acked, village $((n_t1 - 2))/$((n_t1 - 2)) acked, 0 failed"
check "without escape sequences" sh -c "! grep -q \"$(printf '\033')\" '$T/out'"

run update "$E" --headline 中山市台风黄色预警（更新） --instruction 停止户外集体活动
expect_eq "update exits 0" "$RC" 0
expect_match "and prints the new revision" "$OUT" "^emergency $E updated: revision 2 \\(active\\)$"
expect_match "and its plan" "$OUT" "^$n_t1 deliveries planned"
run update "$E"
expect_eq "an update with nothing to change is a usage error" "$RC/$(lines "$ERR")" "2/1"

run cancel "$E" --reason 台风转向
expect_eq "cancel exits 0" "$RC" 0
expect_match "and says so" "$OUT" "^cancelled emergency $E \\(revision 3\\)"
run list --status cancelled
expect_match "list --status cancelled shows it" "$OUT" "^ *$E +typhoon +yellow +cancelled +3 +中山市台风黄色预警（更新）"
run list --status active
check "and list --status active does not" sh -c "! grep -q '中山市台风黄色预警' '$T/out'"
run cancel "$E"
expect_eq "cancelling twice is refused (1)" "$RC/$(lines "$ERR")" "1/1"

# ---- tables line up with Chinese text ----
run declare --hazard rainstorm --severity yellow --headline 暴雨 --area $V --duration 1h
run list
row1=$(printf '%s\n' "$OUT" | grep '中山市台风黄色预警')
row2=$(printf '%s\n' "$OUT" | grep ' 暴雨 ')
expect_eq "list: the column after a Chinese headline starts at the same column" \
	"$(printf '%s' "$row1" | jq -Rr '(length + utf8bytelength) / 2')" \
	"$(printf '%s' "$row2" | jq -Rr '(length + utf8bytelength) / 2')"
run regions show 442000000000
r4=$(printf '%s\n' "$OUT" | grep '石岐街道')
r5=$(printf '%s\n' "$OUT" | grep '中山港街道')
expect_eq "regions show: 4- and 5-character names, the LEVEL column at one column" \
	"$(dispcol "$r4" town)" "$(dispcol "$r5" town)"
check "and the column really moved with the name (not a fixed tab)" \
	[ "$(dispcol "$r4" town)" -gt "$(( $(dispcol "$r4" 石岐街道) + 8 ))" ]

# ---- templates: edit with an editor, and a conflict ----
mkdir -p "$T/tmp"
export TMPDIR="$T/tmp" # where template edit keeps the file being edited
run --json template list --hazard typhoon --tier village --locale zh-CN
TID=$(printf '%s' "$OUT" | jq -r '.items[0].id')
check "template list --json finds the typhoon village template" [ -n "$TID" ] && [ "$TID" != null ]
run template show "$TID"
expect_match "template show prints the file format" "$OUT" '^\[body\]$'
printf '%s\n' "$OUT" > "$T/shown.txt"
"$CLI" template render "$T/shown.txt" --data "$TOP/tests/fixtures/context-village.json" > "$T/rendered" 2>>"$T/cli-stderr.log"
expect_eq "which template render reads" "$?" 0

cat > "$T/ed-ok.sh" <<'EOF'
#!/bin/sh
sed -i 's/居民请注意/居民朋友请注意/' "$1"
EOF
chmod +x "$T/ed-ok.sh"
EDITOR="$T/ed-ok.sh" run template edit "$TID" --comment 更亲切
expect_eq "template edit with an editor that changes the body exits 0" "$RC" 0
expect_match "it shows a preview first" "$OUT" '桂园社区居民朋友请注意'
expect_match "and saves a new version" "$OUT" "^saved template $TID: version 2"
api GET "/api/v1/templates/$TID"
expect_eq "the server has version 2 with the edit" "$(jqr '.version')/$(jqr '.body | contains("居民朋友请注意")')" "2/true"
expect_eq "the temporary file is gone" "$(ls "$T/tmp")" ""

cat > "$T/ed-same.sh" <<'EOF'
#!/bin/sh
exit 0
EOF
chmod +x "$T/ed-same.sh"
EDITOR="$T/ed-same.sh" run template edit "$TID"
expect_eq "an edit that changes nothing saves nothing" "$RC/$OUT" "0/no changes; nothing was saved"

# someone else saves while the editor is open
cat > "$T/ed-race.sh" <<EOF
#!/bin/sh
curl -s -o /dev/null -X PUT '$URL/api/v1/templates/$TID' -H 'Content-Type: application/json' \
	-d '{"version": 2, "title": "他们的标题", "comment": "someone else"}'
sed -i 's/居民朋友请注意/各位居民请注意/' "\$1"
EOF
chmod +x "$T/ed-race.sh"
EDITOR="$T/ed-race.sh" run template edit "$TID"
expect_eq "a save that lost the race exits 1" "$RC" 1
expect_match "saying clearly that someone else saved version 3 meanwhile" "$ERR" \
	"^scicast: template edit: someone else saved version 3 of template $TID meanwhile"
kept=$(printf '%s' "$ERR" | sed -n 's/.* kept in \(.*\)$/\1/p')
check "the user's file is kept in \$TMPDIR" grep -q '各位居民请注意' "$T/tmp/${kept##*/}"
expect_match "the diff shows their title" "$OUT" '^-他们的标题'
expect_match "and the user's body" "$OUT" '^\+.*各位居民请注意'
api GET "/api/v1/templates/$TID"
expect_eq "their version stands" "$(jqr .version)/$(jqr .title)" "3/他们的标题"
rm -f "$kept"

cat > "$T/ed-bad.sh" <<'EOF'
#!/bin/sh
sed -i 's/^\[tts\]$/{{#oops}}\n[tts]/' "$1"
EOF
chmod +x "$T/ed-bad.sh"
EDITOR="$T/ed-bad.sh" run template edit "$TID"
expect_eq "an edit that does not compile is refused (1)" "$RC" 1
expect_match "with the server's reason" "$ERR" 'refused \(422\): body: .*unclosed section "oops"'
kept=$(printf '%s' "$ERR" | sed -n 's/.*your text is in \(.*\)$/\1/p')
check "and the file is kept" test -f "$kept"
rm -f "$kept"

run template history "$TID"
expect_match "template history lists the conflict" "$OUT" 'conflict \(version 3 was current\)'
run template rollback "$TID" --to 1
expect_eq "template rollback exits 0" "$RC" 0
expect_match "making version 4" "$OUT" "version 4 has the text of version 1"

# ---- the library ----
run library search 台风
expect_eq "library search 台风 exits 0" "$RC" 0
expect_match "and prints a table" "$OUT" '^ID +TITLE +SNIPPET'
expect_match "with the matches in [brackets] off a terminal" "$OUT" 'typhoon-[a-z]+-zh-1 .*\[台风\]'
printf '{"id":"x-1","hazard":"typhoon"}\nnot json\n' > "$T/bad.jsonl"
run library import "$T/bad.jsonl"
expect_eq "a bad library import exits 1" "$RC" 1
expect_match "naming the first bad line" "$ERR" "bad.jsonl:1: audience"
expect_match "and the second" "$ERR" "bad.jsonl:2: not JSON"
run library export --hazard typhoon -o "$T/typhoon.jsonl"
expect_eq "library export -o writes the file" "$RC/$(wc -l < "$T/typhoon.jsonl")" "0/$(jq -s 'length' "$T/typhoon.jsonl")"
run library import "$T/typhoon.jsonl"
expect_match "and importing it back changes nothing" "$OUT" ': 0 inserted, 0 updated, [1-9][0-9]* unchanged'

# ---- regions ----
printf 'code,name,level,parent_code\n44200000199,坏,village,442000001000\n442000001999,好,village,442000001000\n442000001998,坏,planet,442000001000\n' > "$T/bad.csv"
run regions import "$T/bad.csv"
expect_eq "a bad region import exits 1" "$RC" 1
expect_match "with the server's message" "$ERR" 'regions import refused \(422\): .*nothing was imported'
expect_match "naming line 2" "$ERR" "bad.csv:2: code \"44200000199\" is not 12 digits"
expect_match "and line 4" "$ERR" "bad.csv:4: level \"planet\""

# ---- tokens ----
run token create --name 值班员 --role viewer --expires-in 30d
expect_eq "token create exits 0 and prints one line" "$RC/$(lines "$OUT")" "0/1"
expect_match "which is the token alone" "$OUT" '^sct_[A-Za-z0-9_-]{43}$'
VIEWER=$OUT
run --token "$VIEWER" whoami
expect_eq "the new token works" "$OUT" "值班员 (viewer) at $URL"
run --token "$VIEWER" channels add --region $T1 --kind webhook --target http://127.0.0.1:9/x
expect_eq "a viewer may not add channels (refused, 1)" "$RC/$(lines "$ERR")" "1/1"
expect_match "the line says why" "$ERR" 'channels add refused \(403\)'
run token list
expect_match "token list shows it, without the token" "$OUT" '值班员 +viewer +sct_'
check "the token itself is not in the list" sh -c "! grep -q -- '$VIEWER' '$T/out'"

# ---- channels and dead letters ----
run channels add --region $T2 --kind webhook --target http://127.0.0.1:9/hook --name 东区工作群
expect_eq "channels add exits 0" "$RC" 0
expect_match "and prints the secret once, clearly" "$OUT" '^secret: whsec_[A-Za-z0-9+/=]+$'
CH=$(printf '%s' "$OUT" | sed -n 's/^created channel \([0-9]*\):.*/\1/p')
run channels list --region $T2 --kind webhook
expect_match "channels list shows it" "$OUT" "^ *$CH +东区街道 +webhook +东区工作群"
run channels set "$CH" timeout_ms=2000 name=东区街道工作群
expect_eq "channels set exits 0" "$RC" 0
api GET "/api/v1/channels/$CH"
expect_eq "with the values typed (a number, a string)" "$(jqr '"\(.timeout_ms) \(.name)"')" "2000 东区街道工作群"
run declare --hazard typhoon --severity yellow --headline 东区台风 --area $T2 --duration 1h
E2=$(printf '%s' "$OUT" | sed -n 's/^declared emergency \([0-9]*\).*/\1/p')
check "the webhook to a closed port ends dead" wait_for 100 sh -c \
	"[ \"\$(curl -s '$URL/api/v1/deliveries?state=dead&emergency=$E2' | jq .total)\" = 1 ]"
run deliveries dead --emergency "$E2"
expect_match "deliveries dead lists it" "$OUT" "^ *[0-9]+ +$E2 +东区街道 +webhook +http://127.0.0.1:9/hook +2 "
D=$(printf '%s\n' "$OUT" | awk 'NR==2 {print $1}')
run deliveries show "$D"
expect_match "deliveries show gives its attempt history" "$OUT" '^ +2 +[0-9T:+-]+ +- +[0-9]+ +dead'
run deliveries retry --emergency "$E2"
expect_eq "deliveries retry --emergency re-drives it" "$RC/$OUT" "0/emergency $E2: 1 dead deliveries re-driven"
run deliveries retry
expect_eq "deliveries retry without an id is a usage error" "$RC" 2
run channels set "$CH" enabled=false
expect_match "channels set enabled=false disables it" "$OUT" 'disabled'
run channels rm "$CH"
expect_eq "a channel with deliveries is not deleted (refused, 1)" "$RC/$(lines "$ERR")" "1/1"
run channels add --region $T2 --kind webhook --target http://127.0.0.1:9/spare
CH2=$(printf '%s' "$OUT" | sed -n 's/^created channel \([0-9]*\):.*/\1/p')
run channels rm "$CH2"
expect_eq "one without is: channels rm deletes it" "$RC/$OUT" "0/deleted channel $CH2"

# ---- the config file ----
unset SCICAST_URL SCICAST_TOKEN
mkdir -p "$T/xdg/scicast"
printf '# the test server\nurl = %s\ntoken = %s\n' "$URL" "$TOKEN" > "$T/xdg/scicast/config"
XDG_CONFIG_HOME="$T/xdg" run whoami
expect_eq "url and token come from \$XDG_CONFIG_HOME/scicast/config" "$RC/$OUT" "0/test-admin (admin) at $URL"
XDG_CONFIG_HOME="$T/xdg" run --url http://127.0.0.1:9 whoami
expect_eq "--url wins over the file" "$RC" 3
XDG_CONFIG_HOME="$T/xdg" SCICAST_URL=http://127.0.0.1:9 run whoami
expect_eq "SCICAST_URL wins over the file" "$RC" 3
printf 'url = %s\ncolour = red\n' "$URL" > "$T/xdg/scicast/config"
XDG_CONFIG_HOME="$T/xdg" run whoami
expect_eq "a bad key in the file is a usage error naming file:line" "$RC/$ERR" \
	"2/scicast: $T/xdg/scicast/config:2: expected url = URL or token = TOKEN"
XDG_CONFIG_HOME="$T/xdg-none" SCICAST_URL="$URL" run whoami
expect_eq "no token at all is refused (401)" "$RC" 1

check "the client printed no sanitizer report" sh -c \
	"! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' '$T/cli-stderr.log'"
daemon_stop; rc=$?
expect_eq "the daemon stops cleanly" "$rc" 0
check "no sanitizer report from the daemon" daemon_log_clean
done_testing
