# The engine's socket hooks on tests/scenarios/sockops.yaml (the sidecar's
# nginx pair, bpf/sidecar.bpf.c: sock_ops on a cgroup puts the loopback
# sockets of port 8081 in a sockhash, sk_msg on it redirects to the peer):
#  - check-time errors, exit 2 with FILE:LINE: a sock_ops program on hook
#    sk-msg, a cgroup target naming no container / host, an sk-msg map that is
#    not a sockmap/sockhash, `restart: once` with sockops;
#  - a real run (runc): sockets added and messages redirected only in the
#    offload arm; the loopback hop's data packets counted by nft without it,
#    and with it no more than the messages that missed their peer (the first
#    request on a new connection can race the backend's PASSIVE_ESTABLISHED),
#    fewer than 1 %; every expectation passed;
#  - --runtime netns, SIGKILL mid-trial, then `clean`: no cgroup of the run left.
. "$(dirname "$0")/../lib.sh"
for t in runc nginx wrk jq; do command -v $t >/dev/null || skip "$t not installed"; done
cg=$(findmnt -rn -t cgroup2 -o TARGET | head -n 1)
[ -n "$cg" ] || skip "no cgroup2 mount"
src=$(cd "$(dirname "$0")/../scenarios" && pwd)
scn=$(cd "$src/../../scenarios" && pwd)
tmp=$(mktemp -d /tmp/olab-sockops-test.XXXXXX)
pid=
# a failure mid-run: that run goes too (SIGKILL, then clean)
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null && wait $pid 2>/dev/null && "$OLAB" clean >/dev/null; rm -rf "$tmp"' EXIT
# absolute paths, so that copies in $tmp work
sed "s|\.\./\.\./scenarios/|$scn/|" "$src/sockops.yaml" > "$tmp/base.yaml"
before=$(root_snapshot)

n=0
bad() { # sed-expr line-pattern want-field want-words
	n=$((n + 1))
	local f="$tmp/bad$n.yaml" msg rc line
	sed "$1" "$tmp/base.yaml" > "$f"
	cmp -s "$f" "$tmp/base.yaml" && fail "bad$n: sed '$1' changed nothing"
	line=$(grep -n -- "$2" "$f" | head -n 1 | cut -d: -f1)
	[ -n "$line" ] || fail "bad$n: no line matches '$2'"
	msg=$("$OLAB" scenario check "$f" 2>&1 >/dev/null); rc=$?
	[ $rc -eq 2 ] || fail "bad$n ($4): exit $rc, want 2: $msg"
	[ "$(echo "$msg" | wc -l)" -eq 1 ] || fail "bad$n: not one line: $msg"
	case $msg in
	"$f:$line: $3"*": "*"$4"*) ;;
	*) fail "bad$n: want '$f:$line: $3...: ...$4...', got: $msg" ;;
	esac
}
bad 's/{name: sidecar_sockops, hook: sockops, target: {cgroup: "host:pod"}}/{name: sidecar_sockops, hook: sk-msg, target: {map: sidecar_socks}}/' \
	"name: sidecar_sockops" "offloads[0].programs[1].hook" "is sock_ops, hook sk-msg needs sk_msg"
bad 's/cgroup: "host:pod"/cgroup: nobody/' "cgroup: nobody" "offloads[0].programs[1].target.cgroup" \
	"no container named 'nobody'"
bad 's/cgroup: "host:pod"/cgroup: "host:mars"/' "host:mars" "offloads[0].programs[1].target.cgroup" \
	"no host named 'mars'"
bad 's/target: {map: sidecar_socks}/target: {map: accel_ports}/' "map: accel_ports" \
	"offloads[0].programs[0].target.map" "map 'accel_ports' is hash, sk-msg needs a sockhash"
bad 's/^duration: 1$/duration: 1\nrestart: once/' "^restart: once" "restart" "need per-trial"
[ "$before" = "$(root_snapshot)" ] || fail "bad files left something behind"

# -- a real run (runc containers, package rootfs)
j=$("$OLAB" scenario run "$tmp/base.yaml" --quick --json --wait --out "$tmp") ||
	fail "run exit $?: $(echo "$j" | jq -c ".scenario.error, [.scenario.expectations[] | select(.verdict != \"pass\")]")"
c=$(echo "$j" | jq -c '.scenario.counters')
echo "$c" | jq -e '."counter.sidecar.socks_added".offload > 0 and ."counter.sidecar.socks_added".none == 0
	and ."counter.sidecar.msgs_redirected".offload > 0 and ."counter.sidecar.msgs_redirected".none == 0
	and ."program.sidecar.sidecar_msg.runs".offload == ."counter.sidecar.msg_runs".offload
	and ."nft.pod.sidecar.lo_out_data".none > 0 and ."nft.pod.sidecar.lo_in_data".none > 0
	and ."nft.pod.sidecar.lo_out_data".offload <= ."counter.sidecar.msg_misses".offload
	and ."nft.pod.sidecar.lo_in_data".offload <= ."counter.sidecar.msg_misses".offload
	and ."counter.sidecar.msg_misses".offload * 100 < ."counter.sidecar.msgs_redirected".offload' \
	>/dev/null || fail "redirect / nft counters wrong: $c"
echo "$j" | jq -e '(.scenario.expectations | length) == 11 and
	([.scenario.expectations[] | .value != null and .verdict == "pass"] | all)' >/dev/null ||
	fail "not every expectation passed: $(echo "$j" | jq -c .scenario.expectations)"
left=$(ls "$cg" | grep "^olab$(echo "$j" | jq -r .run_id | sed 's/.*-//')-")
[ -z "$left" ] || fail "cgroups left after the run: $left"

# -- --runtime netns (the engine's own cgroups), SIGKILL in a trial, clean
for f in backend proxy; do
	sed -i "/name: $f/,/command:/s|-c, /etc/nginx/nginx.conf|-c, $scn/sidecar-nginx-$f.conf|" "$tmp/base.yaml"
done
sed 's/^duration: 1$/duration: 30/' "$tmp/base.yaml" > "$tmp/long.yaml"
"$OLAB" scenario run "$tmp/long.yaml" --wait --runtime netns --out "$tmp" >/dev/null 2>&1 &
pid=$!
wait_until 300 sh -c "ip netns pids olab$pid-client 2>/dev/null | grep -q ." ||
	fail "the run never started its clients"
[ -d "$cg/olab$pid-scn-pod/proxy" ] || fail "no cgroup $cg/olab$pid-scn-pod/proxy during the trial"
for p in $(ip netns pids olab$pid-pod); do cat /proc/$p/cgroup; done | grep -q "olab$pid-scn-pod/proxy$" ||
	fail "the proxy is not in the run's cgroup: $(for p in $(ip netns pids olab$pid-pod); do cat /proc/$p/cgroup; done)"
kill -9 $pid; wait $pid 2>/dev/null; killed=$pid; pid=
"$OLAB" clean >/dev/null || fail "clean exit $?"
left=$(ls "$cg" /run/netns /run/offloadlab 2>/dev/null | grep "^olab$killed[-.]")
[ -z "$left" ] || fail "left after SIGKILL + clean: $left"
rm -rf /tmp/olab-sidecar-backend* /tmp/olab-sidecar-proxy*   # nginx's own, --runtime netns
[ "$before" = "$(root_snapshot)" ] || fail "root namespace changed"
exit 0
