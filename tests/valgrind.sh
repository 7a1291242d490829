#!/bin/sh
# `make valgrind`: the integration tests with scicastd (the release build,
# -O2 -g, no sanitizer: valgrind and ASan do not mix) under memcheck.
#   tests/valgrind.sh [PATTERN]
# Each daemon a test starts writes its memcheck report to the test's
# output (NAME-valgrind.PID.log in build/asan/valgrind-output/). The run
# fails when a test fails or a report has an error or a definite leak.
# The tools and the CLI the tests drive stay the sanitizer build.
# VALGRIND_TESTS chooses the tests (default: all but the fuzz smoke, which
# runs no daemon, the short drills, whose kill points and sizes are set
# for a daemon at full speed, and the browser test, whose Chromium
# timeouts valgrind's slowness would trip).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
pattern=${1:-}
out="$top/build/asan/valgrind-output"
rm -rf "$out"
mkdir -p "$out"
command -v valgrind > /dev/null || { echo "valgrind: not installed (make deps)"; exit 1; }
[ -x "$top/build/scicastd" ] || { echo "valgrind: build/scicastd missing (make)"; exit 1; }

# Definite leaks and every memory error count; "still reachable" is what
# libraries keep until exit (OpenSSL, libxml2), not ours to free.
export SCICASTD_BIN="$top/build/scicastd"
export SCICASTD_WRAP="valgrind -q --error-exitcode=99 --leak-check=full \
--errors-for-leak-kinds=definite --show-leak-kinds=definite \
--num-callers=30 --log-file=@T@/valgrind.%p.log"
export SCICASTD_START_WAIT=600  # tenths of a second: valgrind starts slowly
export TEST_BUILD="$top/build/asan" TEST_TOP="$top" TEST_OUT="$out"
export SCICAST_SHARED="${SCICAST_SHARED:-$top/../shared}"
export BROKER=mosquitto

tests=${VALGRIND_TESTS:-$(cd "$top/tests/integration" && ls *.sh |
	grep -v -e 97_fuzz_smoke -e 98_drills_short -e 99_browser | sed 's/\.sh$//')}
passed=0 failed=0 failures=""
for n in $tests; do
	case "$n" in *"$pattern"*) ;; *) continue ;; esac
	log="$out/$n.log"
	(cd "$top" && timeout 1800 sh "tests/integration/$n.sh") > "$log" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	# -q: a report holds only what went wrong
	reports=$(grep -l -E '^==[0-9]+== (Invalid|Conditional|Use of uninit|Syscall param|Mismatched|Source and destination|Argument|Process terminating|[0-9,]+ bytes in [0-9,]+ blocks are definitely)' \
		"$out/$n"-valgrind.*.log 2>/dev/null | wc -l)
	daemons=$(ls "$out/$n"-valgrind.*.log 2>/dev/null | wc -l)
	[ "$reports" -gt 0 ] && f=$((f + reports))
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -gt 0 ]; then
		failures="$failures $n"
		printf '%-24s %3d passed, %3d FAILED, %d daemons, %d valgrind reports\n' "$n" "$p" "$f" "$daemons" "$reports"
		grep -E '^not ok' "$log" | head -5 | sed 's/^/    /'
	else
		printf '%-24s %3d passed, %d daemons under valgrind, clean\n' "$n" "$p" "$daemons"
	fi
done
[ -n "$failures" ] && echo "failed:$failures (logs in $out)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
