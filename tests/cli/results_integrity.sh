# results.json is safe: flushed after every figure ("complete": false until
# the end, so a SIGKILLed run keeps what it finished), 0644 in a 0755 folder
# whatever the umask, a full disk reported in one line with exit 1, and a bad
# --out / --junit refused (exit 2, one line) before anything is created.
. "$(dirname "$0")/../lib.sh"
command -v jq >/dev/null || skip "jq not installed"
command -v unshare >/dev/null || skip "unshare (util-linux) not installed"
short="--trials 1 --duration 50ms --warmup 0"

# exit-code want, then the command; stderr must be one line.
expect() {
	local want=$1; shift
	msg=$("$@" 2>&1 >/dev/null); rc=$?
	[ $rc -eq "$want" ] || fail "'$*': exit $rc, want $want ($msg)"
	[ "$(printf '%s\n' "$msg" | wc -l)" -eq 1 ] || fail "'$*': not one line: $msg"
}

# The parts that mount: run by the script itself in a private mount namespace.
in_private_ns() {
	local d=$1 free=$2
	[ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt)" ] ||
		fail "not in a private mount namespace: refusing to mount"
	mkdir -p "$d/bpf" "$d/full"
	mount -t bpf bpf "$d/bpf" || fail "cannot mount bpffs in the private namespace"
	local fresh; fresh=$(ls -A "$d/bpf")
	expect 2 "$OLAB" bench drop --hook xdp --out "$d/bpf"
	echo "$msg" | grep -q "bpffs" || fail "bpffs not named: $msg"
	expect 2 "$OLAB" check --junit "$d/bpf/report.xml" xdp-drop-bypasses-netfilter
	[ "$(ls -A "$d/bpf")" = "$fresh" ] || fail "something was created on bpffs: $(ls -A "$d/bpf")"

	# A 64k tmpfs filled but for $free bytes.
	mount -t tmpfs -o size=64k,mode=0755 olab-enospc "$d/full" || fail "cannot mount tmpfs"
	dd if=/dev/zero of="$d/full/fill" bs=4k 2>/dev/null
	[ "$free" -eq 0 ] || truncate -s -"$free" "$d/full/fill"
	expect 1 "$OLAB" bench drop --hook xdp $short --out "$d/full"
	echo "$msg" | grep -q "No space left on device" || fail "ENOSPC not said: $msg"
	ls "$d"/full/run-*/.results.json.tmp-* >/dev/null 2>&1 && fail "temp file left"
	if [ "$free" -eq 0 ]; then
		[ -z "$(ls -d "$d"/full/run-* 2>/dev/null)" ] || fail "full disk: a run folder was left"
	else
		f=$(ls "$d"/full/run-*/results.json) || fail "nothing was flushed with $free bytes free"
		jq -e '.complete == false and (.results | type) == "array"' "$f" >/dev/null ||
			fail "the flushed file does not parse or claims complete: $(cat "$f")"
	fi
}
if [ "${1:-}" = --private-ns ]; then
	in_private_ns "$2" "$3"
	exit 0
fi

tmp=$(mktemp -d /tmp/olab-results-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# -- bad --out / --junit: exit 2, one line, nothing created
mkdir -p "$tmp/real" "$tmp/run-20260101-000000-1"
echo '{}' > "$tmp/run-20260101-000000-1/results.json"
ln -s "$tmp/real" "$tmp/link"
touch "$tmp/file"
cgroup=$(findmnt -rn -t cgroup2,cgroup -o TARGET | head -n 1)
[ -n "$cgroup" ] || skip "no cgroup filesystem mounted"
# What a bad --out could create (other runs' olab* objects come and go).
created() { find "$tmp" / -maxdepth 1 2>/dev/null | sort; ls -A /sys/fs/bpf "$cgroup" | grep -v '^olab'; }
before=$(created)
for out in "" "$tmp/link" "$tmp/link/" /sys/fs/bpf "$cgroup" "$tmp/run-20260101-000000-1" \
	   "$tmp/file" "$tmp/file/sub" /proc/olab-results; do
	expect 2 "$OLAB" bench drop --hook xdp --out "$out"
	case $msg in "offloadlab bench drop: --out '$out': "*) ;;
	*) fail "--out '$out': not the one-line form: $msg" ;; esac
done
for junit in "" "$tmp/link" "$tmp/real" "$tmp/run-20260101-000000-1" "$tmp/file/report.xml" \
	     /sys/fs/bpf/report.xml "$cgroup/report.xml"; do
	expect 2 "$OLAB" check --junit "$junit" xdp-drop-bypasses-netfilter
	case $msg in "offloadlab check: --junit '$junit': "*) ;;
	*) fail "--junit '$junit': not the one-line form: $msg" ;; esac
done
after=$(created)
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after") >&2; fail "bad input created something"; }

# -- modes whatever the umask; a normal end says complete
(umask 077; "$OLAB" bench drop --hook xdp $short --out "$tmp/new" >/dev/null) || fail "bench exit $?"
f=$(ls "$tmp"/new/run-*/results.json) || fail "no results.json"
[ "$(stat -c %a "$tmp/new" "$(dirname "$f")" "$f" | tr '\n' ' ')" = "755 755 644 " ] ||
	fail "modes under umask 077: $(stat -c '%a %n' "$tmp/new" "$(dirname "$f")" "$f")"
jq -e '.complete == true and (.incomplete_reason == null) and (.results | length) >= 1 and
	(.reference | type) == "array"' "$f" >/dev/null || fail "normal end: $(jq -c '{complete, incomplete_reason}' "$f")"
[ -z "$(ls -A "$(dirname "$f")" | grep -v '^results.json$')" ] || fail "stray files: $(ls -A "$(dirname "$f")")"

# The JUnit report too: 0644 whatever the umask, valid XML.
(umask 077; "$OLAB" check sockmap-attach --junit "$tmp/report.xml" >/dev/null 2>&1) || fail "check --junit exit $?"
[ "$(stat -c %a "$tmp/report.xml")" = 644 ] || fail "junit mode under umask 077: $(stat -c %a "$tmp/report.xml")"
grep -q '<testcase' "$tmp/report.xml" || fail "junit: no testcase"

has_a_cell() { jq -e '(.results | length) >= 1' "$1"/run-*/results.json >/dev/null 2>&1; }

# -- SIGTERM after the first cell: the final write says why it is incomplete
"$OLAB" bench drop $short --out "$tmp/term" >/dev/null 2>&1 &
pid=$!
wait_until 1200 has_a_cell "$tmp/term" || { kill -9 $pid; wait $pid 2>/dev/null; "$OLAB" clean >/dev/null; fail "no cell was flushed"; }
kill -TERM $pid
wait $pid; rc=$?
[ $rc -eq 1 ] || fail "SIGTERM: exit $rc, want 1"
f=$(ls "$tmp"/term/run-*/results.json)
jq -e '.complete == false and .incomplete_reason == "stopped by SIGTERM" and (.results | length) >= 1' \
	"$f" >/dev/null || fail "after SIGTERM: $(jq -c '{complete, incomplete_reason, n: (.results | length)}' "$f")"

# -- SIGKILL after the first cell: the file parses, incomplete, with that cell
"$OLAB" bench drop $short --out "$tmp/kill" >/dev/null 2>&1 &
pid=$!
wait_until 1200 has_a_cell "$tmp/kill" || { kill -9 $pid; wait $pid 2>/dev/null; "$OLAB" clean >/dev/null; fail "no cell was flushed"; }
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
"$OLAB" clean >/dev/null || fail "clean exit $? after SIGKILL"
f=$(ls "$tmp"/kill/run-*/results.json)
jq -e '.complete == false and (.results | length) >= 1 and
	([.results[] | .bench == "drop" and (.hook | type) == "string" and .runtime == "netns" and .trial_ms == 50] | all)' \
	"$f" >/dev/null || fail "after SIGKILL: $(jq -c '{complete, cells: [.results[] | {hook, metric, runtime}]}' "$f")"
echo "killed with $(jq '.results | length' "$f") figure(s) written" >&2

# -- a full disk (a private mount namespace, a 64k tmpfs): exit 1, one line
for free in 4096 0; do
	mkdir -p "$tmp/ns$free"
	unshare --mount --propagation private bash "$0" --private-ns "$tmp/ns$free" $free ||
		fail "full disk ($free bytes free) failed"
done
findmnt -rn -o SOURCE | grep -q olab-enospc && fail "the tmpfs leaked into the root mount namespace"
exit 0
