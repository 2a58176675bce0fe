#!/usr/bin/env bash
# Size lint: no C source file over 800 lines, no function body over 80 lines
# unless the comment right above the function says "long:" and why (for when
# one long function is the clearest form, e.g. a declarative table).
# Generated files (build/: skeletons, vmlinux.h) are not read.
#
# Usage: tests/lint/sizes.sh [TREE]  (default: this checkout)
set -u
root=${1:-"$(dirname "$0")/../.."}
cd "$root" || exit 1
MAX_FILE=800
MAX_FUNC=80

# No file is excepted.
excepted() {
	return 1
}

fail=0 files=0
while read -r f; do
	files=$((files + 1))
	excepted "$f" && continue
	n=$(wc -l < "$f")
	if [ "$n" -gt "$MAX_FILE" ]; then
		echo "file too long: $f has $n lines (max $MAX_FILE)"
		fail=1
	fi
	# Functions: a signature at column 0, "{" alone at column 0, "}" at column 0.
	awk -v max="$MAX_FUNC" -v file="$f" '
	/^\/\*/ { in_cmt = 1; cmt = "" }
	in_cmt { cmt = cmt $0; if ($0 ~ /\*\//) { in_cmt = 0; cmt_end = NR }; next }
	/^\/\// { cmt = (cmt_end == NR - 1 ? cmt : "") $0; cmt_end = NR; next }
	!in_func && /^[A-Za-z_]/ && !sig {
		sig = NR; name = $0; above = cmt_end == NR - 1 ? cmt : ""
	}
	!in_func && /^[A-Za-z_]/ && /;[[:space:]]*$/ { sig = 0 }
	!in_func && /^\{[[:space:]]*$/ && sig { in_func = NR; next }
	!in_func && /^$/ { sig = 0 }
	in_func && /^\}/ {
		len = NR - in_func - 1
		if (len > max && above !~ /long:/) {
			if (name ~ /^OLAB_TEST\(/) sub(/\).*/, ")", name); else sub(/\(.*/, "", name)
			printf "function too long: %s:%d %s has %d lines (max %d; or say long: why, in the comment above it)\n", file, sig, name, len, max
			bad = 1
		}
		in_func = 0; sig = 0
	}
	END { exit bad }' "$f" || fail=1
done < <(find cmd lib netns containers checks bench scenarios results tests bpf \
	-type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | sort)

[ "$fail" = 0 ] && echo "sizes: $files files, none over $MAX_FILE lines, no function over $MAX_FUNC lines without long:"
exit "$fail"
