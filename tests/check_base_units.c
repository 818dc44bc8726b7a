/*
 * check_base_units.c - unit tests of models/base: Check suites "err"
 * (vm_err: the error names and texts) and "units" (vm_units: sizes,
 * times and rates parsed and formatted).
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "base/vm_err.h"
#include "base/vm_units.h"

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

int main(void)
{
    SRunner *sr = srunner_create(err_suite());
    srunner_add_suite(sr, units_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
