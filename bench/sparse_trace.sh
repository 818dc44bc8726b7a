#!/bin/sh
# bench/sparse_trace.sh - peak RSS and wall time of a run on a sparse
# trace: one page touched in each of REGIONS regions, each region in a
# different 1 GiB of guest-virtual address space (the page at offset
# 0x5000 of every GiB from 1 GiB up: 20,000 regions reach 20,000 GiB,
# 100,000 regions 100,000 GiB, both below the 128 TiB of a 4-level lower
# half).  Each region costs the guest a page, a PT and a PD (guest frames),
# so 100,000 regions need more than a 1 GiB guest: MEMORY defaults to
# 1GiB up to 60,000 regions and 2GiB above.  The trace (a gzip pagetrace,
# the trace loops) runs through the checkpoint mechanism's stop-and-copy
# save after the default 50 ms warm-up, in which the vCPU replays the
# trace hundreds of times over (2 ns per access); GNU time measures the whole vmsim (the run point is a child, so
# the RSS is the point's).
#
# usage: bench/sparse_trace.sh [REGIONS] [MEMORY] [VMSIM]
#        e.g. bench/sparse_trace.sh 20000
#             bench/sparse_trace.sh 100000 2GiB
set -eu
regions=${1:-20000}
srcdir=$(cd "$(dirname "$0")/.." && pwd)
if [ "$regions" -gt 60000 ]; then mem=${2:-2GiB}; else mem=${2:-1GiB}; fi
vmsim=${3:-$srcdir/vmsim}
out=$(mktemp -d "${TMPDIR:-/tmp}/sparse_trace.XXXXXX")
trap 'rm -rf "$out"' EXIT
# page numbers are addresses >> 12: GiB g holds pages g << 18 ..
awk -v n="$regions" 'BEGIN {
    print "# vmsim pagetrace v1 page_size=4096 program=sparse"
    for (r = 1; r <= n; r++)
        printf "%s %x 1\n", (r % 4 ? "R" : "W"), r * 262144 + 5
    printf "# total_accesses=%d records=%d truncated=no\n", n, n }' | gzip -9 > "$out/sparse.pagetrace.gz"
cat > "$out/sparse.json" <<CFG
{ "name": "sparse-trace", "mechanism": "checkpoint",
  "platform": "$srcdir/workloads/platforms/host-nvme.xml",
  "vm": { "memory": "$mem" },
  "workload": { "kind": "trace", "file": "sparse.pagetrace.gz" },
  "variants": [ { "name": "stop-and-copy", "policy": "stopcopy" } ] }
CFG
/usr/bin/time -f '%e %U %S %M' -o "$out/time" "$vmsim" run "$out/sparse.json" -o "$out/run" \
    --no-plot -j 1 > "$out/log" 2>&1 || { cat "$out/log" >&2; exit 1; }
read -r wall user sys rss < "$out/time"
size=$(wc -c < "$out/sparse.pagetrace.gz")
awk -v n="$regions" -v m="$mem" -v z="$size" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" 'BEGIN {
    printf "%d regions (trace %d bytes), %s guest: wall %.1f s, cpu %.1f s, peak rss %.0f MiB\n",
           n, z, m, w, u + s, r / 1024 }'
