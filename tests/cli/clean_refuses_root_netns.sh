# clean never touches the root namespace, whatever /run/netns or a manifest
# says: `ip netns attach olab7-x 1` and a symlink olab8-y -> /proc/1/ns/net,
# both listed in forged manifests (with pid 1 as a run process), are refused
# and pid 1 lives.  Only ever inside a private pid + net + mount namespace
# (whose pid 1 is a sleep), with tmpfs over /run/netns, /run/offloadlab,
# /sys/fs/bpf and /sys/fs/cgroup: nothing of this machine can be reached.
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root"
command -v unshare >/dev/null && command -v nsenter >/dev/null || skip "no unshare/nsenter"

unshare --pid --net --mount --fork --mount-proc sleep 300 &
ushare=$!
trap 'kill -9 $ushare $init 2>/dev/null; wait $ushare 2>/dev/null' EXIT
init=
wait_until 50 eval 'init=$(pgrep -P $ushare -x sleep)' || fail "no pid 1 in the new namespace"
host_net=$(stat -L -c %i /proc/self/ns/net) host_mnt=$(stat -L -c %i /proc/self/ns/mnt)

out=$(nsenter -t "$init" -n -m -p env OLAB="$OLAB" HOST_NET="$host_net" HOST_MNT="$host_mnt" \
	bash -c '
set -u
# Refuse to go on unless this is the private namespace.
[ "$(stat -L -c %i /proc/self/ns/net)" != "$HOST_NET" ] || { echo "ABORT: host netns"; exit 99; }
[ "$(stat -L -c %i /proc/self/ns/mnt)" != "$HOST_MNT" ] || { echo "ABORT: host mntns"; exit 99; }
[ "$(cat /proc/1/comm)" = sleep ] || { echo "ABORT: pid 1 is not the sleep"; exit 99; }
for d in /run/netns /run/offloadlab /sys/fs/bpf /sys/fs/cgroup; do
	mkdir -p $d && mount -t tmpfs none $d || { echo "ABORT: tmpfs on $d"; exit 99; }
done
ip netns attach olab7-x 1 || { echo "ABORT: ip netns attach"; exit 99; }
ln -s /proc/1/ns/net /run/netns/olab8-y
ino=$(stat -L -c %i /run/netns/olab7-x) dev=$(stat -L -c %d /run/netns/olab7-x)
start=$(awk "{print \$22}" /proc/1/stat)
printf "{\"kind\":\"netns\",\"path\":\"/run/netns/olab7-x\",\"dev\":%s,\"ino\":%s}\n{\"kind\":\"process\",\"pid\":1,\"start\":%s}\n" \
	"$dev" "$ino" "$start" > /run/offloadlab/olab7.manifest
printf "{\"kind\":\"netns\",\"path\":\"/run/netns/olab8-y\",\"dev\":%s,\"ino\":%s}\n" \
	"$dev" "$ino" > /run/offloadlab/olab8.manifest
"$OLAB" clean; echo "clean exit $?"
[ -e /run/netns/olab7-x ] && echo "olab7-x still there"
[ -L /run/netns/olab8-y ] && echo "olab8-y still there"
kill -0 1 && echo "pid 1 alive"
' 2>&1)
echo "$out"
echo "$out" | grep -q ABORT && fail "could not set up the private namespace: $out"
echo "$out" | grep -q "clean exit 0" || fail "clean failed: $out"
echo "$out" | grep -q "left netns olab7-x: not created by offloadlab (the root network namespace)" ||
	fail "clean did not refuse the root namespace: $out"
echo "$out" | grep -q "left netns olab8-y: not created by offloadlab (a symlink)" ||
	fail "clean did not refuse the symlink: $out"
echo "$out" | grep -q "olab7-x still there" || fail "clean removed the root namespace's mount"
echo "$out" | grep -q "olab8-y still there" || fail "clean removed the symlink"
echo "$out" | grep -Eq "^removed (netns|process)" && fail "clean removed something: $out"
echo "$out" | grep -q "pid 1 alive" || fail "pid 1 of the namespace was killed"
kill -0 "$init" || fail "the namespace's pid 1 died"
exit 0
