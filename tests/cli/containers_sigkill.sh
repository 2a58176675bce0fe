# SIGKILL `containers probe` while its containers exist, then `offloadlab
# clean`: no runc state, no cgroup (any hierarchy) and no rootfs remain.
. "$(dirname "$0")/../lib.sh"
command -v runc >/dev/null || skip "runc not installed"
hit=0
for delay in 0.08 0.12 0.16 0.2 0.25 0.3; do
	"$OLAB" containers probe >/dev/null 2>&1 &
	pid=$!
	sleep $delay
	kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
	state=/run/offloadlab/olab$pid-ctr
	[ -d "$state" ] && hit=$((hit + 1))
	"$OLAB" clean >/dev/null || fail "clean exit $? after SIGKILL at ${delay}s"
	[ ! -e "$state" ] || fail "rootfs/state $state left after clean"
	left=$(find /sys/fs/cgroup -maxdepth 4 -name "olab$pid-*" 2>/dev/null)
	[ -z "$left" ] || fail "cgroups left after clean: $left"
	# (runc list would create the root it is given: only where one is left)
	[ -d "$state/runc" ] && runc --root "$state/runc" list -q 2>/dev/null | grep -q . &&
		fail "runc state left"
	pgrep -f "olab$pid-ctr" >/dev/null && fail "container processes left"
done
[ $hit -gt 0 ] || skip "no SIGKILL landed while containers existed (machine too fast or slow)"
exit 0
