#!/bin/sh
# Runs the libFuzzer targets that `make fuzz-build` made.
#   tests/fuzz/run.sh [-t SECONDS] [-r] [-T] [-j JOBS] [-o DIR] BUILD_DIR [NAME...]
#     -t  fuzz each target for SECONDS (default 60; 0: do not fuzz)
#     -r  first replay tests/fuzz/regressions/NAME/* (inputs that crashed once)
#     -T  print TAP lines (for tests/run.sh) instead of a table
#     -j  targets run at once (default: the number of CPUs)
#     -o  where logs, crash inputs and the grown corpora go
#         (default BUILD_DIR/work; emptied first)
# BUILD_DIR holds fuzz_NAME binaries; without NAMEs every one runs.
# Each target fuzzes a scratch copy of tests/fuzz/corpus/NAME, so what the
# fuzzer adds never reaches the repository. A crash leaves its input in
# DIR/NAME/ and fails the run: minimise it, fix the bug, and keep it in
# tests/fuzz/regressions/NAME/ (see docs/operations.md, "Fuzzing").
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
seconds=60
replay=0
tap=0
jobs=$(nproc 2>/dev/null || echo 1)
out=""
while getopts t:rTj:o: opt; do
	case $opt in
	t) seconds=$OPTARG ;;
	r) replay=1 ;;
	T) tap=1 ;;
	j) jobs=$OPTARG ;;
	o) out=$OPTARG ;;
	*) sed -n '2,9s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
build=${1:?usage: tests/fuzz/run.sh [-t SECONDS] [-r] [-T] [-j JOBS] [-o DIR] BUILD_DIR [NAME...]}
shift
build=$(cd "$build" && pwd)
out=${out:-$build/work}
case "$seconds" in *[!0-9]* | "") echo "run.sh: -t wants whole seconds" >&2; exit 2 ;; esac
case "$jobs" in *[!0-9]* | "" | 0) jobs=1 ;; esac

names="$*"
if [ -z "$names" ]; then
	for b in "$build"/fuzz_*; do
		[ -x "$b" ] && names="$names ${b##*/fuzz_}"
	done
fi
[ -n "$names" ] || { echo "run.sh: no fuzz_* binaries in $build" >&2; exit 2; }
rm -rf "$out"
mkdir -p "$out"

# Sanitizers stop at the first report; libFuzzer then saves the input.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# one target: replay, then fuzz. The outcome goes to $out/NAME.result as
# "REPLAY|REPLAYED|FUZZ|RUNS|SECS|NOTE": REPLAY ok, fail or none; FUZZ ok,
# fail or skip (not asked for, or a regression crashed already).
one() {
	n=$1
	bin=$build/fuzz_$n
	dir=$out/$n
	log=$out/$n.log
	mkdir -p "$dir/corpus"
	: > "$log"
	if [ ! -x "$bin" ]; then
		echo "none|0|fail|0|0|no binary $bin (make fuzz-build)" > "$out/$n.result"
		return
	fi
	rstatus=none
	replayed=0
	reg=$top/tests/fuzz/regressions/$n
	if [ "$replay" -eq 1 ] && [ -d "$reg" ]; then
		set -- "$reg"/*
		if [ -e "$1" ]; then
			replayed=$#
			rstatus=ok
			# given files, libFuzzer runs each once and stops
			if ! "$bin" -timeout=25 "$@" >> "$log" 2>&1; then
				echo "fail|$replayed|skip|0|0|a regression input crashes again: log $log" \
					> "$out/$n.result"
				return
			fi
		fi
	fi
	if [ "$seconds" -eq 0 ]; then
		echo "$rstatus|$replayed|skip|0|0|" > "$out/$n.result"
		return
	fi
	[ -d "$top/tests/fuzz/corpus/$n" ] && cp -R "$top/tests/fuzz/corpus/$n/." "$dir/corpus/"
	# the tokens of the input's language, for mutations to splice in
	case $n in
	ack | declare | template_save) dict=json ;;
	*) dict=$n ;;
	esac
	dict=$top/tests/fuzz/dict/$dict.dict
	set --
	if [ -f "$dict" ]; then set -- -dict="$dict"; fi
	"$bin" -max_total_time="$seconds" -timeout=25 -print_final_stats=1 \
		-artifact_prefix="$dir/" "$@" "$dir/corpus" >> "$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
	if [ "$rc" -eq 0 ]; then
		echo "$rstatus|$replayed|ok|${runs:-0}|${secs:-$seconds}|" > "$out/$n.result"
	else
		unit=$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)
		why=$(grep -m1 -oE 'ERROR: [A-Za-z]+Sanitizer: [a-z-]+|runtime error: .*|ALARM: .*|out-of-memory|left a transaction open|deadly signal' "$log")
		echo "$rstatus|$replayed|fail|${runs:-?}|${secs:-?}|${why:-exit $rc}: input ${unit:-not saved}, log $log" \
			> "$out/$n.result"
	fi
}

# in batches of $jobs; every target runs for the same time, so a batch
# ends together
# shellcheck disable=SC2086 # the names are words, split on purpose
set -- $names
while [ $# -gt 0 ]; do
	k=0
	while [ $# -gt 0 ] && [ "$k" -lt "$jobs" ]; do
		one "$1" &
		shift
		k=$((k + 1))
	done
	wait
done

failed=0
i=0
tapline() { # ok|fail text
	i=$((i + 1))
	if [ "$1" = ok ]; then echo "ok $i - $2"; else echo "not ok $i - $2"; fi
}
[ "$tap" -eq 1 ] || echo "fuzz: ${seconds} s per target; logs and grown corpora in $out"
for n in $names; do
	IFS='|' read -r rstatus replayed fstatus runs secs note < "$out/$n.result"
	[ "$rstatus" = fail ] || [ "$fstatus" = fail ] && failed=$((failed + 1))
	if [ "$tap" -eq 1 ]; then
		case $rstatus in
		ok) tapline ok "$n: $replayed regression input(s) replayed, no crash" ;;
		fail) tapline fail "$n: $note" ;;
		esac
		case $fstatus in
		ok) tapline ok "$n: $runs runs in $secs s, no crash" ;;
		fail) tapline fail "$n: $runs runs in $secs s, CRASH: $note" ;;
		esac
	else
		case $rstatus in
		ok) r="$replayed regression(s) ok; " ;;
		fail) r="REGRESSION: $note" ;;
		*) r="" ;;
		esac
		case $fstatus in
		ok) f="no crash" ;;
		fail) f="CRASH: $note" ;;
		*) f="" ;;
		esac
		printf '  %-14s %10s runs in %3s s   %s%s\n' "$n" "$runs" "$secs" "$r" "$f"
	fi
done
[ "$tap" -eq 1 ] && echo "1..$i"
[ "$failed" -eq 0 ]
