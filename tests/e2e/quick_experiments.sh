#!/bin/sh
# quick_experiments.sh - run every experiment's --quick form and compare
# it with its committed baseline (results/baselines/NAME.json) using
# `vmsim check`: a regression, a missing record or a violated invariant
# fails the test.
. "$(dirname "$0")/lib.sh"
for exp in "$VMSIM_SRCDIR"/workloads/experiments/*.json; do
    name=$(basename "$exp" .json)
    base="$VMSIM_SRCDIR/results/baselines/$name.json"
    if ! "$VMSIM" run --quick --no-plot -j 2 -o "$tmpdir/$name" "$exp" > "$tmpdir/$name.log" 2>&1; then
        bad "$name: vmsim run failed"; cat "$tmpdir/$name.log"; continue
    fi
    if [ ! -f "$base" ]; then
        bad "$name: no baseline $base (make rebaseline)"; continue
    fi
    if "$VMSIM" check "$tmpdir/$name/result.json" "$base" > "$tmpdir/$name.check" 2>&1; then
        ok "$name: matches its baseline"
    else
        bad "$name: regressed against $base"; cat "$tmpdir/$name.check"
    fi
done
finish
