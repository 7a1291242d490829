# The web console in a real browser: Debian's Chromium driven by
# playwright-core (tests/browser/console.test.mjs), against a daemon with
# the Zhongshan regions and simulated screens that ack (all but one
# village of 中山港街道, for the drill report). Also: the static files are
# served only from web/, whatever the path says.
. "$(dirname "$0")/../lib.sh"
ZS="$SHARED/data/regions-zhongshan.csv"
need "$ZS" "the shared data folder must be beside the checkout (or set SCICAST_SHARED)"

broker_start
# campaign runs must send whatever the hour (the default quiet hours are
# 22:00-07:00); the test sets a town's quiet hours itself
export SCICAST_CAMPAIGNS_QUIET_HOURS=none
daemon_start
api POST /api/v1/regions/import "@$ZS" -H 'Content-Type: text/csv'
expect_eq "the Zhongshan regions are imported" "$STATUS" 200

# ---- the static files, from the shell
ct=$(curl -q -s -o /dev/null -w '%{http_code} %{content_type}' "$URL/")
expect_match "/ is the console page (text/html), no token needed" "$ct" '^200 text/html'
csp=$(curl -q -s -D - -o /dev/null "$URL/" | tr -d '\r' | sed -n 's/^[Cc]ontent-[Ss]ecurity-[Pp]olicy: //p')
expect_match "with a Content-Security-Policy that allows no inline script" "$csp" "default-src 'self'"
expect_eq "index.html holds no inline script" \
	"$(grep -c '<script[^>]*>[^<]' "$TOP/web/index.html")" 0
for p in '/../../etc/passwd' '/%2e%2e/%2e%2e/etc/passwd' '/..%2f..%2fetc%2fpasswd' \
	'/%2e%2e%2f%2e%2e%2fetc%2fpasswd' '/js/../../etc/passwd' '/.%2e/.%2e/etc/passwd'; do
	code=$(curl -q -s --path-as-is -o "$T/trav" -w '%{http_code}' "$URL$p")
	if [ "$code" = 404 ] && ! grep -q 'root:' "$T/trav"; then ok "$p is 404"; else
		fail "$p is 404"; diag "got $code: $(head -c 200 "$T/trav")"; fi
done
code=$(curl -q -s -o /dev/null -w '%{http_code} %{content_type}' "$URL/app.js")
expect_match "the console's script is served as JavaScript" "$code" '^200 text/javascript'

# ---- the browser test
VIEWER=$(curl -s -X POST "$URL/api/v1/tokens" -d '{"name":"viewer","role":"viewer"}' | jq -r .token)
expect_match "a viewer token is made" "$VIEWER" '^sct_'
SILENT=442000003004 # 联富社区 of 中山港街道: its screen never acks
screens_start screens --silent "$SILENT"
check "simulated screens that ack are running" kill -0 "$SCREENS_PID"

NODE=$(command -v node || true)
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ -z "$NODE" ]; then
	fail "browser test: node is missing (install Node.js: 'make deps')"
elif [ ! -x "$CHROMIUM" ]; then
	fail "browser test: $CHROMIUM is missing (install Debian's chromium and fonts-noto-cjk: 'make deps')"
else
	if [ ! -d "$TOP/tests/browser/node_modules/playwright-core" ]; then
		diag "installing playwright-core (npm ci --prefix tests/browser)"
		if ! npm ci --prefix "$TOP/tests/browser" --no-audit --no-fund > "$T/npm.log" 2>&1; then
			fail "browser test: npm ci --prefix tests/browser failed"
			sed 's/^/#   /' "$T/npm.log" | tail -20
		fi
	fi
	if [ -d "$TOP/tests/browser/node_modules/playwright-core" ]; then
		SHOTS="emergency-detail declare-confirmation template-editor list-phone campaigns campaign-detail drill-report"
		for s in $SHOTS; do rm -f "$OUT/screenshots/$s.png"; done # not last run's
		# Its TAP lines are renumbered to follow this script's own.
		SCICAST_URL="$URL" SCICAST_ADMIN_TOKEN="$TOKEN" SCICAST_VIEWER_TOKEN="$VIEWER" \
			SCICAST_SILENT_VILLAGE="$SILENT" TEST_OUT="$OUT" CHROMIUM="$CHROMIUM" \
			timeout 120 "$NODE" "$TOP/tests/browser/console.test.mjs" > "$T/browser.tap" 2>"$T/browser-stderr.log"
		rc=$?
		while IFS= read -r line; do
			case "$line" in
			"ok "*) ok "${line#ok [0-9]* - }" ;;
			"not ok "*) fail "${line#not ok [0-9]* - }" ;;
			"1.."*) ;;
			*) echo "$line" ;;
			esac
		done < "$T/browser.tap"
		if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$T/browser.tap"; then
			fail "browser test exited with status $rc"
			sed 's/^/#   /' "$T/browser-stderr.log" | tail -20
		fi
		for s in $SHOTS; do
			check "screenshot $s.png was saved" test -s "$OUT/screenshots/$s.png"
		done
	fi
fi

daemon_stop; rc=$?
expect_eq "the daemon stops cleanly" "$rc" 0
check "no sanitizer report" daemon_log_clean
done_testing
