#!/bin/sh
# calibrate.sh - `vmsim calibrate` end to end: a quick calibration writes a
# costs file that a checkpoint experiment then takes ("costs": FILE), the
# shipped calibration gives exactly the default costs, and an interrupted
# calibration leaves no file behind.  No figure is compared with a limit:
# only that the run works and the file has its shape.
. "$(dirname "$0")/lib.sh"
base="$VMSIM_SRCDIR/tests/e2e/bad/base.json"
shipped="$VMSIM_SRCDIR/workloads/costs/calibration.json"

# 1. a quick calibration: exit 0, a table, a costs file with provenance
if "$VMSIM" calibrate --quick -o "$tmpdir/costs.json" > "$tmpdir/cal.txt" 2> "$tmpdir/cal.err"; then
    ok "calibrate --quick -o exits 0"
else
    bad "calibrate --quick failed"; cat "$tmpdir/cal.err"; finish; exit 1
fi
for key in '"format":	"vmsim-costs/1"' '"cpu_model":' '"kernel":' '"date":' '"cores":' \
    '"wp_fault_method":' '"page_copy_ns":' '"zero_scan_ns":' '"wp_fault_ns":' \
    '"page_install_ns":' '"wp_unprotect_method":' '"wp_unprotect_ns":' '"small_write_ns":' \
    '"zero_scan_method":' '"anon_fault_method":	"anon-first-write"' '"anon_fault_ns":' \
    '"level_1":' '"level_3":' '"mix":' '"quick":	true' '"crypto":' '"openssl_version":' \
    '"sha256_64_ns":' '"ed25519_verify_ns":' '"policy_lookup_ns":'; do
    if grep -qF "$key" "$tmpdir/costs.json"; then ok "costs file has $key"
    else bad "costs file lacks $key"; fi
done
if grep -q 'page_copy_ns' "$tmpdir/cal.txt" && grep -q "wrote $tmpdir/costs.json" "$tmpdir/cal.txt"; then
    ok "calibrate prints its table"
else
    bad "calibrate printed no table"; cat "$tmpdir/cal.txt"
fi
if ls -a "$tmpdir" | grep -q '\.tmp\.'; then bad "calibrate left a temporary file"
else ok "no temporary file left"; fi

# 1b. --only crypto (re)places the crypto figures of an existing file and
# changes nothing else: every line before "crypto" (the provenance and the
# other figures) stays as it was
cp "$shipped" "$tmpdir/merged.json"
if "$VMSIM" calibrate --only crypto --quick -o "$tmpdir/merged.json" > "$tmpdir/only.txt" 2>&1 &&
   grep -q '"ed25519_sign_ns":' "$tmpdir/merged.json"; then
    ok "calibrate --only crypto -o adds the crypto figures"
else
    bad "calibrate --only crypto -o failed"; cat "$tmpdir/only.txt"
fi
tab=$(printf '\t')
sed -n "1,/^$tab\"crypto\":/p" "$shipped" > "$tmpdir/head-shipped"
sed -n "1,/^$tab\"crypto\":/p" "$tmpdir/merged.json" > "$tmpdir/head-merged"
if cmp -s "$tmpdir/head-shipped" "$tmpdir/head-merged" &&
   [ "$(wc -l < "$tmpdir/head-merged")" -gt 40 ]; then
    ok "--only crypto leaves the lines before \"crypto\" (the other figures) as they were"
else
    bad "--only crypto changed other lines"; diff "$tmpdir/head-shipped" "$tmpdir/head-merged" | head
fi
if "$VMSIM" calibrate --only crypto -o "$tmpdir/none.json" > /dev/null 2>&1; then
    bad "--only crypto -o on a missing file succeeded"
elif [ $? -eq 2 ] && [ ! -e "$tmpdir/none.json" ]; then
    ok "--only crypto on a missing file: exit 2, nothing written"
else
    bad "--only crypto on a missing file: wrong status or a file left"
fi

# 2. an experiment takes it, by string and by "file" with an inline value
if "$VMSIM" run --quick --no-plot -o "$tmpdir/run-file" --set "costs=$tmpdir/costs.json" "$base" \
       > "$tmpdir/run-file.txt" 2>&1; then
    ok "run with \"costs\": FILE"
else
    bad "run with a calibrated costs file failed"; cat "$tmpdir/run-file.txt"
fi
if "$VMSIM" run --quick --no-plot -o "$tmpdir/run-obj" \
       --set "costs={\"file\": \"$tmpdir/costs.json\", \"trace_fault\": \"1us\"}" "$base" \
       > "$tmpdir/run-obj.txt" 2>&1; then
    ok "run with \"costs\": {file, inline}"
else
    bad "run with costs.file and an inline value failed"; cat "$tmpdir/run-obj.txt"
fi

# 3. the defaults are the shipped calibration: same records, byte for byte
"$VMSIM" run --quick --no-plot -o "$tmpdir/def" "$base" > /dev/null 2>&1
"$VMSIM" run --quick --no-plot -o "$tmpdir/shipped" --set "costs=$shipped" "$base" > /dev/null 2>&1
if [ -s "$tmpdir/def/bad-input-base.csv" ] &&
   cmp -s "$tmpdir/def/bad-input-base.csv" "$tmpdir/shipped/bad-input-base.csv"; then
    ok "default costs = workloads/costs/calibration.json (identical CSV)"
else
    bad "the default costs differ from the shipped calibration"
    diff "$tmpdir/def/bad-input-base.csv" "$tmpdir/shipped/bad-input-base.csv" | head
fi

# 4. interrupted (SIGTERM: a background job of a script ignores SIGINT): nothing left
mkdir -p "$tmpdir/int"
"$VMSIM" calibrate -o "$tmpdir/int/costs.json" > /dev/null 2>&1 &
pid=$!
sleep 1
kill -TERM "$pid" 2> /dev/null
wait "$pid"
rc=$?
if [ "$rc" -eq 0 ]; then
    ok "calibration finished before the signal (nothing to check)"
elif [ -n "$(ls -A "$tmpdir/int")" ]; then
    bad "an interrupted calibration left: $(ls -A "$tmpdir/int")"
else
    ok "an interrupted calibration leaves no file (status $rc)"
fi
finish
