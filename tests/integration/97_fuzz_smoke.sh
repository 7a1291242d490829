# The fuzz targets, briefly: every input that once crashed a parser
# (tests/fuzz/regressions/) runs again, then each target fuzzes its seed
# corpus for FUZZ_SMOKE_SECONDS (default 10). A crash is a failure, with
# the input kept in the test output. Long runs are `make fuzz`.
# Needs clang and libFuzzer (Debian: clang, libclang-rt-14-dev; make deps
# installs them); without them this says so and fails.
set -u
TOP=${TEST_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
OUT=${TEST_OUT:-$TOP/build/fuzz/test-output}
SECONDS_EACH=${FUZZ_SMOKE_SECONDS:-10}
mkdir -p "$OUT"
W=$(mktemp -d "/tmp/scicast-fuzz-smoke.XXXXXX")
trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM
cd "$TOP" || exit 1
started=$(date +%s)

# libFuzzer comes with clang's runtime package, not with clang itself:
# try to link an empty target before building the real ones
if ! command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1; then
	echo "# clang is missing: install clang and libclang-rt-14-dev (make deps does)"
	echo "not ok 1 - libFuzzer toolchain: no clang"
	echo "1..1"
	exit 1
fi
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' > "$W/probe.c"
if ! "${FUZZ_CC:-clang}" -fsanitize=fuzzer,address,undefined "$W/probe.c" -o "$W/probe" > "$W/probe.log" 2>&1; then
	echo "# clang cannot link a libFuzzer target: install libclang-rt-14-dev (make deps does)"
	sed 's/^/#   /' "$W/probe.log" | head -5
	echo "not ok 1 - libFuzzer toolchain: -fsanitize=fuzzer does not link"
	echo "1..1"
	exit 1
fi

if ! make --no-print-directory -s -j"$(nproc 2>/dev/null || echo 1)" fuzz-build \
	> "$OUT/97_fuzz_smoke-build.log" 2>&1; then
	echo "# make fuzz-build failed; the end of its output:"
	tail -20 "$OUT/97_fuzz_smoke-build.log" | sed 's/^/#   /'
	echo "not ok 1 - make fuzz-build"
	echo "1..1"
	exit 1
fi
built=$(date +%s)
echo "# built the fuzz targets in $((built - started)) s"

tests/fuzz/run.sh -T -r -t "$SECONDS_EACH" -o "$W/work" build/fuzz
rc=$?
# keep what a failure needs: the logs and the crashing inputs
for f in "$W"/work/*.log; do
	[ -f "$f" ] && cp "$f" "$OUT/97_fuzz_smoke-$(basename "$f")"
done
for d in "$W"/work/*/; do
	for f in "$d"crash-* "$d"leak-* "$d"timeout-* "$d"oom-*; do
		[ -f "$f" ] && cp "$f" "$OUT/97_fuzz_smoke-$(basename "$d")-$(basename "$f")"
	done
done
[ "$rc" -eq 0 ] || echo "# crashing inputs and logs are in $OUT (97_fuzz_smoke-*)"
echo "# smoke: $(($(date +%s) - built)) s of fuzzing after the build"
exit "$rc"
