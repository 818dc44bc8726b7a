#!/bin/sh
# bench/prefault_big_ws.sh - the prefault swap scenario on a 1 GiB working
# set.  The shipped traces touch at most 100 MiB; this generates (with
# `vmsim trace synth`, into a temporary folder removed at exit) a pointer
# chase over 262,144 pages (1 GiB) from 0x7f0000000000: two laps of a
# linked list whose nodes sit one per page in a random permutation of the
# region (every page visited once per lap, in the same order both laps;
# the walk over a large list or hash table of randomly allocated nodes),
# 8 accesses a node, 20% of the visits writes, plus 2 code pages fetched
# after every 16 nodes.  The guest gets 2 GiB (the trace needs its 1 GiB
# plus the code pages) and the host half of the working set
# (prefault-swap.json's swap.memory_fraction 0.5): a lap is twice the
# host memory, so after the scenario's warm pass each lap finds its pages
# swapped out, and without prefetching every node visit is a major fault.
#
# It prints the trace's figures and the command that times the scenario
# (every policy of prefault-swap.json, one point at a time), then runs
# that command under GNU time: wall s, user s, sys s, peak RSS KiB.  On a
# machine shared with other jobs, user + sys is the steadier figure.
# Not part of `make check`.
#
# usage: bench/prefault_big_ws.sh [-n] [VMSIM]
#        -n  print the commands only (nothing generated, nothing timed)
set -eu
dry=no
if [ "${1:-}" = "-n" ]; then
    dry=yes
    shift
fi
srcdir=$(cd "$(dirname "$0")/.." && pwd)
vmsim=${1:-$srcdir/vmsim}
exp=$srcdir/workloads/experiments/prefault-swap.json
pages=262144                    # 1 GiB of 4 KiB pages
# two laps of data records, and the X record before every 16 of them
records=$((2 * pages + 2 * pages / 16))

if [ "$dry" = yes ]; then
    tmp='$TMP'
else
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/prefault_big_ws.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    trap 'exit 130' INT TERM HUP
fi
trace=$tmp/chase-1g.pagetrace.gz
gen="$vmsim trace synth --pattern chase --pages $pages --records $records --code-pages 2 -o $trace"
wl="{\"name\": \"chase-1g\", \"kind\": \"trace\", \"file\": \"$trace\", \"access_time\": \"2ns\"}"
run="$vmsim run $exp -o $tmp/run --no-plot -j 1 --set vm.memory=2GiB --set 'sweep[0].values=[$wl]'"

echo "# generate:"
echo "$gen"
echo "# time:"
echo "/usr/bin/time -f '%e %U %S %M' $run"
[ "$dry" = yes ] && exit 0

$gen > /dev/null
"$vmsim" trace stats "$trace"
/usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$vmsim" run "$exp" -o "$tmp/run" --no-plot -j 1 \
    --set vm.memory=2GiB --set "sweep[0].values=[$wl]" > "$tmp/log" 2>&1 ||
    { cat "$tmp/log" >&2; exit 1; }
grep -E "^(id |[a-z0-9-]+/trace=)" "$tmp/log"
read -r wall user sys rss < "$tmp/time"
echo "wall ${wall} s, user ${user} s, sys ${sys} s, peak RSS ${rss} KiB"
