#!/usr/bin/env bash
# Regenerates docs/report.png (the README's picture of a report): the fixture
# run (tests/report/fixture-run) rendered by build/offloadlab report, then
# photographed by headless Chromium.  Usage: tests/report/screenshot.sh [PNG]
set -eu
cd "$(dirname "$0")/../.."
png=${1:-docs/report.png}
tmp=$(mktemp -d /tmp/olab-report-shot.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
build/offloadlab report tests/report/fixture-run --html "$tmp/report.html" >/dev/null
mkdir -p "$(dirname "$png")"
timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--user-data-dir="$tmp/profile" --hide-scrollbars --window-size=1280,2200 \
	--screenshot="$tmp/shot.png" "file://$tmp/report.html" >/dev/null 2>&1
mv "$tmp/shot.png" "$png"
echo "$png"
