#!/usr/bin/env bash
# Where does a new hook, check, bench or scenario go?  In a scratch copy of
# the tree this adds a dummy hook (one entry in the hook table), a dummy check
# (one file), a dummy bench (one file) and a dummy scenario (one YAML file),
# builds, and shows that the command line and the test table pick all four
# up with no other edit, and that the
# README's "where things go" still names those places.
#
# Run by tests/run.sh (with tests/cli/*.sh) and alone: bash tests/extend.sh.
# Needs the tree built (make build/offloadlab build/test_unit): the copy
# reuses build/, so only what the three additions touch is rebuilt.
. "$(dirname "$0")/lib.sh"
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)

# The README's answers (its "Layout: where things go" table).
HOOK_FILE=lib/hooks.c
CHECK_DIR=checks
BENCH_DIR=bench
BENCH_FILE=$BENCH_DIR/dummy_extend.c
SCENARIO_DIR=scenarios
SCENARIO_FILE=$SCENARIO_DIR/dummy-extend.yaml

[ -x "$repo/build/offloadlab" ] && [ -x "$repo/build/test_unit" ] ||
	skip "build/offloadlab and build/test_unit are not built"
scratch=$(mktemp -d /tmp/olab-extend.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
# The tree as it is (edits included), without git; build/ keeps its times.
tar -C "$repo" --exclude=./.git -cf - . | tar -C "$scratch" -xf - || fail "cannot copy the tree"

# (a) a hook: a copy of the "tc" entry named "tc-dummy" (same programs).
add_dummy_hook() {
	perl -0pi -e 's/(\n\t\{\n\t\t\.name = "tc",\n.*?\n\t\},\n)/my $e = $1; $e . ($e =~ s|"tc",|"tc-dummy",|r)/se' \
		"$scratch/$HOOK_FILE"
	[ "$(grep -c '\.name = "tc-dummy"' "$scratch/$HOOK_FILE")" -eq 1 ] ||
		fail "could not add the dummy hook to $HOOK_FILE"
}

# (b) a check that passes: what it observes is what it expects.
add_dummy_check() {
	cat > "$scratch/$CHECK_DIR/dummy_extend.c" <<'EOF'
/* tests/extend.sh: a check is one file. */
#include "checks/check.h"

static int run(struct check_ctx *ctx)
{
	check_observe(ctx, "dummy", "%s", ctx->sabotage ? "sabotaged" : "ok");
	return 0;
}

DEFINE_CHECK(dummy_extend,
	.name = "dummy-extend",
	.summary = "tests/extend.sh: a check added as one file",
	.expected = "dummy: ok",
	.reference = "tests/extend.sh",
	.run = run,
	.order = 1000);
EOF
}

# (c) a bench: one file bench/<name>.c (DEFINE_BENCH: axes, one trial, report).
add_dummy_bench() {
	cat > "$scratch/$BENCH_FILE" <<'EOF'
/* tests/extend.sh: a bench is one file: its axes and one trial of one cell. */
#include "bench/bench.h"

static int dummy_trial(struct bench_cell *c, struct bench_trial *t)
{
	t->v[0] = (double)(t->index + 1) * (double)c->size;
	return 0;
}

static int dummy_report(struct bench_cell *c, const struct bench_series *s)
{
	bench_figure(c, NULL, "size_times_trial", "bytes", "tests/extend.sh", s->v[ARM_MAIN][0],
		     s->n[ARM_MAIN], NULL);
	return 0;
}

static const struct bench bench_dummy_extend = {
	.name = "dummy-extend",
	.summary = "tests/extend.sh: a bench added as one file",
	.order = 1000,
	.axes = { [AXIS_SIZE] = { "64,128" } },
	.trial = dummy_trial,
	.report = dummy_report,
};
DEFINE_BENCH(bench_dummy_extend);
EOF
}

# (d) a scenario: one YAML file (the engine's example, renamed).
add_dummy_scenario() {
	sed -e 's/^name: memcached-count$/name: dummy-extend/' \
	    -e 's/^description: .*/description: a scenario added as one file by tests\/extend.sh/' \
		"$scratch/$SCENARIO_DIR/memcached-count.yaml" > "$scratch/$SCENARIO_FILE"
	grep -q '^name: dummy-extend$' "$scratch/$SCENARIO_FILE" || fail "could not add the dummy scenario"
}

add_dummy_hook
add_dummy_check
add_dummy_bench
add_dummy_scenario

# Nothing else changed: exactly those three paths differ from the tree.
changed=$(cd "$scratch" && diff -rq --exclude=build --exclude=.git "$repo" . |
	sed -e "s|^Files $repo/\([^ ]*\) and .*|\1|" -e "s|^Only in \./*\([^:]*\): \(.*\)|\1/\2|" \
	    -e 's|^/||' | sort | tr '\n' ' ')
want=$(printf '%s\n' "$HOOK_FILE" "$CHECK_DIR/dummy_extend.c" "$BENCH_FILE" "$SCENARIO_FILE" |
	sort | tr '\n' ' ')
[ "$changed" = "$want" ] || fail "the copy differs in '$changed', want '$want'"

make -C "$scratch" -j2 build/offloadlab build/test_unit >"$scratch/make.log" 2>&1 ||
	fail "build: $(grep -m3 -E 'error|Error' "$scratch/make.log")"
olab=$scratch/build/offloadlab

# The hook: an --hook choice of every bench, and in env's hook list (root).
"$olab" bench drop --help | grep -q -- '--hook .*[(|]tc-dummy[|)]' ||
	fail "bench drop --help does not offer --hook tc-dummy"
if [ "$(id -u)" = 0 ]; then
	env=$("$olab" env --json) || fail "env --json exit $?"
	echo "$env" | jq -e '[.hooks[].name] | index("tc-dummy") != null' >/dev/null ||
		fail "env --json does not list tc-dummy"
fi
# The check: listed, and (root) it runs and passes.
"$olab" check --list | grep -q '^dummy-extend ' || fail "check --list does not list dummy-extend"
if [ "$(id -u)" = 0 ]; then
	res=$("$olab" check --wait --json dummy-extend) || fail "check dummy-extend exit $?"
	echo "$res" | jq -e '.checks[0].name == "dummy-extend" and .checks[0].status == "pass"' \
		>/dev/null || fail "check dummy-extend did not pass: $res"
fi
# The bench: a subcommand, in the list with its axis, and (root) the framework
# runs its cells: the new hook x two sizes, two trials each.
"$olab" bench --help | grep -q '^  dummy-extend ' || fail "bench --help does not list dummy-extend"
"$olab" -j bench list | jq -e '.[] | select(.name == "dummy-extend") | .axes.size == "64,128"' \
	>/dev/null || fail "bench list does not show dummy-extend's size axis"
if [ "$(id -u)" = 0 ]; then
	res=$("$olab" -j bench dummy-extend --wait --hook tc-dummy -t 2 -d 0.05 --warmup 0 \
		-o "$scratch/results") || fail "bench dummy-extend exit $?"
	echo "$res" | jq -e '[.results[] | select(.hook == "tc-dummy") | [.size, .trials]] ==
		[[64, [64, 128]], [128, [128, 256]]]' >/dev/null ||
		fail "bench dummy-extend: cells or trials wrong: $(echo "$res" | jq -c '[.results[] | {hook, size, trials}]')"
fi
# The scenario: listed, and it validates (its nft file beside it).
"$olab" scenario list 2>/dev/null | grep -q '^dummy-extend ' || fail "scenario list does not list dummy-extend"
"$olab" scenario check "$scratch/$SCENARIO_FILE" >/dev/null 2>"$scratch/scen.err" ||
	fail "scenario check dummy-extend: $(cat "$scratch/scen.err")"
# The test table: the hook table test has a subtest for the new hook, and passes.
out=$("$scratch/build/test_unit" hooks_table 2>/dev/null) || fail "test_unit hooks_table: $out"
echo "$out" | grep -q '^  PASS hooks_table/tc-dummy$' ||
	fail "test_unit hooks_table has no passing subtest for tc-dummy: $out"

# The README still says where each goes.
for where in "$HOOK_FILE" "$CHECK_DIR/" "$BENCH_DIR/" "$SCENARIO_DIR/"; do
	grep -A14 -i '^## Layout: where things go' "$repo/README.md" | grep -qF "\`$where" ||
		fail "README's 'where things go' does not name $where"
done
echo "ok: a hook (one entry), a check, a bench and a scenario (one file each) were picked up"
