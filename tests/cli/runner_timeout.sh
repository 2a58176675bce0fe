# The test runner itself, on its own tests (they exist only with
# OLAB_TEST_RUNNER_SELFTEST=1): a test that leaves helpers holding the runner's
# pipe (a fork and a `sleep 1000 &`) does not hang the suite and its helpers
# are killed; a test over its limit is stopped by SIGTERM, and one that ignores
# the first by the second, with its cleanups run (its marker file removed).
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (the runner's tests take a run lock)"
bin=$(dirname "$OLAB")/test_integ
[ -x "$bin" ] || fail "$bin missing"
out=$(mktemp /tmp/olab-runner-selftest.XXXXXX)
helpers() { sed -n 's/^selftest helper \([0-9][0-9]*\)$/\1/p' "$out"; }
# Only on failure: helpers a broken runner left behind (this script's own).
kill_helpers() { for p in $(helpers); do kill -KILL "$p" 2>/dev/null; done; }
trap 'rm -f "$out"' EXIT

# To a file: a helper holding stdout cannot hang this script either.
OLAB_TEST_RUNNER_SELFTEST=1 timeout -s KILL 120 "$bin" selftest_runner_ >"$out" 2>&1
rc=$?
[ $rc = 1 ] || { kill_helpers; fail "runner exit $rc, want 1 (137: it hung): $(cat "$out")"; }
grep -qx 'PASS selftest_runner_leaves_helpers ([0-9.]*s)' "$out" || fail "leaves_helpers: $(cat "$out")"
grep -qx 'FAIL selftest_runner_timeout: time limit after 2 s (stopped by SIGTERM)' "$out" ||
	fail "timeout: $(cat "$out")"
grep -qx 'FAIL selftest_runner_timeout_stubborn: time limit after 2 s (stopped by SIGTERM (twice))' \
	"$out" || fail "stubborn: $(cat "$out")"
grep -qx '# totals 1 2 0' "$out" || fail "totals: $(cat "$out")"

[ "$(helpers | wc -l)" = 4 ] || fail "want 4 helpers started: $(cat "$out")"
for p in $(helpers); do
	# Killed and reaped, or a zombie on its way (empty cmdline), or a reused pid.
	if grep -qa 'sleep\|test_integ' "/proc/$p/cmdline" 2>/dev/null; then
		kill_helpers; fail "helper $p still alive"
	fi
done
markers=$(sed -n 's/^selftest marker //p' "$out")
[ "$(echo "$markers" | wc -l)" = 2 ] || fail "want 2 markers: $(cat "$out")"
for m in $markers; do
	[ ! -e "$m" ] || { rm -f "$m"; fail "cleanups did not run: $m left"; }
done
exit 0
