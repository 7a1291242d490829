#!/bin/sh
# rabbitmq.sh: a private RabbitMQ for the MQTT integration tests
# (BROKER=rabbitmq): its own node name, epmd, ports, Erlang cookie, data and
# logs, all in one folder, with only the MQTT plugin (MQTT 3.1.1) and the
# AMQP listener off. Never the system service: Debian's rabbitmq-server
# package must be installed, its service need not run.
#   rabbitmq.sh start DIR       start a node in DIR (10 to 30 s: start it
#                               once per test run); DIR/env then says where
#                               it is (RMQ_MQTT_PORT, RMQ_NODE, …)
#   rabbitmq.sh vhost DIR NAME  a fresh virtual host NAME, and the MQTT port
#                               mapped to it: a test starts with no retained
#                               message and no session of an earlier test
#   rabbitmq.sh drop DIR NAME   delete the virtual host NAME
#   rabbitmq.sh down DIR        the broker stops (the MQTT listener closes,
#                               every connection drops), the node stays
#   rabbitmq.sh up DIR          and starts again, retained messages and
#                               sessions kept: a broker restart in seconds
#   rabbitmq.sh stop DIR        stop the node and its epmd
# FREEPORT names the freeport tool (default build/asan/tools/freeport).
set -u
usage="usage: rabbitmq.sh start|vhost|drop|down|up|stop DIR [NAME]"
cmd=${1:?$usage}
dir=${2:?$usage}
top=$(cd "$(dirname "$0")/../.." && pwd)
RMQ_BIN=${RABBITMQ_BIN:-/usr/lib/rabbitmq/bin}
FREEPORT=${FREEPORT:-$top/build/asan/tools/freeport}
USER_TAG='<<"scicast-tests">>'

say() { echo "rabbitmq.sh: $*" >&2; }

# Erlang expressions run on the node through erl_call (a rabbitmqctl
# call would start a VM of its own: seconds each). True when the last
# expression's value is ok.
rmq_eval() {
	_r=$(printf '%s\n' "$1" | ERL_EPMD_PORT=$RMQ_EPMD_PORT erl_call \
		-sname "$RMQ_NODE" -c "$(cat "$dir/.erlang.cookie")" -timeout 120 -e 2>&1)
	case $_r in "{ok, ok}" | "{ok,ok}") return 0 ;; esac
	say "on $RMQ_NODE: $1"; say "  -> $_r"
	return 1
}

# Waits until the MQTT listener takes a connection, up to $1 tenths of a
# second; false at once if the node is gone.
wait_mqtt() {
	_n=$1
	until mosquitto_pub -h 127.0.0.1 -p "$RMQ_MQTT_PORT" -t scicast/test/ping \
		-m x >/dev/null 2>&1; do
		_s=$(cat "$dir/server.pid" 2>/dev/null)
		if [ -z "$_s" ] || ! kill -0 "$_s" 2>/dev/null; then
			say "the node stopped"; return 1
		fi
		_n=$((_n - 1))
		[ "$_n" -gt 0 ] || { say "no MQTT listener on port $RMQ_MQTT_PORT"; return 1; }
		sleep 0.1
	done
}

show_logs() {
	say "its output ($dir/server.out) and log:"
	tail -n 30 "$dir/server.out" 2>/dev/null | sed 's/^/    /' >&2
	tail -n 30 "$dir"/log/*.log 2>/dev/null | sed 's/^/    /' >&2
}

load_env() {
	[ -f "$dir/env" ] || { say "no node in $dir (rabbitmq.sh start $dir)"; exit 1; }
	. "$dir/env"
}

start() {
	if [ ! -x "$RMQ_BIN/rabbitmq-server" ] || ! command -v erl_call >/dev/null ||
	   ! command -v epmd >/dev/null; then
		say "RabbitMQ is not installed: no $RMQ_BIN/rabbitmq-server, erl_call" \
			"or epmd (Debian package rabbitmq-server; 'make deps' installs it)"
		exit 1
	fi
	[ -x "$FREEPORT" ] || { say "no $FREEPORT: make test-build"; exit 1; }
	mkdir -p "$dir" && dir=$(cd "$dir" && pwd) || exit 1
	# three distinct free ports: epmd, Erlang distribution, MQTT
	ep=$("$FREEPORT"); dp=$("$FREEPORT"); mp=$("$FREEPORT")
	while [ "$dp" = "$ep" ]; do dp=$("$FREEPORT"); done
	while [ "$mp" = "$ep" ] || [ "$mp" = "$dp" ]; do mp=$("$FREEPORT"); done
	node="scicast-test-$$@localhost"
	cat > "$dir/env" <<-EOF
		RMQ_DIR='$dir'
		RMQ_NODE='$node'
		RMQ_EPMD_PORT=$ep
		RMQ_DIST_PORT=$dp
		RMQ_MQTT_PORT=$mp
	EOF
	. "$dir/env"
	cat > "$dir/rabbitmq.conf" <<-EOF
		# Written by tests/tools/rabbitmq.sh: a test broker on 127.0.0.1,
		# MQTT only (3.1.1), anyone may connect (as guest).
		listeners.tcp = none
		mqtt.listeners.tcp.default = 127.0.0.1:$mp
		mqtt.allow_anonymous = true
		mqtt.default_user = guest
		mqtt.default_pass = guest
		mqtt.vhost = /
		# a subscriber that takes the whole alert prefix gets one message
		# per village in a burst (config/mosquitto.conf raises its limits
		# for the same reason)
		mqtt.prefetch = 1000
		# retained alerts survive a broker restart, as with mosquitto's
		# persistence
		mqtt.retained_message_store = rabbit_mqtt_retained_msg_store_dets
		disk_free_limit.absolute = 10MB
		log.console = false
		log.file.level = info
	EOF
	echo '[rabbitmq_mqtt].' > "$dir/enabled_plugins"
	: > "$dir/rabbitmq-env.conf"   # not /etc/rabbitmq's
	# an Erlang cookie of its own (HOME is DIR)
	od -An -N18 -tx1 /dev/urandom | tr -d ' \n' > "$dir/.erlang.cookie"
	chmod 400 "$dir/.erlang.cookie"

	epmd -port "$ep" -address 127.0.0.1 > "$dir/epmd.log" 2>&1 < /dev/null &
	echo $! > "$dir/epmd.pid"
	_n=50
	until ERL_EPMD_PORT=$ep epmd -names >/dev/null 2>&1; do
		_n=$((_n - 1))
		[ "$_n" -gt 0 ] || { say "epmd did not start on port $ep"; cat "$dir/epmd.log" >&2; stop; exit 1; }
		sleep 0.1
	done

	(
		export HOME="$dir" ERL_EPMD_PORT="$ep" RABBITMQ_NODENAME="$node" \
			RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_DIST_PORT="$dp" \
			RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf" \
			RABBITMQ_CONFIG_FILE="$dir/rabbitmq" \
			RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config" \
			RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
			RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" \
			RABBITMQ_PID_FILE="$dir/beam.pid" \
			RABBITMQ_PLUGINS_EXPAND_DIR="$dir/plugins-expand" \
			RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
		unset RABBITMQ_USE_LONGNAME RABBITMQ_ALLOW_INPUT
		exec "$RMQ_BIN/rabbitmq-server"
	) > "$dir/server.out" 2>&1 < /dev/null &
	echo $! > "$dir/server.pid"
	if ! wait_mqtt 1800; then
		say "RabbitMQ did not start (node $node, MQTT port $mp)"
		show_logs
		stop
		exit 1
	fi
}

stop() {
	[ -f "$dir/env" ] && . "$dir/env"
	_b=$(cat "$dir/beam.pid" 2>/dev/null)
	_s=$(cat "$dir/server.pid" 2>/dev/null)
	# SIGTERM: the node shuts down in order; the wrapper script follows it
	if [ -n "$_b" ] && kill -0 "$_b" 2>/dev/null; then
		kill -TERM "$_b"
	elif [ -n "$_s" ]; then
		kill -TERM "$_s" 2>/dev/null
	fi
	_n=200
	while [ "$_n" -gt 0 ] && { { [ -n "$_b" ] && kill -0 "$_b" 2>/dev/null; } ||
		{ [ -n "$_s" ] && kill -0 "$_s" 2>/dev/null; }; }; do
		sleep 0.1; _n=$((_n - 1))
	done
	for _p in $_b $_s; do kill -KILL "$_p" 2>/dev/null; done
	_e=$(cat "$dir/epmd.pid" 2>/dev/null)
	[ -n "$_e" ] && kill -TERM "$_e" 2>/dev/null
	rm -f "$dir/beam.pid" "$dir/server.pid" "$dir/epmd.pid"
	return 0
}

case $cmd in
start) start ;;
stop) stop ;;
vhost)
	name=${3:?$usage}
	load_env
	rmq_eval "VH = <<\"$name\">>,
		catch rabbit_vhost:delete(VH, $USER_TAG),
		ok = rabbit_vhost:add(VH, $USER_TAG),
		ok = rabbit_auth_backend_internal:set_permissions(<<\"guest\">>, VH,
			<<\".*\">>, <<\".*\">>, <<\".*\">>, $USER_TAG),
		rabbit_runtime_parameters:set_global(mqtt_port_to_vhost_mapping,
			#{<<\"$RMQ_MQTT_PORT\">> => VH}, $USER_TAG)." || exit 1
	;;
drop)
	name=${3:?$usage}
	load_env
	rmq_eval "catch rabbit_vhost:delete(<<\"$name\">>, $USER_TAG), ok." || exit 1
	;;
down)
	load_env
	rmq_eval "rabbit:stop()." || exit 1
	;;
up)
	load_env
	rmq_eval "rabbit:start()." || exit 1
	wait_mqtt 600 || { show_logs; exit 1; }
	;;
*) say "$usage"; exit 2 ;;
esac
