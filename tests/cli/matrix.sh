# offloadlab matrix: usage errors, and env merged per kernel for the host alone
# (no qemu: the guests are covered by vm.sh). Rows are env's features; each
# cell is what `env --json` says on that kernel.
. "$(dirname "$0")/../lib.sh"
out=$(mktemp -d /tmp/olab-matrix-test.XXXXXX)
trap 'rm -rf "$out"' EXIT

"$OLAB" matrix --kernels host -- topo up >/dev/null 2>&1; [ $? -eq 2 ] || fail "matrix accepts topo"
"$OLAB" matrix --kernels host >/dev/null 2>&1; [ $? -eq 2 ] || fail "matrix without a command"
"$OLAB" matrix --kernels 'host,bad kernel' -- env >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad kernel accepted"
"$OLAB" matrix --kernels , -- env >/dev/null 2>&1; [ $? -eq 2 ] || fail "empty kernel list accepted"

"$OLAB" --json env >"$out/env.json" 2>/dev/null || fail "env failed"
"$OLAB" --json matrix --kernels host -- env >"$out/m.json" 2>"$out/m.err" || fail "matrix: $(cat "$out/m.err")"
jq -e '.kind == "env" and (.kernels | length == 1) and .kernels[0].kernel == "host" and
	.kernels[0].status == 0 and .kernels[0].emulated == false' "$out/m.json" >/dev/null ||
	fail "kernels: $(jq -c .kernels "$out/m.json")"
want=$(jq -S -c '.features | map_values({supported, reason})' "$out/env.json")
got=$(jq -S -c '.rows | map_values(.host)' "$out/m.json")
[ "$want" = "$got" ] || fail "rows differ from env: $got vs $want"
"$OLAB" matrix --kernels host -- env >"$out/m.txt" 2>/dev/null || fail "text matrix failed"
grep -Eq '^tcx +(yes|no: E[A-Z]+)$' "$out/m.txt" || fail "no tcx row: $(cat "$out/m.txt")"
echo ok
