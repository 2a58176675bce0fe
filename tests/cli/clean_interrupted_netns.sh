# A run killed between creating /run/netns/<name> and mounting the namespace
# on it leaves a plain file; its manifest lists the file ("netns file", with
# its inode), so `clean` removes it.  A plain file the manifest does not list
# is left, with the reason.
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root"
sh -c 'exit 0' & run=$!
wait $run
half=/run/netns/olab$run-half stranger=/run/netns/olab$run-stranger
manifest=/run/offloadlab/olab$run.manifest
trap 'rm -f "$half" "$stranger" "$manifest"' EXIT
mkdir -p /run/netns /run/offloadlab
: > "$half" && : > "$stranger" || fail "cannot make the files"
printf '{"kind":"netns file","path":"%s","dev":%s,"ino":%s}\n' "$half" \
	"$(stat -c %d "$half")" "$(stat -c %i "$half")" > "$manifest"

out=$("$OLAB" clean) || fail "clean exit $?: $out"
[ ! -e "$half" ] || fail "clean left the listed file: $out"
[ -e "$stranger" ] || fail "clean removed a file the manifest does not list: $out"
echo "$out" | grep -qx "removed netns file olab$run-half" || fail "not reported: $out"
echo "$out" | grep -q "left netns olab$run-stranger: not created by offloadlab (not a namespace bind mount)" ||
	fail "clean did not say why it left the stranger: $out"
exit 0
