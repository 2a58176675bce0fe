#!/usr/bin/env bash
# Writes the report's fixture run (tests/report/fixture-run/): a small
# results.json with every kind of figure the report draws (bars by hook and
# layout, overhead methods with their agreement, echo histograms in both
# cpu-idle modes, a size x pct heatmap, batch and maps curves, share
# channels, ratios, a skipped hook, a scenario run), checks.json and verifier.json.  Values
# are made up (shaped like real runs); built with jq, not by hand.
set -eu
out=${1:-"$(dirname "$0")/fixture-run"}
mkdir -p "$out"
jq -n '
def fig($b; $h; $v; $m; $u; $med; $ci): {bench: $b, hook: $h, variant: $v, metric: $m, unit: $u,
  method: "fixture", median: $med, ci95: $ci, trials: [$ci[0], $med, $ci[1]], runtime: "netns",
  size: 64, cpu_idle: {mode: "default", in_effect: true}};
def hist($s; $o): [range(10 + $o; 16 + $o) as $k | {le_ns: pow(2; $k), count: ((16 + $o - $k) * (16 + $o - $k) * $s)}];
{run_id: "run-fixture", complete: true,
 config: {kernel: "6.18.0-fixture", commit: "0123456789ab", offloadlab: "0.1.0", cpus: 2,
   host: "fixture", started: "2026-12-03T12:00:00Z",
   command_line: "offloadlab bench all --quick <fixture & co>",
   measurement: {lock: "exclusive", waited: false, other_live_runs: 0,
     note: "no other offloadlab run measured while this one held the lock"},
   bench: {runtime: "netns", quick: true, axes: {hook: "all", layout: "per bench", "cpu-idle": "per bench",
     size: "per bench", pct: "per bench", batch: "per bench", channel: "per bench", key: "per bench"}}},
 results: (
   [ (["xdp", 4.1e6], ["tc", 3.7e6], ["udp-socket", 0.95e6]) as $x |
     (["app-own-cpu", 1.0], ["app-shares-rx-cpu", 0.6]) as $l | ($x[1] * $l[1]) as $v |
     fig("drop"; $x[0]; $l[0]; "pps"; "packets/s"; $v; [$v * 0.97, $v * 1.03]) ]
   + [ (["xdp", 4.7], ["tc", 6.2], ["sk-skb-verdict", 22.0]) as $x |
     (["app-own-cpu", 1.0], ["app-shares-rx-cpu", 1.4]) as $l | ($x[1] * $l[1]) as $v |
     fig("pass"; $x[0]; $l[0]; "cost_pct"; "%"; $v; [$v - 0.8, $v + 0.8]) ]
   + [ fig("overhead"; "xdp"; null; "ns_per_packet"; "ns"; 37; [35, 39])
         + {agreement: {delta_vs_bpf_stats: "agree (CIs overlap)"}},
       fig("overhead"; "tc"; null; "ns_per_packet"; "ns"; 55; [52, 58])
         + {agreement: {delta_vs_bpf_stats: "differ"}},
       fig("overhead"; "xdp"; null; "ns_per_run"; "ns"; 36; [35, 37]) + {primary: false},
       fig("overhead"; "tc"; null; "ns_per_run"; "ns"; 41; [40, 42]) + {primary: false},
       fig("overhead"; "xdp"; null; "ns_per_run_test_run"; "ns"; 30; [29, 31]) + {primary: false},
       {bench: "overhead", hook: "tc", metric: "ns_per_run_test_run", unit: "ns", primary: false,
        method: "BPF_PROG_TEST_RUN: <not for this hook>", unsupported: "BPF_PROG_TEST_RUN: <not for this hook>",
        trials: [], runtime: "netns"},
       {bench: "drop", hook: "xdp-offload", metric: "skipped", unit: "", method: "no NIC offload here",
        trials: [], runtime: "netns"} ]
   + [ (["xdp", 9.0, 0], ["tc", 11.0, 1], ["udp-socket", 14.0, 2]) as $x | (["poll", 1.0, 1], ["default", 1.8, 3]) as $c |
       ($x[1] * $c[1]) as $v |
       (fig("echo"; $x[0]; null; "p50_us"; "us"; $v; [$v * 0.95, $v * 1.05])
          + {cpu_idle: {mode: $c[0]}, histogram: hist($c[2]; $x[2] + $c[2] - 1)}),
       (fig("echo"; $x[0]; null; "p99_us"; "us"; $v * 2.5; [$v * 2.3, $v * 2.7]) + {cpu_idle: {mode: $c[0]}}),
       (fig("echo"; $x[0]; null; "p999_us"; "us"; $v * 4; [$v * 3.6, $v * 4.4]) + {cpu_idle: {mode: $c[0]}}) ]
   + [ (64, 256, 1024) as $s | (0, 10, 50) as $p | (($s / 256) * (1 - $p / 100) * 1.3) as $v |
       fig("summarize"; "xdp"; "app-shares-rx-cpu"; "speedup"; "x"; $v; [$v * 0.95, $v * 1.05]) + {size: $s, pct: $p} ]
   + [ (1, 4, 16, 64) as $b | (2e5 * ($b | sqrt)) as $v |
       fig("batch"; "xdp"; null; "rps"; "requests/s"; $v; [$v * 0.95, $v * 1.05]) + {batch: $b} ]
   + [ (["ringbuf", 6e6], ["perfbuf", 4e6], ["user-ringbuf", 5e6]) as $c |
       fig("share"; "xdp"; null; "records_per_s"; "records/s"; $c[1]; [$c[1] * 0.96, $c[1] * 1.04]) + {channel: $c[0]} ]
   + [ (["hash", 60], ["lru_hash", 75]) as $m | (1000, 100000, 1000000) as $k | ($m[1] * ($k | log10) / 3) as $v |
       fig("maps"; "xdp"; $m[0]; "ns_per_op"; "ns"; $v; [$v * 0.93, $v * 1.07]) + {key: $k} ]
 ),
 reference: [
   {name: "XDP drop / UDP-socket drop (app on own CPU)", seed: 4.28, here: 4.32, here_range: [4.07, 4.6]},
   {name: "XDP drop / TC drop", seed: 1.11, here: 1.108, here_range: [1.04, 1.18]},
   {name: "sk_skb verdict overhead / XDP overhead", seed: 28.6, here: null,
    note: "measured in different states of the machine (fixture)"}
 ]}' > "$out/results.json"
# A scenario run (offloadlab scenario run, shaped like memcached-count's):
# "scenario" with two clients (one figure 0 in both arms: no ratio), counters
# per arm, 2 expectations passed and 2 failed (one unevaluable); and each
# client figure per arm in "results" (bench "scenario"), as the run saves them.
jq '
def arm($m; $lo; $hi): {median: $m, ci95: [$lo, $hi], ci_coverage: 0.94, n: 5};
def figs: {"memcaslap-udp": {ops_per_s: {none: arm(41600; 40900; 42300), offload: arm(63200; 61800; 64500),
      ratio: arm(1.52; 1.47; 1.56)},
    get_misses: {none: arm(0; 0; 0), offload: arm(0; 0; 0), ratio: null},
    latency_avg_us: {none: arm(385; 372; 399), offload: arm(253; 244; 262), ratio: arm(0.657; 0.63; 0.68)}},
  "memcaslap-tcp": {ops_per_s: {none: arm(30100; 29500; 30800), offload: arm(29500; 28800; 30200),
      ratio: arm(0.98; 0.95; 1.01)}}};
def expect($e; $l; $v; $ok; $why): {expect: $e, line: $l, value: $v, verdict: (if $ok then "pass" else "fail" end),
  reason: $why};
.scenario = {name: "memcached-count", description: "fixture: memcached with a counting offload", pairs: 5,
  clients: [figs | to_entries[] | {name: .key, parser: "memcaslap", figures: .value, failed_trials: 0, may_fail: false}],
  counters: {"counter.count.rx_udp_port": {none: 0, offload: 316000}, "program.count.count_rx.runs": {none: 0, offload: 316020},
    "nft.server.filter.memcached_in": {none: 208000, offload: 316000}},
  cpu_ns_per_trial: {cpu0: {none_user_ns: 9e8, none_system_ns: 3e8, none_softirq_ns: 1e8,
    offload_user_ns: 9.5e8, offload_system_ns: 4e8, offload_softirq_ns: 3e8}},
  expectations: [expect("client.memcaslap-udp.ops_per_s.ratio > 1"; 51; 1.52; true; null),
    expect("counter.count.rx_udp_port.none == 0"; 53; 0; true; null),
    expect("client.memcaslap-tcp.ops_per_s.ratio > 1.1"; 54; 0.98; false; null),
    expect("counter.count.nope.offload > 0"; 55; null; false; "no such counter: counter.count.nope")],
  trials: []}
| .results += [figs | to_entries[] | .key as $c | .value | to_entries[] | .key as $m |
    .value | to_entries[] | select(.key != "ratio") |
    {bench: "scenario", hook: "memcached-count", variant: "\($c)/\(.key)", metric: $m, unit: "",
     method: "the client'"'"'s own output, per trial", median: .value.median, ci95: .value.ci95,
     trials: [.value.ci95[0], .value.median, .value.ci95[1]]}]
' "$out/results.json" > "$out/results.json.tmp" && mv "$out/results.json.tmp" "$out/results.json"
jq -n '{kernel: "6.18.0-fixture",
 checks: [[["xdp-bypasses-tc", "pass"], ["tcx-order", "fail"], ["xdp-offload-attach", "skip"], ["cgroup-multi", "xfail"]][] as $c |
   ["netns", "runc"][] as $r |
   {name: $c[0], summary: "fixture check", status: (if $r == "runc" and $c[1] == "fail" then "pass" else $c[1] end),
    expected: "the <hook> sees 100 packets & \"drops\" them", observed: "\($c[1]) in \($r): 97 packets",
    runtime: $r, reason: (if $c[1] == "skip" then "no NIC with offload" else "" end), reference: ""}],
 totals: {pass: 3, fail: 1, skip: 2, xfail: 2},
 measurement: {lock: "exclusive", other_live_runs: 1, note: "one other run was alive"}}' > "$out/checks.json"
jq -n '{config: {}, matrix: [[["http1", "clang-14", "O1", "v3", true], ["http1", "clang-14", "O2", "v3", true],
   ["json", "clang-14", "O1", "v3", false], ["json", "clang-14", "O2", "v3", true]][] |
   {parser: .[0], compiler: .[1], opt: .[2], mcpu: .[3], loads: .[4],
    stage: (if .[4] then "loaded" else "rejected" end), processed_insns: (if .[4] then 15321 else 1000001 end),
    peak_states: 412, reason: (if .[4] then "" else "BPF program is too large. Processed 1000001 insn" end)}]}' > "$out/verifier.json"
# offloadlab matrix tables (shaped like `matrix --json` outputs on 6.1 under
# TCG and the host): env with a guest that did not boot, check with a skip and
# an xfail, bench with the guest's figures marked emulated.
jq -n '
def k61: {kernel: "6.1", release: "6.1.0-57-cloud-amd64", accel: "tcg",
  accel_why: "no vmx/svm CPU flag (no nested virtualisation)", emulated: true, status: 0, version: "6.1.192"};
def host: {kernel: "host", release: "6.18.0-fixture", accel: "none", emulated: false, status: 0, version: "6.18.0"};
def cfg: {kernel: "6.18.0-fixture", commit: "0123456789ab", offloadlab: "0.1.0", cpus: 2, host: "fixture",
  started: "2026-12-03T12:00:00Z", command_line: "offloadlab matrix --kernels 6.1,6.12,host -- env"};
{kind: "env", command: ["env"], config: cfg,
 kernels: [k61, {kernel: "6.12", release: "6.12.0-fixture", accel: "tcg", accel_why: "", emulated: true,
   status: -1, error: "boot: no <login> within 120 s"}, host],
 rows: {xdp_native: {"6.1": {supported: true, reason: ""}, host: {supported: true, reason: ""}},
   tcx: {"6.1": {supported: false, reason: "EINVAL: Invalid argument (BPF_LINK_CREATE at BPF_TCX_INGRESS)"},
     host: {supported: true, reason: ""}},
   fentry: {"6.1": {supported: true, reason: ""}, host: {supported: false, reason: "EPERM: Operation not permitted (load)"}},
   arena: {"6.1": {supported: false, reason: "EINVAL: Invalid argument (BPF_MAP_CREATE of BPF_MAP_TYPE_ARENA)"},
     host: {supported: true, reason: ""}}}}' > "$out/matrix-env.json"
jq -n '{kind: "check", command: ["check"], kernels: ['"$(jq -c '.kernels[0]' "$out/matrix-env.json")"',
   '"$(jq -c '.kernels[2]' "$out/matrix-env.json")"'],
 rows: {"xdp-drop-bypasses-netfilter": {"6.1": {status: "pass", reason: ""}, host: {status: "pass", reason: ""}},
   "tcx-order": {"6.1": {status: "skip", reason: "needs tcx: EINVAL: Invalid argument (BPF_LINK_CREATE at BPF_TCX_INGRESS)"},
     host: {status: "pass", reason: ""}},
   "cgroup-multi": {"6.1": {status: "xfail", reason: "fixed in 6.6: child before parent"},
     host: {status: "fail", reason: "parent ran first"}}}}' > "$out/matrix-check.json"
jq -n '{kind: "bench", command: ["bench", "drop", "--quick"], kernels: ['"$(jq -c '.kernels[0]' "$out/matrix-env.json")"',
   '"$(jq -c '.kernels[2]' "$out/matrix-env.json")"'],
 rows: {"drop/xdp/app-own-cpu pps": {"6.1": {median: 310000, ci95: [290000, 325000], unit: "packets/s",
       note: "emulated, not comparable"}, host: {median: 4.1e6, ci95: [3.98e6, 4.22e6], unit: "packets/s"}},
   "drop/tc/app-own-cpu pps": {"6.1": {median: 280000, ci95: [262000, 301000], unit: "packets/s",
       note: "emulated, not comparable"}, host: {median: 3.7e6, ci95: [3.6e6, 3.8e6], unit: "packets/s"}},
   "drop/tcx/app-own-cpu pps": {host: {median: 3.75e6, ci95: [3.66e6, 3.83e6], unit: "packets/s"}}},
 ratios: "refused across kernels: emulated figures are not comparable"}' > "$out/matrix-bench.json"
