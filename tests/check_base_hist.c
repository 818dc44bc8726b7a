/*
 * check_base_hist.c - unit tests of models/base: Check suite "hist"
 * (vm_hist: buckets, quantiles, min/max, merge).
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "base/vm_hist.h"
#include "base/vm_rand.h"

/* ==================================================================== hist */

START_TEST(test_hist_empty_reports_zero)
{
    static struct vm_hist h;
    vm_hist_init(&h);
    ck_assert_uint_eq(h.count, 0);
    ck_assert_uint_eq(h.min, UINT64_MAX);
    ck_assert_uint_eq(vm_hist_quantile(&h, 0.5), 0);
    ck_assert_uint_eq(vm_hist_quantile(&h, 1.0), 0);
    ck_assert(vm_hist_mean(&h) == 0);
}
END_TEST

START_TEST(test_hist_small_values_are_exact)
{
    static struct vm_hist h;
    vm_hist_init(&h);
    for (uint64_t v = 0; v < 64; v++)
        vm_hist_add(&h, v);
    ck_assert_uint_eq(vm_hist_quantile(&h, 0.5), 31);      /* 32nd of 64 */
    ck_assert_uint_eq(vm_hist_quantile(&h, 0.0), 0);
    ck_assert_uint_eq(vm_hist_quantile(&h, 1.0), 63);
    ck_assert_uint_eq(vm_hist_quantile(&h, 0.01), 0);      /* ceil(0.64) = 1st */
    ck_assert_uint_eq(vm_hist_quantile(&h, 0.99), 63);     /* ceil(63.36) = 64th */
    ck_assert_uint_eq(h.min, 0);
    ck_assert_uint_eq(h.max, 63);
    ck_assert(vm_hist_mean(&h) == 31.5);
}
END_TEST

START_TEST(test_hist_quantiles_within_one_64th)
{
    static struct vm_hist h;
    static const double qs[] = { 0.001, 0.1, 0.25, 0.5, 0.9, 0.99, 0.999, 0.9999 };
    for (uint64_t scale = 1; scale <= 1000000000ull; scale *= 1000) {
        vm_hist_init(&h);
        const uint64_t n = 100000;
        for (uint64_t v = 1; v <= n; v++)
            vm_hist_add(&h, v * scale + 7);
        for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
            uint64_t rank = (uint64_t)ceil(qs[i] * (double)n);
            uint64_t truth = rank * scale + 7;
            uint64_t got = vm_hist_quantile(&h, qs[i]);
            ck_assert_msg(got >= truth, "q=%g scale=%llu: %llu < %llu", qs[i],
                          (unsigned long long)scale, (unsigned long long)got,
                          (unsigned long long)truth);
            ck_assert_msg((double)(got - truth) <= (double)truth / 64.0,
                          "q=%g scale=%llu: %llu vs %llu", qs[i], (unsigned long long)scale,
                          (unsigned long long)got, (unsigned long long)truth);
        }
        ck_assert_uint_eq(vm_hist_quantile(&h, 1.0), n * scale + 7);
        ck_assert_uint_eq(vm_hist_quantile(&h, 0.0), scale + 7);
    }
}
END_TEST

START_TEST(test_hist_bucket_bounds_hold_for_every_magnitude)
{
    static struct vm_hist h;
    struct vm_rand r;
    vm_rand_init(&r, 3, 0);
    for (int i = 0; i < 64 * 4 + 2000; i++) {
        uint64_t v;
        if (i < 64 * 4) {
            uint64_t p = 1ull << (i / 4);
            static const int64_t delta[] = { -1, 0, 1, 3 };
            v = p + (uint64_t)delta[i % 4];
        } else {
            v = vm_rand_u64(&r) >> vm_rand_below(&r, 64);
        }
        vm_hist_init(&h);
        vm_hist_add(&h, v);
        vm_hist_add(&h, UINT64_MAX);          /* so the upper bound is not clamped */
        uint64_t got = vm_hist_quantile(&h, 0.5);
        ck_assert_msg(got >= v, "v=%llu got %llu", (unsigned long long)v,
                      (unsigned long long)got);
        ck_assert_msg(got - v <= v / 64, "v=%llu got %llu", (unsigned long long)v,
                      (unsigned long long)got);
    }
}
END_TEST

START_TEST(test_hist_min_max_are_exact_and_clamp_quantiles)
{
    static struct vm_hist h;
    vm_hist_init(&h);
    vm_hist_add(&h, 1000003);
    ck_assert_uint_eq(vm_hist_quantile(&h, 0.5), 1000003);
    ck_assert_uint_eq(vm_hist_quantile(&h, 0.999), 1000003);
    vm_hist_add(&h, 999999);
    ck_assert_uint_eq(h.min, 999999);
    ck_assert_uint_eq(h.max, 1000003);
    ck_assert_uint_eq(vm_hist_quantile(&h, 1.0), 1000003);
    ck_assert_uint_eq(vm_hist_quantile(&h, 0.0), 999999);
    ck_assert_uint_eq(vm_hist_quantile(&h, 2.0), 1000003);   /* q clamped to 1 */
    ck_assert_uint_eq(vm_hist_quantile(&h, -1.0), 999999);   /* q clamped to 0 */
}
END_TEST

START_TEST(test_hist_add_n_equals_repeated_add)
{
    static struct vm_hist a, b;
    vm_hist_init(&a);
    vm_hist_init(&b);
    vm_hist_add_n(&a, 4096, 1000);
    vm_hist_add_n(&a, 77, 3);
    vm_hist_add_n(&a, 5, 0);                     /* no samples: no effect */
    for (int i = 0; i < 1000; i++)
        vm_hist_add(&b, 4096);
    for (int i = 0; i < 3; i++)
        vm_hist_add(&b, 77);
    ck_assert_int_eq(memcmp(&a, &b, sizeof a), 0);
    ck_assert_uint_eq(a.count, 1003);
    ck_assert_uint_eq(a.sum, 4096000 + 231);
    ck_assert_uint_eq(a.min, 77);
}
END_TEST

START_TEST(test_hist_merge_is_exact)
{
    static struct vm_hist a, b, all;
    vm_hist_init(&a);
    vm_hist_init(&b);
    vm_hist_init(&all);
    struct vm_rand r;
    vm_rand_init(&r, 11, 0);
    for (int i = 0; i < 5000; i++) {
        uint64_t v = vm_rand_below(&r, 1ull << 40);
        vm_hist_add(i % 3 ? &a : &b, v);
        vm_hist_add(&all, v);
    }
    vm_hist_merge(&a, &b);
    ck_assert_int_eq(memcmp(&a, &all, sizeof a), 0);
    static struct vm_hist empty;
    vm_hist_init(&empty);
    vm_hist_merge(&a, &empty);
    ck_assert_int_eq(memcmp(&a, &all, sizeof a), 0);
    vm_hist_merge(&empty, &all);
    ck_assert_int_eq(memcmp(&empty, &all, sizeof a), 0);
}
END_TEST

START_TEST(test_hist_sum_saturates_and_max_value_fits)
{
    static struct vm_hist h;
    vm_hist_init(&h);
    vm_hist_add(&h, UINT64_MAX);
    vm_hist_add(&h, UINT64_MAX);
    ck_assert_uint_eq(h.sum, UINT64_MAX);
    ck_assert_uint_eq(vm_hist_quantile(&h, 1.0), UINT64_MAX);
    vm_hist_add_n(&h, 1ull << 62, 8);
    ck_assert_uint_eq(h.sum, UINT64_MAX);
    ck_assert_uint_eq(h.count, 10);
    /* the 5th of 10 samples is 2^62: reported as its bucket's upper end */
    ck_assert_uint_eq(vm_hist_quantile(&h, 0.5), (1ull << 62) + (1ull << 56) - 1);
}
END_TEST

static Suite *hist_suite(void)
{
    Suite *s = suite_create("hist");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_hist_empty_reports_zero);
    tcase_add_test(tc, test_hist_small_values_are_exact);
    tcase_add_test(tc, test_hist_quantiles_within_one_64th);
    tcase_add_test(tc, test_hist_bucket_bounds_hold_for_every_magnitude);
    tcase_add_test(tc, test_hist_min_max_are_exact_and_clamp_quantiles);
    tcase_add_test(tc, test_hist_add_n_equals_repeated_add);
    tcase_add_test(tc, test_hist_merge_is_exact);
    tcase_add_test(tc, test_hist_sum_saturates_and_max_value_fits);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(hist_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
