/*
 * check_mem_content.c - unit tests of the guest memory model's content
 * (sim_mem, sim_content): the content classes of each region, zero pages,
 * the measured compressed sizes, and the model's own memory budget.
 * Suite "mem".
 *
 * The content samples are read from $VMSIM_SRCDIR/workloads/content (the
 * compile-time VMSIM_SRCDIR when the variable is unset).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_fp.h"
#include "mem_rig.h"
#include "sim_content.h"
#include "sim_mem.h"

/* ---- content classes and compressed sizes ---- */

START_TEST(test_mem_content_classes_follow_fractions_per_region)
{
    double frac[4] = { 0.25, 0.25, 0.10, 0.40 };
    struct sim_mem *m = new_vm_full(4 * GiB, 0, frac, 5);      /* 2048 regions */
    uint64_t count[4] = { 0 };
    for (uint64_t r = 0; r < 2048; r++) {
        int c = sim_mem_class(m, r * 512);
        ck_assert_int_ge(c, 0);
        ck_assert_int_lt(c, SIM_CONTENT_NR);
        ck_assert_int_eq(sim_mem_class(m, r * 512 + 511), c);
        ck_assert_int_eq(sim_mem_class(m, r * 512 + 200), c);
        count[c]++;
    }
    for (int c = 0; c < 4; c++)
        ck_assert_msg(fabs((double)count[c] / 2048 - frac[c]) < 0.04, "class %d: %lu of 2048",
                      c, (unsigned long)count[c]);
    sim_mem_free(m);
    double only_code[4] = { 0, 0, 1, 0 };
    m = new_vm_full(64 * MiB, 0, only_code, 5);
    for (uint64_t p = 0; p < m->nr_pages; p += 100)
        ck_assert_int_eq(sim_mem_class(m, p), SIM_CONTENT_CODE);
    sim_mem_free(m);
}
END_TEST

START_TEST(test_mem_zero_regions_start_as_zero_pages_until_written)
{
    double frac[4] = { 0.5, 0.2, 0.1, 0.2 };
    struct sim_mem *m = new_vm_full(256 * MiB, 0, frac, 3);    /* 128 regions */
    uint64_t zero_regions = 0, other = UINT64_MAX, zero = UINT64_MAX;
    for (uint64_t r = 0; r < 128; r++) {
        bool z = sim_mem_class(m, r * 512) == SIM_CONTENT_ZERO;
        zero_regions += z;
        if (z)
            zero = r * 512;
        else
            other = r * 512;
        /* every page of the region, whatever its class, says it */
        for (uint64_t p = r * 512; p < r * 512 + 512; p += 73)
            ck_assert_int_eq(sim_mem_fp(m, p) == VM_FP_ZERO, z);
    }
    ck_assert_uint_gt(zero_regions, 0);
    ck_assert_uint_lt(zero_regions, 128);
    ck_assert_uint_ne(sim_mem_fp(m, other), VM_FP_ZERO);
    /* a guest write makes a zero page an ordinary one; the checker keeps
     * the zero page as the instant's content */
    sim_mem_checker_arm(m);
    sim_mem_write_page(m, zero + 7);
    ck_assert_uint_ne(sim_mem_fp(m, zero + 7), VM_FP_ZERO);
    ck_assert_uint_eq(sim_mem_fp(m, zero + 8), VM_FP_ZERO);
    ck_assert_uint_eq(sim_mem_instant_fp(m, zero + 7), VM_FP_ZERO);
    ck_assert_int_eq(sim_mem_class(m, zero + 7), SIM_CONTENT_ZERO);  /* classes stay */
    sim_mem_free(m);
}
END_TEST

START_TEST(test_content_zero_pages_compress_to_almost_nothing)
{
    ck_assert_int_eq(sim_content_init(NULL), 0);
    ck_assert_uint_lt(sim_content_size(SIM_CONTENT_ZERO, 16), 100);
    ck_assert_uint_lt(sim_content_size(SIM_CONTENT_ZERO, 1), 100);
    ck_assert(sim_content_page_size(SIM_CONTENT_ZERO, 4096) >= 1.0);
}
END_TEST

START_TEST(test_content_random_pages_do_not_compress)
{
    ck_assert_int_eq(sim_content_init(NULL), 0);
    uint64_t one = sim_content_size(SIM_CONTENT_RANDOM, 1);
    ck_assert_uint_ge(one, 4096);
    ck_assert_uint_le(one, 4096 + 64);
    double per = sim_content_page_size(SIM_CONTENT_RANDOM, 64);
    ck_assert(per >= 4096 && per < 4100);
}
END_TEST

START_TEST(test_content_text_and_code_compress_between_zero_and_random)
{
    ck_assert_int_eq(sim_content_init(NULL), 0);
    for (uint32_t n = 1; n <= 4096; n *= 8) {
        uint64_t z = sim_content_size(SIM_CONTENT_ZERO, n);
        uint64_t t = sim_content_size(SIM_CONTENT_TEXT, n);
        uint64_t c = sim_content_size(SIM_CONTENT_CODE, n);
        uint64_t r = sim_content_size(SIM_CONTENT_RANDOM, n);
        ck_assert_uint_lt(z, t);
        ck_assert_uint_lt(t, c);
        ck_assert_uint_lt(c, r);
        ck_assert_uint_lt(t, (uint64_t)n * 4096 / 2);   /* text at least halves */
        ck_assert_uint_lt(c, (uint64_t)n * 4096 * 9 / 10);
    }
}
END_TEST

START_TEST(test_content_size_rounds_n_up_to_power_of_two_and_scales)
{
    ck_assert_int_eq(sim_content_init(NULL), 0);
    for (int c = 0; c < SIM_CONTENT_NR; c++) {
        ck_assert(sim_content_page_size(c, 3) == sim_content_page_size(c, 4));
        ck_assert(sim_content_page_size(c, 100) == sim_content_page_size(c, 128));
        ck_assert(sim_content_page_size(c, 9000) == sim_content_page_size(c, 4096));
        ck_assert_uint_eq(sim_content_size(c, 0), 0);
    }
    uint64_t t4 = sim_content_size(SIM_CONTENT_TEXT, 4);
    ck_assert_uint_eq(sim_content_size(SIM_CONTENT_TEXT, 3), (uint64_t)llround(t4 * 3.0 / 4));
    uint64_t t4096 = sim_content_size(SIM_CONTENT_TEXT, 4096);
    ck_assert_uint_eq(sim_content_size(SIM_CONTENT_TEXT, 8192), 2 * t4096);
    ck_assert_uint_eq(sim_content_size(-1, 4), 0);
}
END_TEST

START_TEST(test_mem_compress_size_sums_page_sizes_per_class)
{
    double zero[4] = { 1, 0, 0, 0 };
    struct sim_mem *m = new_vm_full(64 * MiB, 0, zero, 1);
    uint64_t pages[16];
    for (int i = 0; i < 16; i++)
        pages[i] = (uint64_t)i * 1000;
    uint64_t z16 = port_mem_compress_size(&m->base, pages, 16);
    ck_assert_uint_lt(z16, 100);
    ck_assert_uint_eq(z16, (uint64_t)llround(sim_content_page_size(SIM_CONTENT_ZERO, 16) * 16));
    ck_assert_uint_eq(port_mem_compress_size(&m->base, pages, 0), 0);
    sim_mem_free(m);

    m = new_vm(256 * MiB);      /* mixed classes */
    uint64_t mixed[8];
    int cls[8];
    uint32_t per[SIM_CONTENT_NR] = { 0 };
    for (int i = 0; i < 8; i++) {
        mixed[i] = (uint64_t)i * 512 * 9 + 17;
        cls[i] = sim_mem_class(m, mixed[i]);
        per[cls[i]]++;
    }
    double want = 0;
    for (int c = 0; c < SIM_CONTENT_NR; c++)
        want += sim_content_page_size(c, 8) * per[c];
    ck_assert_uint_eq(port_mem_compress_size(&m->base, mixed, 8), (uint64_t)llround(want));
    sim_mem_free(m);
}
END_TEST

START_TEST(test_content_init_missing_sample_is_enoent_naming_the_file)
{
    /* runs only in a forked test, where the sample cache starts empty */
    setenv("VMSIM_DATADIR", "/nonexistent-vmsim-data", 1);
    struct vm_diag d = { 0 };
    ck_assert_int_eq(sim_content_init(&d), VM_ENOENT);
    ck_assert_ptr_nonnull(strstr(d.msg, "'/nonexistent-vmsim-data/text.sample'"));
    struct sim_exp_vm vm = { .memory_bytes = MiB, .content = { 1, 0, 0, 0 } };
    struct sim_mem *m = NULL;
    ck_assert_int_eq(sim_mem_new(&vm, 1, &m, NULL), VM_ENOENT);
    ck_assert_ptr_null(m);
}
END_TEST

/* ---- memory budget ---- */

START_TEST(test_mem_64gib_vm_holds_about_a_byte_per_page)
{
    struct sim_mem *m = new_vm(64 * GiB);
    ck_assert_uint_eq(m->nr_pages, 16ull << 20);
    size_t bytes = sim_mem_bytes(m);
    ck_assert_uint_ge(bytes, m->nr_pages);          /* the lines alone */
    /* and the guest's allocator, ~2 bits per frame */
    ck_assert_uint_le(bytes, m->nr_pages + m->nr_pages / 4 + m->nr_pages / 8);
    /* a traced process with a few mapped regions stays within budget */
    uint64_t gpa;
    for (uint64_t g = 0; g < 4096; g++) {
        ck_assert_int_eq(sim_mem_translate(m, 0x4000 + g, &gpa), 0);
        ck_assert_int_eq(sim_mem_translate(m, 0x1ffeff000 + g, &gpa), 0);
    }
    ck_assert_uint_le(sim_mem_bytes(m), 2 * m->nr_pages);
    /* a page the guest writes costs its fingerprint and some slack */
    size_t before = sim_mem_bytes(m);
    for (uint64_t i = 0; i < (1u << 20); i++)
        sim_mem_write_page(m, (i * 2654435761u) % m->nr_pages);
    ck_assert_uint_le(sim_mem_bytes(m) - before, 24 * m->nr_own);
    sim_mem_free(m);
}
END_TEST

static Suite *mem_suite(void)
{
    Suite *s = suite_create("mem");
    TCase *t = tcase_create("mem");
    tcase_set_timeout(t, 0);        /* no wall-clock limits (sanitized builds are slow) */
    tcase_add_test(t, test_mem_content_classes_follow_fractions_per_region);
    tcase_add_test(t, test_mem_zero_regions_start_as_zero_pages_until_written);
    tcase_add_test(t, test_content_zero_pages_compress_to_almost_nothing);
    tcase_add_test(t, test_content_random_pages_do_not_compress);
    tcase_add_test(t, test_content_text_and_code_compress_between_zero_and_random);
    tcase_add_test(t, test_content_size_rounds_n_up_to_power_of_two_and_scales);
    tcase_add_test(t, test_mem_compress_size_sums_page_sizes_per_class);
    tcase_add_test(t, test_mem_64gib_vm_holds_about_a_byte_per_page);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    Suite *s = mem_suite();
    SRunner *sr = srunner_create(s);
    /* the missing-sample test changes process state: only run it forked */
    if (srunner_fork_status(sr) == CK_FORK) {
        TCase *t = tcase_create("mem_forked");
        tcase_set_timeout(t, 0);
        tcase_add_test(t, test_content_init_missing_sample_is_enoent_naming_the_file);
        suite_add_tcase(s, t);
    }
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
