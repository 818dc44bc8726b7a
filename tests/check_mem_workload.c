/*
 * check_mem_workload.c - unit tests of the synthetic workload generators
 * (sim_workload): streams as functions of the seed, the access patterns,
 * write fractions and footprints.  Suite "mem".
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/vm_bitmap.h"
#include "sim_workload.h"

/* ---- workloads ---- */

static struct sim_exp_workload synth(enum sim_pattern pat, uint64_t footprint_pages)
{
    struct sim_exp_workload w = { .pattern = pat, .footprint_bytes = footprint_pages * 4096,
                                  .zipf_s = 0.99, .stride_pages = 16, .write_fraction = 0.2,
                                  .access_ns = 100 };
    strcpy(w.name, "test");
    return w;
}

static struct sim_gen *new_gen(const struct sim_exp_workload *w, uint64_t vm_pages, uint64_t seed)
{
    struct sim_gen *g = NULL;
    struct vm_diag d = { 0 };
    int rc = sim_gen_new(w, vm_pages, seed, &g, &d);
    ck_assert_msg(rc == 0, "sim_gen_new: %s", d.msg);
    return g;
}

START_TEST(test_workload_stream_is_a_function_of_the_seed)
{
    enum sim_pattern pats[] = { SIM_PAT_UNIFORM, SIM_PAT_ZIPF };
    for (int i = 0; i < 2; i++) {
        struct sim_exp_workload w = synth(pats[i], 100000);
        struct sim_gen *a = new_gen(&w, 1 << 20, 42), *b = new_gen(&w, 1 << 20, 42);
        struct sim_gen *c = new_gen(&w, 1 << 20, 43);
        struct sim_access x[1000], y[1000], z[1000];
        ck_assert_uint_eq(sim_gen_fill(a, x, 1000), 1000);
        sim_gen_fill(b, y, 1000);
        sim_gen_fill(c, z, 1000);
        ck_assert_mem_eq(x, y, sizeof x);
        ck_assert(memcmp(x, z, sizeof x) != 0);
        for (int k = 0; k < 1000; k++) {
            ck_assert_uint_eq(x[k].count, 1);
            ck_assert(sim_access_op(&x[k]) == SIM_OP_READ || sim_access_op(&x[k]) == SIM_OP_WRITE);
            ck_assert_uint_lt(sim_access_page(&x[k]), 100000);     /* the footprint */
        }
        sim_gen_free(a);
        sim_gen_free(b);
        sim_gen_free(c);
    }
}
END_TEST

/* A Zipf stream is drawn ahead on a thread in chunks: taken in pieces
 * of any size, across chunk and ring boundaries, it is the same stream;
 * a generator freed while the thread is ahead (or before any fill)
 * stops it. */
START_TEST(test_workload_zipf_stream_taken_in_pieces_is_the_same_stream)
{
    struct sim_exp_workload w = synth(SIM_PAT_ZIPF, 100000);
    enum { N = 80000 };
    struct sim_access *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    struct sim_gen *a = new_gen(&w, 1 << 20, 9), *b = new_gen(&w, 1 << 20, 9);
    sim_gen_fill(a, x, N);
    const size_t pieces[] = { 1, 4095, 1, 4096, 5000, 3, 40000 };
    size_t at = 0;
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        ck_assert_uint_eq(sim_gen_fill(b, y + at, pieces[i]), pieces[i]);
        at += pieces[i];
    }
    sim_gen_fill(b, y + at, N - at);
    ck_assert_mem_eq(x, y, N * sizeof *x);
    sim_gen_free(a);
    sim_gen_free(b);
    sim_gen_free(new_gen(&w, 1 << 20, 9));
    free(x);
    free(y);
}
END_TEST

/* sim_gen_next() lends the same stream without a copy (Zipf: the ring's
 * chunks; others: the caller's scratch); a lent piece stays as it was
 * while the thread draws on, until the next call. */
START_TEST(test_workload_next_lends_the_same_stream)
{
    enum sim_pattern pats[] = { SIM_PAT_ZIPF, SIM_PAT_UNIFORM };
    enum { N = 100000 };
    struct sim_access *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    struct sim_access scratch[5000], keep[5000];
    for (int i = 0; i < 2; i++) {
        struct sim_exp_workload w = synth(pats[i], 100000);
        struct sim_gen *a = new_gen(&w, 1 << 20, 11), *b = new_gen(&w, 1 << 20, 11);
        sim_gen_fill(a, x, N);
        const size_t asks[] = { 4096, 1, 5000, 4096, 3, 4096 };
        size_t at = 0;
        for (size_t k = 0; at < N; k++) {
            size_t want = asks[k % 6] < N - at ? asks[k % 6] : N - at;
            const struct sim_access *r = NULL;
            size_t got = sim_gen_next(b, scratch, want, &r);
            ck_assert_uint_ge(got, 1);
            ck_assert_uint_le(got, want);
            if (pats[i] != SIM_PAT_ZIPF)
                ck_assert_uint_eq(got, want);
            memcpy(keep, r, got * sizeof *r);
            usleep(k % 7 == 0 ? 2000 : 0);      /* the thread may draw on meanwhile */
            ck_assert_mem_eq(keep, r, got * sizeof *r);
            memcpy(y + at, r, got * sizeof *r);
            at += got;
        }
        ck_assert_mem_eq(x, y, N * sizeof *x);
        ck_assert_uint_eq(sim_gen_next(b, scratch, 0, &(const struct sim_access *){ NULL }), 0);
        sim_gen_free(a);
        sim_gen_free(b);
    }
    free(x);
    free(y);
}
END_TEST

START_TEST(test_workload_write_fraction_does_not_change_pages)
{
    struct sim_exp_workload w = synth(SIM_PAT_UNIFORM, 5000);
    struct sim_gen *a = new_gen(&w, 5000, 1);
    w.write_fraction = 0.9;
    struct sim_gen *b = new_gen(&w, 5000, 1);
    struct sim_access x[500], y[500];
    sim_gen_fill(a, x, 500);
    sim_gen_fill(b, y, 500);
    for (int k = 0; k < 500; k++)
        ck_assert_uint_eq(sim_access_page(&x[k]), sim_access_page(&y[k]));
    sim_gen_free(a);
    sim_gen_free(b);
}
END_TEST

START_TEST(test_workload_uniform_covers_the_footprint_evenly)
{
    struct sim_exp_workload w = synth(SIM_PAT_UNIFORM, 1000);
    struct sim_gen *g = new_gen(&w, 1 << 20, 1);
    static struct sim_access buf[100000];
    uint32_t hits[1000] = { 0 };
    sim_gen_fill(g, buf, 100000);
    for (int k = 0; k < 100000; k++) {
        ck_assert_uint_lt(sim_access_page(&buf[k]), 1000);
        hits[sim_access_page(&buf[k])]++;
    }
    for (int p = 0; p < 1000; p++) {      /* mean 100, sd 10 */
        ck_assert_uint_gt(hits[p], 50);
        ck_assert_uint_lt(hits[p], 150);
    }
    sim_gen_free(g);
}
END_TEST

static int cmp_desc(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x < y) - (x > y);
}

START_TEST(test_workload_zipf_concentrates_on_scattered_hot_pages)
{
    struct sim_exp_workload w = synth(SIM_PAT_ZIPF, 10000);
    struct sim_gen *g = new_gen(&w, 10000, 1);
    static struct sim_access buf[200000];
    static uint32_t hits[10000], sorted[10000];
    sim_gen_fill(g, buf, 200000);
    uint64_t hot_lo = UINT64_MAX, hot_hi = 0;
    for (int k = 0; k < 200000; k++) {
        ck_assert_uint_lt(sim_access_page(&buf[k]), 10000);
        hits[sim_access_page(&buf[k])]++;
    }
    memcpy(sorted, hits, sizeof hits);
    qsort(sorted, 10000, sizeof *sorted, cmp_desc);
    uint64_t top = 0;
    for (int i = 0; i < 100; i++)            /* the top 1% of pages */
        top += sorted[i];
    ck_assert_msg(top > 200000 / 3, "top 1%% got %lu of 200000", (unsigned long)top);
    for (uint64_t p = 0; p < 10000; p++)
        if (hits[p] >= sorted[9]) {          /* the 10 hottest pages */
            hot_lo = p < hot_lo ? p : hot_lo;
            hot_hi = p > hot_hi ? p : hot_hi;
        }
    ck_assert_uint_gt(hot_hi - hot_lo, 2000);
    sim_gen_free(g);
}
END_TEST

START_TEST(test_workload_sequential_scans_and_wraps)
{
    struct sim_exp_workload w = synth(SIM_PAT_SEQUENTIAL, 300);
    struct sim_gen *g = new_gen(&w, 1000, 1);
    struct sim_access buf[700];
    sim_gen_fill(g, buf, 700);
    for (uint64_t k = 0; k < 700; k++)
        ck_assert_uint_eq(sim_access_page(&buf[k]), k % 300);
    sim_gen_free(g);
}
END_TEST

START_TEST(test_workload_strided_visits_every_page_once_per_cycle)
{
    uint64_t strides[] = { 16, 1, 7, 1000, 5000 };
    for (int s = 0; s < 5; s++) {
        struct sim_exp_workload w = synth(SIM_PAT_STRIDED, 1000);
        w.stride_pages = strides[s];
        struct sim_gen *g = new_gen(&w, 1000, 1);
        struct sim_access buf[2000];
        sim_gen_fill(g, buf, 2000);
        uint64_t *seen = vm_bitmap_new(1000);
        for (int k = 0; k < 1000; k++)
            ck_assert(!vm_bitmap_test_and_set(seen, sim_access_page(&buf[k])));
        ck_assert_uint_eq(vm_bitmap_count(seen, 1000), 1000);
        for (int k = 0; k < 1000; k++)
            ck_assert_uint_eq(sim_access_page(&buf[k + 1000]), sim_access_page(&buf[k]));   /* same cycle again */
        if (strides[s] == 16) {
            ck_assert_uint_eq(sim_access_page(&buf[1]), 16);
            ck_assert_uint_eq(sim_access_page(&buf[62]), 992);
            ck_assert_uint_eq(sim_access_page(&buf[63]), 1);
        }
        vm_bitmap_free(seen);
        sim_gen_free(g);
    }
}
END_TEST

START_TEST(test_workload_write_fraction_within_tolerance)
{
    double fr[] = { 0, 0.2, 0.7, 1 };
    static struct sim_access buf[100000];
    for (int i = 0; i < 4; i++) {
        struct sim_exp_workload w = synth(SIM_PAT_ZIPF, 4096);
        w.write_fraction = fr[i];
        struct sim_gen *g = new_gen(&w, 4096, 3);
        sim_gen_fill(g, buf, 100000);
        uint64_t writes = 0;
        for (int k = 0; k < 100000; k++)
            writes += sim_access_op(&buf[k]) == SIM_OP_WRITE;
        ck_assert(fabs(writes / 100000.0 - fr[i]) < 0.01);
        if (fr[i] == 0 || fr[i] == 1)
            ck_assert_uint_eq(writes, (uint64_t)(fr[i] * 100000));
        sim_gen_free(g);
    }
}
END_TEST

START_TEST(test_workload_footprint_is_clamped_to_the_vm)
{
    struct sim_exp_workload w = synth(SIM_PAT_SEQUENTIAL, 5000);
    struct sim_gen *g = new_gen(&w, 100, 1);
    struct sim_access buf[250];
    sim_gen_fill(g, buf, 250);
    ck_assert_uint_eq(sim_access_page(&buf[99]), 99);
    ck_assert_uint_eq(sim_access_page(&buf[100]), 0);
    sim_gen_free(g);
    w.footprint_bytes = 0;                   /* 0 = the whole VM */
    g = new_gen(&w, 100, 1);
    sim_gen_fill(g, buf, 250);
    ck_assert_uint_eq(sim_access_page(&buf[199]), 99);
    sim_gen_free(g);
}
END_TEST

START_TEST(test_workload_rejects_traces_and_bad_parameters)
{
    struct sim_gen *g = (struct sim_gen *)1;
    struct vm_diag d = { 0 };
    struct sim_exp_workload w = synth(SIM_PAT_ZIPF, 100);
    w.zipf_s = 0;
    ck_assert_int_eq(sim_gen_new(&w, 100, 1, &g, &d), VM_EINVAL);
    ck_assert_ptr_null(g);
    ck_assert_ptr_nonnull(strstr(d.msg, "'zipf_s'"));
    w = synth(SIM_PAT_STRIDED, 100);
    w.stride_pages = 0;
    ck_assert_int_eq(sim_gen_new(&w, 100, 1, &g, NULL), VM_EINVAL);
    w = synth(SIM_PAT_UNIFORM, 100);
    w.write_fraction = 1.5;
    ck_assert_int_eq(sim_gen_new(&w, 100, 1, &g, NULL), VM_EINVAL);
    w = synth(SIM_PAT_UNIFORM, 100);
    w.is_trace = true;
    ck_assert_int_eq(sim_gen_new(&w, 100, 1, &g, NULL), VM_EINVAL);
    w = synth(SIM_PAT_UNIFORM, 100);
    ck_assert_int_eq(sim_gen_new(&w, 0, 1, &g, NULL), VM_EINVAL);
}
END_TEST

static Suite *mem_suite(void)
{
    Suite *s = suite_create("mem");
    TCase *t = tcase_create("mem");
    tcase_set_timeout(t, 0);        /* no wall-clock limits (sanitized builds are slow) */
    tcase_add_test(t, test_workload_stream_is_a_function_of_the_seed);
    tcase_add_test(t, test_workload_zipf_stream_taken_in_pieces_is_the_same_stream);
    tcase_add_test(t, test_workload_next_lends_the_same_stream);
    tcase_add_test(t, test_workload_write_fraction_does_not_change_pages);
    tcase_add_test(t, test_workload_uniform_covers_the_footprint_evenly);
    tcase_add_test(t, test_workload_zipf_concentrates_on_scattered_hot_pages);
    tcase_add_test(t, test_workload_sequential_scans_and_wraps);
    tcase_add_test(t, test_workload_strided_visits_every_page_once_per_cycle);
    tcase_add_test(t, test_workload_write_fraction_within_tolerance);
    tcase_add_test(t, test_workload_footprint_is_clamped_to_the_vm);
    tcase_add_test(t, test_workload_rejects_traces_and_bad_parameters);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(mem_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
