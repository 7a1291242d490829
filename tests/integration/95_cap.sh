# CAP 1.2 both ways: every exported document validates against the OASIS
# schema; CAP taken in declares, updates and cancels, and comes out again
# with its identity; the real-world samples are taken or refused with 422
# naming the area; hostile XML is refused fast; the same alert twice
# declares once.
. "$(dirname "$0")/../lib.sh"
ZS="$SHARED/data/regions-zhongshan.csv"
XSD="$SHARED/spec/cap/CAP-v1.2.xsd"
need "$ZS" "the shared data folder must be beside the checkout (or set SCICAST_SHARED)"
need "$XSD" "the CAP schema is in shared/spec/cap"

broker_start
daemon_start
api POST /api/v1/regions/import "@$ZS" -H 'Content-Type: text/csv'
valid() { xmllint --noout --nonet --schema "$XSD" "$1" 2>"$T/xmllint.err"; }

# export: alert, update, cancel, drill
api POST /api/v1/emergencies '{"hazard":"typhoon","severity":"yellow","headline":"中山市台风黄色预警","description":"受台风影响，预计未来24小时风力加大。","instruction":"停止户外集体活动","area":["442000001000","442000002000"],"duration":"6h"}'
E=$(jqr .id)
api POST "/api/v1/emergencies/$E/revisions" '{"severity":"orange","headline":"中山市台风橙色预警"}'
api POST "/api/v1/emergencies/$E/cancel" '{"reason":"台风转向"}'
api POST /api/v1/emergencies '{"hazard":"rainstorm","severity":"red","headline":"暴雨红色预警（演练）","area":["442000001007"],"duration":"1h","exercise":true}'
D=$(jqr .id)
for r in 1 2 3; do curl -s "$URL/api/v1/emergencies/$E/revisions/$r/cap" > "$T/e$r.xml"; done
curl -s "$URL/api/v1/emergencies/$D/cap" > "$T/drill.xml"
for f in e1 e2 e3 drill; do
	if valid "$T/$f.xml"; then ok "the $f document validates against CAP-v1.2.xsd"; else
		fail "the $f document validates against CAP-v1.2.xsd"; diag "$(head -3 "$T/xmllint.err")"; fi
done
msgtypes=$(for f in e1 e2 e3; do sed -n 's:.*<msgType>\(.*\)</msgType>.*:\1:p' "$T/$f.xml"; done | tr '\n' ' ')
expect_eq "msgType follows the revisions" "$msgtypes" "Alert Update Cancel "
expect_eq "sent carries the +08:00 offset" "$(sed -n 's:.*<sent>\(.*\)</sent>.*:\1:p' "$T/e1.xml" | grep -c '+08:00$')" 1
id1=$(sed -n 's:.*<identifier>\(.*\)</identifier>.*:\1:p' "$T/e1.xml")
expect_match "the identifier is built from the sender's code and the time" "$id1" '^44200041600000_[0-9]{14}_'
expect_match "the cancel references the earlier revisions" "$(sed -n 's:.*<references>\(.*\)</references>.*:\1:p' "$T/e3.xml")" "$id1,"
expect_eq "one info in zh-CN and one in en-US" "$(sed -n 's:.*<language>\(.*\)</language>.*:\1:p' "$T/e1.xml" | tr '\n' ' ')" "zh-CN en-US "
expect_match "the Chinese headline is in the national form" "$(cat "$T/e1.xml")" "<headline>台风黄色预警\[Ⅲ级/较重\]</headline>"
expect_match "severity maps yellow to Moderate" "$(cat "$T/e1.xml")" "<severity>Moderate</severity>"
expect_eq "one area per region of the area, with the 12-digit geocode" \
	"$(grep -c '<valueName>CPEAS Geographic Code</valueName>' "$T/e1.xml")" 4
expect_match "the science notices are resources" "$(cat "$T/e1.xml")" "<uri>http://127.0.0.1:[0-9]+/library/typhoon-general-zh-1</uri>"
expect_match "a drill is status Exercise" "$(cat "$T/drill.xml")" "<status>Exercise</status>"

# the public feed and documents
api POST /api/v1/emergencies '{"hazard":"heat","severity":"orange","headline":"高温橙色预警","area":["442000001000"],"duration":"2h"}'
H=$(jqr .id)
feed=$(curl -q -s -D "$T/fh" "$URL/cap/feed.atom")
expect_match "the feed is Atom, public" "$(grep -i '^content-type' "$T/fh")" "application/atom\+xml"
expect_match "it lists the active alert, linking its CAP document" "$feed" "href=\"http://127.0.0.1:[0-9]+/cap/alerts/$H\""
check "but not the cancelled one or the drill" sh -c "! printf '%s' '$feed' | grep -q -e '/cap/alerts/$E\"' -e '/cap/alerts/$D\"'"
st=$(curl -q -s -o "$T/pub.xml" -D "$T/ph" -w '%{http_code}' "$URL/cap/alerts/$H")
expect_eq "the linked document is public" "$st" 200
expect_match "as application/cap+xml" "$(grep -i '^content-type' "$T/ph")" "application/cap\+xml"
check "and valid" valid "$T/pub.xml"
expect_eq "a drill's document is not public" "$(curl -q -s -o /dev/null -w '%{http_code}' "$URL/cap/alerts/$D")" 404

# ingest → export keeps identity, references, severity, areas and texts
now=$(date -u -d '+8 hours' +%Y-%m-%dT%H:%M:%S+08:00)
later=$(date -u -d '+14 hours' +%Y-%m-%dT%H:%M:%S+08:00)
cap_doc() { # identifier msgType severity references areas...
	_id=$1 _mt=$2 _sev=$3 _refs=$4; shift 4
	printf '<?xml version="1.0" encoding="UTF-8"?>\n<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
	printf '<identifier>%s</identifier><sender>gd-cpeas@weather.gov.cn</sender><sent>%s</sent>' "$_id" "$now"
	printf '<status>Actual</status><msgType>%s</msgType><scope>Public</scope>' "$_mt"
	[ -n "$_refs" ] && printf '<references>%s</references>' "$_refs"
	printf '<info><language>zh-CN</language><category>Met</category><event>暴雨</event>'
	printf '<urgency>Expected</urgency><severity>%s</severity><certainty>Likely</certainty>' "$_sev"
	printf '<expires>%s</expires><senderName>广东省气象台</senderName>' "$later"
	printf '<headline>广东省气象台发布暴雨预警</headline><description>预计未来6小时中山市将出现50毫米以上降雨。</description>'
	printf '<instruction>远离低洼地带，注意防范内涝。</instruction>'
	for a in "$@"; do
		printf '<area><areaDesc>%s</areaDesc><geocode><valueName>CPEAS Geographic Code</valueName><value>%s</value></geocode></area>' "$a" "$a"
	done
	printf '</info></alert>\n'
}
cap_doc 44000041600000_20261129100000 Alert Moderate "" 442000001000 442000002000 > "$T/in1.xml"
check "the test's own CAP is valid CAP" valid "$T/in1.xml"
api POST /api/v1/cap "@$T/in1.xml" -H 'Content-Type: application/cap+xml'
expect_eq "ingesting an alert declares: 201" "$STATUS" 201
I=$(jqr .id)
api GET "/api/v1/emergencies/$I"
expect_eq "as the hazard, colour and area the CAP said" "$(jqr '"\(.hazard) \(.severity) \(.area | join(","))"')" "rainstorm yellow 442000001000,442000002000"
expect_eq "with its texts" "$(jqr '.revisions[0] | "\(.headline)|\(.description)|\(.instruction)"')" \
	"广东省气象台发布暴雨预警|预计未来6小时中山市将出现50毫米以上降雨。|远离低洼地带，注意防范内涝。"
curl -s "$URL/api/v1/emergencies/$I/cap" > "$T/out1.xml"
expect_eq "exported again, it keeps the identifier" "$(sed -n 's:.*<identifier>\(.*\)</identifier>.*:\1:p' "$T/out1.xml")" 44000041600000_20261129100000
expect_eq "and the sender" "$(sed -n 's:.*<sender>\(.*\)</sender>.*:\1:p' "$T/out1.xml")" gd-cpeas@weather.gov.cn
expect_match "and the severity" "$(cat "$T/out1.xml")" "<severity>Moderate</severity>"
expect_eq "and the area codes" "$(sed -n 's:.*<value>\([0-9]\{12\}\)</value>.*:\1:p' "$T/out1.xml" | sort -u | tr '\n' ' ')" "442000001000 442000002000 "
expect_match "and the texts" "$(cat "$T/out1.xml")" "<description>预计未来6小时中山市将出现50毫米以上降雨。</description>"
refs="gd-cpeas@weather.gov.cn,44000041600000_20261129100000,$now"
cap_doc 44000041600000_20261129110000 Update Severe "$refs" 442000001000 > "$T/in2.xml"
api POST /api/v1/cap "@$T/in2.xml"
expect_eq "an Update referencing it is revision 2 of the same emergency" "$STATUS $(jqr .id) $(jqr .revision)" "201 $I 2"
curl -s "$URL/api/v1/emergencies/$I/cap" > "$T/out2.xml"
check "which exports valid" valid "$T/out2.xml"
expect_eq "with the upstream references kept" "$(sed -n 's:.*<references>\(.*\)</references>.*:\1:p' "$T/out2.xml")" "$refs"
expect_match "and the new severity" "$(cat "$T/out2.xml")" "<severity>Severe</severity>"
n=$(sqlite3 "$DB" "SELECT count(*) FROM deliveries WHERE emergency_id=$I")
api POST /api/v1/cap "@$T/in2.xml"
expect_eq "the same CAP twice: 200, the existing emergency" "$STATUS $(jqr .id) $(jqr .duplicate)" "200 $I true"
expect_eq "and nothing sent twice" "$(sqlite3 "$DB" "SELECT count(*) FROM deliveries WHERE emergency_id=$I")" "$n"
cap_doc 44000041600000_20261129120000 Cancel Severe "$refs gd-cpeas@weather.gov.cn,44000041600000_20261129110000,$now" 442000001000 > "$T/in3.xml"
api POST /api/v1/cap "@$T/in3.xml"
expect_eq "a Cancel cancels it" "$STATUS $(curl -s "$URL/api/v1/emergencies/$I" | jq -r .status)" "201 cancelled"
cap_doc 44000041600000_20261129130000 Alert Moderate "" 442000001000 442000999000 > "$T/in4.xml"
api POST /api/v1/cap "@$T/in4.xml"
expect_eq "an unknown geocode is 422 naming the area" "$STATUS $(jqr .error.field)" "422 info.area"
expect_match "and the code" "$(jqr .error.message)" "442000999000"
cap_doc 44000041600000_20261129140000 Update Moderate "x,nothing,$now" 442000001000 > "$T/in5.xml"
api POST /api/v1/cap "@$T/in5.xml"
expect_eq "an Update of something unknown is 422 naming references" "$STATUS $(jqr .error.field)" "422 references"
printf '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier></alert>' > "$T/short.xml"
api POST /api/v1/cap "@$T/short.xml"
expect_eq "invalid CAP is 422" "$STATUS" 422
expect_match "saying what the schema said" "$(jqr .error.message)" "not valid CAP 1.2: line 1"
api POST /api/v1/cap '<alert><unclosed>'
expect_eq "malformed XML is 400" "$STATUS $(jqr .error.code)" "400 bad_xml"

# the samples: taken, or refused with 422 naming the area; never a 500
for f in "$SHARED"/spec/cap/samples/*.xml; do
	api POST /api/v1/cap "@$f"
	name=$(basename "$f")
	case "$STATUS" in
	201) ok "sample $name is taken in" ;;
	422) expect_match "sample $name is refused with 422 naming the area it does not know" "$(jqr '.error.field + " " + .error.message')" '^info\.area area ' ;;
	*) fail "sample $name: $STATUS"; diag "$BODY" ;;
	esac
done

# hostile XML: refused fast, memory small
xxe='<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY x SYSTEM "file:///etc/passwd">]><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&x;</identifier></alert>'
lol='<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;"><!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"><!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;"><!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol9;</identifier></alert>'
rss_before=$(awk '/VmRSS/ {print $2}' /proc/$DPID/status)
for doc in "$xxe" "$lol"; do
	t0=$(date +%s%3N)
	api POST /api/v1/cap "$doc"
	t1=$(date +%s%3N)
	expect_eq "a document with a DTD or entities is refused with 400 ($((t1 - t0)) ms)" "$STATUS" 400
	check "quickly" [ $((t1 - t0)) -lt 2000 ]
done
check "without a word of /etc/passwd" sh -c "! grep -q root: '$T/body'"
rss_after=$(awk '/VmRSS/ {print $2}' /proc/$DPID/status)
diag "scicastd RSS ${rss_before} kB before, ${rss_after} kB after the hostile documents"
check "and memory stays small" [ $((rss_after - rss_before)) -lt 20000 ]
head -c 2000000 /dev/zero | tr '\0' 'x' > "$T/huge.xml"
api POST /api/v1/cap "@$T/huge.xml"
expect_eq "a body over the limit is 413" "$STATUS" 413
daemon_stop
check "no sanitizer report" daemon_log_clean
done_testing
