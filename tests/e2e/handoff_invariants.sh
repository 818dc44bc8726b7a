#!/bin/sh
# handoff_invariants.sh - the handoff checkers fail when they must and the
# fencing holds.  On handoff-pause.json's setup with one point (the owner
# h0 of disk 0 freezes at 10 s for 30 s, h1 must open the disk at 12 s):
#   (a) broken-no-fencing (test-only: the datastore does not fence)
#       exit 1, invariants double_writer > 0, "ok": false
#   (b) handoff   exit 0, no violation, stale_writes_refused > 0 (h0's late
#                 writes were fenced)
#   (c) force     exit 0 (unsafe by design: its violations are figures):
#                 double_writer_windows > 0, invariants double_writer 0
# and (d) the campaign's reproducing schedule replays: handoff-faults.json
# --quick with broken-no-fencing alone (a frozen owner HA restarted wakes
# and writes: a few episodes violate, the run fails) reports a shrunk,
# non-empty double_writer {seed, faults} in records[0].detail; a config with that
# seed and those faults, campaign.random false and one schedule (the
# experiment's file edited so), shows the double writer again.  JSON is read with sed/grep/tr like the other
# scripts (result.json's values hold no spaces we need).
. "$(dirname "$0")/lib.sh"
san="$VMSIM_SRCDIR/workloads/platforms/cluster32-san.xml"
cfg="$tmpdir/pause.json"
cat > "$cfg" <<CFG
{ "seed": 1, "name": "ho-pause", "mechanism": "handoff", "platform": "$san",
  "host": "storage", "disk": "array0",
  "cluster": { "hosts": 4, "disks": 1, "daemons": 2, "write_interval": "1s" },
  "scenario": { "duration": "2400s",
    "needs": [ { "at": "12s", "disk": 0, "host": "h1", "reason": "restart" } ] },
  "faults": [ { "kind": "clock_pause", "host": "h0", "at": "10s", "duration": "30s" } ],
  "variants": [ { "name": "handoff", "policy": "handoff" } ] }
CFG
# run NAME CONFIG ARGS...: vmsim run into $tmpdir/NAME; its status in $rc
run() {
    name=$1 conf=$2
    shift 2
    "$VMSIM" run --no-plot -o "$tmpdir/$name" "$conf" "$@" > "$tmpdir/$name.log" 2>&1
    rc=$?
}
# policy P: --set the one variant to policy P
policy() { echo "variants=[{\"name\":\"$1\",\"policy\":\"$1\"}]"; }
# flat NAME: run NAME's result.json on one line, whitespace gone (not
# strip_host: the config's datastore "host" would cut it short; the host
# block's keys are none of those looked for)
flat() { tr -d '\n\t ' < "$tmpdir/$1/result.json" 2>/dev/null; }
# section NAME KEY: the first {...} object KEY holds (flat; no nesting)
section() { flat "$1" | grep -Eo "\"$2\":\{[^}]*\}" | head -n 1; }
expect_status() {
    if [ "$rc" -eq "$2" ]; then ok "$1: exit status $2"
    else bad "$1: exit status $rc, expected $2"; tail -n 20 "$tmpdir/$1.log"; fi
}
# expect_in NAME WHAT TEXT REGEX: TEXT (a section of NAME's result) matches REGEX
expect_in() {
    if echo "$3" | grep -Eq "$4"; then ok "$1: $2 ($(echo "$3" | grep -Eo "$4" | head -n 1))"
    else bad "$1: $2: no match for $4 in: $3"; fi
}

# (a) no fencing: the late writes of the paused owner land beside h1's
run no-fencing "$cfg" --set "$(policy broken-no-fencing)"
expect_status no-fencing 1
expect_in no-fencing "double writer counted" "$(section no-fencing invariants)" '"double_writer":[1-9][0-9]*'
expect_in no-fencing "record not ok" "$(flat no-fencing)" '"ok":false'

# (b) the mechanism: takes over and fences h0's late writes
run handoff "$cfg"
expect_status handoff 0
expect_in handoff "no invariant violated" "$(section handoff invariants)" '"double_writer":0,"lost_acked":0,"split_owner":0'
expect_in handoff "no violation" "$(flat handoff)" '"violations":0,"ok":true'
expect_in handoff "stale writes fenced" "$(section handoff metrics)" '"stale_writes_refused":[1-9][0-9]*'

# (c) force: both write, counted as a figure, not a failure
run force "$cfg" --set "$(policy force)"
expect_status force 0
expect_in force "double writer window measured" "$(section force metrics)" '"double_writer_windows":[1-9][0-9]*'
expect_in force "not an invariant violation" "$(section force invariants)" '"double_writer":0[,}]'

# (d) the campaign's reproducing schedule replays
run campaign "$VMSIM_SRCDIR/workloads/experiments/handoff-faults.json" --quick --set "$(policy broken-no-fencing)"
expect_status campaign 1
# {"episode":E,"seed":S,"faults":[...]}: fault objects are flat
repro=$(flat campaign | grep -Eo '"detail":\{"double_writer":\{"episode":[0-9]+,"seed":[0-9]+,"faults":\[[^]]*\]' | head -n 1)
seed=$(echo "$repro" | sed -n 's/.*"seed":\([0-9]*\),.*/\1/p')
faults=$(echo "$repro" | sed -n 's/.*"faults":\(\[.*\]\)$/\1/p')
if [ -n "$seed" ] && [ -n "$faults" ] && [ "$faults" != "[]" ]; then
    ok "campaign: double_writer reproducible with seed $seed and faults $faults"
    # the experiment itself, its platform made absolute, with that seed,
    # those faults, campaign.random false and one schedule
    sed -e "s|\"platform\": \"\.\./platforms/|\"platform\": \"$VMSIM_SRCDIR/workloads/platforms/|" \
        -e "s|^  \"seed\": [0-9]*,|  \"seed\": $seed, \"faults\": $faults,|" \
        -e 's|"random": true|"random": false|' -e 's|"schedules": [0-9]*|"schedules": 1|' \
        "$VMSIM_SRCDIR/workloads/experiments/handoff-faults.json" > "$tmpdir/replay.json"
    for want in "\"seed\": $seed, \"faults\": " '"random": false' '"schedules": 1,' "$VMSIM_SRCDIR/workloads/platforms/"; do
        grep -qF "$want" "$tmpdir/replay.json" || bad "replay.json: no '$want' (handoff-faults.json's layout changed?)"
    done
    run replay "$tmpdir/replay.json" --set "$(policy broken-no-fencing)"
    expect_status replay 1
    expect_in replay "one episode" "$(section replay metrics)" '"episodes":1,'
    expect_in replay "the double writer again" "$(section replay metrics)" '"double_writer_windows":[1-9][0-9]*'
    expect_in replay "on the reported seed" "$(flat replay)" "\"double_writer\":\{\"episode\":0,\"seed\":$seed,"
else
    bad "campaign: no non-empty double_writer {seed, faults} in records[0].detail"
    flat campaign | grep -Eo '"detail":.{0,200}'
fi
finish
