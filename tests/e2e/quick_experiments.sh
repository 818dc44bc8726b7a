#!/bin/sh
# quick_experiments.sh - run every experiment's --quick form and compare
# it with its committed baseline (results/baselines/NAME.json):
#  - `vmsim check` (within each metric's tolerance): a regression, a
#    missing record or a violated invariant fails the test;
#  - exactly, byte for byte, where the baseline has its CSV too
#    (results/baselines/NAME.csv): result.json outside the "host" block
#    (wall-clock figures) and the "config_file" line (the path the run was
#    given), and the CSV.  Same config, seed and build give the same
#    bytes, so any change to a model shows here; `make rebaseline`
#    refreshes both files deliberately.
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
    csv="$VMSIM_SRCDIR/results/baselines/$name.csv"
    [ -f "$csv" ] || continue
    strip_host "$tmpdir/$name/result.json" | grep -v '^	"config_file":' > "$tmpdir/$name.got"
    strip_host "$base" | grep -v '^	"config_file":' > "$tmpdir/$name.want"
    if cmp -s "$tmpdir/$name.got" "$tmpdir/$name.want"; then
        ok "$name: result.json byte-identical to its baseline"
    else
        bad "$name: result.json differs from $base"
        diff "$tmpdir/$name.want" "$tmpdir/$name.got" | head -20
    fi
    if cmp -s "$tmpdir/$name/$name.csv" "$csv"; then
        ok "$name: CSV byte-identical to its baseline"
    else
        bad "$name: CSV differs from $csv"; diff "$csv" "$tmpdir/$name/$name.csv" | head -10
    fi
done
finish
