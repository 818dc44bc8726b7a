#!/bin/sh
# bench/handoff_campaign.sh - the handoff speed goal: 1,000 random fault
# schedules of the 32-host cluster (handoff-faults.json as shipped) for one
# method, simulated with the two cores the run may use; prints wall time,
# CPU time and peak RSS (GNU time) and the campaign's figures.
# Usage: bench/handoff_campaign.sh [METHOD [VMSIM]]   (default handoff ./vmsim)
set -eu
METHOD=${1:-handoff}
VMSIM=${2:-./vmsim}
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/vmsim-hocamp.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
/usr/bin/time -v "$VMSIM" run -j 2 --no-plot -o "$tmp/out" \
    --set "variants=[{\"name\": \"$METHOD\", \"policy\": \"$METHOD\"}]" \
    "$top/workloads/experiments/handoff-faults.json" > "$tmp/run.out" 2> "$tmp/run.time" || true
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/run.time")
user=$(sed -n 's/.*User time (seconds): //p' "$tmp/run.time")
sys=$(sed -n 's/.*System time (seconds): //p' "$tmp/run.time")
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/run.time")
echo "handoff-faults, $METHOD, 1000 schedules of 32 hosts: wall $wall, user ${user} s, sys ${sys} s, peak RSS $((rss / 1024)) MiB"
grep -v '^wrote' "$tmp/run.out"
