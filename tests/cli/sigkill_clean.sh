# A SIGKILLed `topo up --hold` leaves its testbed and a manifest listing its
# namespaces with their inodes; `clean` removes both, nothing of the run is
# left, and the root namespace (netns list, links, bpffs, nft, iptables) is as
# before.
. "$(dirname "$0")/../lib.sh"
before=$(root_snapshot)
"$OLAB" topo up --hold >/dev/null 2>&1 &
pid=$!
wait_until 100 test -e /run/netns/olab$pid-dut0 || { kill -9 $pid; fail "testbed never came up"; }
kill -9 $pid; wait $pid 2>/dev/null
[ -e /run/netns/olab$pid-gen0 ] || fail "SIGKILL should leave the namespaces (nothing to clean?)"
manifest=/run/offloadlab/olab$pid.manifest
for ns in gen0 dut0; do
	ino=$(stat -L -c %i /run/netns/olab$pid-$ns)
	jq -s -e --arg p /run/netns/olab$pid-$ns --argjson i "$ino" \
		'any(.kind == "netns" and .path == $p and .ino == $i)' "$manifest" >/dev/null ||
		fail "the manifest does not list olab$pid-$ns with its inode: $(cat $manifest)"
done
out=$("$OLAB" clean) || fail "clean exit $?"
echo "$out" | grep -q "removed netns olab$pid-gen0" || fail "clean did not report: $out"
echo "$out" | grep -q "removed netns olab$pid-dut0" || fail "clean did not report: $out"
ip netns list | grep -q "olab$pid-" && fail "namespaces left: $(ip netns list)"
ls /run/offloadlab | grep -q "^olab$pid[.-]" && fail "run state left: $(ls /run/offloadlab)"
after=$(root_snapshot)
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after") >&2; fail "root namespace differs"; }
out=$("$OLAB" clean) || fail "second clean exit $?"
echo "$out" | grep -q "nothing to clean" || fail "second clean: $out"
exit 0
