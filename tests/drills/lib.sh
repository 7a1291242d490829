# Shared by the drills (POSIX sh). A drill sources this file, which
# sources tests/lib.sh (daemon, broker, screens, hookd, TAP), and adds:
#   PROFILE                 full (make drill) or short (make test): sizes
#   size NAME FULL SHORT    the value of a size for the profile
#                           (DRILL_NAME in the environment wins)
#   gen_regions FILE TOWNS VILLAGES   a synthetic region tree: a city,
#                           TOWNS towns, VILLAGES villages in each
#   import_tree TOWNS VILLAGES   such a tree imported into $DB
#   drill_daemon_start [NAME]  daemon_start that keeps its port across
#                           restarts, so the API sampler keeps one URL
#   sampler_start PATH / sampler_stop   GET PATH every 50 ms meanwhile
#   api_p99                 the 99th percentile of its answers, in ms
#   planned_keys E / delivered_keys   one line per planned delivery of
#                           emergency E, and per delivery a receiver got
#   wait_until S CMD…       CMD every 0.5 s until it succeeds, at most S s
#   declare_staged DECL     a big declaration, acted on from its POST on
#   point_ahead S TOTAL F   the point a share F of the way from S to TOTAL
#   wait_point P S TOTAL    waits for done_now to pass a point of a fan-out
#   bail WHY                the setup failed: stop the drill
#   drill_result P D L DUP [DEAD]  prints "drill NAME: planned …" (the line the
#                           runner collects)
. "${TEST_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

PROFILE=${DRILL_PROFILE:-full}
case "$PROFILE" in full | short) ;; *)
	echo "# DRILL_PROFILE is full or short, not $PROFILE"; echo "not ok 1 - profile"; exit 1 ;;
esac

size() { # NAME FULL SHORT
	eval "_v=\${DRILL_$1:-}"
	if [ -n "$_v" ]; then echo "$_v"
	elif [ "$PROFILE" = full ]; then echo "$2"
	else echo "$3"; fi
}

# A city (449900000000), towns 4499TTTTT000, villages 4499TTTTTVVV.
CITY=449900000000
gen_regions() { # FILE TOWNS VILLAGES
	awk -v towns="$2" -v villages="$3" -v city="$CITY" 'BEGIN {
		print "code,name,level,parent_code"
		print city ",演练市,city,"
		for (t = 1; t <= towns; t++) {
			town = sprintf("4499%05d000", t)
			print town ",演练镇" t ",town," city
			for (v = 1; v <= villages; v++)
				printf "4499%05d%03d,演练村%d-%d,village,%s\n", t, v, t, v, town
		}
	}' > "$1"
}
town_code() { printf '4499%05d000' "$1"; }

# import_tree TOWNS VILLAGES — such a tree in the drill's database $DB
import_tree() {
	gen_regions "$T/regions.csv" "$1" "$2"
	DB="$T/scicastd.db"
	SCICAST_STORE_PATH="$DB" "$SCICASTD" -c "$TOP/config/scicast.conf" \
		import-regions "$T/regions.csv" > "$T/import.log" 2>&1
	_n=$((1 + $1 + $1 * $2))
	grep -q "$_n inserted" "$T/import.log" || bail "the region tree was not imported"
	ok "the region tree is imported: $_n regions"
}

# Like daemon_start, but a restart listens on the same port (the API
# sampler keeps one URL) and may take longer to start (recovery).
drill_daemon_start() {
	DB=${DB:-$T/scicastd.db}
	[ -n "${FIXED_PORT:-}" ] || FIXED_PORT=$(freeport)
	[ "$START_WAIT" -ge 300 ] || START_WAIT=300
	daemon_start "$@"
}

# wait_until SECONDS COMMAND… — runs COMMAND every half second until it
# succeeds or SECONDS have passed (for checks too heavy for wait_for)
wait_until() {
	_end=$(($(date +%s) + $1)); shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.5
	done
}

# point_ahead START TOTAL SHARE — the count SHARE of the way from START
# (deliveries out now) to TOTAL: a point still ahead of a fast sender.
point_ahead() {
	awk -v c="$1" -v p="$2" -v f="$3" 'BEGIN { printf "%d", c + (p - c) * f }'
}

# declare_staged DECL — a big declaration for a drill to act on: its dry
# run's count into $planned, the POST in the background (post_bg), and its
# id into $E as soon as its first stage is stored. A big plan goes out
# while it is written: by its 201 most of it is out, so a drill's kills
# and outages start here. Polled quickly: a short drill's plan is out in
# under a second.
declare_staged() {
	api POST "/api/v1/emergencies?dry_run=true" "$1"
	[ "$STATUS" = 200 ] || bail "the dry run answered $STATUS"
	planned=$(jqr .planned.deliveries)
	_before=$(sqlite3 "$DB" "SELECT count(*) FROM emergencies")
	post_bg /api/v1/emergencies "$1"
	_tries=0
	until [ "$(sqlite3 "$DB" "SELECT count(*) FROM emergencies" 2>/dev/null || echo 0)" -gt "$_before" ]; do
		_tries=$((_tries + 1))
		[ "$_tries" -lt 6000 ] || bail "the declaration was not stored"
		sleep 0.02
	done
	E=$(sqlite3 "$DB" "SELECT max(id) FROM emergencies")
	diag "$(date +%T) emergency $E: $planned deliveries to plan"
}

# wait_point POINT START TOTAL — waits until done_now (the drill's count
# of deliveries out) is at least POINT and above START; sets D. Returns 1
# when all TOTAL are out first, 2 after a minute without progress there.
wait_point() {
	_end=$(($(date +%s) + 60))
	while :; do
		D=$(done_now)
		[ "$D" -ge "$3" ] && return 1
		[ "$D" -ge "$1" ] && [ "$D" -gt "$2" ] && return 0
		[ "$(date +%s)" -lt "$_end" ] || return 2
		sleep 0.02
	done
}

# bail WHY — the drill cannot go on (its setup failed): say so and stop
bail() {
	fail "$*"
	echo "drill $TESTNAME: did not run: $*"
	done_testing
	exit 1
}

# Every log this drill's daemons wrote holds no sanitizer report.
logs_clean() {
	! cat "$T"/*.log 2>/dev/null |
		grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:'
}

# ---- the API while the drill runs ----
SAMPLER_PID=""
sampler_start() { # PATH
	rm -f "$T/sampler.stop"
	( while [ ! -e "$T/sampler.stop" ]; do
		curl -s -m 20 -o /dev/null -w '%{http_code} %{time_total}\n' "$URL$1"
		sleep 0.05
	  done ) >> "$T/api-latency" 2>/dev/null &
	SAMPLER_PID=$!
	PIDS="$PIDS $SAMPLER_PID"
}
sampler_stop() {
	[ -n "$SAMPLER_PID" ] || return 0
	touch "$T/sampler.stop"
	wait "$SAMPLER_PID" 2>/dev/null
	SAMPLER_PID=""
}
# nearest rank: the smallest answer time that 99 % of answers do not exceed
api_p99() {
	awk '$1 == 200 { printf "%d\n", $2 * 1000 + 0.5 }' "$T/api-latency" 2>/dev/null |
		sort -n | awk '{ a[NR] = $1 } END {
			if (!NR) { print "n/a"; exit }
			i = int(NR * 0.99); if (i < NR * 0.99) i++; if (i < 1) i = 1
			print a[i] }'
}
api_answers() { awk -v s="$1" '$1 == s' "$T/api-latency" 2>/dev/null | wc -l; }
api_other() { awk '$1 != 200' "$T/api-latency" 2>/dev/null | wc -l; }

# ---- what was planned, what arrived ----
# A delivery is its message on its channel: "mqtt MESSAGE_ID" (a region
# has one MQTT channel) or "hook PATH MESSAGE_ID" (webhooks of one region
# share its message).
planned_keys() { # EMERGENCY [STATES] — sorted
	_states=${2:-}
	sqlite3 "$DB" "SELECT CASE d.kind WHEN 'mqtt' THEN 'mqtt ' || m.message_id
		ELSE 'hook ' || substr(c.target, length('$HOOK_URL') + 1) || ' ' || m.message_id END
		FROM deliveries d JOIN messages m ON m.id = d.message
		JOIN channels c ON c.id = d.channel_id
		WHERE d.emergency_id = $1 AND d.escalation = 0
		${_states:+AND d.state IN ($_states)}" | sort
}
# What the screens (files $T/NAME.jsonl, --brief) and hookd (its 2xx
# answers) got, one line per arrival, sorted: duplicates stay.
delivered_keys() { # SCREEN_FILES...
	{
		for f in "$@"; do
			jq -r 'select(.message_id != null) | "mqtt \(.message_id)"' "$f" 2>/dev/null
		done
		[ -n "$HOOK_LOG" ] && jq -r 'select(.status >= 200 and .status < 300 and .webhook_id != null)
			| "hook \(.path) \(.webhook_id)"' "$HOOK_LOG" 2>/dev/null
	} | sort
}

# drill_result PLANNED DELIVERED LOST DUPLICATES — the drill's one line
drill_result() { # [DEAD]: deliveries that ended dead, errors kept (receivers)
	echo "drill $TESTNAME: planned $1, delivered $2,${5:+ dead $5 (with their errors),} lost $3, duplicates $4, api p99 $(api_p99) ms"
}
