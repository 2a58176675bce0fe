#!/usr/bin/env bash
# tests/flaky.sh N [FILTER]: runs the selected tests N times and prints, for
# each, how many runs failed.  FILTER (a substring) selects among the unit and
# integration tests (as build/test_unit FILTER does) and tests/cli/*FILTER*.sh;
# none: all.  Exit 0 iff no run of any test failed.
set -u
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
n=${1:-}
filter=${2:-}
if ! [[ $n =~ ^[1-9][0-9]*$ ]] || [ $# -gt 2 ]; then
	echo "usage: tests/flaky.sh N [FILTER]   (N runs, N >= 1)" >&2
	exit 2
fi
log=$(mktemp -d /tmp/olab-flaky.XXXXXX)
trap 'rm -rf "$log"' EXIT
declare -A runs=() fails=() skips=()

# One result: name and PASS/FAIL/SKIP.
record() {
	runs[$1]=$(( ${runs[$1]:-0} + 1 ))
	case $2 in
	FAIL) fails[$1]=$(( ${fails[$1]:-0} + 1 )) ;;
	SKIP) skips[$1]=$(( ${skips[$1]:-0} + 1 )) ;;
	esac
}

# A runner binary: its PASS/FAIL/SKIP lines; no totals line is a failure of the binary.
run_bin() {
	local bin=$1 out=$log/$1.out status name suite=${1#test_}
	[ -x "build/$bin" ] || { echo "flaky: build/$bin missing (make it first)" >&2; exit 2; }
	if [ "$bin" = test_integ ] && [ "$(id -u)" != 0 ]; then
		return
	fi
	ASAN_OPTIONS=detect_leaks=1 "build/$bin" ${filter:+"$filter"} >"$out" 2>"$out.err"
	while read -r status name _; do
		record "$suite/${name%:}" "$status"
	done < <(grep -E '^(PASS|FAIL|SKIP) ' "$out")
	grep -q '^# totals' "$out" || record "$suite/(no totals line: crashed)" FAIL
	grep -E '^FAIL ' "$out" | sed "s|^FAIL |    run $i: FAIL $suite/|"
}

for ((i = 1; i <= n; i++)); do
	run_bin test_unit
	run_bin test_integ
	for t in tests/cli/*"$filter"*.sh; do
		[ -e "$t" ] || continue
		name=$(basename "$t" .sh)
		run_cli "$t" "$log/$name"
		case $? in
		0) record "cli/$name" PASS ;;
		77) record "cli/$name" SKIP ;;
		*) record "cli/$name" FAIL; echo "    run $i: FAIL cli/$name" ;;
		esac
	done
done

total=0
printf '%-44s %5s %8s %6s\n' test runs failures skips
for name in $(printf '%s\n' "${!runs[@]}" | sort); do
	printf '%-44s %5d %8d %6d\n' "$name" "${runs[$name]}" "${fails[$name]:-0}" "${skips[$name]:-0}"
	total=$((total + ${fails[$name]:-0}))
done
[ ${#runs[@]} -gt 0 ] || echo "no test matches \"$filter\""
echo "$total failures in $n runs of ${#runs[@]} tests"
[ "$total" -eq 0 ]
