# clean kills only processes it can tie to the dead run: those its manifest
# lists with the same start time, and their descendants.  A process in the
# run's namespace that the manifest does not list survives (the namespace is
# only unmounted), and so does a listed pid whose start time differs.
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root"
sh -c 'exit 0' & run=$!
wait $run
ns=olab$run-t manifest=/run/offloadlab/olab$run.manifest
pids=
cleanup() {
	kill -9 $pids 2>/dev/null
	ip netns del $ns 2>/dev/null
	rm -f "$manifest"
}
trap cleanup EXIT
gone() { [ ! -e /proc/$1 ] || grep -q '^[^)]*) [ZX]' /proc/$1/stat 2>/dev/null; }
start_of() { sed 's/.*) //' /proc/$1/stat | awk '{print $20}'; }

ip netns add $ns || fail "cannot make $ns"
ip netns exec $ns sh -c 'sleep 300 & wait' & tied=$!
ip netns exec $ns sleep 300 & untied=$!
sleep 300 & reused=$!
pids="$tied $untied $reused"
wait_until 50 eval 'child=$(pgrep -P $tied -x sleep)' || fail "the listed process has no child"
pids="$pids $child"
self_ns=$(readlink /proc/self/ns/net)
wait_until 50 eval '[ "$(readlink /proc/$untied/ns/net)" != "$self_ns" ]' || fail "not in $ns"

ino=$(stat -L -c %i /run/netns/$ns) dev=$(stat -L -c %d /run/netns/$ns)
mkdir -p /run/offloadlab
{
	printf '{"kind":"netns","path":"/run/netns/%s","dev":%s,"ino":%s}\n' $ns "$dev" "$ino"
	printf '{"kind":"process","pid":%s,"start":%s}\n' $tied "$(start_of $tied)"
	printf '{"kind":"process","pid":%s,"start":%s}\n' $reused "$(( $(start_of $reused) + 1 ))"
} > "$manifest"

out=$("$OLAB" clean) || fail "clean exit $?: $out"
wait $tied 2>/dev/null
gone $tied || fail "the listed process survived: $out"
wait_until 50 gone $child || fail "the listed process's child survived: $out"
kill -0 $untied 2>/dev/null || fail "clean killed a process the run did not start: $out"
[ "$(readlink /proc/$untied/ns/net)" != "$self_ns" ] || fail "the unlisted process moved?"
kill -0 $reused 2>/dev/null || fail "clean killed a pid whose start time differs: $out"
ip netns list | grep -qw $ns && fail "clean left $ns mounted: $out"
[ -e "$manifest" ] && fail "clean left the manifest: $out"
for w in "removed process $tied" "removed process $child" "removed netns $ns"; do
	echo "$out" | grep -qx "$w" || fail "clean did not report '$w': $out"
done
exit 0
