#!/bin/sh
# bad_input.sh - every kind of bad input to vmsim run / validate / check
# exits with status 2 and one line "vmsim: FILE: $.path: ..." (or the
# option at fault) on stderr, and `run` leaves no output directory behind.
# The bad configs are in tests/e2e/bad/; base.json there is a valid one
# that the command-line cases break.
. "$(dirname "$0")/lib.sh"
bad_dir="$VMSIM_SRCDIR/tests/e2e/bad"
base="$bad_dir/base.json"
n=0

# expect_bad DESCRIPTION EXPECTED-SUBSTRING vmsim-args...
# Runs vmsim in a fresh working directory (so a default out/NAME would land
# there) and checks: status 2, exactly one stderr line, starting "vmsim: "
# and containing the substring, and no output directory.
expect_bad() {
    desc=$1 want=$2
    shift 2
    n=$((n + 1))
    cwd="$tmpdir/cwd-$n"
    mkdir -p "$cwd"
    (cd "$cwd" && "$VMSIM" "$@" > "$tmpdir/out-$n.txt" 2> "$tmpdir/err-$n.txt")
    rc=$?
    lines=$(wc -l < "$tmpdir/err-$n.txt")
    first=$(head -n 1 "$tmpdir/err-$n.txt")
    if [ "$rc" -ne 2 ]; then
        bad "$desc: exit status $rc, expected 2"; cat "$tmpdir/err-$n.txt"; return
    fi
    if [ "$lines" -ne 1 ]; then
        bad "$desc: $lines lines on stderr, expected 1"; cat "$tmpdir/err-$n.txt"; return
    fi
    case $first in
    "vmsim: "*) ;;
    *) bad "$desc: message does not start with 'vmsim: ': $first"; return ;;
    esac
    case $first in
    *"$want"*) ;;
    *) bad "$desc: message '$first' does not contain '$want'"; return ;;
    esac
    if [ -e "$cwd/out" ] || [ -e "$tmpdir/run-out" ]; then
        bad "$desc: an output directory was created"; return
    fi
    ok "$desc"
}

# every bad config: run and validate, located at its JSON path (or line:col)
for spec in \
    "malformed.json|malformed.json:4:3: malformed JSON: expected ',' or '}', got '\"'" \
    "unknown-key.json|unknown-key.json: \$.vm: unknown key 'fragmentaton' (did you mean 'fragmentation'?)" \
    "wrong-type.json|wrong-type.json: \$.seed: expected integer" \
    "bad-unit.json|bad-unit.json: \$.vm.memory: expected size like \"8GiB\", got \"8 gigs\"" \
    "out-of-range.json|out-of-range.json: \$.variants[0].params.block_pages: expected integer 1..4096, got 0" \
    "unknown-policy.json|unknown-policy.json: \$.variants[0].policy: unknown policy 'bufferd' (known: " \
    "unknown-param.json|unknown-param.json: \$.variants[0].params: unknown key 'blok_pages' (did you mean 'block_pages'?)" \
    "missing-file.json|missing-file.json: \$.platform: expected a readable file, got \"no-such-platform.xml\"" \
    "missing-trace.json|missing-trace.json: \$.workload.file: expected a readable file" \
    "missing-key.json|missing-key.json: \$: missing required key 'workload'" \
    "duplicate-variant.json|duplicate-variant.json: \$.variants[1].name: duplicate variant name 'a'" \
    "unknown-metric.json|unknown-metric.json: \$.metrics[0].name: unknown metric 'completion_ms' (did you mean 'completion_ns'?)" \
    "bad-sweep-path.json|bad-sweep-path.json: \$.sweep[0].path: unknown key 'memroy' in 'vm.memroy'" \
    "bad-sweep-value.json|bad-sweep-value.json: \$.sweep[0].values[1]: expected size like \"8GiB\"" \
    ; do
    file=${spec%%|*}
    want=${spec#*|}
    expect_bad "run $file" "$want" run --no-plot -o "$tmpdir/run-out" "$bad_dir/$file"
    expect_bad "validate $file" "$want" validate "$bad_dir/$file"
done

# bad command-line arguments around a valid config
expect_bad "--set on an unknown key" \
    "base.json: --set vm.memroy: unknown key 'memroy' in 'vm.memroy' (did you mean 'memory'?)" \
    run --no-plot -o "$tmpdir/run-out" --set vm.memroy=2GiB "$base"
expect_bad "--set with a bad value" "base.json: --set variants[1].params.block_pages: expected integer 1..4096" \
    run --no-plot -o "$tmpdir/run-out" --set 'variants[1].params.block_pages=many' "$base"
expect_bad "--set without =" "vmsim: --set: expected path=value, got 'vm.memory'" \
    run --no-plot -o "$tmpdir/run-out" --set vm.memory "$base"
expect_bad "--seed not a number" "vmsim: --seed: expected integer >= 0, got 'x'" \
    run --no-plot -o "$tmpdir/run-out" --seed x "$base"
expect_bad "--seed negative" "vmsim: --seed: expected integer >= 0, got '-1'" \
    run --no-plot -o "$tmpdir/run-out" --seed=-1 "$base"
expect_bad "-j 0" "vmsim: -j: expected integer 1..4096, got '0'" \
    run --no-plot -o "$tmpdir/run-out" -j 0 "$base"
expect_bad "unknown option" "vmsim: run: unknown option '--fast'" \
    run --fast "$base"
expect_bad "run without a config" "vmsim: run: expected EXPERIMENT.json, got nothing" run
expect_bad "missing config file" "no-such.json: cannot read: No such file or directory" \
    run --no-plot "$tmpdir/no-such.json"
: > "$tmpdir/a-file"
expect_bad "output under a file" "cannot create directory" \
    run --no-plot -o "$tmpdir/a-file/out" "$base"
expect_bad "unknown command" "vmsim: unknown command 'rnu'" rnu "$base"

# check: bad result files
expect_bad "check a malformed result" "malformed.json:4:3: malformed JSON" \
    check "$bad_dir/malformed.json" "$bad_dir/malformed.json"
expect_bad "check a file that is not a result" \
    "not-a-result.json: \$.records: expected array of records, got nothing" \
    check "$bad_dir/not-a-result.json" "$bad_dir/not-a-result.json"
expect_bad "check a missing result" "no-such-result.json: cannot read: No such file or directory" \
    check "$tmpdir/no-such-result.json" "$bad_dir/not-a-result.json"
expect_bad "check with one argument" "vmsim: check: expected RESULT.json BASELINE.json, got 1 argument" \
    check "$bad_dir/not-a-result.json"

# the valid base config validates (the cases above failed for their own reason)
if "$VMSIM" validate "$base" > "$tmpdir/valid.txt" 2>&1 && grep -q ': ok (2 run points)' "$tmpdir/valid.txt"; then
    ok "base config validates"
else
    bad "base config does not validate"; cat "$tmpdir/valid.txt"
fi
finish
