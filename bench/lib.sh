# bench/lib.sh: shell helpers shared by bench/webhooks and bench/api (and
# bench/fanout's record_row); sourced, not run. POSIX sh. The caller sets
# `prog` (its name in messages), `top` and `bench` (and `scicastd`, `conf`
# before make_token), and owns the cleanup trap; everything started here
# records its pid in a variable the caller's trap stops.
# shellcheck disable=SC2154 # prog, top, bench, scicastd, conf: the caller's

die() {
	echo "$prog: $*" >&2
	exit 1
}

note() {
	echo "$prog: $*" >&2
}

stop_pid() { # PID: SIGTERM, then wait for it
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

now_ms() { # wall clock in ms with a fraction, as the C tools print it
	date +%s%N | awk '{ printf "%.3f\n", $1 / 1e6 }'
}

clk_tck=$(getconf CLK_TCK)
proc_cpu() { # PID: user + system CPU seconds it has used so far
	awk -v hz="$clk_tck" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' "/proc/$1/stat"
}

calc() { # calc 'n / e' n=1 e=2: an awk expression over named numbers, to 0.1 (digits=N)
	_e=$1; shift
	_v=""
	for _a in "$@"; do _v="$_v -v $_a"; done
	# shellcheck disable=SC2086 # the -v assignments are words without spaces
	awk $_v "BEGIN { printf \"%.${digits:-1}f\\n\", ($_e) }"
}

jget() { # JSON-string EXPR
	printf '%s' "$1" | jq -r "$2"
}

# median FILE COLUMN: the median of a whitespace-separated column (from 1).
median() {
	awk -v c="$2" '{ print $c }' "$1" | sort -g |
		awk -v f="%.${digits:-1}f\n" '{ v[NR] = $1 } END { if (NR % 2) printf f, v[(NR + 1) / 2]; else printf f, (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# The machine, for the README rows: "nproc | memory | CPU model".
machine_cols() {
	_mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	_cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo | tr -s ' ' | tr '|' '/')
	[ -n "$_cpu" ] || _cpu=$(uname -m)
	echo "$(nproc) | $_mem | $_cpu"
}

# wait_healthz URL PID LOG: until /healthz answers 200 (15 s), or die.
wait_healthz() {
	_n=150
	until [ "$(curl -s -o /dev/null -w '%{http_code}' "$1/healthz" 2>/dev/null)" = 200 ]; do
		if ! kill -0 "$2" 2>/dev/null || [ "$_n" -le 0 ]; then
			tail -n 20 "$3" >&2
			die "scicastd did not come up (GET $1/healthz never answered 200; its log above)"
		fi
		sleep 0.1; _n=$((_n - 1))
	done
}

# make_token DB ROLE NAME FILE: a token in DB, written as a curl header
# file (curl -H @FILE), so the token is never on a command line.
make_token() {
	_t=$(SCICAST_STORE_PATH="$1" SCICAST_LOG_LEVEL=warn \
		"$scicastd" -c "$conf" token create --role "$2" --name "$3" 2> "$4.err") || {
		cat "$4.err" >&2
		die "scicastd token create failed"
	}
	(umask 077 && printf 'Authorization: Bearer %s\n' "$_t" > "$4")
}

# What was measured: the commit, "+" when the tree had changes, and when
# the binary was built (the tree changes under a benchmark while others
# work; the scripts measure a copy taken at their start).
build_label() { # BINARY
	_h=$(git -C "$top" rev-parse --short HEAD 2>/dev/null) || _h="?"
	[ -z "$(git -C "$top" status --porcelain --untracked-files=no -- daemon include 2>/dev/null)" ] || _h="$_h+"
	echo "$_h $(date -r "$1" '+%m-%d %H:%M')"
}

# A free loopback port (bench/build/freeport).
free_port() {
	"$bench/build/freeport"
}

build_all() { # BUILD(0|1): scicastd (unless 0) and the bench tools
	if [ "$1" -eq 1 ]; then
		note "building scicastd and the bench tools"
		make -s -C "$top" build/scicastd >&2 || die "building scicastd failed (make -C $top build/scicastd)"
	fi
	[ -x "$top/build/scicastd" ] || die "$top/build/scicastd is missing (make -C $top build/scicastd)"
	make -s -C "$bench" >&2 || die "building the bench tools failed (make -C $bench)"
}

# record_row NAME ROW: puts ROW at the end of the results table that
# follows the line "<!-- results: NAME -->" in bench/README.md, so each
# benchmark keeps its own table wherever it is in the file; without the
# marker the row goes at the end of the file.
record_row() {
	_readme="$bench/README.md"
	if [ ! -f "$_readme" ]; then
		note "bench/README.md is missing; not recording: $2"
		return 0
	fi
	if ! MARK="<!-- results: $1 -->" ROW="$2" awk '
		{ line[NR] = $0 }
		$0 == ENVIRON["MARK"] && !m { m = NR }
		END {
			at = NR
			if (m) {
				# the table after the marker: its last line starting with |
				i = m + 1
				while (i <= NR && line[i] !~ /^\|/) i++
				while (i <= NR && line[i] ~ /^\|/) i++
				at = i - 1
			}
			for (i = 1; i <= NR; i++) {
				print line[i]
				if (i == at) print ENVIRON["ROW"]
			}
			if (NR == 0) print ENVIRON["ROW"]
		}' "$_readme" > "$_readme.tmp.$$" || ! mv "$_readme.tmp.$$" "$_readme"; then
		rm -f "$_readme.tmp.$$"
		note "could not write bench/README.md; the row: $2"
		return 0
	fi
	echo "(row added to bench/README.md, results: $1)"
}
