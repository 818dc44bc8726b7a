#!/bin/sh
# bench/prefault_point.sh - wall time, CPU time, peak RSS and replay rate
# (guest accesses per second of wall time, recording and warm passes
# included) of one prefault run point: one variant of a prefault
# experiment's full form, at the point the --set overrides pick.  The
# figures issue 7 sets goals on: replay with faults >= 10 M accesses/s, a
# 1 GiB working-set trace at 50% memory pressure under 60 s, each quick
# experiment under 20 s.  GNU time measures the whole vmsim (its run point
# is a child, so the RSS is the point's).
#
# usage: bench/prefault_point.sh EXPERIMENT VARIANT [--set PATH=VALUE]...
#        e.g. bench/prefault_point.sh prefault-swap vma \
#                 --set 'sweep[0].values=[{"name":"awk","kind":"trace","file":"../traces/awk-bigarray.pagetrace.gz"}]'
#        VMSIM=path overrides the binary (default: ./vmsim of the tree)
set -eu
name=${1:?usage: prefault_point.sh EXPERIMENT VARIANT [--set PATH=VALUE]...}
variant=${2:?usage: prefault_point.sh EXPERIMENT VARIANT [--set PATH=VALUE]...}
shift 2
srcdir=$(cd "$(dirname "$0")/.." && pwd)
vmsim=${VMSIM:-$srcdir/vmsim}
exp=$srcdir/workloads/experiments/$name.json
[ -f "$exp" ] || { echo "prefault_point.sh: no experiment $exp" >&2; exit 2; }
out=$(mktemp -d "${TMPDIR:-/tmp}/prefault_point.XXXXXX")
trap 'rm -rf "$out"' EXIT
# keep only the variant asked for (its own params stay)
v=$(tr -d '\n' < "$exp" | sed 's/.*"variants": *\[//; s/\] *, *"sweep".*//; s/\] *, *"metrics".*//' |
    sed 's/}, *{/}\n{/g' | grep "\"name\": *\"$variant\"" || true)
[ -n "$v" ] || { echo "prefault_point.sh: no variant '$variant' in $exp" >&2; exit 2; }
/usr/bin/time -f '%e %U %S %M' -o "$out/time" "$vmsim" run "$exp" -o "$out/run" --no-plot -j 1 \
    --set "variants=[$v]" "$@" > "$out/log" 2>&1 || { cat "$out/log" >&2; exit 1; }
grep -E "^$variant" "$out/log" | head -5
acc=$(tr -d '\n\t ' < "$out/run/result.json" | grep -o '"accesses":[0-9.e+]*' |
      cut -d: -f2 | awk '{ s += $1 } END { printf "%.0f", s }')
read -r wall user sys rss < "$out/time"
awk -v v="$variant" -v e="$name" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v a="$acc" 'BEGIN {
    printf "%s %s: wall %.1f s, cpu %.1f s, peak rss %.0f MiB, %.0f accesses, %.1f M accesses/s of wall time\n",
           e, v, w, u + s, r / 1024, a, a / w / 1e6 }'
