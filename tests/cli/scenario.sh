# `scenario check|run` on tests/scenarios/tiny.yaml (memcached from its Debian
# package, memcaslap, the counting offload bpf/scen_count.bpf.c), redis.yaml and
# nginx.yaml (their packages; redis-benchmark, wrk, h2load):
#  - each class of bad file: exit 2, one line "FILE:LINE: field: problem"
#    naming the right line and field, nothing created;
#  - a real run (runc): the clients completed requests in both arms, the
#    offload's counters moved only with it attached, every expectation got a
#    value and passed, exit 0;
#  - with a failing expectation (--runtime netns): exit 1, that one fails;
#  - SIGKILL mid-run, then `clean`: nothing of the run is left.
. "$(dirname "$0")/../lib.sh"
for t in memcached memcaslap runc redis-server redis-benchmark nginx wrk h2load; do command -v $t >/dev/null || skip "$t not installed"; done
src=$(cd "$(dirname "$0")/../scenarios" && pwd)
tmp=$(mktemp -d /tmp/olab-scenario-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp "$src/tiny.nft" "$tmp/"

# -- bad files: sed expression, line, field (prefix), what the problem says
before=$(root_snapshot)
run_state() { ls /run/offloadlab /run/netns /tmp 2>/dev/null | grep '^olab[0-9]' | without_live_runs | sort; }
state_before=$(run_state)
n=0
bad() { # sed-expr want-line want-field want-words
	n=$((n + 1))
	local f="$tmp/bad$n.yaml" msg rc
	sed "$1" "$src/tiny.yaml" > "$f"
	cmp -s "$f" "$src/tiny.yaml" && fail "bad$n: sed '$1' changed nothing"
	for sub in check "run --wait"; do
		msg=$("$OLAB" scenario $sub "$f" 2>&1 >/dev/null); rc=$?
		[ $rc -eq 2 ] || fail "bad$n ($sub, $4): exit $rc, want 2: $msg"
		[ "$(echo "$msg" | wc -l)" -eq 1 ] || fail "bad$n ($sub): not one line: $msg"
		case $msg in
		"$f:$2: $3"*": "*"$4"*) ;;
		*) fail "bad$n ($sub): want '$f:$2: $3...: ...$4...', got: $msg" ;;
		esac
	done
}
bad 's/hook: xdp-native/hook: xdp-bogus/' 24 "offloads[0].programs[0].hook" "unknown hook 'xdp-bogus'"
bad 's/object: scen_count.bpf.o/object: no-such.bpf.o/' 22 "offloads[0].object" "no such object"
bad 's/{name: count_tx, hook: tc-clsact-egress/{name: count_tx, hook: xdp-generic/' 25 \
	"offloads[0].programs[1].hook" "is sched_cls, hook xdp-generic needs xdp"
bad 's|addr: \[198.18.0.2/24\]|addr: [10.0.0.2/24]|' 13 "links[0].b.addr" "outside 198.18.0.0/15"
bad 's/packages: \[memcached\]/packages: [olab-no-such-package]/' 17 "containers[0].packages" \
	"'olab-no-such-package' is not installed"
bad 's/^  - name: client$/  - name: client\n    colour: blue/' 11 "hosts[1]" "unknown key 'colour'"
bad 's/"client.udp.ops.none > 0"/"client.udp.ops.none >> 0"/' 42 "expect[0]" "is not a number"
bad 's/counter.count.rx_udp_port.none == 0/counter.count.rx_nope.none == 0/' 45 "expect[3]" \
	"no global variable 'rx_nope'"
bad 's/      - {name: count_tx/      - {name: count_nope/' 25 "offloads[0].programs[1].name" \
	"has no program 'count_nope'"
[ "$before" = "$(root_snapshot)" ] || fail "bad files left something behind"
new=$(comm -13 <(echo "$state_before") <(run_state))
[ -z "$new" ] || fail "bad files left run state: $new"

# -- a real run, runc containers with the package rootfs
j=$("$OLAB" scenario run "$src/tiny.yaml" --quick --json --wait --out "$tmp") ||
	fail "run exit $?: $(echo "$j" | jq -c ".scenario.error, [.scenario.expectations[] | select(.verdict != \"pass\")]")"
echo "$j" | jq -e '.scenario.clients[] | select(.name == "udp") |
	.figures.ops.none.median > 0 and .figures.ops.offload.median > 0 and .failed_trials == 0' \
	>/dev/null || fail "udp client completed no requests: $(echo "$j" | jq -c '.scenario.clients')"
echo "$j" | jq -e '.scenario.clients[] | select(.name == "tcp") |
	.figures.tps.none.median > 0 and .figures.tps.offload.median > 0' >/dev/null ||
	fail "tcp client (regex figure) gave nothing"
c=$(echo "$j" | jq -c '.scenario.counters')
echo "$c" | jq -e '."counter.count.rx_udp_port".offload > 0 and ."counter.count.rx_udp_port".none == 0
	and ."program.count.count_rx.runs".offload == ."counter.count.rx_packets".offload
	and ."map.count.stats[00000000]".offload == ."counter.count.rx_udp_port".offload
	and ."nft.server.filter.requests".none > 0' >/dev/null ||
	fail "offload counters did not move (only) with it attached: $c"
echo "$j" | jq -e '(.scenario.expectations | length) == 7 and
	([.scenario.expectations[] | .value != null and .verdict == "pass"] | all)' >/dev/null ||
	fail "not every expectation evaluated and passed: $(echo "$j" | jq -c .scenario.expectations)"
echo "$j" | jq -e '.complete == true and ([.results[] | select(.bench == "scenario")] | length) > 0' \
	>/dev/null || fail "results.json incomplete"
[ -f "$tmp/$(echo "$j" | jq -r .run_id)/results.json" ] || fail "no results/run-*/results.json"

# -- redis and nginx from their packages, with the other three parsers
for f in redis nginx; do
	j=$("$OLAB" scenario run "$src/$f.yaml" --quick --json --wait --out "$tmp") ||
		fail "$f: run exit $?: $(echo "$j" | jq -c '.scenario.error, .scenario.expectations')"
	echo "$j" | jq -e '[.scenario.clients[] | .failed_trials == 0 and
		([.figures[] | select(.none != null and .offload != null)] | length) > 0] | all' \
		>/dev/null || fail "$f: a client failed or gave no figure"
	echo "$j" | jq -e '[.scenario.expectations[] | .value != null and .verdict == "pass"] | all' \
		>/dev/null || fail "$f: expectations: $(echo "$j" | jq -c .scenario.expectations)"
done

# -- a failing expectation, --runtime netns: exit 1, that one fails with its value;
# a client that crashes once (SIGABRT, as memcaslap now and then over UDP): its
# trial is measured again once, the failed one kept with its reason
sed -e 's/"counter.count.rx_udp_port.none == 0"/"counter.count.rx_udp_port.offload == 0"/' \
    -e "/^expect:/i\\
  - name: flaky\\
    host: client\\
    command: [sh, -c, 'if [ -e $tmp/flaky.mark ]; then echo got 1; else touch $tmp/flaky.mark; kill -ABRT \\$\\$; fi']\\
    figures: [{name: got, regex: 'got ([0-9]+)'}]" \
	"$src/tiny.yaml" > "$tmp/failing.yaml"
grep -q 'name: flaky' "$tmp/failing.yaml" || fail "could not add the flaky client"
j=$("$OLAB" scenario run "$tmp/failing.yaml" --quick --json --wait --runtime netns --out "$tmp")
rc=$?
[ $rc -eq 1 ] || fail "failing expectation: exit $rc, want 1"
echo "$j" | jq -e '[.scenario.expectations[] | select(.verdict == "fail")] |
	length == 1 and .[0].expect == "counter.count.rx_udp_port.offload == 0" and .[0].value > 0' \
	>/dev/null || fail "want exactly the changed expectation to fail: $(echo "$j" | jq -c .scenario.expectations)"
echo "$j" | jq -e '(.scenario.retried_trials | length) == 1 and
	(.scenario.retried_trials[0].failure | test("client flaky exited with 134")) and
	(.scenario.trials | length) == 2 and ([.scenario.trials[].trial] | sort) == [0, 1]' >/dev/null ||
	fail "the crashed trial was not measured again once: $(echo "$j" | jq -c '{retried: .scenario.retried_trials | map(.failure), trials: [.scenario.trials[].trial]}')"

# -- SIGKILL while the deployment is up, then clean: nothing of the run left
"$OLAB" scenario run "$src/tiny.yaml" --quick --wait --out "$tmp" >/dev/null 2>&1 &
pid=$!
wait_until 200 sh -c "ip netns pids olab$pid-client 2>/dev/null | grep -q ." ||
	fail "the run never started its clients"
[ -d /run/offloadlab/olab$pid-ctr ] || fail "no container state while the clients ran"
kill -9 $pid; wait $pid 2>/dev/null
"$OLAB" clean >/dev/null || fail "clean exit $?"
left=$(ls /run/netns /run/offloadlab /tmp 2>/dev/null | grep "^olab$pid[-.]")
[ -z "$left" ] || fail "left after SIGKILL + clean: $left"
# (zombies are dead: this machine's pid 1 does not reap them)
procs=$(for f in $(grep -l "olab$pid-" /proc/[0-9]*/cgroup 2>/dev/null); do
	awk '$3 != "Z" {print FILENAME}' "${f%/cgroup}/stat" 2>/dev/null; done)
[ -z "$procs" ] || fail "processes of the run left: $procs"
[ "$before" = "$(root_snapshot)" ] || fail "root namespace changed"
exit 0
