# lib.sh - shared helpers for vmsim's end-to-end tests (sourced).
# Each test script counts its cases and ends with "N passed, M failed".
: "${VMSIM:?VMSIM must name the vmsim binary}"
: "${VMSIM_SRCDIR:?VMSIM_SRCDIR must name the source tree}"
pass=0
failed=0
ok() { pass=$((pass + 1)); echo "PASS: $*"; }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
finish() {
    echo "$pass passed, $failed failed"
    [ "$failed" -eq 0 ]
}
tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/vmsim-e2e.XXXXXX")
trap 'rm -rf "$tmpdir"' EXIT
# After refused runs that wrote to $tmpdir/run-out and used $tmpdir/tmp and
# $tmpdir/cwd-* (as expect_both does): nothing written, no file left.
expect_nothing_left() {
    if [ -e "$tmpdir/run-out" ]; then
        bad "a refused run left its output directory"
    else
        ok "a refused run writes nothing"
    fi
    left=$(find "$tmpdir/tmp" "$tmpdir"/cwd-* -type f 2>/dev/null)
    if [ -n "$left" ]; then
        bad "a refused run left files behind: $left"
    else
        ok "a refused run leaves no temp file"
    fi
}
# result.json without its host block (wall-clock figures), which comes last
strip_host() { sed "/^$(printf '\t')\"host\":$(printf '\t'){/,\$d" "$1"; }

# expect_bad DESCRIPTION EXPECTED-SUBSTRING vmsim-args...
# Runs vmsim in a fresh working directory (so a default out/NAME would land
# there) and checks: status 2, exactly one stderr line, starting "vmsim: "
# and containing the substring, and no output directory.  Uses $n (the
# case counter, start it at 0) and $tmpdir.
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
