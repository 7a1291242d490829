# scicastd's command line and configuration: help, version, validation at
# start with file:line, environment overrides, refusals that say why.
. "$(dirname "$0")/../lib.sh"

out=$("$SCICASTD" --help 2>&1); rc=$?
expect_eq "--help exits 0" "$rc" 0
expect_match "--help lists the commands" "$out" "import-regions FILE"
out=$("$SCICASTD" --version); expect_match "--version prints it" "$out" "^scicastd [0-9]+\.[0-9]+"
"$SCICASTD" --bogus >/dev/null 2>&1; expect_eq "an unknown option exits 2" "$?" 2
out=$("$SCICASTD" frobnicate 2>&1); rc=$?
expect_eq "an unknown command exits 2" "$rc" 2
expect_match "and says which" "$out" 'unknown command "frobnicate"'

# the shipped config is valid
export SCICAST_STORE_PATH="$T/ok.db"
out=$("$SCICASTD" -c "$TOP/config/scicast.conf" --check-config 2>&1); rc=$?
expect_eq "the shipped config passes --check-config" "$rc" 0
expect_match "and says so" "$out" "configuration OK"

# an unknown key names the file and the line
cat > "$T/bad.conf" <<'CONF'
[store]
path = /tmp/x.db

[http]
listen = 127.0.0.1:8080
listne = 127.0.0.1:9090
CONF
out=$(SCICAST_STORE_PATH= "$SCICASTD" -c "$T/bad.conf" --check-config 2>&1); rc=$?
expect_eq "an unknown key exits 2" "$rc" 2
expect_match "an unknown key is reported as file:line" "$out" "$T/bad.conf:6: unknown key \"listne\" in \[http\]"

printf '[mqtt]\nprotocol = 4\n' > "$T/proto.conf"
out=$("$SCICASTD" -c "$T/proto.conf" check-config 2>&1); rc=$?
expect_eq "a bad value exits 2" "$rc" 2
expect_match "a bad value is reported with file:line and what is allowed" "$out" "proto.conf:2: \[mqtt\] protocol: \"4\" is not 3.1.1 or 5"

printf '[nosuch]\nkey = 1\n' > "$T/sect.conf"
out=$("$SCICASTD" -c "$T/sect.conf" check-config 2>&1)
expect_match "an unknown section is named" "$out" "sect.conf:2: unknown section \[nosuch\]"

printf '[policy.red]\ntiers = city, hamlet\n' > "$T/tiers.conf"
out=$("$SCICASTD" -c "$T/tiers.conf" check-config 2>&1)
expect_match "a bad policy level is named" "$out" "tiers.conf:2: .*unknown level \"hamlet\""

printf '[http]\nthis is not ini\n' > "$T/syntax.conf"
out=$("$SCICASTD" -c "$T/syntax.conf" check-config 2>&1); rc=$?
expect_eq "a syntax error exits 2" "$rc" 2
expect_match "a syntax error names its line" "$out" "syntax.conf:2: "

out=$("$SCICASTD" -c "$T/missing.conf" check-config 2>&1); rc=$?
expect_eq "a missing config file exits 2" "$rc" 2
expect_match "and names it" "$out" "missing.conf: No such file"

# the environment wins over the file, and is validated the same way
out=$(SCICAST_MQTT_PROTOCOL=7 "$SCICASTD" -c "$TOP/config/scicast.conf" check-config 2>&1); rc=$?
expect_eq "a bad environment value exits 2" "$rc" 2
expect_match "and names the variable" "$out" "environment SCICAST_MQTT_PROTOCOL: \"7\" is not 3.1.1 or 5"
out=$(SCICAST_HTTP_LISTNE=1 "$SCICASTD" -c "$TOP/config/scicast.conf" check-config 2>&1)
expect_match "a misspelt variable is warned about" "$out" "ignoring environment variable SCICAST_HTTP_LISTNE"

# the database: cannot be opened, newer schema
out=$(SCICAST_STORE_PATH=/nonexistent/dir/x.db "$SCICASTD" -c "$TOP/config/scicast.conf" check-config 2>&1); rc=$?
expect_eq "a database that cannot be opened exits 1" "$rc" 1
expect_match "and says why" "$out" "cannot open database /nonexistent/dir/x.db: directory /nonexistent/dir"
"$SCICASTD" -c "$TOP/config/scicast.conf" check-config >/dev/null 2>&1
sqlite3 "$T/ok.db" "INSERT INTO schema_migrations VALUES (999, 'from the future', 0)"
out=$("$SCICASTD" -c "$TOP/config/scicast.conf" check-config 2>&1); rc=$?
expect_eq "a newer schema is refused" "$rc" 1
expect_match "with a clear message" "$out" "schema version 999, newer than this scicastd knows"

# the port is taken: a clear refusal
unset SCICAST_STORE_PATH
daemon_start first
port=${URL##*:}
out=$(SCICAST_STORE_PATH="$T/second.db" SCICAST_HTTP_LISTEN="127.0.0.1:$port" \
	timeout 20 "$SCICASTD" -c "$TOP/config/scicast.conf" 2>&1); rc=$?
expect_eq "a second daemon on a taken port exits 1" "$rc" 1
expect_match "and says the address is in use" "$out" "cannot listen on 127.0.0.1:$port: Address already in use"
daemon_stop; rc=$?
expect_eq "SIGTERM stops the daemon with status 0" "$rc" 0
check "the log says it stopped" grep -q "stopped" "$DLOG"
check "no sanitizer report" daemon_log_clean

# SIGHUP reloads the log level from the file
cp "$TOP/config/scicast.conf" "$T/reload.conf"
sed -i "s|^share = ..|share = $TOP|" "$T/reload.conf"
DB="$T/reload.db"
HTTP_PORT=$(freeport); URL="http://127.0.0.1:$HTTP_PORT"; DLOG="$T/reload.log"
SCICAST_STORE_PATH="$DB" SCICAST_HTTP_LISTEN="127.0.0.1:$HTTP_PORT" "$SCICASTD" -c "$T/reload.conf" >> "$DLOG" 2>&1 &
DPID=$!; PIDS="$PIDS $DPID"
wait_for 150 curl -sf "$URL/healthz"
sed -i 's/^level = info/level = debug/' "$T/reload.conf"
kill -HUP "$DPID"
check "SIGHUP reloads the log level" wait_for 50 grep -q "log level debug" "$DLOG"
curl -s "$URL/healthz" >/dev/null
check "the new level is in effect (reads are logged at debug)" wait_for 20 grep -q "GET /healthz 200" "$DLOG"
sed -i 's/^level = debug/level = loud/' "$T/reload.conf"
kill -HUP "$DPID"
check "a bad reload is refused and the daemon keeps running" wait_for 50 grep -q "reload refused" "$DLOG"
check "it still answers" curl -sf "$URL/healthz"
daemon_stop

# the docs are generated from the same tables the code uses
"$SCICASTD" config-doc > "$T/config-keys.md"
missing=0
while IFS= read -r line; do
	grep -qxF -- "$line" "$TOP/docs/config.md" || { missing=1; diag "not in docs/config.md: $line"; }
done < "$T/config-keys.md"
expect_eq "every line of 'scicastd config-doc' is in docs/config.md" "$missing" 0
"$SCICASTD" routes > "$T/routes.md"
missing=0
while IFS= read -r line; do
	grep -qxF -- "$line" "$TOP/docs/api.md" || { missing=1; diag "not in docs/api.md: $line"; }
done < "$T/routes.md"
expect_eq "every route of 'scicastd routes' is in docs/api.md" "$missing" 0

done_testing
