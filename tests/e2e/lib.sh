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
# result.json without its host block (wall-clock figures), which comes last
strip_host() { sed '/"host":/,$d' "$1"; }
