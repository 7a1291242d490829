#!/bin/sh
# Installs the Debian packages scicast builds, runs and tests with, if any
# is missing. apt-get update runs only when something has to be installed.
# As root it runs apt-get directly; otherwise through sudo.
set -eu

# clang and its runtime: make fuzz; rabbitmq-server: the second broker
# pass of make test; chromium: the console's browser test; valgrind: make
# valgrind; wrk: bench/api
PACKAGES="gcc make pkg-config ca-certificates
libcurl4-openssl-dev libmosquitto-dev libsqlite3-dev libmicrohttpd-dev
libjansson-dev libxml2-dev libssl-dev libinih-dev libcmocka-dev
clang libclang-rt-14-dev
mosquitto mosquitto-clients rabbitmq-server sqlite3 curl jq procps libxml2-utils
chromium fonts-noto-cjk valgrind wrk"

# Node.js runs the browser tests; any install of it will do (the machine
# may have one from elsewhere), else Debian's
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	PACKAGES="$PACKAGES nodejs npm"
fi

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "deps: missing packages:$missing; run as root or install sudo" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
