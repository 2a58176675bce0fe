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
touch "$out/file"
"$OLAB" matrix --kernels host --out "$out/file" -- env >/dev/null 2>&1; [ $? -eq 2 ] || fail "--out a file accepted"

"$OLAB" --json env >"$out/env.json" 2>/dev/null || fail "env failed"
"$OLAB" --json matrix --kernels host --out "$out/res" -- env >"$out/m.json" 2>"$out/m.err" ||
	fail "matrix: $(cat "$out/m.err")"
jq -e '.kind == "env" and (.kernels | length == 1) and .kernels[0].kernel == "host" and
	.kernels[0].status == 0 and .kernels[0].emulated == false' "$out/m.json" >/dev/null ||
	fail "kernels: $(jq -c .kernels "$out/m.json")"
want=$(jq -S -c '.features | map_values({supported, reason})' "$out/env.json")
got=$(jq -S -c '.rows | map_values(.host)' "$out/m.json")
[ "$want" = "$got" ] || fail "rows differ from env: $got vs $want"
# saved into a new run folder (stdout's table plus the config and command),
# the one stderr line says how to see it; the report draws it
run=$(echo "$out"/res/run-*)
[ -d "$run" ] && [ "$(ls "$run")" = matrix-env.json ] || fail "no run folder with matrix-env.json: $(ls -R "$out/res")"
[ "$(jq -S -c 'del(.config, .command)' "$run/matrix-env.json")" = "$(jq -S -c . "$out/m.json")" ] &&
	jq -e '.command == ["env"] and (.config.kernel | length > 0)' "$run/matrix-env.json" >/dev/null ||
	fail "saved matrix differs from stdout"
grep -qxF "offloadlab matrix: saved $run/matrix-env.json; its report: offloadlab report $run (writes $run/report.html)" \
	"$out/m.err" || fail "no report hint: $(cat "$out/m.err")"
"$OLAB" --json report "$run" >"$out/r.json" 2>/dev/null || fail "report of the matrix run failed"
jq -e --argjson n "$(jq '.rows | length' "$out/m.json")" '[.plots[] | select(.title | startswith("matrix env:"))] |
	length == 1 and .[0].series > $n' "$out/r.json" >/dev/null || fail "report: no matrix env plot: $(jq -c .plots "$out/r.json")"
"$OLAB" matrix --kernels host --out "$out/res" -- env >"$out/m.txt" 2>/dev/null || fail "text matrix failed"
grep -Eq '^tcx +(yes|no: E[A-Z]+)$' "$out/m.txt" || fail "no tcx row: $(cat "$out/m.txt")"
echo ok
