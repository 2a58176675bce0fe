# Shared helpers for tests/cli/*.sh. A script exits 0 (pass), 77 (skip; the
# last line of stdout is the reason) or anything else (fail).
OLAB=${OLAB:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/offloadlab}

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "$*"; exit 77; }

# True when the run owning an "olab<pid>..." name is alive (holds its lock).
run_alive() {
	local pid lock
	pid=$(echo "$1" | sed -n 's/^olab\([0-9][0-9]*\).*/\1/p')
	[ -n "$pid" ] || return 1
	lock=/run/offloadlab/olab$pid.lock
	[ -e "$lock" ] && ! flock -n "$lock" true
}

# Drop names that belong to other runs still alive (concurrent runs are not leftovers).
without_live_runs() {
	local n
	while read -r n; do run_alive "$n" || echo "$n"; done
}

# Everything of the root namespace a run must leave unchanged.
root_snapshot() {
	echo "## netns"; ip netns list 2>/dev/null | awk '{print $1}' | without_live_runs | sort
	echo "## links"; ip -o link 2>/dev/null | awk -F': ' '{print $2}' | sort
	echo "## addrs"; ip -o addr 2>/dev/null | awk '{print $2, $3, $4}' | sort
	echo "## routes"; ip route 2>/dev/null; ip -6 route 2>/dev/null
	echo "## rules"; ip rule 2>/dev/null
	echo "## nft"; nft list ruleset 2>/dev/null
	echo "## iptables-nft"; iptables-nft-save 2>/dev/null | grep -v '^#'
	echo "## iptables-legacy"; iptables-legacy-save 2>/dev/null | grep -v '^#'
	echo "## bpf net"; bpftool net show 2>/dev/null
	echo "## bpffs"; ls -1 /sys/fs/bpf 2>/dev/null | without_live_runs
	echo "## mounts on /sys/fs/bpf"; findmnt -rn -o TARGET,FSTYPE 2>/dev/null | grep "^/sys/fs/bpf"
	echo "## cgroup"; ls -1 /sys/fs/cgroup/unified 2>/dev/null | grep -i olab | without_live_runs
}

# Wait (bounded) until a command succeeds.
wait_until() {
	local tries=$1; shift
	while [ "$tries" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}
