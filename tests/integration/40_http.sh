# The HTTP base: errors in one shape, limits, health, metrics, and a stop
# that lets a request in progress finish.
. "$(dirname "$0")/../lib.sh"

export SCICAST_HTTP_MAX_BODY=2K
daemon_start
api GET /healthz
expect_eq "/healthz is 200" "$STATUS" 200
expect_eq "and checks the database" "$(jqr .database)" ok
api GET /api/v1/nothing
expect_eq "an unknown route is 404" "$STATUS" 404
expect_match "with the standard error body" "$BODY" '^\{"error":\{"code":"not_found","message":"[^"]+"\}\}$'
api DELETE /api/v1/regions
expect_eq "a wrong method is 405" "$STATUS" 405
allow=$(curl -s -D - -o /dev/null -X DELETE "$URL/api/v1/regions" | tr -d '\r' | sed -n 's/^Allow: //p')
expect_eq "and says what is allowed" "$allow" "GET"
api POST /api/v1/channels '{"region": "442000001000",
 "kind": mqtt}'
expect_eq "malformed JSON is 400" "$STATUS" 400
expect_match "naming line and column" "$(jqr .error.message)" "line 2, column [0-9]+"
head -c 5000 /dev/zero | tr '\0' 'a' > "$T/big"
api POST /api/v1/channels "@$T/big"
expect_eq "a body over [http] max_body is 413" "$STATUS" 413
expect_eq "with the standard error body" "$(jqr .error.code)" too_large
status=$(head -c 5000 /dev/zero | tr '\0' 'a' | curl -s -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' --data-binary @- "$URL/api/v1/channels")
expect_eq "a chunked body over the limit is 413 too" "$status" 413
api GET "/api/v1/regions?limit=0"
expect_eq "a query number out of range is 400" "$STATUS/$(jqr .error.field)" "400/limit"
api GET /api/v1/version
api GET /api/v1/version
api GET /metrics
expect_eq "/metrics is 200" "$STATUS" 200
expect_match "counts requests by route and status" "$BODY" 'scicast_http_requests_total\{method="GET",route="/api/v1/version",code="200"\} 2'
expect_match "has latency histograms" "$BODY" 'scicast_http_request_duration_seconds_bucket\{method="GET",route="/api/v1/version",le="\+Inf"\} 2'
expect_match "counts 413s" "$BODY" 'scicast_http_body_too_large_total 2'
ctype=$(curl -s -D - -o /dev/null "$URL/metrics" | tr -d '\r' | sed -n 's/^Content-Type: //p')
expect_match "in the Prometheus text format" "$ctype" '^text/plain; version=0.0.4'
daemon_stop

# a request in progress finishes when SIGTERM arrives
GD="$SHARED/data/regions-guangdong.csv"
if [ -f "$GD" ]; then
	DB="$T/stop.db"
	SCICAST_HTTP_MAX_BODY=1M daemon_start stop
	# under valgrind the whole province takes longer than the 10 s a stop
	# waits for; a third of it still runs for seconds there
	if [ -n "$SCICASTD_WRAP" ]; then
		head -n 9000 "$GD" > "$T/import.csv"
	else
		cp "$GD" "$T/import.csv"
	fi
	curl -s -o "$T/import.json" -w '%{http_code}' --data-binary "@$T/import.csv" "$URL/api/v1/regions/import" > "$T/import.status" &
	cpid=$!
	sleep 0.5 # the import takes seconds under the sanitizers
	kill -TERM "$DPID"
	wait "$cpid"
	expect_eq "a request running at SIGTERM still gets its answer" "$(cat "$T/import.status")" 200
	wait "$DPID"; rc=$?; DPID=""
	expect_eq "and the daemon then exits 0" "$rc" 0
	order=$(grep -oE "SIGTERM: stopping|POST /api/v1/regions/import 200" "$DLOG" | tr '\n' ';')
	expect_eq "SIGTERM came while the import ran, and the import finished" "$order" \
		"SIGTERM: stopping;POST /api/v1/regions/import 200;"
	n=$(sqlite3 "$DB" "SELECT count(*) FROM regions")
	expect_eq "the import it finished is complete" "$n" "$(($(wc -l < "$T/import.csv") - 1))"
else
	skip "graceful stop: $GD missing"
fi
check "no sanitizer report" daemon_log_clean

done_testing
