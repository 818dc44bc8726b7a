#!/bin/sh
# bad_input.sh - every kind of bad input to vmsim run / validate / check /
# calibrate / trace synth exits with status 2 and one line "vmsim: FILE:
# $.path: ..." (or the option at fault) on stderr, and `run` leaves no
# output directory behind (nor `trace synth` a file).
# The bad configs are in tests/e2e/bad/; base.json there is a valid one
# that the command-line cases break.
. "$(dirname "$0")/lib.sh"
bad_dir="$VMSIM_SRCDIR/tests/e2e/bad"
base="$bad_dir/base.json"
n=0

# every bad config: run and validate, located at its JSON path (or line:col)
for spec in \
    "malformed.json|malformed.json:4:3: malformed JSON: expected ',' or '}', got '\"'" \
    "unknown-key.json|unknown-key.json: \$.vm: unknown key 'paging_level' (did you mean 'paging_levels'?)" \
    "wrong-type.json|wrong-type.json: \$.seed: expected integer" \
    "bad-unit.json|bad-unit.json: \$.vm.memory: expected size like \"8GiB\", got \"8 gigs\"" \
    "out-of-range.json|out-of-range.json: \$.variants[0].params.block_pages: expected integer 1..4096, got 0" \
    "unknown-policy.json|unknown-policy.json: \$.variants[0].policy: unknown policy 'bufferd' (known: " \
    "unknown-param.json|unknown-param.json: \$.variants[0].params: unknown key 'blok_pages' (did you mean 'block_pages'?)" \
    "missing-file.json|missing-file.json: \$.platform: expected a readable file, got \"no-such-platform.xml\"" \
    "missing-trace.json|missing-trace.json: \$.workload.file: expected a readable file" \
    "missing-key.json|missing-key.json: \$: missing required key 'workload'" \
    "duplicate-variant.json|duplicate-variant.json: \$.variants[1].name: duplicate variant name 'a'" \
    "unknown-metric.json|unknown-metric.json: \$.metrics[0].name: unknown metric 'completion_ms' (did you mean 'completion_ns'?)" \
    "bad-sweep-path.json|bad-sweep-path.json: \$.sweep[0].path: unknown key 'memroy' in 'vm.memroy'" \
    "bad-sweep-value.json|bad-sweep-value.json: \$.sweep[0].values[1]: expected size like \"8GiB\"" \
    "crash-at-and-window.json|crash-at-and-window.json: \$.faults[1].at: expected either 'at' or a window 'from'..'until', not both" \
    "fault-not-taken.json|fault-not-taken.json: \$.faults[0].kind: mechanism 'prefault' does not take disk_error faults (it takes: partition, msg_loss, msg_delay)" \
    ; do
    file=${spec%%|*}
    want=${spec#*|}
    expect_bad "run $file" "$want" run --no-plot -o "$tmpdir/run-out" "$bad_dir/$file"
    expect_bad "validate $file" "$want" validate "$bad_dir/$file"
done

# bad command-line arguments around a valid config
expect_bad "--set on an unknown key" \
    "base.json: --set vm.memroy: unknown key 'memroy' in 'vm.memroy' (did you mean 'memory'?)" \
    run --no-plot -o "$tmpdir/run-out" --set vm.memroy=2GiB "$base"
expect_bad "--set with a bad value" "base.json: --set variants[1].params.block_pages: expected integer 1..4096" \
    run --no-plot -o "$tmpdir/run-out" --set 'variants[1].params.block_pages=many' "$base"
expect_bad "a guest as large as the host leaves no page cache" \
    "base.json: --set vm.memory: the guest (200 GiB) leaves none of the host's memory (128 GiB) to the page cache" \
    run --no-plot -o "$tmpdir/run-out" --set vm.memory=200GiB "$base"
expect_bad "a dirty limit under two pages" \
    "base.json: --set save.dirty_bytes: expected 0 (use dirty_ratio) or at least 8KiB" \
    run --no-plot -o "$tmpdir/run-out" --set save.dirty_bytes=100 "$base"
expect_bad "a directory for the config" "$bad_dir: expected a regular file of JSON, got a directory" \
    run --no-plot -o "$tmpdir/run-out" "$bad_dir"
expect_bad "a dirty_background_ratio above 100" "base.json: --set save.dirty_background_ratio: expected integer 0..100" \
    run --no-plot -o "$tmpdir/run-out" --set save.dirty_background_ratio=150 "$base"
expect_bad "--set a choice not offered" \
    "base.json: --set variants[0].params.layout: expected one of stream|mapped-ram, got \"flat\"" \
    run --no-plot -o "$tmpdir/run-out" --set 'variants[0].params.layout=flat' "$base"
expect_bad "channels on a stream (a policy's own check)" \
    "base.json: \$.variants: variant 'stop-and-copy': stopcopy: 'channels' > 1 needs 'layout'" \
    run --no-plot -o "$tmpdir/run-out" --set 'variants[0].params.channels=2' "$base"
expect_bad "--set without =" "vmsim: --set: expected path=value, got 'vm.memory'" \
    run --no-plot -o "$tmpdir/run-out" --set vm.memory "$base"
expect_bad "--seed not a number" "vmsim: --seed: expected integer >= 0, got 'x'" \
    run --no-plot -o "$tmpdir/run-out" --seed x "$base"
expect_bad "--seed negative" "vmsim: --seed: expected integer >= 0, got '-1'" \
    run --no-plot -o "$tmpdir/run-out" --seed=-1 "$base"
expect_bad "-j 0" "vmsim: -j: expected integer 1..64, got '0'" \
    run --no-plot -o "$tmpdir/run-out" -j 0 "$base"
expect_bad "unknown option" "vmsim: run: unknown option '--fast'" \
    run --fast "$base"
expect_bad "run without a config" "vmsim: run: expected EXPERIMENT.json, got nothing" run
expect_bad "missing config file" "no-such.json: cannot read: No such file or directory" \
    run --no-plot "$tmpdir/no-such.json"
: > "$tmpdir/a-file"
expect_bad "output under a file" "cannot create directory" \
    run --no-plot -o "$tmpdir/a-file/out" "$base"
expect_bad "unknown command" "vmsim: unknown command 'rnu'" rnu "$base"

# check: bad result files
expect_bad "check a malformed result" "malformed.json:4:3: malformed JSON" \
    check "$bad_dir/malformed.json" "$bad_dir/malformed.json"
expect_bad "check a file that is not a result" \
    "not-a-result.json: \$.records: expected array of records, got nothing" \
    check "$bad_dir/not-a-result.json" "$bad_dir/not-a-result.json"
expect_bad "check a missing result" "no-such-result.json: cannot read: No such file or directory" \
    check "$tmpdir/no-such-result.json" "$bad_dir/not-a-result.json"
# a metric that is not a number: a broken result, not a regression
sed 's/"restore_ns":[^,]*,/"restore_ns": "abc",/' "$VMSIM_SRCDIR/results/baselines/checkpoint-restore.json" \
    > "$tmpdir/string-metric.json"
expect_bad "check a result whose metric is a string" \
    "string-metric.json: record 'eager/workload=read-mostly': \$.metrics.restore_ns: expected a number" \
    check "$tmpdir/string-metric.json" "$VMSIM_SRCDIR/results/baselines/checkpoint-restore.json"
expect_bad "check with one argument" "vmsim: check: expected RESULT.json BASELINE.json, got 1 argument" \
    check "$bad_dir/not-a-result.json"

# ---------------------------------------------------------------------------
# Bad input that only shows past the JSON: `run` checks everything
# `validate` checks before it forks a run point (platform in SimGrid,
# disks, traces, sizes), so each case is exit 2, one line, nothing written.
gen="$tmpdir/gen"
mkdir -p "$gen"
sata="$VMSIM_SRCDIR/workloads/platforms/host-sata.xml"
# gen_cfg NAME PLATFORM 'VM' 'WORKLOAD' ['EXTRA'] -> $gen/NAME.json
gen_cfg() {
    cat > "$gen/$1.json" <<CFG
{ "name": "bad-$1", "mechanism": "checkpoint", "platform": "$2",
  "vm": $3, "workload": $4,
  "variants": [ { "name": "buffered", "policy": "buffered", "params": { "block_pages": 16 } } ]$5 }
CFG
}
synth='{ "kind": "synthetic", "pattern": "zipf" }'
# expect_both CASE SUBSTRING: run and validate both refuse $gen/CASE.json
expect_both() {
    expect_bad "run $1" "$2" run --no-plot -o "$tmpdir/run-out" "$gen/$1.json"
    expect_bad "validate $1" "$2" validate "$gen/$1.json"
}

# 1. disks the model cannot serve
sed 's/write_bw="520MBps"/write_bw="0MBps"/' "$sata" > "$gen/zero-bw.xml"
sed 's/write_bw="520MBps"/write_bw="-5MBps"/' "$sata" > "$gen/neg-bw.xml"
grep -v '"read_lat"' "$sata" > "$gen/no-lat.xml"
grep -v '"qdepth"' "$sata" > "$gen/no-qdepth.xml"
for c in zero-bw neg-bw; do
    gen_cfg "$c" "$gen/$c.xml" '{ "memory": "64MiB" }' "$synth"
    expect_both "$c" "$c.json: \$.platform: host 'host0': disk 'ssd0': read_bw and write_bw must be > 0"
done
gen_cfg no-lat "$gen/no-lat.xml" '{ "memory": "64MiB" }' "$synth"
expect_both no-lat "\$.platform: host 'host0': disk 'ssd0': missing prop 'read_lat'"
gen_cfg no-qdepth "$gen/no-qdepth.xml" '{ "memory": "64MiB" }' "$synth"
expect_both no-qdepth "\$.platform: host 'host0': disk 'ssd0': missing prop 'qdepth'"

# a misspelt prop is not ignored (the disk model reads six)
sed 's/id="iops"/id="iopz"/' "$sata" > "$gen/typo-prop.xml"
gen_cfg typo-prop "$gen/typo-prop.xml" '{ "memory": "64MiB" }' "$synth"
expect_both typo-prop "typo-prop.json: \$.platform: host 'host0': disk 'ssd0': unknown prop 'iopz' (expected read_lat, write_lat, flush_lat, qdepth, iops or capacity)"

sed 's/write_bw="520MBps"/write_bw="inf"/' "$sata" > "$gen/inf-bw.xml"
gen_cfg inf-bw "$gen/inf-bw.xml" '{ "memory": "64MiB" }' "$synth"
expect_both inf-bw "inf-bw.json: \$.platform: host 'host0': disk 'ssd0': read_bw and write_bw must be > 0 and finite"
sed 's/"1TiB"/"1MiB"/' "$sata" > "$gen/small-disk.xml"
gen_cfg small-disk "$gen/small-disk.xml" '{ "memory": "64MiB" }' "$synth"
expect_both small-disk "small-disk.json: \$.vm.memory: the checkpoint file needs at least 64 MiB (a copy of memory and its header), the disk holds 1 MiB (its capacity prop)"

# 2. platforms SimGrid refuses, and options it refuses
sed 's#<zone #<storage_type id="old" size="1GiB"/>\n  <zone #' "$sata" > "$gen/storage-type.xml"
sed 's/core="16"/core="0"/' "$sata" > "$gen/no-core.xml"
gen_cfg storage-type "$gen/storage-type.xml" '{ "memory": "64MiB" }' "$synth"
line=$(grep -n '<storage_type' "$gen/storage-type.xml" | cut -d: -f1)
expect_both storage-type "storage-type.json: \$.platform: platform '$gen/storage-type.xml': Parse error at $gen/storage-type.xml:$line: Invalid XML (XML input line $line, state 101): Starting tag <storage_type> is not allowed here"
gen_cfg no-core "$gen/no-core.xml" '{ "memory": "64MiB" }' "$synth"
expect_both no-core "SimGrid cannot load it: Host host0 must have at least one core, not 0"
gen_cfg good "$sata" '{ "memory": "64MiB" }' "$synth"
expect_bad "run --cfg with an unknown key" \
    "vmsim: SimGrid refused the options '--cfg=network/modle:CM02': Bad config key: network/modle" \
    run --no-plot -o "$tmpdir/run-out" --cfg=network/modle:CM02 "$gen/good.json"

# 3. a trace that needs more guest memory than the VM has
{ echo "# vmsim pagetrace v1 page_size=4096 program=gen"
  i=0; while [ $i -lt 300 ]; do printf 'W %x 1\n' $((4096 + i)); i=$((i + 1)); done
  echo "# total_accesses=300 records=300 truncated=no"; } > "$gen/300-pages.pagetrace"
gen_cfg big-trace "$sata" '{ "memory": "1MiB" }' \
    "{ \"kind\": \"trace\", \"file\": \"$gen/300-pages.pagetrace\" }"
expect_both big-trace "big-trace.json: \$.workload.file: the trace needs more guest memory than vm.memory: it touches 300 distinct pages and 4 page-table pages (1.19 MiB), vm.memory is 1 MiB (256 pages)"

# ... also when each vCPU replays it as its own process (200 pages x 2), or
# the vCPUs' traces together do; and one trace per vCPU or one for all
{ echo "# vmsim pagetrace v1 page_size=4096 program=gen"
  i=0; while [ $i -lt 200 ]; do printf 'W %x 1\n' $((4096 + i)); i=$((i + 1)); done
  echo "# total_accesses=200 records=200 truncated=no"; } > "$gen/200-pages.pagetrace"
gen_cfg per-vcpu-trace "$sata" '{ "memory": "1MiB", "vcpus": 2 }' \
    "{ \"kind\": \"trace\", \"file\": \"$gen/200-pages.pagetrace\" }"
expect_both per-vcpu-trace "per-vcpu-trace.json: \$.workload.file: the trace needs more guest memory than vm.memory: it touches 400 distinct pages (once per vCPU, 2 vCPUs) and 8 page-table pages (1.59 MiB), vm.memory is 1 MiB (256 pages)"
gen_cfg trace-list "$sata" '{ "memory": "1MiB", "vcpus": 2 }' \
    "{ \"kind\": \"trace\", \"file\": [\"$gen/200-pages.pagetrace\", \"$gen/300-pages.pagetrace\"] }"
expect_both trace-list "trace-list.json: \$.workload.file: the traces need more guest memory than vm.memory: they touch 500 distinct pages (2 traces) and 8 page-table pages (1.98 MiB), vm.memory is 1 MiB (256 pages)"
gen_cfg trace-count "$sata" '{ "memory": "64MiB", "vcpus": 4 }' \
    "{ \"kind\": \"trace\", \"file\": [\"$gen/200-pages.pagetrace\", \"$gen/300-pages.pagetrace\"] }"
expect_both trace-count "trace-count.json: \$.workload.file: expected one trace per vCPU (vm.vcpus is 4), got 2; or one trace that every vCPU replays"
gen_cfg trace-missing "$sata" '{ "memory": "64MiB", "vcpus": 2 }' \
    "{ \"kind\": \"trace\", \"file\": [\"$gen/200-pages.pagetrace\", \"$gen/nope.pagetrace\"] }"
expect_both trace-missing "trace-missing.json: \$.workload.file[1]: expected a readable file, got"
gen_cfg vcpus-range "$sata" '{ "memory": "64MiB", "vcpus": 65 }' "$synth"
expect_both vcpus-range "vcpus-range.json: \$.vm.vcpus: expected integer 1..64, got 65"

# addresses that are not canonical for the paging mode (vm.paging_levels):
# the trace file and line, in a pagetrace (page = address >> 12) and in a
# raw lackey log, with 4 and 5 levels; run and validate alike
{ echo "# vmsim pagetrace v1 page_size=4096 program=gen"; echo "R 7f0000000 3"
  echo "W 1000000000 1"
  echo "# total_accesses=4 records=2 truncated=no"; } > "$gen/far-page.pagetrace"
gen_cfg far-page "$sata" '{ "memory": "64MiB" }' \
    "{ \"kind\": \"trace\", \"file\": \"$gen/far-page.pagetrace\" }"
expect_both far-page "far-page.json: \$.workload.file: $gen/far-page.pagetrace:3: expected an address canonical for 4-level paging (bits 63:47 all equal; vm.paging_levels), got 0x1000000000000"
# ... which 5-level paging maps (LA57), but not bit 56 without the bits above
gen_cfg far-page-la57 "$sata" '{ "memory": "64MiB", "paging_levels": 5 }' \
    "{ \"kind\": \"trace\", \"file\": \"$gen/far-page.pagetrace\" }"
if "$VMSIM" validate "$gen/far-page-la57.json" > /dev/null 2>&1; then ok "an LA57 address validates with 5 levels"
else bad "an LA57 address does not validate with 5 levels"; "$VMSIM" validate "$gen/far-page-la57.json"; fi
{ echo "# vmsim pagetrace v1 page_size=4096 program=gen"; echo "R 100000000000 1"
  echo "# total_accesses=1 records=1 truncated=no"; } > "$gen/bit56.pagetrace"
gen_cfg bit56 "$sata" '{ "memory": "64MiB", "paging_levels": 5 }' \
    "{ \"kind\": \"trace\", \"file\": \"$gen/bit56.pagetrace\" }"
expect_both bit56 "bit56.json: \$.workload.file: $gen/bit56.pagetrace:2: expected an address canonical for 5-level paging (bits 63:56 all equal; vm.paging_levels), got 0x100000000000000"
# a raw lackey log: the vsyscall page (upper half) is fine, the hole is not
{ echo "==123== Lackey, an example Valgrind tool"; echo "==123== Command: ./gen"
  echo "I  04001000,3"; echo " L ffffffffff600000,8"; echo " S 7ff000010,8"
  echo " L 0000800000000010,8"; echo " L 0100000000000000,8"; echo "==123== Exit code: 0"; } \
  > "$gen/hole.lackey"
gen_cfg lackey-hole "$sata" '{ "memory": "64MiB" }' \
    "{ \"kind\": \"trace\", \"file\": \"$gen/hole.lackey\" }"
expect_both lackey-hole "lackey-hole.json: \$.workload.file: $gen/hole.lackey:6: expected an address canonical for 4-level paging (bits 63:47 all equal; vm.paging_levels), got 0x800000000010"
gen_cfg lackey-hole5 "$sata" '{ "memory": "64MiB", "paging_levels": 5 }' \
    "{ \"kind\": \"trace\", \"file\": \"$gen/hole.lackey\" }"
expect_both lackey-hole5 "lackey-hole5.json: \$.workload.file: $gen/hole.lackey:7: expected an address canonical for 5-level paging (bits 63:56 all equal; vm.paging_levels), got 0x100000000000000"
# the upper half is canonical: the vsyscall page real lackey logs hold runs
head -n 5 "$gen/hole.lackey" > "$gen/vsyscall.lackey"
gen_cfg vsyscall "$sata" '{ "memory": "64MiB" }' \
    "{ \"kind\": \"trace\", \"file\": \"$gen/vsyscall.lackey\", \"loop\": false }"
if "$VMSIM" run --no-plot -o "$tmpdir/vsyscall-out" "$gen/vsyscall.json" > "$tmpdir/vsyscall.txt" 2>&1; then
    ok "a trace touching the vsyscall page runs"
else
    bad "a trace touching the vsyscall page does not run"; cat "$tmpdir/vsyscall.txt"
fi
rm -rf "$tmpdir/vsyscall-out" "$gen"/vsyscall.lackey.vmtrace
gen_cfg bad-levels "$sata" '{ "memory": "64MiB", "paging_levels": 3 }' "$synth"
expect_both bad-levels "bad-levels.json: \$.vm.paging_levels: expected integer 4..5, got 3"
gen_cfg bad-aging "$sata" '{ "memory": "64MiB", "aging": 1.5 }' "$synth"
expect_both bad-aging "bad-aging.json: \$.vm.aging: expected number"
mkfifo "$gen/fifo.pagetrace"
gen_cfg fifo-trace "$sata" '{ "memory": "64MiB" }' \
    "{ \"kind\": \"trace\", \"file\": \"$gen/fifo.pagetrace\" }"
expect_both fifo-trace "fifo-trace.json: \$.workload.file: expected a regular file"
# a refused run leaves no trace cache next to the trace
if ls "$gen"/*.vmtrace > /dev/null 2>&1; then
    bad "a refused run left a trace cache"; ls "$gen"/*.vmtrace
else
    ok "a refused run leaves no trace cache"
fi

# 4. sizes beyond the model, and beyond 64 bits
gen_cfg huge-vm "$sata" '{ "memory": "16TiB" }' "$synth"
expect_both huge-vm "huge-vm.json: \$.vm.memory: expected size 1MiB..8TiB, got \"16TiB\""
gen_cfg overflow-vm "$sata" '{ "memory": "20000000TiB" }' "$synth"
expect_both overflow-vm "overflow-vm.json: \$.vm.memory: expected size 1MiB..8TiB, got \"20000000TiB\", which overflows 64 bits"

# 5. accesses that cost no simulated time would never let a run end
gen_cfg free-access "$sata" '{ "memory": "64MiB" }' \
    '{ "kind": "synthetic", "pattern": "zipf", "access_time": "0ns" }'
expect_both free-access "free-access.json: \$.workload.access_time: expected time 1ns..1s, got \"0ns\""
gen_cfg free-trace "$sata" '{ "memory": "64MiB" }' \
    "{ \"kind\": \"trace\", \"file\": \"$gen/300-pages.pagetrace\", \"access_time\": \"0ns\" }"
expect_both free-trace "free-trace.json: \$.workload.access_time: expected time 1ns..1s, got \"0ns\""

# 8. values an override or the sweep replaces are validated as written
gen_cfg swept-param "$sata" '{ "memory": "64MiB" }' "$synth" ', "sweep": [ { "path": "variants[0].params.block_pages", "values": [4, 8] } ]'
sed -i 's/"block_pages": 16/"block_pages": "abc"/' "$gen/swept-param.json"
expect_both swept-param "swept-param.json: \$.variants[0].params.block_pages: expected integer 1..4096, got string \"abc\""
gen_cfg swept-workload "$sata" '{ "memory": "64MiB" }' \
    '{ "kind": "synthetic", "pattern": "zipf", "zipf_ss": 1 }' \
    ", \"sweep\": [ { \"path\": \"workload\", \"values\": [ $synth ] } ]"
expect_both swept-workload "swept-workload.json: \$.workload: unknown key 'zipf_ss' (did you mean 'zipf_s'?)"
gen_cfg quick-replaced "$sata" '{ "memory": "lots" }' "$synth" ', "quick": { "vm.memory": "64MiB" }'
expect_bad "run --quick of a config whose replaced value is bad" \
    "quick-replaced.json: \$.vm.memory: expected size like \"8GiB\", got \"lots\"" \
    run --quick --no-plot -o "$tmpdir/run-out" "$gen/quick-replaced.json"

# 9. costs files (vmsim calibrate -o) that are not right: located in the
# config ($.costs) and in the costs file (its own JSON path)
cat > "$gen/good-costs.json" <<'COSTS'
{
	"format":	"vmsim-costs/1",
	"provenance":	{ "cpu_model": "Test CPU", "cores": 2, "kernel": "Linux 6.1.0 x86_64",
		"date": "2026-01-01T00:00:00Z", "vmsim_version": "0.1.0" },
	"wp_fault_method":	"userfaultfd-wp",
	"wp_unprotect_method":	"userfaultfd-wp",
	"page_copy_ns":	400.5,
	"page_install_ns":	380,
	"zero_scan_ns":	200,
	"wp_fault_ns":	3000,
	"wp_unprotect_ns":	1500,
	"small_write_ns":	2500,
	"compress_bps":	{ "level_1": { "zero": 9e9, "text": 3e8, "code": 2e8, "random": 8e9, "mix": 7e8 } },
	"decompress_bps":	{ "level_1": { "zero": 9e9, "text": 1e9, "code": 9e8, "random": 6e10, "mix": 3e9 } }
}
COSTS
sed 's/^	"page_copy_ns":	[0-9.]*,/	"page_copy_ns":	-1,/' "$gen/good-costs.json" > "$gen/neg-costs.json"
sed 's/"cpu_model": "Test CPU", //' "$gen/good-costs.json" > "$gen/anon-costs.json"
sed 's/"wp_fault_method":.*/"wp_fault_method":	"trap",/' "$gen/good-costs.json" > "$gen/trap-costs.json"
head -c 200 "$gen/good-costs.json" > "$gen/cut-costs.json"
echo '{ "page_copy": "250ns" }' > "$gen/inline-costs.json"
gen_cfg costs-neg "$sata" '{ "memory": "64MiB" }' "$synth" ', "costs": "neg-costs.json"'
expect_both costs-neg "costs-neg.json: \$.costs: $gen/neg-costs.json: \$.page_copy_ns: expected number > 0 and <= 1000000000, got -1"
gen_cfg costs-anon "$sata" '{ "memory": "64MiB" }' "$synth" ', "costs": { "file": "anon-costs.json" }'
expect_both costs-anon "costs-anon.json: \$.costs.file: $gen/anon-costs.json: \$.provenance: missing required key 'cpu_model'"
gen_cfg costs-trap "$sata" '{ "memory": "64MiB" }' "$synth" ', "costs": "trap-costs.json"'
expect_both costs-trap "costs-trap.json: \$.costs: $gen/trap-costs.json: \$.wp_fault_method: expected \"userfaultfd-wp\" or \"mprotect-sigsegv\", got \"trap\""
gen_cfg costs-cut "$sata" '{ "memory": "64MiB" }' "$synth" ', "costs": "cut-costs.json"'
expect_both costs-cut "costs-cut.json: \$.costs: $gen/cut-costs.json:"
gen_cfg costs-inline "$sata" '{ "memory": "64MiB" }' "$synth" ', "costs": "inline-costs.json"'
expect_both costs-inline "costs-inline.json: \$.costs: $gen/inline-costs.json: \$: unknown key 'page_copy' (did you mean 'page_copy_ns'?)"
gen_cfg costs-missing "$sata" '{ "memory": "64MiB" }' "$synth" ', "costs": "no-such-costs.json"'
expect_both costs-missing "costs-missing.json: \$.costs: expected a readable file, got \"no-such-costs.json\""
gen_cfg costs-number "$sata" '{ "memory": "64MiB" }' "$synth" ', "costs": 3'
expect_both costs-number "costs-number.json: \$.costs: expected object of costs or a costs file (vmsim calibrate -o), got 3"
gen_cfg costs-good "$sata" '{ "memory": "64MiB" }' "$synth" ', "costs": { "file": "good-costs.json", "page_copy": "1us" }'
if "$VMSIM" validate "$gen/costs-good.json" > /dev/null 2>&1; then ok "a good costs file validates"
else bad "a good costs file does not validate"; "$VMSIM" validate "$gen/costs-good.json"; fi

# 10. calibrate's own arguments (refused before anything is measured)
expect_bad "calibrate unknown option" "vmsim: calibrate: unknown option '--fast'" calibrate --fast
expect_bad "calibrate extra argument" "vmsim: calibrate: unexpected argument 'costs.json'" \
    calibrate costs.json
expect_bad "calibrate -o without a file" "vmsim: calibrate: -o: expected a file, got nothing" \
    calibrate -o
expect_bad "calibrate -o into a missing directory" \
    "vmsim: calibrate: $tmpdir/no-such-dir/c.json: cannot create: No such file or directory" \
    calibrate -o "$tmpdir/no-such-dir/c.json"
expect_bad "calibrate -o a directory" "vmsim: calibrate: $tmpdir: is a directory, expected a file name" \
    calibrate -o "$tmpdir"

# 11. `vmsim trace synth`: each bad option named, nothing written (the
# output would land in $synth_out, which must stay empty)
synth_out="$tmpdir/synth-out"
mkdir -p "$synth_out"
so="$synth_out/s.pagetrace.gz"
expect_bad "synth unknown pattern" \
    "vmsim: trace synth: --pattern: expected sequential, strided, chase, zipf or uniform, got 'spiral'" \
    trace synth --pattern spiral --pages 16 -o "$so"
expect_bad "synth zero pages" "vmsim: trace synth: --pages: expected an integer >= 1, got '0'" \
    trace synth --pattern chase --pages 0 -o "$so"
expect_bad "synth negative pages" "vmsim: trace synth: --pages: expected an integer >= 1, got '-16'" \
    trace synth --pattern chase --pages -16 -o "$so"
expect_bad "synth non-numeric pages" "vmsim: trace synth: --pages: expected an integer >= 1, got 'many'" \
    trace synth --pattern chase --pages many -o "$so"
expect_bad "synth zero records" "vmsim: trace synth: --records: expected an integer >= 1, got '0'" \
    trace synth --pattern sequential --pages 16 --records 0 -o "$so"
expect_bad "synth non-numeric records" "vmsim: trace synth: --records: expected an integer >= 1, got '1e6'" \
    trace synth --pattern sequential --pages 16 --records 1e6 -o "$so"
expect_bad "synth base not page aligned" \
    "vmsim: trace synth: --base: expected a page-aligned (4 KiB) address, got 0x7f0000000010" \
    trace synth --pattern zipf --pages 16 --base 0x7f0000000010 -o "$so"
expect_bad "synth base not canonical" \
    "vmsim: trace synth: --base: expected a canonical lower-half address below 0x800000000000 (4-level paging), got 0x900000000000" \
    trace synth --pattern zipf --pages 16 --base 0x900000000000 -o "$so"
expect_bad "synth footprint past the lower half" \
    "vmsim: trace synth: --pages: expected at most 8 pages from base 0x7fffffff8000 (the canonical lower half ends at 0x800000000000), got 16" \
    trace synth --pattern uniform --pages 16 --base 0x7fffffff8000 -o "$so"
expect_bad "synth write fraction above 1" \
    "vmsim: trace synth: --write-fraction: expected a number in 0..1, got 1.5" \
    trace synth --pattern chase --pages 16 --write-fraction 1.5 -o "$so"
expect_bad "synth negative write fraction" \
    "vmsim: trace synth: --write-fraction: expected a number in 0..1, got -0.2" \
    trace synth --pattern chase --pages 16 --write-fraction -0.2 -o "$so"
expect_bad "synth without -o" \
    "vmsim: trace synth: -o: expected an output file (OUT.pagetrace.gz), got nothing" \
    trace synth --pattern chase --pages 16
expect_bad "synth into a missing directory" \
    "vmsim: trace synth: -o: cannot create '$synth_out/no-such-dir/s.pagetrace.gz': No such file or directory" \
    trace synth --pattern chase --pages 16 -o "$synth_out/no-such-dir/s.pagetrace.gz"
expect_bad "synth into a directory" \
    "vmsim: trace synth: -o: expected a file name, got a directory: '$synth_out'" \
    trace synth --pattern chase --pages 16 -o "$synth_out"
if [ -n "$(ls -A "$synth_out")" ]; then
    bad "a refused synth wrote something"; ls -A "$synth_out"
else
    ok "a refused synth writes nothing"
fi

# the experiment file itself must be a regular file of bounded size: a
# FIFO would block the open, /dev/zero never end (each within a timeout)
mkfifo "$gen/exp.fifo"
expect_bad "run a FIFO" "exp.fifo: expected a regular file of JSON, got a FIFO" \
    run --no-plot -o "$tmpdir/run-out" "$gen/exp.fifo"
expect_bad "validate a FIFO" "exp.fifo: expected a regular file of JSON, got a FIFO" \
    validate "$gen/exp.fifo"
expect_bad "validate /dev/zero" "/dev/zero: expected a regular file of JSON, got a special file" \
    validate /dev/zero
expect_bad "run a directory" "expected a regular file of JSON, got a directory" \
    run --no-plot -o "$tmpdir/run-out" "$gen"
expect_bad "check a directory against a baseline" "expected a regular file of JSON, got a directory" \
    check "$gen" "$gen"
expect_bad "validate with an option" "validate: unknown option '--quick'" \
    validate --quick "$gen/exp.fifo"
# a bad "quick" block is refused by run without --quick too, as validate
# refuses it (run once took the full form and ran it)
gen_cfg bad-quick "$sata" '{ "memory": "64MiB" }' "$synth" ', "quick": { "vm.memory": "banana" }'
expect_both bad-quick "bad-quick.json: \$.quick[\"vm.memory\"]:"

# a run killed while its points run takes them with it (they once ran on
# to their end, orphaned); /proc names the children (no procps needed)
"$VMSIM" run --no-plot -j 2 -o "$tmpdir/killed" "$VMSIM_SRCDIR/tests/e2e/cons-broken.json" \
    --set run.before=3600s --set 'variants=[{"name":"m","policy":"mirror"}]' \
    --set 'sweep=[{"path":"seed","values":[1,2]}]' > /dev/null 2>&1 &
rp=$!
kids=
i=0
while [ $i -lt 600 ] && [ -z "$kids" ]; do
    kids=$(cat /proc/$rp/task/*/children 2>/dev/null)
    [ -n "$kids" ] || sleep 0.05
    i=$((i + 1))
done
kill -TERM $rp
wait $rp
alive=$kids
i=0
while [ $i -lt 600 ] && [ -n "$alive" ]; do
    alive=
    # a zombie (a parent that does not reap) has ended
    for k in $kids; do
        st=$(sed 's/.*) //' /proc/$k/stat 2>/dev/null | cut -c1)
        [ -n "$st" ] && [ "$st" != Z ] && alive="$alive $k"
    done
    [ -z "$alive" ] || sleep 0.05
    i=$((i + 1))
done
if [ -z "$kids" ]; then bad "killed run: no run point seen"
elif [ -n "$alive" ]; then bad "killed run: its run points$alive outlived it"; kill -KILL $alive
else ok "a killed run takes its run points with it"; fi

# nothing any of the refused runs started was left behind
if find "$tmpdir" "$gen" -name '.tmp.*' -o -name '*.tmp.*' | grep -q .; then
    bad "a refused run left a temporary file"; find "$tmpdir" -name '*.tmp*'
else
    ok "no temporary file left"
fi

# the valid base config validates (the cases above failed for their own reason)
if "$VMSIM" validate "$base" > "$tmpdir/valid.txt" 2>&1 && grep -q ': ok (2 run points)' "$tmpdir/valid.txt"; then
    ok "base config validates"
else
    bad "base config does not validate"; cat "$tmpdir/valid.txt"
fi
finish
