# offloadlab report on the fixture run (tests/report/fixture-run, written by
# tests/report/make_fixture.sh): every plot kind is drawn with the series the
# figures imply (counted in the SVGs), text is escaped, nothing is fetched;
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
matrix 10 verifier: which parser builds load (hover: insns, reason)'
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
[ "$i" = 17 ] || fail "$i SVGs"
xmllint --noout "$out"/md/r-plot-*.svg || fail "an SVG is not well-formed XML"
grep -q '^!\[drop: pps (packets/s)\](r-plot-1.svg)$' "$out/md/r.md" || fail "md: no link to the SVG"
grep -qF '| tc |  | ns\_per\_run\_test\_run | BPF\_PROG\_TEST\_RUN: \<not for this hook> |' "$out/md/r.md" ||
	fail "md: the n/a reason is missing or unescaped"

# The page: one figure per plot, escaped text, no script, nothing fetched.
h="$out/r.html"
[ "$(grep -c '^<figure id="plot-[0-9]*" data-kind=' "$h")" = 17 ] || fail "html: not 17 figures"
grep -q '&lt;fixture &amp; co&gt;' "$h" || fail "html: command line not escaped"
grep -q '<fixture' "$h" && fail "html: raw <fixture"
grep -q 'the &lt;hook&gt; sees 100 packets &amp; &quot;drops&quot; them' "$h" || fail "html: check not escaped"
[ "$(grep -io '<script\|src=\|<link' "$h" | wc -l)" = 0 ] || fail "html: a script, src= or link"
[ "$(grep -o 'https\?://[^"'"'"' ]*' "$h" | grep -vc '^http://www.w3.org/')" = 0 ] || fail "html: external URL"

# Two runs side by side; the regression check.
cp -r "$fx" "$out/same"
"$OLAB" --json report "$fx" "$out/same" --html "$out/two.html" >"$out/two.json" 2>/dev/null || fail "two runs"
[ "$(jq -r '.plots[0].series' "$out/two.json")" = 5 ] || fail "two runs: drop bars not 4 series + changes"
jq -e '(.changes | length) > 40 and all(.changes[]; .within_noise and .change_pct == 0)' "$out/two.json" \
	>/dev/null || fail "two copies: changes not all 0 within noise"
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
