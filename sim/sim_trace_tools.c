/*
 * sim_trace_tools.c - `vmsim trace reduce|stats|convert|synth`: the user-side
 * tools for memory traces (sim_trace.h, workloads/traces/README.md).
 *
 *   reduce IN [-o OUT] [--program NAME]
 *       raw lackey text (IN, or "-" for standard input; gzip or plain) ->
 *       vmsim pagetrace v1 by the reduction rule.  OUT ending in .gz is
 *       gzip -9, any other name plain text; written to a temporary file
 *       (removed on failure, or if vmsim is killed: sim_tempfile.h) and
 *       renamed.  Without -o the pagetrace goes to standard output as
 *       plain text.  truncated=no only when lackey's "Exit code:" line
 *       was read (the whole run is in the trace).
 *   stats FILE... [--format F]
 *       records (by op), raw accesses, distinct pages and the working set
 *       in MiB, by op X/R/W, the page-table pages a guest needs for them,
 *       the first address that is not canonical for 4- or 5-level paging,
 *       and the truncated flag; writes nothing.  A FILE named *.csv or
 *       *.csv.gz is a file-I/O trace (vmsim blocktrace v1,
 *       sim_blocktrace.h): rows and bytes by op, files, distinct 4 KiB
 *       file blocks, the disk layout's size at 1 MiB alignment and the
 *       duration.
 *   convert FILE... [--cache-dir DIR] [--format F]
 *       builds (or confirms) the binary cache replay reads.
 *
 *   synth --pattern P --pages N -o OUT [...]
 *       a synthetic pagetrace (sim_trace_synth.c, sim_trace_synth.h).
 *
 * Exit status 0, or 2 on bad input (each problem one "vmsim: " line).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "sim_blocktrace.h"
#include "sim_tempfile.h"
#include "sim_trace.h"
#include "sim_trace_synth.h"

#define MIB_PER_PAGE (4096.0 / (1024.0 * 1024.0))

static int usage(FILE *f, int status)
{
    fprintf(f,
            "usage: vmsim trace reduce IN [-o OUT.pagetrace.gz] [--program NAME]\n"
            "       vmsim trace stats FILE... [--format auto|pagetrace|lackey]\n"
            "       vmsim trace convert FILE... [--cache-dir DIR] [--format auto|pagetrace|lackey]\n"
            "       vmsim trace synth --pattern sequential|strided|chase|zipf|uniform --pages N\n"
            "                         -o OUT [--records M] [--base ADDR] [--stride S] [--zipf-s X]\n"
            "                         [--write-fraction W] [--count C] [--seed N]\n"
            "                         [--code-pages K] [--code-every R]\n"
            "\n"
            "  reduce   raw valgrind lackey output (IN or '-' for stdin, gzip or plain) to a\n"
            "           vmsim pagetrace (stdout as text without -o; gzip when OUT ends in .gz)\n"
            "  stats    records, raw accesses, distinct pages and working set (total, by op);\n"
            "           for FILE.csv[.gz] (blocktrace): rows, bytes, files, blocks, layout\n"
            "  convert  build the binary replay cache (next to FILE, or in DIR)\n"
            "  synth    a synthetic pagetrace over N pages ('vmsim trace synth --help')\n");
    return status;
}

static int bad(const char *fmt, const char *arg)
{
    fprintf(stderr, "vmsim: trace: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return 2;
}

static int parse_format(const char *s, enum sim_trace_format *fmt)
{
    if (strcmp(s, "auto") == 0)
        *fmt = SIM_TRACE_AUTO;
    else if (strcmp(s, "pagetrace") == 0)
        *fmt = SIM_TRACE_PAGETRACE;
    else if (strcmp(s, "lackey") == 0)
        *fmt = SIM_TRACE_LACKEY;
    else
        return -1;
    return 0;
}

static const char *format_name(enum sim_trace_format fmt)
{
    return fmt == SIM_TRACE_LACKEY ? "lackey" : fmt == SIM_TRACE_PAGETRACE ? "pagetrace" : "auto";
}

/* ------------------------------------------------------------------ */
/* reduce */

struct reduce_out {
    gzFile gz;
    const char *in_path;
    const char *program;                /* --program, or NULL */
    const struct sim_trace_stats *st;   /* live while parsing */
    bool header_done;
    char buf[1 << 16];
    size_t n;
    int err;                            /* gzwrite failed */
};

static void out_flush(struct reduce_out *o)
{
    if (o->n && gzwrite(o->gz, o->buf, (unsigned)o->n) != (int)o->n)
        o->err = 1;
    o->n = 0;
}

/* program names go into the header line: one word of printable chars */
static void put_word(struct reduce_out *o, const char *s)
{
    if (!*s)
        s = "unknown";
    for (; *s && o->n < sizeof(o->buf) - 256; s++)
        o->buf[o->n++] = (*s > ' ' && *s < 0x7f) ? *s : '_';
}

/* literal text */
static void put_str(struct reduce_out *o, const char *s)
{
    for (; *s && o->n < sizeof(o->buf) - 256; s++)
        o->buf[o->n++] = *s;
}

/* a value inside a comment line: stays on that line */
static void put_value(struct reduce_out *o, const char *s)
{
    for (; *s && o->n < sizeof(o->buf) - 256; s++)
        o->buf[o->n++] = (*s == '\n' || *s == '\r') ? ' ' : *s;
}

static void out_header(struct reduce_out *o)
{
    put_str(o, "# vmsim pagetrace v1 page_size=4096 program=");
    put_word(o, o->program ? o->program : o->st->program);
    put_str(o, "\n");
    if (o->st->command[0]) {
        put_str(o, "# command=");
        put_value(o, o->st->command);
        put_str(o, "\n");
    }
    if (strcmp(o->in_path, "-") != 0) {
        put_str(o, "# source=");
        put_value(o, o->in_path);
        put_str(o, "\n");
    }
    put_str(o, "# recorded_with=valgrind --tool=lackey --trace-mem=yes; reduced by vmsim trace reduce\n"
               "# records: op page_hex count ; reduction: LRU window of K=16 pages with written/code marks"
               " (workloads/traces/README.md)\n");
    o->header_done = true;
}

static int reduce_sink(void *arg, const struct sim_trace_rec *recs, size_t n)
{
    struct reduce_out *o = arg;
    if (!o->header_done)
        out_header(o);
    for (size_t i = 0; i < n; i++) {
        if (o->n > sizeof(o->buf) - 64)
            out_flush(o);
        char *p = o->buf + o->n, tmp[24];
        int k = 0;
        uint64_t v = recs[i].page;
        *p++ = (char)recs[i].op;
        *p++ = ' ';
        do {
            tmp[k++] = "0123456789abcdef"[v & 15];
            v >>= 4;
        } while (v);
        while (k)
            *p++ = tmp[--k];
        *p++ = ' ';
        v = recs[i].count;
        do {
            tmp[k++] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        while (k)
            *p++ = tmp[--k];
        *p++ = '\n';
        o->n = (size_t)(p - o->buf);
    }
    return o->err ? VM_EIO : 0;
}

static int cmd_reduce(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *program = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--program") == 0 && i + 1 < argc)
            program = argv[++i];
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return usage(stdout, 0);
        else if (argv[i][0] == '-' && argv[i][1] != 0)
            return bad("reduce: unknown option '%s' (see 'vmsim trace --help')", argv[i]);
        else if (!in)
            in = argv[i];
        else
            return bad("reduce: expected one input, got another: '%s'", argv[i]);
    }
    if (!in)
        return bad("reduce: expected an input file (or '-' for standard input)%s", "");
    if (program && (!*program || strpbrk(program, " \t\n")))
        return bad("reduce: --program: expected one word, got '%s'", program);

    char tmp[4096] = "";
    struct reduce_out *o = calloc(1, sizeof(*o));
    if (!o)
        return bad("reduce: %s", "out of memory");
    struct sim_trace_stats st;
    o->in_path = in;
    o->program = program;
    o->st = &st;
    if (out) {
        if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", out) >= (int)sizeof(tmp)) {
            free(o);
            return bad("reduce: output path too long: '%s'", out);
        }
        int fd = sim_tempfile_mkstemp(tmp);     /* unlinked if we are killed */
        if (fd < 0) {
            fprintf(stderr, "vmsim: '%s': cannot create: %s\n", out, strerror(errno));
            free(o);
            return 2;
        }
        mode_t um = umask(0);
        umask(um);
        if (fchmod(fd, 0644 & ~um) != 0) {
            fprintf(stderr, "vmsim: '%s': cannot set mode: %s\n", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            sim_tempfile_unregister(tmp);
            free(o);
            return 2;
        }
        size_t ol = strlen(out);
        bool gz = ol > 3 && strcmp(out + ol - 3, ".gz") == 0;
        o->gz = gzdopen(fd, gz ? "wb9" : "wT");
        if (!o->gz)
            close(fd);
    } else {
        int fd = dup(STDOUT_FILENO);
        o->gz = fd >= 0 ? gzdopen(fd, "wT") : NULL;
        if (!o->gz && fd >= 0)
            close(fd);
    }
    if (!o->gz) {
        if (tmp[0]) {
            unlink(tmp);
            sim_tempfile_unregister(tmp);
        }
        free(o);
        return bad("reduce: cannot open the output%s", "");
    }

    struct vm_diag d;
    vm_diag_clear(&d);
    int rc = sim_trace_parse(in, SIM_TRACE_LACKEY, reduce_sink, o, &st, &d);
    if (rc == 0) {
        if (!o->header_done)
            out_header(o);
        char line[128];
        snprintf(line, sizeof(line), "# total_accesses=%" PRIu64 " records=%" PRIu64 " truncated=%s\n",
                 st.total_accesses, st.nr_records, st.truncated ? "yes" : "no");
        put_str(o, line);
        out_flush(o);
    }
    int zrc = gzclose(o->gz);
    int werr = o->err;
    free(o);
    if (rc == 0 && (werr || zrc != Z_OK))
        rc = vm_diag_set(&d, VM_EIO, "'%s': write error", out ? out : "standard output");
    if (rc == 0 && out && rename(tmp, out) != 0)
        rc = vm_diag_set(&d, VM_EIO, "'%s': cannot rename to '%s': %s", tmp, out, strerror(errno));
    if (rc && tmp[0])
        unlink(tmp);
    if (tmp[0])
        sim_tempfile_unregister(tmp);
    if (rc) {
        fprintf(stderr, "vmsim: %s\n", d.msg);
        return 2;
    }
    /* stdout carries the trace itself when there is no -o */
    FILE *f = out ? stdout : stderr;
    fprintf(f, "%s%s: %" PRIu64 " records (X %" PRIu64 " R %" PRIu64 " W %" PRIu64 "), %" PRIu64
               " accesses, %" PRIu64 " distinct pages (%.1f MiB), truncated=%s\n",
            out ? "" : "vmsim: reduced ", out ? out : in, st.nr_records,
            st.nr_records_op[SIM_TRACE_OP_X], st.nr_records_op[SIM_TRACE_OP_R],
            st.nr_records_op[SIM_TRACE_OP_W], st.total_accesses, st.distinct_pages,
            (double)st.distinct_pages * MIB_PER_PAGE, st.truncated ? "yes" : "no");
    return 0;
}

/* ------------------------------------------------------------------ */
/* stats, convert */

/* Split argv into files and the options both commands share. */
static int file_args(int argc, char **argv, bool allow_cache_dir, const char ***files, int *nr,
                     enum sim_trace_format *fmt, const char **cache_dir)
{
    *files = calloc((size_t)argc, sizeof(char *));
    if (!*files)
        return bad("%s", "out of memory");
    *nr = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
            if (parse_format(argv[++i], fmt) != 0)
                return bad("--format: expected auto, pagetrace or lackey, got '%s'", argv[i]);
        } else if (allow_cache_dir && strcmp(argv[i], "--cache-dir") == 0 && i + 1 < argc) {
            *cache_dir = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] != 0) {
            return bad("unknown option '%s' (see 'vmsim trace --help')", argv[i]);
        } else {
            (*files)[(*nr)++] = argv[i];
        }
    }
    if (*nr == 0)
        return bad("expected at least one trace file%s", "");
    return 0;
}

static void print_pages(const char *label, uint64_t pages)
{
    printf("  %-16s %" PRIu64 " pages (%.1f MiB)\n", label, pages, (double)pages * MIB_PER_PAGE);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* A blocktrace's figures, laid out from sector 0 on a disk without end. */
static int blocktrace_stats(const char *path)
{
    struct sim_blocktrace bt;
    struct vm_diag d;
    vm_diag_clear(&d);
    if (sim_blocktrace_load(path, UINT64_MAX, 0, 0, &bt, &d) != 0) {
        fprintf(stderr, "vmsim: %s\n", d.msg);
        return 2;
    }
    const struct sim_blocktrace_stats *st = &bt.stats;
    uint64_t blocks = sim_blocktrace_distinct_sectors(&bt);
    printf("%s:\n", path);
    printf("  %-16s vmsim blocktrace v1, %" PRIu64 " rows\n", "format", st->nr_rows);
    printf("  %-16s %" PRIu64 " (R %" PRIu64 ", W %" PRIu64 ", F %" PRIu64 ")\n", "rows",
           st->nr_rows, st->nr_rows_op[VM_BLKIO_READ], st->nr_rows_op[VM_BLKIO_WRITE],
           st->nr_rows_op[VM_BLKIO_FLUSH]);
    printf("  %-16s %" PRIu64 " (%.2f MiB)\n", "bytes read", st->bytes_read,
           (double)st->bytes_read / (1024.0 * 1024.0));
    printf("  %-16s %" PRIu64 " (%.2f MiB)\n", "bytes written", st->bytes_written,
           (double)st->bytes_written / (1024.0 * 1024.0));
    printf("  %-16s %" PRIu64 "\n", "files", st->nr_files);
    if (blocks == UINT64_MAX)
        printf("  %-16s out of memory\n", "distinct blocks");
    else
        printf("  %-16s %" PRIu64 " 4 KiB file blocks (%.1f MiB)\n", "distinct blocks", blocks,
               (double)blocks * MIB_PER_PAGE);
    printf("  %-16s %" PRIu64 " sectors (%.1f MiB) at 1 MiB alignment\n", "disk layout",
           st->layout_sectors, (double)st->layout_sectors * MIB_PER_PAGE);
    printf("  %-16s %.6f s\n", "duration", (double)st->duration_ns / 1e9);
    sim_blocktrace_free(&bt);
    return 0;
}

static int cmd_stats(int argc, char **argv)
{
    const char **files;
    int nr, status = 0;
    enum sim_trace_format fmt = SIM_TRACE_AUTO;
    const char *unused = NULL;
    if (file_args(argc, argv, false, &files, &nr, &fmt, &unused)) {
        free(files);
        return 2;
    }
    for (int i = 0; i < nr; i++) {
        if (ends_with(files[i], ".csv") || ends_with(files[i], ".csv.gz")) {
            if (blocktrace_stats(files[i]) != 0)
                status = 2;
            continue;
        }
        struct sim_trace_stats st;
        struct vm_diag d;
        vm_diag_clear(&d);
        if (sim_trace_parse(files[i], fmt, NULL, NULL, &st, &d) != 0) {
            fprintf(stderr, "vmsim: %s\n", d.msg);
            status = 2;
            continue;
        }
        printf("%s:\n", files[i]);
        printf("  %-16s %s, program %s, %" PRIu64 " lines\n", "format", format_name(st.format),
               st.program[0] ? st.program : "unknown", st.nr_lines);
        printf("  %-16s %" PRIu64 " (X %" PRIu64 ", R %" PRIu64 ", W %" PRIu64 ")\n", "records",
               st.nr_records, st.nr_records_op[SIM_TRACE_OP_X], st.nr_records_op[SIM_TRACE_OP_R],
               st.nr_records_op[SIM_TRACE_OP_W]);
        printf("  %-16s %" PRIu64 " (%.2f per record)\n", "accesses", st.total_accesses,
               st.nr_records ? (double)st.total_accesses / (double)st.nr_records : 0.0);
        print_pages("distinct pages", st.distinct_pages);
        print_pages("working set X", st.distinct_pages_op[SIM_TRACE_OP_X]);
        print_pages("working set R", st.distinct_pages_op[SIM_TRACE_OP_R]);
        print_pages("working set W", st.distinct_pages_op[SIM_TRACE_OP_W]);
        print_pages("data (R or W)", st.distinct_data_pages);
        printf("  %-16s %" PRIu64 " with 4-level paging, %" PRIu64 " with 5-level\n",
               "page tables", sim_trace_table_pages(&st, 4), sim_trace_table_pages(&st, 5));
        for (unsigned lv = 4; lv <= 5; lv++) {
            const unsigned k = lv - 4;
            if (st.noncanon_line[k])
                printf("  %-16s line %" PRIu64 ": 0x%" PRIx64 " (%u-level paging refuses it)\n",
                       k ? "non-canonical 5" : "non-canonical 4", st.noncanon_line[k],
                       st.noncanon_addr[k], lv);
        }
        printf("  %-16s %s\n", "truncated",
               !st.has_trailer ? (st.format == SIM_TRACE_LACKEY ? "yes (no 'Exit code:' line)" : "yes (no trailer)")
                               : st.truncated ? "yes" : "no");
    }
    free(files);
    return status;
}

static int cmd_convert(int argc, char **argv)
{
    const char **files;
    int nr, status = 0;
    enum sim_trace_format fmt = SIM_TRACE_AUTO;
    const char *cache_dir = NULL;
    if (file_args(argc, argv, true, &files, &nr, &fmt, &cache_dir)) {
        free(files);
        return 2;
    }
    for (int i = 0; i < nr; i++) {
        struct sim_trace *t;
        struct vm_diag d;
        vm_diag_clear(&d);
        if (sim_trace_open_in(files[i], fmt, cache_dir, &t, &d) != 0) {
            fprintf(stderr, "vmsim: %s\n", d.msg);
            status = 2;
            continue;
        }
        printf("%s: %s (%s), %" PRIu64 " records, %" PRIu64 " accesses, %" PRIu64 " distinct pages\n",
               files[i], sim_trace_cache_path(t), sim_trace_cache_built(t) ? "built" : "up to date",
               sim_trace_nr_records(t), sim_trace_total_accesses(t), sim_trace_distinct_pages(t));
        sim_trace_close(t);
    }
    free(files);
    return status;
}

int sim_trace_main(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0 ||
        strcmp(argv[0], "help") == 0)
        return usage(argc < 1 ? stderr : stdout, argc < 1 ? 2 : 0);
    if (strcmp(argv[0], "synth") == 0)
        return sim_trace_synth_main(argc, argv);    /* its own --help */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return usage(stdout, 0);
    if (strcmp(argv[0], "reduce") == 0)
        return cmd_reduce(argc, argv);
    if (strcmp(argv[0], "stats") == 0)
        return cmd_stats(argc, argv);
    if (strcmp(argv[0], "convert") == 0)
        return cmd_convert(argc, argv);
    return bad("unknown subcommand '%s' (expected reduce, stats, convert or synth)", argv[0]);
}

int sim_trace_check_canonical(const char *path, const struct sim_trace_stats *st,
                              unsigned levels, struct vm_diag *d)
{
    int k = levels == 5 ? 1 : 0;
    if (!st->noncanon_line[k])
        return 0;
    unsigned bit = levels == 5 ? 56 : 47;
    return vm_diag_set(d, VM_EINVAL,
                       "%s:%" PRIu64 ": expected an address canonical for %u-level paging "
                       "(bits 63:%u all equal; vm.paging_levels), got 0x%" PRIx64,
                       path, st->noncanon_line[k], levels == 5 ? 5u : 4u, bit,
                       st->noncanon_addr[k]);
}

uint64_t sim_trace_table_pages(const struct sim_trace_stats *st, unsigned levels)
{
    /* the top-level table, then one table per region of each level below it */
    uint64_t n = 1 + st->distinct_regions[0] + st->distinct_regions[1] + st->distinct_regions[2];
    if (levels == 5)
        n += st->distinct_regions[3];
    return n;
}
