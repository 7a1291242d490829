#!/bin/sh
# Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/:
# small, real inputs from the checkout (templates/, library/, the request
# bodies the integration tests send) and from ../shared (the mustache spec,
# CAP samples, the Zhongshan regions). The corpus is committed; run this
# again only to refresh it. Without ../shared (or $SCICAST_SHARED) the
# shared seeds are skipped, and the script says so.
#   tests/fuzz/seed-corpus.sh
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
shared=${SCICAST_SHARED:-$top/../shared}
c=$top/tests/fuzz/corpus
cd "$top"

# seed NAME FILE-NAME TEXT — one seed, as given (printf %s: no newline)
seed() { mkdir -p "$c/$1"; printf '%s' "$3" > "$c/$1/$2"; }

# ---- mustache: the shipped templates, whole (their [part] lines are text
# to the compiler), and every spec test as template NUL {data, partials}
mkdir -p "$c/mustache"
for f in templates/_default/*.txt templates/typhoon/village.*.txt \
	 templates/rainstorm/town.zh-CN.txt templates/heat/city.en.txt; do
	cp "$f" "$c/mustache/tpl-$(echo "$f" | tr '/' '-' | sed 's/^templates-//')"
done
if [ -d "$shared/spec/mustache" ] && command -v jq >/dev/null 2>&1; then
	for f in "$shared"/spec/mustache/*.json; do
		base=$(basename "$f" .json)
		n=$(jq '.tests | length' "$f")
		i=0
		while [ "$i" -lt "$n" ]; do
			out="$c/mustache/spec-$base-$i"
			jq -j ".tests[$i].template" "$f" > "$out"
			printf '\0' >> "$out"
			jq -c "{data: .tests[$i].data, partials: (.tests[$i].partials // {})}" \
				"$f" | tr -d '\n' >> "$out"
			i=$((i + 1))
		done
	done
else
	echo "seed-corpus: $shared/spec/mustache (or jq) is missing: no mustache spec seeds" >&2
fi
seed mustache deep '{{#a}}{{#a}}{{#a}}{{#a}}{{.}}{{/a}}{{/a}}{{/a}}{{/a}}{{>self}}'
seed mustache delims '{{=<% %>=}}<%list%><%={{ }}=%>{{{nested.a.b}}}{{&ls}}'
seed mustache list '{{#list}}[{{.}}{{a}}]{{/list}}{{^none}}none{{/none}}{{! c }}'

# ---- declare: the bodies the API is sent (dry runs and revisions)
seed declare typhoon '{"hazard":"typhoon","severity":"yellow","headline":"中山市台风黄色预警","area":["442000001000","442000002000"],"duration":"6h"}'
seed declare drill '{"hazard":"rainstorm","severity":"red","headline":"暴雨红色预警（演练）","area":["442000001007"],"duration":"1h","exercise":true}'
seed declare full '{"hazard":"heat","severity":"orange","headline":"高温橙色预警","description":"预计未来24小时最高气温将升至37℃以上。","instruction":"减少户外活动","area":["442000000000"],"duration":"2d","locale":"en"}'
# a fixed time is more than 30 days away (or past) once the seed is old:
# refused, but through the parser
seed declare expires '{"hazard":"flood","severity":"blue","headline":"x","area":["442000002001"],"expires_at":"2030-01-01T10:00:00.5+0800"}'
seed declare revise '{"severity":"orange","area":["442000001000"]}'
seed declare headline '{"headline":"x","duration":"30m"}'
seed declare bad '{"hazard":"volcano","severity":"purple","headline":"","area":["44200000100"],"duration":"0s"}'

# ---- template_save: create, update, rollback bodies and template files
seed template_save create '{"hazard":"fog","tier":"village","locale":"zh-CN","title":"大雾预警","body":"{{region.short_name}}：大雾，注意交通安全。","tts":"大雾预警"}'
seed template_save update '{"version":1,"title":"{{emergency.headline}}","body":"{{#emergency.is_alert}}{{town.name}}{{/emergency.is_alert}}{{#notice}}{{notice.summary}}{{/notice}}","comment":"fuzz"}'
seed template_save rollback '{"to_version":1,"version":1,"comment":"back"}'
seed template_save broken '{"hazard":"*","tier":"town","locale":"en","title":"{{#x}}","body":"b","tts":"t"}'
cp templates/typhoon/village.zh-CN.txt "$c/template_save/file-typhoon-village.zh-CN.txt"
cp templates/_default/town.en.txt "$c/template_save/file-default-town.en.txt"

# ---- cap: documents scicast takes in (no <expires>: the default
# duration keeps them valid whatever the date), and the real samples
# small enough for a fuzzer's max_len
cap() { # name identifier status msgType references
	_refs=""
	[ -n "$5" ] && _refs="<references>$5</references>"
	seed cap "$1" "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"><identifier>$2</identifier><sender>fuzz@example.org</sender><sent>2026-11-29T10:00:00+08:00</sent><status>$3</status><msgType>$4</msgType><scope>Public</scope>$_refs<note>台风转向</note><info><language>zh-CN</language><category>Met</category><event>暴雨</event><urgency>Expected</urgency><severity>Severe</severity><certainty>Likely</certainty><senderName>广东省气象台</senderName><headline>广东省气象台发布暴雨预警</headline><description>预计未来6小时中山市将出现50毫米以上降雨。</description><instruction>远离低洼地带。</instruction><area><areaDesc>石岐街道</areaDesc><geocode><valueName>CPEAS Geographic Code</valueName><value>442000001000</value></geocode></area><area><areaDesc>桂园社区</areaDesc><geocode><valueName>x</valueName><value>442000001007</value></geocode></area></info></alert>
"
}
cap alert fuzz-2 Actual Alert ""
cap exercise fuzz-3 Exercise Alert ""
cap update fuzz-4 Actual Update "fuzz@example.org,fuzz-seed-1,2026-11-29T10:00:00+08:00"
cap cancel fuzz-5 Actual Cancel "fuzz@example.org,fuzz-seed-1,2026-11-29T10:00:00+08:00"
cap again fuzz-seed-1 Actual Alert ""
seed cap doctype '<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY a "aaaa">]><alert>&a;</alert>'
if [ -d "$shared/spec/cap/samples" ]; then
	for f in meteoalarm-france-vigilance.xml seychelles-signed.xml australia-nsw-rfs.xml; do
		cp "$shared/spec/cap/samples/$f" "$c/cap/sample-$f"
	done
else
	echo "seed-corpus: $shared/spec/cap/samples is missing: no CAP sample seeds" >&2
fi

# ---- regions_csv: the head of the Zhongshan file, and the shapes the
# parser has to tell apart (quotes, BOM, CRLF, a move, bad rows)
mkdir -p "$c/regions_csv"
if [ -f "$shared/data/regions-zhongshan.csv" ]; then
	head -n 25 "$shared/data/regions-zhongshan.csv" > "$c/regions_csv/zhongshan-head.csv"
else
	echo "seed-corpus: $shared/data/regions-zhongshan.csv is missing: no Zhongshan seed" >&2
fi
seed regions_csv quoted 'code,name,level,parent_code
442000003000,"东区,""新""街道",town,442000000000
442000003001,"村",village,442000003000
'
printf '\357\273\277code,name,level,parent_code\r\n442000001000,石岐区,town,442000000000\r\n' \
	> "$c/regions_csv/bom-crlf"
seed regions_csv move 'code,name,level,parent_code
442000001007,桂园社区居民委员会,village,442000002000
442000002000,东区街道,county,442000000000
'
seed regions_csv bad 'code,name,level,parent_code
44200000199,坏,village,442000001000
442000001099,,hamlet,442000001099
442000001098,x"y,village
'

# ---- library: lines of the shipped library, an update of one, bad lines
mkdir -p "$c/library"
head -n 2 library/typhoon.jsonl > "$c/library/typhoon-2.jsonl"
head -n 1 library/heat.jsonl > "$c/library/heat-1.jsonl"
head -n 1 library/flood.jsonl | sed 's/"priority": *[0-9]*/"priority": 7/' > "$c/library/flood-changed.jsonl"
seed library new '{"id":"fuzz-general-en-1","hazard":"fire","audience":"general","locale":"en","title":"Fire","summary":"Leave early.","text":"Go.","keywords":["fire","smoke"],"authority":"x","priority":5,"updated":"2024-02-29"}
'
seed library bad '{"id":"Bad Id","hazard":"fire"}
not json
{"id":"a","id":"b"}
'

# ---- ack: region line, then the payload a screen publishes
seed ack displayed '442000001007
{"message_id":"e1-r1-442000001007","status":"displayed"}'
seed ack received '442000001007
{"message_id":"e12-r3-442000001007","status":"received","screen_id":"s1","at":"2026-11-29T10:00:00+08:00"}'
seed ack bad-region '44200000100x
{"message_id":"x","status":"played"}'
seed ack bad-status '442000001007
{"message_id":"","status":"seen"}'

echo "seed-corpus: $(find "$c" -type f | wc -l) seeds in $(find "$c" -mindepth 1 -maxdepth 1 -type d | wc -l) corpora"
