#!/bin/sh
# attestation_invariants.sh - the attestation checker fails a run when it
# must, and every real method holds under attack.  On 200 hosts of the
# small depot, every quote really signed and verified (sample 1):
#   (a) broken-nonce (test-only: no nonce check) under replayed quotes
#       exit 1, invariants false_accepts > 0, "ok": false
#   (b) broken-rollback (test-only: a cache that takes an older targets
#       version) under a rolled-back depot: exit 1, rollback_used > 0
#   (b2) broken-freeze (test-only: a cache that takes an expired
#       timestamp) under a frozen depot: exit 1, expired_used > 0
#   (b3) broken-withdraw (test-only: a per-request depot node that
#       ignores the withdrawn flag) under a withdrawal: exit 1, the
#       record's violations are withdrawn_known's and no other's
#   (b4) broken-revoked (test-only: a cache that still trusts its shipped
#       root's timestamp key) after a key rotation, under metadata signed
#       with the revoked key: exit 1, forged_meta_used > 0
#   (c) each real method under every attack at once (tampered binaries,
#       components in no depot, replayed quotes, wrong keys, malformed
#       requests, a withdrawn release, a rolled-back, frozen, badly signed
#       depot, an unknown algorithm, a node crash, a depot outage, a key
#       rotation, a mix of snapshot and targets, a revoked key): exit 0,
#       no violation in any record, tokens checked, real verifications
#       made, forged evidence refused.
#   (e) each real method with two host_crash faults during the upgrade
#       wave (node a1 at a fixed instant, a0 at one drawn from the seed):
#       exit 0, no violation, requests timed out and retried, tokens
#       checked.
# JSON is read with sed/grep/tr like the other scripts.
. "$(dirname "$0")/lib.sh"
plat="$VMSIM_SRCDIR/workloads/platforms/dc-attest.xml"
small="$VMSIM_SRCDIR/workloads/depots/small.json"
# cfg NAME 'ATTACKS' 'VARIANTS' -> $tmpdir/NAME.json
cfg() {
    cat > "$tmpdir/$1.json" <<CFG
{ "seed": 1, "name": "at-$1", "mechanism": "attestation", "platform": "$plat",
  "host": "depot", "disk": "pkgs",
  "datacenter": { "hosts": 200, "nodes": 4, "cluster_nodes": 2, "sample": 1 },
  "depot": { "metadata": "$small", "key_seed": 1 },
  "releases": [ { "at": "300s", "packages": 2, "wave_rate": 2, "wave_hosts": 100 } ],
  "attacks": [ $2 ],
  "scenario": { "duration": "2400s" },
  "variants": [ $3 ] }
CFG
}
v() { echo "{ \"name\": \"$1\", \"policy\": \"$1\", \"params\": { \"token_ttl\": \"600s\" } }"; }
run() {
    "$VMSIM" run --no-plot -o "$tmpdir/$1" "$tmpdir/$1.json" > "$tmpdir/$1.log" 2>&1
    rc=$?
}
flat() { tr -d '\n\t ' < "$tmpdir/$1/result.json" 2>/dev/null; }
expect_status() {
    if [ "$rc" -eq "$2" ]; then ok "$1: exit status $2"
    else bad "$1: exit status $rc, expected $2"; tail -n 20 "$tmpdir/$1.log"; fi
}
expect_in() {
    if echo "$3" | grep -Eq "$4"; then ok "$1: $2 ($(echo "$3" | grep -Eo "$4" | head -n 1))"
    else bad "$1: $2: no match for $4"; fi
}
expect_not_in() {
    if echo "$3" | grep -Eq "$4"; then bad "$1: $2: found $(echo "$3" | grep -Eo "$4" | head -n 1)"
    else ok "$1: $2"; fi
}

# (a) no nonce check: replayed quotes get tokens
cfg no-nonce '{ "kind": "replay", "at": "600s", "first": 0, "hosts": 20 }' "$(v broken-nonce)"
run no-nonce
expect_status no-nonce 1
expect_in no-nonce "false accepts counted" "$(flat no-nonce)" '"invariants":\{[^}]*"false_accepts":[1-9]'
expect_in no-nonce "record not ok" "$(flat no-nonce)" '"ok":false'

# (b) a cache that takes an older targets version: tokens on a rolled-back view
cfg no-rollback-check '{ "kind": "rollback", "at": "600s" }' "$(v broken-rollback)"
run no-rollback-check
expect_status no-rollback-check 1
expect_in no-rollback-check "rolled-back view used" "$(flat no-rollback-check)" '"rollback_used":[1-9]'

# (b2) a cache that takes an expired timestamp: tokens on a frozen view
# once its timestamp (10 min) has expired
cfg no-expiry-check '{ "kind": "freeze", "at": "600s" }' "$(v broken-freeze)"
sed -i 's/"key_seed": 1 }/"key_seed": 1, "ts_expiry": "600s" }/' "$tmpdir/no-expiry-check.json"
run no-expiry-check
expect_status no-expiry-check 1
expect_in no-expiry-check "expired view used" "$(flat no-expiry-check)" '"expired_used":[1-9]'

# (b3) a node that ignores the withdrawn flag: tokens for a version the
# depot's answer said was withdrawn (release 1's, withdrawn at 900 s; its
# 100 upgraded hosts re-attest every 450 s)
cfg no-withdraw-check '{ "kind": "withdraw", "at": "900s", "release": 1 }' "$(v broken-withdraw)"
run no-withdraw-check
expect_status no-withdraw-check 1
expect_in no-withdraw-check "record not ok" "$(flat no-withdraw-check)" '"ok":false'
# withdrawn_known is the invariant it violates, and the only one
expect_in no-withdraw-check "withdrawn_known names the violation" "$(flat no-withdraw-check)" \
    '"invariants":\{"tokens_checked":[1-9][0-9]*,"false_accepts":0,"rollback_used":0,"expired_used":0,"forged_meta_used":0,"withdrawn_known":[1-9][0-9]*\},"violations":[1-9]'

# (b4) a cache that still trusts its shipped root's timestamp key after
# the depot rotated it (600 s): tokens on the revoked key's forged,
# fast-forwarded timestamp (from 900 s)
cfg no-revocation '{ "kind": "revoked_key", "at": "900s" }' "$(v broken-revoked)"
sed -i 's/"key_seed": 1 }/"key_seed": 1, "key_rotation": "600s" }/' "$tmpdir/no-revocation.json"
run no-revocation
expect_status no-revocation 1
expect_in no-revocation "forged metadata used" "$(flat no-revocation)" '"forged_meta_used":[1-9]'

# (c) every real method under every attack
all='{ "kind": "tamper", "at": "600s", "first": 0, "hosts": 10 },
  { "kind": "unknown", "at": "600s", "first": 10, "hosts": 10 },
  { "kind": "replay", "at": "600s", "first": 20, "hosts": 10 },
  { "kind": "wrong_key", "at": "600s", "first": 30, "hosts": 10 },
  { "kind": "malformed", "at": "600s", "first": 40, "hosts": 10 },
  { "kind": "withdraw", "at": "900s", "release": 1 },
  { "kind": "rollback", "at": "1000s", "len": "200s" },
  { "kind": "bad_sig", "at": "1300s", "len": "200s" },
  { "kind": "bad_alg", "at": "1600s", "len": "200s" },
  { "kind": "node_crash", "at": "700s", "len": "300s", "node": 1 },
  { "kind": "depot_down", "at": "1850s", "len": "30s" },
  { "kind": "mix_and_match", "at": "1200s", "len": "90s" },
  { "kind": "revoked_key", "at": "1510s", "len": "80s" },
  { "kind": "freeze", "at": "1900s" }'
cfg safe "$all" "$(v depot), $(v depot-cache), $(v depot-feed), $(v manual), $(v export-import), $(v union)"
sed -i 's/"key_seed": 1 }/"key_seed": 1, "key_rotation": "800s" }/' "$tmpdir/safe.json"
run safe
expect_status safe 0
f=$(flat safe)
expect_not_in safe "no record with a violation" "$f" '"violations":[1-9]'
expect_not_in safe "no false accept" "$f" '"false_accepts":[1-9]'
for m in depot depot-cache depot-feed manual export-import union; do
    rec=$(echo "$f" | grep -Eo "\"id\":\"$m\"[^]]*" | head -n 1)
    expect_in "safe/$m" "tokens checked" "$rec" '"tokens_checked":[1-9]'
    expect_in "safe/$m" "real verifications" "$rec" '"real_verifies":[1-9]'
    expect_in "safe/$m" "forged evidence refused" "$rec" '"refusals":[1-9]'
done

# (e) every real method with nodes crashing during the wave (the upgraded
# hosts reboot 300 s and attest from 600 s): a1 down 610..730 s, a0 down
# 60 s at an instant drawn in [1200, 1800) s
cfg crash '' "$(v depot), $(v depot-cache), $(v depot-feed), $(v manual), $(v export-import), $(v union)"
sed -i 's/"attacks": \[  \],/"attacks": [ ], "faults": [ { "kind": "host_crash", "host": "a1", "at": "610s", "restart_after": "120s" }, { "kind": "host_crash", "host": "a0", "from": "1200s", "until": "1800s", "restart_after": "60s" } ],/' "$tmpdir/crash.json"
run crash
expect_status crash 0
f=$(flat crash)
expect_in crash "the faults are in the config" "$(tr -d '\n\t ' < "$tmpdir/crash.json")" '"faults":\[\{"kind":"host_crash"'
expect_not_in crash "no record with a violation" "$f" '"violations":[1-9]'
expect_not_in crash "no false accept" "$f" '"false_accepts":[1-9]'
for m in depot depot-cache depot-feed manual export-import union; do
    rec=$(echo "$f" | grep -Eo "\"id\":\"$m\"[^]]*" | head -n 1)
    expect_in "crash/$m" "requests timed out and retried" "$rec" '"timeouts":[1-9]'
    expect_in "crash/$m" "tokens checked" "$rec" '"tokens_checked":[1-9]'
done

# (d) the release metrics are measured from the release (300 s), not from
# the start of the run: the depot admits the first upgraded host after its
# reboot (300 s), the last one 50 s later (100 hosts at 2/s)
cfg rel '' "$(v depot)"
run rel
expect_status rel 0
f=$(flat rel)
first=$(echo "$f" | grep -Eo '"release_first_ns":[0-9.e+]+' | head -n 1 | cut -d: -f2)
last=$(echo "$f" | grep -Eo '"release_last_ns":[0-9.e+]+' | head -n 1 | cut -d: -f2)
if awk -v a="$first" -v b="$last" 'BEGIN { exit !(a >= 300e9 && a < 310e9 && b >= a && b < 400e9) }'
then ok "rel: release to first/last token $first/$last ns"
else bad "rel: release to first/last token $first/$last ns, expected 300 s <= first < 310 s, first <= last < 400 s"; fi
finish
