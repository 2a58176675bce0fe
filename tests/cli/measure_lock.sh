# The machine-wide measurement lock: a second measuring run refuses in one
# line or, with --wait, queues and records that it waited; env, clean and
# --help never wait; gen refuses the namespaces of a live run.
. "$(dirname "$0")/../lib.sh"
out=$(mktemp -d /tmp/olab-lock-test.XXXXXX)
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$out"' EXIT

# A measuring run that holds the lock for a while (bounded: 10 s).
"$OLAB" gen --mode udp --duration 10 >/dev/null 2>&1 & holder=$!; pids="$holder"
wait_until 100 grep -qsx "$holder" /run/offloadlab/measure.lock || fail "the holder did not take the lock"

msg=$("$OLAB" bench drop --hook udp-socket --trials 1 --duration 100ms --warmup 0 --out "$out" 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] || fail "second measuring run: exit $rc, want 1 ($msg)"
[ "$(echo "$msg" | wc -l)" -eq 1 ] || fail "not one line: $msg"
echo "$msg" | grep -q "pid $holder" || fail "does not name the holder: $msg"
[ -z "$(ls "$out")" ] || fail "the refused run wrote results"
msg=$("$OLAB" check cgroup-multi 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] && echo "$msg" | grep -q "is measuring" || fail "check did not refuse: $rc $msg"

# These never wait (bounded: well above their own run time, well below the holder's 10 s).
timeout 5 "$OLAB" env >/dev/null 2>&1 || fail "env waited or failed while another run measured"
timeout 5 "$OLAB" clean >/dev/null 2>&1 || fail "clean waited or failed"
timeout 5 "$OLAB" bench drop --help >/dev/null || fail "--help waited"
timeout 5 "$OLAB" check --list >/dev/null || fail "check --list waited"
"$OLAB" env --wait >/dev/null 2>&1; [ $? -eq 2 ] || fail "env accepts --wait"

# --wait: queues behind the holder, then measures, and records it waited for it.
j=$("$OLAB" bench drop --hook udp-socket --trials 1 --duration 100ms --warmup 0 --out "$out" --json --wait 2>"$out/wait.err") ||
	fail "--wait run failed: $(cat "$out/wait.err")"
grep -q "waiting for run $holder" "$out/wait.err" || fail "no waiting message: $(cat "$out/wait.err")"
echo "$j" | jq -e --argjson h "$holder" '.config.measurement | .lock == "exclusive" and .waited and .waited_for == $h' >/dev/null ||
	fail "results do not record the wait: $(echo "$j" | jq -c .config.measurement)"
wait "$holder" 2>/dev/null

# gen refuses a live run's testbed, accepts one left behind by `topo up`.
"$OLAB" topo up --hold >"$out/hold.out" 2>&1 & hold=$!; pids="$pids $hold"
wait_until 100 grep -q 'dut' "$out/hold.out" || fail "topo up --hold did not start"
gen_ns=$(ip netns list 2>/dev/null | awk '{print $1}' | grep "^olab$hold-gen" | head -n1)
dut_ns=$(ip netns list 2>/dev/null | awk '{print $1}' | grep "^olab$hold-dut" | head -n1)
[ -n "$gen_ns" ] && [ -n "$dut_ns" ] || fail "no testbed namespaces for run $hold"
msg=$("$OLAB" gen --gen-netns "$gen_ns" --dut-netns "$dut_ns" --count 10 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "gen on a live run's testbed: exit $rc ($msg)"
echo "$msg" | grep -q "still alive" || fail "unclear: $msg"
kill -TERM "$hold"; wait "$hold" 2>/dev/null
exit 0
