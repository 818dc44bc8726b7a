/*
 * check_base_bitmap.c - unit tests of models/base: Check suite "bitmap"
 * (vm_bitmap: set, clear, ranges and searches, against a naive count).
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "base/vm_bitmap.h"
#include "base/vm_rand.h"

/* ================================================================== bitmap */

static uint64_t naive_count(const uint64_t *map, uint64_t first, uint64_t n)
{
    uint64_t c = 0;
    for (uint64_t b = first; b < first + n; b++)
        c += vm_bitmap_test(map, b);
    return c;
}

START_TEST(test_bitmap_set_range_crossing_a_word_boundary)
{
    uint64_t *m = vm_bitmap_new(300);
    ck_assert_ptr_nonnull(m);
    vm_bitmap_set_range(m, 60, 10);
    for (uint64_t b = 0; b < 300; b++)
        ck_assert_msg(vm_bitmap_test(m, b) == (b >= 60 && b < 70), "bit %llu",
                      (unsigned long long)b);
    ck_assert_uint_eq(vm_bitmap_count(m, 300), 10);
    ck_assert_uint_eq(vm_bitmap_count_range(m, 64, 3), 3);
    ck_assert_uint_eq(vm_bitmap_count_range(m, 58, 4), 2);
    vm_bitmap_free(m);
}
END_TEST

START_TEST(test_bitmap_clear_range_over_many_words)
{
    uint64_t *m = vm_bitmap_new(300);
    vm_bitmap_set_range(m, 0, 300);
    ck_assert_uint_eq(vm_bitmap_count(m, 300), 300);
    vm_bitmap_clear_range(m, 5, 200);
    ck_assert_uint_eq(vm_bitmap_count(m, 300), 100);
    ck_assert(vm_bitmap_test(m, 4));
    ck_assert(!vm_bitmap_test(m, 5));
    ck_assert(!vm_bitmap_test(m, 204));
    ck_assert(vm_bitmap_test(m, 205));
    /* bits past nbits in the last word were never set */
    ck_assert_uint_eq(m[4] >> (300 - 256), 0);
    vm_bitmap_free(m);
}
END_TEST

START_TEST(test_bitmap_whole_word_and_in_word_ranges)
{
    uint64_t *m = vm_bitmap_new(256);
    vm_bitmap_set_range(m, 64, 64);
    ck_assert_uint_eq(m[0], 0);
    ck_assert_uint_eq(m[1], UINT64_MAX);
    ck_assert_uint_eq(m[2], 0);
    vm_bitmap_set_range(m, 130, 3);
    ck_assert_uint_eq(m[2], 7ull << 2);
    vm_bitmap_clear_range(m, 64, 1);
    vm_bitmap_clear_range(m, 127, 1);
    ck_assert_uint_eq(m[1], UINT64_MAX >> 1 & ~1ull);
    vm_bitmap_set_range(m, 0, 0);
    vm_bitmap_clear_range(m, 64, 0);
    ck_assert_uint_eq(m[0], 0);
    ck_assert_uint_eq(vm_bitmap_count_range(m, 70, 0), 0);
    vm_bitmap_free(m);
}
END_TEST

START_TEST(test_bitmap_count_range_matches_bit_by_bit_count)
{
    const uint64_t nbits = 1000;
    uint64_t *m = vm_bitmap_new(nbits);
    struct vm_rand r;
    vm_rand_init(&r, 7, 0);
    for (int i = 0; i < 300; i++)
        vm_bitmap_set(m, vm_rand_below(&r, nbits));
    for (int i = 0; i < 2000; i++) {
        uint64_t first = vm_rand_below(&r, nbits);
        uint64_t n = vm_rand_below(&r, nbits - first + 1);
        ck_assert_uint_eq(vm_bitmap_count_range(m, first, n), naive_count(m, first, n));
    }
    ck_assert_uint_eq(vm_bitmap_count(m, nbits), naive_count(m, 0, nbits));
    vm_bitmap_free(m);
}
END_TEST

START_TEST(test_bitmap_next_set_skips_empty_words)
{
    uint64_t *m = vm_bitmap_new(300);
    vm_bitmap_set(m, 3);
    vm_bitmap_set(m, 200);
    vm_bitmap_set(m, 299);
    ck_assert_uint_eq(vm_bitmap_next_set(m, 300, 0), 3);
    ck_assert_uint_eq(vm_bitmap_next_set(m, 300, 3), 3);
    ck_assert_uint_eq(vm_bitmap_next_set(m, 300, 4), 200);
    ck_assert_uint_eq(vm_bitmap_next_set(m, 300, 201), 299);
    ck_assert_uint_eq(vm_bitmap_next_set(m, 300, 300), 300);
    ck_assert_uint_eq(vm_bitmap_next_set(m, 300, 1000), 300);
    ck_assert_uint_eq(vm_bitmap_next_set(m, 250, 201), 250);   /* stops at nbits */
    vm_bitmap_free(m);
}
END_TEST

START_TEST(test_bitmap_next_clear_ignores_bits_past_nbits)
{
    uint64_t *m = vm_bitmap_new(100);
    vm_bitmap_set_range(m, 0, 100);
    ck_assert_uint_eq(vm_bitmap_next_clear(m, 100, 0), 100);
    vm_bitmap_clear(m, 70);
    ck_assert_uint_eq(vm_bitmap_next_clear(m, 100, 0), 70);
    ck_assert_uint_eq(vm_bitmap_next_clear(m, 100, 70), 70);
    ck_assert_uint_eq(vm_bitmap_next_clear(m, 100, 71), 100);
    vm_bitmap_free(m);
    uint64_t *e = vm_bitmap_new(128);
    ck_assert_uint_eq(vm_bitmap_next_clear(e, 128, 5), 5);
    vm_bitmap_set_range(e, 0, 128);
    ck_assert_uint_eq(vm_bitmap_next_clear(e, 128, 5), 128);
    vm_bitmap_free(e);
}
END_TEST

START_TEST(test_bitmap_test_and_set_returns_the_old_bit)
{
    uint64_t *m = vm_bitmap_new(65);
    ck_assert(!vm_bitmap_test_and_set(m, 64));
    ck_assert(vm_bitmap_test_and_set(m, 64));
    ck_assert(vm_bitmap_test(m, 64));
    ck_assert(!vm_bitmap_test(m, 63));
    vm_bitmap_clear(m, 64);
    ck_assert_uint_eq(vm_bitmap_count(m, 65), 0);
    vm_bitmap_free(m);
}
END_TEST

static Suite *bitmap_suite(void)
{
    Suite *s = suite_create("bitmap");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_bitmap_set_range_crossing_a_word_boundary);
    tcase_add_test(tc, test_bitmap_clear_range_over_many_words);
    tcase_add_test(tc, test_bitmap_whole_word_and_in_word_ranges);
    tcase_add_test(tc, test_bitmap_count_range_matches_bit_by_bit_count);
    tcase_add_test(tc, test_bitmap_next_set_skips_empty_words);
    tcase_add_test(tc, test_bitmap_next_clear_ignores_bits_past_nbits);
    tcase_add_test(tc, test_bitmap_test_and_set_returns_the_old_bit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(bitmap_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
