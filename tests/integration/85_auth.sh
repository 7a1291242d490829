# Who may do what: every route against every kind of token, checked
# against the role table the daemon prints (the one in docs/api.md);
# tokens stored only as hashes; one audit row per change, naming who.
. "$(dirname "$0")/../lib.sh"
ZS="$SHARED/data/regions-zhongshan.csv"
need "$ZS" "the shared data folder must be beside the checkout (or set SCICAST_SHARED)"

broker_start
daemon_start
api POST /api/v1/regions/import "@$ZS" -H 'Content-Type: text/csv'

mk() { # name role [expires_in] -> token
	curl -s -X POST "$URL/api/v1/tokens" -d "{\"name\":\"$1\",\"role\":\"$2\"${3:+,\"expires_in\":\"$3\"}}" | jq -r .token
}
VIEWER=$(mk viewer-1 viewer)
OPERATOR=$(mk operator-1 operator)
REVOKED=$(mk gone-1 admin)
rid=$(curl -s "$URL/api/v1/tokens" | jq '.items[] | select(.name=="gone-1") | .id')
api DELETE "/api/v1/tokens/$rid"
expect_eq "revoking a token: 204" "$STATUS" 204
EXPIRED=$(SCICAST_STORE_PATH="$DB" "$SCICASTD" -c "$TOP/config/scicast.conf" token create --role admin --name old-1 --expires 1s 2>/dev/null)
expect_match "scicastd token create prints the token alone" "$EXPIRED" '^sct_[A-Za-z0-9_-]{43}$'
sleep 1.2
api GET /api/v1/tokens
expect_eq "the token list shows each state" "$(jqr '[.items[] | "\(.name):\(.state)"] | join(",")')" \
	"test-admin:active,viewer-1:active,operator-1:active,gone-1:revoked,old-1:expired"
expect_eq "and never a token or its hash" "$(jqr '[.items[] | has("token") or has("hash")] | any')" false

# every route x every kind of token
"$SCICASTD" routes | sed -n 's/^| \([A-Z]*\) | `\([^`]*\)` | \([a-z]*\) |.*/\1 \2 \3/p' > "$T/routes"
check "the role table has the routes" [ "$(wc -l < "$T/routes")" -ge 40 ]
bad=0
while read -r method path role; do
	p=$(printf '%s' "$path" | sed -e 's/{code}/442000000000/g' -e 's/{n}/1/g' -e 's/{id}/999999/g')
	got=""
	for who in none viewer operator admin revoked expired; do
		case $who in
		none) auth="" ;; viewer) auth=$VIEWER ;; operator) auth=$OPERATOR ;;
		admin) auth=$TOKEN ;; revoked) auth=$REVOKED ;; expired) auth=$EXPIRED ;;
		esac
		data=""
		case $method in POST|PUT|PATCH) data="-d{}" ;; esac
		s=$(curl -q -s -o /dev/null -w '%{http_code}' -X "$method" $data \
			${auth:+-H "Authorization: Bearer $auth"} "$URL$p")
		got="$got $who:$s"
		# what the table says
		case "$role/$who" in
		public/*) want=open ;;
		*/none|*/revoked|*/expired) want=401 ;;
		viewer/*) want=open ;;
		operator/viewer) want=403 ;;
		operator/*) want=open ;;
		admin/admin) want=open ;;
		admin/*) want=403 ;;
		esac
		if [ "$want" = open ]; then
			[ "$s" != 401 ] && [ "$s" != 403 ] && [ "$s" != 000 ] || { bad=$((bad + 1)); diag "$method $path as $who: $s, want neither 401 nor 403"; }
		else
			[ "$s" = "$want" ] || { bad=$((bad + 1)); diag "$method $path as $who: $s, want $want"; }
		fi
	done
	echo "$method $path ($role):$got" >> "$T/walk"
done < "$T/routes"
expect_eq "every route x {none, viewer, operator, admin, revoked, expired} answers as docs/api.md says" "$bad" 0
diag "$(wc -l < "$T/walk") routes walked"

api GET /api/v1/emergencies -q
body=$(curl -q -s -D "$T/h" "$URL/api/v1/emergencies")
expect_eq "401 has the standard error body" "$(printf '%s' "$body" | jq -r '.error | "\(.code) \(.message | length > 10) \(keys | join(","))"')" "unauthorized true code,message"
check "and a WWW-Authenticate header" grep -qi '^WWW-Authenticate: Bearer' "$T/h"
body=$(curl -q -s -X POST -H "Authorization: Bearer $VIEWER" -d '{}' "$URL/api/v1/emergencies")
expect_match "403 says which role is needed" "$(printf '%s' "$body" | jq -r .error.message)" 'needs the operator role; token "viewer-1" is viewer'
curl -q -s -o /dev/null -H "Authorization: Bearer sct_not-a-real-token-but-shaped-like-one-xxxx" "$URL/api/v1/regions"
check "failed authentications are counted" sh -c "curl -s $URL/metrics | grep -Eq '^scicast_auth_failures_total [1-9]'"
check "and logged" grep -q "auth: GET /api/v1/regions from 127.0.0.1 refused" "$DLOG"
check "without the token" sh -c "! grep -q 'sct_not-a-real' '$DLOG'"

# no token is stored in clear
for t in "$TOKEN" "$VIEWER" "$OPERATOR" "$REVOKED" "$EXPIRED"; do
	printf '%s\n' "$t"
done > "$T/tokens"
found=$(cat "$DB" "$DB-wal" 2>/dev/null | grep -a -c -F -f "$T/tokens")
expect_eq "the database files hold no token in clear" "$found" 0
expect_eq "the dump neither" "$(sqlite3 "$DB" .dump | grep -c -F -f "$T/tokens")" 0

# every kind of change leaves exactly one audit row naming who did it
as() { _t=$1; shift; curl -q -s -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $_t" "$@"; }
audit_one() { # description action actor
	api GET "/api/v1/audit?action=$2"
	expect_eq "$1: one audit row naming $3" "$(jqr '[.items[] | "\(.actor)/\(.role)"] | join(",")')" "$3"
}
as "$OPERATOR" -X POST -d '{"hazard":"typhoon","severity":"yellow","headline":"台风","area":["442000001000"],"duration":"1h"}' "$URL/api/v1/emergencies" > /dev/null
E=$(jq -r .id "$T/body")
audit_one "declare" emergency.declare "operator-1/operator"
as "$OPERATOR" -X POST -d '{"severity":"orange"}' "$URL/api/v1/emergencies/$E/revisions" > /dev/null
audit_one "update" emergency.update "operator-1/operator"
as "$OPERATOR" -X POST "$URL/api/v1/emergencies/$E/cancel" > /dev/null
audit_one "cancel" emergency.cancel "operator-1/operator"
as "$OPERATOR" -X POST -d '{"hazard":"typhoon","severity":"purple","headline":"x","area":["442000001000"],"duration":"1h"}' "$URL/api/v1/emergencies" > /dev/null
audit_one "a refused declaration leaves none; still" emergency.declare "operator-1/operator"
as "$OPERATOR" -X POST "$URL/api/v1/emergencies?dry_run=true" -d '{"hazard":"typhoon","severity":"yellow","headline":"x","area":["442000001000"],"duration":"1h"}' > /dev/null
audit_one "a dry run leaves none; still" emergency.declare "operator-1/operator"
tid=$(curl -s "$URL/api/v1/templates?hazard=typhoon&tier=town&locale=zh-CN" | jq .items[0].id)
api PUT "/api/v1/templates/$tid" '{"version":1,"title":"{{emergency.hazard.name}}预警"}'
audit_one "template edit" template.update "test-admin/admin"
api PUT "/api/v1/templates/$tid" '{"version":1,"title":"x"}'
audit_one "a refused (409) template edit leaves none; still" template.update "test-admin/admin"
api PUT /api/v1/library/heat-general-zh-1 '{"version":1,"priority":91}'
audit_one "library edit" library.update "test-admin/admin"
api POST /api/v1/channels '{"region":"442000001000","kind":"mqtt","target":"x/y"}'
cid=$(jqr .id)
audit_one "channel created" channel.create "test-admin/admin"
api PATCH "/api/v1/channels/$cid" '{"enabled":false}'
audit_one "channel changed" channel.update "test-admin/admin"
api DELETE "/api/v1/channels/$cid"
audit_one "channel deleted" channel.delete "test-admin/admin"
api POST /api/v1/regions/import "@$ZS" -H 'Content-Type: text/csv'
audit_one "region imports (the one at the start, and this one)" region.import "test-admin/admin,test-admin/admin"
audit_one "token revocation" token.revoke "test-admin/admin"
api GET "/api/v1/audit?action=token.create"
expect_eq "token creations (API and command line) name who made them" "$(jqr '[.items[].actor] | unique | join(",")')" "scicastd (local),test-admin"
api GET "/api/v1/audit?action=emergency."
expect_eq "the audit log filters by family and names objects" "$(jqr '[.items[].object] | unique | join(",")')" "emergency/$E"
s=$(as "$VIEWER" "$URL/api/v1/audit")
expect_eq "the audit log is for admins" "$s" 403
daemon_stop
check "no sanitizer report" daemon_log_clean
done_testing
