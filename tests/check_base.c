/*
 * check_base.c - unit tests of models/base: one Check suite per module
 * (err, units, bitmap, hist, rand, fp, fpstore, param), run together
 * because each module is small.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "base/vm_bigmem.h"
#include "base/vm_bitmap.h"
#include "base/vm_err.h"
#include "base/vm_fp.h"
#include "base/vm_fpstore.h"
#include "base/vm_hist.h"
#include "base/vm_param.h"
#include "base/vm_rand.h"
#include "base/vm_units.h"
#include "ports/port_blk.h"

/* ===================================================================== err */

START_TEST(test_err_name_and_text_come_from_the_table)
{
    ck_assert_str_eq(vm_err_name(VM_EINVAL), "VM_EINVAL");
    ck_assert_str_eq(vm_err_name(VM_ETIMEDOUT), "VM_ETIMEDOUT");
    ck_assert_str_eq(vm_err_name(VM_ECORRUPT), "VM_ECORRUPT");
    ck_assert_str_eq(vm_err_name(0), "VM_OK");
    ck_assert_str_eq(vm_err_name(-99), "VM_E?");
    ck_assert_str_eq(vm_err_name(5), "VM_E?");
    ck_assert_str_eq(vm_strerror(VM_ENOMEM), "out of memory");
    ck_assert_str_eq(vm_strerror(VM_ERANGE), "value out of range");
    ck_assert_ptr_nonnull(vm_strerror(-99));
    ck_assert_ptr_nonnull(vm_strerror(0));
}
END_TEST

START_TEST(test_err_diag_first_error_wins)
{
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(d.code, 0);
    ck_assert_str_eq(d.msg, "");
    ck_assert_int_eq(vm_diag_set(&d, VM_EINVAL, "bad '%s'", "x"), VM_EINVAL);
    ck_assert_int_eq(vm_diag_set(&d, VM_EIO, "later %d", 2), VM_EIO);
    ck_assert_int_eq(d.code, VM_EINVAL);
    ck_assert_str_eq(d.msg, "bad 'x'");
}
END_TEST

START_TEST(test_err_diag_null_still_returns_the_code)
{
    ck_assert_int_eq(vm_diag_set(NULL, VM_ENOSPC, "full"), VM_ENOSPC);
    vm_diag_clear(NULL);
}
END_TEST

START_TEST(test_err_diag_clear_allows_a_new_error)
{
    struct vm_diag d;
    vm_diag_clear(&d);
    vm_diag_set(&d, VM_EIO, "first");
    vm_diag_clear(&d);
    vm_diag_set(&d, VM_EBUSY, "second");
    ck_assert_int_eq(d.code, VM_EBUSY);
    ck_assert_str_eq(d.msg, "second");
}
END_TEST

START_TEST(test_err_diag_long_message_is_truncated)
{
    struct vm_diag d;
    char big[2000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    vm_diag_clear(&d);
    vm_diag_set(&d, VM_EINVAL, "%s", big);
    ck_assert_uint_eq(strlen(d.msg), VM_DIAG_MSG_MAX - 1);
}
END_TEST

static Suite *err_suite(void)
{
    Suite *s = suite_create("err");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_err_name_and_text_come_from_the_table);
    tcase_add_test(tc, test_err_diag_first_error_wins);
    tcase_add_test(tc, test_err_diag_null_still_returns_the_code);
    tcase_add_test(tc, test_err_diag_clear_allows_a_new_error);
    tcase_add_test(tc, test_err_diag_long_message_is_truncated);
    suite_add_tcase(s, tc);
    return s;
}

/* =================================================================== units */

struct size_case { const char *text; uint64_t bytes; };
struct bad_case { const char *text; int rc; };

#define SENTINEL 0x5a5a5a5a5a5a5a5aull

START_TEST(test_units_size_accepts_every_unit)
{
    static const struct size_case cases[] = {
        { "0", 0 }, { "4096", 4096 }, { "512B", 512 },
        { "4KiB", 4096 }, { "3MiB", 3ull << 20 }, { "8GiB", 8ull << 30 },
        { "2TiB", 2ull << 40 },
        { "4kB", 4000 }, { "4KB", 4000 }, { "3MB", 3000000 },
        { "8GB", 8000000000ull }, { "2TB", 2000000000000ull },
        { "8 GiB", 8ull << 30 }, { "007KiB", 7168 },
        { "18446744073709551615", UINT64_MAX },
        { "18446744073709551615B", UINT64_MAX },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = SENTINEL;
        ck_assert_msg(vm_units_parse_size(cases[i].text, &v) == 0, "%s", cases[i].text);
        ck_assert_msg(v == cases[i].bytes, "%s -> %llu", cases[i].text,
                      (unsigned long long)v);
    }
}
END_TEST

START_TEST(test_units_size_decimal_fraction_must_give_whole_bytes)
{
    uint64_t v = SENTINEL;
    ck_assert_int_eq(vm_units_parse_size("0.5KiB", &v), 0);
    ck_assert_uint_eq(v, 512);
    ck_assert_int_eq(vm_units_parse_size("1.5MB", &v), 0);
    ck_assert_uint_eq(v, 1500000);
    ck_assert_int_eq(vm_units_parse_size("1.25GiB", &v), 0);
    ck_assert_uint_eq(v, 5ull << 28);
    ck_assert_int_eq(vm_units_parse_size("2.000B", &v), 0);
    ck_assert_uint_eq(v, 2);
    v = SENTINEL;
    ck_assert_int_eq(vm_units_parse_size("1.5B", &v), VM_EINVAL);
    ck_assert_int_eq(vm_units_parse_size("1.0001KiB", &v), VM_EINVAL);
    ck_assert_int_eq(vm_units_parse_size("0.1", &v), VM_EINVAL);
    ck_assert_uint_eq(v, SENTINEL);
}
END_TEST

START_TEST(test_units_size_rejects_malformed_text)
{
    static const char *const bad[] = {
        "", " ", "GiB", "8x", "8GiBx", " 8GiB", "8GiB ", "8  GiB", "8 ",
        "1e3", "0x10", "8gib", "8 gib", "8Gib", "8.GiB", ".5KiB", ".", "nan", "inf",
        "+8", "8KiB/s", "8kiB", "8b", "1,5MB", "--1", "-x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v = SENTINEL;
        ck_assert_msg(vm_units_parse_size(bad[i], &v) == VM_EINVAL, "'%s'", bad[i]);
        ck_assert_uint_eq(v, SENTINEL);
    }
    uint64_t v = SENTINEL;
    ck_assert_int_eq(vm_units_parse_size(NULL, &v), VM_EINVAL);
}
END_TEST

START_TEST(test_units_size_negative_and_overflow_are_erange)
{
    static const char *const bad[] = {
        "-1", "-4KiB", "-0.5KiB", "18446744073709551616", "16777216TiB",
        "18446744073709551615KiB", "99999999999999999999999", "18446744.073709551616TB",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v = SENTINEL;
        ck_assert_msg(vm_units_parse_size(bad[i], &v) == VM_ERANGE, "'%s'", bad[i]);
        ck_assert_uint_eq(v, SENTINEL);
    }
    uint64_t v;
    ck_assert_int_eq(vm_units_parse_size("16777215TiB", &v), 0);
    ck_assert_uint_eq(v, 16777215ull << 40);
}
END_TEST

START_TEST(test_units_time_accepts_every_unit)
{
    static const struct size_case cases[] = {
        { "100ns", 100 }, { "250us", 250000 }, { "250\xc2\xb5s", 250000 },
        { "1.5ms", 1500000 }, { "2s", 2000000000ull }, { "3min", 180000000000ull },
        { "0.5us", 500 }, { "0s", 0 }, { "250 us", 250000 },
        { "0.000000001s", 1 }, { "18446744073709551615ns", UINT64_MAX },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = SENTINEL;
        ck_assert_msg(vm_units_parse_time(cases[i].text, &v) == 0, "%s", cases[i].text);
        ck_assert_msg(v == cases[i].bytes, "%s -> %llu", cases[i].text,
                      (unsigned long long)v);
    }
}
END_TEST

START_TEST(test_units_time_requires_a_unit_and_whole_ns)
{
    static const struct bad_case bad[] = {
        { "250", VM_EINVAL }, { "", VM_EINVAL }, { "ms", VM_EINVAL },
        { "1.5ns", VM_EINVAL }, { "250usx", VM_EINVAL }, { "250 ", VM_EINVAL },
        { "250h", VM_EINVAL }, { "250MS", VM_EINVAL }, { "1e3ms", VM_EINVAL },
        { "250sec", VM_EINVAL }, { "-1s", VM_ERANGE }, { "-250us", VM_ERANGE },
        { "18446744073709551616ns", VM_ERANGE }, { "1000000000000s", VM_ERANGE },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v = SENTINEL;
        ck_assert_msg(vm_units_parse_time(bad[i].text, &v) == bad[i].rc, "'%s'", bad[i].text);
        ck_assert_uint_eq(v, SENTINEL);
    }
}
END_TEST

START_TEST(test_units_rate_accepts_slash_s_and_ps)
{
    double v = -1;
    ck_assert_int_eq(vm_units_parse_rate("1.2GB/s", &v), 0);
    ck_assert(v == 1.2e9);
    ck_assert_int_eq(vm_units_parse_rate("500MiB/s", &v), 0);
    ck_assert(v == 500.0 * 1048576.0);
    ck_assert_int_eq(vm_units_parse_rate("100MBps", &v), 0);
    ck_assert(v == 1e8);
    ck_assert_int_eq(vm_units_parse_rate("1000/s", &v), 0);
    ck_assert(v == 1000.0);
    ck_assert_int_eq(vm_units_parse_rate("8 GiB/s", &v), 0);
    ck_assert(v == 8.0 * 1073741824.0);
    ck_assert_int_eq(vm_units_parse_rate("0.5B/s", &v), 0);   /* rates may be fractional */
    ck_assert(v == 0.5);
    ck_assert_int_eq(vm_units_parse_rate("0GB/s", &v), 0);
    ck_assert(v == 0.0);
}
END_TEST

START_TEST(test_units_rate_rejects_bad_text)
{
    static const struct bad_case bad[] = {
        { "1.2GB", VM_EINVAL }, { "1200", VM_EINVAL }, { "/s", VM_EINVAL },
        { "GB/s", VM_EINVAL }, { "1.2Gb/s", VM_EINVAL }, { "1.2GB/sx", VM_EINVAL },
        { "1.2GB/h", VM_EINVAL }, { "1.2GB /s", VM_EINVAL }, { "", VM_EINVAL },
        { "1.2gbps", VM_EINVAL }, { "ps", VM_EINVAL },
        { "-1GB/s", VM_ERANGE }, { "99999999999999999999GB/s", VM_ERANGE },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v = -1;
        ck_assert_msg(vm_units_parse_rate(bad[i].text, &v) == bad[i].rc, "'%s'", bad[i].text);
        ck_assert(v == -1);
    }
}
END_TEST

START_TEST(test_units_parse_u64_takes_plain_integers_only)
{
    uint64_t v = SENTINEL;
    ck_assert_int_eq(vm_units_parse_u64("0", &v), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(vm_units_parse_u64("123", &v), 0);
    ck_assert_uint_eq(v, 123);
    ck_assert_int_eq(vm_units_parse_u64("18446744073709551615", &v), 0);
    ck_assert_uint_eq(v, UINT64_MAX);
    v = SENTINEL;
    static const struct bad_case bad[] = {
        { "18446744073709551616", VM_ERANGE }, { "-1", VM_ERANGE },
        { "", VM_EINVAL }, { "20k", VM_EINVAL }, { " 1", VM_EINVAL },
        { "1 ", VM_EINVAL }, { "1.0", VM_EINVAL }, { "+1", VM_EINVAL }, { "0x1", VM_EINVAL },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(vm_units_parse_u64(bad[i].text, &v) == bad[i].rc, "'%s'", bad[i].text);
        ck_assert_uint_eq(v, SENTINEL);
    }
}
END_TEST

START_TEST(test_units_format_picks_the_largest_unit_at_least_one)
{
    char buf[32];
    ck_assert_str_eq(vm_units_fmt_size(8ull << 30, buf, sizeof buf), "8 GiB");
    ck_assert_str_eq(vm_units_fmt_size(512, buf, sizeof buf), "512 B");
    ck_assert_str_eq(vm_units_fmt_size(0, buf, sizeof buf), "0 B");
    ck_assert_str_eq(vm_units_fmt_size(1023, buf, sizeof buf), "1023 B");
    ck_assert_str_eq(vm_units_fmt_size(1024, buf, sizeof buf), "1 KiB");
    ck_assert_str_eq(vm_units_fmt_size(1536, buf, sizeof buf), "1.5 KiB");
    ck_assert_str_eq(vm_units_fmt_size(3ull << 40, buf, sizeof buf), "3 TiB");
    ck_assert_str_eq(vm_units_fmt_time(250000, buf, sizeof buf), "250 us");
    ck_assert_str_eq(vm_units_fmt_time(999, buf, sizeof buf), "999 ns");
    ck_assert_str_eq(vm_units_fmt_time(1500000, buf, sizeof buf), "1.5 ms");
    ck_assert_str_eq(vm_units_fmt_time(2 * VM_NS_PER_S, buf, sizeof buf), "2 s");
    ck_assert_str_eq(vm_units_fmt_time(90 * VM_NS_PER_S, buf, sizeof buf), "1.5 min");
    char tiny[4];
    ck_assert_str_eq(vm_units_fmt_size(8ull << 30, tiny, sizeof tiny), "8 G");
}
END_TEST

START_TEST(test_units_formatted_size_parses_back)
{
    char buf[32];
    uint64_t v;
    vm_units_fmt_size(64ull << 30, buf, sizeof buf);
    ck_assert_int_eq(vm_units_parse_size(buf, &v), 0);
    ck_assert_uint_eq(v, 64ull << 30);
    vm_units_fmt_time(250000, buf, sizeof buf);
    ck_assert_int_eq(vm_units_parse_time(buf, &v), 0);
    ck_assert_uint_eq(v, 250000);
}
END_TEST

static Suite *units_suite(void)
{
    Suite *s = suite_create("units");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_units_size_accepts_every_unit);
    tcase_add_test(tc, test_units_size_decimal_fraction_must_give_whole_bytes);
    tcase_add_test(tc, test_units_size_rejects_malformed_text);
    tcase_add_test(tc, test_units_size_negative_and_overflow_are_erange);
    tcase_add_test(tc, test_units_time_accepts_every_unit);
    tcase_add_test(tc, test_units_time_requires_a_unit_and_whole_ns);
    tcase_add_test(tc, test_units_rate_accepts_slash_s_and_ps);
    tcase_add_test(tc, test_units_rate_rejects_bad_text);
    tcase_add_test(tc, test_units_parse_u64_takes_plain_integers_only);
    tcase_add_test(tc, test_units_format_picks_the_largest_unit_at_least_one);
    tcase_add_test(tc, test_units_formatted_size_parses_back);
    suite_add_tcase(s, tc);
    return s;
}

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

/* ====================================================================== fp */

START_TEST(test_fp_page_depends_on_seed_gpa_and_version)
{
    uint64_t a = vm_fp_page(1, 100, 0);
    ck_assert_uint_eq(a, vm_fp_page(1, 100, 0));
    ck_assert_uint_ne(a, vm_fp_page(1, 100, 1));
    ck_assert_uint_ne(a, vm_fp_page(1, 101, 0));
    ck_assert_uint_ne(a, vm_fp_page(2, 100, 0));
    ck_assert_uint_ne(vm_fp_page(1, 0, 1), vm_fp_page(1, 1, 0));   /* not symmetric */
    unsigned char le[16] = { 100 };
    ck_assert_uint_eq(a, XXH3_64bits_withSeed(le, sizeof le, 1));
}
END_TEST

START_TEST(test_fp_is_never_zero)
{
    for (uint64_t g = 0; g < 100000; g++)
        if (vm_fp_page(0, g, g & 7) == 0 || vm_fp_page(0, g, g & 7) == VM_FP_ZERO)
            ck_abort_msg("reserved fingerprint for gpa %llu", (unsigned long long)g);
    ck_assert_uint_ne(vm_fp_bytes("", 0), 0);
    /* the zero page's fingerprint is reserved, even for 4 KiB of zeros */
    static const char zeros[4096];
    ck_assert_uint_ne(vm_fp_bytes(zeros, sizeof zeros), VM_FP_ZERO);
    ck_assert_uint_ne(VM_FP_ZERO, 0);
}
END_TEST

START_TEST(test_fp_bytes_hashes_content)
{
    char a[4096], b[4096];
    memset(a, 'x', sizeof a);
    memcpy(b, a, sizeof b);
    ck_assert_uint_eq(vm_fp_bytes(a, sizeof a), vm_fp_bytes(b, sizeof b));
    b[4095] = 'y';
    ck_assert_uint_ne(vm_fp_bytes(a, sizeof a), vm_fp_bytes(b, sizeof b));
    ck_assert_uint_eq(vm_fp_bytes(a, sizeof a), XXH3_64bits(a, sizeof a));
}
END_TEST

static Suite *fp_suite(void)
{
    Suite *s = suite_create("fp");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_fp_page_depends_on_seed_gpa_and_version);
    tcase_add_test(tc, test_fp_is_never_zero);
    tcase_add_test(tc, test_fp_bytes_hashes_content);
    suite_add_tcase(s, tc);
    return s;
}

/* ================================================================= fpstore */

static void fill_fps(uint64_t *fps, uint64_t n, uint64_t tag)
{
    for (uint64_t i = 0; i < n; i++)
        fps[i] = vm_fp_page(tag, i, 1);
}

static int packed_at(const struct vm_fpstore *st, uint64_t lba)
{
    return vm_fpstore_get_packed(st, lba, NULL, 0, NULL, NULL, 0, NULL, NULL);
}

START_TEST(test_fpstore_unwritten_blocks_read_zero)
{
    struct vm_fpstore *st = vm_fpstore_new(1000);
    ck_assert_ptr_nonnull(st);
    ck_assert_uint_eq(vm_fpstore_nr_blocks(st), 1000);
    uint64_t out[10];
    memset(out, 0xff, sizeof out);
    ck_assert_int_eq(vm_fpstore_get(st, 990, 10, out), 0);
    for (int i = 0; i < 10; i++)
        ck_assert_uint_eq(out[i], 0);
    ck_assert_int_eq(packed_at(st, 0), VM_ENOENT);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_plain_roundtrip_across_leaves)
{
    const uint64_t nr = 200000;
    struct vm_fpstore *st = vm_fpstore_new(nr);
    uint64_t in[40], out[60];
    fill_fps(in, 40, 1);
    ck_assert_int_eq(vm_fpstore_put(st, 65530, 40, in), 0);   /* spans leaves 0 and 1 */
    ck_assert_int_eq(vm_fpstore_get(st, 65520, 60, out), 0);
    for (int i = 0; i < 60; i++)
        ck_assert_uint_eq(out[i], i >= 10 && i < 50 ? in[i - 10] : 0);
    ck_assert_int_eq(vm_fpstore_put(st, nr - 1, 1, in), 0);   /* last, short leaf */
    ck_assert_int_eq(vm_fpstore_get(st, nr - 1, 1, out), 0);
    ck_assert_uint_eq(out[0], in[0]);
    ck_assert_int_eq(vm_fpstore_put(st, 5, 0, in), 0);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_out_of_range_is_erange)
{
    struct vm_fpstore *st = vm_fpstore_new(100);
    uint64_t fps[8];
    fill_fps(fps, 8, 2);
    ck_assert_int_eq(vm_fpstore_put(st, 95, 6, fps), VM_ERANGE);
    ck_assert_int_eq(vm_fpstore_put(st, 101, 0, fps), VM_ERANGE);
    ck_assert_int_eq(vm_fpstore_put(st, UINT64_MAX, 2, fps), VM_ERANGE);
    ck_assert_int_eq(vm_fpstore_get(st, 99, 2, fps), VM_ERANGE);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 98, 3, fps, 1, NULL, 0), VM_ERANGE);
    ck_assert_int_eq(vm_fpstore_put(st, 95, 5, fps), 0);
    ck_assert_int_eq(packed_at(st, 100), VM_ENOENT);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_packed_roundtrip_and_truncated_copy)
{
    struct vm_fpstore *st = vm_fpstore_new(1000);
    uint64_t fps[3];
    fill_fps(fps, 3, 3);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 10, 4, fps, 3, "hello", 5), 0);
    uint64_t out[3] = { 0 };
    char bytes[8] = { 0 };
    uint32_t nr_fps = 0, len = 0;
    uint64_t nr_blocks = 0;
    ck_assert_int_eq(vm_fpstore_get_packed(st, 10, out, 3, &nr_fps, bytes, 8, &len,
                                           &nr_blocks), 0);
    ck_assert_uint_eq(nr_fps, 3);
    ck_assert_uint_eq(len, 5);
    ck_assert_uint_eq(nr_blocks, 4);
    ck_assert_int_eq(memcmp(out, fps, sizeof fps), 0);
    ck_assert_str_eq(bytes, "hello");
    /* smaller buffers: partial copy, true sizes still reported */
    uint64_t one = 0;
    char two[3] = { 0 };
    ck_assert_int_eq(vm_fpstore_get_packed(st, 10, &one, 1, &nr_fps, two, 2, &len, NULL), 0);
    ck_assert_uint_eq(one, fps[0]);
    ck_assert_str_eq(two, "he");
    ck_assert_uint_eq(nr_fps, 3);
    ck_assert_uint_eq(len, 5);
    /* only the first block of an extent names it */
    ck_assert_int_eq(packed_at(st, 11), VM_ENOENT);
    ck_assert_int_eq(packed_at(st, 9), VM_ENOENT);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_plain_read_over_packed_is_einval)
{
    struct vm_fpstore *st = vm_fpstore_new(1000);
    uint64_t out[20];
    ck_assert_int_eq(vm_fpstore_put_packed(st, 10, 4, NULL, 0, "meta", 4), 0);
    ck_assert_int_eq(vm_fpstore_get(st, 12, 1, out), VM_EINVAL);
    ck_assert_int_eq(vm_fpstore_get(st, 10, 1, out), VM_EINVAL);
    ck_assert_int_eq(vm_fpstore_get(st, 9, 2, out), VM_EINVAL);
    ck_assert_int_eq(vm_fpstore_get(st, 13, 5, out), VM_EINVAL);
    ck_assert_int_eq(vm_fpstore_get(st, 0, 10, out), 0);
    ck_assert_int_eq(vm_fpstore_get(st, 14, 20, out), 0);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_packed_write_clears_the_plain_blocks_it_covers)
{
    struct vm_fpstore *st = vm_fpstore_new(1000);
    uint64_t in[100], out[100];
    fill_fps(in, 100, 4);
    ck_assert_int_eq(vm_fpstore_put(st, 0, 100, in), 0);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 10, 4, in, 2, NULL, 0), 0);
    /* a plain write over the packed extent's first blocks drops it ... */
    ck_assert_int_eq(vm_fpstore_put(st, 10, 2, in + 50), 0);
    ck_assert_int_eq(packed_at(st, 10), VM_ENOENT);
    /* ... and the blocks it had covered do not come back with old content */
    ck_assert_int_eq(vm_fpstore_get(st, 8, 8, out), 0);
    ck_assert_uint_eq(out[0], in[8]);
    ck_assert_uint_eq(out[1], in[9]);
    ck_assert_uint_eq(out[2], in[50]);
    ck_assert_uint_eq(out[3], in[51]);
    ck_assert_uint_eq(out[4], 0);
    ck_assert_uint_eq(out[5], 0);
    ck_assert_uint_eq(out[6], in[14]);
    ck_assert_uint_eq(out[7], in[15]);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_plain_write_drops_packed_extents_starting_inside)
{
    struct vm_fpstore *st = vm_fpstore_new(1000);
    uint64_t in[30], out[40];
    fill_fps(in, 30, 5);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 10, 4, in, 4, NULL, 0), 0);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 20, 2, in, 1, "x", 1), 0);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 40, 2, in, 1, NULL, 0), 0);
    ck_assert_int_eq(vm_fpstore_put(st, 5, 20, in), 0);
    ck_assert_int_eq(packed_at(st, 10), VM_ENOENT);
    ck_assert_int_eq(packed_at(st, 20), VM_ENOENT);
    ck_assert_int_eq(packed_at(st, 40), 0);                  /* outside: untouched */
    ck_assert_int_eq(vm_fpstore_get(st, 0, 40, out), 0);
    ck_assert_uint_eq(out[5], in[0]);
    ck_assert_uint_eq(out[24], in[19]);
    ck_assert_uint_eq(out[25], 0);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_plain_write_into_the_tail_of_packed_drops_it_whole)
{
    struct vm_fpstore *st = vm_fpstore_new(1000);
    uint64_t in[4], out[4];
    fill_fps(in, 4, 6);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 10, 4, in, 4, NULL, 0), 0);
    ck_assert_int_eq(vm_fpstore_put(st, 12, 1, in), 0);
    ck_assert_int_eq(packed_at(st, 10), VM_ENOENT);
    ck_assert_int_eq(vm_fpstore_get(st, 10, 4, out), 0);
    ck_assert_uint_eq(out[0], 0);
    ck_assert_uint_eq(out[1], 0);
    ck_assert_uint_eq(out[2], in[0]);
    ck_assert_uint_eq(out[3], 0);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_packed_write_replaces_overlapping_packed)
{
    struct vm_fpstore *st = vm_fpstore_new(1000);
    uint64_t in[4], out[4];
    fill_fps(in, 4, 7);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 10, 4, in, 4, NULL, 0), 0);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 12, 4, in, 2, NULL, 0), 0);
    ck_assert_int_eq(packed_at(st, 10), VM_ENOENT);          /* overlapped: dropped */
    ck_assert_int_eq(vm_fpstore_get(st, 10, 2, out), 0);     /* and its blocks freed */
    ck_assert_uint_eq(out[0], 0);
    ck_assert_int_eq(vm_fpstore_get(st, 15, 1, out), VM_EINVAL);
    /* same start: the new payload replaces the old one */
    ck_assert_int_eq(vm_fpstore_put_packed(st, 12, 2, in + 3, 1, "ab", 2), 0);
    uint32_t nr_fps, len;
    uint64_t nb;
    ck_assert_int_eq(vm_fpstore_get_packed(st, 12, out, 4, &nr_fps, NULL, 0, &len, &nb), 0);
    ck_assert_uint_eq(nr_fps, 1);
    ck_assert_uint_eq(out[0], in[3]);
    ck_assert_uint_eq(len, 2);
    ck_assert_uint_eq(nb, 2);
    ck_assert_int_eq(vm_fpstore_get(st, 14, 2, out), 0);     /* old tail released */
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_packed_extent_spanning_leaves)
{
    struct vm_fpstore *st = vm_fpstore_new(200000);
    uint64_t in[4], out[20];
    fill_fps(in, 4, 8);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 65530, 20, in, 4, NULL, 0), 0);
    ck_assert_int_eq(vm_fpstore_get(st, 65545, 1, out), VM_EINVAL);
    ck_assert_int_eq(vm_fpstore_get(st, 65550, 1, out), 0);
    ck_assert_int_eq(vm_fpstore_put(st, 65549, 1, in), 0);   /* last block: drops it */
    ck_assert_int_eq(packed_at(st, 65530), VM_ENOENT);
    ck_assert_int_eq(vm_fpstore_get(st, 65530, 20, out), 0);
    ck_assert_uint_eq(out[19], in[0]);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_packed_rejects_empty_extent_and_null_payload)
{
    struct vm_fpstore *st = vm_fpstore_new(100);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 10, 0, NULL, 0, NULL, 0), VM_EINVAL);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 10, 1, NULL, 2, NULL, 0), VM_EINVAL);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 10, 1, NULL, 0, NULL, 3), VM_EINVAL);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 10, 1, NULL, 0, NULL, 0), 0);
    ck_assert_int_eq(packed_at(st, 10), 0);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_mem_bytes_tracks_leaves_and_extents)
{
    struct vm_fpstore *st = vm_fpstore_new(1ull << 20);
    size_t base = vm_fpstore_mem_bytes(st);
    uint64_t in[2];
    fill_fps(in, 2, 9);
    ck_assert_int_eq(vm_fpstore_put(st, 0, 1, in), 0);
    size_t one_leaf = vm_fpstore_mem_bytes(st) - base;
    ck_assert_uint_eq(one_leaf, 512 * 8);                    /* 2 MiB of device */
    ck_assert_int_eq(vm_fpstore_put(st, 1, 1, in), 0);       /* same leaf: no growth */
    ck_assert_uint_eq(vm_fpstore_mem_bytes(st), base + one_leaf);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 100, 2, in, 1, "abc", 3), 0);
    size_t with_ext = vm_fpstore_mem_bytes(st);
    ck_assert_int_eq(vm_fpstore_put(st, 100, 2, in), 0);     /* drops the extent */
    ck_assert_uint_lt(vm_fpstore_mem_bytes(st), with_ext);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 100, 2, in, 1, "abc", 3), 0);
    ck_assert_uint_eq(vm_fpstore_mem_bytes(st), with_ext);
    vm_fpstore_free(st);
}
END_TEST

/* Leaves of the arena: more than one chunk's worth (512 leaves), each
 * leaf zeroed, distinct, and kept when later leaves are carved. */
START_TEST(test_fpstore_leaves_past_one_arena_chunk_stay_distinct)
{
    uint64_t leaves = 1100, n = leaves * 512;
    struct vm_fpstore *st = vm_fpstore_new(n);
    uint64_t in, out[2];
    for (uint64_t l = 0; l < leaves; l++) {
        in = l + 1;
        ck_assert_int_eq(vm_fpstore_put(st, l * 512 + 7, 1, &in), 0);
    }
    for (uint64_t l = 0; l < leaves; l++) {
        ck_assert_int_eq(vm_fpstore_get(st, l * 512 + 6, 2, out), 0);
        ck_assert_uint_eq(out[0], 0);               /* never written: zeroed leaf */
        ck_assert_uint_eq(out[1], l + 1);
    }
    ck_assert_uint_eq(vm_fpstore_blocks_used(st, NULL), leaves);
    vm_fpstore_free(st);
}
END_TEST

/* vm_bigmem: zeroed either side of the huge-page threshold, large ones
 * aligned to 2 MiB. */
START_TEST(test_bigmem_zeroed_and_aligned_when_large)
{
    size_t sizes[] = { 1, 4096, VM_BIGMEM_ALIGN - 1, VM_BIGMEM_ALIGN, 3 * VM_BIGMEM_ALIGN + 5 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *p = vm_bigmem_alloc(sizes[i]);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq(p[0], 0);
        ck_assert_uint_eq(p[sizes[i] - 1], 0);
        if (sizes[i] >= VM_BIGMEM_ALIGN)
            ck_assert_uint_eq((uintptr_t)p % VM_BIGMEM_ALIGN, 0);
        memset(p, 0xa5, sizes[i]);
        vm_bigmem_free(p, sizes[i]);
    }
    ck_assert_ptr_null(vm_bigmem_alloc(0));
    vm_bigmem_free(NULL, 123);
    ck_assert_uint_eq(vm_bigmem_size(1), VM_BIGMEM_ALIGN);
    ck_assert_uint_eq(vm_bigmem_size(VM_BIGMEM_ALIGN + 1), 2 * VM_BIGMEM_ALIGN);
}
END_TEST

/* Regions made ahead on a thread are what vm_bigmem_alloc() gives:
 * zeroed, aligned, distinct; taken one after the other (the first
 * inline, the next ones made while the caller fills the last), and the
 * one made ahead and never taken is freed with the helper (ASan: no leak). */
START_TEST(test_bigmem_ahead_gives_zeroed_aligned_distinct_regions)
{
    enum { N = 5 };
    struct vm_bigmem_ahead *a = vm_bigmem_ahead_new(VM_BIGMEM_ALIGN);
    ck_assert_ptr_nonnull(a);
    unsigned char *r[N];
    for (int i = 0; i < N; i++) {
        r[i] = vm_bigmem_ahead_take(a);
        ck_assert_ptr_nonnull(r[i]);
        ck_assert_uint_eq((uintptr_t)r[i] % VM_BIGMEM_ALIGN, 0);
        for (size_t off = 0; off < VM_BIGMEM_ALIGN; off += 4096 - 1)
            ck_assert_uint_eq(r[i][off], 0);
        for (int k = 0; k < i; k++)
            ck_assert_ptr_ne(r[i], r[k]);
        memset(r[i], 0xa5, VM_BIGMEM_ALIGN);        /* the caller's, to fill */
    }
    vm_bigmem_ahead_free(a);
    for (int i = 0; i < N; i++)
        vm_bigmem_free(r[i], VM_BIGMEM_ALIGN);
    vm_bigmem_ahead_free(NULL);
    /* one take: no thread, nothing left over */
    a = vm_bigmem_ahead_new(VM_BIGMEM_ALIGN);
    void *one = vm_bigmem_ahead_take(a);
    ck_assert_ptr_nonnull(one);
    vm_bigmem_ahead_free(a);
    vm_bigmem_free(one, VM_BIGMEM_ALIGN);
}
END_TEST

/* A FLAT image's zero regions are holes of 2 MiB: they take no leaf. */
/* Sharing on: a whole leaf written with the content of a leaf lately
 * written or read whole is kept once; a write into either copy copies it
 * first; every block reads what was last written there, and a leaf no
 * slot holds any more is reused. */
START_TEST(test_fpstore_shared_leaves_read_as_written)
{
    struct vm_fpstore *st = vm_fpstore_new_leaf(1024, 4);     /* leaves of 16 blocks */
    ck_assert_int_eq(vm_fpstore_share(st), 0);
    uint64_t a[16], b[16], out[16], out2[16];
    fill_fps(a, 16, 5);
    fill_fps(b, 16, 6);
    ck_assert_int_eq(vm_fpstore_put(st, 0, 16, a), 0);
    size_t one = vm_fpstore_mem_bytes(st);
    ck_assert_int_eq(vm_fpstore_put(st, 160, 16, a), 0);       /* the same data twice */
    ck_assert_uint_eq(vm_fpstore_mem_bytes(st), one);
    ck_assert_int_eq(vm_fpstore_get(st, 160, 16, out), 0);
    ck_assert_mem_eq(out, a, sizeof a);
    /* a write into one copy leaves the other as it was */
    ck_assert_int_eq(vm_fpstore_put(st, 165, 1, b), 0);
    ck_assert_uint_eq(vm_fpstore_mem_bytes(st), one + 16 * 8);
    ck_assert_int_eq(vm_fpstore_get(st, 0, 16, out), 0);
    ck_assert_mem_eq(out, a, sizeof a);
    ck_assert_int_eq(vm_fpstore_get(st, 160, 16, out), 0);
    ck_assert_uint_eq(out[5], b[0]);
    ck_assert_uint_eq(out[6], a[6]);
    /* a leaf read whole, then written elsewhere (a copy): shared */
    ck_assert_int_eq(vm_fpstore_put(st, 320, 16, out), 0);
    ck_assert_uint_eq(vm_fpstore_mem_bytes(st), one + 16 * 8);
    /* a packed extent over a shared leaf clears its blocks there only */
    ck_assert_int_eq(vm_fpstore_put_packed(st, 320, 1, NULL, 0, "m", 1), 0);
    ck_assert_int_eq(vm_fpstore_get(st, 161, 15, out), 0);
    ck_assert_int_eq(vm_fpstore_get(st, 321, 15, out2), 0);
    ck_assert_mem_eq(out, out2, 15 * sizeof *out);
    ck_assert_uint_eq(vm_fpstore_blocks_used(st, NULL), 16 + 16 + 15 + 1);
    /* both copies of a shared leaf rewritten alike: the old leaf is
     * freed, the new one shared, and the next new leaf is the freed one */
    size_t before = vm_fpstore_mem_bytes(st);
    ck_assert_int_eq(vm_fpstore_get(st, 0, 16, out), 0);        /* (160's began alike) */
    ck_assert_int_eq(vm_fpstore_put(st, 480, 16, out), 0);      /* shares slot 0's */
    ck_assert_uint_eq(vm_fpstore_mem_bytes(st), before);
    ck_assert_int_eq(vm_fpstore_put(st, 0, 16, b), 0);
    ck_assert_int_eq(vm_fpstore_put(st, 480, 16, b), 0);
    ck_assert_uint_eq(vm_fpstore_mem_bytes(st), before);
    ck_assert_int_eq(vm_fpstore_put(st, 640, 1, b), 0);         /* a new leaf */
    ck_assert_uint_eq(vm_fpstore_mem_bytes(st), before + 16 * 8);
    ck_assert_int_eq(vm_fpstore_get(st, 640, 2, out), 0);
    ck_assert_uint_eq(out[0], b[0]);
    ck_assert_uint_eq(out[1], 0);                              /* zeroed when reused */
    ck_assert_int_eq(vm_fpstore_get(st, 480, 16, out), 0);
    ck_assert_mem_eq(out, b, sizeof b);
    ck_assert_int_eq(vm_fpstore_get(st, 0, 16, out), 0);
    ck_assert_mem_eq(out, b, sizeof b);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_2mib_holes_take_no_memory)
{
    struct vm_fpstore *st = vm_fpstore_new(1ull << 20);
    size_t base = vm_fpstore_mem_bytes(st);
    static uint64_t in[512];
    fill_fps(in, 512, 3);
    ck_assert_int_eq(vm_fpstore_put(st, 0, 512, in), 0);
    ck_assert_int_eq(vm_fpstore_put(st, 1024, 512, in), 0);
    ck_assert_uint_eq(vm_fpstore_mem_bytes(st) - base, 2 * 512 * 8);
    uint64_t out[2];
    ck_assert_int_eq(vm_fpstore_get(st, 1023, 2, out), 0);
    ck_assert_uint_eq(out[0], 0);                            /* the hole reads as no data */
    ck_assert_uint_eq(out[1], in[0]);
    uint64_t end;
    ck_assert_uint_eq(vm_fpstore_blocks_used(st, &end), 1024);
    ck_assert_uint_eq(end, 1536);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_64gib_image_fits_in_140mib)
{
    const uint64_t nr = 16777216;          /* 64 GiB of 4 KiB blocks */
    struct vm_fpstore *st = vm_fpstore_new(nr);
    ck_assert_ptr_nonnull(st);
    static uint64_t chunk[4096];
    for (uint64_t lba = 0; lba < nr; lba += 4096) {
        for (uint64_t i = 0; i < 4096; i++)
            chunk[i] = lba + i + 1;
        ck_assert_int_eq(vm_fpstore_put(st, lba, 4096, chunk), 0);
    }
    ck_assert_uint_le(vm_fpstore_mem_bytes(st), 140ull << 20);
    ck_assert_uint_ge(vm_fpstore_mem_bytes(st), 128ull << 20);
    uint64_t out[3];
    ck_assert_int_eq(vm_fpstore_get(st, nr - 3, 3, out), 0);
    ck_assert_uint_eq(out[2], nr);
    ck_assert_int_eq(vm_fpstore_get(st, 12345678, 1, out), 0);
    ck_assert_uint_eq(out[0], 12345679);
    vm_fpstore_free(st);
}
END_TEST


START_TEST(test_fpstore_apply_vectored_run_lands_at_each_lba)
{
    struct vm_fpstore *st = vm_fpstore_new(100);
    uint64_t lbas[3] = { 70, 10, 90 }, in[3] = { 7, 1, 9 }, out[3] = { 0 };
    struct port_blk_req w = { .op = PORT_BLK_WRITE, .lba = 70, .nr_blocks = 3, .nr_ios = 3,
                              .lbas = lbas, .fps = in };
    ck_assert(vm_fpstore_req_fits(st, &w));
    ck_assert_int_eq(vm_fpstore_apply(st, &w), 0);
    uint64_t one;
    ck_assert_int_eq(vm_fpstore_get(st, 10, 1, &one), 0);
    ck_assert_uint_eq(one, 1);
    ck_assert_int_eq(vm_fpstore_get(st, 11, 1, &one), 0);
    ck_assert_uint_eq(one, 0);                            /* nothing between the I/Os */
    struct port_blk_req r = w;
    r.op = PORT_BLK_READ;
    r.fps = out;
    ck_assert_int_eq(vm_fpstore_apply(st, &r), 0);
    ck_assert_uint_eq(out[0], 7);
    ck_assert_uint_eq(out[1], 1);
    ck_assert_uint_eq(out[2], 9);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_apply_run_off_the_end_writes_nothing)
{
    struct vm_fpstore *st = vm_fpstore_new(100);
    uint64_t lbas[2] = { 5, 100 }, in[2] = { 3, 4 };
    struct port_blk_req w = { .op = PORT_BLK_WRITE, .lba = 5, .nr_blocks = 2, .nr_ios = 2,
                              .lbas = lbas, .fps = in };
    ck_assert(!vm_fpstore_req_fits(st, &w));
    ck_assert_int_eq(vm_fpstore_apply(st, &w), VM_ERANGE);
    uint64_t one;
    ck_assert_int_eq(vm_fpstore_get(st, 5, 1, &one), 0);
    ck_assert_uint_eq(one, 0);                            /* checked before any write */
    struct port_blk_req flush = { .op = PORT_BLK_FLUSH };
    ck_assert(vm_fpstore_req_fits(st, &flush));
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_apply_run_of_unequal_ios_places_each)
{
    struct vm_fpstore *st = vm_fpstore_new(100);
    uint64_t lbas[3] = { 40, 5, 90 }, in[6] = { 1, 2, 3, 4, 5, 6 }, out[6] = { 0 };
    uint32_t lens[3] = { 3, 1, 2 };
    struct port_blk_req w = { .op = PORT_BLK_WRITE, .lba = 40, .nr_blocks = 6, .nr_ios = 3,
                              .lbas = lbas, .io_blocks = lens, .fps = in };
    ck_assert(vm_fpstore_req_fits(st, &w));
    ck_assert_int_eq(vm_fpstore_apply(st, &w), 0);
    ck_assert_int_eq(vm_fpstore_get(st, 40, 3, out), 0);
    ck_assert_uint_eq(out[0], 1);
    ck_assert_uint_eq(out[2], 3);
    ck_assert_int_eq(vm_fpstore_get(st, 5, 2, out), 0);
    ck_assert_uint_eq(out[0], 4);
    ck_assert_uint_eq(out[1], 0);                         /* the hole after it */
    ck_assert_int_eq(vm_fpstore_get(st, 90, 2, out), 0);
    ck_assert_uint_eq(out[1], 6);
    ck_assert_uint_eq(vm_fpstore_blocks_used(st, NULL), 6);
    struct port_blk_req r = w;
    r.op = PORT_BLK_READ;
    r.fps = out;
    memset(out, 0, sizeof out);
    ck_assert_int_eq(vm_fpstore_apply(st, &r), 0);
    ck_assert_int_eq(memcmp(out, in, sizeof in), 0);
    /* lengths must add up to nr_blocks, and each run must fit */
    lens[2] = 1;
    ck_assert(!vm_fpstore_req_fits(st, &w));
    ck_assert_int_eq(vm_fpstore_apply(st, &w), VM_ERANGE);
    lens[2] = 2;
    lbas[2] = 99;
    ck_assert(!vm_fpstore_req_fits(st, &w));
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_blocks_used_counts_data_not_holes)
{
    struct vm_fpstore *st = vm_fpstore_new(200000);
    uint64_t end = 1;
    ck_assert_uint_eq(vm_fpstore_blocks_used(st, &end), 0);
    ck_assert_uint_eq(end, 0);
    uint64_t fps[10];
    fill_fps(fps, 10, 3);
    ck_assert_int_eq(vm_fpstore_put(st, 65530, 10, fps), 0);      /* across two leaves */
    ck_assert_int_eq(vm_fpstore_put(st, 65532, 2, fps), 0);       /* rewritten: same blocks */
    ck_assert_uint_eq(vm_fpstore_blocks_used(st, &end), 10);
    ck_assert_uint_eq(end, 65540);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 1000, 3, fps, 10, "maps", 4), 0);
    ck_assert_uint_eq(vm_fpstore_blocks_used(st, NULL), 13);
    /* a packed extent over plain blocks replaces them */
    ck_assert_int_eq(vm_fpstore_put_packed(st, 65535, 2, NULL, 0, "x", 1), 0);
    ck_assert_uint_eq(vm_fpstore_blocks_used(st, NULL), 13);
    /* a plain write over a packed extent drops the extent whole */
    ck_assert_int_eq(vm_fpstore_put(st, 1001, 1, fps), 0);
    ck_assert_uint_eq(vm_fpstore_blocks_used(st, NULL), 11);
    /* the apparent size ends with the last block holding data, packed too */
    ck_assert_int_eq(vm_fpstore_put_packed(st, 150000, 4, NULL, 0, "hdr", 3), 0);
    ck_assert_uint_eq(vm_fpstore_blocks_used(st, &end), 15);
    ck_assert_uint_eq(end, 150004);
    vm_fpstore_free(st);
}
END_TEST

static Suite *fpstore_suite(void)
{
    Suite *s = suite_create("fpstore");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_fpstore_unwritten_blocks_read_zero);
    tcase_add_test(tc, test_fpstore_shared_leaves_read_as_written);
    tcase_add_test(tc, test_fpstore_apply_run_of_unequal_ios_places_each);
    tcase_add_test(tc, test_fpstore_blocks_used_counts_data_not_holes);
    tcase_add_test(tc, test_fpstore_plain_roundtrip_across_leaves);
    tcase_add_test(tc, test_fpstore_out_of_range_is_erange);
    tcase_add_test(tc, test_fpstore_packed_roundtrip_and_truncated_copy);
    tcase_add_test(tc, test_fpstore_plain_read_over_packed_is_einval);
    tcase_add_test(tc, test_fpstore_packed_write_clears_the_plain_blocks_it_covers);
    tcase_add_test(tc, test_fpstore_plain_write_drops_packed_extents_starting_inside);
    tcase_add_test(tc, test_fpstore_plain_write_into_the_tail_of_packed_drops_it_whole);
    tcase_add_test(tc, test_fpstore_packed_write_replaces_overlapping_packed);
    tcase_add_test(tc, test_fpstore_packed_extent_spanning_leaves);
    tcase_add_test(tc, test_fpstore_packed_rejects_empty_extent_and_null_payload);
    tcase_add_test(tc, test_fpstore_mem_bytes_tracks_leaves_and_extents);
    tcase_add_test(tc, test_fpstore_2mib_holes_take_no_memory);
    tcase_add_test(tc, test_fpstore_leaves_past_one_arena_chunk_stay_distinct);
    tcase_add_test(tc, test_bigmem_zeroed_and_aligned_when_large);
    tcase_add_test(tc, test_bigmem_ahead_gives_zeroed_aligned_distinct_regions);
    tcase_add_test(tc, test_fpstore_64gib_image_fits_in_140mib);
    tcase_add_test(tc, test_fpstore_apply_vectored_run_lands_at_each_lba);
    tcase_add_test(tc, test_fpstore_apply_run_off_the_end_writes_nothing);
    suite_add_tcase(s, tc);
    return s;
}

/* =================================================================== param */

struct pcfg {
    uint32_t block_pages;
    uint64_t nr_rounds;
    double ratio;
    bool compress;
    uint64_t buf_bytes;
    uint64_t lat_ns;
    double bw_bytes_per_s;
    int trace;
    const char *label;
};

static const struct vm_param ptab[] = {
    { "block_pages", VM_PARAM_U32, offsetof(struct pcfg, block_pages),
      .min = 2, .max = 16, .def = "8", .help = "pages per block" },
    { "nr_rounds", VM_PARAM_U64, offsetof(struct pcfg, nr_rounds), .min = 2, .def = "30" },
    { "ratio", VM_PARAM_DOUBLE, offsetof(struct pcfg, ratio), .min = 0, .max = 1, .def = "0.25" },
    { "compress", VM_PARAM_BOOL, offsetof(struct pcfg, compress), .def = "true" },
    { "buf", VM_PARAM_SIZE, offsetof(struct pcfg, buf_bytes),
      .min = 4096, .max = 1073741824.0, .def = "64MiB" },
    { "lat", VM_PARAM_TIME, offsetof(struct pcfg, lat_ns), .min = 1000, .max = 1e9, .def = "100us" },
    { "bw", VM_PARAM_RATE, offsetof(struct pcfg, bw_bytes_per_s), .def = "1.2GB/s" },
    { "trace", VM_PARAM_ENUM, offsetof(struct pcfg, trace), .choices = "write|rw", .def = "rw" },
    { "label", VM_PARAM_STRING, offsetof(struct pcfg, label), .def = "none" },
    { NULL }
};

static const struct vm_param *row(const char *name)
{
    const struct vm_param *p = vm_param_find(ptab, name);
    ck_assert_ptr_nonnull(p);
    return p;
}

START_TEST(test_param_find_and_suggest_by_edit_distance)
{
    ck_assert_ptr_eq(vm_param_find(ptab, "ratio"), &ptab[2]);
    ck_assert_ptr_null(vm_param_find(ptab, "rati"));
    ck_assert_str_eq(vm_param_suggest(ptab, "blok_pages"), "block_pages");
    ck_assert_str_eq(vm_param_suggest(ptab, "block_pagesxyz"), "block_pages");  /* 3 */
    ck_assert_ptr_null(vm_param_suggest(ptab, "block_pagesxyzw"));             /* 4 */
    ck_assert_str_eq(vm_param_suggest(ptab, "compres"), "compress");
    ck_assert_ptr_null(vm_param_suggest(ptab, "zzzzzzzzzz"));
}
END_TEST

START_TEST(test_param_defaults_fill_every_row)
{
    struct pcfg c;
    memset(&c, 0, sizeof c);
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_defaults(ptab, &c, &d), 0);
    ck_assert_uint_eq(c.block_pages, 8);
    ck_assert_uint_eq(c.nr_rounds, 30);
    ck_assert(c.ratio == 0.25);
    ck_assert(c.compress);
    ck_assert_uint_eq(c.buf_bytes, 64ull << 20);
    ck_assert_uint_eq(c.lat_ns, 100000);
    ck_assert(c.bw_bytes_per_s == 1.2e9);
    ck_assert_int_eq(c.trace, 1);
    ck_assert_str_eq(c.label, "none");
    ck_assert_int_eq(d.code, 0);
}
END_TEST

START_TEST(test_param_bad_default_names_the_row)
{
    static const struct vm_param bad[] = {
        { "ok", VM_PARAM_U32, offsetof(struct pcfg, block_pages), .def = "3" },
        { "depth", VM_PARAM_U32, offsetof(struct pcfg, block_pages), .min = 1, .max = 4, .def = "9" },
        { NULL }
    };
    struct pcfg c;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_defaults(bad, &c, &d), VM_ERANGE);
    ck_assert_str_eq(d.msg, "default of 'depth': expected integer 1..4, got 9");
}
END_TEST

START_TEST(test_param_u32_out_of_range_says_what_was_expected)
{
    struct pcfg c = { .block_pages = 5 };
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_set_number(row("block_pages"), &c, 1, &d), VM_ERANGE);
    ck_assert_str_eq(d.msg, "expected integer 2..16, got 1");
    ck_assert_uint_eq(c.block_pages, 5);
    ck_assert_int_eq(vm_param_set_number(row("block_pages"), &c, 16, NULL), 0);
    ck_assert_uint_eq(c.block_pages, 16);
    ck_assert_int_eq(vm_param_set_number(row("block_pages"), &c, 2, NULL), 0);
    ck_assert_uint_eq(c.block_pages, 2);
}
END_TEST

START_TEST(test_param_integer_rejects_fractions_and_negatives)
{
    struct pcfg c = { .block_pages = 5, .nr_rounds = 9 };
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_set_number(row("block_pages"), &c, 2.5, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "expected integer 2..16, got 2.5");
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_set_number(row("nr_rounds"), &c, 1, &d), VM_ERANGE);
    ck_assert_str_eq(d.msg, "expected integer >= 2, got 1");
    ck_assert_int_eq(vm_param_set_number(row("nr_rounds"), &c, -3, NULL), VM_ERANGE);
    ck_assert_int_eq(vm_param_set_number(row("nr_rounds"), &c, NAN, NULL), VM_EINVAL);
    ck_assert_int_eq(vm_param_set_number(row("nr_rounds"), &c, 1e30, NULL), VM_ERANGE);
    ck_assert_int_eq(vm_param_set_number(row("nr_rounds"), &c, 4503599627370496.0, NULL), 0);
    ck_assert_uint_eq(c.nr_rounds, 4503599627370496ull);
    ck_assert_uint_eq(c.block_pages, 5);
}
END_TEST

START_TEST(test_param_u32_without_range_is_bounded_by_its_type)
{
    static const struct vm_param t[] = {
        { "n", VM_PARAM_U32, offsetof(struct pcfg, block_pages), .min = 0 }, { NULL }
    };
    struct pcfg c = { 0 };
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_set_number(&t[0], &c, 5e9, &d), VM_ERANGE);
    ck_assert_str_eq(d.msg, "expected integer 0..4294967295, got 5000000000");
    ck_assert_int_eq(vm_param_set_number(&t[0], &c, 4294967295.0, NULL), 0);
    ck_assert_uint_eq(c.block_pages, UINT32_MAX);
    ck_assert_int_eq(vm_param_set_number(&t[0], &c, 0, NULL), 0);
    ck_assert_uint_eq(c.block_pages, 0);
}
END_TEST

START_TEST(test_param_double_range)
{
    struct pcfg c = { .ratio = 0.5 };
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_set_number(row("ratio"), &c, 0.75, NULL), 0);
    ck_assert(c.ratio == 0.75);
    ck_assert_int_eq(vm_param_set_number(row("ratio"), &c, 1.5, &d), VM_ERANGE);
    ck_assert_str_eq(d.msg, "expected number 0..1, got 1.5");
    ck_assert_int_eq(vm_param_set_number(row("ratio"), &c, INFINITY, NULL), VM_EINVAL);
    ck_assert(c.ratio == 0.75);
}
END_TEST

START_TEST(test_param_json_type_mismatches_name_the_type)
{
    struct pcfg c = { 0 };
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_set_number(row("compress"), &c, 1, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "expected boolean, got number");
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_set_string(row("compress"), &c, "true", &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "expected boolean, got string \"true\"");
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_set_bool(row("block_pages"), &c, true, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "expected integer 2..16, got boolean");
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_set_string(row("block_pages"), &c, "8", &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "expected integer 2..16, got string \"8\"");
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_set_number(row("trace"), &c, 1, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "expected one of write|rw, got number");
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_set_number(row("label"), &c, 1, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "expected string, got number");
    ck_assert_int_eq(vm_param_set_bool(row("compress"), &c, true, NULL), 0);
    ck_assert(c.compress);
    ck_assert_int_eq(vm_param_set_bool(row("compress"), &c, false, NULL), 0);
    ck_assert(!c.compress);
}
END_TEST

START_TEST(test_param_size_from_string_or_number)
{
    struct pcfg c = { 0 };
    struct vm_diag d;
    ck_assert_int_eq(vm_param_set_string(row("buf"), &c, "8MiB", NULL), 0);
    ck_assert_uint_eq(c.buf_bytes, 8ull << 20);
    ck_assert_int_eq(vm_param_set_number(row("buf"), &c, 65536, NULL), 0);
    ck_assert_uint_eq(c.buf_bytes, 65536);
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_set_string(row("buf"), &c, "8x", &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "expected size like \"8GiB\", got \"8x\"");
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_set_string(row("buf"), &c, "2GiB", &d), VM_ERANGE);
    ck_assert_str_eq(d.msg, "expected size 4KiB..1GiB, got \"2GiB\"");
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_set_number(row("buf"), &c, 100, &d), VM_ERANGE);
    ck_assert_str_eq(d.msg, "expected size 4KiB..1GiB, got 100");
    ck_assert_int_eq(vm_param_set_number(row("buf"), &c, 4096.5, NULL), VM_EINVAL);
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_set_string(row("buf"), &c, "20000000TiB", &d), VM_ERANGE);
    ck_assert_str_eq(d.msg, "expected size 4KiB..1GiB, got \"20000000TiB\", which overflows "
                            "64 bits (more than 2^64 - 1 bytes)");
    ck_assert_uint_eq(c.buf_bytes, 65536);
}
END_TEST

START_TEST(test_param_time_needs_a_unit_and_range)
{
    struct pcfg c = { 0 };
    struct vm_diag d;
    ck_assert_int_eq(vm_param_set_string(row("lat"), &c, "250us", NULL), 0);
    ck_assert_uint_eq(c.lat_ns, 250000);
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_set_number(row("lat"), &c, 250, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "expected time like \"250us\", got 250");
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_set_string(row("lat"), &c, "250", &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "expected time like \"250us\", got \"250\"");
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_set_string(row("lat"), &c, "5s", &d), VM_ERANGE);
    ck_assert_str_eq(d.msg, "expected time 1us..1s, got \"5s\"");
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_set_string(row("lat"), &c, "999999999999s", &d), VM_ERANGE);
    ck_assert_str_eq(d.msg, "expected time 1us..1s, got \"999999999999s\", which overflows 64 "
                            "bits (more than 2^64 - 1 ns)");
    ck_assert_uint_eq(c.lat_ns, 250000);
}
END_TEST

START_TEST(test_param_rate_accepts_units_only)
{
    struct pcfg c = { 0 };
    struct vm_diag d;
    ck_assert_int_eq(vm_param_set_string(row("bw"), &c, "500MiB/s", NULL), 0);
    ck_assert(c.bw_bytes_per_s == 500.0 * 1048576);
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_set_string(row("bw"), &c, "1.2GB", &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "expected rate like \"1.2GB/s\", got \"1.2GB\"");
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_set_number(row("bw"), &c, 1e9, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "expected rate like \"1.2GB/s\", got 1000000000");
}
END_TEST

START_TEST(test_param_enum_maps_choices_to_indexes)
{
    struct pcfg c = { .trace = 7 };
    struct vm_diag d;
    ck_assert_int_eq(vm_param_set_string(row("trace"), &c, "write", NULL), 0);
    ck_assert_int_eq(c.trace, 0);
    ck_assert_int_eq(vm_param_set_string(row("trace"), &c, "rw", NULL), 0);
    ck_assert_int_eq(c.trace, 1);
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_set_string(row("trace"), &c, "wo", &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "expected one of write|rw, got \"wo\"");
    ck_assert_int_eq(vm_param_set_string(row("trace"), &c, "writ", NULL), VM_EINVAL);
    ck_assert_int_eq(vm_param_set_string(row("trace"), &c, "rw|", NULL), VM_EINVAL);
    ck_assert_int_eq(vm_param_set_string(row("trace"), &c, "", NULL), VM_EINVAL);
    ck_assert_int_eq(c.trace, 1);
}
END_TEST

START_TEST(test_param_string_keeps_the_callers_pointer)
{
    struct pcfg c = { 0 };
    const char *name = "my-run";
    ck_assert_int_eq(vm_param_set_string(row("label"), &c, name, NULL), 0);
    ck_assert_ptr_eq(c.label, name);
}
END_TEST

START_TEST(test_param_format_is_canonical_and_parses_back)
{
    struct pcfg c;
    memset(&c, 0, sizeof c);
    vm_param_defaults(ptab, &c, NULL);
    c.lat_ns = 250000;
    char buf[64];
    ck_assert_str_eq(vm_param_format(row("block_pages"), &c, buf, sizeof buf), "8");
    ck_assert_str_eq(vm_param_format(row("nr_rounds"), &c, buf, sizeof buf), "30");
    ck_assert_str_eq(vm_param_format(row("ratio"), &c, buf, sizeof buf), "0.25");
    ck_assert_str_eq(vm_param_format(row("compress"), &c, buf, sizeof buf), "true");
    ck_assert_str_eq(vm_param_format(row("buf"), &c, buf, sizeof buf), "64MiB");
    ck_assert_str_eq(vm_param_format(row("lat"), &c, buf, sizeof buf), "250us");
    ck_assert_str_eq(vm_param_format(row("bw"), &c, buf, sizeof buf), "1.2GB/s");
    ck_assert_str_eq(vm_param_format(row("trace"), &c, buf, sizeof buf), "rw");
    ck_assert_str_eq(vm_param_format(row("label"), &c, buf, sizeof buf), "none");
    c.buf_bytes = 12345;
    ck_assert_str_eq(vm_param_format(row("buf"), &c, buf, sizeof buf), "12345B");
    c.lat_ns = 1500;
    ck_assert_str_eq(vm_param_format(row("lat"), &c, buf, sizeof buf), "1500ns");
    /* every unit-typed value reads back to itself */
    struct pcfg back = c;
    c.bw_bytes_per_s = 123456789.5;
    c.buf_bytes = 3ull << 28;
    const char *names[] = { "buf", "lat", "bw" };
    for (int i = 0; i < 3; i++) {
        vm_param_format(row(names[i]), &c, buf, sizeof buf);
        ck_assert_int_eq(vm_param_set_string(row(names[i]), &back, buf, NULL), 0);
    }
    ck_assert_uint_eq(back.buf_bytes, c.buf_bytes);
    ck_assert_uint_eq(back.lat_ns, c.lat_ns);
    ck_assert(back.bw_bytes_per_s == c.bw_bytes_per_s);
}
END_TEST

START_TEST(test_param_expects_describes_each_type)
{
    char buf[64];
    ck_assert_str_eq(vm_param_expects(row("block_pages"), buf, sizeof buf), "integer 2..16");
    ck_assert_str_eq(vm_param_expects(row("nr_rounds"), buf, sizeof buf), "integer >= 2");
    ck_assert_str_eq(vm_param_expects(row("ratio"), buf, sizeof buf), "number 0..1");
    ck_assert_str_eq(vm_param_expects(row("compress"), buf, sizeof buf), "boolean");
    ck_assert_str_eq(vm_param_expects(row("buf"), buf, sizeof buf), "size 4KiB..1GiB");
    ck_assert_str_eq(vm_param_expects(row("lat"), buf, sizeof buf), "time 1us..1s");
    ck_assert_str_eq(vm_param_expects(row("bw"), buf, sizeof buf), "rate");
    ck_assert_str_eq(vm_param_expects(row("trace"), buf, sizeof buf), "one of write|rw");
    ck_assert_str_eq(vm_param_expects(row("label"), buf, sizeof buf), "string");
}
END_TEST

static Suite *param_suite(void)
{
    Suite *s = suite_create("param");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_param_find_and_suggest_by_edit_distance);
    tcase_add_test(tc, test_param_defaults_fill_every_row);
    tcase_add_test(tc, test_param_bad_default_names_the_row);
    tcase_add_test(tc, test_param_u32_out_of_range_says_what_was_expected);
    tcase_add_test(tc, test_param_integer_rejects_fractions_and_negatives);
    tcase_add_test(tc, test_param_u32_without_range_is_bounded_by_its_type);
    tcase_add_test(tc, test_param_double_range);
    tcase_add_test(tc, test_param_json_type_mismatches_name_the_type);
    tcase_add_test(tc, test_param_size_from_string_or_number);
    tcase_add_test(tc, test_param_time_needs_a_unit_and_range);
    tcase_add_test(tc, test_param_rate_accepts_units_only);
    tcase_add_test(tc, test_param_enum_maps_choices_to_indexes);
    tcase_add_test(tc, test_param_string_keeps_the_callers_pointer);
    tcase_add_test(tc, test_param_format_is_canonical_and_parses_back);
    tcase_add_test(tc, test_param_expects_describes_each_type);
    suite_add_tcase(s, tc);
    return s;
}

/* ==================================================================== main */

int main(void)
{
    SRunner *sr = srunner_create(err_suite());
    srunner_add_suite(sr, units_suite());
    srunner_add_suite(sr, bitmap_suite());
    srunner_add_suite(sr, hist_suite());
    srunner_add_suite(sr, rand_suite());
    srunner_add_suite(sr, fp_suite());
    srunner_add_suite(sr, fpstore_suite());
    srunner_add_suite(sr, param_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
