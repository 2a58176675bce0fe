# --cpu-idle: echo is measured with the CPUs held in POLL by default, its full
# run adds the untuned (default) variant, every figure records its mode, and
# while poll is held no CPU entered a deeper idle state.
. "$(dirname "$0")/../lib.sh"
out=$(mktemp -d /tmp/olab-cpuidle-test.XXXXXX)
trap 'rm -rf "$out"' EXIT
args="--hook udp-socket --trials 2 --duration 100ms --warmup 0 --out $out --json"

j=$("$OLAB" bench echo $args) || fail "bench echo exit $?"
echo "$j" | jq -e '[.results[] | select(.variant == null) | .cpu_idle.mode == "poll"] |
	length == 3 and all' >/dev/null || fail "main figures not in poll: $(echo "$j" | jq -c '[.results[] | {variant, metric, cpu_idle}]')"
echo "$j" | jq -e '[.results[] | select(.variant == "cpu-idle-default") | .cpu_idle.mode == "default"] |
	length == 3 and all' >/dev/null || fail "the full run has no default variant"
echo "$j" | jq -e '.config.bench.cpu_idle' >/dev/null || fail "config does not record cpu_idle"
# Held: the POLL state only (by the kernel's rule, whatever the load).
if echo "$j" | jq -e '.results[] | select(.variant == null and .metric == "p50_us") | .cpu_idle.in_effect' >/dev/null; then
	echo "$j" | jq -e '.results[] | select(.variant == null and .metric == "p50_us") |
		.idle_state_entries | to_entries | map(select(.key != "POLL") | .value == 0) | all' >/dev/null ||
		fail "a deeper idle state was entered while poll was held: $(echo "$j" | jq -c '.results[] | select(.metric == "p50_us") | .idle_state_entries')"
fi
# Every reply matched its request: nothing lost or bad in either mode.
echo "$j" | jq -e '[.results[] | select(.metric == "p50_us") | .replies == .requests and .bad_replies == 0 and .replies > 0] |
	length == 2 and all' >/dev/null || fail "replies do not match requests"

# An explicit mode: only that one, recorded; --quick never adds the variant.
j=$("$OLAB" bench echo $args --cpu-idle default) || fail "--cpu-idle default exit $?"
echo "$j" | jq -e '[.results[] | .variant == "cpu-idle-default" and .cpu_idle.mode == "default"] |
	length == 3 and all' >/dev/null || fail "--cpu-idle default: $(echo "$j" | jq -c '[.results[] | {variant, cpu_idle}]')"
j=$("$OLAB" bench echo $args --quick) || fail "--quick exit $?"
echo "$j" | jq -e '[.results[] | .variant == null] | length == 3 and all' >/dev/null || fail "--quick added a variant"
# Throughput benches leave the idle states alone unless asked.
j=$("$OLAB" bench drop --hook udp-socket --trials 1 --duration 100ms --warmup 0 --out $out --json) || fail "drop exit $?"
echo "$j" | jq -e '[.results[] | .cpu_idle.mode == "default"] | all' >/dev/null || fail "drop not in default mode"

# Where the file cannot be written: one line, the run goes on, and the
# figures say poll was not in effect and why.
j=$(OLAB_CPU_DMA_LATENCY=/nonexistent/cpu_dma_latency "$OLAB" bench echo $args --quick 2>"$out/err") ||
	fail "unwritable latency file: exit $?"
[ "$(grep -c 'not in effect' "$out/err")" -eq 1 ] || fail "not one warning line: $(cat "$out/err")"
echo "$j" | jq -e '[.results[] | .cpu_idle | .mode == "poll" and .in_effect == false and (.reason | test("nonexistent"))] |
	length == 3 and all' >/dev/null || fail "figures do not record the refusal: $(echo "$j" | jq -c '[.results[].cpu_idle]')"
OLAB_CPU_DMA_LATENCY=/nonexistent/x "$OLAB" env --json | jq -e '.kernel.cpuidle.cpu_dma_latency_writable == false' >/dev/null ||
	fail "env does not report the file unwritable"

# Bad input: one line, exit 2.
for bad in "bench echo --cpu-idle deep" "check --cpu-idle" "gen --cpu-idle 0"; do
	msg=$("$OLAB" $bad 2>&1 >/dev/null); rc=$?
	[ $rc -eq 2 ] || fail "'$bad': exit $rc"
	[ "$(echo "$msg" | wc -l)" -eq 1 ] || fail "'$bad': not one line: $msg"
done
exit 0
