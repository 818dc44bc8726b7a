/*
 * check_trace_synth.c - Check suite "trace_synth": `vmsim trace synth`
 * (sim/sim_trace_synth.c).  Each test writes its traces into a fresh
 * mkdtemp folder and reads them back through the trace reader that replay
 * uses (sim_trace_open_in: parse, binary cache, records), then checks the
 * pattern's property: sequential pages consecutive, the stride, every page
 * once per chase lap in a non-address order, the Zipf top page's share,
 * the write fraction, X records on the code region, determinism byte for
 * byte; that the synthetic traces in workloads/traces/ come out of their
 * README commands byte for byte with the README's figures; and that bad
 * input, or a signal while writing, leaves nothing written.
 */
#include <check.h>
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim_trace.h"
#include "test_tmpdir.h"
#include "sim_trace_synth.h"

#define BASE_VPN (SIM_TRACE_SYNTH_BASE_ADDR >> 12)
#define CODE_VPN (SIM_TRACE_SYNTH_CODE_ADDR >> 12)

static char tmpdir[256];

static void setup(void)
{
    test_tmpdir_make(tmpdir, sizeof tmpdir, "check_trace_synth");
}

static void teardown(void)
{
    test_tmpdir_remove(tmpdir);
}

static const char *tpath(const char *name)
{
    static char p[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof(p[k]), "%s/%s", tmpdir, name);
    return p[k];
}

/* A trace read back: records copied out of the binary cache. */
struct back {
    struct sim_access *v;
    uint64_t n, total_accesses, distinct_pages;
    bool truncated;
};

static struct back write_and_read(const struct sim_trace_synth_cfg *c, const char *name)
{
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_msg(sim_trace_synth_write(c, tpath(name), &d) == 0, "%s", d.msg);
    char cache[1024];
    snprintf(cache, sizeof(cache), "%s/cache", tmpdir);
    struct sim_trace *t;
    ck_assert_msg(sim_trace_open_in(tpath(name), SIM_TRACE_PAGETRACE, cache, &t, &d) == 0, "%s", d.msg);
    struct back b = {
        .n = sim_trace_nr_records(t),
        .total_accesses = sim_trace_total_accesses(t),
        .distinct_pages = sim_trace_distinct_pages(t),
        .truncated = sim_trace_truncated(t),
    };
    b.v = malloc(b.n * sizeof(*b.v));
    ck_assert_ptr_nonnull(b.v);
    memcpy(b.v, sim_trace_records(t), b.n * sizeof(*b.v));
    sim_trace_close(t);
    return b;
}

static struct sim_trace_synth_cfg cfg(enum sim_trace_synth_pattern p, uint64_t pages, uint64_t records)
{
    struct sim_trace_synth_cfg c;
    sim_trace_synth_defaults(&c, p);
    c.nr_pages = pages;
    c.nr_records = records;
    return c;
}

static uint64_t page_at(const struct back *b, uint64_t i)
{
    return sim_access_page(&b->v[i]);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* ============================================================ patterns */

START_TEST(test_synth_sequential_pages_are_consecutive_and_wrap)
{
    struct sim_trace_synth_cfg c = cfg(SIM_TRACE_SYNTH_SEQUENTIAL, 1000, 2500);
    struct back b = write_and_read(&c, "seq.pagetrace.gz");
    ck_assert_uint_eq(b.n, 2500);
    for (uint64_t i = 0; i < b.n; i++) {
        ck_assert_uint_eq(page_at(&b, i), BASE_VPN + i % 1000);
        ck_assert_uint_eq(b.v[i].count, 512);          /* the pattern's default */
        ck_assert(sim_access_op(&b.v[i]) == 'R' || sim_access_op(&b.v[i]) == 'W');
    }
    ck_assert_uint_eq(b.total_accesses, 2500 * 512);
    ck_assert_uint_eq(b.distinct_pages, 1000);
    ck_assert(!b.truncated);
    free(b.v);
}
END_TEST

START_TEST(test_synth_strided_steps_by_the_stride_and_visits_every_page)
{
    struct sim_trace_synth_cfg c = cfg(SIM_TRACE_SYNTH_STRIDED, 1024, 1024);
    c.stride_pages = 16;
    struct back b = write_and_read(&c, "strided.pagetrace");
    /* 16 passes of 64 pages: offset k, k + 16, ..., k + 1008 */
    for (uint64_t i = 0; i < b.n; i++)
        ck_assert_uint_eq(page_at(&b, i), BASE_VPN + (i % 64) * 16 + i / 64);
    uint64_t steps = 0;
    for (uint64_t i = 1; i < b.n; i++)
        steps += page_at(&b, i) - page_at(&b, i - 1) == 16;
    ck_assert_uint_eq(steps, 1024 - 16);               /* all but the pass changes */
    ck_assert_uint_eq(b.distinct_pages, 1024);         /* one full cycle: every page once */
    free(b.v);
}
END_TEST

START_TEST(test_synth_chase_visits_every_page_once_per_lap_in_list_order)
{
    const uint64_t n = 4096;
    struct sim_trace_synth_cfg c = cfg(SIM_TRACE_SYNTH_CHASE, n, 3 * n);
    struct back b = write_and_read(&c, "chase.pagetrace.gz");
    ck_assert_uint_eq(b.n, 3 * n);
    uint32_t *seen = calloc(n, sizeof(*seen));
    ck_assert_ptr_nonnull(seen);
    uint64_t ascending = 0;
    for (uint64_t lap = 0; lap < 3; lap++) {
        for (uint64_t i = 0; i < n; i++) {
            uint64_t p = page_at(&b, lap * n + i);
            ck_assert(p >= BASE_VPN && p < BASE_VPN + n);
            ck_assert_uint_eq(seen[p - BASE_VPN], lap);   /* once in this lap */
            seen[p - BASE_VPN]++;
            /* the same list every lap */
            ck_assert_uint_eq(p, page_at(&b, i));
            if (i)
                ascending += p > page_at(&b, lap * n + i - 1);
        }
    }
    /* a random order: about half the steps go up, not all of them; and
     * hardly any step goes to the next page */
    ck_assert_uint_gt(ascending, 3 * (n - 1) * 4 / 10);
    ck_assert_uint_lt(ascending, 3 * (n - 1) * 6 / 10);
    uint64_t next_page = 0;
    for (uint64_t i = 1; i < n; i++)
        next_page += page_at(&b, i) == page_at(&b, i - 1) + 1;
    ck_assert_uint_lt(next_page, 16);
    ck_assert_uint_eq(b.distinct_pages, n);
    free(seen);
    free(b.v);
}
END_TEST

START_TEST(test_synth_chase_list_depends_on_the_seed)
{
    struct sim_trace_synth_cfg c = cfg(SIM_TRACE_SYNTH_CHASE, 512, 512);
    struct back a = write_and_read(&c, "a.pagetrace");
    c.seed = 2;
    struct back b = write_and_read(&c, "b.pagetrace");
    uint64_t same = 0;
    for (uint64_t i = 0; i < 512; i++)
        same += page_at(&a, i) == page_at(&b, i);
    ck_assert_uint_lt(same, 16);
    free(a.v);
    free(b.v);
}
END_TEST

/* H(n, s) = sum_{k=1..n} k^-s: rank 0's probability is 1 / H */
static double harmonic(uint64_t n, double s)
{
    double h = 0;
    for (uint64_t k = n; k >= 1; k--)
        h += pow((double)k, -s);
    return h;
}

START_TEST(test_synth_zipf_top_page_share_matches_the_distribution)
{
    const uint64_t n = 4096, m = 100000;
    struct sim_trace_synth_cfg c = cfg(SIM_TRACE_SYNTH_ZIPF, n, m);
    ck_assert(c.zipf_s == 0.99);
    struct back b = write_and_read(&c, "zipf.pagetrace.gz");
    uint64_t *hits = calloc(n, sizeof(*hits));
    ck_assert_ptr_nonnull(hits);
    for (uint64_t i = 0; i < m; i++) {
        uint64_t p = page_at(&b, i);
        ck_assert(p >= BASE_VPN && p < BASE_VPN + n);
        hits[p - BASE_VPN]++;
    }
    uint64_t top = 0, second = 0;
    for (uint64_t p = 1; p < n; p++)
        if (hits[p] > hits[top])
            top = p;
    for (uint64_t p = 0; p < n; p++)
        if (p != top && (second == top || hits[p] > hits[second]))
            second = p;
    double share = (double)hits[top] / (double)m, want = 1.0 / harmonic(n, 0.99);
    ck_assert_msg(fabs(share - want) < 0.01, "top share %.4f, expected %.4f", share, want);
    /* rank 1 has half rank 0's weight (2^-0.99) */
    double ratio = (double)hits[second] / (double)hits[top];
    ck_assert_msg(fabs(ratio - pow(2, -0.99)) < 0.05, "second/top %.3f", ratio);
    /* popular ranks are scattered, not the first pages of the region */
    ck_assert(!(top < 2 && second < 2));
    free(hits);
    free(b.v);
}
END_TEST

START_TEST(test_synth_uniform_covers_the_region)
{
    const uint64_t n = 1000, m = 20000;
    struct sim_trace_synth_cfg c = cfg(SIM_TRACE_SYNTH_UNIFORM, n, m);
    struct back b = write_and_read(&c, "u.pagetrace");
    for (uint64_t i = 0; i < m; i++)
        ck_assert(page_at(&b, i) >= BASE_VPN && page_at(&b, i) < BASE_VPN + n);
    /* 20 draws a page on average: every page is drawn (P(miss) = e^-20 each) */
    ck_assert_uint_eq(b.distinct_pages, n);
    free(b.v);
}
END_TEST

static const double write_fractions[] = { 0.0, 0.1, 0.5, 1.0 };

START_TEST(test_synth_write_fraction_is_met_for_every_pattern)
{
    const uint64_t m = 20000;
    double wf = write_fractions[_i];
    for (int p = 0; p < SIM_TRACE_SYNTH_NR_PATTERNS; p++) {
        struct sim_trace_synth_cfg c = cfg((enum sim_trace_synth_pattern)p, 2048, m);
        c.write_fraction = wf;
        struct back b = write_and_read(&c, "wf.pagetrace.gz");
        uint64_t w = 0;
        for (uint64_t i = 0; i < m; i++)
            w += sim_access_op(&b.v[i]) == 'W';
        double got = (double)w / (double)m;
        ck_assert_msg(fabs(got - wf) < 0.015, "%s: write fraction %.4f, expected %.2f",
                      sim_trace_synth_pattern_name((enum sim_trace_synth_pattern)p), got, wf);
        free(b.v);
    }
}
END_TEST

START_TEST(test_synth_pages_do_not_change_with_the_write_fraction)
{
    struct sim_trace_synth_cfg c = cfg(SIM_TRACE_SYNTH_ZIPF, 4096, 5000);
    struct back a = write_and_read(&c, "a.pagetrace");
    c.write_fraction = 0.9;
    struct back b = write_and_read(&c, "b.pagetrace");
    for (uint64_t i = 0; i < 5000; i++)
        ck_assert_uint_eq(page_at(&a, i), page_at(&b, i));
    free(a.v);
    free(b.v);
}
END_TEST

START_TEST(test_synth_code_pages_interleave_x_records)
{
    struct sim_trace_synth_cfg c = cfg(SIM_TRACE_SYNTH_SEQUENTIAL, 100, 100);
    c.nr_code_pages = 3;
    c.code_every = 4;
    c.count = 7;
    struct back b = write_and_read(&c, "code.pagetrace");
    uint64_t x = 0, data = 0;
    for (uint64_t i = 0; i < b.n; i++) {
        ck_assert_uint_eq(b.v[i].count, 7);
        if (i % 5 == 0) {                   /* X, then 4 data records, X, ... */
            ck_assert_int_eq(sim_access_op(&b.v[i]), 'X');
            ck_assert_uint_eq(page_at(&b, i), CODE_VPN + x % 3);
            x++;
        } else {
            ck_assert_int_ne(sim_access_op(&b.v[i]), 'X');
            ck_assert_uint_eq(page_at(&b, i), BASE_VPN + data);
            data++;
        }
    }
    ck_assert_uint_eq(x, 20);
    ck_assert_uint_eq(b.distinct_pages, 3 + 80);
    free(b.v);
}
END_TEST

START_TEST(test_synth_base_address_moves_the_region)
{
    struct sim_trace_synth_cfg c = cfg(SIM_TRACE_SYNTH_SEQUENTIAL, 4, 4);
    c.base_addr = SIM_TRACE_SYNTH_VA_END - 4 * 4096;  /* the last 4 pages of the lower half */
    struct back b = write_and_read(&c, "top.pagetrace");
    for (uint64_t i = 0; i < 4; i++)
        ck_assert_uint_eq(page_at(&b, i), (SIM_TRACE_SYNTH_VA_END >> 12) - 4 + i);
    free(b.v);
}
END_TEST

/* ============================================================ output */

START_TEST(test_synth_same_arguments_same_bytes)
{
    for (int p = 0; p < SIM_TRACE_SYNTH_NR_PATTERNS; p++) {
        struct sim_trace_synth_cfg c = cfg((enum sim_trace_synth_pattern)p, 2048, 10000);
        struct vm_diag d;
        ck_assert_int_eq(sim_trace_synth_write(&c, tpath("a.pagetrace.gz"), &d), 0);
        ck_assert_int_eq(sim_trace_synth_write(&c, tpath("b.pagetrace.gz"), &d), 0);
        size_t la, lb;
        char *a = slurp(tpath("a.pagetrace.gz"), &la), *b = slurp(tpath("b.pagetrace.gz"), &lb);
        ck_assert_uint_eq(la, lb);
        ck_assert_int_eq(memcmp(a, b, la), 0);
        /* gzip header: magic, deflate, no flags (no name), mtime 0 */
        ck_assert_uint_eq((unsigned char)a[0], 0x1f);
        ck_assert_uint_eq((unsigned char)a[1], 0x8b);
        ck_assert_uint_eq((unsigned char)a[2], 8);
        ck_assert_uint_eq((unsigned char)a[3], 0);
        ck_assert(a[4] == 0 && a[5] == 0 && a[6] == 0 && a[7] == 0);
        free(a);
        free(b);
        c.seed = 2;
        ck_assert_int_eq(sim_trace_synth_write(&c, tpath("b.pagetrace.gz"), &d), 0);
        a = slurp(tpath("a.pagetrace.gz"), &la);
        b = slurp(tpath("b.pagetrace.gz"), &lb);
        if (p != SIM_TRACE_SYNTH_SEQUENTIAL && p != SIM_TRACE_SYNTH_STRIDED)
            ck_assert(la != lb || memcmp(a, b, la) != 0);   /* the seed matters */
        free(a);
        free(b);
    }
}
END_TEST

START_TEST(test_synth_header_names_the_parameters_and_trailer_is_complete)
{
    char *argv[] = { "synth", "--pattern", "zipf", "--pages", "300", "--records", "50", "--zipf-s",
                     "1.2", "--write-fraction", "0.3", "--count", "4", "--seed", "9", "-o",
                     (char *)tpath("z.pagetrace"), NULL };
    ck_assert_int_eq(sim_trace_main(17, argv), 0);
    size_t len;
    char *t = slurp(tpath("z.pagetrace"), &len);
    ck_assert(strncmp(t, "# vmsim pagetrace v1 page_size=4096 program=synthetic\n", 54) == 0);
    ck_assert_ptr_nonnull(strstr(t, "\n# command=vmsim trace synth --pattern zipf --pages 300 --records 50"
                                    " --base 0x7f0000000000 --zipf-s 1.2 --write-fraction 0.3 --count 4"
                                    " --seed 9\n"));
    ck_assert_ptr_nonnull(strstr(t, "synthetic"));
    const char *trailer = "# total_accesses=200 records=50 truncated=no\n";
    ck_assert_str_eq(t + len - strlen(trailer), trailer);
    free(t);
    /* plain and gzip hold the same text */
    char *argv2[] = { "synth", "--pattern", "zipf", "--pages", "300", "--records", "50", "--zipf-s",
                      "1.2", "--write-fraction", "0.3", "--count", "4", "--seed", "9", "-o",
                      (char *)tpath("z.pagetrace.gz"), NULL };
    ck_assert_int_eq(sim_trace_main(17, argv2), 0);
    struct sim_trace_stats sa, sb;
    struct vm_diag d;
    ck_assert_int_eq(sim_trace_parse(tpath("z.pagetrace"), SIM_TRACE_PAGETRACE, NULL, NULL, &sa, &d), 0);
    ck_assert_int_eq(sim_trace_parse(tpath("z.pagetrace.gz"), SIM_TRACE_PAGETRACE, NULL, NULL, &sb, &d), 0);
    ck_assert_str_eq(sa.program, "synthetic");
    ck_assert_uint_eq(sa.nr_records, 50);
    ck_assert_uint_eq(sa.total_accesses, sb.total_accesses);
    ck_assert_uint_eq(sa.distinct_pages, sb.distinct_pages);
    ck_assert(sa.has_trailer && !sa.truncated);
}
END_TEST

START_TEST(test_synth_replaces_an_existing_file_atomically)
{
    FILE *f = fopen(tpath("o.pagetrace"), "w");
    ck_assert_ptr_nonnull(f);
    fputs("old\n", f);
    fclose(f);
    struct sim_trace_synth_cfg c = cfg(SIM_TRACE_SYNTH_CHASE, 64, 64);
    struct vm_diag d;
    ck_assert_int_eq(sim_trace_synth_write(&c, tpath("o.pagetrace"), &d), 0);
    ck_assert_int_eq(test_tmpdir_count(tmpdir), 1);           /* no temporary left */
    struct sim_trace_stats st;
    ck_assert_int_eq(sim_trace_parse(tpath("o.pagetrace"), SIM_TRACE_PAGETRACE, NULL, NULL, &st, &d), 0);
    ck_assert_uint_eq(st.distinct_pages, 64);
}
END_TEST

static const int kill_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGPIPE };

/* A synth killed by SIGTERM/SIGINT/SIGHUP/SIGPIPE while it writes dies of
 * the signal and leaves nothing: the temporary file is registered
 * (sim_tempfile.h).  The signals get their default actions first, as in a
 * vmsim process (Check's fork mode installs its own). */
START_TEST(test_synth_killed_while_writing_leaves_no_file)
{
    int sig = kill_signals[_i];
    for (size_t i = 0; i < sizeof(kill_signals) / sizeof(kill_signals[0]); i++)
        signal(kill_signals[i], SIG_DFL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* a billion records: minutes of writing, far longer than the test */
        struct sim_trace_synth_cfg c = cfg(SIM_TRACE_SYNTH_UNIFORM, 1 << 20, 1000000000);
        struct vm_diag d;
        _exit(sim_trace_synth_write(&c, tpath("big.pagetrace.gz"), &d) == 0 ? 0 : 1);
    }
    bool seen = false;
    for (int i = 0; i < 60000 && !seen; i++) {        /* 60 s at most */
        seen = test_tmpdir_count(tmpdir) > 0;
        if (!seen)
            nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    }
    if (seen)
        kill(pid, sig);
    else
        kill(pid, SIGKILL);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(seen, "no temporary file appeared");
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == sig,
                  "expected the child to die of signal %d, got status 0x%x", sig, status);
    ck_assert_int_eq(test_tmpdir_count(tmpdir), 0);
}
END_TEST

/* ============================================================ shipped */

/* The synthetic traces in workloads/traces/, their commands and the
 * figures of the README's table. */
struct shipped_row {
    const char *file;
    const char *args[12];
    uint64_t records, x, r, w, total, distinct, code, data;
};

static const struct shipped_row shipped_rows[] = {
    { "seq-scan.pagetrace.gz",
      { "--pattern", "sequential", "--pages", "8192", "--records", "32768", "--code-pages", "2" },
      32768, 1928, 24501, 6339, 16777216, 8194, 2, 8192 },
    { "strided-16.pagetrace.gz",
      { "--pattern", "strided", "--stride", "16", "--pages", "8192", "--records", "32768",
        "--code-pages", "2" },
      32768, 1928, 24501, 6339, 262144, 8194, 2, 8192 },
    { "chase-list.pagetrace.gz",
      { "--pattern", "chase", "--pages", "16384", "--records", "65536", "--code-pages", "2" },
      65536, 3856, 49174, 12506, 524288, 16386, 2, 16384 },
    { "zipf-0.99.pagetrace.gz",
      { "--pattern", "zipf", "--zipf-s", "0.99", "--pages", "16384", "--records", "131072",
        "--code-pages", "2" },
      131072, 7711, 98440, 24921, 4194304, 12985, 2, 12983 },
};

static const char *srcdir(void)
{
    const char *s = getenv("VMSIM_SRCDIR");
    return s && *s ? s : VMSIM_SRCDIR;
}

START_TEST(test_synth_shipped_traces_regenerate_byte_for_byte)
{
    const struct shipped_row *row = &shipped_rows[_i];
    char ship[1024], out[1024];
    snprintf(ship, sizeof(ship), "%s/workloads/traces/%s", srcdir(), row->file);
    snprintf(out, sizeof(out), "%s/%s", tmpdir, row->file);
    char *argv[20];
    int argc = 0;
    argv[argc++] = "synth";
    for (int k = 0; k < 12 && row->args[k]; k++)
        argv[argc++] = (char *)row->args[k];
    argv[argc++] = "-o";
    argv[argc++] = out;
    argv[argc] = NULL;
    ck_assert_int_eq(sim_trace_main(argc, argv), 0);
    size_t la, lb;
    char *a = slurp(ship, &la), *b = slurp(out, &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert_int_eq(memcmp(a, b, la), 0);
    free(a);
    free(b);
    struct sim_trace_stats st;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_parse(ship, SIM_TRACE_PAGETRACE, NULL, NULL, &st, &d), 0);
    ck_assert_str_eq(st.program, "synthetic");
    ck_assert_uint_eq(st.nr_records, row->records);
    ck_assert_uint_eq(st.nr_records_op[SIM_TRACE_OP_X], row->x);
    ck_assert_uint_eq(st.nr_records_op[SIM_TRACE_OP_R], row->r);
    ck_assert_uint_eq(st.nr_records_op[SIM_TRACE_OP_W], row->w);
    ck_assert_uint_eq(st.total_accesses, row->total);
    ck_assert_uint_eq(st.distinct_pages, row->distinct);
    ck_assert_uint_eq(st.distinct_pages_op[SIM_TRACE_OP_X], row->code);
    ck_assert_uint_eq(st.distinct_data_pages, row->data);
    ck_assert(st.has_trailer && !st.truncated);
}
END_TEST

/* ============================================================ bad input */

struct bad_case {
    const char *args[12];
    const char *msg;
};

static const struct bad_case bad_cases[] = {
    { { "--pattern", "zigzag", "--pages", "10" }, "--pattern: expected sequential, strided, chase, zipf or uniform, got 'zigzag'" },
    { { "--pattern", "chase" }, "--pages: expected a number of pages >= 1, got nothing" },
    { { "--pattern", "chase", "--pages", "0" }, "--pages: expected an integer >= 1, got '0'" },
    { { "--pattern", "chase", "--pages", "-4" }, "--pages: expected an integer >= 1, got '-4'" },
    { { "--pattern", "chase", "--pages", "4k" }, "--pages: expected an integer >= 1, got '4k'" },
    { { "--pattern", "chase", "--pages", "8", "--records", "0" }, "--records: expected an integer >= 1, got '0'" },
    { { "--pattern", "chase", "--pages", "8", "--base", "0x7f0000000800" }, "--base: expected a page-aligned (4 KiB) address, got 0x7f0000000800" },
    { { "--pattern", "chase", "--pages", "8", "--base", "0xffff800000000000" }, "--base: expected a canonical lower-half address below 0x800000000000" },
    { { "--pattern", "chase", "--pages", "8", "--base", "0x7ffffffff000" }, "--pages: expected at most 1 pages from base 0x7ffffffff000" },
    { { "--pattern", "chase", "--pages", "8", "--write-fraction", "1.01" }, "--write-fraction: expected a number in 0..1, got 1.01" },
    { { "--pattern", "chase", "--pages", "8", "--write-fraction", "x" }, "--write-fraction: expected a number, got 'x'" },
    { { "--pattern", "zipf", "--pages", "8", "--zipf-s", "-1" }, "--zipf-s: expected a number in (0, 5], got -1" },
    { { "--pattern", "strided", "--pages", "8", "--stride", "0" }, "--stride: expected an integer >= 1, got '0'" },
    { { "--pattern", "chase", "--pages", "8", "--stride", "2" }, "--stride: expected only with --pattern strided" },
    { { "--pattern", "chase", "--pages", "8", "--count", "0" }, "--count: expected an integer >= 1, got '0'" },
    { { "--pattern", "chase", "--pages", "8", "--base", "0x400000", "--code-pages", "1" }, "--code-pages: expected a code region (from 0x400000) that does not overlap" },
    { { "--pattern", "chase", "--pages", "8", "--frobnicate", "1" }, "unknown option '--frobnicate'" },
};

/* argv for bad_cases[i], with -o OUT unless the case is about -o */
static int bad_argv(const struct bad_case *bc, const char *out, char **argv)
{
    int n = 0;
    argv[n++] = "synth";
    for (int k = 0; k < 12 && bc->args[k]; k++)
        argv[n++] = (char *)bc->args[k];
    if (out) {
        argv[n++] = "-o";
        argv[n++] = (char *)out;
    }
    argv[n] = NULL;
    return n;
}

START_TEST(test_synth_bad_input_is_refused_and_writes_nothing)
{
    const struct bad_case *bc = &bad_cases[_i];
    char *argv[20];
    int argc = bad_argv(bc, tpath("o.pagetrace.gz"), argv);
    char err[1024];
    snprintf(err, sizeof(err), "%s/../%s.err", tmpdir, strrchr(tmpdir, '/') + 1);
    ck_assert_ptr_nonnull(freopen(err, "w", stderr));
    int rc = sim_trace_main(argc, argv);
    fflush(stderr);
    size_t len;
    char *msg = slurp(err, &len);
    unlink(err);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strncmp(msg, "vmsim: trace synth: ", 20) == 0, "%s", msg);
    ck_assert_msg(strstr(msg, bc->msg) != NULL, "'%s' lacks '%s'", msg, bc->msg);
    ck_assert_ptr_eq(strchr(msg, '\n'), msg + len - 1);       /* one line */
    ck_assert_int_eq(test_tmpdir_count(tmpdir), 0);
    free(msg);
}
END_TEST

START_TEST(test_synth_bad_output_is_refused_and_leaves_no_temporary)
{
    char *no_o[] = { "synth", "--pattern", "chase", "--pages", "8", NULL };
    ck_assert_int_eq(sim_trace_main(5, no_o), 2);
    char missing[1024];
    snprintf(missing, sizeof(missing), "%s/no-such-dir/o.pagetrace.gz", tmpdir);
    char *nodir[] = { "synth", "--pattern", "chase", "--pages", "8", "-o", missing, NULL };
    ck_assert_int_eq(sim_trace_main(7, nodir), 2);
    char *isdir[] = { "synth", "--pattern", "chase", "--pages", "8", "-o", tmpdir, NULL };
    ck_assert_int_eq(sim_trace_main(7, isdir), 2);
    struct sim_trace_synth_cfg c = cfg(SIM_TRACE_SYNTH_CHASE, 8, 8);
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_synth_write(&c, missing, &d), VM_EIO);
    ck_assert_ptr_nonnull(strstr(d.msg, "-o: cannot create"));
    c.nr_pages = 0;
    ck_assert_int_eq(sim_trace_synth_write(&c, tpath("x.gz"), &d), VM_EINVAL);
    ck_assert_int_eq(test_tmpdir_count(tmpdir), 0);
}
END_TEST

static Suite *trace_synth_suite(void)
{
    Suite *s = suite_create("trace_synth");
    TCase *tc = tcase_create("trace_synth");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 0);
    tcase_add_test(tc, test_synth_sequential_pages_are_consecutive_and_wrap);
    tcase_add_test(tc, test_synth_strided_steps_by_the_stride_and_visits_every_page);
    tcase_add_test(tc, test_synth_chase_visits_every_page_once_per_lap_in_list_order);
    tcase_add_test(tc, test_synth_chase_list_depends_on_the_seed);
    tcase_add_test(tc, test_synth_zipf_top_page_share_matches_the_distribution);
    tcase_add_test(tc, test_synth_uniform_covers_the_region);
    tcase_add_loop_test(tc, test_synth_write_fraction_is_met_for_every_pattern, 0,
                        (int)(sizeof(write_fractions) / sizeof(write_fractions[0])));
    tcase_add_test(tc, test_synth_pages_do_not_change_with_the_write_fraction);
    tcase_add_test(tc, test_synth_code_pages_interleave_x_records);
    tcase_add_test(tc, test_synth_base_address_moves_the_region);
    tcase_add_test(tc, test_synth_same_arguments_same_bytes);
    tcase_add_test(tc, test_synth_header_names_the_parameters_and_trailer_is_complete);
    tcase_add_test(tc, test_synth_replaces_an_existing_file_atomically);
    tcase_add_loop_test(tc, test_synth_killed_while_writing_leaves_no_file, 0,
                        (int)(sizeof(kill_signals) / sizeof(kill_signals[0])));
    tcase_add_loop_test(tc, test_synth_shipped_traces_regenerate_byte_for_byte, 0,
                        (int)(sizeof(shipped_rows) / sizeof(shipped_rows[0])));
    tcase_add_loop_test(tc, test_synth_bad_input_is_refused_and_writes_nothing, 0,
                        (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
    tcase_add_test(tc, test_synth_bad_output_is_refused_and_leaves_no_temporary);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(trace_synth_suite());
    srunner_set_fork_status(sr, CK_FORK);   /* the bad-input tests redirect stderr */
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
