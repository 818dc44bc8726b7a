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
"$VMSIM" run --no-plot -o "$tmpdir/early" "$d/restore-fails-early.json" > "$tmpdir/early.log" 2>&1
rc=$?
if [ "$rc" -eq 1 ]; then ok "restore failing early: exit status 1"; else bad "restore failing early: exit status $rc, expected 1"; cat "$tmpdir/early.log"; fi
if grep -q '"error":.*restore failed' "$tmpdir/early/result.json" 2>/dev/null; then
    ok "restore failing early: the record says the restore failed"
else bad "restore failing early: no restore failure in the record"; grep '"error"' "$tmpdir/early/result.json"; fi
if grep -q 'crashed' "$tmpdir/early/result.json" 2>/dev/null; then
    bad "restore failing early: a run point crashed"
else ok "restore failing early: no run point crashed"; fi
finish
