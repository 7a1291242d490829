# Regions: import (CLI and HTTP), all or nothing with every bad line named,
# re-import changes nothing, and the tree as the API shows it.
. "$(dirname "$0")/../lib.sh"
ZS="$SHARED/data/regions-zhongshan.csv"
need "$ZS" "the shared data folder must be beside the checkout (or set SCICAST_SHARED)"

export SCICAST_STORE_PATH="$T/cli.db"
conf="$TOP/config/scicast.conf"
out=$("$SCICASTD" -c "$conf" import-regions "$ZS" 2>&1); rc=$?
expect_eq "import-regions exits 0" "$rc" 0
expect_match "and counts what it did" "$out" "303 inserted, 0 updated, 0 unchanged"
fp=$(db_fingerprint "$T/cli.db")
out=$("$SCICASTD" -c "$conf" import-regions "$ZS" 2>&1)
expect_match "re-importing the same file changes nothing" "$out" "0 inserted, 0 updated, 303 unchanged"
expect_eq "the database is byte-for-byte the same after a re-import" "$(db_fingerprint "$T/cli.db")" "$fp"

# one file with three kinds of bad rows, among good ones
{
	echo "code,name,level,parent_code"
	echo "442000001999,新社区,village,442000001000"
	echo "44200000199,短码社区,village,442000001000"
	echo "442000999001,孤儿村,village,442000999000"
	echo "442000001998,村下村,village,442000001007"
	echo "442000002998,好村,village,442000002000"
} > "$T/bad.csv"
out=$("$SCICASTD" -c "$conf" import-regions "$T/bad.csv" 2>&1); rc=$?
expect_eq "a file with bad rows exits non-zero" "$rc" 1
expect_match "the 11-digit code is named with its line" "$out" "line 3: code \"44200000199\" is not 12 digits"
expect_match "the unknown parent is named with its line" "$out" "line 4: parent 442000999000 is neither in the file nor in the database"
expect_match "the village under a village is named with its line" "$out" "line 5: a village cannot be under a village"
expect_eq "nothing of the bad file was imported" "$(db_fingerprint "$T/cli.db")" "$fp"
expect_eq "not even its good rows" "$(sqlite3 "$T/cli.db" "SELECT count(*) FROM regions WHERE code IN ('442000001999','442000002998')")" 0

printf 'code,name,level,parent_code\n442000001997,"带,逗号社区",village,442000001000\n' > "$T/quoted.csv"
out=$("$SCICASTD" -c "$conf" import-regions "$T/quoted.csv" 2>&1)
expect_match "quoted CSV fields are understood" "$out" "1 inserted"
expect_eq "with the comma kept" "$(sqlite3 "$T/cli.db" "SELECT name FROM regions WHERE code='442000001997'")" "带,逗号社区"

printf 'id,name\n1,x\n' > "$T/header.csv"
out=$("$SCICASTD" -c "$conf" import-regions "$T/header.csv" 2>&1)
expect_match "a wrong header is named" "$out" "line 1: expected the header line code,name,level,parent_code"

# the same over HTTP
unset SCICAST_STORE_PATH
daemon_start
api POST /api/v1/regions/import "@$ZS" -H 'Content-Type: text/csv'
expect_eq "POST /api/v1/regions/import answers 200" "$STATUS" 200
expect_eq "and counts the rows" "$(jqr .inserted)" 303
fp=$(db_fingerprint "$DB")
api POST /api/v1/regions/import "@$T/bad.csv" -H 'Content-Type: text/csv'
expect_eq "a bad file over HTTP is 422" "$STATUS" 422
expect_eq "with the standard error body" "$(jqr .error.code)" invalid
expect_eq "naming each bad line" "$(jqr '[.error.details[].line] | join(",")')" "3,4,5"
expect_eq "and the database is unchanged" "$(db_fingerprint "$DB")" "$fp"
api POST /api/v1/regions/import "@$ZS" -H 'Content-Type: text/csv'
expect_eq "re-import over HTTP: all unchanged" "$(jqr '[.inserted,.updated,.unchanged]|join(",")')" "0,0,303"

# what the API shows matches the file
towns=$(awk -F, '$3=="town"' "$ZS" | wc -l)
villages=$(awk -F, '$3=="village"' "$ZS" | wc -l)
api GET /api/v1/regions/442000000000
expect_eq "GET a region: 200" "$STATUS" 200
expect_eq "Zhongshan is named" "$(jqr .name)" "中山市"
expect_eq "its towns are its children" "$(jqr '.children | length')" "$towns"
expect_eq "its village count matches the file" "$(jqr .village_count)" "$villages"
expect_eq "the towns' village counts add up" "$(jqr '[.children[].village_count] | add')" "$villages"
expect_eq "its topic is the prefix and its code" "$(jqr .topic)" "scicast/v1/alerts/442000000000"
town_villages=$(awk -F, '$4=="442000001000"' "$ZS" | wc -l)
api GET /api/v1/regions/442000001000
expect_eq "a town's villages" "$(jqr .village_count)" "$town_villages"
expect_eq "a town's ancestors" "$(jqr '[.ancestors[].code]|join(",")')" "442000000000"
api GET /api/v1/regions/442000001007
expect_eq "a village's topic runs from the root" "$(jqr .topic)" "scicast/v1/alerts/442000000000/442000001000/442000001007"
expect_eq "a village's ancestors" "$(jqr '[.ancestors[].name]|join("/")')" "中山市/石岐街道"
api GET /api/v1/regions/442000009999
expect_eq "an unknown region is 404" "$STATUS" 404
expect_eq "with the standard error body" "$(jqr .error.code)" not_found
api GET /api/v1/regions/abc
expect_eq "a malformed code is 404" "$STATUS" 404
api GET "/api/v1/regions?parent=442000000000&level=town&limit=5"
expect_eq "list by parent and level" "$(jqr '[.total, (.items|length)]|join(",")')" "$towns,5"
api GET "/api/v1/regions?q=%E7%9F%B3%E5%B2%90"
expect_match "search by name" "$(jqr '.items[].name')" "石岐街道"
api GET "/api/v1/regions?level=hamlet"
expect_eq "a bad level filter is 400" "$STATUS" 400
expect_eq "naming the parameter" "$(jqr .error.field)" level
daemon_stop
check "no sanitizer report" daemon_log_clean

done_testing
