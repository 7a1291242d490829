# Shared by the integration tests (POSIX sh). A test sources this file,
# then uses:
#   daemon_start [NAME]     start scicastd (sanitizer build) on a free port
#                           (or FIXED_PORT) with its own database; sets
#                           URL, DB, DLOG
#   daemon_stop             SIGTERM and wait; returns its exit status
#   api METHOD PATH [BODY]  sets STATUS and BODY (BODY "@file" sends a file)
#   ok/fail/check/expect_eq TAP output
# Everything a test starts is stopped by the EXIT trap.
set -u

TOP=${TEST_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${TEST_BUILD:-$TOP/build/asan}
SHARED=${SCICAST_SHARED:-$TOP/../shared}
OUT=${TEST_OUT:-$BUILD/test-output}
# where the EXIT trap keeps the logs: a test may reuse the name OUT
LOG_DIR=$OUT
SCICASTD=${SCICASTD_BIN:-$BUILD/scicastd}
# make valgrind (tests/valgrind.sh) runs the daemon under valgrind: the
# command before scicastd, with @T@ for the test's directory
SCICASTD_WRAP=${SCICASTD_WRAP:-}
START_WAIT=${SCICASTD_START_WAIT:-150}
TESTNAME=$(basename "$0" .sh)
# BROKER=rabbitmq: the MQTT tests run against RabbitMQ's MQTT plugin (MQTT
# 3.1.1) instead of mosquitto; their logs are named NAME@rabbitmq
BROKER=${BROKER:-mosquitto}
[ "$BROKER" = rabbitmq ] && TESTNAME="$TESTNAME@rabbitmq"
T=$(mktemp -d "/tmp/scicast-$TESTNAME.XXXXXX")
mkdir -p "$OUT"
PIDS=""
tap_n=0
tap_failed=0

cleanup() {
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	[ -n "${RMQ_DIR:-}" ] && rabbitmq_cleanup
	for f in "$T"/*.log; do
		[ -f "$f" ] && cp "$f" "$LOG_DIR/$TESTNAME-$(basename "$f")"
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
fail() {
	tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $*"
}
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP $*"; }
diag() { echo "# $*"; }
check() { # description command...
	_d=$1; shift
	if "$@"; then ok "$_d"; else fail "$_d"; fi
}
expect_eq() { # description got want
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1"; diag "got:  $2"; diag "want: $3"; fi
}
expect_match() { # description text extended-regex
	if printf '%s' "$2" | grep -qE -- "$3"; then ok "$1"; else
		fail "$1"; diag "got:  $(printf '%s' "$2" | head -c 600)"; diag "want: /$3/"; fi
}
done_testing() { echo "1..$tap_n"; [ "$tap_failed" -eq 0 ]; }

need() { # a test's prerequisite: stop clearly when it is missing
	if [ ! -e "$1" ]; then
		echo "# missing $1: $2"; echo "not ok 1 - prerequisite $1"; exit 1
	fi
}
need "$SCICASTD" "build it with 'make test-build'"

freeport() { "$BUILD/tools/freeport"; }

# Waits until a command succeeds, up to $1 tenths of a second.
wait_for() {
	_n=$1; shift
	while [ "$_n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1; _n=$((_n - 1))
	done
	return 1
}

DB=""
URL=""
DLOG=""
DPID=""
TOKEN=""
# Every curl of a test sends the admin token: curl reads $CURL_HOME/.curlrc
# (curl -q as the first option reads nothing, for requests without one).
export CURL_HOME="$T"
# admin_token — creates the test's admin token in $DB (once per database).
admin_token() {
	[ -n "$TOKEN" ] && [ "${TOKEN_DB:-}" = "$DB" ] && return 0
	TOKEN=$(SCICAST_STORE_PATH="$DB" "$SCICASTD" -c "$TOP/config/scicast.conf" \
		token create --role admin --name test-admin 2>>"$T/token.log")
	TOKEN_DB=$DB
	printf 'header = "Authorization: Bearer %s"\n' "$TOKEN" > "$T/.curlrc"
}
# daemon_start [NAME] — extra settings come from the environment
# (SCICAST_* variables exported by the test).
daemon_start() {
	_name=${1:-scicastd}
	DB=${DB:-$T/$_name.db}
	admin_token
	HTTP_PORT=${FIXED_PORT:-$(freeport)}
	URL="http://127.0.0.1:$HTTP_PORT"
	DLOG="$T/$_name.log"
	# shellcheck disable=SC2086 # the wrapper is a command line
	SCICAST_STORE_PATH="$DB" SCICAST_HTTP_LISTEN="127.0.0.1:$HTTP_PORT" \
		$(wrap) "$SCICASTD" -c "$TOP/config/scicast.conf" run >> "$DLOG" 2>&1 &
	DPID=$!
	PIDS="$PIDS $DPID"
	if ! wait_for "$START_WAIT" curl -sf "$URL/healthz"; then
		echo "# scicastd did not come up; its log:"; tail -40 "$DLOG" | sed "s/^/#   /"
		return 1
	fi
}

wrap() { printf '%s' "$SCICASTD_WRAP" | sed "s|@T@|$T|g"; }

daemon_stop() {
	[ -n "$DPID" ] || return 0
	kill -TERM "$DPID" 2>/dev/null
	wait "$DPID"
	_rc=$?
	DPID=""
	return $_rc
}

# The daemon's log must hold no sanitizer report.
daemon_log_clean() {
	! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$DLOG"
}

STATUS=""
BODY=""
api() { # METHOD PATH [BODY|@FILE] [extra curl args...]
	_m=$1; _p=$2; shift 2
	_data=""
	if [ $# -gt 0 ]; then _data=$1; shift; fi
	if [ -n "$_data" ]; then
		case "$_data" in
		@*) STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -X "$_m" \
			--data-binary "$_data" -H 'Content-Type: application/json' "$@" "$URL$_p") ;;
		*) printf '%s' "$_data" > "$T/req"
		   STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -X "$_m" \
			--data-binary "@$T/req" -H 'Content-Type: application/json' "$@" "$URL$_p") ;;
		esac
	else
		STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -X "$_m" "$@" "$URL$_p")
	fi
	BODY=$(cat "$T/body" 2>/dev/null)
}

jqr() { printf '%s' "$BODY" | jq -r "$@"; }

# post_bg PATH BODY [TOKEN] — a POST in the background (as TOKEN, or the
# admin), its status into $T/post.out and body into $T/post.body when it
# is answered; sets post_pid. A big plan goes out while it is written, so
# a test acts on the fan-out before the 201. POST_HEADER, if set, is one
# more request header.
post_bg() {
	: > "$T/post.out"
	if [ -n "${3:-}" ]; then
		( curl -q -s -o "$T/post.body" -w '%{http_code}' -X POST -H "Authorization: Bearer $3" \
			${POST_HEADER:+-H "$POST_HEADER"} \
			-H 'Content-Type: application/json' --data-binary "$2" "$URL$1" > "$T/post.out" ) &
	else
		( curl -s -o "$T/post.body" -w '%{http_code}' -X POST ${POST_HEADER:+-H "$POST_HEADER"} \
			-H 'Content-Type: application/json' --data-binary "$2" "$URL$1" > "$T/post.out" ) &
	fi
	post_pid=$!
}

# A fingerprint of everything in a database, to prove it did not change.
db_fingerprint() { sqlite3 "$1" .dump | grep -v '^INSERT INTO schema_migrations' | sha256sum | cut -c1-16; }

# ---- MQTT: a private mosquitto and simulated screens ----
MQTT_PORT=""
BROKER_PID=""
BROKER_DIR=""
# broker_start — a mosquitto on a free port from config/mosquitto.conf;
# exports SCICAST_MQTT_PORT so daemon_start uses it. With BROKER=rabbitmq,
# RabbitMQ instead (see below).
broker_start() {
	[ "$BROKER" = rabbitmq ] && { rabbitmq_start; return; }
	BROKER_DIR="$T/broker"
	mkdir -p "$BROKER_DIR"
	[ -n "$MQTT_PORT" ] || MQTT_PORT=$(freeport)
	sed -e "s|@PORT@|$MQTT_PORT|" -e "s|@DIR@|$BROKER_DIR|" -e "s|@USER@|$(id -un)|" \
		"$TOP/config/mosquitto.conf" > "$BROKER_DIR/mosquitto.conf"
	mosquitto -c "$BROKER_DIR/mosquitto.conf" 2>>"$T/mosquitto-stderr.log" &
	BROKER_PID=$!
	PIDS="$PIDS $BROKER_PID"
	export SCICAST_MQTT_PORT="$MQTT_PORT"
	wait_for 50 mosquitto_pub -p "$MQTT_PORT" -t scicast/test/ping -m x ||
		{ echo "# mosquitto did not start"; cat "$BROKER_DIR/mosquitto.log"; return 1; }
}
broker_stop() {
	[ "$BROKER" = rabbitmq ] && { rabbitmq_stop; return; }
	[ -n "$BROKER_PID" ] || return 0
	kill -TERM "$BROKER_PID" 2>/dev/null
	wait "$BROKER_PID" 2>/dev/null
	BROKER_PID=""
}

# ---- BROKER=rabbitmq: RabbitMQ's MQTT plugin, MQTT 3.1.1 ----
# tests/run.sh starts one node for its RabbitMQ pass (startup takes 10 to
# 30 s) and exports TEST_RABBITMQ, its folder; a test run alone
# starts a node of its own and stops it at exit. Each test gets a fresh
# virtual host, mapped to the MQTT port: no retained message, session or
# queue of another test reaches it. broker_stop/broker_start stop and
# start the broker (not the Erlang node): every connection drops, retained
# messages and sessions stay, as in a broker restart.
# MQTT_PROTOCOL is what the daemon and the screens speak; SCREEN_MQTT_OPTS
# the options scicast-screen needs for it.
MQTT_PROTOCOL=5
SCREEN_MQTT_OPTS=""
RMQ=$TOP/tests/tools/rabbitmq.sh
RMQ_DIR=""
RMQ_OWN=""
RMQ_VHOST=""
RMQ_DOWN=""
if [ "$BROKER" = rabbitmq ]; then
	MQTT_PROTOCOL=3.1.1
	SCREEN_MQTT_OPTS="--protocol 3.1.1"
	export SCICAST_MQTT_PROTOCOL=3.1.1
elif [ "$BROKER" != mosquitto ]; then
	echo "# BROKER is mosquitto or rabbitmq, not $BROKER"; echo "not ok 1 - BROKER"; exit 1
fi
rabbitmq() { FREEPORT="$BUILD/tools/freeport" sh "$RMQ" "$@" 2>>"$T/rabbitmq.log"; }
# a broker that does not start ends the test: nothing after it can pass
rabbitmq_fatal() {
	fail "RabbitMQ: $1"; sed 's/^/#   /' "$T/rabbitmq.log"; exit 1
}
rabbitmq_start() {
	if [ -n "$RMQ_DOWN" ]; then
		rabbitmq up "$RMQ_DIR" || rabbitmq_fatal "the broker did not come back"
		RMQ_DOWN=""
		return 0
	fi
	if [ -z "$RMQ_DIR" ]; then
		if [ -n "${TEST_RABBITMQ:-}" ]; then
			RMQ_DIR=$TEST_RABBITMQ
		else
			RMQ_DIR="$T/rabbitmq" RMQ_OWN=1
			rabbitmq start "$RMQ_DIR" || rabbitmq_fatal "the node did not start"
		fi
		[ -f "$RMQ_DIR/env" ] || rabbitmq_fatal "no node in $RMQ_DIR"
		. "$RMQ_DIR/env"
		RMQ_VHOST="scicast-$TESTNAME-$$"
		rabbitmq vhost "$RMQ_DIR" "$RMQ_VHOST" || rabbitmq_fatal "no virtual host"
	fi
	MQTT_PORT=$RMQ_MQTT_PORT
	export SCICAST_MQTT_PORT="$MQTT_PORT"
	wait_for 50 mosquitto_pub -p "$MQTT_PORT" -t scicast/test/ping -m x ||
		rabbitmq_fatal "no MQTT connection on port $MQTT_PORT"
}
rabbitmq_stop() {
	[ -n "$RMQ_DIR" ] && [ -z "$RMQ_DOWN" ] || return 0
	rabbitmq down "$RMQ_DIR" || return 1
	RMQ_DOWN=1
}
# at exit: a node of the test's own is stopped (its log kept); the run's
# node is left running, up again if the test stopped it
rabbitmq_cleanup() {
	if [ -n "$RMQ_OWN" ]; then
		for f in "$RMQ_DIR"/log/*.log; do
			[ -s "$f" ] && cp "$f" "$LOG_DIR/$TESTNAME-rabbitmq-node.log"
		done
		rabbitmq stop "$RMQ_DIR"
	else
		[ -n "$RMQ_DOWN" ] && rabbitmq up "$RMQ_DIR"
		[ -n "$RMQ_VHOST" ] && rabbitmq drop "$RMQ_DIR" "$RMQ_VHOST"
	fi
}
# retained_sub FILTER TOPICS_FILE — the retained messages a new subscriber
# to FILTER (a topic or PREFIX/#) gets, one payload a line. RabbitMQ 3.x
# gives retained messages only to a subscription of the exact topic, so
# there each topic of TOPICS_FILE under FILTER is subscribed to by name.
retained_sub() {
	if [ "$BROKER" != rabbitmq ]; then
		mosquitto_sub -p "$MQTT_PORT" -t "$1" -W 2 2>/dev/null
		return 0
	fi
	_f=${1%/#}
	# shellcheck disable=SC2046 # one word per option and topic
	set -- $(awk -v f="$_f" '$0 == f || index($0, f "/") == 1 { printf " -t %s", $0 }' "$2")
	[ $# -gt 0 ] || return 0
	mosquitto_sub -p "$MQTT_PORT" "$@" -C $(($# / 2)) -W 5 2>/dev/null
	return 0
}

# screens_start NAME [screens options] — simulated screens on the alert
# prefix; what they receive goes to $T/NAME.jsonl. Sets SCREENS_PID.
SCREENS_PID=""
screens_start() {
	_n=$1; shift
	: > "$T/$_n.ready"
	"$BUILD/tools/screens" --port "$MQTT_PORT" --protocol "$MQTT_PROTOCOL" \
		--out "$T/$_n.jsonl" "$@" \
		> "$T/$_n.ready" 2>>"$T/screens-stderr.log" &
	SCREENS_PID=$!
	PIDS="$PIDS $SCREENS_PID"
	wait_for 100 grep -q ready "$T/$_n.ready"
}
screens_stop() { # PID
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# The coverage of an emergency, one field: cov ID FIELD (e.g. total.sent)
cov() { curl -s "$URL/api/v1/emergencies/$1" | jq -r ".coverage.$2"; }
# Nothing of the current revision is waiting to go out (for wait_for).
settled() {
	_c=$(curl -s "$URL/api/v1/emergencies/$1" | jq -r '.coverage.total | "\(.pending) \(.inflight)"')
	[ "$_c" = "0 0" ]
}

# ---- webhooks: a receiver that verifies signatures ----
HOOK_SECRET="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwC2FVsBQIhrsc"
HOOK_PORT=""
HOOK_URL=""
HOOK_LOG=""
hookd_start() {
	HOOK_PORT=$(freeport)
	HOOK_URL="http://127.0.0.1:$HOOK_PORT"
	HOOK_LOG="$T/hookd.jsonl"
	: > "$T/hookd.ready"
	"$BUILD/tools/hookd" --port "$HOOK_PORT" --secret "$HOOK_SECRET" --log "$HOOK_LOG" \
		> "$T/hookd.ready" 2>>"$T/hookd-stderr.log" &
	PIDS="$PIDS $!"
	wait_for 50 grep -q ready "$T/hookd.ready"
}
# hook_channel REGION PATH [extra json fields] — creates a webhook channel
# to the receiver; prints its id.
hook_channel() {
	_extra=${3:-}
	curl -s -X POST "$URL/api/v1/channels" -H 'Content-Type: application/json' \
		-d "{\"region\":\"$1\",\"kind\":\"webhook\",\"target\":\"$HOOK_URL$2\",\"secret\":\"$HOOK_SECRET\"$_extra}" | jq -r .id
}
# Requests the receiver got on a path (prefix match).
hook_hits() { jq -r --arg p "$1" 'select(.path | startswith($p)) | .path' "$HOOK_LOG" 2>/dev/null | wc -l; }
