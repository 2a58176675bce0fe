# offloadlab vm: Debian's 6.1 cloud kernel booted in qemu (TCG here) runs env
# (after --accel auto gave a KVM try up), one check and a small bench; tcx
# is unsupported there, with the kernel's errno as reason.
# A SIGKILLed vm run leaves nothing after `clean`.  The kernel package is
# cached in /var/cache/offloadlab, so only the first run downloads.
. "$(dirname "$0")/../lib.sh"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 missing (make deps installs qemu-system-x86)"
[ -x /usr/lib/qemu/virtiofsd ] || skip "/usr/lib/qemu/virtiofsd missing (qemu-system-x86)"
out=$(mktemp -d /tmp/olab-vm-test.XXXXXX)
trap 'rm -rf "$out"' EXIT

# Usage errors: exit 2, one line, nothing booted.
"$OLAB" vm -- env >/dev/null 2>"$out/err"; [ $? -eq 2 ] || fail "vm without --kernel: not a usage error"
"$OLAB" vm --kernel 'bad kernel' -- env >/dev/null 2>"$out/err"; [ $? -eq 2 ] || fail "bad --kernel accepted"
"$OLAB" vm --kernel 6.1 >/dev/null 2>"$out/err"; [ $? -eq 2 ] || fail "vm without a command accepted"

# --accel auto made to try KVM (OLAB_VM_TRY_KVM=1): here KVM hangs, so the
# guest is not up within --kvm-timeout and the run is retried under TCG,
# which stderr and the JSON record with why (where KVM works, it is used).
OLAB_VM_TRY_KVM=1 "$OLAB" --json vm --kernel 6.1 --kvm-timeout 1 -- env >"$out/env.json" 2>"$out/env.err"
rc=$?
if [ $rc -ne 0 ] && grep -Eq "cannot fetch kernel package|no linux-image-" "$out/env.err"; then
	skip "kernel 6.1 not available: $(grep -E 'cannot fetch|no linux-image' "$out/env.err" | head -n1)"
fi
[ $rc -eq 0 ] || fail "vm env: exit $rc: $(tail -n 20 "$out/env.err")"
if jq -e '.vm.accel == "tcg"' "$out/env.json" >/dev/null; then
	jq -e '.vm.accel_why | test("^KVM failed \\(.+\\): fell back to TCG$")' "$out/env.json" >/dev/null ||
		fail "fallback not recorded in JSON: $(jq -c .vm "$out/env.json")"
	grep -q "accel tcg (KVM failed (" "$out/env.err" || fail "fallback not on stderr: $(cat "$out/env.err")"
else
	jq -e '.vm.accel == "kvm"' "$out/env.json" >/dev/null || fail "accel: $(jq -c .vm "$out/env.json")"
fi
jq -e '.kernel.release | startswith("6.1.")' "$out/env.json" >/dev/null ||
	fail "guest kernel is not 6.1: $(jq -c .kernel.release "$out/env.json")"
jq -e '.features.tcx.supported == false and (.features.tcx.reason | test("^E[A-Z]+: "))' \
	"$out/env.json" >/dev/null || fail "tcx on 6.1: $(jq -c .features.tcx "$out/env.json")"
jq -e '.features.xdp_native.supported == true' "$out/env.json" >/dev/null ||
	fail "xdp_native on 6.1: $(jq -c .features.xdp_native "$out/env.json")"

# One check in the guest: its status and the guest's exit status come back.
"$OLAB" --json vm --kernel 6.1 --accel tcg -- check xdp-drop-bypasses-netfilter >"$out/check.json" 2>"$out/check.err"
rc=$?
[ $rc -eq 0 ] || fail "vm check: exit $rc: $(tail -n 20 "$out/check.err")"
jq -e '.kernel | startswith("6.1.")' "$out/check.json" >/dev/null || fail "check ran on $(jq -c .kernel "$out/check.json")"
jq -e '.checks | length == 1 and .[0].name == "xdp-drop-bypasses-netfilter" and .[0].status == "pass"' \
	"$out/check.json" >/dev/null || fail "check in the guest: $(jq -c '.checks[0] | {name, status, reason}' "$out/check.json")"

# A small bench in the TCG guest: its lead-in and window scale with
# OLAB_TIME_SCALE, so the generator covers the window and figures come back.
"$OLAB" --json vm --kernel 6.1 --accel tcg -- bench drop --hook xdp --quick --trials 1 >"$out/bench.json" 2>"$out/bench.err"
rc=$?
[ $rc -eq 0 ] || fail "vm bench: exit $rc: $(tail -n 20 "$out/bench.err")"
jq -e '.vm.accel == "tcg" and (.results | length >= 1) and
	all(.results[]; .bench == "drop" and .hook == "xdp" and .median > 0)' "$out/bench.json" >/dev/null ||
	fail "bench in the guest: $(jq -c '{vm, r: [.results[]? | {bench, hook, median}]}' "$out/bench.json")"

# The guest's exit status is the command's: a usage error in the guest is 2.
"$OLAB" vm --kernel 6.1 --accel tcg -- env --no-such-option >/dev/null 2>"$out/usage.err"; rc=$?
[ $rc -eq 2 ] || fail "guest usage error: exit $rc, want 2: $(tail -n 5 "$out/usage.err")"

# SIGKILL while the guest runs, then clean: no qemu, virtiofsd or state left.
"$OLAB" vm --kernel 6.1 --accel tcg -- check xdp-drop-bypasses-netfilter >/dev/null 2>&1 & vm=$!
wait_until 300 pgrep -f "olab$vm-vm/console.log" >/dev/null || { kill -9 $vm; fail "qemu did not start"; }
sleep 2
kill -9 $vm; wait $vm 2>/dev/null
"$OLAB" clean >"$out/clean.out" 2>&1 || fail "clean failed: $(cat "$out/clean.out")"
sleep 1
pgrep -af "olab$vm-vm" && fail "qemu or virtiofsd of the killed run left"
[ ! -e "/run/offloadlab/olab$vm-vm" ] || fail "state folder of the killed run left"
echo "ok"
