# Namespaces no run created, each with a process inside, survive `clean` with
# their process alive, whether their name looks like a run's (olab<pid>-...,
# a pid above pid_max so no run can own it) or not; clean says why it left
# the look-alike, in text and in JSON.  The same for a container state
# directory named like a run's (olab<pid>-ctr) that no manifest lists.
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root"
fake=olab4194305-foreign other=notolab-foreign-$$ ctr=/run/offloadlab/olab4194306-ctr
sleeps=
cleanup() {
	kill $sleeps 2>/dev/null
	ip netns del $fake 2>/dev/null
	ip netns del $other 2>/dev/null
	rm -rf $ctr
}
trap cleanup EXIT
ip netns add $fake && ip netns add $other || fail "cannot make the namespaces"
mkdir -p $ctr/runc && echo keep > $ctr/runc/mine || fail "cannot make $ctr"
for ns in $fake $other; do
	ip netns exec $ns sleep 300 &
	sleeps="$sleeps $!"
done
for p in $sleeps; do
	wait_until 50 eval "[ \"\$(readlink /proc/$p/ns/net)\" != \"$(readlink /proc/self/ns/net)\" ]" ||
		fail "sleep $p never entered its namespace"
done

out=$("$OLAB" clean) || fail "clean exit $?: $out"
json=$("$OLAB" --json clean) || fail "clean --json exit $?: $json"
for p in $sleeps; do kill -0 $p 2>/dev/null || fail "clean killed pid $p: $out"; done
ip netns list | grep -qw $fake || fail "clean removed $fake: $out"
ip netns list | grep -qw $other || fail "clean removed $other: $out"
echo "$out" | grep -q "left netns $fake: not created by offloadlab (run olab4194305 left no manifest)" ||
	fail "clean did not say why it left $fake: $out"
echo "$json" | jq -e --arg n $fake \
	'.not_created | any(.kind == "netns" and .name == $n and (.why | test("no manifest")))' \
	>/dev/null || fail "clean --json did not list $fake as not created: $json"
echo "$out" | grep -q "$other" && fail "clean mentioned a namespace without the prefix: $out"
[ -f $ctr/runc/mine ] || fail "clean removed the container state look-alike $ctr: $out"
echo "$out" | grep -q "left container state $ctr: not created by offloadlab" ||
	fail "clean did not say why it left $ctr: $out"
exit 0
