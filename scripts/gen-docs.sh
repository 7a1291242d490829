#!/bin/sh
# Rewrites the generated parts of docs/config.md and docs/api.md from the
# daemon's own tables (between the "generated" markers), so the reference
# always matches what the code accepts. The tests check they are current.
set -eu
bin=${1:-build/scicastd}
cd "$(dirname "$0")/.."
splice() { # file begin-marker end-marker generated-file
	awk -v b="$2" -v e="$3" -v g="$4" '
		$0 == b { print; while ((getline l < g) > 0) print l; skip = 1; next }
		$0 == e { skip = 0 }
		!skip { print }' "$1" > "$1.tmp"
	mv "$1.tmp" "$1"
}
tmp=$(mktemp)
"$bin" config-doc > "$tmp"
splice docs/config.md "<!-- generated: scicastd config-doc -->" "<!-- end generated -->" "$tmp"
"$bin" routes > "$tmp"
splice docs/api.md "<!-- generated: scicastd routes -->" "<!-- end generated -->" "$tmp"
rm -f "$tmp"
echo "docs/config.md and docs/api.md updated from $bin"
