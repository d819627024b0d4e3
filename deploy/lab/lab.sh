#!/usr/bin/env bash
# The resolvx L2 lab for a person: N nodes (3 or 5) and a client, each in its
# own network namespace, on one Linux bridge that lives in a "switch"
# namespace. No uplink, no default route: lab addresses (10.213.0.0/24)
# exist only inside these namespaces, and the root namespace never gets a
# route to them. Needs root, iproute2, nftables, dig (bind9-dnsutils).
#
#   deploy/lab/lab.sh up [3|5]        build the segment, start the nodes (make lab N=…)
#   deploy/lab/lab.sh down            stop the nodes, delete the namespaces (make lab-down)
#   deploy/lab/lab.sh status [nK]     resolvx cluster status, run in nK's namespace
#   deploy/lab/lab.sh dig NAME [TYPE] dig from the client namespace at the VIP
#   deploy/lab/lab.sh vip             which node namespaces hold the VIP
#   deploy/lab/lab.sh neigh           the client's neighbour entry for the VIP
#   deploy/lab/lab.sh kill|stop|cont|term nK   SIGKILL / SIGSTOP / SIGCONT / SIGTERM
#   deploy/lab/lab.sh start nK        start a stopped node again (it rejoins)
#   deploy/lab/lab.sh partition nK…   cut the given nodes off from the others (nftables)
#   deploy/lab/lab.sh heal            remove every partition
#   deploy/lab/lab.sh cli nK ARGS…    any resolvx CLI command against nK's API
#   deploy/lab/lab.sh log nK          follow nK's log
#   deploy/lab/lab.sh sh nK|client    a shell inside a namespace
#
# State (pids, data, logs) is kept in lab-state/ at the top of the repo
# (override with LAB_STATE=dir). Processes are only ever signalled by the
# pid recorded when this script started them.
# LAB_ANNOUNCE=0 starts the nodes with the VIP announcements (gratuitous
# ARP) off, to watch a client's neighbour entry go stale after a failover.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE=${LAB_STATE:-$REPO/lab-state}
BIN=${RESOLVX_BIN:-$REPO/bin/resolvx}
P=rxlab                      # namespace prefix: rxlab-sw, rxlab-c, rxlab-n1…
NET=10.213.0
VIP=$NET.53
CLIENT_IP=$NET.100
ZONE=lab.test

die() { echo "lab: $*" >&2; exit 1; }
need_root() { [ "$(id -u)" -eq 0 ] || die "the lab needs root (network namespaces)"; }
node_ip() { echo "$NET.$((10 + ${1#n}))"; }
check_node() { [[ "$1" =~ ^n[1-5]$ ]] && [ -f "$STATE/nodes" ] && grep -qx "$1" "$STATE/nodes" || die "no node '$1' in the lab (nodes: $(tr '\n' ' ' < "$STATE/nodes" 2>/dev/null))"; }
nodes() { cat "$STATE/nodes"; }
api() { echo "http://$(node_ip "$1"):8080"; }
# inns NS CMD…: run CMD inside namespace NS.
inns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
pid_of() { cat "$STATE/$1.pid" 2>/dev/null || true; }
alive() { local pid; pid=$(pid_of "$1"); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

has_vip_flag() { "$BIN" server --help 2>&1 | grep -q -- '--vip-interface'; }

start_node() {
	local n=$1 ip join=() o
	ip=$(node_ip "$n")
	alive "$n" && die "$n is already running (pid $(pid_of "$n"))"
	# The first node of a new lab bootstraps; any other start joins through
	# all the other members (joining is idempotent and retried).
	if [ "$n" != n1 ] || [ -d "$STATE/$n/data/raft" ]; then
		for o in $(nodes); do [ "$o" = "$n" ] || join+=("$(node_ip "$o"):7946"); done
	fi
	local args=(server --node-id "$n" --data-dir "$STATE/$n/data"
		--dns-listen 0.0.0.0:53 --api-listen "$ip:8080" --cluster-listen "$ip:7946")
	[ ${#join[@]} -gt 0 ] && args+=(--join "$(IFS=,; echo "${join[*]}")")
	if has_vip_flag; then
		args+=(--vip "$VIP/24" --vip-interface eth0)
	else
		echo "lab: warning: VIP support not in this build ($BIN server --help has no --vip): nodes start without the VIP" >&2
	fi
	[ -f "$STATE/resolvx.yaml" ] && args+=(--config "$STATE/resolvx.yaml")
	mkdir -p "$STATE/$n"
	echo "==== $(date -Is) ip netns exec $P-$n $BIN ${args[*]}" >> "$STATE/$n.log"
	# ip netns exec execs the server in place: $! is the server's pid.
	RESOLVX_API= nohup ip netns exec "$P-$n" "$BIN" "${args[@]}" >> "$STATE/$n.log" 2>&1 < /dev/null &
	echo $! > "$STATE/$n.pid"
	local deadline=$((SECONDS + 20))
	until inns "$P-c" "$BIN" --api "$(api "$n")" cluster status >/dev/null 2>&1; do
		alive "$n" || { tail -20 "$STATE/$n.log" >&2; die "$n exited during startup (log: $STATE/$n.log)"; }
		[ $SECONDS -lt $deadline ] || die "$n: API not up after 20 s (log: $STATE/$n.log)"
		sleep 0.1
	done
	echo "started $n (pid $(pid_of "$n"), $ip)"
}

# plug NS PORT IP MAC: a namespace on the bridge.
plug() {
	ip netns add "$1"
	ip -n "$1" link set lo up
	ip -n "$P-sw" link add "$2" type veth peer name eth0 netns "$1"
	ip -n "$P-sw" link set "$2" master br0 up
	ip -n "$1" link set eth0 address "$4"
	ip -n "$1" addr add "$3/24" dev eth0
	ip -n "$1" link set eth0 up
}

cmd_up() {
	need_root
	local count=${1:-3}
	[[ "$count" =~ ^[35]$ ]] || die "N must be 3 or 5"
	[ -x "$BIN" ] || die "$BIN not found: run make build (or set RESOLVX_BIN)"
	for tool in ip nft dig; do command -v $tool >/dev/null || die "$tool not found (apt-get install iproute2 nftables bind9-dnsutils)"; done
	[ -e "/run/netns/$P-sw" ] && die "a lab is already up: deploy/lab/lab.sh down (make lab-down) first"
	rm -rf "$STATE" && mkdir -p "$STATE"
	for i in $(seq 1 "$count"); do echo "n$i"; done > "$STATE/nodes"
	if [ "${LAB_ANNOUNCE:-1}" = 0 ]; then
		printf 'cluster:\n  vip:\n    announce: false\n' > "$STATE/resolvx.yaml"
	fi
	ip netns add "$P-sw"
	ip -n "$P-sw" link set lo up
	ip -n "$P-sw" link add br0 type bridge
	ip -n "$P-sw" link set br0 up
	plug "$P-c" pc "$CLIENT_IP" 02:00:0a:d5:00:64
	for n in $(nodes); do
		plug "$P-$n" "p$n" "$(node_ip "$n")" "$(printf '02:00:0a:d5:00:%02x' $((10 + ${n#n})))"
	done
	for n in $(nodes); do start_node "$n"; done
	local deadline=$((SECONDS + 30))
	until inns "$P-c" "$BIN" --api "$(api n1)" zone create "$ZONE" >/dev/null 2>&1 ||
		inns "$P-c" "$BIN" --api "$(api n1)" zone list 2>/dev/null | grep -q "$ZONE"; do
		[ $SECONDS -lt $deadline ] || die "no leader after 30 s"
		sleep 0.2
	done
	inns "$P-c" "$BIN" --api "$(api n1)" record create "$ZONE" www A 192.0.2.80 >/dev/null
	if has_vip_flag; then
		# The leader claims the VIP once any earlier holder's lease must
		# have run out (about a second after it is elected).
		deadline=$((SECONDS + 10))
		until [ -n "$(vip_holders)" ]; do
			[ $SECONDS -lt $deadline ] || die "nobody holds the VIP 10 s after the cluster formed"
			sleep 0.1
		done
	fi
	cmd_status n1
	cat <<EOF

The lab is up: $count nodes n1…n$count ($NET.11…), client $CLIENT_IP, VIP $VIP, zone $ZONE.
  deploy/lab/lab.sh status n2                  # resolvx cluster status on n2
  deploy/lab/lab.sh dig www.$ZONE              # dig from the client at the VIP
  deploy/lab/lab.sh vip                        # who holds the VIP
  deploy/lab/lab.sh kill n1                    # kill -9 (also stop, cont, term); start n1 brings it back
  deploy/lab/lab.sh partition n1               # cut n1 off; heal to undo
  deploy/lab/lab.sh cli n2 record create $ZONE api A 192.0.2.81
  make lab-down                                # remove everything
State and logs: $STATE
EOF
}

cmd_down() {
	need_root
	local n pid
	if [ -f "$STATE/nodes" ]; then
		for n in $(nodes); do
			pid=$(pid_of "$n")
			if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
				kill -KILL "$pid" 2>/dev/null || true
				echo "killed $n (pid $pid)"
			fi
			rm -f "$STATE/$n.pid"
		done
	fi
	for ns in $(ip netns list | awk '{print $1}' | grep -E "^$P-(sw|c|n[1-5])$" || true); do
		ip netns del "$ns" && echo "deleted namespace $ns"
	done
	rm -rf "$STATE"
}

cmd_status() {
	local n=${1:-}
	if [ -z "$n" ]; then
		for n in $(nodes); do alive "$n" && break; done
	fi
	check_node "$n"
	inns "$P-$n" "$BIN" --api "$(api "$n")" cluster status
}

cmd_signal() {
	local sig=$1 n=$2 pid
	check_node "$n"
	pid=$(pid_of "$n")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || die "$n is not running"
	kill "-$sig" "$pid"
	echo "sent SIG$sig to $n (pid $pid)"
	if [ "$sig" = KILL ] || [ "$sig" = TERM ]; then
		local deadline=$((SECONDS + 20))
		while kill -0 "$pid" 2>/dev/null; do
			[ $SECONDS -lt $deadline ] || die "$n did not exit within 20 s"
			sleep 0.05
		done
		rm -f "$STATE/$n.pid"
		echo "$n exited; deploy/lab/lab.sh start $n brings it back"
	fi
}

cmd_partition() {
	[ $# -gt 0 ] || die "partition needs the nodes of one side, e.g. partition n1"
	local side=("$@") other=() n o
	for n in "${side[@]}"; do check_node "$n"; done
	for o in $(nodes); do [[ " ${side[*]} " == *" $o "* ]] || other+=("$o"); done
	[ ${#other[@]} -gt 0 ] || die "the other side is empty"
	cmd_heal >/dev/null
	block() { # block NODE PEERS…
		local node=$1 set="" p; shift
		for p in "$@"; do set+="${set:+, }$(node_ip "$p")"; done
		inns "$P-$node" nft -f - <<EOF
table inet rxlab_partition {
	chain input { type filter hook input priority -10; policy accept; ip saddr { $set } drop; }
	chain output { type filter hook output priority -10; policy accept; ip daddr { $set } drop; }
}
EOF
	}
	for n in "${side[@]}"; do block "$n" "${other[@]}"; done
	for o in "${other[@]}"; do block "$o" "${side[@]}"; done
	echo "partition: ${side[*]} | ${other[*]} (the client still reaches every node)"
}

cmd_heal() {
	local n
	for n in $(nodes); do
		inns "$P-$n" nft delete table inet rxlab_partition 2>/dev/null || true
	done
	echo "healed"
}

# vip_holders: the nodes whose eth0 carries the VIP, one a line.
vip_holders() {
	local n
	for n in $(nodes); do
		ip -n "$P-$n" -4 addr show dev eth0 2>/dev/null | grep -q "inet $VIP/" && echo "$n"
	done
	return 0
}

cmd_vip() {
	local n lft held=0
	for n in $(vip_holders); do
		lft=$(ip -n "$P-$n" -4 addr show dev eth0 | grep -A1 "inet $VIP/" | grep -o 'valid_lft [^ ]*' || true)
		echo "$n holds $VIP ($lft)"
		held=$((held + 1))
	done
	[ $held -gt 0 ] || echo "nobody holds $VIP"
	[ $held -le 1 ] || echo "lab: WARNING: $held holders at once" >&2
}

main() {
	local cmd=${1:-help}
	shift || true
	case $cmd in
	up) cmd_up "$@" ;;
	down) cmd_down ;;
	status) cmd_status "$@" ;;
	dig) [ $# -ge 1 ] || die "dig NAME [TYPE]"; inns "$P-c" dig +time=1 +tries=2 "@$VIP" "$@" ;;
	vip) cmd_vip ;;
	neigh) ip -n "$P-c" neigh show "$VIP" ;;
	kill) cmd_signal KILL "$@" ;;
	stop) cmd_signal STOP "$@" ;;
	cont) cmd_signal CONT "$@" ;;
	term) cmd_signal TERM "$@" ;;
	start) [ $# -eq 1 ] || die "start nK"; check_node "$1"; start_node "$1" ;;
	partition) cmd_partition "$@" ;;
	heal) cmd_heal ;;
	cli) [ $# -ge 2 ] || die "cli nK ARGS…"; check_node "$1"; n=$1; shift; inns "$P-c" "$BIN" --api "$(api "$n")" "$@" ;;
	log) check_node "${1:-}"; tail -n 50 -f "$STATE/$1.log" ;;
	sh) case ${1:-} in client) inns "$P-c" "${SHELL:-bash}" ;; *) check_node "${1:-}"; inns "$P-$1" "${SHELL:-bash}" ;; esac ;;
	help | -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
	*) die "unknown command '$cmd' (deploy/lab/lab.sh help)" ;;
	esac
}

main "$@"
