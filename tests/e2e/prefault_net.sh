#!/bin/sh
# prefault_net.sh - post-copy under network faults (sim_pf_net.c), on
# pf-postcopy-net.json (gva-4 on lua, 64 MiB, no push, recover 0.5 s; the
# pass takes 0.32 s without faults):
#   loss     5% of the messages lost whole: TCP resends them (a loss probe
#            10 ms after a lost multi-segment answer, 200 ms for a lone
#            request; then the RTO); every page arrives with its content;
#            the stall is at least 10 ms a probe and 200 ms a timeout;
#   cut      a partition over [0, 1 s) with migrate-pause at once: the
#            faulting vCPU waits for the resume (completion >= 1.5 s,
#            net_stall_ns >= 1.4 s);
#   delay    10 ms more per message for 1 s: net_stall_ns about 1 s, no
#            retransmission;
#   backoff  every message of the first second lost: the first request
#            goes at 0, 0.2 (probe), 0.4, 0.8 and 1.6 s: net_stall_ns
#            1.6 s, 3 timeouts and 1 probe;
#   ride     a 0.5 s partition, no management pause: TCP gets the request
#            through at 0.8 s (net_stall_ns 0.8 s), no pause;
#   seg      5% of the TCP segments lost: SACK/RACK recovers the lost
#            segments a later one follows (fast_retransmits > 0), the tail
#            costs a probe, mostly 10 ms: under 150 ms a timer on average;
#   straddle a partition over [0, 10.5 s) with migrate-pause at 10 s: the
#            retry due at 12.8 s is caught by the pause, and the request is
#            resent at the resume (net_stall_ns 11.0 s, paused_ns 1.0 s);
#   timeout  a partition over [0, 1000 s), no management pause: the socket
#            fails after tcp_retries2 (at 924.8 s), post-copy pauses until
#            the resume at 1000.5 s (paused_ns 75.7 s).
# The checks can fail: tests/vmsim-test-pf-mutant with
#   garble-late    (pages that came late arrive with other content) fails
#                  the run with content_mismatch;
#   no-pause       (partitions ignored) ends the cut point's pass before 1.5 s;
#   no-tlp         (a lost tail waits for the RTO) fails seg's mean cost;
#   pause-at-retry (the pause checked at retry times only) fails straddle;
#   no-fast        (no SACK/RACK recovery) fails seg's fast_retransmits.
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
# range DIR ID NAME LO HI WHAT: LO <= NAME <= HI
range() {
    v=$(num "$1" "$2" "$3")
    if [ -n "$v" ] && [ "$v" -ge "$4" ] && [ "$v" -le "$5" ]; then ok "$6: $3 $v"
    else bad "$6: $3 ${v:-missing}, expected $4..$5"; fi
}
# timers DIR ID: whether the stall is at least 10 ms a probe and 200 ms a
# timeout, and under 150 ms a timer on average (most probes at 10 ms)
timers() {
    s=$(num "$1" "$2" net_stall_ns) p=$(num "$1" "$2" loss_probes) t=$(num "$1" "$2" retransmissions)
    if [ -n "$s" ] && [ "${p:-0}" -gt 0 ] &&
       [ "$s" -ge $(( p * 10000000 + t * 200000000 )) ] &&
       [ "$s" -lt $(( (p + t) * 150000000 )) ]; then
        ok "$2: stall $s ns for $p probes and $t timeouts"
    else bad "$2: stall ${s:-missing} ns for ${p:-?} probes and ${t:-?} timeouts (expected >= 10 ms a probe + 200 ms a timeout, < 150 ms a timer)"; fi
}
L=gva-4/net=loss C=gva-4/net=cut S=gva-4/net=seg X=gva-4/net=straddle
v=$(num "$tmpdir/ok" $L content_checked)
if [ "${v:-0}" -gt 0 ]; then ok "loss: $v pages checked"; else bad "loss: no page checked"; fi
v=$(num "$tmpdir/ok" $L content_mismatch)
if [ "$v" = 0 ]; then ok "loss: resent pages hold their content"; else bad "loss: content_mismatch ${v:-missing}"; fi
s=$(num "$tmpdir/ok" $L net_stall_ns) p=$(num "$tmpdir/ok" $L loss_probes) t=$(num "$tmpdir/ok" $L retransmissions)
if [ -n "$s" ] && [ "${p:-0}" -gt 0 ] && [ "$s" -ge $(( p * 10000000 + t * 200000000 )) ]; then
    ok "loss: stall $s ns for $p probes and $t timeouts"
else bad "loss: stall ${s:-missing} ns for ${p:-?} probes and ${t:-?} timeouts"; fi
v=$(num "$tmpdir/ok" $C completion_ns)
if [ "${v:-0}" -ge 1500000000 ]; then ok "cut: the pass waits for the resume ($v ns)"
else bad "cut: the pass ended at ${v:-?} ns, before the resume at 1.5 s"; fi
range "$tmpdir/ok" $C net_stall_ns 1400000000 1510000000 cut
range "$tmpdir/ok" gva-4/net=delay net_stall_ns 900000000 1100000000 delay
range "$tmpdir/ok" gva-4/net=delay retransmissions 0 0 delay
range "$tmpdir/ok" gva-4/net=backoff net_stall_ns 1600000000 1600000000 backoff
range "$tmpdir/ok" gva-4/net=backoff retransmissions 3 3 backoff
range "$tmpdir/ok" gva-4/net=backoff loss_probes 1 1 backoff
range "$tmpdir/ok" gva-4/net=ride net_stall_ns 800000000 800000000 ride
range "$tmpdir/ok" gva-4/net=ride paused_ns 0 0 ride
range "$tmpdir/ok" $S fast_retransmits 1 1000000 seg
range "$tmpdir/ok" $S content_mismatch 0 0 seg
timers "$tmpdir/ok" $S
range "$tmpdir/ok" $X net_stall_ns 10900000000 11100000000 straddle
range "$tmpdir/ok" $X paused_ns 1000000000 1000000000 straddle
range "$tmpdir/ok" gva-4/net=timeout paused_ns 75600000000 75800000000 timeout
range "$tmpdir/ok" gva-4/net=timeout net_stall_ns 1000400000000 1000600000000 timeout

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
# mutant NAME: the run of the mutant NAME in $tmpdir/NAME
mutant_run() {
    VMSIM_PF_MUTANT=$1 "$mutant" run --no-plot -o "$tmpdir/$1" "$d/pf-postcopy-net.json" \
        > "$tmpdir/$1.log" 2>&1
}
mutant_run no-tlp
s=$(num "$tmpdir/no-tlp" $S net_stall_ns) p=$(num "$tmpdir/no-tlp" $S loss_probes) t=$(num "$tmpdir/no-tlp" $S retransmissions)
if [ -n "$s" ] && [ "$s" -ge $(( (p + t) * 150000000 )) ]; then ok "no-tlp: the seg check sees it ($s ns for $p + $t timers)"
else bad "no-tlp: seg stall ${s:-missing}, the timers check would not fail"; fi
mutant_run pause-at-retry
v=$(num "$tmpdir/pause-at-retry" $X net_stall_ns)
if [ -n "$v" ] && [ "$v" -gt 11100000000 ]; then ok "pause-at-retry: the straddle check sees it ($v ns)"
else bad "pause-at-retry: straddle stall ${v:-missing}, the check would not fail"; fi
mutant_run no-fast
v=$(num "$tmpdir/no-fast" $S fast_retransmits)
if [ "$v" = 0 ]; then ok "no-fast: the seg check sees it (fast_retransmits 0)"
else bad "no-fast: fast_retransmits ${v:-missing}"; fi
finish
