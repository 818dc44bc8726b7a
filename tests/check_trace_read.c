/*
 * check_trace_read.c - Check suite "trace", reading traces: the shipped
 * traces against their README table, the reduction rule
 * (sim_trace_reduce.c), and the pagetrace and lackey readers
 * (sim/sim_trace.c) on good input.  Bad input is check_trace_errors.c;
 * the binary cache, the `vmsim trace` tools and the temporary files are
 * check_trace_cache.c.
 *
 * Shipped traces are read from $VMSIM_SRCDIR/workloads/traces and never
 * written to: their caches go into the test's temporary folder.  Every
 * other input is written into a fresh mkdtemp folder per test
 * (tests/trace_rig.*).
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
#include "trace_rig.h"

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

static Suite *trace_suite(void)
{
    Suite *s = suite_create("trace");
    TCase *tc = tcase_create("trace");
    tcase_add_checked_fixture(tc, trace_setup, trace_teardown);
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
