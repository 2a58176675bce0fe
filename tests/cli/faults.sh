# A short run of tests/faults/run.sh: commands stopped at random points by
# SIGKILL, SIGINT/SIGTERM once or twice, or SIGHUP, then `clean`; the machine
# must be left as it was.  The full version: tests/faults/run.sh 30.
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root"
out=$(bash "$(dirname "$0")/../faults/run.sh" 8 2>&1); rc=$?
echo "$out" | tail -n 12
[ $rc -eq 0 ] || fail "$(echo "$out" | head -n 1): $(echo "$out" | grep -A8 '^trial')"
exit 0
