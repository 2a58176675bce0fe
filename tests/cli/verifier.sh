# offloadlab verifier: --json --quick on one parser is one JSON document with
# the load matrix, the limits and the clashes; bad options exit 2 with one
# line; no run leaves its temp dir behind (normal end, usage error, SIGTERM;
# SIGKILL: after clean).
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (BPF)"
[ -x /usr/bin/clang-14 ] || skip "no clang-14"

# A run's temp dirs: /tmp/olab<pid>-verifier-*
left() { ls -d /tmp/olab"$1"-verifier-* 2>/dev/null; }

# -- bad input: one line, exit 2, no temp dir
check_bad() {
	local msg rc
	msg=$("$OLAB" verifier "$@" 2>&1 >/dev/null); rc=$?
	[ $rc -eq 2 ] || fail "'verifier $*': exit $rc, want 2 ($msg)"
	[ "$(echo "$msg" | wc -l)" -eq 1 ] || fail "'verifier $*': not one line: $msg"
}
before=$(ls -d /tmp/olab*-verifier-* 2>/dev/null)
check_bad --opt O5
check_bad --compiler 12
check_bad --mcpu v9
check_bad --parser http3
check_bad --parser ""
check_bad --budget 0
check_bad extra-argument
[ "$before" = "$(ls -d /tmp/olab*-verifier-* 2>/dev/null)" ] || fail "bad input left a temp dir"

# -- one quick run: the document's shape and what it must say
out=$(mktemp /tmp/olab-verifier-test.XXXXXX)
trap 'rm -f "$out"' EXIT
"$OLAB" -j verifier --wait --quick --parser http1 --budget 5 > "$out" & pid=$!
wait $pid || fail "verifier --json --quick: exit $?"
[ -z "$(left $pid)" ] || fail "temp dir left after the run: $(left $pid)"
jq -e . "$out" >/dev/null || fail "not JSON"
for k in .config.kernel .config.commit .config.cpu_idle.mode .config.measure.lock \
	.compilers .matrix .findings.limit .findings.clashes .summary.cells; do
	[ "$(jq "$k | type" "$out")" != '"null"' ] || fail "no $k"
done
[ "$(jq '.matrix | length' "$out")" -eq 2 ] || fail "quick matrix: want 2 cells (-O1, -O2)"
jq -e '.matrix[] | select(.compiler == "clang-14" and .opt == "O2" and .mcpu == "v3")
	| select(.loads and .verified_insns > 0 and .xlated_bytes > 0 and .processed_insns > 0)' \
	"$out" >/dev/null || fail "http1 clang-14 -O2 v3 does not load with its figures"
jq -e '[.matrix[].requests[] | select(.ok | not)] | length == 0' "$out" >/dev/null ||
	fail "a sample got the wrong verdict"
jq -e '.findings.limit[] | select(.knob == "PARSE_MAX_HEADERS" and .opt == "O2")
	| select(.searched and .limit > 0)' "$out" >/dev/null || fail "no PARSE_MAX_HEADERS limit"
[ "$(jq '[.compilers[] | .name] == ["clang-14"]' "$out")" = true ] || fail "--quick: clang 14 only"

# -- a SIGTERM mid-run removes the temp dir
"$OLAB" verifier --wait --parser http1 >/dev/null 2>&1 & pid=$!
for _ in $(seq 100); do [ -n "$(left $pid)" ] && break; sleep 0.1; done
[ -n "$(left $pid)" ] || fail "no temp dir seen during a run"
kill -TERM $pid; wait $pid; rc=$?
[ $rc -ne 0 ] || fail "interrupted run exited 0"
[ -z "$(left $pid)" ] || fail "temp dir left after SIGTERM: $(left $pid)"

# -- a SIGKILL leaves it; `clean` removes it (the run's manifest lists it)
"$OLAB" verifier --wait --parser json >/dev/null 2>&1 & pid=$!
for _ in $(seq 100); do [ -n "$(left $pid)" ] && break; sleep 0.1; done
[ -n "$(left $pid)" ] || fail "no temp dir seen during a run"
kill -KILL $pid; wait $pid 2>/dev/null
[ -n "$(left $pid)" ] || fail "SIGKILL: the temp dir went without clean (the test cannot tell)"
sleep 1 # a compiler the run had started ends
"$OLAB" clean >/dev/null 2>&1 || fail "clean failed"
[ -z "$(left $pid)" ] || fail "temp dir left after SIGKILL and clean: $(left $pid)"
exit 0
