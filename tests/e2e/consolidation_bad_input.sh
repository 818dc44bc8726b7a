#!/bin/sh
# consolidation_bad_input.sh - bad input to the consolidation mechanism:
# run and validate both refuse it before any run point starts, with one
# located line, exit status 2 and nothing written (expect_bad, lib.sh).
# The chain (chain.disks: a cycle, a missing parent, two bases, a tree;
# a delta larger than the virtual disk), the virtual disk (a grain not a
# power of two, a size not a multiple of the grain, larger than the
# platform's disk), the load (a request not a multiple of 4 KiB, arrivals
# not one of poisson, even and closed), a host
# crash on another host or a second host crash, a virtual disk of 16 TiB
# (its delta files pass the grain tables' 32-bit entries), a platform disk
# beyond 64 TiB, a written vdisk that fits only in its --quick form (run
# --quick checks the written points too), and blocktraces (a negative
# offset, an unknown op, a write past the virtual disk's end, a bad
# header, a timestamp going backwards, a file name over 4095 bytes), each
# reported at FILE:LINE.
. "$(dirname "$0")/lib.sh"
n=0
gen="$tmpdir/gen"
mkdir -p "$gen" "$tmpdir/tmp"
TMPDIR="$tmpdir/tmp"        # whatever vmsim would put in a temp dir lands here
export TMPDIR
sata="$VMSIM_SRCDIR/workloads/platforms/host-sata.xml"
two="$VMSIM_SRCDIR/workloads/platforms/hosts2-nvme-25g.xml"
# cons_cfg NAME 'VDISK' 'CHAIN' ['LOAD'] ['EXTRA'] -> $gen/NAME.json (on $plat, or SATA)
cons_cfg() {
    cat > "$gen/$1.json" <<CFG
{ "name": "bad-$1", "mechanism": "consolidation", "platform": "${plat:-$sata}",
  "vdisk": { $2 }, "chain": { $3 }, "load": { ${4:-\"write_ratio\": 0.3} },
  "run": { "before": "0.5s", "after": "0.5s" },
  "variants": [ { "name": "mirror", "policy": "mirror" } ]$5 }
CFG
}
expect_both() {
    expect_bad "run $1" "$2" run --no-plot -o "$tmpdir/run-out" "$gen/$1.json"
    expect_bad "validate $1" "$2" validate "$gen/$1.json"
}
vd='"size": "2GiB", "grain": "64KiB"'
dl='"deltas": 1, "delta_size": "256MiB"'

cons_cfg cycle "$vd" '"disks": [ { "name": "base" },
    { "name": "snap1", "parent": "snap2", "size": "64MiB" },
    { "name": "snap2", "parent": "snap1", "size": "64MiB" } ]'
expect_both cycle "cycle.json: \$.chain.disks[1].parent: cycle: snap1 -> snap2 -> snap1"
cons_cfg missing-parent "$vd" '"disks": [ { "name": "base" },
    { "name": "snap1", "parent": "base", "size": "64MiB" },
    { "name": "snap2", "parent": "snapX", "size": "64MiB" } ]'
expect_both missing-parent "missing-parent.json: \$.chain.disks[2].parent: missing parent 'snapX'"
cons_cfg two-bases "$vd" '"disks": [ { "name": "base" }, { "name": "base2" },
    { "name": "snap1", "parent": "base", "size": "64MiB" } ]'
expect_both two-bases "two-bases.json: \$.chain.disks[1]: a second base ('base2' has no parent"
cons_cfg tree "$vd" '"disks": [ { "name": "base" },
    { "name": "snap1", "parent": "base", "size": "64MiB" },
    { "name": "snap2", "parent": "base", "size": "64MiB" } ]'
expect_both tree "tree.json: \$.chain.disks[2].parent: 'base' is already the parent of 'snap1' (\$.chain.disks[1]): expected a chain, not a tree"
cons_cfg delta-larger "$vd" '"disks": [ { "name": "base" },
    { "name": "snap1", "parent": "base", "size": "4GiB" } ]'
expect_both delta-larger "delta-larger.json: \$.chain.disks[1].size: expected at most the virtual disk's size (2 GiB), got 4 GiB"
cons_cfg delta-size-larger "$vd" '"deltas": 1, "delta_size": "4GiB"'
expect_both delta-size-larger "delta-size-larger.json: \$.chain.delta_size: expected at most the disk's size (2 GiB), got 4 GiB"
cons_cfg disks-and-deltas "$vd" '"deltas": 2, "disks": [ { "name": "base" },
    { "name": "snap1", "parent": "base", "size": "64MiB" } ]'
expect_both disks-and-deltas "disks-and-deltas.json: \$.chain.deltas: expected either 'disks' or 'deltas'/'delta_size', not both"

cons_cfg grain-48k '"size": "2GiB", "grain": "48KiB"' "$dl"
expect_both grain-48k "grain-48k.json: \$.vdisk.grain: expected a power of two from 4 KiB to 16 MiB, got 48 KiB"
cons_cfg size-not-grain '"size": "2050MiB", "grain": "4MiB"' "$dl"
expect_both size-not-grain "size-not-grain.json: \$.vdisk.size: expected a multiple of the grain (4 MiB), got 2050 MiB"
cons_cfg request-6k "$vd" "$dl" '"write_ratio": 0.3, "request": "6KiB"'
expect_both request-6k "request-6k.json: \$.load.request: expected a multiple of 4 KiB, got 6 KiB"
cons_cfg arrivals-open "$vd" "$dl" '"write_ratio": 0.3, "arrivals": "open"'
expect_both arrivals-open "arrivals-open.json: \$.load.arrivals: expected one of poisson|even|closed, got \"open\""
cons_cfg vdisk-2t '"size": "2TiB", "grain": "64KiB"' "$dl"
expect_both vdisk-2t "vdisk-2t.json: \$.vdisk.size: expected a virtual disk whose chain fits the platform's disk (1 TiB): the base, 1 delta and two helpers take 4 files of up to 2 TiB each"
# another host of the platform (host1 of the two-host one): not the VM's
plat=$two
cons_cfg crash-other-host "$vd" "$dl" '' ', "faults": [ { "kind": "host_crash", "at": "1s", "host": "host1" } ]'
expect_both crash-other-host "crash-other-host.json: \$.faults[0].host: expected no host (the VM and its disk are on the experiment's host"
cons_cfg crash-named-host "$vd" "$dl" '' ', "host": "host0", "faults": [ { "kind": "host_crash", "at": "1s", "host": "host1" } ]'
plat=
expect_both crash-named-host "crash-named-host.json: \$.faults[0].host: expected the experiment's host ('host0', or no host)"
# a host the platform lacks: the core says so (once), whatever the mechanism
cons_cfg crash-unknown-host "$vd" "$dl" '' ', "faults": [ { "kind": "host_crash", "at": "1s", "host": "other" } ]'
expect_both crash-unknown-host "crash-unknown-host.json: \$.faults[0].host: unknown host 'other' (hosts: host0)"

# one host crash per run point (a second was once dropped unsaid)
cons_cfg two-crashes "$vd" "$dl" '' ', "faults": [ { "kind": "host_crash", "at": "1s" }, { "kind": "host_crash", "at": "2s" } ]'
expect_both two-crashes "two-crashes.json: \$.faults[1]: expected at most one host_crash"
# a virtual disk whose delta files pass the 32-bit grain table entries
cons_cfg vdisk-16t '"size": "16TiB", "grain": "64KiB"' "$dl"
expect_both vdisk-16t "vdisk-16t.json: \$.vdisk.size: expected a virtual disk whose delta files stay under 16 TiB"
# a platform disk beyond what the fingerprint store indexes
sed 's/id="capacity" value="[^"]*"/id="capacity" value="512TiB"/' "$sata" > "$gen/cap512t.xml"
plat="$gen/cap512t.xml"
cons_cfg cap-512t "$vd" "$dl"
plat=
expect_both cap-512t "prop 'capacity': expected a size of 4KiB to 64TiB, such as '1TiB', got '512TiB'"
# run --quick checks the points as written deeply, as validate does: the
# written vdisk does not fit the platform, the quick one does
cons_cfg quick-fits '"size": "2TiB", "grain": "64KiB"' "$dl" '' ', "quick": { "vdisk.size": "2GiB" }'
expect_bad "run --quick quick-fits" "quick-fits.json: \$.vdisk.size: expected a virtual disk whose chain fits the platform's disk (1 TiB)" run --quick --no-plot -o "$tmpdir/run-out" "$gen/quick-fits.json"

# blocktraces: bad_trace NAME 'ROW...' (the header first unless given)
hdr='timestamp_s,op,offset,length,file'
bad_trace() {
    name=$1
    shift
    printf '%s\n' "$@" > "$gen/$name.csv"
    cons_cfg "$name" "${vdisk:-$vd}" "$dl" "\"trace\": \"$gen/$name.csv\""
}
bad_trace negative-offset "$hdr" '0.0,W,0,4096,a' '0.1,W,-4096,4096,a'
expect_both negative-offset "negative-offset.json: \$.load.trace: $gen/negative-offset.csv:3: expected a non-negative integer offset"
bad_trace unknown-op "$hdr" '0.0,W,0,4096,a' '0.1,X,0,4096,a'
expect_both unknown-op "unknown-op.json: \$.load.trace: $gen/unknown-op.csv:3: expected op 'R', 'W' or 'F', got 'X'"
vdisk='"size": "1MiB", "grain": "64KiB"'
bad_trace past-end "$hdr" '0.0,W,0,4096,a' '0.1,W,2097152,4096,a'
unset vdisk
sed -i 's/"delta_size": "256MiB"/"delta_size": "256KiB"/' "$gen/past-end.json"
expect_both past-end "past-end.json: \$.load.trace: $gen/past-end.csv:3: request ends at sector 512, past the disk's end (256 sectors of 4 KiB): a write of file 'a'"
bad_trace bad-header 'time,op,offset,length,file' '0.0,W,0,4096,a'
expect_both bad-header "bad-header.json: \$.load.trace: $gen/bad-header.csv:1: expected the header '$hdr', got 'time,op,offset,length,file'"
bad_trace backwards "$hdr" '0.5,W,0,4096,a' '0.25,W,4096,4096,a'
expect_both backwards "backwards.json: \$.load.trace: $gen/backwards.csv:3: expected a timestamp_s >= 0.500000000 (the row before's), got '0.25'"
long=$(awk 'BEGIN { while (n++ < 4096) printf "n" }')
bad_trace long-name "$hdr" "0.0,W,0,4096,$long"
expect_both long-name "long-name.json: \$.load.trace: $gen/long-name.csv:2: expected a file name of at most 4095 bytes, got 'nnnn"

expect_nothing_left
finish
