# The user-space paths are valgrind-clean in the parent process.  Forked probe
# and sysfs children are silenced: libbpf 1.1 trips valgrind's bpf(2) wrapper there.
# Not here: the benches.  Valgrind holds its lock across the generator's
# BPF_PROG_TEST_RUN calls, which starves the thread that toggles the hook, so
# a bench cannot meet its own timing under valgrind (2 trials took 5 minutes).
. "$(dirname "$0")/../lib.sh"
command -v valgrind >/dev/null || skip "valgrind not installed"
vgerr=$(mktemp)
supp=$(dirname "$0")/../valgrind.supp
for args in "--help" "bogus" "env --json" "topo smoke" "clean" "bench drop --out /proc/olab-vg" \
	    "check --junit /proc/olab-vg.xml"; do
	valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
		--errors-for-leak-kinds=definite --child-silent-after-fork=yes \
		--suppressions="$supp" "$OLAB" $args >/dev/null 2>"$vgerr"; rc=$?
	if [ $rc -eq 99 ] || grep -q '^==[0-9]*== ' "$vgerr"; then
		cat "$vgerr" >&2
		fail "valgrind reports errors for '$args'"
	fi
done
rm -f "$vgerr"
exit 0
