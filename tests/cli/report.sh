# offloadlab report on the fixture run (tests/report/fixture-run, written by
# tests/report/make_fixture.sh): every plot kind is drawn with the series the
# figures imply (counted in the SVGs), text is escaped, nothing is fetched;
# the matrices (offloadlab matrix) as grids: a cell per row x kernel, the
# reasons on hover, the checks' colours, emulated figures marked, no ratios;
# a scenario run's arms side by side with their ratios, its expectations as
# a grid; no RUN_DIR: the newest run or matrix folder;
# two runs side by side; --baseline exits 1 on a planted regression and 0 on
# a copy or a change within noise; headless Chromium loads the page with no
# console error (a planted one is caught) and its screenshot is not blank.
. "$(dirname "$0")/../lib.sh"
fx=tests/report/fixture-run
out=$(mktemp -d /tmp/olab-report-test.XXXXXX)
trap 'rm -rf "$out"' EXIT
command -v gnuplot >/dev/null || skip "gnuplot missing (make deps)"

"$OLAB" report "$out/nope" >/dev/null 2>&1; [ $? -eq 1 ] || fail "missing run dir: not exit 1"
"$OLAB" report --threshold x "$fx" >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad --threshold accepted"
"$OLAB" report --baseline "$fx" >/dev/null 2>&1; [ $? -eq 2 ] || fail "--baseline alone accepted"

mkdir -p "$out/md"
"$OLAB" --json report "$fx" --html "$out/r.html" --md "$out/md/r.md" >"$out/s.json" 2>"$out/err" ||
	fail "report: $(cat "$out/err")"

# kind and series of each plot, by title: what the fixture's figures imply.
want='bars 2 drop: pps (packets/s)
bars 2 pass: cost_pct (%)
bars 1 overhead: ns_per_packet (ns)
bars 1 overhead: ns_per_run (ns)
bars 1 overhead: ns_per_run_test_run (ns)
bars 2 echo: p50_us (us)
bars 2 echo: p99_us (us)
bars 2 echo: p999_us (us)
heatmap 3 summarize: speedup (x), xdp app-shares-rx-cpu
lines 1 batch: rps (requests/s)
bars 3 share: records_per_s (records/s)
lines 2 maps: ns_per_op (ns)
cdf 6 latency CDF by hook (cpu-idle poll), p50/p99/p99.9 marked
cdf 6 latency CDF by hook (cpu-idle default), p50/p99/p99.9 marked
ratios 1 ours / published, per reference ratio (1 = as published; log y)
matrix 20 checks: pass / fail / skip / xfail (hover: expected, observed)
matrix 10 verifier: which parser builds load (hover: insns, reason)
matrix 15 matrix bench: kernel x figure, median [95 % CI]; emulated: not comparable
matrix 16 matrix check: kernel x check: pass / fail / skip / xfail (hover: reason)
matrix 27 matrix env: kernel x feature: supported (hover: why not)
scenario 3 scenario memcached-count: none | offload per client figure, median, 95 % CI (larger arm = 1); label: offload/none [95 % CI]
matrix 10 scenario expectations: pass / fail (hover: value, reason)'
got=$(jq -r '.plots[] | "\(.kind) \(.series) \(.title)"' "$out/s.json")
[ "$got" = "$want" ] || fail "plots differ:$(diff <(echo "$want") <(echo "$got"))"

# The SVGs themselves: clause groups as reported, and what each one draws.
x() { xmllint --xpath "$2" "$1" 2>/dev/null; }
i=0
while read -r kind series; do
	i=$((i + 1)); svg="$out/md/r-plot-$i.svg"
	g="//*[local-name()='g'][starts-with(@id, 'plot-$i-gnuplot_plot_')]"
	[ "$(x "$svg" "count($g)")" = "$series" ] || fail "$svg: not $series series"
	case $kind in
	bars) # the first series: a bar (polygon) per hook with a value, plus its key;
		# a whisker (path) per bar
		t=$(jq -r --argjson i $i '.plots[$i - 1].title' "$out/s.json")
		hooks=$(jq --arg b "${t%%:*}" --arg m "$(echo "$t" | cut -d' ' -f2)" '[.results[] |
			select(.bench == $b and .metric == $m and .median != null and
			(.variant == null or .variant == "app-own-cpu") and
			(.cpu_idle.mode == "poll" or .cpu_idle.mode == "default" and .bench != "echo") and
			(.channel == null or .channel == "ringbuf")) | .hook] | length' "$fx/results.json")
		n=$(x "$svg" "count(($g)[1]//*[local-name()='polygon'])")
		[ "$n" = $((hooks + 1)) ] || fail "$svg: $n bars in the first series, not $hooks + key"
		n=$(x "$svg" "count(($g)[1]//*[local-name()='path'])")
		[ "$n" -ge $((hooks + 1)) ] || fail "$svg: $n paths (whiskers) in the first series" ;;
	heatmap) [ "$(x "$svg" "count(($g)[1]//*[local-name()='polygon'])")" = 9 ] ||
		fail "$svg: not 9 cells"
		[ "$(x "$svg" "count(($g)[3]//*[local-name()='text'])")" = 9 ] || fail "$svg: not 9 labels" ;;
	cdf) [ "$(x "$svg" "count(//*[local-name()='text'][.='p99.9'])")" = 1 ] || fail "$svg: no p99.9 mark" ;;
	matrix) [ "$i" = 16 ] || continue
		[ "$(x "$svg" "count(//*[local-name()='title'][contains(., 'expected: ')])")" = 8 ] ||
			fail "$svg: not 8 cells with expected/observed on hover" ;;
	esac
done < <(jq -r '.plots[] | "\(.kind) \(.series)"' "$out/s.json")
[ "$i" = 22 ] || fail "$i SVGs"
xmllint --noout "$out"/md/r-plot-*.svg || fail "an SVG is not well-formed XML"
grep -q '^!\[drop: pps (packets/s)\](r-plot-1.svg)$' "$out/md/r.md" || fail "md: no link to the SVG"
grep -qF '| tc |  | ns\_per\_run\_test\_run | BPF\_PROG\_TEST\_RUN: \<not for this hook> |' "$out/md/r.md" ||
	fail "md: the n/a reason is missing or unescaped"

# The matrix tables (plots 18-20: bench, check, env): one cell per row x
# kernel, each with its reason on hover and the checks' colours; the guest's
# figures marked emulated; values and CIs only, no ratio across kernels.
cells() { # svg id: the cell groups whose hover text names "X on KERNEL"
	echo "//*[local-name()='g'][starts-with(@id, '$2-gnuplot_plot_')][contains(*[local-name()='title'], ' on ')]"; }
fill() { # svg id title-part rgb: cells whose hover has title-part, drawn in rgb
	x "$1" "count($(cells "$1" "$2")[contains(*[local-name()='title'], '$3')]//*[local-name()='polygon'][@fill=\"rgb($4)\"])"; }
b=$out/md/r-plot-18.svg c=$out/md/r-plot-19.svg e=$out/md/r-plot-20.svg
[ "$(x "$b" "count($(cells "$b" plot-18))")" = 6 ] || fail "matrix bench: not 3 figures x 2 kernels"
[ "$(x "$c" "count($(cells "$c" plot-19))")" = 6 ] || fail "matrix check: not 3 checks x 2 kernels"
[ "$(x "$e" "count($(cells "$e" plot-20))")" = 12 ] || fail "matrix env: not 4 features x 3 kernels"
[ "$(fill "$c" plot-19 '): pass' ' 44, 160,  44')" = 3 ] && [ "$(fill "$c" plot-19 '): fail' '214,  39,  40')" = 1 ] &&
	[ "$(fill "$c" plot-19 '): skip' '187, 187, 187')" = 1 ] && [ "$(fill "$c" plot-19 '): xfail' '255, 159,  28')" = 1 ] ||
	fail "matrix check: cells not coloured pass 3, fail 1, skip 1, xfail 1"
[ "$(fill "$e" plot-20 '): yes' ' 44, 160,  44')" = 5 ] && [ "$(fill "$e" plot-20 '): no: E' '214,  39,  40')" = 3 ] ||
	fail "matrix env: cells not coloured yes 5, no 3"
[ "$(fill "$c" plot-19 'tcx-order on 6.1 (6.1.0-57-cloud-amd64, tcg): skip
reason: needs tcx: EINVAL' '187, 187, 187')" = 1 ] || fail "matrix check: no skip reason on hover"
[ "$(fill "$c" plot-19 'cgroup-multi on 6.1 (6.1.0-57-cloud-amd64, tcg): xfail
reason: fixed in 6.6' '255, 159,  28')" = 1 ] || fail "matrix check: no xfail reason on hover"
[ "$(fill "$e" plot-20 'tcx on 6.1 (6.1.0-57-cloud-amd64, tcg): no: EINVAL
reason: EINVAL: Invalid argument (BPF_LINK_CREATE at BPF_TCX_INGRESS)' '214,  39,  40')" = 1 ] ||
	fail "matrix env: no errno reason on hover"
[ "$(fill "$e" plot-20 'on 6.12 (6.12.0-fixture, tcg): n/a: boot: no <login> within 120 s' '221, 221, 221')" = 4 ] ||
	fail "matrix env: the guest that did not boot: not 4 n/a cells with its error"
[ "$(x "$b" "count(//*[local-name()='text'][.='6.1 (emulated)'])")" = 1 ] || fail "matrix bench: 6.1 column not marked emulated"
[ "$(fill "$b" plot-18 'on 6.1 (6.1.0-57-cloud-amd64, tcg): median' '253, 174, 107')" = 2 ] &&
	[ "$(x "$b" "count(//*[local-name()='title'][contains(., 'emulated (TCG), not comparable')])")" = 2 ] &&
	[ "$(fill "$b" plot-18 'on host (6.18.0-fixture, none): median' '158, 202, 225')" = 3 ] ||
	fail "matrix bench: the 2 guest figures not marked emulated, the 3 host ones not measured"
# the 5 figures' value and CI, the missing one's "-", and no other label (a ratio)
[ "$(x "$b" "count(//*[local-name()='g'][starts-with(@id, 'plot-18-gnuplot_plot_')][position() > 6 and position() <= 12]//*[local-name()='text'])")" = 11 ] &&
	[ "$(x "$b" "count(//*[local-name()='text'][.='[290.0k, 325.0k]'])")" = 1 ] ||
	fail "matrix bench: cell labels are not value + CI"
grep -qxF '| figure | 6.1 (emulated) | host |' "$out/md/r.md" &&
	grep -qxF '| drop/xdp/app-own-cpu pps | 310.0k packets/s [290.0k, 325.0k] (emulated (TCG), not comparable) | 4.1M packets/s [3.98M, 4.22M] |' "$out/md/r.md" &&
	grep -qxF '| tcx-order | skip: needs tcx: EINVAL: Invalid argument (BPF\_LINK\_CREATE at BPF\_TCX\_INGRESS) | pass |' "$out/md/r.md" &&
	grep -qxF '| tcx | no: EINVAL: Invalid argument (BPF\_LINK\_CREATE at BPF\_TCX\_INGRESS) | n/a: boot: no \<login> within 120 s | yes |' "$out/md/r.md" ||
	fail "md: matrix tables (kernel columns, CI, emulated, reasons) missing"

# The scenario run (plot 21, its expectations plot 22): per client figure a
# none and an offload bar (none drawn when the median is 0) with a CI whisker,
# the paired ratio and its CI above each pair ("n/a": no ratio); the
# expectations as coloured cells, the reason on hover; Markdown verdict rows.
s=$out/md/r-plot-21.svg v=$out/md/r-plot-22.svg
sg() { echo "//*[local-name()='g'][@id='plot-21-gnuplot_plot_$1']"; }
[ "$(jq '[.scenario.clients[].figures[]] | length' "$fx/results.json")" = 4 ] || fail "fixture: not 2 clients, 4 figures"
for a in 1 2; do  # none, offload: 3 bars (the 4th figure is 0) + the key
	[ "$(x "$s" "count($(sg $a)//*[local-name()='polygon'])")" = 4 ] || fail "scenario: series $a: not 3 bars + key"
	# whiskers: a vertical segment (M x,lo L x,hi) per bar with a CI
	[ "$(x "$s" "string(($(sg $a)//*[local-name()='path'])[last()]/@d)" | grep -oE 'M([0-9.]+),[0-9.]+ L\1,' | wc -l)" = 3 ] ||
		fail "scenario: series $a: not 3 whiskers"
done
[ "$(x "$s" "count($(sg 1)//*[local-name()='polygon'][@fill='rgb( 31, 119, 180)'])")" = 4 ] &&
	[ "$(x "$s" "count($(sg 2)//*[local-name()='polygon'][@fill='rgb(255, 127,  14)'])")" = 4 ] ||
	fail "scenario: none / offload bars not in their colours"
for l in '1.52x' '[1.47, 1.56]' '0.657x' '[0.63, 0.68]' '0.98x' '[0.95, 1.01]' 'n/a'; do
	[ "$(x "$s" "count($(sg 3)//*[local-name()='text'][.='$l'])")" = 1 ] || fail "scenario: no ratio label $l"
done
[ "$(x "$s" "count($(sg 3)//*[local-name()='text'])")" = 8 ] || fail "scenario: not 7 ratio label lines + key"
[ "$(x "$s" "count(//*[local-name()='text'][.='memcaslap-tcp'])")" = 1 ] || fail "scenario: no tick for the 2nd client"
vc="//*[local-name()='g'][starts-with(@id, 'plot-22-gnuplot_plot_')][contains(*[local-name()='title'], ', line ')]"
vfill() { x "$v" "count($vc[contains(*[local-name()='title'], '$1')]//*[local-name()='polygon'][@fill=\"rgb($2)\"])"; }
[ "$(x "$v" "count($vc)")" = 4 ] || fail "expectations: not 4 cells"
[ "$(vfill ']: pass' ' 44, 160,  44')" = 2 ] && [ "$(vfill ']: fail' '214,  39,  40')" = 2 ] ||
	fail "expectations: cells not coloured pass 2, fail 2"
[ "$(vfill 'counter.count.nope.offload > 0 [memcached-count, line 55]: fail
value: n/a
reason: no such counter' '214,  39,  40')" = 1 ] || fail "expectations: no reason on hover"
[ "$(x "$v" "count(//*[local-name()='text'][.='0.98'])")" = 1 ] || fail "expectations: no value in the cell"
grep -qxF '| memcached-count | pass | client.memcaslap-udp.ops\_per\_s.ratio > 1 | 1.52 |  |' "$out/md/r.md" &&
	grep -qxF '| memcached-count | pass | counter.count.rx\_udp\_port.none == 0 | 0 |  |' "$out/md/r.md" &&
	grep -qxF '| memcached-count | fail | client.memcaslap-tcp.ops\_per\_s.ratio > 1.1 | 0.98 |  |' "$out/md/r.md" &&
	grep -qxF '| memcached-count | fail | counter.count.nope.offload > 0 | n/a | no such counter: counter.count.nope |' "$out/md/r.md" ||
	fail "md: expectation verdicts missing"
grep -qxF '| memcaslap-udp | ops\_per\_s | 41.6k [40.9k, 42.3k] | 63.2k [61.8k, 64.5k] | 1.52x [1.47, 1.56] | 0 |' "$out/md/r.md" &&
	grep -qxF '| nft.server.filter.memcached\_in | 208000 | 316000 |' "$out/md/r.md" ||
	fail "md: scenario figures or counters missing"

# The page: one figure per plot, escaped text, no script, nothing fetched.
h="$out/r.html"
[ "$(grep -c '^<figure id="plot-[0-9]*" data-kind=' "$h")" = 22 ] || fail "html: not 22 figures"
grep -q '&lt;fixture &amp; co&gt;' "$h" || fail "html: command line not escaped"
grep -q '<fixture' "$h" && fail "html: raw <fixture"
grep -q 'the &lt;hook&gt; sees 100 packets &amp; &quot;drops&quot; them' "$h" || fail "html: check not escaped"
[ "$(grep -io '<script\|src=\|<link' "$h" | wc -l)" = 0 ] || fail "html: a script, src= or link"
[ "$(grep -o 'https\?://[^"'"'"' ]*' "$h" | grep -vc '^http://www.w3.org/')" = 0 ] || fail "html: external URL"

# No RUN_DIR: the newest results/run-* with a results.json or a matrix*.json.
mkdir -p "$out/cwd/results/run-20261203-100000-1" "$out/cwd/results/run-20261203-110000-2" \
	"$out/cwd/results/run-20261203-120000-3"
cp "$fx/results.json" "$out/cwd/results/run-20261203-100000-1/"
cp "$fx/matrix-env.json" "$out/cwd/results/run-20261203-110000-2/"
(cd "$out/cwd" && "$OLAB" report >/dev/null 2>&1) || fail "no RUN_DIR: exit $?"
[ -f "$out/cwd/results/run-20261203-110000-2/report.html" ] &&
	[ ! -e "$out/cwd/results/run-20261203-100000-1/report.html" ] || fail "no RUN_DIR: not the newest matrix run"

# Two runs side by side; the regression check.
cp -r "$fx" "$out/same"
"$OLAB" --json report "$fx" "$out/same" --html "$out/two.html" >"$out/two.json" 2>/dev/null || fail "two runs"
[ "$(jq -r '.plots[0].series' "$out/two.json")" = 5 ] || fail "two runs: drop bars not 4 series + changes"
jq -e '(.changes | length) > 40 and all(.changes[]; .within_noise and .change_pct == 0)' "$out/two.json" \
	>/dev/null || fail "two copies: changes not all 0 within noise"
jq -e '[.changes[].figure | select(startswith("scenario|memcached-count|"))] | length == 8' "$out/two.json" \
	>/dev/null || fail "two copies: not the 8 scenario figures compared"
"$OLAB" report --baseline "$fx" "$out/same" --html "$out/b.html" >/dev/null 2>&1 || fail "copy: exit $?"
jq '(.results[] | select(.bench == "drop" and .hook == "tc" and .variant == "app-own-cpu")) |=
	(.median *= 1.02 | .ci95 |= map(. * 1.02))' "$fx/results.json" > "$out/same/results.json"
"$OLAB" report --baseline "$fx" "$out/same" --html "$out/b.html" >/dev/null 2>&1 || fail "noise: exit $?"
cp -r "$fx" "$out/slow"
jq '(.results[] | select(.bench == "drop" and .hook == "xdp" and .variant == "app-own-cpu")) |=
	(.median *= 0.7 | .ci95 |= map(. * 0.7))' "$fx/results.json" > "$out/slow/results.json"
mkdir -p "$out/bmd"
"$OLAB" --json report --baseline "$fx" "$out/slow" --html "$out/b.html" --md "$out/bmd/b.md" \
	>"$out/b.json" 2>/dev/null
[ $? = 1 ] || fail "planted regression: not exit 1"
# the drop plot labels the slow run's bars: -30% (xdp app-own-cpu), ~+0% (the other 5)
[ "$(x "$out/bmd/b-plot-1.svg" "count(//*[local-name()='text'][.='-30%'])")" = 1 ] &&
	[ "$(x "$out/bmd/b-plot-1.svg" "count(//*[local-name()='text'][.='~+0%'])")" = 5 ] ||
	fail "drop plot: changes not labelled"
grep -q 'REGRESSION (beyond CI and threshold)' "$out/bmd/b.md" || fail "md: no REGRESSION row"
jq -e '[.regressions[].figure] == ["drop|xdp|app-own-cpu|pps|cpu-idle=default|size=64|runtime=netns"]' \
	"$out/b.json" >/dev/null || fail "regressions: $(jq -c .regressions "$out/b.json")"
"$OLAB" report --baseline "$fx" "$out/slow" --threshold 40 --html "$out/b.html" >/dev/null 2>&1 ||
	fail "30 % under a 40 % threshold: exit $?"

# Headless Chromium: console errors are caught (a planted one proves it), the
# screenshot is not blank.
command -v chromium >/dev/null || skip "chromium missing (make deps)"
cc -O2 tests/report/png_colours.c $(pkg-config --cflags --libs libpng) -o "$out/png_colours" ||
	fail "cannot build png_colours (libpng-dev)"
browse() { # html png log
	local u
	u=$(mktemp -d /tmp/olab-report-chromium.XXXXXX)
	timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$u" --hide-scrollbars --enable-logging=stderr --v=0 \
		--window-size=1250,2400 --screenshot="$2" "file://$1" >"$3" 2>&1
	rm -rf "$u"
}
sed 's|</body>|<script>console.error("planted")</script></body>|' "$h" > "$out/planted.html"
browse "$out/planted.html" "$out/planted.png" "$out/planted.log"
grep -q 'CONSOLE.*planted' "$out/planted.log" || fail "a planted console error went unseen: $(tail -n 3 "$out/planted.log")"
browse "$h" "$out/r.png" "$out/r.log"
grep -q 'CONSOLE' "$out/r.log" && fail "console: $(grep CONSOLE "$out/r.log" | head -n 3)"
read -r w hh colours ink < <("$out/png_colours" "$out/r.png") || fail "no screenshot"
[ "$w" = 1250 ] && [ "$hh" = 2400 ] || fail "screenshot $w x $hh"
[ "$colours" -ge 50 ] && [ "$ink" -ge 20 ] || fail "blank screenshot: $colours colours, $ink per mille ink"
echo ok
