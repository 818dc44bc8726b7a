#!/bin/sh
# handoff_bad_input.sh - bad input to the handoff mechanism: run and
# validate both refuse it before any run point starts, with one located
# line, exit status 2 and nothing written (expect_bad, lib.sh).
# On cluster32-san.xml (h0..h31 and the datastore host "storage"):
# needs naming a host or a disk outside the cluster; faults naming a host
# the platform lacks ("hx", reported once, by the core), a platform host
# outside the cluster (h12 of 4), no host at all, a host crashing again
# before it has rebooted, a negative delay or instant, a partition of a
# host with itself, a fault after the episode ends; more cluster hosts
# than the platform has, the datastore on a cluster host (on this
# platform h0 has no disk; on a generated one where it has, the mechanism
# says so), daemon_disks > disks, vm_hosts > hosts, campaign faults_min >
# faults_max, an unknown method and an unknown key in "cluster".
. "$(dirname "$0")/lib.sh"
n=0
gen="$tmpdir/gen"
mkdir -p "$gen" "$tmpdir/tmp"
TMPDIR="$tmpdir/tmp"        # whatever vmsim would put in a temp dir lands here
export TMPDIR
san="$VMSIM_SRCDIR/workloads/platforms/cluster32-san.xml"
# ho_cfg NAME ['CLUSTER'] ['NEEDS'] ['EXTRA'] -> $gen/NAME.json: handoff-pause's
# setup (4 hosts, disk 0 on h0, h1 must open it at 12 s); $plat, $ds, $policy
# replace the platform, the datastore host and the variant's policy
ho_cfg() {
    cat > "$gen/$1.json" <<CFG
{ "seed": 1, "name": "bad-$1", "mechanism": "handoff", "platform": "${plat:-$san}",
  "host": "${ds:-storage}", "disk": "array0",
  "cluster": { ${2:-\"hosts\": 4, \"disks\": 1, \"daemons\": 2} },
  "scenario": { "duration": "300s",
    "needs": [ ${3:-{ \"at\": \"12s\", \"disk\": 0, \"host\": \"h1\", \"reason\": \"restart\" \}} ] },
  "variants": [ { "name": "v", "policy": "${policy:-handoff}" } ]$4 }
CFG
}
expect_both() {
    expect_bad "run $1" "$2" run --no-plot -o "$tmpdir/run-out" "$gen/$1.json"
    expect_bad "validate $1" "$2" validate "$gen/$1.json"
}
# ho_faults NAME 'FAULTS': the setup above with "faults": [ FAULTS ]
ho_faults() { ho_cfg "$1" '' '' ", \"faults\": [ $2 ]"; }

# the setup itself is good (else every case below would prove nothing)
ho_cfg good
if "$VMSIM" validate "$gen/good.json" > "$tmpdir/good.txt" 2>&1; then
    ok "the base config validates"
else
    bad "the base config does not validate: $(cat "$tmpdir/good.txt")"
fi

# needs
ho_cfg need-host '' '{ "at": "12s", "disk": 0, "host": "h77" }'
expect_both need-host "need-host.json: \$.scenario.needs[0].host: unknown host 'h77' (the cluster's hosts are h0..h3)"
ho_cfg need-disk '' '{ "at": "12s", "disk": 9, "host": "h1" }'
expect_both need-disk "need-disk.json: \$.scenario.needs[0].disk: unknown disk 9 (the cluster has disks 0..0)"

# faults
ho_faults fault-unknown-host '{ "kind": "host_crash", "host": "hx", "at": "10s" }'
expect_both fault-unknown-host "fault-unknown-host.json: \$.faults[0].host: unknown host 'hx' (hosts: h0, h1, h10,"
ho_faults partition-unknown-host '{ "kind": "partition", "a": "h0", "b": "hx", "from": "10s", "until": "20s" }'
expect_both partition-unknown-host "partition-unknown-host.json: \$.faults[0].b: unknown host 'hx' (hosts: h0, h1, h10,"
ho_faults fault-outside-cluster '{ "kind": "host_crash", "host": "h12", "at": "10s" }'
expect_both fault-outside-cluster "fault-outside-cluster.json: \$.faults[0].host: expected a cluster host (h0..h3), got 'h12'"
ho_faults fault-datastore-host '{ "kind": "clock_pause", "host": "storage", "at": "10s", "duration": "5s" }'
expect_both fault-datastore-host "fault-datastore-host.json: \$.faults[0].host: expected a cluster host (h0..h3), got 'storage'"
ho_faults fault-no-host '{ "kind": "host_crash", "at": "10s" }'
expect_both fault-no-host "fault-no-host.json: \$.faults[0].host: missing: a handoff fault names its host (a cluster host, h0..h3)"
ho_faults crash-before-boot '{ "kind": "host_crash", "host": "h0", "at": "10s", "restart_after": "60s" },
    { "kind": "host_crash", "host": "h0", "at": "20s" }'
expect_both crash-before-boot "crash-before-boot.json: \$.faults[1].at: expected a time after host 'h0' restarts from faults[0] (at 70 s), got 20 s: it would crash before it booted"
ho_faults negative-delay '{ "kind": "msg_delay", "delay": "-1s" }'
expect_both negative-delay "negative-delay.json: \$.faults[0].delay: expected time like \"250us\", got \"-1s\""
ho_faults negative-at '{ "kind": "clock_pause", "host": "h0", "at": "-1s", "duration": "5s" }'
expect_both negative-at "negative-at.json: \$.faults[0].at: expected time like \"250us\", got \"-1s\""
ho_faults partition-self '{ "kind": "partition", "a": "h0", "b": "h0" }'
expect_both partition-self "partition-self.json: \$.faults[0].b: a partition of a host with itself ('h0')"
ho_faults after-end '{ "kind": "host_crash", "host": "h0", "at": "400s" }'
expect_both after-end "after-end.json: \$.faults[0].at: expected a time within the episode (scenario.duration 300 s), got 400 s"
ho_faults window-after-end '{ "kind": "partition", "a": "h0", "b": "h1", "from": "300s", "until": "310s" }'
expect_both window-after-end "window-after-end.json: \$.faults[0].from: expected a time within the episode (scenario.duration 300 s), got 300 s"

# the cluster against the platform
ho_cfg too-many-hosts '"hosts": 40, "disks": 1'
expect_both too-many-hosts "too-many-hosts.json: \$.cluster.hosts: expected at most as many hosts as the platform has h0, h1, ...: unknown host 'h32'"
ds=h0
ho_cfg datastore-in-cluster
unset ds
expect_both datastore-in-cluster "datastore-in-cluster.json: \$.disk: host 'h0' has no disk 'array0'"
# a platform whose h0 has the disk: the mechanism refuses it as the datastore
cat > "$gen/h0-disk.xml" <<'XML'
<?xml version='1.0'?>
<!DOCTYPE platform SYSTEM "https://simgrid.org/simgrid.dtd">
<platform version="4.1">
  <zone id="AS0" routing="Full">
    <host id="h0" speed="2Gf" core="16">
      <disk id="array0" read_bw="3500MBps" write_bw="3000MBps">
        <prop id="read_lat" value="80us"/>
        <prop id="write_lat" value="20us"/>
        <prop id="qdepth" value="32"/>
        <prop id="iops" value="700000"/>
        <prop id="capacity" value="4TB"/>
      </disk>
    </host>
    <host id="h1" speed="2Gf" core="16"/>
    <host id="h2" speed="2Gf" core="16"/>
    <host id="h3" speed="2Gf" core="16"/>
  </zone>
</platform>
XML
plat="$gen/h0-disk.xml" ds=h0
ho_cfg datastore-cluster-host
unset plat ds
expect_both datastore-cluster-host "datastore-cluster-host.json: \$.host: expected a datastore host that is not a cluster host (h0..h3), got 'h0'"

# the cluster's own figures, the campaign, the variants, a typo
ho_cfg daemon-disks '"hosts": 4, "disks": 2, "daemon_disks": 3'
expect_both daemon-disks "daemon-disks.json: \$.cluster.daemon_disks: expected at most cluster.disks (2), got 3"
ho_cfg vm-hosts '"hosts": 4, "disks": 2, "vm_hosts": 5'
expect_both vm-hosts "vm-hosts.json: \$.cluster.vm_hosts: expected at most cluster.hosts (4), got 5"
ho_cfg faults-min-max '' '' ', "campaign": { "schedules": 2, "random": true, "faults_min": 3, "faults_max": 2 }'
expect_both faults-min-max "faults-min-max.json: \$.campaign.faults_max: expected at least faults_min (3), got 2"
policy=nosuch
ho_cfg unknown-method
unset policy
expect_both unknown-method "unknown-method.json: \$.variants[0].policy: unknown policy 'nosuch' (known: handoff, manual, lease, force, force-fenced)"
ho_cfg unknown-key '"hosts": 4, "disks": 1, "deamons": 2'
expect_both unknown-key "unknown-key.json: \$.cluster: unknown key 'deamons' (did you mean 'daemons'?)"

expect_nothing_left
finish
