# The science library: loaded at first start, searched in Chinese,
# versioned, imported all or nothing, and carried by every message —
# the channel's audience first.
. "$(dirname "$0")/../lib.sh"
ZS="$SHARED/data/regions-zhongshan.csv"
need "$ZS" "the shared data folder must be beside the checkout (or set SCICAST_SHARED)"

broker_start
daemon_start
api POST /api/v1/regions/import "@$ZS" -H 'Content-Type: text/csv'
shipped=$(cat "$TOP"/library/*.jsonl | grep -c .)
api GET "/api/v1/library?limit=1"
expect_eq "the shipped notices are loaded at first start" "$(jqr .total)" "$shipped"

search() { curl -s -G "$URL/api/v1/library/search" --data-urlencode "q=$1" ${2:+--data-urlencode "locale=$2"}; }
typhoons=$(grep -c . "$TOP/library/typhoon.jsonl")
zh_typhoons=$(grep -c '"zh-CN"' "$TOP/library/typhoon.jsonl")
r=$(search 台风 zh-CN)
expect_eq "台风 (two characters) finds typhoon notices first" \
	"$(printf '%s' "$r" | jq -r "[.items[0:$zh_typhoons][].hazard] | unique | join(\",\")")" typhoon
expect_match "with highlighted snippets" "$(printf '%s' "$r" | jq -r '.items[0].snippet')" "<mark>台风</mark>"
r=$(search 防汛)
expect_eq "防汛 finds flood and rainstorm notices" \
	"$(printf '%s' "$r" | jq -r '[.items[0:6][].hazard] | unique | join(",")')" "flood,rainstorm"
r=$(search 高温中暑)
expect_eq "高温中暑 finds heat notices" "$(printf '%s' "$r" | jq -r '[.items[0:5][].hazard] | unique | join(",")')" heat
r=$(search "storm surge" en)
expect_eq "English full text works" "$(printf '%s' "$r" | jq -r '.items[0].hazard + " " + .mode')" "storm_surge fulltext"
for q in '"' 'NEAR(' 'a*' '(台风' 'AND OR NOT' "'; DROP TABLE resources; --"; do
	status=$(curl -s -o "$T/s.json" -w '%{http_code}' -G "$URL/api/v1/library/search" --data-urlencode "q=$q")
	if [ "$status" = 200 ] && jq -e '.items | type == "array"' "$T/s.json" > /dev/null; then
		ok "search for [$q] answers 200 with a list"; else fail "search for [$q] answers 200 with a list"; diag "$status $(cat "$T/s.json")"; fi
done
api GET "/api/v1/library/search?q="
expect_eq "an empty query is 400 naming q" "$STATUS/$(jqr .error.field)" "400/q"
expect_eq "the library is still whole" "$(sqlite3 "$DB" 'SELECT count(*) FROM resources')" "$shipped"

# every message carries the matching notices, the channel's audience first
api POST /api/v1/channels '{"region":"442000001007","kind":"mqtt","target":"scicast/test/elderly-home","audience":"elderly","name":"颐养院"}'
api POST /api/v1/emergencies '{"hazard":"typhoon","severity":"yellow","headline":"台风黄色预警","area":["442000001007"],"duration":"1h"}'
E=$(jqr .id)
elderly=$(sqlite3 "$DB" "SELECT m.payload FROM messages m WHERE m.emergency_id=$E AND m.audience='elderly'")
expect_eq "the elderly channel's message leads with the elderly typhoon notice" \
	"$(printf '%s' "$elderly" | jq -r '.notices[0] | "\(.id)"')" "typhoon-elderly-zh-1"
expect_eq "general ones fill up to notices_per_message (3)" \
	"$(printf '%s' "$elderly" | jq -r '[.notices[].id] | length')" 3
general=$(sqlite3 "$DB" "SELECT m.payload FROM messages m WHERE m.emergency_id=$E AND m.audience='general'")
expect_match "the ordinary channel gets the general notices" "$(printf '%s' "$general" | jq -r '.notices[0].id')" '^typhoon-general-zh-'
summary=$(printf '%s' "$elderly" | jq -r '.notices[0].summary')
expect_match "the village body shows the first summary" "$(printf '%s' "$elderly" | jq -r .body)" "$(printf '%s' "$summary" | cut -c1-12)"
expect_match "and the tts reads it" "$(printf '%s' "$elderly" | jq -r .tts)" "$(printf '%s' "$summary" | cut -c1-12)"
url=$(printf '%s' "$elderly" | jq -r '.notices[0].url')
page=$(curl -s -w '\n%{http_code} %{content_type}' "$url")
expect_match "a notice's URL is a public page" "$(printf '%s' "$page" | tail -1)" "^200 text/html"

# import: all or nothing, naming the line and field
curl -s "$URL/api/v1/library/export" > "$T/export.jsonl"
expect_eq "export gives every notice as a line" "$(wc -l < "$T/export.jsonl")" "$shipped"
api POST /api/v1/library/import "@$T/export.jsonl"
expect_eq "re-importing an export changes nothing" "$(jqr '"\(.inserted) \(.updated) \(.unchanged)"')" "0 0 $shipped"
{ head -3 "$T/export.jsonl"; sed -n 4p "$T/export.jsonl" | jq -c '.summary = "这一行的摘要写得太长了远远超过了村里的屏幕能够显示的六十个字符的限制所以应当被拒绝而且整个文件都不应导入任何内容才对呀再加上这些字让它一定超过限制"'; printf '{"id":"new-1"}\n'; } > "$T/bad.jsonl"
fp=$(db_fingerprint "$DB")
api POST /api/v1/library/import "@$T/bad.jsonl"
expect_eq "a file with bad lines is 422" "$STATUS" 422
expect_eq "naming each line and field" "$(jqr '[.error.details[] | "\(.line):\(.field)"] | join(",")')" "4:summary,5:hazard"
expect_eq "and nothing changed" "$(db_fingerprint "$DB")" "$fp"

# versions, conflicts, delete
id=typhoon-general-zh-2
api GET "/api/v1/library/$id"
v=$(jqr .version)
api PUT "/api/v1/library/$id" "{\"version\":$v,\"priority\":99,\"comment\":\"置顶\"}"
expect_eq "a change makes a new version" "$STATUS/$(jqr .version)/$(jqr .priority)" "200/$((v + 1))/99"
api PUT "/api/v1/library/$id" "{\"version\":$v,\"priority\":1}"
expect_eq "a change from a stale version is 409" "$STATUS/$(jqr .error.details.version)" "409/$((v + 1))"
api GET "/api/v1/library/$id?version=$v"
expect_eq "old versions stay readable" "$(jqr .priority)" "$(sed -n "/\"$id\"/p" "$TOP/library/typhoon.jsonl" | jq .priority)"
api GET "/api/v1/library/$id/history"
expect_eq "the history lists them" "$(jqr '[.events[].action] | join(",")')" "update,import"
api POST /api/v1/library '{"id":"fog-general-zh-1","hazard":"fog","audience":"general","locale":"zh-CN","title":"大雾天出行","summary":"减速慢行，开启雾灯，保持车距。","text":"【大雾时】\n1. 减速慢行。","authority":"中国气象局","priority":50,"updated":"2026-11-01"}'
expect_eq "an administrator adds a notice" "$STATUS" 201
api POST /api/v1/library '{"id":"fog-general-zh-2","hazard":"fog","audience":"general","locale":"zh-CN","title":"x","summary":"x","text":"x","authority":"x","priority":500,"updated":"2026-11-01"}'
expect_eq "a bad priority names the field" "$STATUS/$(jqr .error.field)" "422/priority"
api DELETE "/api/v1/library/fog-general-zh-1?version=1"
expect_eq "a delete with the right version: 204" "$STATUS" 204
api GET "/api/v1/library/fog-general-zh-1"
expect_eq "then it is gone from the library" "$STATUS" 404
daemon_stop
check "no sanitizer report" daemon_log_clean
done_testing
