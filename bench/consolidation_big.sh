#!/bin/sh
# bench/consolidation_big.sh - the consolidation speed goal: a 100 GiB
# delta (64 KiB grains spread over the disk) on a 1 TiB virtual disk,
# consolidated by the mirror method under guest load, on the 16 TB NVMe
# datastore; prints wall time and peak RSS (GNU time) for two loads:
#   light  lambda/B 0.1, 1 MiB requests, 95% in a 16 GiB hot set
#   heavy  lambda/B 0.3, 1 MiB requests, 90% in a 64 GiB hot set
# Usage: bench/consolidation_big.sh [VMSIM [LOAD [RUNS]]]   (default ./vmsim,
# both loads, one run; LOAD is light, heavy or "light heavy").  User CPU time
# is printed too: on a shared machine it varies less than the wall time.
# With RUNS > 1 each load runs RUNS times and a last line gives the median,
# least and most wall and user time (quote the median: one slow or one
# lucky run must not move it).  KEEP=1 keeps the configs and
# results in the /tmp/vmsim-consbig.* directory (to compare two builds' CSV).
set -eu
VMSIM=${1:-./vmsim}
LOADS=${2:-light heavy}
RUNS=${3:-1}
case $RUNS in
''|*[!0-9]*|0) echo "usage: $0 [VMSIM [light|heavy [RUNS >= 1]]]" >&2; exit 2 ;;
esac
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/vmsim-consbig.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT INT TERM
for load in $LOADS; do
    case $load in
    light) ratio=0.1 hot=16GiB share=0.95 ;;
    heavy) ratio=0.3 hot=64GiB share=0.9 ;;
    *) echo "usage: $0 [VMSIM [light|heavy]]" >&2; exit 2 ;;
    esac
    cat > "$tmp/$load.json" <<JSON
{"name": "consolidation-big-$load", "mechanism": "consolidation",
 "platform": "$top/workloads/platforms/host-nvme-16tb.xml",
 "vdisk": {"size": "1TiB"}, "chain": {"delta_size": "100GiB"},
 "load": {"write_ratio": $ratio, "request": "1MiB", "hot_set": "$hot", "hot_share": $share},
 "run": {"before": "1s", "after": "1s", "timeout": "3600s"},
 "variants": [{"name": "mirror", "policy": "mirror"}]}
JSON
    : > "$tmp/$load.runs"
    run=1
    while [ "$run" -le "$RUNS" ]; do
        /usr/bin/time -v "$VMSIM" run "$tmp/$load.json" -o "$tmp/$load" > "$tmp/$load.out" 2> "$tmp/$load.time"
        wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/$load.time")
        rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/$load.time")
        user=$(sed -n 's/.*User time (seconds): //p' "$tmp/$load.time")
        sim=$(grep '^mirror' "$tmp/$load.out" | awk '{print $4, $5}')
        echo "$load: wall $wall, user ${user} s, peak RSS $((rss / 1024)) MiB, consolidation took $sim of simulated time"
        # wall as seconds (GNU time prints m:ss.cc or h:mm:ss)
        echo "$wall $user" | awk '{ n = split($1, p, ":"); s = 0
                                    for (i = 1; i <= n; i++) s = s * 60 + p[i]
                                    print s, $2 }' >> "$tmp/$load.runs"
        run=$((run + 1))
    done
    if [ "$RUNS" -gt 1 ]; then
        # the median of an even count is the mean of the middle two
        summary() {
            sort -n | awk '{ v[NR] = $1 } END {
                m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
                printf "median %.2f s (%.2f-%.2f)", m, v[1], v[NR] }'
        }
        w=$(cut -d' ' -f1 "$tmp/$load.runs" | summary)
        u=$(cut -d' ' -f2 "$tmp/$load.runs" | summary)
        echo "$load, $RUNS runs: wall $w, user $u"
    fi
done
