#!/bin/sh
# invariants.sh - the invariant checker can fail: each deliberately broken
# policy must be reported as a violation with exit status 1 -
#   broken-policy.json   buffered-unsafe-test lets a guest write through
#                        before its block is copied (image_mismatch);
#   broken-restore.json  sblock-lazy-present-test makes pages present
#                        without their content (restore_mismatch);
#   ignore-stun.json     run by tests/vmsim-test-ignore-stun, a build whose
#                        vCPU acknowledges a stun and runs on
#                        (stunned_guest_accesses); vmsim itself passes it;
#   corrupt-maps.json    buffered-corrupt-maps-test flips a byte of the maps
#                        on their way to the file (image_missing, and the
#                        decoder's reason in the record's error);
#   corrupt-maps-restore.json  every restore policy on that image fails
#                        with the decoder's reason, without hanging;
# an injected disk error must fail the save cleanly (no image claimed
# valid); and a restore that fails before the guest ever ran
# (restore-fails-early.json) must end with its reason, not a crash.
. "$(dirname "$0")/lib.sh"
d="$VMSIM_SRCDIR/tests/e2e"
"$VMSIM" run --no-plot -o "$tmpdir/broken" "$d/broken-policy.json" > "$tmpdir/broken.log" 2>&1
rc=$?
if [ "$rc" -eq 1 ]; then ok "broken policy: exit status 1"; else bad "broken policy: exit status $rc, expected 1"; cat "$tmpdir/broken.log"; fi
if grep -Eq '"image_mismatch":[[:space:]]*[1-9]' "$tmpdir/broken/result.json" 2>/dev/null; then
    ok "broken policy: image_mismatch reported in result.json"
else bad "broken policy: no image_mismatch in result.json"; fi
if grep -Eq '"image_mismatch":[[:space:]]*0' "$tmpdir/broken/result.json" 2>/dev/null; then
    ok "broken policy: the correct policy in the same run has no mismatch"
else bad "broken policy: the reference variant is missing or also mismatched"; fi
"$VMSIM" run --no-plot -o "$tmpdir/restore" "$d/broken-restore.json" > "$tmpdir/restore.log" 2>&1
rc=$?
if [ "$rc" -eq 1 ]; then ok "broken restore: exit status 1"; else bad "broken restore: exit status $rc, expected 1"; cat "$tmpdir/restore.log"; fi
if grep -Eq '"restore_mismatch":[[:space:]]*[1-9]' "$tmpdir/restore/result.json" 2>/dev/null; then
    ok "broken restore: restore_mismatch reported in result.json"
else bad "broken restore: no restore_mismatch in result.json"; fi
if grep -Eq '"restore_mismatch":[[:space:]]*0' "$tmpdir/restore/result.json" 2>/dev/null; then
    ok "broken restore: the correct policy in the same run has no mismatch"
else bad "broken restore: the reference variant is missing or also mismatched"; fi
"$VMSIM" run --no-plot -o "$tmpdir/maps" "$d/corrupt-maps.json" > "$tmpdir/maps.log" 2>&1
rc=$?
if [ "$rc" -eq 1 ]; then ok "corrupt maps: exit status 1"; else bad "corrupt maps: exit status $rc, expected 1"; cat "$tmpdir/maps.log"; fi
if grep -Eq '"image_missing":[[:space:]]*[1-9]' "$tmpdir/maps/result.json" 2>/dev/null; then
    ok "corrupt maps: image_missing reported in result.json"
else bad "corrupt maps: no image_missing in result.json"; fi
if grep -q '"error":.*image check: the saved image does not load: checkpoint maps: checksum mismatch' "$tmpdir/maps/result.json" 2>/dev/null; then
    ok "corrupt maps: the record's error gives the decoder's reason"
else bad "corrupt maps: the decoder's reason is not in the record"; grep '"error"' "$tmpdir/maps/result.json"; fi
if command -v timeout > /dev/null 2>&1; then limit="timeout 300"; else limit=""; fi
$limit "$VMSIM" run --no-plot -o "$tmpdir/maps-restore" "$d/corrupt-maps-restore.json" > "$tmpdir/maps-restore.log" 2>&1
rc=$?
if [ "$rc" -eq 1 ]; then ok "restore of corrupt maps: exit status 1 (no hang)"; else bad "restore of corrupt maps: exit status $rc, expected 1"; cat "$tmpdir/maps-restore.log"; fi
for p in eager lazy sblock; do
    if grep -q "\"error\":.*restore failed: '$p' restore: maps: checkpoint maps: checksum mismatch" "$tmpdir/maps-restore/result.json" 2>/dev/null; then
        ok "restore of corrupt maps: $p fails with the decoder's reason"
    else bad "restore of corrupt maps: $p does not give the decoder's reason"; fi
done
mutant="${VMSIM_IGNORE_STUN:-$(dirname "$VMSIM")/tests/vmsim-test-ignore-stun}"
"$mutant" run --no-plot -o "$tmpdir/stun" "$d/ignore-stun.json" > "$tmpdir/stun.log" 2>&1
rc=$?
if [ "$rc" -eq 1 ]; then ok "vCPU ignoring stuns: exit status 1"; else bad "vCPU ignoring stuns: exit status $rc, expected 1"; cat "$tmpdir/stun.log"; fi
if grep -Eq '"stunned_guest_accesses":[[:space:]]*[1-9]' "$tmpdir/stun/result.json" 2>/dev/null; then
    ok "vCPU ignoring stuns: stunned_guest_accesses reported in result.json"
else bad "vCPU ignoring stuns: no stunned_guest_accesses in result.json"; fi
if grep -Eq '"image_mismatch":[[:space:]]*[1-9]' "$tmpdir/stun/result.json" 2>/dev/null; then
    bad "vCPU ignoring stuns: an image check failed too (the config should fail the stun check only)"
else ok "vCPU ignoring stuns: the stun check is the one that failed"; fi
# with four vCPUs: the stun stops every one of them, so any that runs on is seen
"$mutant" run --no-plot --set vm.vcpus=4 -o "$tmpdir/stun4" "$d/ignore-stun.json" > "$tmpdir/stun4.log" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -Eq '"stunned_guest_accesses":[[:space:]]*[1-9]' "$tmpdir/stun4/result.json" 2>/dev/null; then
    ok "four vCPUs ignoring stuns: exit status 1, stunned_guest_accesses reported"
else bad "four vCPUs ignoring stuns: exit status $rc"; cat "$tmpdir/stun4.log"; fi
"$VMSIM" run --no-plot --set vm.vcpus=4 -o "$tmpdir/stun4-ok" "$d/ignore-stun.json" > "$tmpdir/stun4-ok.log" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then ok "four vCPUs honouring stuns: exits 0"; else bad "four vCPUs honouring stuns: exit status $rc"; cat "$tmpdir/stun4-ok.log"; fi
"$VMSIM" run --no-plot -o "$tmpdir/stun-ok" "$d/ignore-stun.json" > "$tmpdir/stun-ok.log" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then ok "vCPU honouring stuns: same config exits 0"; else bad "vCPU honouring stuns: exit status $rc"; cat "$tmpdir/stun-ok.log"; fi
"$VMSIM" run --no-plot -o "$tmpdir/faults" "$d/disk-faults.json" > "$tmpdir/faults.log" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then ok "disk faults: clean failure exits 0"; else bad "disk faults: exit status $rc"; cat "$tmpdir/faults.log"; fi
if grep -Eq '"save_failed":[[:space:]]*1' "$tmpdir/faults/result.json" 2>/dev/null; then ok "disk faults: save_failed counted"
else bad "disk faults: save_failed not counted"; fi
if grep -Eq '"failed_save_left_image":[[:space:]]*[1-9]' "$tmpdir/faults/result.json" 2>/dev/null; then
    bad "disk faults: a failed save left a valid image"
else ok "disk faults: no image claimed valid"; fi
# O_DIRECT: the error reaches the policy's own write, not the fdatasync
"$VMSIM" run --no-plot --set save.cache=direct -o "$tmpdir/faults-direct" "$d/disk-faults.json" > "$tmpdir/faults-direct.log" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ "$(grep -Ec '"save_failed":[[:space:]]*1' "$tmpdir/faults-direct/result.json" 2>/dev/null)" -eq 4 ] &&
   ! grep -Eq '"failed_save_left_image":[[:space:]]*[1-9]' "$tmpdir/faults-direct/result.json"; then
    ok "disk faults, O_DIRECT: every save fails cleanly, no image claimed valid"
else bad "disk faults, O_DIRECT: exit status $rc"; cat "$tmpdir/faults-direct.log"; fi
"$VMSIM" run --no-plot -o "$tmpdir/early" "$d/restore-fails-early.json" > "$tmpdir/early.log" 2>&1
rc=$?
if [ "$rc" -eq 1 ]; then ok "restore failing early: exit status 1"; else bad "restore failing early: exit status $rc, expected 1"; cat "$tmpdir/early.log"; fi
if grep -q '"error":.*restore failed: .sblock. restore: needs a storage-block image' "$tmpdir/early/result.json" 2>/dev/null; then
    ok "restore failing early: the record gives the policy's reason"
else bad "restore failing early: no reason in the record"; grep '"error"' "$tmpdir/early/result.json"; fi
if grep -q 'crashed' "$tmpdir/early/result.json" 2>/dev/null; then
    bad "restore failing early: a run point crashed"
else ok "restore failing early: no run point crashed"; fi
finish
