#!/bin/sh
# plot_names.sh - an experiment's figures come from plots/NAME.gp (and
# plots/NAME.*.gp), never from another experiment's script whose name
# starts with NAME: prefault-postcopy must not run
# prefault-postcopy-faults.gp on its own CSV (the figure is drawn, the
# other is not, and gnuplot reports no error).  Skipped without gnuplot.
. "$(dirname "$0")/lib.sh"
if ! command -v gnuplot > /dev/null 2>&1 && [ -z "${GNUPLOT:-}" ]; then
    echo "SKIP: gnuplot not installed"; exit 77
fi
exp="$VMSIM_SRCDIR/workloads/experiments/prefault-postcopy.json"
if "$VMSIM" run --quick -j 2 -o "$tmpdir/pc" "$exp" > "$tmpdir/log" 2>&1; then
    ok "prefault-postcopy ran with its plots"
else
    bad "prefault-postcopy failed"; cat "$tmpdir/log"
fi
if [ -s "$tmpdir/pc/prefault-postcopy.png" ] && [ -s "$tmpdir/pc/prefault-postcopy.svg" ]; then
    ok "its own figure is drawn (PNG and SVG)"
else
    bad "no prefault-postcopy.png/.svg"; ls "$tmpdir/pc"
fi
if ls "$tmpdir/pc" | grep -q "prefault-postcopy-faults"; then
    bad "another experiment's script ran on it"; ls "$tmpdir/pc"
else
    ok "prefault-postcopy-faults.gp is not run for prefault-postcopy"
fi
if grep -q "gnuplot exited" "$tmpdir/log"; then bad "gnuplot failed"; cat "$tmpdir/log"
else ok "gnuplot reported no error"; fi
finish
