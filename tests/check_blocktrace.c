/*
 * check_blocktrace.c - Check suite "blocktrace": the vmsim blocktrace v1
 * reader and its file-to-disk layout (sim/sim_blocktrace.c): each located
 * error with its line, the layout of a small two-file trace, gzip and
 * plain input, determinism, and the shipped traces against the figures in
 * workloads/traces/README.md.  Inputs are written into a fresh folder per
 * test; shipped traces are only read.
 */
#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "sim_blocktrace.h"
#include "sim_trace.h"
#include "test_tmpdir.h"

#define HDR SIM_BLOCKTRACE_HEADER "\n"
#define DISK_64G (64ull << 18)          /* 64 GiB in 4 KiB sectors */

static char tmpdir[256];

static void setup(void)
{
    test_tmpdir_make(tmpdir, sizeof tmpdir, "check_blocktrace");
}

static void teardown(void)
{
    test_tmpdir_remove(tmpdir);
}

static const char *srcdir(void)
{
    const char *s = getenv("VMSIM_SRCDIR");
    return s && *s ? s : VMSIM_SRCDIR;
}

static const char *tpath(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof(p[k]), "%s/%s", tmpdir, name);
    return p[k];
}

/* text into tmpdir/name, gzip-compressed when gz */
static const char *write_text(const char *name, const char *text, size_t len, bool gz)
{
    const char *path = tpath(name);
    if (gz) {
        gzFile f = gzopen(path, "wb9");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(gzwrite(f, text, (unsigned)len), (int)len);
        ck_assert_int_eq(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(text, 1, len, f), len);
        ck_assert_int_eq(fclose(f), 0);
    }
    return path;
}

static const char *write_str(const char *name, const char *text)
{
    return write_text(name, text, strlen(text), false);
}

/* ================================================================ layout */

/*
 * a: max end 1048577 bytes -> 2 MiB extent (512 sectors) at 1000
 * b: max end 12288 bytes -> 1 MiB (256 sectors) at 1512
 * c: flushed only -> 0 sectors at 1768
 */
static const char two_files[] = HDR
    "0.000001,W,0,4096,a\n"
    "0.000002,R,4095,2,b\n"
    "0.000003,W,1048576,1,a\n"
    "0.5,F,0,0,c\n"
    "1.2345678905,W,8191,4097,b\n";

static void assert_io(const struct vm_blkio *io, uint64_t t_ns, int op, uint64_t sector,
                      uint32_t nr)
{
    ck_assert_uint_eq(io->t_ns, t_ns);
    ck_assert_int_eq(io->op, op);
    ck_assert_uint_eq(io->sector, sector);
    ck_assert_uint_eq(io->nr, nr);
}

START_TEST(test_blocktrace_files_become_aligned_extents_in_order)
{
    const char *p = write_str("two.csv", two_files);
    struct sim_blocktrace bt;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_blocktrace_load(p, 4096, 1000, 0, &bt, &d), 0);
    ck_assert_uint_eq(bt.nr_ios, 5);
    assert_io(&bt.ios[0], 1000, VM_BLKIO_WRITE, 1000, 1);
    assert_io(&bt.ios[1], 2000, VM_BLKIO_READ, 1512, 2);        /* bytes 4095..4096 */
    assert_io(&bt.ios[2], 3000, VM_BLKIO_WRITE, 1256, 1);
    assert_io(&bt.ios[3], 500000000, VM_BLKIO_FLUSH, 0, 0);
    assert_io(&bt.ios[4], 1234567891, VM_BLKIO_WRITE, 1513, 2); /* 8191..12287, ns half up */
    const struct sim_blocktrace_stats *st = &bt.stats;
    ck_assert_uint_eq(st->nr_rows, 5);
    ck_assert_uint_eq(st->nr_rows_op[VM_BLKIO_READ], 1);
    ck_assert_uint_eq(st->nr_rows_op[VM_BLKIO_WRITE], 3);
    ck_assert_uint_eq(st->nr_rows_op[VM_BLKIO_FLUSH], 1);
    ck_assert_uint_eq(st->bytes_read, 2);
    ck_assert_uint_eq(st->bytes_written, 4096 + 1 + 4097);
    ck_assert_uint_eq(st->nr_files, 3);
    ck_assert_uint_eq(st->layout_sectors, 768);
    ck_assert_uint_eq(st->duration_ns, 1234567891);
    /* sectors 1000, 1256 and 1512..1514: the R at 1512..1513 and the W at
     * 1513..1514 share one */
    ck_assert_uint_eq(sim_blocktrace_distinct_sectors(&bt), 5);
    sim_blocktrace_free(&bt);
    ck_assert_ptr_null(bt.ios);
    ck_assert_uint_eq(bt.nr_ios, 0);
    sim_blocktrace_free(&bt);                   /* twice is harmless */
    sim_blocktrace_free(NULL);
}
END_TEST

START_TEST(test_blocktrace_sector_alignment_packs_extents)
{
    /* align 4096: a is ceil(1048577 / 4096) = 257 sectors, b 3 */
    const char *p = write_str("two.csv", two_files);
    struct sim_blocktrace bt;
    ck_assert_int_eq(sim_blocktrace_load(p, 4096, 0, 4096, &bt, NULL), 0);
    ck_assert_uint_eq(bt.ios[0].sector, 0);
    ck_assert_uint_eq(bt.ios[1].sector, 257);
    ck_assert_uint_eq(bt.ios[2].sector, 256);
    ck_assert_uint_eq(bt.ios[4].sector, 258);
    ck_assert_uint_eq(bt.stats.layout_sectors, 260);
    sim_blocktrace_free(&bt);
}
END_TEST

START_TEST(test_blocktrace_request_past_the_disk_names_its_line)
{
    const char *p = write_str("two.csv", two_files);
    struct sim_blocktrace bt;
    struct vm_diag d;
    vm_diag_clear(&d);
    /* the last row's last sector is 1514: a disk of 1515 holds it */
    ck_assert_int_eq(sim_blocktrace_load(p, 1515, 1000, 0, &bt, &d), 0);
    sim_blocktrace_free(&bt);
    ck_assert_int_eq(sim_blocktrace_load(p, 1514, 1000, 0, &bt, &d), VM_ERANGE);
    char want[600];
    snprintf(want, sizeof(want), "%s:6: request ends at sector 1514, past the disk's end (1514 sectors of 4 KiB): a write of file 'b'"
             " (files lie one after another, each its largest offset + length rounded up to 1024 KiB)", p);
    ck_assert_str_eq(d.msg, want);
    ck_assert_ptr_null(bt.ios);
    ck_assert_uint_eq(bt.nr_ios, 0);

    /* b's read (line 3) comes before a's second write (line 4, sector 1256) */
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_blocktrace_load(p, 1256, 1000, 0, &bt, &d), VM_ERANGE);
    snprintf(want, sizeof(want), "%s:3: request ends at sector 1513, past the disk's end (1256 sectors of 4 KiB): a read of file 'b'"
             " (files lie one after another, each its largest offset + length rounded up to 1024 KiB)", p);
    ck_assert_str_eq(d.msg, want);
}
END_TEST

START_TEST(test_blocktrace_gzip_and_plain_read_the_same)
{
    const char *plain = write_text("t.csv", two_files, strlen(two_files), false);
    const char *gz = write_text("t.csv.gz", two_files, strlen(two_files), true);
    struct sim_blocktrace a, b, c;
    ck_assert_int_eq(sim_blocktrace_load(plain, 1u << 20, 7, 0, &a, NULL), 0);
    ck_assert_int_eq(sim_blocktrace_load(gz, 1u << 20, 7, 0, &b, NULL), 0);
    ck_assert_int_eq(sim_blocktrace_load(gz, 1u << 20, 7, 0, &c, NULL), 0);
    ck_assert_uint_eq(a.nr_ios, b.nr_ios);
    ck_assert_uint_eq(b.nr_ios, c.nr_ios);
    for (size_t i = 0; i < a.nr_ios; i++) {
        assert_io(&b.ios[i], a.ios[i].t_ns, a.ios[i].op, a.ios[i].sector, a.ios[i].nr);
        assert_io(&c.ios[i], a.ios[i].t_ns, a.ios[i].op, a.ios[i].sector, a.ios[i].nr);
    }
    ck_assert_mem_eq(&a.stats, &b.stats, sizeof(a.stats));
    sim_blocktrace_free(&a);
    sim_blocktrace_free(&b);
    sim_blocktrace_free(&c);
}
END_TEST

START_TEST(test_blocktrace_last_line_without_newline_is_read)
{
    const char *p = write_str("t.csv", HDR "0,W,0,1,a\n0.25,R,0,1,a");
    struct sim_blocktrace bt;
    ck_assert_int_eq(sim_blocktrace_load(p, 1024, 0, 0, &bt, NULL), 0);
    ck_assert_uint_eq(bt.nr_ios, 2);
    assert_io(&bt.ios[1], 250000000, VM_BLKIO_READ, 0, 1);
    sim_blocktrace_free(&bt);
}
END_TEST

START_TEST(test_blocktrace_bad_arguments_and_files)
{
    struct sim_blocktrace bt;
    struct vm_diag d;
    vm_diag_clear(&d);
    const char *p = write_str("t.csv", two_files);
    ck_assert_int_eq(sim_blocktrace_load(p, 4096, 0, 1000, &bt, &d), VM_EINVAL);
    ck_assert_ptr_nonnull(strstr(d.msg, "multiple of 4096"));
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_blocktrace_load(tpath("missing.csv"), 4096, 0, 0, &bt, &d), VM_ENOENT);
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_blocktrace_load(tmpdir, 4096, 0, 0, &bt, &d), VM_EINVAL);
    ck_assert_ptr_null(bt.ios);
}
END_TEST

/* ================================================================ errors */

struct bad_case {
    const char *what;
    const char *text;
    int code;
    unsigned line;
    const char *msg;                    /* after "PATH:LINE: " */
};

static char long_line[SIM_BLOCKTRACE_LINE_MAX + 200];

static const struct bad_case bad_cases[] = {
    { "bad header", "timestamp,op,offset,length,file\n0,W,0,1,a\n", VM_EPARSE, 1,
      "expected the header 'timestamp_s,op,offset,length,file', got 'timestamp,op,offset,length,file'" },
    { "header with CR", "timestamp_s,op,offset,length,file\r\n0,W,0,1,a\n", VM_EPARSE, 1,
      "expected the header 'timestamp_s,op,offset,length,file', got 'timestamp_s,op,offset,length,file\\x0d'" },
    { "empty file", "", VM_EPARSE, 1,
      "expected the header 'timestamp_s,op,offset,length,file', got end of file" },
    { "no rows", HDR, VM_EPARSE, 2, "expected a row, got end of file" },
    { "too few fields", HDR "0,W,0,1,a\n0.1,W,0,1\n", VM_EPARSE, 3,
      "expected 5 comma-separated fields (timestamp_s,op,offset,length,file), got 4" },
    { "too many fields", HDR "0,W,0,1,a\n0.1,W,0,1,a,b\n", VM_EPARSE, 3,
      "expected 5 comma-separated fields (timestamp_s,op,offset,length,file), got 6" },
    { "blank line", HDR "0,W,0,1,a\n\n0.2,W,0,1,a\n", VM_EPARSE, 3,
      "expected 5 comma-separated fields (timestamp_s,op,offset,length,file), got 1" },
    { "unknown op", HDR "0,W,0,1,a\n0.1,Q,0,1,a\n", VM_EPARSE, 3,
      "expected op 'R', 'W' or 'F', got 'Q'" },
    { "lower-case op", HDR "0,w,0,1,a\n", VM_EPARSE, 2, "expected op 'R', 'W' or 'F', got 'w'" },
    { "two-letter op", HDR "0,RW,0,1,a\n", VM_EPARSE, 2, "expected op 'R', 'W' or 'F', got 'RW'" },
    { "negative offset", HDR "0,W,0,1,a\n0,W,-4096,1,a\n", VM_EPARSE, 3,
      "expected a non-negative integer offset of at most 19 digits, got '-4096'" },
    { "non-numeric offset", HDR "0,W,0x10,1,a\n", VM_EPARSE, 2,
      "expected a non-negative integer offset of at most 19 digits, got '0x10'" },
    { "empty offset", HDR "0,W,,1,a\n", VM_EPARSE, 2,
      "expected a non-negative integer offset of at most 19 digits, got ''" },
    { "negative length", HDR "0,R,0,-1,a\n", VM_EPARSE, 2,
      "expected a non-negative integer length of at most 19 digits, got '-1'" },
    { "non-numeric length", HDR "0,R,0,4k,a\n", VM_EPARSE, 2,
      "expected a non-negative integer length of at most 19 digits, got '4k'" },
    { "length 0", HDR "0,W,0,1,a\n0,R,8,0,a\n", VM_EPARSE, 3,
      "expected a length >= 1 in an R or W row, got '0'" },
    { "offset + length overflows", HDR "0,W,9999999999999999999,9999999999999999999,a\n", VM_EPARSE, 2,
      "expected offset + length below 2^64, got '9999999999999999999,9999999999999999999'" },
    { "negative timestamp", HDR "-0.5,W,0,1,a\n", VM_EPARSE, 2,
      "expected a non-negative decimal timestamp_s below 1000000000, got '-0.5'" },
    { "exponent timestamp", HDR "1e3,W,0,1,a\n", VM_EPARSE, 2,
      "expected a non-negative decimal timestamp_s below 1000000000, got '1e3'" },
    { "timestamp without fraction digits", HDR "1.,W,0,1,a\n", VM_EPARSE, 2,
      "expected a non-negative decimal timestamp_s below 1000000000, got '1.'" },
    { "timestamp going back", HDR "0.5,W,0,1,a\n0.5,W,0,1,a\n0.499999,W,0,1,a\n", VM_EPARSE, 4,
      "expected a timestamp_s >= 0.500000000 (the row before's), got '0.499999'" },
    { "F with an offset", HDR "0,W,0,1,a\n0.1,F,4096,0,a\n", VM_EPARSE, 3,
      "expected offset 0 and length 0 in an F row, got '4096,0'" },
    { "F with a length", HDR "0.1,F,0,1,a\n", VM_EPARSE, 2,
      "expected offset 0 and length 0 in an F row, got '0,1'" },
    { "empty file name", HDR "0,W,0,1,a\n0,W,0,1,\n", VM_EPARSE, 3, "expected a file name, got ''" },
    { "file name with CR", HDR "0,W,0,1,a\r\n", VM_EPARSE, 2,
      "expected a file name without control characters, got 'a\\x0d'" },
    { "request past the disk", HDR "0,W,0,4096,a\n0,W,0,1,b\n0,W,4096,1,b\n", VM_ERANGE, 4,
      "request ends at sector 257, past the disk's end (257 sectors of 4 KiB): a write of file 'b'"
      " (files lie one after another, each its largest offset + length rounded up to 1024 KiB)" },
    { "line too long", NULL, VM_EPARSE, 3,
      "expected a line of at most 8192 bytes, got a longer one" },
};

START_TEST(test_blocktrace_error_names_file_and_line)
{
    const struct bad_case *c = &bad_cases[_i];
    const char *text = c->text;
    if (!text) {
        /* a good row, then a file name of 8300 characters */
        size_t n = (size_t)snprintf(long_line, sizeof(long_line), HDR "0,W,0,1,a\n0,W,0,1,");
        memset(long_line + n, 'x', 8300);
        snprintf(long_line + n + 8300, sizeof(long_line) - n - 8300, "\n");
        text = long_line;
    }
    for (int gz = 0; gz < 2; gz++) {
        const char *p = write_text(gz ? "bad.csv.gz" : "bad.csv", text, strlen(text), gz);
        struct sim_blocktrace bt;
        struct vm_diag d;
        vm_diag_clear(&d);
        /* 257 sectors: a's 1 MiB extent and b's first sector */
        int rc = sim_blocktrace_load(p, 257, 0, 0, &bt, &d);
        ck_assert_msg(rc == c->code, "%s: rc %d (%s)", c->what, rc, d.msg);
        char want[VM_DIAG_MSG_MAX];
        snprintf(want, sizeof(want), "%s:%u: %s", p, c->line, c->msg);
        ck_assert_msg(strcmp(d.msg, want) == 0, "%s:\n got  %s\n want %s", c->what, d.msg, want);
        ck_assert_ptr_null(bt.ios);
        ck_assert_uint_eq(bt.nr_ios, 0);
    }
}
END_TEST

START_TEST(test_blocktrace_row_cap_names_the_first_line_beyond)
{
    const char *p = write_str("t.csv", HDR "0,W,0,1,a\n0,W,0,1,a\n0,W,0,1,a\n0,W,0,1,a\n");
    struct sim_blocktrace bt;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_blocktrace_load_max(p, 1024, 0, 0, 4, &bt, &d), 0);
    sim_blocktrace_free(&bt);
    ck_assert_int_eq(sim_blocktrace_load_max(p, 1024, 0, 0, 3, &bt, &d), VM_EPARSE);
    char want[600];
    snprintf(want, sizeof(want), "%s:5: expected at most 3 rows, got more", p);
    ck_assert_str_eq(d.msg, want);
}
END_TEST

/* The distinct file names are capped (64 MiB in all, 4095 bytes each):
 * a trace of long distinct names fails at the first line past the cap,
 * with its file and line, instead of growing without bound.  A garbled
 * gzip stream's error names the file, not zlib's "<fd:N>". */
START_TEST(test_blocktrace_file_names_are_bounded)
{
    size_t per = 4000, rows = (SIM_BLOCKTRACE_NAMES_MAX / (per + 1)) + 2;
    size_t cap = sizeof(HDR) + rows * (per + 32), n = 0;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    n += (size_t)snprintf(text, cap, HDR);
    for (size_t i = 0; i < rows; i++) {
        n += (size_t)snprintf(text + n, cap - n, "0,W,0,4096,%08zu", i);
        memset(text + n, 'x', per - 8);
        n += per - 8;
        text[n++] = '\n';
    }
    const char *p = write_text("names.csv", text, n, false);
    free(text);
    struct sim_blocktrace bt;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_blocktrace_load(p, DISK_64G, 0, 0, &bt, &d), VM_EPARSE);
    char want[600];
    /* names of 4001 bytes with their NUL: the first past the cap is row
     * 16,773, line 16,774 */
    snprintf(want, sizeof(want), "%s:%zu: expected at most 64 MiB of distinct file names",
             p, (size_t)(SIM_BLOCKTRACE_NAMES_MAX / (per + 1)) + 2);
    ck_assert_msg(strncmp(d.msg, want, strlen(want)) == 0, "%s", d.msg);

    char longname[SIM_BLOCKTRACE_NAME_MAX + 64];
    int k = snprintf(longname, sizeof(longname), HDR "0,W,0,4096,");
    memset(longname + k, 'n', SIM_BLOCKTRACE_NAME_MAX + 1);
    longname[k + SIM_BLOCKTRACE_NAME_MAX + 1] = '\n';
    p = write_text("long.csv", longname, (size_t)k + SIM_BLOCKTRACE_NAME_MAX + 2, false);
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_blocktrace_load(p, DISK_64G, 0, 0, &bt, &d), VM_EPARSE);
    ck_assert_ptr_nonnull(strstr(d.msg, ":2: expected a file name of at most 4095 bytes"));

    p = write_text("garbled.csv.gz", "\x1f\x8b\x08\x00garbagegarbage", 18, false);
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_blocktrace_load(p, DISK_64G, 0, 0, &bt, &d), VM_EPARSE);
    ck_assert_ptr_nonnull(strstr(d.msg, ": expected gzip data, got "));
    ck_assert_ptr_null(strstr(d.msg, "<fd:"));
}
END_TEST

START_TEST(test_blocktrace_truncated_gzip_is_an_error)
{
    /* enough rows that the cut lands inside the compressed data */
    size_t cap = 1 << 20, n = 0;
    char *text = malloc(cap);
    n += (size_t)snprintf(text, cap, HDR);
    for (int i = 0; n + 64 < cap; i++)
        n += (size_t)snprintf(text + n, cap - n, "%d.%06d,W,%d,4096,f%d\n", i / 1000, i % 1000, i * 4096, i % 7);
    const char *p = write_text("cut.csv.gz", text, n, true);
    free(text);
    struct stat sb;
    ck_assert_int_eq(stat(p, &sb), 0);
    ck_assert_int_eq(truncate(p, sb.st_size / 2), 0);
    struct sim_blocktrace bt;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_blocktrace_load(p, DISK_64G, 0, 0, &bt, &d), VM_EPARSE);
    ck_assert_ptr_nonnull(strstr(d.msg, "truncated gzip"));
    ck_assert_ptr_null(bt.ios);
}
END_TEST

/* ================================================================ the tool */

/* sim_trace_main(argv) with stdout and stderr caught in files; the
 * exit status, and what went to stderr in err */
static int run_tool(char **argv, int argc, char *err, size_t cap)
{
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    FILE *o = fopen(tpath("stdout"), "w+"), *e = fopen(tpath("stderr"), "w+");
    ck_assert(o && e && saved_out >= 0 && saved_err >= 0);
    dup2(fileno(o), 1);
    dup2(fileno(e), 2);
    int status = sim_trace_main(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    rewind(e);
    size_t n = fread(err, 1, cap - 1, e);
    err[n] = 0;
    fclose(o);
    fclose(e);
    return status;
}

START_TEST(test_blocktrace_stats_tool_exit_status_and_one_located_line)
{
    char err[1024], want[1024], ok_path[512], bad_path[512];
    snprintf(ok_path, sizeof(ok_path), "%s", write_str("ok.csv", two_files));
    char *ok[] = { "stats", ok_path, NULL };
    ck_assert_int_eq(run_tool(ok, 2, err, sizeof(err)), 0);
    ck_assert_str_eq(err, "");
    static const char bad_text[] = HDR "0,W,0,1,a\n0,Q,0,1,a\n";
    snprintf(bad_path, sizeof(bad_path), "%s",
             write_text("bad.csv.gz", bad_text, strlen(bad_text), true));
    char *both[] = { "stats", ok_path, bad_path, NULL };
    ck_assert_int_eq(run_tool(both, 3, err, sizeof(err)), 2);
    snprintf(want, sizeof(want), "vmsim: %s:3: expected op 'R', 'W' or 'F', got 'Q'\n", bad_path);
    ck_assert_str_eq(err, want);
}
END_TEST

/* ========================================================= shipped traces */

struct shipped {
    const char *file;
    uint64_t r, w, f, files;
    double read_mib, written_mib, duration_s;
    uint64_t layout_mib;                /* "A blocktrace on one virtual disk", rule 5 */
    uint64_t blocks;                    /* distinct 4 KiB file blocks */
};

/* workloads/traces/README.md, "File-I/O traces" */
static const struct shipped shipped_traces[] = {
    { "sqlite-txn.blocktrace.csv.gz", 8827, 37564, 6030, 13, 28.56, 72.47, 7.69, 24, 3276 },
    { "tar-pack-unpack.blocktrace.csv.gz", 72163, 72141, 0, 44839, 490.84, 490.82, 26.02, 45109, 211333 },
};

START_TEST(test_blocktrace_shipped_traces_match_the_readme)
{
    const struct shipped *s = &shipped_traces[_i];
    char p[1024];
    snprintf(p, sizeof(p), "%s/workloads/traces/%s", srcdir(), s->file);
    struct sim_blocktrace bt;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_msg(sim_blocktrace_load(p, DISK_64G, 0, 0, &bt, &d) == 0, "%s", d.msg);
    const struct sim_blocktrace_stats *st = &bt.stats;
    ck_assert_uint_eq(st->nr_rows_op[VM_BLKIO_READ], s->r);
    ck_assert_uint_eq(st->nr_rows_op[VM_BLKIO_WRITE], s->w);
    ck_assert_uint_eq(st->nr_rows_op[VM_BLKIO_FLUSH], s->f);
    ck_assert_uint_eq(st->nr_rows, s->r + s->w + s->f);
    ck_assert_uint_eq(bt.nr_ios, st->nr_rows);
    ck_assert_uint_eq(st->nr_files, s->files);
    ck_assert_double_eq_tol(st->bytes_read / 1048576.0, s->read_mib, 0.005);
    ck_assert_double_eq_tol(st->bytes_written / 1048576.0, s->written_mib, 0.005);
    ck_assert_double_eq_tol(st->duration_ns / 1e9, s->duration_s, 0.005);
    /* every request inside the layout, which fits the disk */
    ck_assert_uint_eq(st->layout_sectors, s->layout_mib * 256);
    ck_assert_uint_eq(sim_blocktrace_distinct_sectors(&bt), s->blocks);
    ck_assert_uint_le(st->layout_sectors, DISK_64G);
    for (size_t i = 0; i < bt.nr_ios; i++)
        if (bt.ios[i].op != VM_BLKIO_FLUSH)
            ck_assert_uint_le(bt.ios[i].sector + bt.ios[i].nr, st->layout_sectors);
    sim_blocktrace_free(&bt);
}
END_TEST

static Suite *blocktrace_suite(void)
{
    Suite *s = suite_create("blocktrace");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_blocktrace_files_become_aligned_extents_in_order);
    tcase_add_test(tc, test_blocktrace_sector_alignment_packs_extents);
    tcase_add_test(tc, test_blocktrace_request_past_the_disk_names_its_line);
    tcase_add_test(tc, test_blocktrace_gzip_and_plain_read_the_same);
    tcase_add_test(tc, test_blocktrace_last_line_without_newline_is_read);
    tcase_add_test(tc, test_blocktrace_bad_arguments_and_files);
    tcase_add_loop_test(tc, test_blocktrace_error_names_file_and_line, 0,
                        (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
    tcase_add_test(tc, test_blocktrace_row_cap_names_the_first_line_beyond);
    tcase_add_test(tc, test_blocktrace_truncated_gzip_is_an_error);
    tcase_add_test(tc, test_blocktrace_file_names_are_bounded);
    tcase_add_test(tc, test_blocktrace_stats_tool_exit_status_and_one_located_line);
    tcase_add_loop_test(tc, test_blocktrace_shipped_traces_match_the_readme, 0,
                        (int)(sizeof(shipped_traces) / sizeof(shipped_traces[0])));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(blocktrace_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
