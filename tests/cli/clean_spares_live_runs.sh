# clean never touches objects of a run that is still alive, nor foreign names.
. "$(dirname "$0")/../lib.sh"
"$OLAB" topo up --hold >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
wait_until 100 test -e /run/netns/olab$pid-dut0 || fail "testbed never came up"
ip netns add notolab-keepme || fail "cannot make a foreign namespace"
out=$("$OLAB" clean); rc=$?
ip netns list | grep -q notolab-keepme || fail "clean removed a foreign namespace"
ip netns del notolab-keepme
[ $rc -eq 0 ] || fail "clean exit $rc"
[ -e /run/netns/olab$pid-dut0 ] || fail "clean removed a live run's namespace"
echo "$out" | grep -q "kept netns olab$pid-dut0" || fail "clean did not say it kept it: $out"
kill -TERM $pid; wait $pid; rc=$?
[ $rc -eq 0 ] || fail "topo up --hold exit $rc after SIGTERM"
[ ! -e /run/netns/olab$pid-dut0 ] || fail "SIGTERM left the namespace"
trap - EXIT
exit 0
