# `containers probe`: bad input is one line and exit 1/2 with nothing left
# behind; the matrix has every probe for every set; the container's CapEff is
# the set asked for; sys_admin is warned about.
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root"
command -v runc >/dev/null || skip "runc not installed"
command -v jq >/dev/null || skip "jq not installed"

# Run state directories of dead runs named like containers' (leftovers).
ctr_leftovers() {
	ls /run/offloadlab 2>/dev/null | grep -- '-ctr$' | without_live_runs
	find /sys/fs/cgroup -maxdepth 3 -name 'olab*-ctr-*' 2>/dev/null | xargs -r -n1 basename |
		without_live_runs
}
before=$(ctr_leftovers)

# One line on stderr, exit status $1, nothing left.
one_line() {
	local want=$1 what=$2; shift 2
	out=$("$@" 2>&1 >/dev/null); rc=$?
	[ $rc -eq "$want" ] || fail "$what: exit $rc, want $want ($out)"
	[ "$(echo "$out" | wc -l)" -eq 1 ] || fail "$what: not one line: $out"
	[ "$(ctr_leftovers)" = "$before" ] || fail "$what: left $(ctr_leftovers)"
}

one_line 2 "unknown capability" "$OLAB" containers probe --caps bpf,nosuchcap
echo "$out" | grep -q "unknown capability 'nosuchcap'" || fail "unclear: $out"
one_line 2 "number as capability" "$OLAB" containers probe --caps 21
one_line 1 "missing runc" env OLAB_RUNC=/nonexistent/runc "$OLAB" containers probe --caps none
echo "$out" | grep -q "runc not found" || fail "unclear: $out"
one_line 1 "runc not in PATH" env PATH=/nonexistent "$OLAB" containers probe --caps none
one_line 1 "missing busybox" env OLAB_BUSYBOX=/nonexistent/busybox "$OLAB" containers probe
echo "$out" | grep -q "busybox not found" || fail "unclear: $out"
one_line 1 "dynamic busybox" env OLAB_BUSYBOX=/bin/ls "$OLAB" containers probe
echo "$out" | grep -q "not a statically linked" || fail "unclear: $out"
[ -x /bin/busybox ] || skip "busybox-static not installed"

# The default matrix: four sets, every probe row, each cell works or E*.
out=$("$OLAB" containers probe) || fail "probe exit $?"
echo "$out" | grep -q '^capabilities *none *bpf,net_admin *bpf,net_admin,perfmon *sys_admin$' ||
	fail "header: $out"
rows=$(echo "$out" | grep -c -E '^(load|attach|sockmap|mount|BPF_PROG)')
[ "$rows" -eq 11 ] || fail "want 11 probe rows, got $rows: $out"
echo "$out" | grep -E '^(load|attach|sockmap|mount|BPF_PROG)' | awk '{print $(NF-3), $(NF-2), $(NF-1), $NF}' |
	tr ' ' '\n' | grep -v -E '^(works|E[A-Z0-9]+)$' && fail "odd cells: $out"
echo "$out" | grep -q '^load XDP *EPERM *works *works *works$' || fail "load XDP row: $out"

# One set, as JSON: CapEff exactly bpf (39) + net_admin (12).
js=$("$OLAB" containers probe --caps CAP_BPF,net_admin --json) || fail "json probe exit $?"
[ "$(echo "$js" | jq -r '.sets | length')" = 1 ] || fail "one set: $js"
[ "$(echo "$js" | jq -r '.sets[0].cap_eff')" = 0x8000001000 ] || fail "CapEff: $js"
[ "$(echo "$js" | jq -r '.sets[0].caps')" = bpf,net_admin ] || fail "caps: $js"
[ "$(echo "$js" | jq -r '.sets[0].probes.attach_xdp.result')" = works ] || fail "attach_xdp: $js"
[ "$(echo "$js" | jq -r '.sets[0].probes | length')" = 11 ] || fail "11 probes: $js"

# A capability that reaches the host: one warning line on stderr for the
# container; the eBPF set gets none.
err=$("$OLAB" containers probe --caps sys_admin,bpf 2>&1 >/dev/null) || fail "sys_admin probe exit $?"
[ "$(echo "$err" | wc -l)" -eq 1 ] || fail "sys_admin: want one stderr line: $err"
echo "$err" | grep -q 'warning: .*-ctr-probe[0-9]* has sys_admin, ' || fail "sys_admin warning: $err"
err=$("$OLAB" containers probe --caps bpf,net_admin,perfmon 2>&1 >/dev/null) || fail "probe exit $?"
[ -z "$err" ] || fail "bpf,net_admin,perfmon: stderr not empty: $err"
[ "$(ctr_leftovers)" = "$before" ] || fail "probe left $(ctr_leftovers)"
exit 0
