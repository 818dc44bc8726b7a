#!/bin/sh
# fault_bad_input.sh - bad "faults" refused by vmsim validate and vmsim run
# before any run point starts: one located line, exit status 2, nothing
# written (expect_bad, lib.sh).  A host the platform lacks in a fault (the
# core checks every fault's hosts against the platform, for every
# mechanism; consolidation takes host_crash), a partition of a host with
# itself, negative times.  The new kinds are refused by consolidation (it
# does not apply them); their runs are the handoff mechanism's to test.
. "$(dirname "$0")/lib.sh"
n=0
gen="$tmpdir/gen"
mkdir -p "$gen" "$tmpdir/tmp"
TMPDIR="$tmpdir/tmp"
export TMPDIR
sata="$VMSIM_SRCDIR/workloads/platforms/host-sata.xml"
two="$VMSIM_SRCDIR/workloads/platforms/hosts2-nvme-25g.xml"
# fault_cfg NAME PLATFORM 'FAULTS' -> $gen/NAME.json, a quick consolidation
fault_cfg() {
    cat > "$gen/$1.json" <<CFG
{ "name": "bad-$1", "mechanism": "consolidation", "platform": "$2",
  "vdisk": { "size": "2GiB", "grain": "64KiB" },
  "chain": { "deltas": 1, "delta_size": "256MiB" }, "load": { "write_ratio": 0.3 },
  "run": { "before": "0.5s", "after": "0.5s" },
  "variants": [ { "name": "mirror", "policy": "mirror" } ],
  "faults": [ $3 ] }
CFG
}
expect_both() {
    expect_bad "run $1" "$2" run --no-plot -o "$tmpdir/run-out" "$gen/$1.json"
    expect_bad "validate $1" "$2" validate "$gen/$1.json"
}

fault_cfg unknown-host "$sata" '{ "kind": "host_crash", "at": "1s", "host": "nosuch" }'
expect_both unknown-host "unknown-host.json: \$.faults[0].host: unknown host 'nosuch' (hosts: host0)"
fault_cfg unknown-host2 "$two" '{ "kind": "disk_error" }, { "kind": "host_crash", "from": "1s", "until": "2s", "host": "host3" }'
expect_both unknown-host2 "unknown-host2.json: \$.faults[1].host: unknown host 'host3' (hosts: host0, host1)"
fault_cfg partition-self "$two" '{ "kind": "partition", "a": "host1", "b": "host1" }'
expect_both partition-self "partition-self.json: \$.faults[0].b: a partition of a host with itself ('host1')"
fault_cfg negative-delay "$two" '{ "kind": "msg_delay", "delay": "-5ms" }'
expect_both negative-delay "negative-delay.json: \$.faults[0].delay: expected time like \"250us\", got \"-5ms\""
fault_cfg negative-at "$sata" '{ "kind": "host_crash", "at": "-1s" }'
expect_both negative-at "negative-at.json: \$.faults[0].at: expected time like \"250us\", got \"-1s\""
fault_cfg not-taken "$two" '{ "kind": "partition", "a": "host0", "b": "host1" }'
expect_both not-taken "not-taken.json: \$.faults[0].kind: mechanism 'consolidation' does not take partition faults"
finish
