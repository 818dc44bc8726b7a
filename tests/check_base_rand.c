/*
 * check_base_rand.c - unit tests of models/base: Check suite "rand"
 * (vm_rand: seeded xoshiro256** streams, uniform
 * draws and the Zipf sampler).
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "base/vm_err.h"
#include "base/vm_rand.h"

/* ==================================================================== rand */

START_TEST(test_rand_same_seed_and_stream_repeat)
{
    struct vm_rand a, b;
    vm_rand_init(&a, 42, 5);
    vm_rand_init(&b, 42, 5);
    for (int i = 0; i < 1000; i++)
        ck_assert_uint_eq(vm_rand_u64(&a), vm_rand_u64(&b));
}
END_TEST

START_TEST(test_rand_xoshiro256starstar_reference_output)
{
    /* Reference implementation, state {1,2,3,4}: first two outputs. */
    struct vm_rand r = { { 1, 2, 3, 4 } };
    ck_assert_uint_eq(vm_rand_u64(&r), 11520);
    ck_assert_uint_eq(vm_rand_u64(&r), 0);
    ck_assert_uint_eq(vm_rand_u64(&r), 1509978240);
}
END_TEST

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

START_TEST(test_rand_streams_and_seeds_are_unrelated)
{
    /* (seed, stream) pairs that a naive seed+stream mix would alias. */
    static const uint64_t pairs[][2] = { { 1, 0 }, { 0, 1 }, { 1, 1 }, { 2, 0 }, { 0, 2 }, { 0, 0 } };
    enum { N = sizeof pairs / sizeof pairs[0], DRAWS = 20000 };
    static uint64_t out[N][DRAWS];
    for (int i = 0; i < N; i++) {
        struct vm_rand r;
        vm_rand_init(&r, pairs[i][0], pairs[i][1]);
        for (int k = 0; k < DRAWS; k++)
            out[i][k] = vm_rand_u64(&r);
    }
    /* No output of one stream appears anywhere in another's first draws
     * (a shifted copy of the same sequence would show up here): sort all
     * of them and look for neighbours that are equal. */
    static uint64_t all[N * DRAWS];
    memcpy(all, out, sizeof all);
    qsort(all, N * DRAWS, sizeof all[0], cmp_u64);
    for (int k = 1; k < N * DRAWS; k++)
        if (all[k] == all[k - 1])
            ck_abort_msg("two streams share output %llu", (unsigned long long)all[k]);
}
END_TEST

START_TEST(test_rand_below_is_in_range_and_uniform)
{
    struct vm_rand r;
    vm_rand_init(&r, 1, 2);
    for (int i = 0; i < 100; i++)
        ck_assert_uint_eq(vm_rand_below(&r, 1), 0);
    uint64_t counts[7] = { 0 };
    for (int i = 0; i < 70000; i++) {
        uint64_t v = vm_rand_below(&r, 7);
        if (v >= 7)
            ck_abort_msg("below(7) gave %llu", (unsigned long long)v);
        counts[v]++;
    }
    for (int i = 0; i < 7; i++)          /* expected 10000, sd ~93: 5 % is > 5 sd */
        ck_assert_msg(counts[i] > 9500 && counts[i] < 10500, "value %d drawn %llu times",
                      i, (unsigned long long)counts[i]);
    const uint64_t big = (1ull << 63) + 1;   /* worst case for rejection */
    uint64_t above_half = 0;
    for (int i = 0; i < 10000; i++) {
        uint64_t v = vm_rand_below(&r, big);
        if (v >= big)
            ck_abort_msg("below(2^63+1) gave %llu", (unsigned long long)v);
        above_half += v >= (1ull << 62);
    }
    /* P(v >= 2^62) ~ 1/2; sd 50 */
    ck_assert_msg(above_half > 4800 && above_half < 5200, "%llu",
                  (unsigned long long)above_half);
}
END_TEST

START_TEST(test_rand_double_is_in_unit_interval)
{
    struct vm_rand r;
    vm_rand_init(&r, 9, 0);
    double sum = 0;
    for (int i = 0; i < 100000; i++) {
        double x = vm_rand_double(&r);
        if (!(x >= 0.0 && x < 1.0))
            ck_abort_msg("double %g outside [0, 1)", x);
        sum += x;
    }
    ck_assert(fabs(sum / 100000 - 0.5) < 0.01);
}
END_TEST

START_TEST(test_zipf_init_rejects_bad_parameters)
{
    struct vm_zipf z;
    ck_assert_int_eq(vm_zipf_init(&z, 0, 1.0), VM_EINVAL);
    ck_assert_int_eq(vm_zipf_init(&z, 10, 0.0), VM_EINVAL);
    ck_assert_int_eq(vm_zipf_init(&z, 10, -1.0), VM_EINVAL);
    ck_assert_int_eq(vm_zipf_init(&z, 10, NAN), VM_EINVAL);
    ck_assert_int_eq(vm_zipf_init(&z, 10, INFINITY), VM_EINVAL);
    ck_assert_int_eq(vm_zipf_init(&z, 10, 1.0), 0);
    ck_assert_int_eq(vm_zipf_init(&z, 10, 0.01), 0);
}
END_TEST

START_TEST(test_zipf_single_element_always_rank_zero)
{
    struct vm_zipf z;
    struct vm_rand r;
    vm_rand_init(&r, 1, 0);
    ck_assert_int_eq(vm_zipf_init(&z, 1, 1.2), 0);
    for (int i = 0; i < 1000; i++)
        ck_assert_uint_eq(vm_zipf_draw(&z, &r), 0);
}
END_TEST

/* Draws `draws` ranks from Zipf(n, s); checks the first ranks against
 * k^-s / H(n, s) within `tol` relative error. */
static void check_zipf_law(uint64_t n, double s, int draws, double tol)
{
    struct vm_zipf z;
    struct vm_rand r;
    ck_assert_int_eq(vm_zipf_init(&z, n, s), 0);
    vm_rand_init(&r, 2024, (uint64_t)(s * 100));
    uint64_t *counts = calloc(n, sizeof *counts);
    for (int i = 0; i < draws; i++) {
        uint64_t k = vm_zipf_draw(&z, &r);
        if (k >= n)
            ck_abort_msg("rank %llu >= n", (unsigned long long)k);
        counts[k]++;
    }
    double hn = 0;
    for (uint64_t k = 1; k <= n; k++)
        hn += pow((double)k, -s);
    static const uint64_t ranks[] = { 1, 2, 3, 4, 8, 16 };
    for (size_t i = 0; i < sizeof ranks / sizeof ranks[0]; i++) {
        double expect = draws * pow((double)ranks[i], -s) / hn;
        double got = (double)counts[ranks[i] - 1];
        ck_assert_msg(fabs(got - expect) <= tol * expect,
                      "s=%g rank %llu: %g draws, expected %g", s,
                      (unsigned long long)ranks[i], got, expect);
    }
    /* log-log slope between ranks 1 and 10 estimates s */
    double slope = (log((double)counts[0]) - log((double)counts[9])) / log(10.0);
    ck_assert_msg(fabs(slope - s) < 0.1, "s=%g slope %g", s, slope);
    free(counts);
}

START_TEST(test_zipf_rank_frequency_follows_power_law)
{
    check_zipf_law(1000, 1.0, 400000, 0.08);
    check_zipf_law(1000, 0.8, 400000, 0.08);
    check_zipf_law(100000, 1.2, 400000, 0.08);
    check_zipf_law(50, 2.0, 400000, 0.08);
}
END_TEST

START_TEST(test_zipf_is_not_uniform_for_small_s)
{
    struct vm_zipf z;
    struct vm_rand r;
    vm_rand_init(&r, 5, 5);
    ck_assert_int_eq(vm_zipf_init(&z, 100, 0.5), 0);
    uint64_t low = 0;
    for (int i = 0; i < 100000; i++)
        low += vm_zipf_draw(&z, &r) < 10;
    /* P(rank < 10) = H(10,.5)/H(100,.5) = 5.021/18.59 = 0.270; uniform gives 0.1 */
    ck_assert_msg(low > 26000 && low < 28000, "%llu", (unsigned long long)low);
}
END_TEST

static Suite *rand_suite(void)
{
    Suite *s = suite_create("rand");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_rand_same_seed_and_stream_repeat);
    tcase_add_test(tc, test_rand_xoshiro256starstar_reference_output);
    tcase_add_test(tc, test_rand_streams_and_seeds_are_unrelated);
    tcase_add_test(tc, test_rand_below_is_in_range_and_uniform);
    tcase_add_test(tc, test_rand_double_is_in_unit_interval);
    tcase_add_test(tc, test_zipf_init_rejects_bad_parameters);
    tcase_add_test(tc, test_zipf_single_element_always_rank_zero);
    tcase_add_test(tc, test_zipf_rank_frequency_follows_power_law);
    tcase_add_test(tc, test_zipf_is_not_uniform_for_small_s);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(rand_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
