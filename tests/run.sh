#!/usr/bin/env bash
# Runs every test: unit tests (ASan+UBSan), integration tests (real namespaces
# and BPF, as root) and command-line tests, then checks the root namespace is
# as it was.  Ends with "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
pass=0 fail=0 skip=0
log=$(mktemp -d /tmp/olab-test.XXXXXX)
trap 'rm -rf "$log"' EXIT

# Leftovers of runs killed before this one (a CI machine has none) would be
# removed by the clean tests and show up as a difference: remove them first.
[ "$(id -u)" = 0 ] && build/offloadlab clean | grep -v '^nothing to clean' | sed 's/^/before the tests: /'
root_snapshot > "$log/root.before"

for bin in test_unit test_integ; do
	echo "== $bin"
	if [ "$(id -u)" != 0 ] && [ $bin = test_integ ]; then
		echo "SKIP $bin: needs root"; skip=$((skip + 1)); continue
	fi
	ASAN_OPTIONS=detect_leaks=1 build/$bin | tee "$log/$bin.out"
	read -r p f s < <(awk '/^# totals/{print $3, $4, $5}' "$log/$bin.out")
	if [ -z "${p:-}" ]; then
		echo "FAIL $bin: crashed before its totals"; fail=$((fail + 1)); continue
	fi
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
done

echo "== command line and lint"
# extend.sh: a hook, a check and a bench added in a scratch copy are picked up.
report() { # name rc seconds
	case $2 in
	0) pass=$((pass + 1)); printf 'PASS %s (%.2fs)\n' "$1" "$3" ;;
	77) skip=$((skip + 1)); echo "SKIP $1: $(tail -n 1 "$log/$1.out")" ;;
	*) fail=$((fail + 1)); echo "FAIL $1 (exit $2$([ "$2" = 124 ] && echo ", time limit ${CLI_TIMEOUT_S}s"))"
	   tail -n 20 "$log/$1.out"; sed 's/^/    /' "$log/$1.err" | tail -n 30 ;;
	esac
}
timed_cli() { # test name: "rc seconds" in $log/name.rc
	local t0 rc
	t0=$(date +%s.%N)
	run_cli "$1" "$log/$2"; rc=$?
	echo "$rc $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{print b - a}')" > "$log/$2.rc"
}
# A second lane runs beside the rest, from the first of its tests on:
# valgrind (about 100 s of one CPU, no namespaces or timing), then tests that
# neither measure nor time anything; that keeps make test under 10 minutes.
LANE="valgrind report runner_timeout layers sizes"
in_lane() { case " $LANE " in *" $1 "*) return 0 ;; esac; return 1; }
run_lane() {
	for name in $LANE; do
		t=$(ls tests/cli/"$name".sh tests/lint/"$name".sh 2>/dev/null | head -n1)
		[ -n "$t" ] && timed_cli "$t" "$name"
	done
}
lane_pid=
for t in tests/cli/*.sh tests/lint/*.sh tests/extend.sh; do
	name=$(basename "$t" .sh)
	if in_lane "$name"; then
		[ -n "$lane_pid" ] || { run_lane & lane_pid=$!; }
		continue
	fi
	timed_cli "$t" "$name"
	report "$name" $(cat "$log/$name.rc")
done
if [ -n "$lane_pid" ]; then
	wait "$lane_pid"
	for name in $LANE; do
		[ -e "$log/$name.rc" ] && report "$name" $(cat "$log/$name.rc")
	done
fi

echo "== machine left as found"
root_snapshot > "$log/root.after"
if diff -u "$log/root.before" "$log/root.after"; then
	pass=$((pass + 1)); echo "PASS root-namespace-unchanged"
else
	fail=$((fail + 1)); echo "FAIL root-namespace-unchanged"
fi
# Objects whose run is gone (its lock is free); other live runs are not ours to judge.
left=$(ls /run/netns /run/offloadlab /sys/fs/bpf 2>/dev/null | grep '^olab' | without_live_runs)
if [ -z "$left" ]; then
	pass=$((pass + 1)); echo "PASS no-leftover-objects"
else
	fail=$((fail + 1)); echo "FAIL no-leftover-objects: $left"
fi

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
