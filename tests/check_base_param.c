/*
 * check_base_param.c - unit tests of models/base: Check suite "param"
 * (vm_param: policy parameter tables, their types, ranges, defaults
 * and canonical text).
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "base/vm_err.h"
#include "base/vm_param.h"

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

int main(void)
{
    SRunner *sr = srunner_create(param_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
