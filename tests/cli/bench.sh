# Each bench x hook in a short smoke mode, asserting what the counters say:
# sent >= received, the drop counter equals what arrived, the app got nothing
# when a hook drops, the pass path delivered every byte; and bad input.
. "$(dirname "$0")/../lib.sh"
out=$(mktemp -d /tmp/olab-bench-test.XXXXXX)
trap 'rm -rf "$out"' EXIT
smoke="--trials 1 --duration 0.2 --warmup 0 --out $out --json"

# -- bad input: one line, exit 2 (usage) or 1 (runtime), nothing left behind
before=$(root_snapshot)
check_bad() { # expected-exit args...
	local want=$1; shift
	msg=$("$OLAB" "$@" 2>&1 >/dev/null); rc=$?
	[ $rc -eq "$want" ] || fail "'$*': exit $rc, want $want ($msg)"
	[ "$(echo "$msg" | wc -l)" -eq 1 ] || fail "'$*': not one line: $msg"
}
check_bad 2 bench drop --hook bogus
check_bad 2 bench drop --size 63
check_bad 2 bench drop --size 1501
check_bad 2 bench overhead --hook udp-socket
check_bad 2 bench drop --hook xdp --out /proc/olab-unwritable
OLAB_DISABLE_FEATURES=tcx check_bad 2 bench pass --hook tcx
check_bad 2 bench drop --layout sideways
check_bad 2 bench drop --size 64,abc
check_bad 2 bench pass --hook sk-skb-verdict --proto udp
[ "$before" = "$(root_snapshot)" ] || fail "bad input left something behind"

# -- drop: one figure per program hook, two per baseline (two layouts); the
# hooks are the table's, as env lists them (those supported here).
hooks=$("$OLAB" env --json | jq -c '[.hooks[] | select(.supported)]') || fail "env --json exit $?"
want=$(echo "$hooks" | jq '[.[] | if .program then 1 else 2 end] | add')
[ "$want" -ge 1 ] || fail "env --json lists no supported hook"
j=$("$OLAB" bench drop $smoke) || fail "bench drop exit $?"
n=$(echo "$j" | jq '[.results[] | select(.metric == "pps")] | length')
[ "$n" -eq "$want" ] || fail "drop: $n figures, want $want (program hooks + baselines x 2 layouts)"
echo "$j" | jq -e '[.results[] | select(.metric == "pps") | .median > 0] | all' >/dev/null ||
	fail "drop: a zero rate"
echo "$j" | jq -e '.config.kernel and .config.commit and .run_id' >/dev/null || fail "drop: config"
for h in xdp xdp-generic tc tcx; do
	echo "$j" | jq -e --arg h "$h" '.results[] | select(.hook == $h) | .per_trial[0] |
		.app_received == 0 and .sent >= .arrived and .dropped <= .arrived and
		.arrived - .dropped <= 10 and .dropped > 0' >/dev/null ||
		fail "drop $h: counters disagree: $(echo "$j" | jq -c --arg h "$h" '.results[] | select(.hook == $h) | .per_trial[0]')"
done
for h in sk-skb-verdict sk-skb-parser; do
	echo "$j" | jq -e --arg h "$h" '.results[] | select(.hook == $h) | .per_trial[0] |
		.app_received == 0 and .dropped == .sent and .sent > 0' >/dev/null ||
		fail "drop $h: the verdict did not drop every request: $(echo "$j" | jq -c --arg h "$h" '.results[] | select(.hook == $h) | .per_trial[0]')"
done
echo "$j" | jq -e '[.results[] | select(.hook == "udp-socket") | .per_trial[0] |
	.app_received > 0 and .sent >= .app_received] | all' >/dev/null || fail "drop udp-socket: sent < received"
echo "$j" | jq -e '[.results[] | select(.hook == "xdp") | .per_trial[0].cpu == 1] | all' >/dev/null ||
	fail "drop xdp: the drops were not counted on the receive CPU 1"
[ -s "$(ls -d "$out"/run-*/results.json | head -n1)" ] || fail "drop: no results.json"

# -- axes: lists multiply into cells; each figure carries its size and layout
j=$("$OLAB" bench drop --hook udp-socket --size 64,128 $smoke) || fail "bench drop sizes exit $?"
echo "$j" | jq -e '[.results[] | select(.metric == "pps") | [.size, .variant]] | sort ==
	[[64, "app-own-cpu"], [64, "app-shares-rx-cpu"], [128, "app-own-cpu"], [128, "app-shares-rx-cpu"]]' >/dev/null ||
	fail "drop --size 64,128: cells $(echo "$j" | jq -c '[.results[] | [.size, .variant]]')"
"$OLAB" -j bench list | jq -e '[.[].name] == ["overhead", "drop", "pass", "echo", "summarize",
	"interfere", "share", "batch", "copy", "objects", "clock", "helpers",
	"maps", "calls"] and
	(.[] | select(.name == "clock") | .axes.op) == ["ktime", "boot", "coarse", "tai", "jiffies"] and
	(.[] | select(.name == "pass") | .axes.proto) == "tcp,udp"' >/dev/null || fail "bench list"

# -- pass: TCP bytes all delivered, with and without the program
j=$("$OLAB" bench pass $smoke) || fail "bench pass exit $?"
for h in xdp xdp-generic tc tcx sk-skb-verdict; do
	echo "$j" | jq -e --arg h "$h" '[.results[] | select(.hook == $h and .metric == "cost_pct" and .variant == null) | .pairs[0].delivered_all] | all and length == 1' >/dev/null ||
		fail "pass $h: TCP bytes lost: $(echo "$j" | jq -c --arg h "$h" '.results[] | select(.hook == $h and .metric == "cost_pct")')"
done
# The program ran and counted what it passed: UDP for packet hooks, TCP for stream hooks.
for hv in xdp:udp xdp-generic:udp tc:udp tcx:udp sk-skb-verdict:null; do
	h=${hv%%:*} v=${hv#*:}
	echo "$j" | jq -e --arg h "$h" --argjson v "$( [ "$v" = null ] && echo null || echo "\"$v\"")" \
		'.results[] | select(.hook == $h and .metric == "cost_pct" and .variant == $v) | .pairs[0].program_passed > 0' >/dev/null ||
		fail "pass $h ($v): the program did not count what it passed"
done
echo "$j" | jq -e '[.results[] | select(.metric == "cost_pct")] | length >= 6' >/dev/null || fail "pass: cost figures missing"

# -- overhead: all three methods where they apply
j=$("$OLAB" bench overhead $smoke) || fail "bench overhead exit $?"
for h in xdp xdp-generic tc tcx; do
	echo "$j" | jq -e --arg h "$h" '[.results[] | select(.hook == $h) | .metric] |
		index("ns_per_packet") != null and index("ns_per_run") != null and index("ns_per_run_test_run") != null' >/dev/null ||
		fail "overhead $h: a method is missing"
	echo "$j" | jq -e --arg h "$h" '.results[] | select(.hook == $h and .metric == "ns_per_run") | .median > 0' >/dev/null ||
		fail "overhead $h: bpf_stats counted no runs"
	# One stream, the program toggled: off/on/off windows, saturation
	# recorded (a figure: how busy the NAPI thread was depends on the machine)
	# and every trial assigned a state.
	echo "$j" | jq -e --arg h "$h" '.results[] | select(.hook == $h and .metric == "ns_per_packet" and .variant == null) |
		(.saturated | type) == "boolean" and (.napi_busy | type) == "number" and (.phases | length) == 1 and (.phases[0].ns_per_pkt | length) == 3 and
		([.phases[0].ns_per_pkt[] | . > 0] | all) and .regimes.trials == 1 and .regimes.quiet_trials + .regimes.slow_trials == 1' >/dev/null ||
		fail "overhead $h: the toggled stream: $(echo "$j" | jq -c --arg h "$h" '.results[] | select(.hook == $h and .metric == "ns_per_packet")')"
done
echo "$j" | jq -e '.results[] | select(.hook == "sk-skb-verdict" and .metric == "ns_per_run_test_run") | .unsupported' >/dev/null ||
	fail "overhead: sk_skb test_run should be reported unsupported with a reason"

# -- --runtime runc: the app runs in a container; container vs bare ratios
if command -v runc >/dev/null; then
	j=$("$OLAB" bench drop --hook udp-socket --runtime runc $smoke) || fail "bench drop --runtime runc exit $?"
	echo "$j" | jq -e '[.results[] | select(.runtime == "runc" and .metric == "pps") |
		.per_trial[0].app_received > 0] | length == 2 and all' >/dev/null ||
		fail "runc: the app in the container received nothing: $(echo "$j" | jq -c '[.results[] | {runtime, variant, metric, median}]')"
	echo "$j" | jq -e '[.results[] | select(.metric == "pps_runc_over_netns") | .median > 0] | length == 2 and all' >/dev/null ||
		fail "runc: no container/bare ratios"
	# Stream hooks: the app in the container is handed the sockhash (runc
	# --preserve-fds) and puts its sockets in it, so the verdict on the host
	# drops every request and the app reads nothing; with --runtime netns too.
	j=$("$OLAB" bench drop --hook sk-skb-verdict --runtime runc $smoke) || fail "runc sk-skb exit $?"
	echo "$j" | jq -e '[.results[] | select(.metric == "pps") | .per_trial[0] |
		.app_received == 0 and .dropped == .sent and .sent > 0] | length == 2 and all' >/dev/null ||
		fail "runc sk-skb-verdict: the verdict did not see the container's sockets: $(echo "$j" | jq -c '[.results[] | select(.metric == "pps") | {runtime, t: .per_trial[0]}]')"
	j=$("$OLAB" bench pass --hook sk-skb-verdict --runtime runc $smoke) || fail "runc sk-skb pass exit $?"
	echo "$j" | jq -e '[.results[] | select(.runtime == "runc" and .metric == "cost_pct" and .variant == null) |
		.pairs[0] | .delivered_all and .program_passed > 0] | length == 1 and all' >/dev/null ||
		fail "runc sk-skb-verdict pass: bytes lost or the verdict saw nothing: $(echo "$j" | jq -c '[.results[] | select(.metric == "cost_pct") | {runtime, p: .pairs[0]}]')"
fi
exit 0
