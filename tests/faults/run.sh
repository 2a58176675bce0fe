#!/usr/bin/env bash
# Fault injection: N trials of a command (bench, check, topo up --hold, gen,
# containers probe) stopped at a random point by SIGKILL, one SIGINT or two
# SIGINTs (also SIGTERM and SIGHUP), then `offloadlab clean`.  After each:
# the root namespace is as before, and no process, namespace, container,
# cgroup, pin or lock of a run is left.  Prints the counts; exit 0 iff all
# trials left the machine clean.  Usage: tests/faults/run.sh [N] [SEED]
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
n=${1:-30}
seed=${2:-$$}
RANDOM=$seed
echo "fault trials: $n, seed $seed (tests/faults/run.sh $n $seed repeats them)"
out=$(mktemp -d /tmp/olab-faults.XXXXXX)
trap 'rm -rf "$out"' EXIT
# Measuring commands queue (--wait) behind another run instead of refusing,
# so each trial stops a run at work (or waiting, which is a point too).
cmds=("bench drop --hook xdp --quick --wait --out $out/results"
      "check --wait"
      "topo up --hold"
      "gen --mode udp --duration 5 --wait"
      "containers probe")
stops=(KILL INT INT2 TERM TERM2 HUP)

# What run $1 may leave, beyond the root snapshot: objects with its prefix,
# and processes of its session (its children keep it when they take their
# own process group; zombies are PID 1's, not ours).
leftovers() {
	local p=olab$1
	ip netns list 2>/dev/null | awk '{print $1}' | grep "^$p-" | sed 's/^/netns /'
	ps -eo pid=,sid=,stat=,comm= | awk -v s="$1" '$2 == s && $3 !~ /Z/ {print "process " $4 "(" $1 ")"}'
	command -v runc >/dev/null && runc list -q 2>/dev/null | grep "^$p-" | sed 's/^/container /'
	ls /sys/fs/bpf 2>/dev/null | grep "^$p" | sed 's/^/pin /'
	ls /run/offloadlab 2>/dev/null | grep "^$p[^0-9]" | sed 's/^/run state /'
	cg=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
	[ -n "$cg" ] && find "$cg" -maxdepth 3 -type d -name "$p[^0-9]*" 2>/dev/null | sed 's/^/cgroup /'
}

# The root namespace itself; named objects of runs are leftovers()'s (others may run meanwhile).
root_only() { root_snapshot | grep -v '^olab'; }
"$OLAB" clean >/dev/null 2>&1
before=$(root_only)
declare -A ok bad hung
failures=0
for i in $(seq 1 "$n"); do
	# Every command x stop pair in turn (30 trials cover each once); the point is random.
	cmd=${cmds[$(( (i - 1) % ${#cmds[@]} ))]}
	stop=${stops[$(( ((i - 1) / ${#cmds[@]} + RANDOM % 2 * (n < 30)) % ${#stops[@]} ))]}
	delay=$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.05 + (r % 300) / 100 }')
	key="${cmd%% *} $stop"
	setsid "$OLAB" $cmd >"$out/cmd.out" 2>&1 & pid=$!
	sleep "$delay"
	case $stop in
	KILL) kill -KILL "$pid" 2>/dev/null ;;
	INT2|TERM2) kill -"${stop%2}" "$pid" 2>/dev/null; sleep 0.05; kill -"${stop%2}" "$pid" 2>/dev/null ;;
	*) kill -"$stop" "$pid" 2>/dev/null ;;
	esac
	# Bounded: a stopped run must end within 30 s.
	for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		hung[$key]=$(( ${hung[$key]:-0} + 1 )); failures=$((failures + 1))
		echo "trial $i: '$cmd' still running 30 s after SIG$stop at ${delay}s" >&2
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	# A SIGKILLed run may sit in D state for a while during netns teardown,
	# and its children die of PDEATHSIG a moment after it: wait (bounded).
	for _ in $(seq 1 100); do ps -o stat= -p "$pid" 2>/dev/null | grep -q D || break; sleep 0.1; done
	for _ in $(seq 1 150); do
		ps -eo sid=,stat= | awk -v s="$pid" '$1 == s && $2 !~ /Z/' | grep -q . || break
		sleep 0.1
	done
	"$OLAB" clean >/dev/null 2>&1
	left=$(leftovers "$pid")
	after=$(root_only)
	if [ -n "$left" ] || [ "$before" != "$after" ]; then
		bad[$key]=$(( ${bad[$key]:-0} + 1 )); failures=$((failures + 1))
		echo "trial $i: '$cmd' SIG$stop at ${delay}s left:" >&2
		echo "$left" | sed 's/^/    /' >&2
		diff <(echo "$before") <(echo "$after") | sed 's/^/    /' >&2
		"$OLAB" clean >/dev/null 2>&1
		before=$(root_only)
	else
		ok[$key]=$(( ${ok[$key]:-0} + 1 ))
	fi
done
printf '%-22s %5s %8s %5s\n' "COMMAND STOP" clean leftover hung
for k in $(printf '%s\n' "${!ok[@]}" "${!bad[@]}" "${!hung[@]}" | sort -u | tr ' ' '_'); do
	key=${k//_/ }
	printf '%-22s %5d %8d %5d\n' "$key" "${ok[$key]:-0}" "${bad[$key]:-0}" "${hung[$key]:-0}"
done
echo "$n trials, $failures left something or hung"
[ "$failures" -eq 0 ]
