#!/bin/sh
# attestation_bad_input.sh - bad input to the attestation mechanism: run
# and validate both refuse it before any run point starts, with one
# located line, exit status 2 and nothing written (expect_bad, lib.sh).
# Depot metadata files: truncated JSON, a wrong type, an unknown key, a
# missing key, duplicate packages, a duplicate file, bad hex, a withdrawn
# flag that is not a boolean, a NUL in a name, a file over 64 MiB, a bad signature (a file edited after
# signing), an unknown algorithm, a key that is not the depot's; the
# root and snapshot roles (TUF): a missing or unknown role, a threshold
# of 0 or above the role's keys (or above 1 for targets), a key id twice, missing keys, wrong
# types, a root below its threshold of signatures, a root without the
# depot's key, a snapshot naming other targets; a key rotation after the
# run's end and a revoked_key attack without a rotation before it; ECDSA
# P-256 (quotes and tokens only).  Configs: an unknown quote_alg or
# token_alg, a negative ECDSA cost, a TPM quote time over a minute or
# not a time, an admin_retry of 0 or given to a depot method,
# impossible schedules (a wave past the run's end, releases out of order
# or after the end, boots that end after it), an unknown method, attack
# hosts beyond the datacenter, an unknown node, a withdrawal of an
# unknown release, more packages than the depot has, more new packages
# than a release may add or a host's log holds, more nodes than the
# platform has, a cluster size that does not divide the nodes, a fault
# after the end, an unknown key; host_crash faults on a host that is not
# an attestation node (the depot, a node beyond datacenter.nodes, a host
# the platform lacks), without a host or restart_after, with no down
# time, outside the run (at, or a window's until), of a node still down,
# and a fault kind attestation does not take.  And vmsim-depot's own
# refusals.
. "$(dirname "$0")/lib.sh"
n=0
gen="$tmpdir/gen"
mkdir -p "$gen" "$tmpdir/tmp"
TMPDIR="$tmpdir/tmp"        # whatever vmsim would put in a temp dir lands here
export TMPDIR
DEPOT=${VMSIM_DEPOT:-$(dirname "$VMSIM")/vmsim-depot}
plat="$VMSIM_SRCDIR/workloads/platforms/dc-attest.xml"
small="$VMSIM_SRCDIR/workloads/depots/small.json"
# at_cfg NAME ['DATACENTER'] ['RELEASES'] ['EXTRA'] -> $gen/NAME.json; $meta
# and $policy replace the depot file and the variant's policy, $vparams
# gives its params
at_cfg() {
    cat > "$gen/$1.json" <<CFG
{ "seed": 1, "name": "bad-$1", "mechanism": "attestation", "platform": "$plat",
  "host": "depot", "disk": "pkgs",
  "datacenter": { ${2:-\"hosts\": 200, \"nodes\": 4, \"cluster_nodes\": 2} },
  "depot": { "metadata": "${meta:-$small}", "key_seed": 1${meta_extra:-} },
  "releases": [ ${3:-{ \"at\": \"600s\", \"packages\": 2, \"wave_rate\": 1 \}} ],
  "scenario": { "duration": "1800s" },
  "variants": [ { "name": "v", "policy": "${policy:-depot}", "params": { ${vparams:-} } } ]$4 }
CFG
}
expect_both() {
    expect_bad "run $1" "$2" run --no-plot -o "$tmpdir/run-out" "$gen/$1.json"
    expect_bad "validate $1" "$2" validate "$gen/$1.json"
}
# depot_case NAME FILE-TEXT WANT: a config reading depot file NAME.depot.json
depot_case() {
    printf '%s\n' "$2" > "$gen/$1.depot.json"
    meta="$gen/$1.depot.json" at_cfg "$1"
    expect_both "$1" "$1.json: \$.depot.metadata: $gen/$1.depot.json$3"
}
# a hand-written depot of one package; PKG replaces the package, SIGS the
# signatures (the parse errors come before the signature is checked)
hex64=0000000000000000000000000000000000000000000000000000000000000000
sig128=$hex64$hex64
pkg='{ "name": "esx-base", "version": "8.0.2", "vendor": "VMW", "files": [ { "path": "a", "sha256": "'$hex64'" } ] }'
sigs='[ { "keyid": "'$hex64'", "alg": "ed25519", "sig": "'$sig128'" } ]'
role='{ "keyids": [ "'$hex64'" ], "threshold": 1 }'
goodroles='{ "root": '$role', "timestamp": '$role', "snapshot": '$role', "targets": '$role' }'
goodsnap='{ "_type": "snapshot", "version": 1, "expires": "30d", "targets_version": 1, "targets_sha256": "'$hex64'" }'
# $roles replaces the root's roles, $snap the snapshot's signed part
doc() {
    echo '{ "format": "vmsim-depot/2", "signed": { "_type": "targets", "version": '"${ver:-1}"', "expires": "30d",'
    echo '  "packages": [ '"${1:-$pkg}"' ] },'
    echo '  "signatures": '"$sigs"','
    echo '  "root": { "signed": { "_type": "root", "version": 1, "expires": "365d", "roles": '"${roles:-$goodroles}"' }, "signatures": '"$sigs"' },'
    echo '  "snapshot": { "signed": '"${snap:-$goodsnap}"', "signatures": '"$sigs"' } }'
}

# the setup itself is good (else every case below would prove nothing)
at_cfg good
if "$VMSIM" validate "$gen/good.json" > "$tmpdir/good.txt" 2>&1; then
    ok "the base config validates"
else
    bad "the base config does not validate: $(cat "$tmpdir/good.txt")"
fi

# depot files: form
depot_case truncated "$(doc | head -c 150)" ":3:1: malformed JSON: expected a string key in double quotes, got end of input"
depot_case wrong-type "$(ver='"1"' doc)" ': $.signed.version: expected integer >= 1, got "1"'
depot_case unknown-key "$(doc '{ "name": "a", "version": "1", "vendr": "VMW", "files": [] }')" \
    ': $.signed.packages[0]: unknown key '"'vendr'"' (did you mean '"'vendor'"'?)'
depot_case missing-key "$(doc '{ "name": "a", "version": "1", "files": [] }')" \
    ': $.signed.packages[0]: missing key '"'vendor'"
depot_case duplicate-package "$(doc "$pkg, $pkg")" \
    ': $.signed.packages[1]: duplicate package '"'esx-base'"' version '"'8.0.2'"' (packages[0] has it)'
depot_case duplicate-file "$(doc '{ "name": "a", "version": "1", "vendor": "V", "files": [ { "path": "x", "sha256": "'$hex64'" }, { "path": "x", "sha256": "'$hex64'" } ] }')" \
    ': $.signed.packages[0].files[1].path: duplicate file path '"'x'"' (files[0] has it)'
depot_case bad-hex "$(doc '{ "name": "a", "version": "1", "vendor": "V", "files": [ { "path": "x", "sha256": "'${hex64%??}zz'" } ] }')" \
    ': $.signed.packages[0].files[0].sha256: expected 64 hex digits, got "0000'
depot_case withdrawn-type "$(doc '{ "name": "a", "version": "1", "vendor": "V", "withdrawn": "yes", "files": [ { "path": "x", "sha256": "'$hex64'" } ] }')" \
    ': $.signed.packages[0].withdrawn: expected boolean, got "yes"'
depot_case empty-files "$(doc '{ "name": "a", "version": "1", "vendor": "V", "files": [] }')" \
    ': $.signed.packages[0].files: expected 1 to 4096 files, got an empty array'
# a NUL in a name would end it in C: "a\u0000b" read as "a" is another
# package than the one signed
depot_case nul-in-name "$(doc '{ "name": "a\u0000b", "version": "1", "vendor": "V", "files": [ { "path": "x", "sha256": "'$hex64'" } ] }')" \
    ':2:29: malformed JSON: expected a character other than \u0000 (strings hold no NUL)'
depot_case bad-format "$(doc | sed 's#vmsim-depot/2#vmsim-depot/9#')" \
    ': $.format: expected "vmsim-depot/2", got "vmsim-depot/9"'
# depot files: the root and snapshot roles (TUF 4.3, 4.4)
depot_case old-format "$(doc | sed 's#vmsim-depot/2#vmsim-depot/1#')" \
    ': $.format: expected "vmsim-depot/2", got "vmsim-depot/1"'
depot_case root-missing-role "$(roles='{ "root": '"$role"', "timestamp": '"$role"', "targets": '"$role"' }' doc)" \
    ': $.root.signed.roles: missing key '"'snapshot'"
depot_case root-unknown-role "$(roles='{ "root": '"$role"', "timestamp": '"$role"', "snapshot": '"$role"', "targets": '"$role"', "mirrors": '"$role"' }' doc)" \
    ': $.root.signed.roles: unknown key '"'mirrors'"
depot_case root-threshold-0 "$(roles='{ "root": { "keyids": [ "'$hex64'" ], "threshold": 0 }, "timestamp": '"$role"', "snapshot": '"$role"', "targets": '"$role"' }' doc)" \
    ': $.root.signed.roles.root.threshold: expected an integer from 1 to 1 (the role'"'"'s keyids), got 0'
depot_case root-threshold-above "$(roles='{ "root": '"$role"', "timestamp": '"$role"', "snapshot": '"$role"', "targets": { "keyids": [ "'$hex64'" ], "threshold": 2 } }' doc)" \
    ': $.root.signed.roles.targets.threshold: expected an integer from 1 to 1 (the role'"'"'s keyids), got 2'
depot_case root-duplicate-keyid "$(roles='{ "root": '"$role"', "timestamp": { "keyids": [ "'$hex64'", "'$hex64'" ], "threshold": 1 }, "snapshot": '"$role"', "targets": '"$role"' }' doc)" \
    ': $.root.signed.roles.timestamp.keyids[1]: duplicate key id (keyids[0] has it)'
depot_case root-missing-keyids "$(roles='{ "root": '"$role"', "timestamp": '"$role"', "snapshot": { "threshold": 1 }, "targets": '"$role"' }' doc)" \
    ': $.root.signed.roles.snapshot: missing key '"'keyids'"
depot_case root-keyids-type "$(roles='{ "root": '"$role"', "timestamp": '"$role"', "snapshot": '"$role"', "targets": { "keyids": "'$hex64'", "threshold": 1 } }' doc)" \
    ': $.root.signed.roles.targets.keyids: expected an array of 1 to 4 key ids, got "0000'
depot_case snapshot-missing-key "$(snap='{ "_type": "snapshot", "version": 1, "expires": "30d", "targets_version": 1 }' doc)" \
    ': $.snapshot.signed: missing key '"'targets_sha256'"
depot_case snapshot-wrong-type "$(snap='{ "_type": "snapshot", "version": 1, "expires": "30d", "targets_version": "1", "targets_sha256": "'$hex64'" }' doc)" \
    ': $.snapshot.signed.targets_version: expected integer >= 1, got "1"'

# a depot file larger than any the parser reads (64 MiB; a sparse file)
truncate -s 65M "$gen/huge.depot.json"
meta="$gen/huge.depot.json" at_cfg huge
expect_both huge "huge.json: \$.depot.metadata: $gen/huge.depot.json: expected a depot file of at most 64 MiB, got 65.0 MiB"
rm -f "$gen/huge.depot.json"

# depot files: signatures (a real signed file, then edited)
"$DEPOT" generate -o "$gen/signed.json" --packages 3 --min-files 2 --max-files 4 > /dev/null ||
    bad "vmsim-depot generate failed"
depot_case bad-signature "$(sed '0,/"sha256":/s/"sha256":[^"]*"[0-9a-f]*"/"sha256": "'$hex64'"/' "$gen/signed.json")" \
    ': $.signatures[0].sig: bad signature: it does not verify'
depot_case unknown-alg "$(sed 's/"alg":[^"]*"ed25519"/"alg": "rsa-pss-sha256"/' "$gen/signed.json")" \
    ': $.root.signatures[0].alg: unknown algorithm "rsa-pss-sha256" (known: ed25519)'
# depot metadata is signed with Ed25519 only: ECDSA P-256 (known for quotes
# and tokens) is refused there by name
depot_case p256-alg "$(sed 's/"alg":[^"]*"ed25519"/"alg": "ecdsa-p256"/' "$gen/signed.json")" \
    ': $.root.signatures[0].alg: unknown algorithm "ecdsa-p256" (known: ed25519)'
"$DEPOT" generate -o "$gen/other-key.json" --packages 3 --min-files 2 --max-files 4 --key-seed 7 > /dev/null
depot_case unknown-signing-key "$(cat "$gen/other-key.json")" \
    ': $.signatures[0].keyid: unknown key: not the depot'"'"'s targets key'
# a root whose only signature was changed: below its threshold
depot_case root-bad-signature "$(awk '!done && /"sig":/ { sub(/"sig":[ \t]*"./, "\"sig\": \"0"); done = 1 } 1' "$gen/signed.json")" \
    ': $.root.signatures: bad signatures: 0 of the root role'"'"'s keys signed the root, its threshold is 1'
# a snapshot naming another targets version (mix-and-match in the file)
depot_case snapshot-mismatch "$(sed 's/"targets_version":[^0-9]*1,/"targets_version": 2,/' "$gen/signed.json")" \
    ': $.snapshot.signed.targets_version: expected 1 (the targets'"'"' version), got 2'
# a root that does not list the depot's snapshot key
depot_case root-foreign-key "$(awk '/"keyids"/ && ++n == 3 { sub(/\["[0-9a-f]*"\]/, "[\"'$hex64'\"]") } 1' "$gen/signed.json")" \
    ': $.root.signed.roles.snapshot.keyids: the depot'"'"'s snapshot key ('
# a targets role of threshold 2 (two key ids): its documents carry one
# signature, so the threshold could never be met
depot_case root-targets-threshold-2 "$(awk '/"keyids"/ && ++n == 4 { sub(/"\]/, "\", \"'$hex64'\"]"); t = 1 } t && /"threshold"/ { sub(/1/, "2"); t = 0 } 1' "$gen/signed.json")" \
    ': $.root.signed.roles.targets.threshold: expected 1 (the targets role'"'"'s documents carry one signature; thresholds above 1 are not modelled), got 2'
# ... and the edited file signed again is good
sed '0,/"sha256":/s/"sha256":[^"]*"[0-9a-f]*"/"sha256": "'$hex64'"/' "$gen/signed.json" > "$gen/resigned.depot.json"
if "$DEPOT" sign "$gen/resigned.depot.json" > /dev/null && meta="$gen/resigned.depot.json" at_cfg resigned &&
   "$VMSIM" validate "$gen/resigned.json" > /dev/null 2>&1; then
    ok "an edited depot file signed again validates"
else
    bad "an edited depot file signed again does not validate"
fi

# configs: impossible schedules
at_cfg wave-past-end '' '{ "at": "600s", "wave_rate": 0.1 }'
expect_both wave-past-end 'wave-past-end.json: $.releases[0].wave_rate: impossible schedule: 200 hosts at 0.1 hosts/s from 600 s end at 2600 s, past the run'"'"'s end (scenario.duration 1800 s)'
at_cfg releases-order '' '{ "at": "900s" }, { "at": "600s" }'
expect_both releases-order 'releases-order.json: $.releases[1].at: expected a time after releases[0].at (900 s): releases are in time order, got 600 s'
at_cfg release-after-end '' '{ "at": "2000s" }'
expect_both release-after-end 'release-after-end.json: $.releases[0].at: expected a time within the run (scenario.duration 1800 s), got 2000 s'
at_cfg boots-after-end '"hosts": 200, "nodes": 4, "boot_at": "1000s", "boot_spread": "900s"'
expect_both boots-after-end 'boots-after-end.json: $.datacenter.boot_spread: impossible schedule: the boots end at 1900 s'
# methods, attacks, nodes, packages
policy=depott at_cfg unknown-method
expect_both unknown-method "unknown-method.json: \$.variants[0].policy: unknown policy 'depott'"
at_cfg attack-hosts '' '' ', "attacks": [ { "kind": "tamper", "at": "900s", "first": 150, "hosts": 100 } ]'
expect_both attack-hosts 'attack-hosts.json: $.attacks[0].hosts: attack hosts beyond the datacenter: hosts 150..249, the datacenter has 0..199'
at_cfg attack-node '' '' ', "attacks": [ { "kind": "node_crash", "at": "900s", "node": 4 } ]'
expect_both attack-node 'attack-node.json: $.attacks[0].node: unknown node 4 (the datacenter has nodes 0..3)'
at_cfg attack-release '' '' ', "attacks": [ { "kind": "withdraw", "at": "900s", "release": 2 } ]'
expect_both attack-release 'attack-release.json: $.attacks[0].release: unknown release 2 (the config has releases 1..1, and 0 the base)'
at_cfg attack-kind '' '' ', "attacks": [ { "kind": "tampr", "at": "900s" } ]'
expect_both attack-kind 'attack-kind.json: $.attacks[0].kind: expected one of'
# key rotation: within the run; a revoked_key attack needs one before it
at_cfg revoked-no-rotation '' '' ', "attacks": [ { "kind": "revoked_key", "at": "900s" } ]'
expect_both revoked-no-rotation 'revoked-no-rotation.json: $.attacks[0].at: a revoked_key attack needs a key rotation before it: depot.key_rotation is 0s (never), the attack at 900 s'
meta_extra=', "key_rotation": "1000s"' at_cfg revoked-before-rotation '' '' ', "attacks": [ { "kind": "revoked_key", "at": "900s" } ]'
expect_both revoked-before-rotation 'revoked-before-rotation.json: $.attacks[0].at: a revoked_key attack needs a key rotation before it: depot.key_rotation is not before it, the attack at 900 s'
meta_extra=', "key_rotation": "2000s"' at_cfg rotation-after-end
expect_both rotation-after-end 'rotation-after-end.json: $.depot.key_rotation: expected a time within the run (scenario.duration 1800 s) or 0s, got 2000 s'
meta_extra=', "key_rotation": "600s"' at_cfg rotation-good '' '' ', "attacks": [ { "kind": "revoked_key", "at": "900s" }, { "kind": "mix_and_match", "at": "1000s" } ]'
if "$VMSIM" validate "$gen/rotation-good.json" > /dev/null 2>&1; then ok "a key rotation and the revoked_key and mix_and_match attacks validate"
else bad "a key rotation with a revoked_key attack after it does not validate"; fi
# signature algorithms of quotes and tokens, and their costs
at_cfg quote-alg '"hosts": 200, "nodes": 4, "cluster_nodes": 2, "quote_alg": "rsa-2048"'
expect_both quote-alg 'quote-alg.json: $.datacenter.quote_alg: expected one of ed25519|ecdsa-p256, got "rsa-2048"'
at_cfg token-alg '"hosts": 200, "nodes": 4, "cluster_nodes": 2, "token_alg": 1'
expect_both token-alg 'token-alg.json: $.datacenter.token_alg: expected one of ed25519|ecdsa-p256, got number'
at_cfg tpm-quote '"hosts": 200, "nodes": 4, "cluster_nodes": 2, "tpm_quote": "2min"'
expect_both tpm-quote 'tpm-quote.json: $.datacenter.tpm_quote: expected time 0ns..60s, got "2min"'
at_cfg tpm-quote-type '"hosts": 200, "nodes": 4, "cluster_nodes": 2, "tpm_quote": true'
expect_both tpm-quote-type 'tpm-quote-type.json: $.datacenter.tpm_quote: expected'
# the console's resend interval: not zero, and only for the allow-list methods
policy=manual vparams='"admin_retry": "0s"' at_cfg admin-retry
expect_both admin-retry 'admin-retry.json: $.variants[0].params.admin_retry: expected time 1ms..86400s, got "0s"'
policy=depot vparams='"admin_retry": "1s"' at_cfg admin-retry-depot
expect_both admin-retry-depot "admin-retry-depot.json: \$.variants[0].params: unknown key 'admin_retry' (policy 'depot' takes: req_timeout, token_ttl, retry, retry_max)"
at_cfg ecdsa-cost '' '' ', "costs": { "ecdsa_verify_ns": -1 }'
expect_both ecdsa-cost 'ecdsa-cost.json: $.costs.ecdsa_verify_ns: expected number 0..1000000000, got -1'
at_cfg too-many-packages '' '{ "at": "600s", "packages": 9 }'
expect_both too-many-packages "too-many-packages.json: \$.releases[0].packages: expected at most the depot's 8 packages, got 9"
at_cfg too-many-new-packages '' '{ "at": "600s", "new_packages": 257 }'
expect_both too-many-new-packages 'too-many-new-packages.json: $.releases[0].new_packages: expected integer 0..256, got 257'
# 16 releases of 256 new packages: the 8 packages and 4096 new ones do not fit a log
rels=$(i=1; while [ $i -le 16 ]; do printf '%s{ "at": "%ds", "new_packages": 256 }' "${sep:-}" $((600 + i)); sep=', '; i=$((i + 1)); done)
at_cfg log-too-long '' "$rels"
expect_both log-too-long "log-too-long.json: \$.releases[15].new_packages: expected at most 4095 events in a host's log (the depot's 8 packages and the new ones so far), got 4104"
at_cfg too-many-nodes '"hosts": 200, "nodes": 20, "cluster_nodes": 2'
expect_both too-many-nodes "too-many-nodes.json: \$.datacenter.nodes: expected a platform with hosts r0.., a0..a19, depot and admin"
at_cfg cluster-nodes '"hosts": 200, "nodes": 4, "cluster_nodes": 3'
expect_both cluster-nodes 'cluster-nodes.json: $.datacenter.cluster_nodes: expected a divisor of datacenter.nodes (4), got 3'
at_cfg fault-after-end '' '' ', "faults": [ { "kind": "msg_loss", "p": 1, "a": "depot", "from": "2000s" } ]'
expect_both fault-after-end 'fault-after-end.json: $.faults[0].from: expected a time within the run (scenario.duration 1800 s), got 2000 s'
# host_crash faults: a node a0..a3 with its down time, within the run
crash() { at_cfg "$1" '' '' ", \"faults\": [ $2 ]"; }
crash crash-good '{ "kind": "host_crash", "host": "a3", "at": "900s", "restart_after": "60s" },
  { "kind": "host_crash", "host": "a3", "from": "1000s", "until": "1700s", "restart_after": "30s" }'
if "$VMSIM" validate "$gen/crash-good.json" > /dev/null 2>&1; then ok "a host_crash on a node validates"
else bad "a host_crash on a node does not validate"; fi
crash crash-depot '{ "kind": "host_crash", "host": "depot", "at": "900s", "restart_after": "60s" }'
expect_both crash-depot "crash-depot.json: \$.faults[0].host: expected an attestation node (a0..a3), got 'depot'"
crash crash-node-beyond '{ "kind": "host_crash", "host": "a4", "at": "900s", "restart_after": "60s" }'
expect_both crash-node-beyond "crash-node-beyond.json: \$.faults[0].host: expected an attestation node (a0..a3), got 'a4'"
crash crash-no-such-host '{ "kind": "host_crash", "host": "a99", "at": "900s", "restart_after": "60s" }'
expect_both crash-no-such-host "crash-no-such-host.json: \$.faults[0].host: unknown host 'a99'"
crash crash-no-host '{ "kind": "host_crash", "at": "900s", "restart_after": "60s" }'
expect_both crash-no-host 'crash-no-host.json: $.faults[0].host: missing: an attestation host_crash names its node (a0..a3)'
crash crash-no-restart '{ "kind": "host_crash", "host": "a1", "at": "900s" }'
expect_both crash-no-restart "crash-no-restart.json: \$.faults[0]: missing required key 'restart_after' (the node's down time: attestation takes no default)"
crash crash-zero-down '{ "kind": "host_crash", "host": "a1", "at": "900s", "restart_after": "0s" }'
expect_both crash-zero-down 'crash-zero-down.json: $.faults[0].restart_after: expected a down time > 0, got 0 s'
crash crash-after-end '{ "kind": "host_crash", "host": "a1", "at": "2000s", "restart_after": "60s" }'
expect_both crash-after-end 'crash-after-end.json: $.faults[0].at: expected a time within the run (scenario.duration 1800 s), got 2000 s'
crash crash-window-past-end '{ "kind": "host_crash", "host": "a1", "from": "900s", "until": "2000s", "restart_after": "60s" }'
expect_both crash-window-past-end 'crash-window-past-end.json: $.faults[0].until: expected a time within the run (scenario.duration 1800 s): the crash is drawn in [from, until), got 2000 s'
crash crash-while-down '{ "kind": "host_crash", "host": "a1", "at": "900s", "restart_after": "300s" },
  { "kind": "host_crash", "host": "a1", "at": "1000s", "restart_after": "60s" }'
expect_both crash-while-down "crash-while-down.json: \$.faults[1].at: expected node 'a1' to crash again only after it restarts: faults[0] and faults[1] crash it at 900 s and 1000 s, and it restarts at 1200 s"
# the same two crashes listed the other way round
crash crash-while-down-rev '{ "kind": "host_crash", "host": "a1", "at": "1000s", "restart_after": "60s" },
  { "kind": "host_crash", "host": "a1", "at": "900s", "restart_after": "300s" }'
expect_both crash-while-down-rev "crash-while-down-rev.json: \$.faults[1].at: expected node 'a1' to crash again only after it restarts: faults[0] and faults[1] crash it at 1000 s and 900 s, and it restarts at 1200 s"
crash daemon-crash '{ "kind": "daemon_crash", "host": "a1", "at": "900s" }'
expect_both daemon-crash "daemon-crash.json: \$.faults[0].kind: mechanism 'attestation' does not take daemon_crash faults (it takes: host_crash, partition, msg_loss, msg_delay)"
at_cfg unknown-dc-key '"hosts": 200, "nodez": 4'
expect_both unknown-dc-key "unknown-dc-key.json: \$.datacenter: unknown key 'nodez' (did you mean 'nodes'?)"
policy=manual vparams='"retry": "600s", "retry_max": "60s"' at_cfg retry-order
expect_both retry-order 'retry-order.json: $.variants[0].params.retry_max: expected at least retry (600 s), got 60 s'
policy=union vparams='"admin_min": "2h", "admin_max": "60s"' at_cfg admin-order
expect_both admin-order 'admin-order.json: $.variants[0].params.admin_min: expected time like'
policy=union vparams='"admin_min": "7200s", "admin_max": "60s"' at_cfg admin-order2
expect_both admin-order2 'admin-order2.json: $.variants[0].params.admin_max: expected at least admin_min (7200 s), got 60 s'
expect_nothing_left

# vmsim-depot refuses bad arguments and bad files with one line, exit 2
for args in "frobnicate x" "generate" "generate -o $gen/x.json --packages 0" \
            "verify $gen/truncated.depot.json" "sign $gen/unknown-key.depot.json" \
            "verify $gen/nul-in-name.depot.json" "generate -o $gen/x.json --packages 5000" \
            "verify $gen/root-threshold-0.depot.json" "sign $gen/root-duplicate-keyid.depot.json" \
            "verify $gen/snapshot-mismatch.depot.json" "verify $gen/root-bad-signature.depot.json"; do
    # shellcheck disable=SC2086
    "$DEPOT" $args > "$tmpdir/depot-out.txt" 2> "$tmpdir/depot-err.txt"
    rc=$?
    lines=$(wc -l < "$tmpdir/depot-err.txt")
    if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && grep -q '^vmsim-depot: ' "$tmpdir/depot-err.txt"; then
        ok "vmsim-depot $args: refused with one line"
    else
        bad "vmsim-depot $args: exit $rc, $lines lines: $(cat "$tmpdir/depot-err.txt")"
    fi
done
[ ! -e "$gen/x.json" ] && ok "vmsim-depot wrote nothing when refused" ||
    bad "vmsim-depot left $gen/x.json"
finish
