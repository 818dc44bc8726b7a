/*
 * check_trace.c - Check suite "trace": the pagetrace and lackey readers,
 * the reduction rule, the binary cache and the `vmsim trace` tools
 * (sim/sim_trace.c, sim_trace_reduce.c, sim_trace_tools.c).
 *
 * Shipped traces are read from $VMSIM_SRCDIR/workloads/traces and never
 * written to: their caches go into the test's temporary folder.  Every
 * other input is written into a fresh mkdtemp folder per test.  Also the
 * temporary-file registry (sim_tempfile.c) the cache writer relies on:
 * those tests fork children that convert, exit or get killed.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "sim_tempfile.h"
#include "sim_trace.h"
#include "test_tmpdir.h"
#include "sim_trace_reduce.h"

static char tmpdir[256];

static void setup(void)
{
    test_tmpdir_make(tmpdir, sizeof tmpdir, "check_trace");
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

static const char *shipped(const char *name)
{
    static char p[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof(p[k]), "%s/workloads/traces/%s", srcdir(), name);
    return p[k];
}

static const char *tpath(const char *name)
{
    static char p[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof(p[k]), "%s/%s", tmpdir, name);
    return p[k];
}

static void write_plain(const char *name, const char *text)
{
    FILE *f = fopen(tpath(name), "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static void write_gz(const char *name, const char *text)
{
    gzFile gz = gzopen(tpath(name), "wb9");
    ck_assert_ptr_nonnull(gz);
    ck_assert_int_eq(gzwrite(gz, text, (unsigned)strlen(text)), (int)strlen(text));
    ck_assert_int_eq(gzclose(gz), Z_OK);
}

/* names in dir containing `part` */
static int nr_files_with(const char *dir, const char *part)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dp)))
        if (strstr(e->d_name, part))
            n++;
    closedir(dp);
    return n;
}

static bool exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* records collected by a parse */
struct recs {
    struct sim_trace_rec *v;
    size_t n, cap;
    size_t limit;                       /* stop collecting after this many (0 = all) */
};

static int collect(void *arg, const struct sim_trace_rec *r, size_t n)
{
    struct recs *c = arg;
    for (size_t i = 0; i < n; i++) {
        if (c->limit && c->n == c->limit)
            return 0;
        if (c->n == c->cap) {
            c->cap = c->cap ? 2 * c->cap : 1024;
            c->v = realloc(c->v, c->cap * sizeof(*c->v));
            ck_assert_ptr_nonnull(c->v);
        }
        c->v[c->n++] = r[i];
    }
    return 0;
}

static struct recs parse_ok(const char *path, enum sim_trace_format fmt, struct sim_trace_stats *st)
{
    struct recs c = { 0 };
    struct vm_diag d;
    vm_diag_clear(&d);
    int rc = sim_trace_parse(path, fmt, collect, &c, st, &d);
    ck_assert_msg(rc == 0, "parse '%s' failed: %s", path, d.msg);
    return c;
}

static void assert_rec(const struct recs *c, size_t i, char op, uint64_t page, uint64_t count)
{
    ck_assert_uint_lt(i, c->n);
    ck_assert_int_eq(c->v[i].op, op);
    ck_assert_uint_eq(c->v[i].page, page);
    ck_assert_uint_eq(c->v[i].count, count);
}

/* Parse `text` (plain file) expecting VM_EPARSE with exactly `msg` after
 * "PATH:". */
static void expect_parse_error(const char *text, enum sim_trace_format fmt, const char *msg)
{
    write_plain("bad.txt", text);
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_parse(tpath("bad.txt"), fmt, NULL, NULL, NULL, &d), VM_EPARSE);
    char want[1024];
    snprintf(want, sizeof(want), "%s:%s", tpath("bad.txt"), msg);
    ck_assert_str_eq(d.msg, want);
}

#define PT_HDR "# vmsim pagetrace v1 page_size=4096 program=test\n"

/* ============================================================ shipped traces */

struct shipped_row {
    const char *file;
    uint64_t records, x, r, w, total, distinct, code, data;
};

/* the table in workloads/traces/README.md */
static const struct shipped_row rows[] = {
    { "awk-bigarray.pagetrace.gz", 4224450, 1670039, 1852293, 702118, 119537655, 18171, 123, 18048 },
    { "lua-bigtable.pagetrace.gz", 625293, 151091, 423674, 50528, 120586231, 2604, 137, 2467 },
    { "sort-bigrecords.pagetrace.gz", 511847, 11010, 251736, 249101, 114294778, 24951, 105, 24846 },
    { "sqlite-blob-index.pagetrace.gz", 183278, 55971, 98030, 29277, 102760442, 2107, 292, 1815 },
};

START_TEST(test_trace_shipped_totals_match_the_readme_table)
{
    const struct shipped_row *row = &rows[_i];
    struct sim_trace_stats st;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_parse(shipped(row->file), SIM_TRACE_AUTO, NULL, NULL, &st, &d), 0);
    ck_assert_int_eq(st.format, SIM_TRACE_PAGETRACE);
    ck_assert_uint_eq(st.nr_records, row->records);
    ck_assert_uint_eq(st.nr_records_op[SIM_TRACE_OP_X], row->x);
    ck_assert_uint_eq(st.nr_records_op[SIM_TRACE_OP_R], row->r);
    ck_assert_uint_eq(st.nr_records_op[SIM_TRACE_OP_W], row->w);
    ck_assert_uint_eq(st.total_accesses, row->total);
    ck_assert_uint_eq(st.distinct_pages, row->distinct);
    ck_assert_uint_eq(st.distinct_pages_op[SIM_TRACE_OP_X], row->code);
    ck_assert_uint_eq(st.distinct_data_pages, row->data);
    ck_assert(st.has_trailer);
    ck_assert(st.truncated);
}
END_TEST

START_TEST(test_trace_shipped_traces_open_and_validate)
{
    const struct shipped_row *row = &rows[_i];
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_validate(shipped(row->file), SIM_TRACE_PAGETRACE, &d), 0);
    struct sim_trace *t;
    ck_assert_int_eq(sim_trace_open_in(shipped(row->file), SIM_TRACE_AUTO, tmpdir, &t, &d), 0);
    ck_assert_uint_eq(sim_trace_nr_records(t), row->records);
    ck_assert_uint_eq(sim_trace_total_accesses(t), row->total);
    ck_assert_uint_eq(sim_trace_distinct_pages(t), row->distinct);
    ck_assert(sim_trace_truncated(t));
    const struct sim_access *a = sim_trace_records(t);
    uint64_t sum = 0, bad_ops = 0;
    for (uint64_t i = 0; i < sim_trace_nr_records(t); i++) {
        uint8_t op = sim_access_op(&a[i]);
        sum += a[i].count;
        bad_ops += op != 'X' && op != 'R' && op != 'W';
    }
    ck_assert_uint_eq(sum, row->total);
    ck_assert_uint_eq(bad_ops, 0);
    sim_trace_close(t);
}
END_TEST

START_TEST(test_trace_shipped_sqlite_first_records_are_exact)
{
    struct sim_trace *t;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open_in(shipped("sqlite-blob-index.pagetrace.gz"), SIM_TRACE_AUTO,
                                       tmpdir, &t, &d), 0);
    const struct sim_access *a = sim_trace_records(t);
    /* X 401a 2 / W 1fff000 1 / X 401b 25 */
    ck_assert_int_eq(sim_access_op(&a[0]), SIM_OP_EXEC);
    ck_assert_uint_eq(sim_access_page(&a[0]), 0x401a);
    ck_assert_uint_eq(a[0].count, 2);
    ck_assert_int_eq(sim_access_op(&a[1]), SIM_OP_WRITE);
    ck_assert_uint_eq(sim_access_page(&a[1]), 0x1fff000);
    ck_assert_uint_eq(a[1].count, 1);
    ck_assert_int_eq(sim_access_op(&a[2]), SIM_OP_EXEC);
    ck_assert_uint_eq(sim_access_page(&a[2]), 0x401b);
    ck_assert_uint_eq(a[2].count, 25);
    sim_trace_close(t);
}
END_TEST

/* As workloads/traces/README.md promises: reducing the raw lackey sample
 * gives the first records of sqlite-blob-index.pagetrace.gz, all equal
 * except the last record's count (the sample stops inside that record). */
START_TEST(test_trace_lackey_sample_equals_pagetrace_prefix)
{
    struct sim_trace_stats st;
    struct recs lk = parse_ok(shipped("sqlite3.raw-lackey.gz"), SIM_TRACE_AUTO, &st);
    ck_assert_int_eq(st.format, SIM_TRACE_LACKEY);
    ck_assert_str_eq(st.program, "sqlite3");
    ck_assert(st.truncated);
    ck_assert_uint_eq(st.nr_lines, 200000);
    ck_assert_uint_eq(st.total_accesses, 200000 - 5);   /* 5 '==pid==' banner lines */
    ck_assert_uint_gt(lk.n, 1000);
    struct recs pt = { .limit = lk.n };
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_parse(shipped("sqlite-blob-index.pagetrace.gz"), SIM_TRACE_AUTO,
                                     collect, &pt, NULL, &d), 0);
    ck_assert_uint_eq(pt.n, lk.n);
    size_t differ = 0;
    for (size_t i = 0; i + 1 < lk.n; i++)
        differ += lk.v[i].op != pt.v[i].op || lk.v[i].page != pt.v[i].page ||
                  lk.v[i].count != pt.v[i].count;
    ck_assert_uint_eq(differ, 0);
    ck_assert_int_eq(lk.v[lk.n - 1].op, pt.v[lk.n - 1].op);
    ck_assert_uint_eq(lk.v[lk.n - 1].page, pt.v[lk.n - 1].page);
    ck_assert_uint_lt(lk.v[lk.n - 1].count, pt.v[lk.n - 1].count);
    free(lk.v);
    free(pt.v);
}
END_TEST

START_TEST(test_trace_lackey_sample_binary_form_equals_pagetrace_prefix)
{
    struct sim_trace *lt, *pt;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open_in(shipped("sqlite3.raw-lackey.gz"), SIM_TRACE_LACKEY, tmpdir,
                                       &lt, &d), 0);
    ck_assert_int_eq(sim_trace_open_in(shipped("sqlite-blob-index.pagetrace.gz"),
                                       SIM_TRACE_PAGETRACE, tmpdir, &pt, &d), 0);
    uint64_t n = sim_trace_nr_records(lt);
    ck_assert_uint_eq(n, 2471);
    ck_assert_uint_eq(sim_trace_total_accesses(lt), 199995);
    const struct sim_access *a = sim_trace_records(lt), *b = sim_trace_records(pt);
    ck_assert_int_eq(memcmp(a, b, (n - 1) * sizeof(*a)), 0);
    ck_assert_uint_eq(sim_access_page(&a[n - 1]), sim_access_page(&b[n - 1]));
    sim_trace_close(lt);
    sim_trace_close(pt);
}
END_TEST

/* ============================================================ reduction */

/* Feed ops/pages through the state machine, collect the records. */
static struct recs reduce_seq(const char *ops, const uint64_t *pages)
{
    struct sim_trace_reduce r;
    struct sim_trace_rec done;
    struct recs c = { 0 };
    sim_trace_reduce_init(&r);
    for (size_t i = 0; ops[i]; i++)
        if (sim_trace_reduce_feed(&r, (uint8_t)ops[i], pages[i], &done))
            collect(&c, &done, 1);
    if (sim_trace_reduce_finish(&r, &done))
        collect(&c, &done, 1);
    return c;
}

START_TEST(test_trace_reduce_repeated_reads_add_to_one_record)
{
    struct recs c = reduce_seq("RRR", (const uint64_t[]){ 5, 5, 5 });
    ck_assert_uint_eq(c.n, 1);
    assert_rec(&c, 0, 'R', 5, 3);
    free(c.v);
}
END_TEST

START_TEST(test_trace_reduce_write_after_read_is_an_upgrade)
{
    /* lackey " L" then " S" on the same page: R then W record */
    write_plain("l.txt", " L 00005010,8\n S 00005018,8\n L 00005000,4\n S 00005ff8,8\n");
    struct recs c = parse_ok(tpath("l.txt"), SIM_TRACE_LACKEY, NULL);
    ck_assert_uint_eq(c.n, 2);
    assert_rec(&c, 0, 'R', 5, 1);
    assert_rec(&c, 1, 'W', 5, 3);
    free(c.v);
}
END_TEST

START_TEST(test_trace_reduce_exec_after_read_is_an_upgrade)
{
    struct recs c = reduce_seq("RXRX", (const uint64_t[]){ 7, 7, 7, 7 });
    ck_assert_uint_eq(c.n, 2);
    assert_rec(&c, 0, 'R', 7, 1);
    assert_rec(&c, 1, 'X', 7, 3);
    free(c.v);
}
END_TEST

START_TEST(test_trace_reduce_read_after_write_or_exec_is_not_recorded)
{
    struct recs c = reduce_seq("WRXR", (const uint64_t[]){ 1, 1, 2, 2 });
    ck_assert_uint_eq(c.n, 2);
    assert_rec(&c, 0, 'W', 1, 2);
    assert_rec(&c, 1, 'X', 2, 2);
    free(c.v);
}
END_TEST

START_TEST(test_trace_reduce_write_mark_does_not_cover_exec)
{
    /* w does not imply x: a W page fetched as code is a new X record, and
     * an X page written is a new W record */
    struct recs c = reduce_seq("WXXW", (const uint64_t[]){ 3, 3, 3, 3 });
    ck_assert_uint_eq(c.n, 2);
    assert_rec(&c, 0, 'W', 3, 1);
    assert_rec(&c, 1, 'X', 3, 3);
    free(c.v);
}
END_TEST

START_TEST(test_trace_reduce_counts_go_to_the_most_recent_record)
{
    /* R a, R b, R a, R a: a is in the window, its accesses count to b's
     * record, the most recently emitted one */
    struct recs c = reduce_seq("RRRR", (const uint64_t[]){ 10, 11, 10, 10 });
    ck_assert_uint_eq(c.n, 2);
    assert_rec(&c, 0, 'R', 10, 1);
    assert_rec(&c, 1, 'R', 11, 3);
    free(c.v);
}
END_TEST

START_TEST(test_trace_reduce_window_evicts_at_17_pages)
{
    char ops[64];
    uint64_t pages[64];
    int n = 0;
    /* 16 distinct pages, then the first again: still in the window */
    for (int i = 0; i < 16; i++) {
        ops[n] = 'R';
        pages[n++] = 100 + (uint64_t)i;
    }
    ops[n] = 'R';
    pages[n++] = 100;
    ops[n] = 0;
    struct recs c = reduce_seq(ops, pages);
    ck_assert_uint_eq(c.n, 16);
    assert_rec(&c, 15, 'R', 115, 2);
    free(c.v);

    /* 17 distinct pages, then the first again: it was evicted */
    n = 0;
    for (int i = 0; i < 17; i++) {
        ops[n] = 'R';
        pages[n++] = 100 + (uint64_t)i;
    }
    ops[n] = 'R';
    pages[n++] = 100;
    ops[n] = 0;
    c = reduce_seq(ops, pages);
    ck_assert_uint_eq(c.n, 18);
    assert_rec(&c, 16, 'R', 116, 1);
    assert_rec(&c, 17, 'R', 100, 1);
    free(c.v);
}
END_TEST

START_TEST(test_trace_reduce_evicts_the_least_recently_used_page)
{
    char ops[64];
    uint64_t pages[64];
    int n = 0;
    for (int i = 0; i < 16; i++) {
        ops[n] = 'R';
        pages[n++] = 200 + (uint64_t)i;
    }
    ops[n] = 'R';                       /* 200 moves to the front */
    pages[n++] = 200;
    ops[n] = 'R';                       /* 216 enters: evicts 201, not 200 */
    pages[n++] = 216;
    ops[n] = 'R';                       /* 200: in the window, counted */
    pages[n++] = 200;
    ops[n] = 'R';                       /* 201: evicted, new record */
    pages[n++] = 201;
    ops[n] = 0;
    struct recs c = reduce_seq(ops, pages);
    ck_assert_uint_eq(c.n, 18);
    assert_rec(&c, 15, 'R', 215, 2);
    assert_rec(&c, 16, 'R', 216, 2);
    assert_rec(&c, 17, 'R', 201, 1);
    free(c.v);
}
END_TEST

START_TEST(test_trace_reduce_evicted_page_loses_its_marks)
{
    char ops[64];
    uint64_t pages[64];
    int n = 0;
    ops[n] = 'W';
    pages[n++] = 1;
    for (int i = 0; i < 16; i++) {
        ops[n] = 'R';
        pages[n++] = 50 + (uint64_t)i;
    }
    ops[n] = 'R';                       /* re-enters without w: a record */
    pages[n++] = 1;
    ops[n] = 'W';                       /* and the write is an upgrade again */
    pages[n++] = 1;
    ops[n] = 0;
    struct recs c = reduce_seq(ops, pages);
    ck_assert_uint_eq(c.n, 19);
    assert_rec(&c, 0, 'W', 1, 1);
    assert_rec(&c, 17, 'R', 1, 1);
    assert_rec(&c, 18, 'W', 1, 1);
    free(c.v);
}
END_TEST

START_TEST(test_trace_reduce_counts_sum_to_accesses_fed)
{
    struct sim_trace_reduce r;
    struct sim_trace_rec done;
    uint64_t sum = 0, x = 12345;
    sim_trace_reduce_init(&r);
    for (int i = 0; i < 100000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint8_t op = "XRW"[(x >> 33) % 3];
        if (sim_trace_reduce_feed(&r, op, (x >> 40) % 40, &done))
            sum += done.count;
    }
    ck_assert_uint_eq(r.total_accesses, 100000);
    uint64_t records = r.nr_records;
    ck_assert(sim_trace_reduce_finish(&r, &done));
    sum += done.count;
    ck_assert_uint_eq(sum, 100000);
    ck_assert_uint_gt(records, 100);
    ck_assert(!sim_trace_reduce_finish(&r, &done));
}
END_TEST

START_TEST(test_trace_lackey_lines_map_to_ops_and_pages)
{
    write_plain("l.txt", "==42== Lackey, an example Valgrind tool\n"
                         "==42== Command: /usr/bin/ls -l /tmp\n"
                         "I  0401ab70,3\n"
                         " M 1fff0005a8,8\n"
                         " L 0000000000001fff,1\n"
                         " S 00001000,4\n"
                         "==42== \n"
                         "==42== Exit code:       0\n");
    struct sim_trace_stats st;
    struct recs c = parse_ok(tpath("l.txt"), SIM_TRACE_AUTO, &st);
    ck_assert_int_eq(st.format, SIM_TRACE_LACKEY);
    ck_assert_str_eq(st.program, "ls");
    ck_assert_str_eq(st.command, "/usr/bin/ls -l /tmp");
    ck_assert(st.has_trailer);
    ck_assert(!st.truncated);
    ck_assert_uint_eq(c.n, 4);
    assert_rec(&c, 0, 'X', 0x401a, 1);
    assert_rec(&c, 1, 'W', 0x1fff000, 1);
    assert_rec(&c, 2, 'R', 1, 1);
    assert_rec(&c, 3, 'W', 1, 1);
    ck_assert_uint_eq(st.total_accesses, 4);
    ck_assert_uint_eq(st.distinct_pages, 3);
    free(c.v);
}
END_TEST

/* The reader notes the first address each paging mode refuses (by the
 * line it is on, lackey's too, before reduction) and the regions the
 * page tables need; canonical upper-half addresses are not refused. */
START_TEST(test_trace_noncanonical_lines_and_table_regions_are_noted)
{
    write_plain("nc.txt", "==7== Command: ./a\n"
                          "I  04001000,3\n"
                          " L ffffffffff600000,8\n"
                          " L 0000800000000010,8\n"
                          " S 0100000000000000,8\n"
                          " L 0000800000000020,8\n");
    struct sim_trace_stats st;
    struct recs c = parse_ok(tpath("nc.txt"), SIM_TRACE_AUTO, &st);
    ck_assert_uint_eq(st.noncanon_line[0], 4);
    ck_assert_uint_eq(st.noncanon_addr[0], 0x800000000010ull);
    ck_assert_uint_eq(st.noncanon_line[1], 5);
    ck_assert_uint_eq(st.noncanon_addr[1], 0x100000000000000ull);
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_check_canonical("nc.txt", &st, 4, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "nc.txt:4: expected an address canonical for 4-level paging "
                            "(bits 63:47 all equal; vm.paging_levels), got 0x800000000010");
    free(c.v);
    /* two pages in one 2 MiB region, one far away, and the vsyscall page */
    write_plain("ok.txt", "# vmsim pagetrace v1 page_size=4096 program=t\n"
                          "R 400 1\nW 401 1\nR 7f0000000 1\nR ffffffffff600 1\n");
    c = parse_ok(tpath("ok.txt"), SIM_TRACE_AUTO, &st);
    ck_assert_uint_eq(st.noncanon_line[0], 0);
    ck_assert_uint_eq(st.noncanon_line[1], 0);
    ck_assert_int_eq(sim_trace_check_canonical("ok.txt", &st, 4, NULL), 0);
    ck_assert_uint_eq(st.distinct_regions[0], 3);      /* PTs */
    ck_assert_uint_eq(st.distinct_regions[1], 3);      /* PDs */
    ck_assert_uint_eq(st.distinct_regions[2], 3);      /* PDPTs */
    ck_assert_uint_eq(sim_trace_table_pages(&st, 4), 1 + 9);
    ck_assert_uint_eq(sim_trace_table_pages(&st, 5), 1 + 9 + st.distinct_regions[3]);
    free(c.v);
}
END_TEST

/* ============================================================ pagetrace */

START_TEST(test_trace_pagetrace_comments_anywhere_and_trailer)
{
    write_gz("t.pagetrace.gz", PT_HDR "# a comment\nX 401a 2\n#\nW 1fff000 1\n# another\n"
                               "R 0 7\n# total_accesses=10 records=3 truncated=no\n");
    struct sim_trace_stats st;
    struct recs c = parse_ok(tpath("t.pagetrace.gz"), SIM_TRACE_AUTO, &st);
    ck_assert_uint_eq(c.n, 3);
    assert_rec(&c, 0, 'X', 0x401a, 2);
    assert_rec(&c, 1, 'W', 0x1fff000, 1);
    assert_rec(&c, 2, 'R', 0, 7);
    ck_assert_str_eq(st.program, "test");
    ck_assert(st.has_trailer);
    ck_assert(!st.truncated);
    ck_assert_uint_eq(st.nr_lines, 8);
    free(c.v);
}
END_TEST

START_TEST(test_trace_plain_and_gzip_read_the_same)
{
    const char *text = PT_HDR "X 10 3\nR abc 1\nW fffffffffffff 9\n";
    write_plain("p.txt", text);
    write_gz("p.gz", text);
    struct recs a = parse_ok(tpath("p.txt"), SIM_TRACE_PAGETRACE, NULL);
    struct recs b = parse_ok(tpath("p.gz"), SIM_TRACE_PAGETRACE, NULL);
    ck_assert_uint_eq(a.n, 3);
    ck_assert_uint_eq(b.n, 3);
    for (size_t i = 0; i < 3; i++)          /* field by field: the struct has padding */
        assert_rec(&b, i, (char)a.v[i].op, a.v[i].page, a.v[i].count);
    assert_rec(&a, 2, 'W', 0xfffffffffffffull, 9);
    free(a.v);
    free(b.v);
}
END_TEST

START_TEST(test_trace_last_line_without_newline_is_read)
{
    write_plain("p.txt", PT_HDR "R 1 2\nW 2 3");
    struct recs c = parse_ok(tpath("p.txt"), SIM_TRACE_AUTO, NULL);
    ck_assert_uint_eq(c.n, 2);
    assert_rec(&c, 1, 'W', 2, 3);
    free(c.v);
}
END_TEST

START_TEST(test_trace_missing_trailer_counts_as_truncated)
{
    write_plain("p.txt", PT_HDR "R 1 2\n");
    struct sim_trace_stats st;
    struct recs c = parse_ok(tpath("p.txt"), SIM_TRACE_AUTO, &st);
    ck_assert(!st.has_trailer);
    ck_assert(st.truncated);
    free(c.v);
}
END_TEST

START_TEST(test_trace_count_above_32_bits_stays_one_binary_record)
{
    write_plain("big.txt", PT_HDR "R 1 4294967300\nW 2 1\n");
    struct sim_trace *t;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open(tpath("big.txt"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert_uint_eq(sim_trace_nr_records(t), 2);
    ck_assert_uint_eq(sim_trace_total_accesses(t), 4294967301ull);
    ck_assert_uint_eq(sim_trace_distinct_pages(t), 2);
    const struct sim_access *a = sim_trace_records(t);
    ck_assert_uint_eq(a[0].count, 4294967300ull);
    ck_assert_uint_eq(sim_access_page(&a[0]), 1);
    ck_assert_int_eq(sim_access_op(&a[0]), 'R');
    ck_assert_uint_eq(a[1].count, 1);
    ck_assert_uint_eq(sim_access_page(&a[1]), 2);
    ck_assert_int_eq(sim_access_op(&a[1]), 'W');
    sim_trace_close(t);
}
END_TEST

/* The largest legal count (19 digits) used to become 2.3e9 binary records
 * (37 GB); the cache must stay one record per source record. */
START_TEST(test_trace_huge_count_cache_is_proportional_to_the_source)
{
    const char *text = PT_HDR "X 401a 2\nW 4000 9999999999999999999\nR 1 4294967300\n"
                              "W fffffffffffff 1\n";
    const uint64_t total = 2 + 9999999999999999999ull + 4294967300ull + 1;
    write_plain("huge.txt", text);
    struct sim_trace_stats st;
    struct recs src = parse_ok(tpath("huge.txt"), SIM_TRACE_AUTO, &st);
    ck_assert_uint_eq(st.nr_records, 4);
    ck_assert_uint_eq(st.total_accesses, total);
    free(src.v);

    /* `vmsim trace convert` into a cache folder */
    char cache[1024];
    snprintf(cache, sizeof(cache), "%s/cache", tmpdir);
    char *conv[] = { "convert", (char *)tpath("huge.txt"), "--cache-dir", cache, NULL };
    ck_assert_int_eq(sim_trace_main(4, conv), 0);
    ck_assert_int_eq(test_tmpdir_count(cache), 1);

    struct sim_trace *t;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open_in(tpath("huge.txt"), SIM_TRACE_AUTO, cache, &t, &d), 0);
    ck_assert(!sim_trace_cache_built(t));
    ck_assert_uint_eq(sim_trace_nr_records(t), st.nr_records);
    ck_assert_uint_eq(sim_trace_total_accesses(t), total);
    struct stat sb;
    ck_assert_int_eq(stat(sim_trace_cache_path(t), &sb), 0);
    ck_assert_int_eq(sb.st_size, 128 + 4 * 16);

    /* what replay sums: the 64-bit counts of the mapped records */
    const struct sim_access *a = sim_trace_records(t);
    uint64_t replayed = 0;
    for (uint64_t i = 0; i < sim_trace_nr_records(t); i++)
        replayed += a[i].count;
    ck_assert_uint_eq(replayed, total);
    ck_assert_uint_eq(a[1].count, 9999999999999999999ull);
    ck_assert_uint_eq(sim_access_page(&a[1]), 0x4000);
    ck_assert_int_eq(sim_access_op(&a[1]), SIM_OP_WRITE);
    ck_assert_uint_eq(sim_access_page(&a[3]), 0xfffffffffffffull);     /* the largest page */
    ck_assert_int_eq(sim_access_op(&a[3]), SIM_OP_WRITE);
    sim_trace_close(t);
}
END_TEST

START_TEST(test_trace_record_compute_cost_saturates)
{
    ck_assert_uint_eq(sim_access_cost_ns(4294967300ull, 2), 8589934600ull);
    ck_assert_uint_eq(sim_access_cost_ns(1, 100), 100);
    ck_assert_uint_eq(sim_access_cost_ns(9999999999999999999ull, 1), 9999999999999999999ull);
    ck_assert_uint_eq(sim_access_cost_ns(9999999999999999999ull, 2), UINT64_MAX);
    ck_assert_uint_eq(sim_access_cost_ns(UINT64_MAX, UINT64_MAX), UINT64_MAX);
    ck_assert_uint_eq(sim_access_cost_ns(9999999999999999999ull, 0), 0);
    struct sim_access a = sim_access_make(0xfffffffffffffull, SIM_OP_EXEC, UINT64_MAX);
    ck_assert_uint_eq(sim_access_page(&a), 0xfffffffffffffull);
    ck_assert_int_eq(sim_access_op(&a), SIM_OP_EXEC);
    ck_assert_uint_eq(a.count, UINT64_MAX);
    a = sim_access_make(SIM_ACCESS_PAGE_MAX, SIM_OP_WRITE, 1);
    ck_assert_uint_eq(sim_access_page(&a), SIM_ACCESS_PAGE_MAX);
    ck_assert_int_eq(sim_access_op(&a), SIM_OP_WRITE);
}
END_TEST

/* ============================================================ errors */

START_TEST(test_trace_error_bad_header)
{
    expect_parse_error("# vmsim pagetrace v2 page_size=4096 program=x\nR 1 1\n", SIM_TRACE_PAGETRACE,
                       "1: expected '# vmsim pagetrace v1 page_size=4096 program=NAME', got "
                       "'# vmsim pagetrace v2 page_size=4096 program=x'");
    expect_parse_error("# vmsim pagetrace v1 page_size=4096 program=\nR 1 1\n", SIM_TRACE_AUTO,
                       "1: expected a program name after 'program=', got end of line");
    expect_parse_error("hello\n", SIM_TRACE_AUTO,
                       "1: expected a vmsim pagetrace header or lackey output, got 'hello'");
}
END_TEST

START_TEST(test_trace_error_bad_op)
{
    expect_parse_error(PT_HDR "R 1 1\nQ 1 1\n", SIM_TRACE_AUTO,
                       "3: expected 'X', 'R' or 'W', got 'Q'");
    expect_parse_error(PT_HDR "r 1 1\n", SIM_TRACE_AUTO, "2: expected 'X', 'R' or 'W', got 'r'");
    expect_parse_error(PT_HDR "RW 1 1\n", SIM_TRACE_AUTO,
                       "2: expected ' ' and a page number after the op, got 'W 1 1'");
}
END_TEST

START_TEST(test_trace_error_uppercase_or_0x_hex)
{
    expect_parse_error(PT_HDR "R 1 1\n# c\nW 4A1c 3\n", SIM_TRACE_AUTO,
                       "4: expected a lowercase hex page number without '0x', got '4A1c'");
    expect_parse_error(PT_HDR "W 0x4a1c 3\n", SIM_TRACE_AUTO,
                       "2: expected a lowercase hex page number without '0x', got '0x4a1c'");
    expect_parse_error(PT_HDR "W 04a1c 3\n", SIM_TRACE_AUTO,
                       "2: expected a hex page number without leading zeros, got '04a1c'");
    expect_parse_error(PT_HDR "W 10000000000000 3\n", SIM_TRACE_AUTO,
                       "2: expected a page number of at most 13 hex digits, got '10000000000000'");
}
END_TEST

START_TEST(test_trace_error_count_zero)
{
    expect_parse_error(PT_HDR "R 1 1\nR 2 0\n", SIM_TRACE_AUTO, "3: expected a count >= 1, got '0'");
    expect_parse_error(PT_HDR "R 2 -1\n", SIM_TRACE_AUTO,
                       "2: expected a decimal count >= 1, got '-1'");
}
END_TEST

START_TEST(test_trace_error_missing_field)
{
    expect_parse_error(PT_HDR "R 1 1\nX 401a\n", SIM_TRACE_AUTO,
                       "3: expected ' ' and a count after the page, got end of line");
    expect_parse_error(PT_HDR "X 401a \n", SIM_TRACE_AUTO,
                       "2: expected a decimal count >= 1, got end of line");
    expect_parse_error(PT_HDR "X\n", SIM_TRACE_AUTO,
                       "2: expected ' ' and a page number after the op, got end of line");
    expect_parse_error(PT_HDR "R 1 1\n\n", SIM_TRACE_AUTO,
                       "3: expected a record 'OP PAGE COUNT' or a '#' comment, got end of line");
}
END_TEST

START_TEST(test_trace_error_trailing_garbage)
{
    expect_parse_error(PT_HDR "R 1 1 x\n", SIM_TRACE_AUTO,
                       "2: expected end of line after the count, got ' x'");
    expect_parse_error(PT_HDR "R 1 12\r\n", SIM_TRACE_AUTO,
                       "2: expected end of line after the count, got '\\r'");
    expect_parse_error(PT_HDR "R 1 1\n# total_accesses=5 records=1 truncated=no\n", SIM_TRACE_AUTO,
                       "3: expected the trailer to match the records before it "
                       "(total_accesses=1 records=1), got total_accesses=5 records=1");
}
END_TEST

START_TEST(test_trace_error_bad_lackey_line)
{
    expect_parse_error("==1== Command: x\nI  0401ab70,3\nhello from the program\n", SIM_TRACE_AUTO,
                       "3: expected a lackey line 'I  ADDR,SIZE', ' L|S|M ADDR,SIZE' or '==PID== ...', "
                       "got 'hello from the program'");
    expect_parse_error(" L 0401zz70,3\n", SIM_TRACE_LACKEY,
                       "1: expected ',' and a size after the address, got 'zz70,3'");
    expect_parse_error(" S 0401ab70,\n", SIM_TRACE_LACKEY, "1: expected a decimal size, got end of line");
    expect_parse_error(PT_HDR, SIM_TRACE_LACKEY,
                       "1: expected a lackey line 'I  ADDR,SIZE', ' L|S|M ADDR,SIZE' or '==PID== ...', "
                       "got '# vmsim pagetrace v1 page_size=4096 program=test'");
}
END_TEST

/* With --log-fd=1 the traced program's output is interleaved: only
 * Valgrind's own "==PID== ", "--PID-- " and "**PID** " lines (decimal PID,
 * the same marker on both sides, then a space or the end of the line) are
 * skipped; anything else is a located error. */
#define VG_ERR "expected a Valgrind line '==PID== ...', '--PID-- ...' or '**PID** ...' with a " \
               "decimal PID, got "
START_TEST(test_trace_error_program_output_in_lackey)
{
    expect_parse_error("==7== Command: /bin/true\nI  00001000,4\n--verbose mode on\n L 00002000,8\n",
                       SIM_TRACE_AUTO, "3: " VG_ERR "'--verbose mode on'");
    expect_parse_error("==7== Command: /bin/true\nI  00001000,4\n L 00002000,8\n"
                       "==not-valgrind== Exit code: 0\n",
                       SIM_TRACE_AUTO, "4: " VG_ERR "'==not-valgrind== Exit code: 0'");
    expect_parse_error("I  00001000,4\n** warning: no pid here\n", SIM_TRACE_LACKEY,
                       "2: " VG_ERR "'** warning: no pid here'");
    expect_parse_error("==7== Command: x\n==7==Exit code: 0\n", SIM_TRACE_AUTO,
                       "2: " VG_ERR "'==7==Exit code: 0'");
    expect_parse_error("==7== Command: x\n==7-- mixed\n", SIM_TRACE_AUTO, "2: " VG_ERR "'==7-- mixed'");
    expect_parse_error("==7== Command: x\n==== 0\n", SIM_TRACE_AUTO, "2: " VG_ERR "'==== 0'");
    expect_parse_error("==7== Command: x\n**7* x\n", SIM_TRACE_AUTO, "2: " VG_ERR "'**7* x'");
    expect_parse_error("==7== Command: x\n--12345678901-- x\n", SIM_TRACE_AUTO,
                       "2: " VG_ERR "'--12345678901-- x'");
    expect_parse_error("==7== Command: x\nI  00001000,4\nhello Exit code: 0\n", SIM_TRACE_AUTO,
                       "3: expected a lackey line 'I  ADDR,SIZE', ' L|S|M ADDR,SIZE' or '==PID== ...', "
                       "got 'hello Exit code: 0'");
    /* auto-detection follows the same rule */
    expect_parse_error("--verbose mode on\nI  00001000,4\n", SIM_TRACE_AUTO,
                       "1: expected a vmsim pagetrace header or lackey output, got '--verbose mode on'");
    expect_parse_error("==x== Command: /bin/true\nI  00001000,4\n", SIM_TRACE_AUTO,
                       "1: expected a vmsim pagetrace header or lackey output, got "
                       "'==x== Command: /bin/true'");
}
END_TEST

START_TEST(test_trace_lackey_valgrind_lines_are_skipped)
{
    write_plain("l.txt", "==123== Lackey, an example Valgrind tool\n"
                         "==123== Command: /bin/true --version\n"
                         "==123== \n"
                         "==123==\n"
                         "--123-- Valgrind options:\n"
                         "--123--    --tool=lackey\n"
                         "**123** warning: something internal\n"
                         "I  00001000,4\n"
                         " L 00002000,8\n"
                         "==123== Exit code:       0\n");
    struct sim_trace_stats st;
    struct recs c = parse_ok(tpath("l.txt"), SIM_TRACE_AUTO, &st);
    ck_assert_int_eq(st.format, SIM_TRACE_LACKEY);
    ck_assert_str_eq(st.command, "/bin/true --version");
    ck_assert_str_eq(st.program, "true");
    ck_assert(st.has_trailer);
    ck_assert(!st.truncated);
    ck_assert_uint_eq(st.nr_lines, 10);
    ck_assert_uint_eq(c.n, 2);
    free(c.v);
    /* sniffed from a "--PID--" or "**PID**" first line too */
    write_plain("m.txt", "--5-- x\nI  00001000,4\n");
    c = parse_ok(tpath("m.txt"), SIM_TRACE_AUTO, &st);
    ck_assert_int_eq(st.format, SIM_TRACE_LACKEY);
    ck_assert(st.truncated);
    free(c.v);
    write_plain("m.txt", "**5**\nI  00001000,4\n");
    c = parse_ok(tpath("m.txt"), SIM_TRACE_AUTO, &st);
    ck_assert_int_eq(st.format, SIM_TRACE_LACKEY);
    free(c.v);
}
END_TEST

/* The command and the completion mark come from Valgrind's own
 * "==PID== Command: " and "==PID== Exit code:" lines only, the mark from
 * the process the command names. */
START_TEST(test_trace_lackey_command_and_exit_only_from_valgrind_lines)
{
    struct sim_trace_stats st;
    struct recs c;
    /* "Command:" / "Exit code:" inside another Valgrind line */
    write_plain("l.txt", "==123== Command: /bin/true\n"
                         "--123-- Command: /bin/false\n"
                         "==123== note: Exit code: 0 is not at the start\n"
                         "I  00001000,4\n"
                         "--123-- Exit code: 0\n"
                         "**123** Exit code: 0\n");
    c = parse_ok(tpath("l.txt"), SIM_TRACE_AUTO, &st);
    ck_assert_str_eq(st.command, "/bin/true");
    ck_assert(!st.has_trailer);
    ck_assert(st.truncated);
    free(c.v);
    /* another process's exit (a forked child) does not complete the run */
    write_plain("l.txt", "==123== Command: /bin/true\nI  00001000,4\n==124== Exit code: 0\n");
    c = parse_ok(tpath("l.txt"), SIM_TRACE_AUTO, &st);
    ck_assert(st.truncated);
    free(c.v);
    write_plain("l.txt", "==123== Command: /bin/true\nI  00001000,4\n==123== Exit code: 0\n");
    c = parse_ok(tpath("l.txt"), SIM_TRACE_AUTO, &st);
    ck_assert(!st.truncated);
    free(c.v);
    /* without a Command: line, any process's exit line counts */
    write_plain("l.txt", "I  00001000,4\n==9== Exit code: 0\n");
    c = parse_ok(tpath("l.txt"), SIM_TRACE_AUTO, &st);
    ck_assert(!st.truncated);
    ck_assert_str_eq(st.command, "");
    free(c.v);
}
END_TEST

START_TEST(test_trace_error_truncated_gzip)
{
    /* 2 + 1000 lines; cut the gzip trailer (CRC and size): every line is
     * read, then the stream ends early */
    size_t cap = 64 * 1024;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    size_t n = (size_t)snprintf(text, cap, "%s", PT_HDR);
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(text + n, cap - n, "R %x %d\n", i + 1, i + 1);
    write_gz("t.gz", text);
    free(text);
    struct stat sb;
    ck_assert_int_eq(stat(tpath("t.gz"), &sb), 0);
    ck_assert_int_eq(truncate(tpath("t.gz"), sb.st_size - 8), 0);
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_parse(tpath("t.gz"), SIM_TRACE_AUTO, NULL, NULL, NULL, &d), VM_EPARSE);
    char want[1024];
    snprintf(want, sizeof(want),
             "%s:1002: expected more gzip data, got unexpected end of file (truncated gzip)",
             tpath("t.gz"));
    ck_assert_str_eq(d.msg, want);

    /* cut in the middle: an error on a line inside the file */
    ck_assert_int_eq(truncate(tpath("t.gz"), sb.st_size / 2), 0);
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_validate(tpath("t.gz"), SIM_TRACE_AUTO, &d), VM_EPARSE);
    ck_assert_ptr_nonnull(strstr(d.msg, "truncated gzip"));
}
END_TEST

START_TEST(test_trace_error_missing_file_is_enoent)
{
    struct vm_diag d;
    struct sim_trace *t = (struct sim_trace *)&d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_parse(tpath("nope.gz"), SIM_TRACE_AUTO, NULL, NULL, NULL, &d), VM_ENOENT);
    char want[1024];
    snprintf(want, sizeof(want), "'%s': no such file", tpath("nope.gz"));
    ck_assert_str_eq(d.msg, want);
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_validate(tpath("nope.gz"), SIM_TRACE_AUTO, &d), VM_ENOENT);
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open(tpath("nope.gz"), SIM_TRACE_AUTO, &t, &d), VM_ENOENT);
    ck_assert_ptr_null(t);
    ck_assert_int_eq(test_tmpdir_count(tmpdir), 0);
}
END_TEST

START_TEST(test_trace_error_empty_file_and_no_records)
{
    expect_parse_error("", SIM_TRACE_AUTO,
                       "1: expected a vmsim pagetrace header or lackey output, got end of file");
    expect_parse_error("", SIM_TRACE_PAGETRACE,
                       "1: expected '# vmsim pagetrace v1 page_size=4096 program=NAME', got end of file");
    write_plain("h.txt", PT_HDR "# nothing else\n");
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_parse(tpath("h.txt"), SIM_TRACE_AUTO, NULL, NULL, NULL, &d), 0);
    ck_assert_int_eq(sim_trace_validate(tpath("h.txt"), SIM_TRACE_AUTO, &d), VM_EPARSE);
    char want[1024];
    snprintf(want, sizeof(want), "%s: expected at least one record, got none", tpath("h.txt"));
    ck_assert_str_eq(d.msg, want);
}
END_TEST

START_TEST(test_trace_bad_trace_leaves_no_cache_file)
{
    write_gz("bad.gz", PT_HDR "R 1 1\nR 2 1\nQ 3 1\n");
    char cache[1024];
    snprintf(cache, sizeof(cache), "%s/cache", tmpdir);
    struct sim_trace *t;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open(tpath("bad.gz"), SIM_TRACE_AUTO, &t, &d), VM_EPARSE);
    ck_assert_ptr_null(t);
    ck_assert_int_eq(test_tmpdir_count(tmpdir), 1);              /* bad.gz alone */
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open_in(tpath("bad.gz"), SIM_TRACE_AUTO, cache, &t, &d), VM_EPARSE);
    ck_assert_int_eq(test_tmpdir_count(cache), 0);
    write_plain("empty.txt", PT_HDR);
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open(tpath("empty.txt"), SIM_TRACE_AUTO, &t, &d), VM_EPARSE);
    ck_assert_int_eq(test_tmpdir_count(tmpdir), 3);              /* bad.gz, cache/, empty.txt */
}
END_TEST

START_TEST(test_trace_validate_writes_nothing)
{
    write_gz("ok.gz", PT_HDR "R 1 1\n");
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_validate(tpath("ok.gz"), SIM_TRACE_AUTO, &d), 0);
    ck_assert_int_eq(test_tmpdir_count(tmpdir), 1);
}
END_TEST

/* ============================================================ cache */

static ino_t inode_of(const char *p)
{
    struct stat sb;
    ck_assert_int_eq(stat(p, &sb), 0);
    return sb.st_ino;
}

START_TEST(test_trace_cache_created_next_to_the_source_then_reused)
{
    write_gz("c.pagetrace.gz", PT_HDR "R 1 1\nW 2 3\n");
    struct sim_trace *t;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open(tpath("c.pagetrace.gz"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert(sim_trace_cache_built(t));
    char want[1024];
    snprintf(want, sizeof(want), "%s.vmtrace", tpath("c.pagetrace.gz"));
    ck_assert_str_eq(sim_trace_cache_path(t), want);
    ck_assert_uint_eq(sim_trace_nr_records(t), 2);
    ck_assert_uint_eq(sim_trace_total_accesses(t), 4);
    ck_assert_uint_eq(sim_trace_distinct_pages(t), 2);
    ck_assert(sim_trace_truncated(t));
    sim_trace_close(t);
    struct stat sb;
    ck_assert_int_eq(stat(want, &sb), 0);
    ck_assert_int_eq(sb.st_size, 128 + 2 * 16);
    ino_t ino = sb.st_ino;

    ck_assert_int_eq(sim_trace_open(tpath("c.pagetrace.gz"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert(!sim_trace_cache_built(t));
    ck_assert_uint_eq(inode_of(want), ino);
    ck_assert_uint_eq(sim_trace_records(t)[1].count, 3);
    sim_trace_close(t);
    ck_assert_int_eq(test_tmpdir_count(tmpdir), 2);              /* no temporary left */
}
END_TEST

START_TEST(test_trace_cache_rebuilt_when_the_source_changes)
{
    write_plain("c.txt", PT_HDR "R 1 1\n");
    struct sim_trace *t;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open(tpath("c.txt"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert(sim_trace_cache_built(t));
    sim_trace_close(t);

    write_plain("c.txt", PT_HDR "R 1 1\nW 5 2\n");      /* new size */
    ck_assert_int_eq(sim_trace_open(tpath("c.txt"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert(sim_trace_cache_built(t));
    ck_assert_uint_eq(sim_trace_nr_records(t), 2);
    sim_trace_close(t);

    write_plain("c.txt", PT_HDR "R 1 1\nW 6 2\n");      /* same size, new mtime */
    struct timespec ts[2] = { { 0, UTIME_OMIT }, { 1000000000, 123456789 } };
    ck_assert_int_eq(utimensat(AT_FDCWD, tpath("c.txt"), ts, 0), 0);
    ck_assert_int_eq(sim_trace_open(tpath("c.txt"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert(sim_trace_cache_built(t));
    ck_assert_uint_eq(sim_access_page(&sim_trace_records(t)[1]), 6);
    sim_trace_close(t);

    /* touching only the mtime also rebuilds; leaving it alone does not */
    ts[1].tv_nsec = 123456790;
    ck_assert_int_eq(utimensat(AT_FDCWD, tpath("c.txt"), ts, 0), 0);
    ck_assert_int_eq(sim_trace_open(tpath("c.txt"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert(sim_trace_cache_built(t));
    sim_trace_close(t);
    ck_assert_int_eq(sim_trace_open(tpath("c.txt"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert(!sim_trace_cache_built(t));
    sim_trace_close(t);
}
END_TEST

START_TEST(test_trace_cache_rebuilt_when_its_header_is_bad)
{
    write_plain("c.txt", PT_HDR "R 1 1\nW 2 2\n");
    struct sim_trace *t;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open(tpath("c.txt"), SIM_TRACE_AUTO, &t, &d), 0);
    sim_trace_close(t);
    const char *cache = tpath("c.txt.vmtrace");

    int fd = open(cache, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "XXXX", 4, 0), 4);       /* bad magic */
    close(fd);
    ck_assert_int_eq(sim_trace_open(tpath("c.txt"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert(sim_trace_cache_built(t));
    sim_trace_close(t);

    ck_assert_int_eq(truncate(cache, 128 + 16), 0);     /* records cut off */
    ck_assert_int_eq(sim_trace_open(tpath("c.txt"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert(sim_trace_cache_built(t));
    ck_assert_uint_eq(sim_trace_nr_records(t), 2);
    sim_trace_close(t);

    ck_assert_int_eq(truncate(cache, 10), 0);           /* header cut off */
    ck_assert_int_eq(sim_trace_open(tpath("c.txt"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert(sim_trace_cache_built(t));
    sim_trace_close(t);
}
END_TEST

/* A cache of an older layout (version 1: 32-bit counts) is rebuilt. */
START_TEST(test_trace_cache_of_an_older_version_is_rebuilt)
{
    write_plain("c.txt", PT_HDR "R 1 1\nW 2 5\n");
    struct sim_trace *t;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open(tpath("c.txt"), SIM_TRACE_AUTO, &t, &d), 0);
    sim_trace_close(t);
    const char *cache = tpath("c.txt.vmtrace");
    uint32_t version;
    int fd = open(cache, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, &version, 4, 8), 4);
    ck_assert_uint_ge(version, 2);
    version = 1;
    ck_assert_int_eq(pwrite(fd, &version, 4, 8), 4);
    close(fd);
    ck_assert_int_eq(sim_trace_open(tpath("c.txt"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert(sim_trace_cache_built(t));
    ck_assert_uint_eq(sim_trace_records(t)[1].count, 5);
    sim_trace_close(t);
}
END_TEST

START_TEST(test_trace_cache_in_a_cache_folder_is_named_by_path)
{
    write_gz("a.gz", PT_HDR "R 1 1\n");
    char cache[1024];
    snprintf(cache, sizeof(cache), "%s/sub/cache", tmpdir);
    struct sim_trace *t;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open_in(tpath("a.gz"), SIM_TRACE_AUTO, cache, &t, &d), 0);
    ck_assert(sim_trace_cache_built(t));
    const char *p = sim_trace_cache_path(t);
    ck_assert_int_eq(strncmp(p, cache, strlen(cache)), 0);
    ck_assert_ptr_nonnull(strstr(p, "/a.gz."));
    ck_assert_int_eq(strcmp(p + strlen(p) - 8, ".vmtrace"), 0);
    sim_trace_close(t);
    ck_assert_int_eq(test_tmpdir_count(cache), 1);
    ck_assert_int_eq(test_tmpdir_count(tmpdir), 2);              /* a.gz, sub/: nothing next to a.gz */
    ck_assert_int_eq(sim_trace_open_in(tpath("a.gz"), SIM_TRACE_AUTO, cache, &t, &d), 0);
    ck_assert(!sim_trace_cache_built(t));
    sim_trace_close(t);
}
END_TEST

START_TEST(test_trace_lackey_source_opens_through_the_cache)
{
    write_gz("l.gz", "==9== Command: prog\nI  00001000,4\n L 00002000,8\n L 00002008,8\n");
    struct sim_trace *t;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open(tpath("l.gz"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert_uint_eq(sim_trace_nr_records(t), 2);
    ck_assert_uint_eq(sim_trace_total_accesses(t), 3);
    ck_assert(sim_trace_truncated(t));                  /* no "Exit code:" */
    const struct sim_access *a = sim_trace_records(t);
    ck_assert_int_eq(sim_access_op(&a[0]), SIM_OP_EXEC);
    ck_assert_uint_eq(sim_access_page(&a[0]), 1);
    ck_assert_int_eq(sim_access_op(&a[1]), SIM_OP_READ);
    ck_assert_uint_eq(sim_access_page(&a[1]), 2);
    ck_assert_uint_eq(a[1].count, 2);
    sim_trace_close(t);
}
END_TEST

/* ============================================================ tools */

START_TEST(test_trace_reduce_tool_writes_the_same_records)
{
    char out[1024];
    snprintf(out, sizeof(out), "%s/s.pagetrace.gz", tmpdir);
    char *argv[] = { "reduce", (char *)shipped("sqlite3.raw-lackey.gz"), "-o", out, NULL };
    ck_assert_int_eq(sim_trace_main(4, argv), 0);
    struct sim_trace_stats st;
    struct recs a = parse_ok(out, SIM_TRACE_PAGETRACE, &st);
    struct recs b = parse_ok(shipped("sqlite3.raw-lackey.gz"), SIM_TRACE_LACKEY, NULL);
    ck_assert_str_eq(st.program, "sqlite3");
    ck_assert(st.has_trailer);
    ck_assert(st.truncated);
    ck_assert_uint_eq(a.n, b.n);
    ck_assert_int_eq(memcmp(a.v, b.v, a.n * sizeof(*a.v)), 0);
    ck_assert_uint_eq(st.total_accesses, 199995);
    ck_assert_int_eq(test_tmpdir_count(tmpdir), 1);
    free(a.v);
    free(b.v);
}
END_TEST

START_TEST(test_trace_reduce_tool_program_option_and_complete_run)
{
    write_plain("l.txt", "I  00001000,4\n S 00002000,8\n==9== Exit code: 0\n");
    char out[1024];
    snprintf(out, sizeof(out), "%s/o.txt", tmpdir);
    char *argv[] = { "reduce", (char *)tpath("l.txt"), "--program", "myprog", "-o", out, NULL };
    ck_assert_int_eq(sim_trace_main(6, argv), 0);
    FILE *f = fopen(out, "r");
    ck_assert_ptr_nonnull(f);
    char line[256];
    ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
    ck_assert_str_eq(line, "# vmsim pagetrace v1 page_size=4096 program=myprog\n");
    char last[256] = "";
    while (fgets(line, sizeof(line), f))
        snprintf(last, sizeof(last), "%s", line);
    fclose(f);
    ck_assert_str_eq(last, "# total_accesses=2 records=2 truncated=no\n");
}
END_TEST

START_TEST(test_trace_reduce_tool_bad_input_writes_nothing)
{
    write_plain("l.txt", "I  00001000,4\ngarbage\n");
    char out[1024];
    snprintf(out, sizeof(out), "%s/o.pagetrace.gz", tmpdir);
    char *argv[] = { "reduce", (char *)tpath("l.txt"), "-o", out, NULL };
    ck_assert_int_eq(sim_trace_main(4, argv), 2);
    ck_assert_int_eq(test_tmpdir_count(tmpdir), 1);
    char *argv2[] = { "reduce", (char *)tpath("missing"), "-o", out, NULL };
    ck_assert_int_eq(sim_trace_main(4, argv2), 2);
    ck_assert_int_eq(test_tmpdir_count(tmpdir), 1);
}
END_TEST

START_TEST(test_trace_tools_stats_and_convert_exit_status)
{
    write_gz("ok.gz", PT_HDR "R 1 1\n");
    write_plain("bad.txt", PT_HDR "R 1 0\n");
    char cache[1024];
    snprintf(cache, sizeof(cache), "%s/cache", tmpdir);
    char *stats_ok[] = { "stats", (char *)tpath("ok.gz"), NULL };
    ck_assert_int_eq(sim_trace_main(2, stats_ok), 0);
    char *stats_bad[] = { "stats", (char *)tpath("ok.gz"), (char *)tpath("bad.txt"), NULL };
    ck_assert_int_eq(sim_trace_main(3, stats_bad), 2);
    char *conv[] = { "convert", (char *)tpath("ok.gz"), "--cache-dir", cache, NULL };
    ck_assert_int_eq(sim_trace_main(4, conv), 0);
    ck_assert_int_eq(test_tmpdir_count(cache), 1);
    char *conv_bad[] = { "convert", (char *)tpath("bad.txt"), "--cache-dir", cache, NULL };
    ck_assert_int_eq(sim_trace_main(4, conv_bad), 2);
    ck_assert_int_eq(test_tmpdir_count(cache), 1);
    char *unknown[] = { "frobnicate", NULL };
    ck_assert_int_eq(sim_trace_main(1, unknown), 2);
    char *badopt[] = { "stats", "--format", "xml", (char *)tpath("ok.gz"), NULL };
    ck_assert_int_eq(sim_trace_main(4, badopt), 2);
}
END_TEST

/* ============================================================ temporary files */

/* A pagetrace of about `lines` records (plain text, so the conversion
 * takes a while even where gzip would be fast): one block of 4096 records
 * over distinct pages, written again and again. */
static void write_long_pagetrace(const char *name, long lines)
{
    FILE *f = fopen(tpath(name), "w");
    ck_assert_ptr_nonnull(f);
    static char block[4096 * 32];
    size_t n = 0;
    for (long i = 0; i < 4096; i++)
        n += (size_t)snprintf(block + n, sizeof(block) - n, "%c %lx %ld\n", "XRW"[i % 3],
                              (unsigned long)(0x4000 + i * 7), 1 + i % 5);
    ck_assert_int_gt(fputs(PT_HDR, f), 0);
    for (long k = 0; k < lines / 4096; k++)
        ck_assert_uint_eq(fwrite(block, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static const int kill_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGPIPE };

/* Give the four signals their default actions, as in a vmsim process:
 * Check's fork mode leaves its own SIGTERM/SIGINT handlers (which kill the
 * whole test's process group) in the test process, and the registry
 * chains to whatever action it finds when it installs its handler. */
static void default_kill_signals(void)
{
    for (size_t i = 0; i < sizeof(kill_signals) / sizeof(kill_signals[0]); i++)
        signal(kill_signals[i], SIG_DFL);
}

/* A conversion killed by SIGTERM/SIGINT/SIGHUP/SIGPIPE once its temporary
 * cache file exists dies of that signal and leaves no file behind. */
START_TEST(test_trace_killed_conversion_leaves_no_temporary_file)
{
    int sig = kill_signals[_i];
    default_kill_signals();
    write_long_pagetrace("long.txt", 3000000);
    char cache[1024];
    snprintf(cache, sizeof(cache), "%s/cache", tmpdir);
    ck_assert_int_eq(mkdir(cache, 0755), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct sim_trace *t;
        struct vm_diag d;
        vm_diag_clear(&d);
        int rc = sim_trace_open_in(tpath("long.txt"), SIM_TRACE_AUTO, cache, &t, &d);
        _exit(rc == 0 ? 0 : 1);
    }
    bool seen = false;
    for (int i = 0; i < 60000 && !seen; i++) {        /* 60 s at most */
        seen = nr_files_with(cache, ".tmp.") > 0;
        if (!seen)
            nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    }
    if (seen)
        kill(pid, sig);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(seen, "no temporary cache file appeared");
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == sig,
                  "expected the child to die of signal %d, got status 0x%x (conversion too fast?)",
                  sig, status);
    ck_assert_int_eq(nr_files_with(cache, ".tmp."), 0);
    ck_assert_int_eq(test_tmpdir_count(cache), 0);               /* no half cache either */
}
END_TEST

/* At exit() the registered names are unlinked, the unregistered ones
 * (renamed into place) are not. */
START_TEST(test_tempfile_exit_removes_registered_files_only)
{
    write_plain("a.tmp", "a");
    write_plain("b.tmp", "b");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int rc = sim_tempfile_register(tpath("a.tmp"));
        rc |= sim_tempfile_register(tpath("b.tmp"));
        sim_tempfile_unregister(tpath("b.tmp"));
        sim_tempfile_unregister(tpath("never-registered"));
        exit(rc == 0 ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert(!exists(tpath("a.tmp")));
    ck_assert(exists(tpath("b.tmp")));
}
END_TEST

/* A child forked while a name is registered does not remove it when it
 * exits or is killed: only the process that registered it does. */
START_TEST(test_tempfile_forked_child_leaves_the_parents_files)
{
    default_kill_signals();
    write_plain("p.tmp", "p");
    ck_assert_int_eq(sim_tempfile_register(tpath("p.tmp")), 0);
    for (int k = 0; k < 2; k++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            if (k == 1)
                raise(SIGTERM);
            exit(0);
        }
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(exists(tpath("p.tmp")));
    }
    sim_tempfile_unregister(tpath("p.tmp"));
}
END_TEST

START_TEST(test_tempfile_table_is_bounded_and_mkstemp_registers)
{
    char name[64];
    int i = 0, rc = 0;
    for (; i < SIM_TEMPFILE_MAX + 1 && rc == 0; i++) {
        snprintf(name, sizeof(name), "t%d", i);
        rc = sim_tempfile_register(tpath(name));
    }
    ck_assert_int_eq(rc, VM_ENOSPC);
    ck_assert_int_eq(i, SIM_TEMPFILE_MAX + 1);
    char tmpl[1024];
    snprintf(tmpl, sizeof(tmpl), "%s/m.XXXXXX", tmpdir);
    errno = 0;
    ck_assert_int_eq(sim_tempfile_mkstemp(tmpl), -1);   /* full: nothing is left */
    ck_assert_int_eq(errno, ENOSPC);
    ck_assert_int_eq(nr_files_with(tmpdir, "m."), 0);
    for (i = 0; i < SIM_TEMPFILE_MAX; i++) {
        snprintf(name, sizeof(name), "t%d", i);
        sim_tempfile_unregister(tpath(name));
    }
    snprintf(tmpl, sizeof(tmpl), "%s/m.XXXXXX", tmpdir);
    int fd = sim_tempfile_mkstemp(tmpl);
    ck_assert_int_ge(fd, 0);
    close(fd);
    pid_t pid = fork();                                  /* the child registered nothing */
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        exit(0);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(exists(tmpl));
    char long_path[SIM_TEMPFILE_PATH_MAX + 8];
    memset(long_path, 'x', sizeof(long_path) - 1);
    long_path[sizeof(long_path) - 1] = 0;
    ck_assert_int_eq(sim_tempfile_register(long_path), VM_EINVAL);
    sim_tempfile_unregister(tmpl);
}
END_TEST

static Suite *trace_suite(void)
{
    Suite *s = suite_create("trace");
    TCase *tc = tcase_create("trace");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 0);
    int nr_rows = (int)(sizeof(rows) / sizeof(rows[0]));
    tcase_add_loop_test(tc, test_trace_shipped_totals_match_the_readme_table, 0, nr_rows);
    tcase_add_loop_test(tc, test_trace_shipped_traces_open_and_validate, 0, nr_rows);
    tcase_add_test(tc, test_trace_shipped_sqlite_first_records_are_exact);
    tcase_add_test(tc, test_trace_lackey_sample_equals_pagetrace_prefix);
    tcase_add_test(tc, test_trace_lackey_sample_binary_form_equals_pagetrace_prefix);
    tcase_add_test(tc, test_trace_reduce_repeated_reads_add_to_one_record);
    tcase_add_test(tc, test_trace_reduce_write_after_read_is_an_upgrade);
    tcase_add_test(tc, test_trace_reduce_exec_after_read_is_an_upgrade);
    tcase_add_test(tc, test_trace_reduce_read_after_write_or_exec_is_not_recorded);
    tcase_add_test(tc, test_trace_reduce_write_mark_does_not_cover_exec);
    tcase_add_test(tc, test_trace_reduce_counts_go_to_the_most_recent_record);
    tcase_add_test(tc, test_trace_reduce_window_evicts_at_17_pages);
    tcase_add_test(tc, test_trace_reduce_evicts_the_least_recently_used_page);
    tcase_add_test(tc, test_trace_reduce_evicted_page_loses_its_marks);
    tcase_add_test(tc, test_trace_reduce_counts_sum_to_accesses_fed);
    tcase_add_test(tc, test_trace_lackey_lines_map_to_ops_and_pages);
    tcase_add_test(tc, test_trace_noncanonical_lines_and_table_regions_are_noted);
    tcase_add_test(tc, test_trace_pagetrace_comments_anywhere_and_trailer);
    tcase_add_test(tc, test_trace_plain_and_gzip_read_the_same);
    tcase_add_test(tc, test_trace_last_line_without_newline_is_read);
    tcase_add_test(tc, test_trace_missing_trailer_counts_as_truncated);
    tcase_add_test(tc, test_trace_count_above_32_bits_stays_one_binary_record);
    tcase_add_test(tc, test_trace_huge_count_cache_is_proportional_to_the_source);
    tcase_add_test(tc, test_trace_record_compute_cost_saturates);
    tcase_add_test(tc, test_trace_error_bad_header);
    tcase_add_test(tc, test_trace_error_bad_op);
    tcase_add_test(tc, test_trace_error_uppercase_or_0x_hex);
    tcase_add_test(tc, test_trace_error_count_zero);
    tcase_add_test(tc, test_trace_error_missing_field);
    tcase_add_test(tc, test_trace_error_trailing_garbage);
    tcase_add_test(tc, test_trace_error_bad_lackey_line);
    tcase_add_test(tc, test_trace_error_program_output_in_lackey);
    tcase_add_test(tc, test_trace_lackey_valgrind_lines_are_skipped);
    tcase_add_test(tc, test_trace_lackey_command_and_exit_only_from_valgrind_lines);
    tcase_add_test(tc, test_trace_error_truncated_gzip);
    tcase_add_test(tc, test_trace_error_missing_file_is_enoent);
    tcase_add_test(tc, test_trace_error_empty_file_and_no_records);
    tcase_add_test(tc, test_trace_bad_trace_leaves_no_cache_file);
    tcase_add_test(tc, test_trace_validate_writes_nothing);
    tcase_add_test(tc, test_trace_cache_created_next_to_the_source_then_reused);
    tcase_add_test(tc, test_trace_cache_rebuilt_when_the_source_changes);
    tcase_add_test(tc, test_trace_cache_rebuilt_when_its_header_is_bad);
    tcase_add_test(tc, test_trace_cache_of_an_older_version_is_rebuilt);
    tcase_add_test(tc, test_trace_cache_in_a_cache_folder_is_named_by_path);
    tcase_add_test(tc, test_trace_lackey_source_opens_through_the_cache);
    tcase_add_test(tc, test_trace_reduce_tool_writes_the_same_records);
    tcase_add_test(tc, test_trace_reduce_tool_program_option_and_complete_run);
    tcase_add_test(tc, test_trace_reduce_tool_bad_input_writes_nothing);
    tcase_add_test(tc, test_trace_tools_stats_and_convert_exit_status);
    tcase_add_loop_test(tc, test_trace_killed_conversion_leaves_no_temporary_file, 0,
                        (int)(sizeof(kill_signals) / sizeof(kill_signals[0])));
    tcase_add_test(tc, test_tempfile_exit_removes_registered_files_only);
    tcase_add_test(tc, test_tempfile_forked_child_leaves_the_parents_files);
    tcase_add_test(tc, test_tempfile_table_is_bounded_and_mkstemp_registers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(trace_suite());
    /* every test in its own process: the temporary-file tests install
     * signal handlers and fork, which must not leak into other tests */
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
