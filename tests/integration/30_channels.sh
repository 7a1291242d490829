# Channels: every region has its default MQTT channel; webhook channels are
# validated field by field; secrets are shown once.
. "$(dirname "$0")/../lib.sh"
ZS="$SHARED/data/regions-zhongshan.csv"
need "$ZS" "the shared data folder must be beside the checkout (or set SCICAST_SHARED)"

daemon_start
api POST /api/v1/regions/import "@$ZS" -H 'Content-Type: text/csv'
regions=$(($(wc -l < "$ZS") - 1))
api GET "/api/v1/channels?kind=mqtt&limit=1"
expect_eq "every region has its MQTT channel" "$(jqr .total)" "$regions"
api GET "/api/v1/channels?region=442000001007"
expect_eq "a village's channel is its default topic" "$(jqr '.items[0].target')" \
	"scicast/v1/alerts/442000000000/442000001000/442000001007"
expect_eq "and is marked auto" "$(jqr '.items[0].auto')" true
auto_id=$(jqr '.items[0].id')

api POST /api/v1/channels '{"region":"442000001000","kind":"webhook","name":"石岐街道工作群","target":"https://example.org/hook","headers":{"X-Api-Key":"k1"},"timeout_ms":5000,"max_concurrency":4}'
expect_eq "creating a webhook channel: 201" "$STATUS" 201
secret=$(jqr .secret)
expect_match "its secret is generated in Standard Webhooks form and shown once" "$secret" '^whsec_[A-Za-z0-9+/]{43}=$'
id=$(jqr .id)
api GET "/api/v1/channels/$id"
expect_eq "a get does not show the secret" "$(jqr 'has("secret")')" false
expect_eq "but says there is one" "$(jqr .has_secret)" true
expect_eq "header values are not shown either" "$(jqr '.header_names|join(",")')" "X-Api-Key"
check "the secret is never logged" sh -c "! grep -qF '$secret' '$DLOG'"
api GET "/api/v1/channels?kind=webhook"
expect_eq "a list does not show secrets" "$(jqr '[.items[]|has("secret")]|any')" false

bad() { # description body field
	api POST /api/v1/channels "$2"
	if [ "$STATUS" = 422 ] && [ "$(jqr .error.field)" = "$3" ]; then ok "$1"; else
		fail "$1"; diag "status $STATUS body $BODY"; fi
}
n_before=$(sqlite3 "$DB" "SELECT count(*) FROM channels")
bad "unknown region → 422 naming region" '{"region":"442000009999","kind":"mqtt"}' region
bad "bad kind → 422 naming kind" '{"region":"442000001000","kind":"sms"}' kind
bad "webhook without URL → 422 naming target" '{"region":"442000001000","kind":"webhook"}' target
bad "ftp URL → 422 naming target" '{"region":"442000001000","kind":"webhook","target":"ftp://x.org/a"}' target
bad "topic with a wildcard → 422 naming target" '{"region":"442000001000","kind":"mqtt","target":"a/+/b"}' target
bad "bad secret → 422 naming secret" '{"region":"442000001000","kind":"webhook","target":"https://a.org/x","secret":"whsec_short"}' secret
bad "CRLF in a header value → 422 naming headers" '{"region":"442000001000","kind":"webhook","target":"https://a.org/x","headers":{"X-A":"a\r\nX-Evil: 1"}}' headers
bad "a reserved header → 422 naming headers" '{"region":"442000001000","kind":"webhook","target":"https://a.org/x","headers":{"webhook-signature":"x"}}' headers
bad "unknown audience → 422 naming audience" '{"region":"442000001000","kind":"mqtt","target":"x/y","audience":"aliens"}' audience
bad "bad locale → 422 naming locale" '{"region":"442000001000","kind":"mqtt","target":"x/y","locale":"chinese!"}' locale
bad "unknown field → 422 naming it" '{"region":"442000001000","kind":"mqtt","colour":"red"}' colour
bad "wrong type → 422 naming it" '{"region":"442000001000","kind":"mqtt","enabled":"yes"}' enabled
expect_eq "no refused request created anything" "$(sqlite3 "$DB" "SELECT count(*) FROM channels")" "$n_before"

api PATCH "/api/v1/channels/$id" '{"enabled":false,"audience":"elderly"}'
expect_eq "PATCH changes a channel" "$(jqr '[.enabled,.audience]|join(",")')" "false,elderly"
api PATCH "/api/v1/channels/$id" '{"kind":"mqtt"}'
expect_eq "the kind cannot be changed" "$STATUS/$(jqr .error.field)" "422/kind"
api PATCH "/api/v1/channels/$auto_id" '{"target":"custom/topic/1"}'
expect_eq "an auto channel can point to its own topic" "$(jqr '[.target,.default_target]|join(",")')" "custom/topic/1,false"
api PATCH "/api/v1/channels/$auto_id" '{"target":null}'
expect_eq "and back to the default" "$(jqr .default_target)" true
api DELETE "/api/v1/channels/$auto_id"
expect_eq "deleting an auto channel is refused with 409" "$STATUS" 409
api DELETE "/api/v1/channels/$id"
expect_eq "deleting a webhook channel: 204" "$STATUS" 204
api GET "/api/v1/channels/$id"
expect_eq "then it is gone" "$STATUS" 404
api GET "/api/v1/channels/0"
expect_eq "channel 0 is 404" "$STATUS" 404
daemon_stop
check "no sanitizer report" daemon_log_clean

done_testing
