#!/bin/sh
# `make run`: a private mosquitto on loopback and scicastd with the
# Zhongshan demo data, in the foreground. Ctrl-C stops both.
# Settings: SCICAST_HTTP_LISTEN (default 127.0.0.1:8080), MQTT_PORT (1884),
# SHARED (../shared). State lives in var/ (not in git).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
shared=${SHARED:-$top/../shared}
var="$top/var"
mqtt_port=${MQTT_PORT:-1884}
listen=${SCICAST_HTTP_LISTEN:-127.0.0.1:8080}
mkdir -p "$var/mosquitto"
chmod 700 "$var"

sed -e "s|@PORT@|$mqtt_port|" -e "s|@DIR@|$var/mosquitto|" -e "s|@USER@|$(id -un)|" \
	config/mosquitto.conf > "$var/mosquitto/mosquitto.conf"
mosquitto -c "$var/mosquitto/mosquitto.conf" &
broker=$!
daemon=""
stop() {
	trap - INT TERM EXIT
	[ -n "$daemon" ] && kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	kill -TERM "$broker" 2>/dev/null && wait "$broker" 2>/dev/null
	echo "make run: stopped"
}
trap stop INT TERM EXIT
sleep 0.3
if ! kill -0 "$broker" 2>/dev/null; then
	echo "make run: mosquitto did not start (port $mqtt_port taken? set MQTT_PORT)" >&2
	tail -5 "$var/mosquitto/mosquitto.log" >&2 || true
	exit 1
fi

export SCICAST_STORE_PATH="$var/scicast.db"
export SCICAST_HTTP_LISTEN="$listen"
export SCICAST_MQTT_PORT="$mqtt_port"
conf="$top/config/scicast.conf"

regions="$shared/data/regions-zhongshan.csv"
if [ -f "$regions" ]; then
	build/scicastd -c "$conf" import-regions "$regions"
else
	echo "make run: $regions not found; starting without the Zhongshan demo data (set SHARED=…)" >&2
fi

# a demo admin token, kept in a 0600 file outside git; made again if the
# database no longer knows it
tokfile="$var/admin.token"
umask 077
if [ -s "$tokfile" ] && build/scicastd -c "$conf" token list 2>/dev/null |
	awk -v p="$(cut -c1-8 "$tokfile")" '$4 == "active" && index($5, p) == 1 {f=1} END {exit !f}'; then
	:
else
	build/scicastd -c "$conf" token create --role admin --name demo-admin > "$tokfile"
fi
umask 022

build/scicastd -c "$conf" run &
daemon=$!
url="http://$listen"
i=0
until curl -sf "$url/healthz" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$daemon" 2>/dev/null; then
		echo "make run: scicastd did not start (see its log above)" >&2
		exit 1
	fi
	sleep 0.1
done
cat <<MSG

  scicast is running.
    console  $url/   (sign in with the token below)
    API      $url/api/v1/
    token    $(cat "$tokfile")   (admin; kept in $tokfile)
             try: curl -s -H "Authorization: Bearer \$(cat $tokfile)" $url/api/v1/regions/442000000000 | jq
    health   $url/healthz
    metrics  $url/metrics
    CLI      SCICAST_TOKEN=\$(cat $tokfile) build/scicast list
    screen   build/scicast-screen --broker 127.0.0.1:$mqtt_port --region 442000001007   (a village screen)
    MQTT     127.0.0.1:$mqtt_port  (mosquitto_sub -p $mqtt_port -t 'scicast/v1/#' -v)
    data     $var
  Ctrl-C stops scicastd and the broker.

MSG
wait "$daemon" || true
daemon=""
