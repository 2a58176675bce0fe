# A SIGKILLed `topo up --hold` leaves its testbed; `clean` removes it and the
# root namespace (netns list, links, bpffs, nft, iptables) is as before.
. "$(dirname "$0")/../lib.sh"
before=$(root_snapshot)
"$OLAB" topo up --hold >/dev/null 2>&1 &
pid=$!
wait_until 100 test -e /run/netns/olab$pid-dut0 || { kill -9 $pid; fail "testbed never came up"; }
kill -9 $pid; wait $pid 2>/dev/null
[ -e /run/netns/olab$pid-gen0 ] || fail "SIGKILL should leave the namespaces (nothing to clean?)"
out=$("$OLAB" clean) || fail "clean exit $?"
echo "$out" | grep -q "removed netns olab$pid-gen0" || fail "clean did not report: $out"
echo "$out" | grep -q "removed netns olab$pid-dut0" || fail "clean did not report: $out"
after=$(root_snapshot)
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after") >&2; fail "root namespace differs"; }
out=$("$OLAB" clean) || fail "second clean exit $?"
echo "$out" | grep -q "nothing to clean" || fail "second clean: $out"
exit 0
