#!/bin/sh
# prefault_bad_input.sh - bad input to the prefault mechanism: run and
# validate both refuse it before any run point starts, with one located
# line, exit status 2 and nothing written (expect_bad, lib.sh):
# host memory larger than the guest, a window of 0, a synthetic workload
# (a policy needs guest-virtual addresses), post-copy without a source or
# with a source the platform does not have, an empty trace, a malformed
# trace line and a truncated gzip trace.
. "$(dirname "$0")/lib.sh"
n=0
gen="$tmpdir/gen"
mkdir -p "$gen"
sata="$VMSIM_SRCDIR/workloads/platforms/host-sata.xml"
two="$VMSIM_SRCDIR/workloads/platforms/hosts2-nvme-10g.xml"
lua="$VMSIM_SRCDIR/workloads/traces/lua-bigtable.pagetrace.gz"
# pf_cfg NAME PLATFORM 'WORKLOAD' ['EXTRA'] -> $gen/NAME.json
pf_cfg() {
    cat > "$gen/$1.json" <<CFG
{ "name": "bad-$1", "mechanism": "prefault", "scenario": "swap", "platform": "$2",
  "vm": { "memory": "64MiB" }, "workload": $3,
  "variants": [ { "name": "gva", "policy": "gva", "params": { "k": 8 } } ]$4 }
CFG
}
expect_both() {
    expect_bad "run $1" "$2" run --no-plot -o "$tmpdir/run-out" "$gen/$1.json"
    expect_bad "validate $1" "$2" validate "$gen/$1.json"
}
trace="{ \"kind\": \"trace\", \"file\": \"$lua\" }"

pf_cfg host-larger "$sata" "$trace" ', "swap": { "host_memory": "128MiB" }'
expect_both host-larger "host-larger.json: \$.swap.host_memory: expected at most the guest's memory (64 MiB), got 128 MiB"
pf_cfg window-0 "$sata" "$trace"
sed -i 's/"k": 8/"k": 0/' "$gen/window-0.json"
expect_both window-0 "window-0.json: \$.variants[0].params.k: expected integer 1..511, got 0"
pf_cfg synthetic "$sata" '{ "kind": "synthetic", "pattern": "zipf" }'
expect_both synthetic "synthetic.json: \$.workload: the prefault mechanism replays memory traces"
pf_cfg no-source "$two" "$trace" ', "scenario": "postcopy"'
sed -i 's/"scenario": "swap", //' "$gen/no-source.json"
expect_both no-source "no-source.json: \$.postcopy.source: scenario postcopy needs the source host's name"
pf_cfg bad-source "$two" "$trace" ', "scenario": "postcopy", "postcopy": { "source": "host9" }'
sed -i 's/"scenario": "swap", //' "$gen/bad-source.json"
expect_both bad-source "bad-source.json: \$.postcopy.source: "

{ echo "# vmsim pagetrace v1 page_size=4096 program=gen"
  echo "# total_accesses=0 records=0 truncated=no"; } > "$gen/empty.pagetrace"
pf_cfg empty "$sata" "{ \"kind\": \"trace\", \"file\": \"$gen/empty.pagetrace\" }"
expect_both empty "empty.json: \$.workload.file: $gen/empty.pagetrace: expected at least one record, got none"
{ echo "# vmsim pagetrace v1 page_size=4096 program=gen"; echo "W 1000 1"; echo "Q zz 1"; } \
    > "$gen/malformed.pagetrace"
pf_cfg malformed "$sata" "{ \"kind\": \"trace\", \"file\": \"$gen/malformed.pagetrace\" }"
expect_both malformed "malformed.json: \$.workload.file: $gen/malformed.pagetrace:3: expected 'X', 'R' or 'W', got 'Q'"
head -c 50000 "$lua" > "$gen/cut.pagetrace.gz"
pf_cfg cut "$sata" "{ \"kind\": \"trace\", \"file\": \"$gen/cut.pagetrace.gz\" }"
expect_both cut "(truncated gzip)"
if ls "$gen"/*.vmtrace > /dev/null 2>&1; then
    bad "a refused run left a trace cache"; ls "$gen"/*.vmtrace
else
    ok "a refused run leaves no trace cache"
fi
finish
