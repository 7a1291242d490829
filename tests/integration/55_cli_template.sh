# scicast template render: offline rendering for administrators and scripts.
. "$(dirname "$0")/../lib.sh"
CLI=$BUILD/scicast
need "$CLI" "build it with 'make test-build'"
CTX="$TOP/tests/fixtures/context-village.json"

out=$("$CLI" template render "$TOP/templates/typhoon/village.zh-CN.txt" --data "$CTX" 2>&1); rc=$?
expect_eq "rendering a default template exits 0" "$rc" 0
expect_match "and prints its three parts" "$out" '^\[title\]'
expect_match "with the village's short name" "$out" "桂园社区居民请注意"
expect_match "and the science notice summary" "$out" "关好门窗，收起阳台花盆"

printf 'line one\n{{#region}}{{name}}\n' > "$T/bad.mustache"
out=$("$CLI" template render "$T/bad.mustache" --data "$CTX" 2>&1); rc=$?
expect_eq "a template error exits 2" "$rc" 2
expect_match "with FILE:LINE:COLUMN" "$out" "bad.mustache:2:1: .*unclosed section \"region\""

printf '# c\n[title]\nok\n[body]\n\nfine\n{{/x}}\n[tts]\nt\n' > "$T/parts.txt"
out=$("$CLI" template render "$T/parts.txt" --data "$CTX" 2>&1); rc=$?
expect_eq "an error in a part exits 2" "$rc" 2
expect_match "and names the line of the file, not of the part" "$out" "parts.txt:7:1: "

printf '{"a": [1, }' > "$T/bad.json"
out=$("$CLI" template render "$T/bad.mustache" --data "$T/bad.json" 2>&1); rc=$?
expect_eq "bad context JSON exits 2" "$rc" 2
expect_match "naming its line and column" "$out" "bad.json:1:"

printf '{{x}}|{{{x}}}' > "$T/esc.mustache"
printf '{"x": "<a href=\\"q\\">&</a>"}' > "$T/esc.json"
out=$("$CLI" template render "$T/esc.mustache" --data "$T/esc.json" --escape html)
expect_eq "--escape html escapes {{x}} but not {{{x}}}" "$out" '&lt;a href=&quot;q&quot;&gt;&amp;&lt;/a&gt;|<a href="q">&</a>'
out=$("$CLI" template render "$T/esc.mustache" --data "$T/esc.json" --escape json)
expect_eq "--escape json makes a JSON string body" "$out" '<a href=\"q\">&</a>|<a href="q">&</a>'
out=$("$CLI" template render "$T/esc.mustache" --data "$T/esc.json")
expect_eq "the default escaper is none" "$out" '<a href="q">&</a>|<a href="q">&</a>'

printf '{{>sig}}' > "$T/main.mustache"
printf '—{{town.name}}' > "$T/sig.mustache"
out=$("$CLI" template render "$T/main.mustache" --data "$CTX" --partial "sig=$T/sig.mustache")
expect_eq "--partial NAME=FILE supplies a partial" "$out" "—石岐街道"

"$CLI" template render "$T/main.mustache" >/dev/null 2>&1
expect_eq "a missing --data is a usage error (2)" "$?" 2
"$CLI" template render --help >/dev/null; expect_eq "template render --help exits 0" "$?" 0
"$CLI" --help >/dev/null; expect_eq "scicast --help exits 0" "$?" 0
"$CLI" nonsense >/dev/null 2>&1; expect_eq "an unknown command exits 2" "$?" 2
done_testing
