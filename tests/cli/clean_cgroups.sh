# cgroups of a dead run are found at the cgroup2 mount (wherever it is:
# /sys/fs/cgroup/unified on hybrid hosts, /sys/fs/cgroup on unified ones) and
# removed when its manifest lists them, children first; a look-alike the
# manifest does not list, or one whose inode differs, is left with the reason.
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root"
cg=$(findmnt -rn -t cgroup2 -o TARGET | head -n 1)
[ -n "$cg" ] || skip "no cgroup2 mount"
sh -c 'exit 0' & run=$!
wait $run
ours=$cg/olab$run-cg stranger=$cg/olab$run-stranger swapped=$cg/olab$run-swapped
manifest=/run/offloadlab/olab$run.manifest
trap 'rmdir "$ours/app" "$ours" "$stranger" "$swapped" 2>/dev/null; rm -f "$manifest"' EXIT
mkdir "$ours" "$ours/app" "$stranger" "$swapped" || fail "cannot make the cgroups"
mkdir -p /run/offloadlab
line() { printf '{"kind":"cgroup","path":"%s","dev":%s,"ino":%s}\n' "$1" "$(stat -c %d "$1")" "$2"; }
{
	line "$ours" "$(stat -c %i "$ours")"
	line "$ours/app" "$(stat -c %i "$ours/app")"
	line "$swapped" "$(( $(stat -c %i "$swapped") + 1 ))"
} > "$manifest"

out=$("$OLAB" clean) || fail "clean exit $?: $out"
[ ! -e "$ours" ] || fail "clean left the listed cgroups: $out"
[ -d "$stranger" ] || fail "clean removed an unlisted cgroup: $out"
[ -d "$swapped" ] || fail "clean removed a cgroup whose inode differs: $out"
echo "$out" | grep -qx "removed cgroup $ours/app" || fail "not reported: $out"
echo "$out" | grep -qx "removed cgroup $ours" || fail "not reported: $out"
echo "$out" | grep -q "left cgroup $stranger: not created by offloadlab (not in run olab$run's manifest)" ||
	fail "clean did not say why it left the stranger: $out"
echo "$out" | grep -q "left cgroup $swapped: not created by offloadlab (inode" ||
	fail "clean did not say why it left the swapped one: $out"
exit 0
