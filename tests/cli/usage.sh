# Usage errors exit 2 with one clear line; --help works everywhere; --version.
. "$(dirname "$0")/../lib.sh"

out=$("$OLAB" bogus 2>&1); rc=$?
[ $rc -eq 2 ] || fail "bogus command: exit $rc, want 2"
echo "$out" | head -n1 | grep -q "unknown command 'bogus'" || fail "bogus: first line is '$(echo "$out" | head -n1)'"
echo "$out" | grep -q '^Usage: offloadlab' || fail "bogus: no usage"

"$OLAB" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "no command: exit $rc, want 2"
"$OLAB" --bogus >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "unknown global option: exit $rc, want 2"

"$OLAB" --version | grep -q '^offloadlab [0-9]' || fail "--version"
"$OLAB" --help | grep -q 'Exit status' || fail "--help"

cmds=$("$OLAB" --help | awk '/^Commands:/{on=1; next} on && /^  [a-z]/{print $1} /^$/{on=0}')
[ -n "$cmds" ] || fail "no commands listed"
for c in $cmds; do
	"$OLAB" "$c" --help >/dev/null || fail "$c --help exits $?"
	out=$("$OLAB" "$c" --no-such-option 2>&1 >/dev/null); rc=$?
	[ $rc -eq 2 ] || fail "$c --no-such-option: exit $rc, want 2"
	[ "$(echo "$out" | head -n1 | grep -c "unknown option '--no-such-option'")" = 1 ] ||
		fail "$c: unclear message: $out"
done
# Bad input found by users: one line, exit 2, promptly (a bounded wait).
for bad in "check -" "check - --json" "topo up --mtu 1279"; do
	out=$(timeout 20 "$OLAB" $bad 2>&1 >/dev/null); rc=$?
	[ $rc -eq 2 ] || fail "'$bad': exit $rc, want 2 ($out)"
	[ "$(echo "$out" | wc -l)" -eq 1 ] || fail "'$bad': not one line: $out"
done
"$OLAB" topo up --mtu 1279 2>&1 | grep -q 'IPv6.*1280' || fail "--mtu 1279 does not name IPv6's 1280"
"$OLAB" topo up --help | grep -q 'IPv6.*1280' || fail "topo up --help does not name IPv6's 1280"
# Prefix matching: "cl" is clean, "c" is ambiguous when several commands start with c.
"$OLAB" cl --help | grep -q 'offloadlab clean' || fail "prefix match"
exit 0
