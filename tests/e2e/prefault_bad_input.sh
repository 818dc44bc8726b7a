#!/bin/sh
# prefault_bad_input.sh - bad input to the prefault mechanism: run and
# validate both refuse it before any run point starts, with one located
# line, exit status 2 and nothing written (expect_bad, lib.sh):
# host memory larger than the guest, a window of 0, a synthetic workload
# (a policy needs guest-virtual addresses), post-copy without a source or
# with a source the platform does not have, an empty trace, a malformed
# trace line and a truncated gzip trace; network faults (sim_pf_net.c) on
# a scenario without a network (swap, resume), on a host the platform does
# not have or that is not one of the link's two, without the destination
# host named, a partition without an end, msg_loss p 1 without an end,
# postcopy.rto_max below rto, postcopy.tcp_timeout below rto,
# postcopy.pause_after over the one-day limit and an unknown
# postcopy.loss_unit; an unknown swap.reclaim, swap.min_free_kbytes and
# swap.watermark_scale_factor out of their ranges, kswapd's watermarks
# leaving nothing of the host memory, and a watermark without kswapd.
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
pf_cfg reclaim-name "$sata" "$trace" ', "swap": { "reclaim": "kswap" }'
expect_both reclaim-name 'reclaim-name.json: $.swap.reclaim: expected one of memcg|kswapd, got "kswap"'
pf_cfg minfree-big "$sata" "$trace" ', "swap": { "reclaim": "kswapd", "min_free_kbytes": 262145 }'
expect_both minfree-big "minfree-big.json: \$.swap.min_free_kbytes: expected integer 0..262144, got 262145"
pf_cfg wsf-0 "$sata" "$trace" ', "swap": { "reclaim": "kswapd", "watermark_scale_factor": 0 }'
expect_both wsf-0 "wsf-0.json: \$.swap.watermark_scale_factor: expected integer 1..3000, got 0"
pf_cfg wsf-big "$sata" "$trace" ', "swap": { "reclaim": "kswapd", "watermark_scale_factor": 3001 }'
expect_both wsf-big "wsf-big.json: \$.swap.watermark_scale_factor: expected integer 1..3000, got 3001"
pf_cfg wmark-full "$sata" "$trace" \
    ', "swap": { "reclaim": "kswapd", "host_memory": "1MiB", "min_free_kbytes": 1024 }'
expect_both wmark-full "wmark-full.json: \$.swap.min_free_kbytes: expected watermarks below the host memory (256 pages), got a high watermark of 384 pages"
pf_cfg wmark-memcg "$sata" "$trace" ', "swap": { "min_free_kbytes": 1024 }'
expect_both wmark-memcg 'wmark-memcg.json: $.swap.min_free_kbytes: a watermark of reclaim kswapd: expected swap.reclaim "kswapd" with it, got memcg'
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

loss='{ "kind": "msg_loss", "a": "host0", "b": "host1", "p": 0.01 }'
pf_cfg net-swap "$two" "$trace" ", \"host\": \"host1\", \"faults\": [ $loss ]"
expect_both net-swap "net-swap.json: \$.faults[0].kind: msg_loss faults act on the post-copy link: expected scenario postcopy, got swap (it has no network)"
pf_cfg net-resume "$two" "$trace" ", \"scenario\": \"resume\", \"host\": \"host1\", \"faults\": [ { \"kind\": \"partition\", \"a\": \"host0\", \"b\": \"host1\", \"until\": \"1s\" } ]"
sed -i 's/"scenario": "swap", //' "$gen/net-resume.json"
expect_both net-resume "net-resume.json: \$.faults[0].kind: partition faults act on the post-copy link: expected scenario postcopy, got resume (it has no network)"
# pc_net NAME 'FAULT' ['EXTRA']: a post-copy config with one fault
pc_net() {
    pf_cfg "$1" "$two" "$trace" ", \"scenario\": \"postcopy\", \"host\": \"host1\", \"postcopy\": { \"source\": \"host0\"$3 }, \"faults\": [ $2 ]"
    sed -i 's/"scenario": "swap", //' "$gen/$1.json"
}
pc_net net-host9 '{ "kind": "msg_loss", "a": "host9", "p": 0.01 }'
expect_both net-host9 "net-host9.json: \$.faults[0].a: "
# a third host, on no link of the post-copy run
sed '/<link id="net0"/i\    <host id="host2" speed="2Gf" core="16"/>' "$two" > "$gen/hosts3.xml"
pc_net net-host2 '{ "kind": "partition", "a": "host2", "b": "host1", "until": "1s" }'
sed -i "s#$two#$gen/hosts3.xml#" "$gen/net-host2.json"
expect_both net-host2 "net-host2.json: \$.faults[0].a: expected one of the post-copy link's hosts ('host1', the destination, or 'host0', the source), got 'host2'"
pc_net net-nohost "$loss"
sed -i 's/"host": "host1", //' "$gen/net-nohost.json"
expect_both net-nohost "net-nohost.json: \$.host: network faults on the post-copy link need the destination host named"
pc_net net-endless '{ "kind": "partition", "a": "host0", "b": "host1", "from": "1s" }'
expect_both net-endless "net-endless.json: \$.faults[0]: expected an 'until' for a partition of the post-copy link"
pc_net net-p1 '{ "kind": "msg_loss", "p": 1 }'
expect_both net-p1 "net-p1.json: \$.faults[0]: expected an 'until' for msg_loss with p 1"
pc_net net-rto "$loss" ', "rto": "1s", "rto_max": "500ms"'
expect_both net-rto "net-rto.json: \$.postcopy.rto_max: expected at least postcopy.rto (1 s), got 0.5 s"
pc_net net-tcpto "$loss" ', "tcp_timeout": "100ms"'
expect_both net-tcpto "net-tcpto.json: \$.postcopy.tcp_timeout: expected at least postcopy.rto (0.2 s): a socket fails after retransmitting, got 0.1 s"
pc_net net-pause "$loss" ', "pause_after": "86401s"'
expect_both net-pause "net-pause.json: \$.postcopy.pause_after: expected time 0ns..86400s, got \"86401s\""
pc_net net-unit "$loss" ', "loss_unit": "packet"'
expect_both net-unit "net-unit.json: \$.postcopy.loss_unit: expected one of message|segment, got \"packet\""

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
