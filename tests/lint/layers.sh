#!/usr/bin/env bash
# Layering lint: no #include "..." goes from a lower layer to a higher one,
# and files or folders of one layer do not include each other in a cycle.
# The file -> layer map below is the only one (the README points here).
#
#   0 base    lib: log util stats run manifest registry json_out cpuidle kver
#             bpf_compat; bpf/*.h (kernel/user shared definitions)
#   1 netns   netns/
#   2 domain  the rest of lib/ (hooks, apps, gen_*, features*, counters,
#             vm*, ...), results/
#   3 upper   bench/ checks/ containers/ scenarios/ report/
#   4 cmd     cmd/
#   5 tests   tests/ (may include anything)
# Includes of files not in the tree (skeletons, version.h, vmlinux.h) are
# generated and not checked.
#
# Usage: tests/lint/layers.sh [TREE]  (default: this checkout)
set -u
root=${1:-"$(dirname "$0")/../.."}
cd "$root" || exit 1

layer_of() {
	case $1 in
	lib/log.[ch] | lib/util.[ch] | lib/stats.[ch] | lib/run.[ch] | lib/manifest.[ch] | \
	lib/registry.[ch] | lib/json_out.[ch] | lib/cpuidle.[ch] | lib/kver.[ch] | lib/bpf_compat.h | bpf/*)
		echo 0 ;;
	netns/*) echo 1 ;;
	lib/* | results/*) echo 2 ;;
	bench/* | checks/* | containers/* | scenarios/* | report/*) echo 3 ;;
	cmd/*) echo 4 ;;
	tests/*) echo 5 ;;
	*) echo "layers.sh: $1 has no layer: add it to layer_of" >&2; echo 9 ;;
	esac
}

# No file is excepted.
excepted() {
	return 1
}

# "file line target" for every include of a file in the tree.
edges() {
	local f line inc
	find lib netns results bench checks containers scenarios report cmd tests bpf \
		-type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | sort |
	while read -r f; do
		grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
		while IFS= read -r line; do
			inc=${line#*\"}; inc=${inc%%\"*}
			if [ -f "$inc" ]; then :
			elif [ -f "$(dirname "$f")/$inc" ]; then inc="$(dirname "$f")/$inc"
			else continue
			fi
			echo "$f ${line%%:*} $inc"
		done
	done
}

fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
edges > "$tmp/edges"

# Upward includes.
while read -r f n inc; do
	lf=$(layer_of "$f"); li=$(layer_of "$inc")
	[ "$lf" = 9 ] || [ "$li" = 9 ] && fail=1
	if [ "$li" -gt "$lf" ] && ! excepted "$f"; then
		echo "upward include: $f:$n includes $inc (layer $li above $lf)"
		fail=1
	fi
done < "$tmp/edges"

# Same-layer cycles, between files (X.c, X.h and a private X_internal.h are one
# group) and between folders: an include A -> B is reported when B already
# reaches A.
group() { local g=${1%.*}; echo "${g%_internal}"; }
while read -r f n inc; do
	lf=$(layer_of "$f"); li=$(layer_of "$inc")
	[ "$lf" = "$li" ] || continue
	excepted "$f" && continue
	echo "$f $n $(group "$f") $(group "$inc") $(dirname "${f#containers/static/}" | sed 's,^\.$,containers,') $(dirname "$inc")"
done < "$tmp/edges" > "$tmp/same"

awk '
function closure(kind,   k, i, j, changed) {
	do {
		changed = 0
		for (k in reach) {
			split(k, p, SUBSEP); i = p[1]; j = p[2]
			for (m in next_of) {
				split(m, q, SUBSEP)
				if (q[1] == j && !((i, q[2]) in reach)) { reach[i, q[2]] = 1; changed = 1 }
			}
		}
	} while (changed)
}
function check(kind, a, b, where) {
	if (a != b && (b, a) in reach)
		printf "include cycle (%s): %s includes %s, which reaches back to %s\n", kind, where, b, a
	return a != b && (b, a) in reach
}
{ file[NR] = $1 ":" $2; ga[NR] = $3; gb[NR] = $4; da[NR] = $5; db[NR] = $6 }
END {
	bad = 0
	for (pass = 1; pass <= 2; pass++) {
		delete reach; delete next_of
		for (r = 1; r <= NR; r++) {
			a = pass == 1 ? ga[r] : da[r]; b = pass == 1 ? gb[r] : db[r]
			if (a != b) { reach[a, b] = 1; next_of[a, b] = 1 }
		}
		closure()
		for (r = 1; r <= NR; r++) {
			a = pass == 1 ? ga[r] : da[r]; b = pass == 1 ? gb[r] : db[r]
			bad += check(pass == 1 ? "files" : "folders", a, b, file[r] " (" a ")")
		}
	}
	exit bad > 0
}' "$tmp/same" || fail=1

[ "$fail" = 0 ] && echo "layers: $(wc -l < "$tmp/edges") includes, none upward, no cycles"
exit "$fail"
