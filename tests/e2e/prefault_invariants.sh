#!/bin/sh
# prefault_invariants.sh - the prefault driver's invariant checkers can
# fail: pf-swap-mutant.json passes with vmsim, and each mutation of
# tests/vmsim-test-pf-mutant must fail it with exit status 1 and the
# violation its checker counts -
#   skip-install   fetched pages made present without their content
#                  (content_mismatch: a page used before it holds its content);
#   break-evictor  the clock evictor ignores the prefetch protection
#                  (evict_unused_prefetch: a prefetch evicted an unused prefetch);
# each with reclaim memcg and with reclaim kswapd (whose evictions the
# same checks audit; the correct driver's counts say who reclaimed: no
# kswapd eviction or write under memcg, kswapd evictions and between 1 and
# one write I/O per evicted page under kswapd); pf-walk-mutant.json (resume: every page-table frame
# starts absent) passes with vmsim and fails with the mutation
#   walk-skips-table  the fault handler lets the vCPU's walk read an absent
#                  table frame (content_mismatch: a table used before it
#                  holds its content);
# and pf-broken-policies.json fails with the deliberately broken policies
# (fetch_present: a policy asked for a resident page; content_mismatch: a
# page made present without its content), fault-only passing beside them.
. "$(dirname "$0")/lib.sh"
d="$VMSIM_SRCDIR/tests/e2e"
mutant="${VMSIM_PF_MUTANT_BIN:-$(dirname "$VMSIM")/tests/vmsim-test-pf-mutant}"
# each reclaim: memcg (the faults evict), kswapd (its own evictions too)
for rc_mode in memcg kswapd; do
set -- --set swap.reclaim=$rc_mode
"$VMSIM" run --no-plot -o "$tmpdir/ok" "$@" "$d/pf-swap-mutant.json" > "$tmpdir/ok.log" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then ok "$rc_mode: correct driver: exit status 0"; else bad "$rc_mode: correct driver: exit status $rc"; cat "$tmpdir/ok.log"; fi
for m in skip-install:content_mismatch break-evictor:evict_unused_prefetch; do
    name=${m%%:*} inv=${m#*:}
    VMSIM_PF_MUTANT=$name "$mutant" run --no-plot -o "$tmpdir/$name" "$@" "$d/pf-swap-mutant.json" \
        > "$tmpdir/$name.log" 2>&1
    rc=$?
    if [ "$rc" -eq 1 ]; then ok "$rc_mode: $name: exit status 1"; else bad "$rc_mode: $name: exit status $rc, expected 1"; cat "$tmpdir/$name.log"; fi
    if grep -Eq "\"$inv\":[[:space:]]*[1-9]" "$tmpdir/$name/result.json" 2>/dev/null; then
        ok "$rc_mode: $name: $inv reported in result.json"
    else bad "$rc_mode: $name: no $inv in result.json"; fi
    if grep -Eq "\"$inv\":[[:space:]]*[1-9]" "$tmpdir/ok/result.json" 2>/dev/null; then
        bad "$rc_mode: correct driver: $inv is not 0"
    else ok "$rc_mode: correct driver: no $inv"; fi
    rm -rf "$tmpdir/$name"
done
# who reclaimed: the counts of the correct driver's records (one value per
# record, summed)
sum_of() { grep -Eo "\"$1\":[[:space:]]*[0-9]+" "$tmpdir/ok/result.json" | awk '{ s += $NF } END { print s + 0 }'; }
ke=$(sum_of kswapd_evictions) kw=$(sum_of kswapd_write_ios)
if [ "$rc_mode" = kswapd ]; then
    if [ "$ke" -gt 0 ]; then ok "kswapd: the correct driver's kswapd evicted pages ($ke)"
    else bad "kswapd: no kswapd evictions in the correct driver's run"; fi
    # a batch's dirty pages go out as one I/O per run of slots: some write
    # I/Os (the trace writes), never more than evicted pages
    if [ "$kw" -gt 0 ] && [ "$kw" -le "$ke" ]; then ok "kswapd: $kw write I/Os for $ke evictions"
    else bad "kswapd: $kw write I/Os for $ke evictions"; fi
else
    if [ "$ke" -eq 0 ] && [ "$kw" -eq 0 ]; then ok "memcg: no kswapd activity"
    else bad "memcg: kswapd evicted $ke pages in $kw write I/Os"; fi
fi
rm -rf "$tmpdir/ok"
done
set --
# the walk reads table frames: the correct driver faults them in
"$VMSIM" run --no-plot -o "$tmpdir/walk-ok" "$d/pf-walk-mutant.json" > "$tmpdir/walk-ok.log" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then ok "walk: correct driver: exit status 0"; else bad "walk: correct driver: exit status $rc"; cat "$tmpdir/walk-ok.log"; fi
if grep -Eq '"table_faults":[[:space:]]*[1-9]' "$tmpdir/walk-ok/result.json" 2>/dev/null; then
    ok "walk: correct driver: the walks faulted table frames in"
else bad "walk: correct driver: no table_faults"; fi
if grep -Eq '"content_mismatch":[[:space:]]*[1-9]' "$tmpdir/walk-ok/result.json" 2>/dev/null; then
    bad "walk: correct driver: content_mismatch is not 0"
else ok "walk: correct driver: no content_mismatch"; fi
VMSIM_PF_MUTANT=walk-skips-table "$mutant" run --no-plot -o "$tmpdir/walk-bad" "$d/pf-walk-mutant.json" \
    > "$tmpdir/walk-bad.log" 2>&1
rc=$?
if [ "$rc" -eq 1 ]; then ok "walk-skips-table: exit status 1"; else bad "walk-skips-table: exit status $rc, expected 1"; cat "$tmpdir/walk-bad.log"; fi
if grep -Eq '"content_mismatch":[[:space:]]*[1-9]' "$tmpdir/walk-bad/result.json" 2>/dev/null; then
    ok "walk-skips-table: content_mismatch reported in result.json"
else bad "walk-skips-table: no content_mismatch in result.json"; fi
"$VMSIM" run --no-plot -o "$tmpdir/pol" "$d/pf-broken-policies.json" > "$tmpdir/pol.log" 2>&1
rc=$?
if [ "$rc" -eq 1 ]; then ok "broken policies: exit status 1"; else bad "broken policies: exit status $rc, expected 1"; cat "$tmpdir/pol.log"; fi
# one record per line of interest: the variant's id, then its invariants
rec() { tr -d '\n\t ' < "$tmpdir/pol/result.json" | sed 's/{"id"/\
{"id"/g' | grep "^{\"id\":\"$1\""; }
if rec fetch-resident | grep -Eq '"fetch_present":[1-9]'; then ok "broken-fetch-resident: fetch_present reported"
else bad "broken-fetch-resident: no fetch_present"; fi
if rec present-nofetch | grep -Eq '"content_mismatch":[1-9]'; then ok "broken-present-nofetch: content_mismatch reported"
else bad "broken-present-nofetch: no content_mismatch"; fi
if rec fault-only | grep -q '"violations":0,'; then ok "fault-only beside them: no violation"
else bad "fault-only beside them: a violation"; rec fault-only; fi
finish
