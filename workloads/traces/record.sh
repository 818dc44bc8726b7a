#!/bin/bash
# record.sh - record a trace of a command for vmsim.
#
#   record.sh mem [-t SECONDS] [-p NAME] OUT.pagetrace.gz -- COMMAND [ARG...]
#       memory trace: valgrind --tool=lackey --trace-mem=yes, its output
#       piped (through a fifo) into `vmsim trace reduce`, which applies the
#       reduction rule of README.md and writes a vmsim pagetrace v1 file.
#       -t SECONDS  kill the traced program after this long (default 0 =
#                   no limit); the trace is then the prefix of the run and
#                   says truncated=yes.  Lackey runs programs ~100x slower.
#       -p NAME     program name for the header (default: the command's
#                   basename)
#
#   record.sh io [-n MAXROWS] [-w WORKDIR] [-k] OUT.blocktrace.csv.gz -- COMMAND [ARG...]
#       file-I/O trace: strace -f -y -s 0 -T -ttt of read/write/pread64/
#       pwrite64/lseek/openat/close/fsync/fdatasync, converted by the awk
#       program below into a vmsim blocktrace v1 CSV (gzip -9).
#       -n MAXROWS  keep at most this many rows (default 250000)
#       -w WORKDIR  paths under WORKDIR are written relative to it
#                   (default: the current directory)
#       -k          keep the raw strace output as OUT.strace
#
# The command runs in the current directory; its stdout and stderr are
# left alone.  vmsim is found as $VMSIM, else ../../vmsim next to this
# script (an in-tree build), else on $PATH.  Needs the Debian packages
# valgrind (mem) or strace (io), plus gzip and mawk or gawk.
#
# Blocktrace conversion rules (what the awk program does):
#   timestamp_s  seconds since the first traced call (strace -ttt wall
#                clock, strace overhead included); a call strace split
#                into "<unfinished ...>" and "<... resumed>" gets the
#                resume time
#   op           R: read/pread64 returning > 0; W: write/pwrite64
#                returning > 0; F: fsync/fdatasync returning 0 (offset 0,
#                length 0)
#   offset       pread64/pwrite64: the offset argument; read/write: the
#                position tracked per (fd, path): 0 after openat, the
#                result of lseek, advanced by each transfer (O_APPEND and
#                positions inherited through dup2/fork are not modelled)
#   length       the return value (bytes actually moved)
#   file         the path strace -y printed; only paths starting with '/'
#                and not under /dev/, /proc/, /sys/ (pipes, sockets,
#                terminals are dropped); made relative to WORKDIR when
#                under it; ',' replaced by '_'; " (deleted)" removed.
#                A path containing '>' is not recognised.
set -u -o pipefail
tmp=""

usage() {
    sed -n '3,21p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

die() {
    echo "record.sh: $*" >&2
    exit 2
}

find_vmsim() {
    if [ -n "${VMSIM:-}" ]; then
        echo "$VMSIM"
        return
    fi
    local here
    here=$(cd "$(dirname "$0")" && pwd)
    if [ -x "$here/../../vmsim" ]; then
        echo "$here/../../vmsim"
        return
    fi
    command -v vmsim || die "cannot find vmsim: build it, put it on PATH or set VMSIM"
}

record_mem() {
    local secs=0 prog=""
    while getopts "t:p:" o; do
        case $o in
        t) secs=$OPTARG ;;
        p) prog=$OPTARG ;;
        *) usage ;;
        esac
    done
    shift $((OPTIND - 1))
    if [ $# -lt 3 ] || [ "$2" != "--" ]; then usage; fi
    local out=$1
    shift 2
    [ -n "$prog" ] || prog=$(basename "$1")
    command -v valgrind >/dev/null || die "valgrind not found (apt-get install valgrind)"
    local vmsim
    vmsim=$(find_vmsim) || exit 2

    tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmsim-record.XXXXXX") || exit 2
    trap 'rm -rf "$tmp"' EXIT
    mkfifo "$tmp/lackey" || exit 2
    "$vmsim" trace reduce - -o "$out" --program "$prog" <"$tmp/lackey" &
    local reducer=$!
    timeout -s KILL "$secs" valgrind --tool=lackey --trace-mem=yes --log-fd=9 "$@" 9>"$tmp/lackey"
    local vrc=$?
    wait "$reducer"
    local rrc=$?
    [ $rrc -eq 0 ] || die "vmsim trace reduce failed (status $rrc); nothing written"
    if [ $vrc -eq 137 ] && [ "$secs" != 0 ]; then
        echo "record.sh: time limit of ${secs}s reached: the trace is the prefix of the run (truncated=yes)" >&2
    elif [ $vrc -ne 0 ]; then
        echo "record.sh: the traced command exited with status $vrc" >&2
    fi
    return 0
}

# strace -f -y -s 0 -T -ttt output -> blocktrace CSV rows on stdout
# shellcheck disable=SC2016  # an awk program: no shell expansion wanted
STRACE2CSV='
function key(fd, path) { return fd SUBSEP path }
function keep(path) {
    return substr(path, 1, 1) == "/" && path !~ /^\/(dev|proc|sys)\//
}
function name(path) {
    sub(/ \(deleted\)$/, "", path)
    if (workdir != "" && index(path, workdir "/") == 1)
        path = substr(path, length(workdir) + 2)
    gsub(/,/, "_", path)
    return path
}
function row(op, off, len, path) {
    if (rows >= maxrows) exit 0
    rows++
    us = (sec - sec0) * 1000000 + (usec - usec0)
    printf "%d.%06d,%s,%.0f,%.0f,%s\n", int(us / 1000000), us % 1000000, op, off, len, name(path)
}
BEGIN { print "timestamp_s,op,offset,length,file"; rows = 0; have0 = 0 }
{
    pid = $1; ts = $2
    call = $0
    sub(/^[0-9]+ +[0-9.]+ +/, "", call)
    if (call ~ /^(\+\+\+|---)/) next
    if (call ~ /<unfinished \.\.\.>$/) {
        sub(/ *<unfinished \.\.\.>$/, "", call)
        pending[pid] = call
        next
    }
    if (call ~ /^<\.\.\. [a-z0-9_]+ resumed>/) {
        rest = call
        sub(/^<\.\.\. [a-z0-9_]+ resumed> */, "", rest)
        call = pending[pid] rest
        delete pending[pid]
    }
    split(ts, t, ".")
    sec = t[1] + 0; usec = t[2] + 0
    if (!have0) { sec0 = sec; usec0 = usec; have0 = 1 }
    # syscall name, first fd argument with its path, return value
    sc = call; sub(/\(.*/, "", sc)
    eq = call; if (!sub(/.*\) += /, "", eq)) next
    ret = eq; sub(/[ <].*/, "", ret)
    if (ret !~ /^-?[0-9]+$/) next
    ret += 0
    if (sc == "openat") {
        if (ret < 0) next
        path = eq; if (!sub(/^[0-9]+</, "", path)) next
        sub(/>( <[0-9.]+>)?$/, "", path)
        pos[key(ret, path)] = 0
        next
    }
    args = call; sub(/^[a-z0-9_]+\(/, "", args)
    fd = args; sub(/<.*/, "", fd)
    path = args; sub(/^[0-9]+</, "", path)
    if (sc == "close") {
        sub(/>\).*/, "", path); delete pos[key(fd, path)]; next
    }
    sub(/>, .*/, "", path); sub(/>\).*/, "", path)
    if (!keep(path)) next
    k = key(fd, path)
    if (sc == "lseek") { if (ret >= 0) pos[k] = ret; next }
    if (sc == "read" || sc == "write") {
        if (ret <= 0) next
        off = (k in pos) ? pos[k] : 0
        pos[k] = off + ret
        row(sc == "read" ? "R" : "W", off, ret, path)
        next
    }
    if (sc == "pread64" || sc == "pwrite64") {
        if (ret <= 0) next
        a = call; sub(/\) += .*/, "", a)
        n = split(a, parts, ", ")
        row(sc == "pread64" ? "R" : "W", parts[n] + 0, ret, path)
        next
    }
    if ((sc == "fsync" || sc == "fdatasync") && ret == 0) row("F", 0, 0, path)
}'

record_io() {
    local maxrows=250000 workdir="$PWD" keep=0
    while getopts "n:w:k" o; do
        case $o in
        n) maxrows=$OPTARG ;;
        w) workdir=$OPTARG ;;
        k) keep=1 ;;
        *) usage ;;
        esac
    done
    shift $((OPTIND - 1))
    if [ $# -lt 3 ] || [ "$2" != "--" ]; then usage; fi
    local out=$1
    shift 2
    command -v strace >/dev/null || die "strace not found (apt-get install strace)"
    workdir=$(cd "$workdir" && pwd -P) || die "'$workdir': no such folder"

    tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmsim-record.XXXXXX") || exit 2
    trap 'rm -rf "$tmp"' EXIT
    strace -f -y -s 0 -T -ttt -o "$tmp/raw.strace" \
        -e trace=pread64,pwrite64,read,write,lseek,openat,close,fsync,fdatasync "$@"
    local src=$?
    [ $src -eq 0 ] || echo "record.sh: the traced command exited with status $src" >&2
    if ! awk -v workdir="$workdir" -v maxrows="$maxrows" "$STRACE2CSV" "$tmp/raw.strace" |
        gzip -9 >"$out.tmp.$$" || ! mv "$out.tmp.$$" "$out"; then
        rm -f "$out.tmp.$$"
        die "conversion failed; nothing written"
    fi
    [ $keep -eq 1 ] && cp "$tmp/raw.strace" "$out.strace"
    echo "$out: $(($(zcat "$out" | wc -l) - 1)) rows"
}

[ $# -ge 1 ] || usage
mode=$1
shift
case $mode in
mem) record_mem "$@" ;;
io) record_io "$@" ;;
-h | --help) usage ;;
*) usage ;;
esac
