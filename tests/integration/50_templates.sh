# Templates: defaults loaded at first start, validation on save, optimistic
# concurrency with history, rollback, preview with real regions.
. "$(dirname "$0")/../lib.sh"
ZS="$SHARED/data/regions-zhongshan.csv"
need "$ZS" "the shared data folder must be beside the checkout (or set SCICAST_SHARED)"

daemon_start
api POST /api/v1/regions/import "@$ZS" -H 'Content-Type: text/csv'
files=$(find "$TOP/templates" -name '*.txt' | wc -l)
api GET /api/v1/templates
expect_eq "every default template file is loaded at first start" "$(jqr .total)" "$files"
check "the log says so" grep -q "loaded $files default templates" "$DLOG"

api GET "/api/v1/templates?hazard=typhoon&tier=village&locale=zh-CN"
id=$(jqr '.items[0].id')
v1=$(jqr '.items[0].version')
orig_body=$(jqr '.items[0].body')
expect_eq "the typhoon village template is version 1" "$v1" 1

# a save that would break a broadcast is refused and changes nothing
fp=$(db_fingerprint "$DB")
api PUT "/api/v1/templates/$id" '{"version":1,"body":"{{#a}}x"}'
expect_eq "saving {{#a}}x is refused with 422" "$STATUS" 422
expect_eq "naming the part" "$(jqr .error.field)" body
expect_match "and its line and column" "$(jqr .error.message)" 'body: line 1, column 1: .*unclosed section "a"'
api PUT "/api/v1/templates/$id" '{"version":1,"body":"第一行\n第二行{{/b}}"}'
expect_match "an error on line 2 names line 2 and the column in characters" "$(jqr .error.message)" 'line 2, column 4'
expect_eq "the stored template is unchanged" "$(db_fingerprint "$DB")" "$fp"
api GET "/api/v1/templates/$id"
expect_eq "and still reads the same" "$(jqr .body)" "$orig_body"

# warnings: an unknown name, a body too long for a village screen
api PUT "/api/v1/templates/$id" '{"version":1,"body":"{{region.name}}：{{emergency.colour}}","comment":"A"}'
expect_eq "A saves version 2" "$STATUS/$(jqr .version)" "200/2"
expect_match "an unknown name is a warning with its position" "$(jqr '.warnings[] | "\(.field) \(.line):\(.column) \(.message)"')" 'body 1:17 unknown name "emergency.colour"'
long=$(printf '很长的正文%.0s' $(seq 1 40))
api PUT "/api/v1/templates/$id" "{\"version\":2,\"body\":\"$long\",\"comment\":\"too long\"}"
expect_match "a body over the village limit is a warning" "$(jqr '.warnings[].message')" 'over the village limit of 160'

# two administrators edit version 3; the second is refused
api PUT "/api/v1/templates/$id" '{"version":3,"body":"A的版本：{{region.name}}","comment":"A edits"}'
expect_eq "the first save from version 3 succeeds" "$STATUS/$(jqr .version)" "200/4"
api PUT "/api/v1/templates/$id" '{"version":3,"body":"B的版本：{{town.name}}","comment":"B edits"}'
expect_eq "the second save from version 3 gets 409" "$STATUS" 409
expect_eq "naming the version" "$(jqr .error.field)" version
expect_eq "with the current version in the answer" "$(jqr .error.details.version)" 4
expect_eq "and its text" "$(jqr .error.details.body)" "A的版本：{{region.name}}"
api GET "/api/v1/templates/$id"
expect_eq "A's text stands" "$(jqr .body)" "A的版本：{{region.name}}"
api GET "/api/v1/templates/$id/history"
expect_eq "the history lists the refused save first, then A's save" \
	"$(jqr '[.events[0:2][] | "\(.outcome):\(.comment)"] | join(",")')" "conflict:B edits,saved:A edits"
expect_eq "the refused save keeps B's text" "$(jqr '.events[0].body')" "B的版本：{{town.name}}"
expect_eq "and says which version it was based on" "$(jqr '.events[0] | "\(.based_on)/\(.current_version)"')" "3/4"
expect_eq "every version is in the history" "$(jqr '[.events[] | select(.outcome=="saved") | .version] | join(",")')" "4,3,2,1"

# rollback to version 1 makes version 5 with the original text
api POST "/api/v1/templates/$id/rollback" '{"to_version":1,"version":4,"comment":"back to the default"}'
expect_eq "rollback answers 200 with a new version" "$STATUS/$(jqr .version)" "200/5"
expect_eq "holding the old text" "$(jqr .body)" "$orig_body"
api GET "/api/v1/templates/$id/versions/4"
expect_eq "old versions stay readable" "$(jqr .body)" "A的版本：{{region.name}}"
api POST "/api/v1/templates/$id/rollback" '{"to_version":1,"version":4}'
expect_eq "a rollback from a stale version is 409 too" "$STATUS" 409

# preview: the typhoon village template for a real Zhongshan village
api POST /api/v1/templates/preview "{\"template_id\":$id,\"region\":\"442000001007\"}"
expect_eq "preview answers 200" "$STATUS" 200
expect_match "the default typhoon village template names the village and its town" "$(jqr .body.text)" "石岐街道桂园社区"
api POST /api/v1/templates/preview "{\"template_id\":$id,\"region\":\"442000001007\",\"emergency\":{\"headline\":\"x\"}}"
town_tpl=$(curl -s "$URL/api/v1/templates?hazard=typhoon&tier=town&locale=zh-CN" | jq '.items[0].id')
api POST /api/v1/templates/preview "{\"template_id\":$town_tpl,\"region\":\"442000001000\"}"
expect_match "the town body names the town" "$(jqr .body.text)" "石岐街道"
api POST /api/v1/templates/preview '{"region":"442000001007","title":"{{emergency.headline}}","body":"{{village.name}}在{{town.name}}","tts":"{{emergency.severity.level_words}}"}'
expect_eq "an unsaved template renders with the village's and its town's names" "$(jqr .body.text)" "桂园社区居民委员会在石岐街道"
expect_eq "the tts reads the level in words" "$(jqr .tts.text)" "三级"
api POST /api/v1/templates/preview '{"region":"442000001007","title":"t","body":"{{emergency.headline}}","tts":"x","emergency":{"headline":"注意{{region.name}}"}}'
expect_eq "a headline containing {{region.name}} is shown literally" "$(jqr .body.text)" "注意{{region.name}}"
api POST /api/v1/templates/preview '{"region":"442000001007","title":"{{#x}}","body":"b","tts":"t"}'
expect_eq "a preview of a broken template is 422 naming the part" "$STATUS/$(jqr .error.field)" "422/title"
api POST /api/v1/templates/preview '{"region":"442000009999","title":"t","body":"b","tts":"t"}'
expect_eq "an unknown region is 422 naming region" "$STATUS/$(jqr .error.field)" "422/region"
api POST /api/v1/templates/preview '{"region":"442000001007","title":"t","body":"b","tts":"t","emergency":{"severity":"purple"}}'
expect_eq "a bad severity names emergency.severity" "$STATUS/$(jqr .error.field)" "422/emergency.severity"

# create, fallback and delete
api POST /api/v1/templates '{"hazard":"fog","tier":"village","locale":"zh-CN","title":"大雾预警","body":"{{region.short_name}}：大雾，注意交通安全。","tts":"大雾预警"}'
expect_eq "creating a template for another hazard: 201" "$STATUS" 201
fog=$(jqr .id)
api POST /api/v1/templates '{"hazard":"fog","tier":"village","locale":"zh-CN","title":"x","body":"x","tts":"x"}'
expect_eq "a second template at the same address is 409" "$STATUS" 409
api POST /api/v1/templates '{"hazard":"volcano","tier":"village","locale":"zh-CN","title":"x","body":"x","tts":"x"}'
expect_eq "an unknown hazard is 422 naming hazard" "$STATUS/$(jqr .error.field)" "422/hazard"
api POST /api/v1/templates '{"hazard":"fog","tier":"hamlet","locale":"zh-CN","title":"x","body":"x","tts":"x"}'
expect_eq "an unknown tier is 422 naming tier" "$STATUS/$(jqr .error.field)" "422/tier"
api DELETE "/api/v1/templates/$fog"
expect_eq "a delete without ?version is 400" "$STATUS" 400
api DELETE "/api/v1/templates/$fog?version=1"
expect_eq "a delete with the right version: 204" "$STATUS" 204
api GET "/api/v1/templates/$fog/history"
expect_eq "a deleted template keeps its history" "$(jqr '[.events[].action]|join(",")')" "delete,create"
star=$(curl -s "$URL/api/v1/templates?hazard=*&tier=village&locale=zh-CN" | jq '.items[0].id')
api DELETE "/api/v1/templates/$star?version=1"
expect_eq "the last fallback cannot be deleted" "$STATUS" 409

daemon_stop
check "no sanitizer report" daemon_log_clean
done_testing
