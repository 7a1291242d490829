#!/bin/sh
# Runs the outage drills, one after the other, each in its own folder with
# its own broker, receivers and daemon, and prints one line per drill:
#   drill NAME: planned N, delivered N, lost 0, duplicates N, api p99 X ms
#
#   tests/drills/run.sh [--profile full|short] [--tap] [BUILD_DIR] [DRILL…]
#
# --profile full (make drill) runs them at full size, short (make test,
# through tests/integration/98_drills_short.sh) smaller and quicker.
# --tap prints each drill as a TAP line (for tests/run.sh). BUILD_DIR is
# the sanitizer build (default build/asan); DRILLs default to all of them
# (crash broker receivers disk). Each drill's full output is kept in
# TEST_OUT (default BUILD_DIR/drill-output) as drill-NAME.log. A drill
# that overruns its time (DRILL_TIMEOUT, default 900 s full, 300 s short)
# is stopped and fails.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
profile=full
tap=0
while [ $# -gt 0 ]; do
	case "$1" in
	--profile) [ $# -ge 2 ] || { echo "run.sh: --profile full|short" >&2; exit 2; }
		profile=$2; shift 2 ;;
	--tap) tap=1; shift ;;
	-h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) break ;;
	esac
done
case "$profile" in full | short) ;; *) echo "run.sh: the profile is full or short, not $profile" >&2; exit 2 ;; esac
build=${1:-$top/build/asan}
[ $# -gt 0 ] && shift
build=$(cd "$build" && pwd) || exit 2
drills=${*:-crash broker receivers disk}
out=${TEST_OUT:-$build/drill-output}
mkdir -p "$out"
limit=${DRILL_TIMEOUT:-$([ "$profile" = full ] && echo 900 || echo 300)}
export TEST_BUILD="$build" TEST_TOP="$top" TEST_OUT="$out" DRILL_PROFILE="$profile"
export SCICAST_SHARED="${SCICAST_SHARED:-$top/../shared}"
# the drills stop and start mosquitto themselves and read its retained
# messages: they are mosquitto drills whatever pass runs them
export BROKER=mosquitto
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

n=0
failed=0
start=$(date +%s)
for d in $drills; do
	n=$((n + 1))
	script="$top/tests/drills/$d.sh"
	log="$out/drill-$d.log"
	t0=$(date +%s)
	if [ -f "$script" ]; then
		timeout "$limit" sh "$script" > "$log" 2>&1
		rc=$?
	else
		echo "no such drill: $script" > "$log"
		rc=2
	fi
	secs=$(($(date +%s) - t0))
	line=$(grep "^drill $d:" "$log" | tail -n 1)
	[ -n "$line" ] || line="drill $d: no result"
	bad=$(grep -c '^not ok' "$log")
	[ "$rc" -eq 124 ] && line="$line (stopped after $limit s)"
	if [ "$rc" -eq 0 ] && [ "$bad" -eq 0 ]; then
		status=ok
	else
		status="not ok"
		failed=$((failed + 1))
	fi
	if [ "$tap" -eq 1 ]; then
		echo "$status $n - $line ($secs s)"
		echo "$line"
		[ "$status" = ok ] || grep -E '^not ok|^# ' "$log" | head -20 | sed 's/^/# /'
	else
		printf '%s  [%s, %d s]\n' "$line" "$status" "$secs"
		[ "$status" = ok ] || grep -E '^not ok|^# ' "$log" | head -20 | sed 's/^/    /'
	fi
done
if [ "$tap" -eq 1 ]; then
	echo "1..$n"
else
	echo "$((n - failed)) drills passed, $failed failed ($profile, $(($(date +%s) - start)) s; logs in $out)"
fi
[ "$failed" -eq 0 ]
