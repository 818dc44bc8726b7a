#!/bin/sh
# determinism.sh - the same config, seed and build give a byte-identical
# result.json outside the host block, whatever -j is; a different seed
# gives a different result.
. "$(dirname "$0")/lib.sh"
exp="$VMSIM_SRCDIR/workloads/experiments/checkpoint-compare.json"
run() { "$VMSIM" run --quick --no-plot "$@" "$exp" > /dev/null 2>&1; }
if run -j 1 -o "$tmpdir/a" && run -j 2 -o "$tmpdir/b" && run -j 1 --seed 7 -o "$tmpdir/c"; then
    ok "three runs completed"
else
    bad "a run failed"; finish; exit 1
fi
strip_host "$tmpdir/a/result.json" > "$tmpdir/a.json"
strip_host "$tmpdir/b/result.json" > "$tmpdir/b.json"
strip_host "$tmpdir/c/result.json" > "$tmpdir/c.json"
if cmp -s "$tmpdir/a.json" "$tmpdir/b.json"; then ok "same seed: identical result.json (-j 1 vs -j 2)"
else bad "same seed: result.json differs"; diff "$tmpdir/a.json" "$tmpdir/b.json" | head -20; fi
if cmp -s "$tmpdir/a/checkpoint-compare.csv" "$tmpdir/b/checkpoint-compare.csv"; then ok "same seed: identical CSV"
else bad "same seed: CSV differs"; fi
if cmp -s "$tmpdir/a.json" "$tmpdir/c.json"; then bad "seed 7 gave the same result as seed 1"
else ok "different seed: different result"; fi
if grep -q '"host"' "$tmpdir/a/result.json"; then ok "host block present"; else bad "no host block"; fi
finish
