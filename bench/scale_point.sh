#!/bin/sh
# bench/scale_point.sh - wall time, CPU time and peak RSS of one
# checkpoint-scale run point (one memory size, one variant), the figures
# issue 6 sets goals on (64 GiB: < 10 s, < 512 MiB; 1 TiB buffered:
# <= 30 s, <= 3 GiB).  GNU time measures the whole vmsim (its run point
# is a child, so the RSS is the point's).  On a machine shared with other
# jobs, user + sys CPU is the steadier figure: wall includes waiting.  CPU
# also counts the helper threads (a Zipf stream drawn ahead, memory
# faulted in ahead), so on an idle machine wall is below it.
#
# usage: bench/scale_point.sh MEMORY [VARIANT] [VMSIM]
#        e.g. bench/scale_point.sh 1TiB buffered
#        VARIANT: a variant name of checkpoint-scale.json (default buffered)
set -eu
mem=${1:?usage: scale_point.sh MEMORY [VARIANT] [VMSIM]}
variant=${2:-buffered}
srcdir=$(cd "$(dirname "$0")/.." && pwd)
vmsim=${3:-$srcdir/vmsim}
exp=$srcdir/workloads/experiments/checkpoint-scale.json
# the variant's index in the config, so --set keeps its own params
idx=$(grep -o '"name": *"[^"]*", *"policy"' "$exp" | sed 's/"name": *"\([^"]*\)".*/\1/' |
      grep -nx "$variant" | cut -d: -f1)
[ -n "$idx" ] || { echo "scale_point.sh: no variant '$variant' in $exp" >&2; exit 2; }
out=$(mktemp -d "${TMPDIR:-/tmp}/scale_point.XXXXXX")
trap 'rm -rf "$out"' EXIT
/usr/bin/time -f '%e %U %S %M' -o "$out/time" "$vmsim" run "$exp" -o "$out/run" --no-plot -j 1 \
    --set "sweep[0].values=[\"$mem\"]" \
    --set "variants=[$(sed -n '/"variants"/,/\]/p' "$exp" | grep '"name"' | sed -n "${idx}p" |
                       sed 's/^ *//; s/,$//')]" > "$out/log" 2>&1 ||
    { cat "$out/log" >&2; exit 1; }
grep -E "^$variant/" "$out/log"
read -r wall user sys rss < "$out/time"
awk -v m="$mem" -v v="$variant" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" 'BEGIN {
    printf "%s %s: wall %.1f s, cpu %.1f s (user %.1f + sys %.1f), peak rss %.0f MiB\n",
           v, m, w, u + s, u, s, r / 1024 }'
