# Without root: one line naming the missing capabilities, exit 1, nothing changed.
. "$(dirname "$0")/../lib.sh"
command -v setpriv >/dev/null || skip "setpriv not installed"
[ "$(id -u)" = 0 ] || skip "needs root to drop privileges"
user=nobody
# A copy the unprivileged user can reach, whatever the clone's path permissions.
dir=$(mktemp -d /tmp/olab-nonroot.XXXXXX)
trap 'rm -rf "$dir"' EXIT
chmod 755 "$dir"
install -m 755 "$OLAB" "$dir/offloadlab"
OLAB=$dir/offloadlab

before=$(root_snapshot)
for c in env "topo up" clean; do
	out=$(setpriv --reuid=$user --regid=nogroup --clear-groups --inh-caps=-all \
		"$OLAB" $c 2>&1); rc=$?
	[ $rc -eq 1 ] || fail "$c as $user: exit $rc, want 1 ($out)"
	[ "$(echo "$out" | wc -l)" -eq 1 ] || fail "$c: more than one line: $out"
	for cap in CAP_BPF CAP_NET_ADMIN CAP_SYS_ADMIN; do
		echo "$out" | grep -q "$cap" || fail "$c: $cap not named in: $out"
	done
done
# Root with CAP_BPF dropped: only CAP_BPF is named.
out=$(capsh --drop=cap_bpf -- -c "'$OLAB' env" 2>&1); rc=$?
if command -v capsh >/dev/null; then
	[ $rc -eq 1 ] || fail "env without CAP_BPF: exit $rc ($out)"
	echo "$out" | grep -q CAP_BPF || fail "CAP_BPF not named: $out"
	echo "$out" | grep -q CAP_NET_ADMIN && fail "CAP_NET_ADMIN named though present: $out"
fi
[ "$before" = "$(root_snapshot)" ] || fail "root namespace changed"
exit 0
