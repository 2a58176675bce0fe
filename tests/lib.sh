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

# The cgroup2 mount (/sys/fs/cgroup on v2-only hosts, .../unified on hybrid ones):
# in mountinfo the filesystem type follows the "-" field.
cgroup2_mount() {
	awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") { print $5; exit } break } }' \
		/proc/self/mountinfo
}

# What changes while nothing is changed: nft/iptables counters and quota use,
# route and set element expiry timers.  The rules themselves are kept.
without_counters() {
	sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/g
		s/^([[:space:]]*)packets [0-9]+ bytes [0-9]+/\1packets bytes/
		s/ used [0-9]+ [kmg]?bytes//g
		s/ expires [0-9a-z.]+//g
		s/^(:[^ ]+ [^ ]+) \[[0-9]+:[0-9]+\]/\1/
		s/^\[[0-9]+:[0-9]+\] //'
}

# Everything of the root namespace a run must leave unchanged (read only).
root_snapshot() {
	local cg
	cg=$(cgroup2_mount)
	echo "## netns"; ip netns list 2>/dev/null | awk '{print $1}' | without_live_runs | sort
	echo "## links"; ip -o link 2>/dev/null | awk -F': ' '{print $2}' | sort
	echo "## addrs"; ip -o addr 2>/dev/null | awk '{print $2, $3, $4}' | sort
	echo "## routes"; { ip route; ip -6 route; } 2>/dev/null | without_counters
	echo "## rules"; ip rule 2>/dev/null
	echo "## nft"; nft list ruleset 2>/dev/null | without_counters
	echo "## iptables-nft"; iptables-nft-save 2>/dev/null | grep -v '^#' | without_counters
	echo "## iptables-legacy"; iptables-legacy-save 2>/dev/null | grep -v '^#' | without_counters
	echo "## bpf net"; bpftool net show 2>/dev/null
	echo "## bpffs"; ls -1 /sys/fs/bpf 2>/dev/null | without_live_runs
	echo "## mounts on /sys/fs/bpf"; findmnt -rn -o TARGET,FSTYPE 2>/dev/null | grep "^/sys/fs/bpf"
	echo "## cgroup ($cg)"; [ -n "$cg" ] && ls -1 "$cg" 2>/dev/null | grep -i olab | without_live_runs
}

# Run one tests/cli script with a time limit, stdout and stderr to $2.out and
# $2.err; its exit status.  timeout puts it in a process group of its own:
# over the limit the group gets TERM, then KILL 10 s later; what the script
# left running in it is killed when it ends, and a stop (INT/TERM) is passed on.
CLI_TIMEOUT_S=${CLI_TIMEOUT_S:-300}
run_cli() {
	local rc
	timeout --kill-after=10 -s TERM "$CLI_TIMEOUT_S" bash "$1" >"$2.out" 2>"$2.err" &
	cli_group=$!
	trap 'kill -TERM -- "-$cli_group" 2>/dev/null; wait "$cli_group"; exit 130' INT TERM
	wait "$cli_group"; rc=$?
	trap - INT TERM
	kill -KILL -- "-$cli_group" 2>/dev/null
	return $rc
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
