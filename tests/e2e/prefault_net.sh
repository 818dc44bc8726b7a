#!/bin/sh
# prefault_net.sh - post-copy under network faults (sim_pf_net.c), on
# pf-postcopy-net.json:
#   loss  5% of the messages lost: TCP retransmits them (retransmissions
#         > 0) and every page still arrives with its content
#         (content_checked > 0, content_mismatch 0);
#   cut   a partition of the link over [0, 1 s) with postcopy.recover
#         0.5 s: the faulting vCPU stays blocked until the resume, so the
#         pass takes at least 1.5 s (paused_ns 1.5 s, net_stall_ns >= 1.4 s);
#   delay    10 ms more per message for 1 s: net_stall_ns about 1 s, no
#            retransmission;
#   backoff  every message of the first second lost: the first request goes
#            at 0, 0.2, 0.6 and 1.4 s (3 retransmissions, the timeout
#            doubling; without it the pass would end before 1.4 s);
#   ride     a 0.5 s partition with pause_after 1 s: TCP retransmits
#            through it (0.2 s, 0.6 s), no pause;
#   seg      5% of the TCP segments lost: more retransmissions than at
#            'loss' (a page's message is 3 segments), content intact.
# The checks can fail: tests/vmsim-test-pf-mutant with
#   garble-late  (pages that came late arrive with other content) fails the
#                run with content_mismatch;
#   no-pause     (partitions ignored) ends the cut point's pass before 1.5 s.
. "$(dirname "$0")/lib.sh"
d="$VMSIM_SRCDIR/tests/e2e"
mutant="${VMSIM_PF_MUTANT_BIN:-$(dirname "$VMSIM")/tests/vmsim-test-pf-mutant}"
# rec DIR ID: the record of run point ID, on one line
rec() { tr -d '\n\t ' < "$1/result.json" | sed 's/{"id"/\
{"id"/g' | grep "^{\"id\":\"$2\""; }
# num DIR ID NAME: the number NAME of that record (integer part)
num() { rec "$1" "$2" | grep -o "\"$3\":[0-9.e+]*" | head -n 1 | cut -d: -f2 |
        awk '{ printf "%.0f\n", $1 }'; }

"$VMSIM" run --no-plot -o "$tmpdir/ok" "$d/pf-postcopy-net.json" > "$tmpdir/ok.log" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then ok "correct driver: exit status 0"; else bad "correct driver: exit status $rc"; cat "$tmpdir/ok.log"; fi
L=gva-4/net=loss C=gva-4/net=cut
v=$(num "$tmpdir/ok" $L retransmissions)
if [ "${v:-0}" -gt 0 ]; then ok "loss: $v retransmissions"; else bad "loss: no retransmission"; fi
v=$(num "$tmpdir/ok" $L content_checked)
if [ "${v:-0}" -gt 0 ]; then ok "loss: $v pages checked"; else bad "loss: no page checked"; fi
v=$(num "$tmpdir/ok" $L content_mismatch)
if [ "$v" = 0 ]; then ok "loss: retransmitted pages hold their content"; else bad "loss: content_mismatch ${v:-missing}"; fi
v=$(num "$tmpdir/ok" $C completion_ns)
if [ "${v:-0}" -ge 1500000000 ]; then ok "cut: the pass waits for the resume ($v ns)"
else bad "cut: the pass ended at ${v:-?} ns, before the resume at 1.5 s"; fi
v=$(num "$tmpdir/ok" $C paused_ns)
if [ "$v" = 1500000000 ]; then ok "cut: paused 1.5 s"; else bad "cut: paused_ns ${v:-missing}, expected 1500000000"; fi
v=$(num "$tmpdir/ok" $C net_stall_ns)
if [ "${v:-0}" -ge 1400000000 ]; then ok "cut: $v ns of stall put on the partition"
else bad "cut: net_stall_ns ${v:-missing}, expected >= 1.4 s"; fi
D=gva-4/net=delay B=gva-4/net=backoff R=gva-4/net=ride
v=$(num "$tmpdir/ok" $D net_stall_ns) w=$(num "$tmpdir/ok" $D retransmissions)
if [ "${v:-0}" -ge 900000000 ] && [ "${v:-0}" -le 1100000000 ] && [ "$w" = 0 ]; then
    ok "delay: $v ns of stall put on the delay, no retransmission"
else bad "delay: net_stall_ns ${v:-missing}, retransmissions ${w:-missing}"; fi
v=$(num "$tmpdir/ok" $B completion_ns) w=$(num "$tmpdir/ok" $B retransmissions)
if [ "${v:-0}" -ge 1400000000 ] && [ "$w" = 3 ]; then ok "backoff: 3 retransmissions, the pass ends at $v ns"
else bad "backoff: completion ${v:-missing} ns, retransmissions ${w:-missing} (expected >= 1.4 s, 3)"; fi
v=$(num "$tmpdir/ok" $R paused_ns) w=$(num "$tmpdir/ok" $R retransmissions)
if [ "$v" = 0 ] && [ "${w:-0}" -gt 0 ]; then ok "ride: no pause, $w retransmissions"
else bad "ride: paused_ns ${v:-missing}, retransmissions ${w:-missing}"; fi
S=gva-4/net=seg
v=$(num "$tmpdir/ok" $S retransmissions) w=$(num "$tmpdir/ok" $L retransmissions)
x=$(num "$tmpdir/ok" $S content_mismatch)
if [ "${v:-0}" -gt "${w:-0}" ] && [ "$x" = 0 ]; then ok "seg: $v retransmissions (loss per message: $w), content intact"
else bad "seg: retransmissions ${v:-missing} (per message ${w:-missing}), content_mismatch ${x:-missing}"; fi

VMSIM_PF_MUTANT=garble-late "$mutant" run --no-plot -o "$tmpdir/gl" "$d/pf-postcopy-net.json" \
    > "$tmpdir/gl.log" 2>&1
rc=$?
if [ "$rc" -eq 1 ]; then ok "garble-late: exit status 1"; else bad "garble-late: exit status $rc, expected 1"; cat "$tmpdir/gl.log"; fi
v=$(num "$tmpdir/gl" $L content_mismatch)
if [ "${v:-0}" -gt 0 ]; then ok "garble-late: content_mismatch $v"; else bad "garble-late: no content_mismatch"; fi
VMSIM_PF_MUTANT=no-pause "$mutant" run --no-plot -o "$tmpdir/np" "$d/pf-postcopy-net.json" \
    > "$tmpdir/np.log" 2>&1
v=$(num "$tmpdir/np" $C completion_ns)
if [ -n "$v" ] && [ "$v" -lt 1500000000 ]; then ok "no-pause: the cut check sees it ($v ns < 1.5 s)"
else bad "no-pause: completion ${v:-missing}, the cut check would not fail"; cat "$tmpdir/np.log"; fi
finish
