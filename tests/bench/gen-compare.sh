#!/usr/bin/env bash
# Benchmark (not a test): how fast offloadlab's in-kernel generator (XDP live
# frames) sends compared with sockperf and iperf3, one sender thread each, all
# sending UDP with a 64-byte payload over the same veth pair into the same DUT.
#
# The DUT end runs one small XDP program for all three that drops the UDP
# data (and passes the rest: iperf3's TCP control connection and its 4-byte
# UDP handshake), so the receiver is never the bottleneck; received packets
# are counted the same way for all three: the DUT veth's rx packets
# (`ip -s link`), which include XDP drops.  The senders' own counts are shown
# as a cross-check.
#
# Usage: tests/bench/gen-compare.sh [SECONDS]   (as root, after `make`)
# Namespaces are named olab<pid>-cmp{gen,dut} (so `offloadlab clean` knows
# them) and removed on exit, error or signal.
set -u
cd "$(dirname "$0")/../.." || exit 1
OLAB=${OLAB:-build/offloadlab}
DUR=${1:-3}
CPU=${CPU:-0}                 # every sender is pinned to this CPU
P=olab$$
GEN=$P-cmpgen DUT=$P-cmpdut
IFG=${P}g IFD=${P}d
TMP=$(mktemp -d /tmp/olab-gencmp.XXXXXX)
LOCK=/run/offloadlab/$P.lock
pids=()

die() { echo "gen-compare: $*" >&2; exit 1; }

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$GEN" 2>/dev/null
	ip netns del "$DUT" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$TMP"
	rm -f "$LOCK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

[ "$(id -u)" = 0 ] || die "run as root"
[ -x "$OLAB" ] || die "$OLAB missing: run make first"
for t in sockperf iperf3 clang; do command -v $t >/dev/null || die "$t is not installed"; done
case $DUR in ''|*[!0-9]*) die "SECONDS must be a whole number";; esac
if [ "$DUR" -lt 1 ] || [ "$DUR" -gt 60 ]; then die "SECONDS must be 1..60"; fi

# Hold a run lock like offloadlab does, so a concurrent `offloadlab clean`
# sees this run as alive.
mkdir -p /run/offloadlab
exec 9>"$LOCK" || die "cannot open $LOCK"
flock -n 9 || die "cannot lock $LOCK"

# ---- the DUT's XDP program: drop UDP datagrams with >= 16 bytes of payload,
# pass everything else (iperf3's TCP control and its 4-byte UDP handshake) ----
cat > "$TMP/drop_udp.c" <<'EOF'
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

static int verdict(struct udphdr *udp, void *e)
{
	if ((void *)(udp + 1) > e)
		return XDP_PASS;
	return __builtin_bswap16(udp->len) >= sizeof(*udp) + 16 ? XDP_DROP : XDP_PASS;
}

__attribute__((section("xdp"), used))
int drop_udp(struct xdp_md *ctx)
{
	void *d = (void *)(long)ctx->data, *e = (void *)(long)ctx->data_end;
	struct ethhdr *eth = d;

	if ((void *)(eth + 1) > e)
		return XDP_PASS;
	if (eth->h_proto == __builtin_bswap16(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > e || ip->protocol != IPPROTO_UDP || ip->ihl != 5)
			return XDP_PASS;
		return verdict((void *)(ip + 1), e);
	}
	if (eth->h_proto == __builtin_bswap16(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > e || ip6->nexthdr != IPPROTO_UDP)
			return XDP_PASS;
		return verdict((void *)(ip6 + 1), e);
	}
	return XDP_PASS;
}
char _license[] __attribute__((section("license"), used)) = "GPL";
EOF
clang -O2 -target bpf -I/usr/include/"$(uname -m)"-linux-gnu -c "$TMP/drop_udp.c" \
	-o "$TMP/drop_udp.o" || die "cannot build the DUT's XDP program"

# ---- the veth pair: nothing ever appears in the root namespace ----
ip netns add "$GEN" || die "cannot create $GEN"
ip netns add "$DUT" || die "cannot create $DUT"
ip -n "$GEN" link add "$IFG" type veth peer name "$IFD" netns "$DUT" || die "cannot create veth"
ip -n "$GEN" addr add 198.18.0.1/24 dev "$IFG"
ip -n "$DUT" addr add 198.18.0.2/24 dev "$IFD"
for ns in "$GEN" "$DUT"; do ip -n "$ns" link set lo up; done
ip -n "$GEN" link set "$IFG" up
ip -n "$DUT" link set "$IFD" up
ip -n "$GEN" neigh replace 198.18.0.2 lladdr "$(ip -n "$DUT" -j link show "$IFD" |
	sed 's/.*"address":"\([^"]*\)".*/\1/')" dev "$IFG" nud permanent
ip -n "$DUT" neigh replace 198.18.0.1 lladdr "$(ip -n "$GEN" -j link show "$IFG" |
	sed 's/.*"address":"\([^"]*\)".*/\1/')" dev "$IFD" nud permanent
# iproute2 mounts bpffs on /sys/fs/bpf when it loads an object: in a private
# mount namespace, so the root mount namespace is left as it was.
unshare --mount --propagation private \
	ip -n "$DUT" link set dev "$IFD" xdp obj "$TMP/drop_udp.o" sec xdp || die "cannot attach XDP"

rx_packets() {
	ip -n "$DUT" -s -j link show dev "$IFD" |
		sed 's/.*"rx":{"bytes":[0-9]*,"packets":\([0-9]*\).*/\1/'
}

# Run "$@" (output in $TMP/out); RX gets the DUT's received packets during it.
measure() {
	local a b
	a=$(rx_packets)
	"$@" > "$TMP/out" 2>&1 || { cat "$TMP/out" >&2; die "failed: $*"; }
	b=$(rx_packets)
	RX=$((b - a))
}

# ---- offloadlab: 14 + 20 + 8 + 64 = 106-byte frames ----
measure "$OLAB" -j gen --gen-netns "$GEN" --dut-netns "$DUT" --no-sink \
	--size 106 --duration "$DUR" --cpu "$CPU"
olab_rx=$RX
olab_sent=$(jq '.sent.packets' "$TMP/out")
olab_s=$(jq '.sent.elapsed_s' "$TMP/out")

# ---- sockperf: throughput mode, 64-byte messages ----
measure ip netns exec "$GEN" taskset -c "$CPU" \
	sockperf tp -i 198.18.0.2 -p 11111 -m 64 -t "$DUR"
sp_rx=$RX
sp_s=$DUR

# ---- iperf3: UDP, 64-byte datagrams, unlimited bandwidth ----
ip netns exec "$DUT" iperf3 -s -1 -B 198.18.0.2 -p 5201 > "$TMP/iperf3-server" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	ip netns exec "$DUT" ss -ltn 2>/dev/null | grep -q ':5201' && break
	sleep 0.1
done
measure ip netns exec "$GEN" taskset -c "$CPU" \
	iperf3 -c 198.18.0.2 -p 5201 -u -b 0 -l 64 -t "$DUR" -A "$CPU" --json
ip_rx=$RX
ip_sent=$(jq '.end.sum.packets // 0' "$TMP/out")
ip_s=$(jq '.end.sum.seconds // 0' "$TMP/out")

pps() { awk -v n="$1" -v s="$2" 'BEGIN { printf("%.0f", (s > 0) ? n / s : 0) }'; }
olab_pps=$(pps "$olab_rx" "$olab_s")
sp_pps=$(pps "$sp_rx" "$sp_s")
ip_pps=$(pps "$ip_rx" "$ip_s")

echo "gen-compare: UDP, 64-byte payload, one sender on CPU $CPU, ${DUR}s each,"
echo "received at the DUT veth (XDP drop), kernel $(uname -r), $(nproc) CPUs"
printf '%-28s %14s %12s\n' "sender" "rx packets" "rx pps"
printf '%-28s %14s %12s\n' "offloadlab gen (live XDP)" "$olab_rx" "$olab_pps"
printf '%-28s %14s %12s\n' "sockperf tp" "$sp_rx" "$sp_pps"
printf '%-28s %14s %12s\n' "iperf3 -u -b 0 -l 64" "$ip_rx" "$ip_pps"
awk -v o="$olab_pps" -v s="$sp_pps" -v i="$ip_pps" 'BEGIN {
	printf("ratio offloadlab/sockperf  %6.1fx\n", (s > 0) ? o / s : 0)
	printf("ratio offloadlab/iperf3    %6.1fx\n", (i > 0) ? o / i : 0)
}'
echo "(offloadlab sent $olab_sent by its own count; iperf3 says it sent $ip_sent)"
