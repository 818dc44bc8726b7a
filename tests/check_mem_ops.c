/*
 * check_mem_ops.c - unit tests of the guest memory model (sim_mem): its
 * creation and port_mem operations (traces, faults, dirty and accessed
 * bits, fingerprints, the image checker), and the guest page table and
 * frame allocator behind translate.  Suite "mem".
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "base/vm_fp.h"
#include "hostmem/hostmem.h"
#include "mem_rig.h"
#include "sim_content.h"
#include "sim_mem.h"

/* A page's content on a fresh boot: zero in a zero-class region. */
static uint64_t fresh_fp(const struct sim_mem *m, uint64_t p)
{
    return sim_mem_class(m, p) == SIM_CONTENT_ZERO ? VM_FP_ZERO : vm_fp_page(m->seed, p, 0);
}

/* Pages with bit `bit` set. */
static uint64_t count_bit(const struct sim_mem *m, enum sim_mem_bit bit)
{
    uint64_t n = 0;
    for (uint64_t p = 0; p < m->nr_pages; p++)
        n += sim_mem_test(m, bit, p);
    return n;
}

/* ---- sim_mem: creation and port_mem ops ---- */

START_TEST(test_mem_new_starts_present_untraced_with_fresh_content)
{
    struct sim_mem *m = new_vm(4 * MiB);
    ck_assert_uint_eq(m->nr_pages, 1024);
    ck_assert_uint_eq(port_mem_nr_pages(&m->base), 1024);
    ck_assert_int_eq(m->base.ops->version, PORT_MEM_VERSION);
    ck_assert_str_eq(m->base.ops->name, "sim");
    ck_assert(m->all_present);
    ck_assert_uint_eq(m->nr_traced, 0);
    for (uint64_t p = 0; p < m->nr_pages; p++) {
        ck_assert_uint_eq(sim_mem_fp(m, p), fresh_fp(m, p));
        ck_assert(port_mem_is_present(&m->base, p));
        ck_assert_int_eq(sim_mem_check(m, p, true), SIM_MEM_OK);
    }
    sim_mem_free(m);
}
END_TEST

START_TEST(test_mem_new_rejects_size_not_multiple_of_page)
{
    struct sim_exp_vm vm = { .memory_bytes = 4096 * 3 + 1, .content = { 1, 0, 0, 0 } };
    struct sim_mem *m = (struct sim_mem *)1;
    struct vm_diag d = { 0 };
    ck_assert_int_eq(sim_mem_new(&vm, 1, &m, &d), VM_EINVAL);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(d.msg, "'vm.memory'"));
    vm.memory_bytes = 0;
    ck_assert_int_eq(sim_mem_new(&vm, 1, &m, NULL), VM_EINVAL);
    vm.memory_bytes = 4096;
    vm.content[0] = 0;
    ck_assert_int_eq(sim_mem_new(&vm, 1, &m, NULL), VM_EINVAL);
    vm.content[0] = 1;
    vm.aging = 1.5;
    ck_assert_int_eq(sim_mem_new(&vm, 1, &m, NULL), VM_EINVAL);
    vm.aging = 0.5;
    vm.paging_levels = 3;
    ck_assert_int_eq(sim_mem_new(&vm, 1, &m, NULL), VM_EINVAL);
}
END_TEST

START_TEST(test_mem_set_trace_range_crossing_words_sets_exact_bits)
{
    struct sim_mem *m = new_vm(4 * MiB);
    port_mem_set_trace(&m->base, 60, 10, PORT_MEM_TRACE_WRITE);
    for (uint64_t p = 0; p < 200; p++) {
        bool in = p >= 60 && p < 70;
        ck_assert_int_eq(sim_mem_test(m, SIM_MEM_TRACE_W, p), in);
        ck_assert_int_eq(sim_mem_test(m, SIM_MEM_TRACE_R, p), 0);
    }
    ck_assert_uint_eq(m->nr_traced, 10);
    /* overlap: RW over [65, 135) adds 65 new pages */
    port_mem_set_trace(&m->base, 65, 70, PORT_MEM_TRACE_RW);
    ck_assert_uint_eq(m->nr_traced, 75);
    ck_assert(!sim_mem_test(m, SIM_MEM_TRACE_R, 64));
    ck_assert(sim_mem_test(m, SIM_MEM_TRACE_R, 65));
    ck_assert(sim_mem_test(m, SIM_MEM_TRACE_R, 134));
    ck_assert(!sim_mem_test(m, SIM_MEM_TRACE_R, 135));
    /* back to write-only on part of it clears the read bits there */
    port_mem_set_trace(&m->base, 100, 10, PORT_MEM_TRACE_WRITE);
    ck_assert_uint_eq(m->nr_traced, 75);
    ck_assert(!sim_mem_test(m, SIM_MEM_TRACE_R, 105));
    ck_assert(sim_mem_test(m, SIM_MEM_TRACE_W, 105));
    port_mem_set_trace(&m->base, 0, 128, PORT_MEM_TRACE_NONE);
    ck_assert_uint_eq(m->nr_traced, 7);     /* 128..134 remain */
    port_mem_set_trace(&m->base, 0, m->nr_pages, PORT_MEM_TRACE_NONE);
    ck_assert_uint_eq(m->nr_traced, 0);
    ck_assert_uint_eq(count_bit(m, SIM_MEM_TRACE_W), 0);
    ck_assert_uint_eq(count_bit(m, SIM_MEM_TRACE_R), 0);
    sim_mem_free(m);
}
END_TEST

START_TEST(test_mem_set_trace_over_a_million_pages_keeps_count_exact)
{
    struct sim_mem *m = new_vm(4 * GiB);        /* 1,048,576 pages */
    port_mem_set_trace(&m->base, 3, m->nr_pages - 3, PORT_MEM_TRACE_WRITE);
    ck_assert_uint_eq(m->nr_traced, m->nr_pages - 3);
    port_mem_set_trace(&m->base, 1000, 500000, PORT_MEM_TRACE_NONE);
    ck_assert_uint_eq(m->nr_traced, m->nr_pages - 3 - 500000);
    port_mem_set_trace(&m->base, 0, m->nr_pages, PORT_MEM_TRACE_RW);
    ck_assert_uint_eq(m->nr_traced, m->nr_pages);
    ck_assert_uint_eq(count_bit(m, SIM_MEM_TRACE_R), m->nr_pages);
    sim_mem_free(m);
}
END_TEST

START_TEST(test_mem_write_trace_faults_writes_not_reads)
{
    struct sim_mem *m = new_vm(4 * MiB);
    port_mem_set_trace(&m->base, 10, 5, PORT_MEM_TRACE_WRITE);
    ck_assert_int_eq(sim_mem_check(m, 12, true), SIM_MEM_FAULT_TRACE);
    ck_assert_int_eq(sim_mem_check(m, 12, false), SIM_MEM_OK);
    ck_assert_int_eq(sim_mem_check(m, 9, true), SIM_MEM_OK);
    ck_assert_int_eq(sim_mem_check(m, 15, true), SIM_MEM_OK);
    port_mem_set_trace(&m->base, 12, 1, PORT_MEM_TRACE_NONE);
    ck_assert_int_eq(sim_mem_check(m, 12, true), SIM_MEM_OK);
    ck_assert_int_eq(sim_mem_check(m, 13, true), SIM_MEM_FAULT_TRACE);
    sim_mem_free(m);
}
END_TEST

START_TEST(test_mem_rw_trace_faults_reads_and_writes)
{
    struct sim_mem *m = new_vm(4 * MiB);
    port_mem_set_trace(&m->base, 100, 1, PORT_MEM_TRACE_RW);
    ck_assert_int_eq(sim_mem_check(m, 100, false), SIM_MEM_FAULT_TRACE);
    ck_assert_int_eq(sim_mem_check(m, 100, true), SIM_MEM_FAULT_TRACE);
    ck_assert_int_eq(sim_mem_check(m, 101, false), SIM_MEM_OK);
    sim_mem_free(m);
}
END_TEST

START_TEST(test_mem_absent_pages_fault_on_any_access)
{
    struct sim_mem *m = new_vm(4 * MiB);
    port_mem_set_present(&m->base, 62, 4, false);
    ck_assert(!m->all_present);
    ck_assert_uint_eq(m->nr_present, m->nr_pages - 4);
    ck_assert_int_eq(sim_mem_check(m, 63, false), SIM_MEM_FAULT_ABSENT);
    ck_assert_int_eq(sim_mem_check(m, 65, true), SIM_MEM_FAULT_ABSENT);
    ck_assert_int_eq(sim_mem_check(m, 66, true), SIM_MEM_OK);
    ck_assert(!port_mem_is_present(&m->base, 62));
    ck_assert(port_mem_is_present(&m->base, 61));
    /* absence wins over tracing */
    port_mem_set_trace(&m->base, 60, 10, PORT_MEM_TRACE_RW);
    ck_assert_int_eq(sim_mem_check(m, 64, false), SIM_MEM_FAULT_ABSENT);
    port_mem_set_present(&m->base, 60, 10, true);
    ck_assert(m->all_present);
    ck_assert_int_eq(sim_mem_check(m, 64, false), SIM_MEM_FAULT_TRACE);
    sim_mem_free(m);
}
END_TEST

START_TEST(test_mem_make_absent_faults_everywhere_until_installed)
{
    struct sim_mem *m = new_vm(4 * MiB);
    ck_assert_int_eq(sim_mem_make_absent(m, NULL), 0);
    ck_assert_uint_eq(m->nr_present, 0);
    for (uint64_t p = 0; p < m->nr_pages; p += 37)
        ck_assert_int_eq(sim_mem_check(m, p, false), SIM_MEM_FAULT_ABSENT);
    port_mem_set_present(&m->base, 0, m->nr_pages - 1, true);
    ck_assert(!m->all_present);
    ck_assert_int_eq(sim_mem_check(m, m->nr_pages - 1, false), SIM_MEM_FAULT_ABSENT);
    port_mem_set_present(&m->base, m->nr_pages - 1, 1, true);
    ck_assert(m->all_present);
    sim_mem_free(m);
}
END_TEST

START_TEST(test_mem_collect_dirty_returns_ors_and_clears)
{
    struct sim_mem *m = new_vm(4 * MiB);
    uint64_t pages[] = { 1, 63, 64, 1000, 63 };
    for (size_t i = 0; i < 5; i++)
        sim_mem_apply(m, pages[i], true);
    sim_mem_apply(m, 500, false);                 /* a read does not dirty */
    uint64_t *into = vm_bitmap_new(m->nr_pages);
    vm_bitmap_set(into, 7);                       /* bits already there stay */
    ck_assert_uint_eq(port_mem_collect_dirty(&m->base, into), 4);
    ck_assert_uint_eq(vm_bitmap_count(into, m->nr_pages), 5);
    ck_assert(vm_bitmap_test(into, 7) && vm_bitmap_test(into, 63) && vm_bitmap_test(into, 1000));
    ck_assert(!vm_bitmap_test(into, 500));
    ck_assert_uint_eq(port_mem_collect_dirty(&m->base, into), 0);
    sim_mem_apply(m, 2, true);
    ck_assert_uint_eq(port_mem_collect_dirty(&m->base, NULL), 1);
    vm_bitmap_free(into);
    sim_mem_free(m);
}
END_TEST

START_TEST(test_mem_collect_accessed_counts_reads_and_writes_then_clears)
{
    struct sim_mem *m = new_vm(4 * MiB);
    sim_mem_apply(m, 5, false);
    sim_mem_apply(m, 6, true);
    sim_mem_apply(m, 1023, false);
    uint64_t *into = vm_bitmap_new(m->nr_pages);
    ck_assert_uint_eq(port_mem_collect_accessed(&m->base, into), 3);
    ck_assert(vm_bitmap_test(into, 5) && vm_bitmap_test(into, 6) && vm_bitmap_test(into, 1023));
    ck_assert_uint_eq(port_mem_collect_accessed(&m->base, into), 0);
    ck_assert_uint_eq(port_mem_collect_dirty(&m->base, NULL), 1);
    vm_bitmap_free(into);
    sim_mem_free(m);
}
END_TEST

START_TEST(test_mem_test_clear_accessed_reads_one_page_and_clears_it)
{
    struct sim_mem *m = new_vm(4 * MiB);
    sim_mem_apply(m, 65, false);
    sim_mem_apply(m, 66, true);
    ck_assert(sim_mem_young(m, 65));
    ck_assert(!sim_mem_young(m, 65));        /* cleared */
    ck_assert(sim_mem_test(m, SIM_MEM_ACCESSED, 66));   /* its neighbour untouched */
    ck_assert(sim_mem_test_clear_accessed(m, 66));
    ck_assert(!sim_mem_test_clear_accessed(m, 64));
    ck_assert_uint_eq(port_mem_collect_accessed(&m->base, NULL), 0);
    sim_mem_free(m);
}
END_TEST

/* The host-memory clock ages guest frames through sim_mem's accessed
 * bits: a frame the guest touched gets its second chance. */
START_TEST(test_mem_accessed_bits_drive_the_host_memory_clock)
{
    struct sim_mem *m = new_vm(4 * MiB);
    struct hostmem *hm;
    struct hostmem_cfg cfg = { .nr_frames = m->nr_pages, .max_resident = 3 };
    struct hostmem_admission *adm = malloc(sizeof(*adm));
    ck_assert_int_eq(hostmem_new(&cfg, sim_mem_young, m, &hm, NULL), 0);
    port_mem_collect_accessed(&m->base, NULL);       /* start with no bit set */
    for (uint64_t f = 10; f < 13; f++)
        ck_assert_int_eq(hostmem_admit(hm, &f, 1, adm), 0);
    sim_mem_apply(m, 10, false);                      /* the guest reads frame 10 */
    uint64_t f = 20;
    ck_assert_int_eq(hostmem_admit(hm, &f, 1, adm), 0);
    ck_assert_uint_eq(adm->evicted[0], 11);           /* 10 had its second chance */
    ck_assert(!sim_mem_test(m, SIM_MEM_ACCESSED, 10));
    ck_assert_uint_eq(hostmem_check(hm), 0);
    hostmem_free(hm);
    free(adm);
    sim_mem_free(m);
}
END_TEST

START_TEST(test_mem_writes_change_fingerprints_deterministically)
{
    struct sim_mem *a = new_vm_full(4 * MiB, 0, NULL, 7);
    struct sim_mem *b = new_vm_full(4 * MiB, 0, NULL, 7);
    struct sim_mem *c = new_vm_full(4 * MiB, 0, NULL, 8);
    uint64_t seq[] = { 3, 3, 900, 4, 3 };
    uint64_t before = sim_mem_fp(a, 3);
    for (size_t i = 0; i < 5; i++) {
        uint64_t old = sim_mem_fp(a, seq[i]);
        sim_mem_write_page(a, seq[i]);
        sim_mem_write_page(b, seq[i]);
        sim_mem_write_page(c, seq[i]);
        ck_assert_uint_ne(sim_mem_fp(a, seq[i]), old);
        ck_assert_uint_eq(sim_mem_fp(a, seq[i]), vm_fp_page(7, seq[i], i + 1));
    }
    ck_assert_uint_ne(sim_mem_fp(a, 3), before);
    ck_assert_uint_eq(a->write_seq, 5);
    for (uint64_t p = 0; p < a->nr_pages; p++)
        ck_assert_uint_eq(sim_mem_fp(a, p), sim_mem_fp(b, p));
    ck_assert_uint_ne(sim_mem_fp(a, 3), sim_mem_fp(c, 3));
    ck_assert_uint_eq(sim_mem_fp(a, 5), fresh_fp(a, 5));        /* unwritten page unchanged */
    sim_mem_free(a);
    sim_mem_free(b);
    sim_mem_free(c);
}
END_TEST

START_TEST(test_mem_read_and_install_copy_fingerprint_ranges)
{
    struct sim_mem *m = new_vm(4 * MiB);
    uint64_t fps[70], back[70];
    for (int i = 0; i < 70; i++)
        fps[i] = 1000 + (uint64_t)i;
    port_mem_write(&m->base, 30, 70, fps);
    port_mem_read(&m->base, 30, 70, back);
    ck_assert_mem_eq(fps, back, sizeof fps);
    ck_assert_uint_eq(sim_mem_fp(m, 29), fresh_fp(m, 29));
    ck_assert_uint_eq(sim_mem_fp(m, 100), fresh_fp(m, 100));
    /* an install is not a guest write: no dirty or accessed bits */
    ck_assert_uint_eq(port_mem_collect_dirty(&m->base, NULL), 0);
    ck_assert_uint_eq(port_mem_collect_accessed(&m->base, NULL), 0);
    sim_mem_free(m);
}
END_TEST

START_TEST(test_mem_checker_returns_instant_content_after_later_writes)
{
    struct sim_mem *m = new_vm(4 * MiB);
    for (uint64_t p = 0; p < 200; p += 3)
        sim_mem_write_page(m, p);
    uint64_t *instant = malloc(m->nr_pages * sizeof *instant);
    port_mem_read(&m->base, 0, (uint32_t)m->nr_pages, instant);
    sim_mem_checker_arm(m);
    /* many later writes, some pages several times, in scattered order */
    for (int round = 0; round < 3; round++)
        for (uint64_t p = 0; p < m->nr_pages; p += 7 + round)
            sim_mem_apply(m, (p * 389) % m->nr_pages, true);
    ck_assert_uint_ne(sim_mem_fp(m, 0), instant[0]);
    for (uint64_t p = 0; p < m->nr_pages; p++)
        ck_assert_uint_eq(sim_mem_instant_fp(m, p), instant[p]);
    /* writes after the first query are still answered */
    sim_mem_write_page(m, 1);
    ck_assert_uint_eq(sim_mem_instant_fp(m, 1), instant[1]);
    sim_mem_free(m);
    free(instant);
}
END_TEST

/* Range and page-list queries answer what page-by-page queries answer,
 * from any start and length (within a line, across lines, all of
 * memory), armed or not, with logged, base and zero-region contents. */
START_TEST(test_mem_checker_range_and_list_queries_match_each_page_query)
{
    struct sim_mem *m = new_vm_full(16 * MiB, 0, NULL, 7);
    uint64_t n = m->nr_pages;
    for (uint64_t p = 0; p < n; p += 5)
        sim_mem_write_page(m, p);
    uint64_t *instant = malloc(n * sizeof *instant), *got = malloc(n * sizeof *got);
    port_mem_read(&m->base, 0, (uint32_t)n, instant);
    for (int armed = 1; armed >= 0; armed--) {
        if (armed) {
            sim_mem_checker_arm(m);
            for (uint64_t p = 0; p < n; p += 3)
                sim_mem_apply(m, (p * 389) % n, true);
        } else {
            sim_mem_checker_disarm(m);
            port_mem_read(&m->base, 0, (uint32_t)n, instant);
        }
        const uint64_t windows[][2] = { { 0, n }, { 0, 1 }, { 63, 2 }, { 5, 59 }, { 64, 64 },
                                        { 100, 300 }, { n - 1, 1 }, { 511, 514 } };
        for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++) {
            uint64_t first = windows[w][0], len = windows[w][1];
            sim_mem_instant_range(m, first, len, got);
            for (uint64_t i = 0; i < len; i++) {
                ck_assert_uint_eq(got[i], instant[first + i]);
                ck_assert_uint_eq(got[i], sim_mem_instant_fp(m, first + i));
            }
        }
        /* runs anywhere, in any order, as a storage block lists them */
        const uint64_t pages[] = { 700, 701, 702, 5, 6, 63, 64, 65, n - 2, n - 1, 0, 700 };
        uint64_t nr = sizeof pages / sizeof pages[0];
        sim_mem_instant_pages(m, pages, nr, got);
        for (uint64_t i = 0; i < nr; i++)
            ck_assert_uint_eq(got[i], instant[pages[i]]);
    }
    sim_mem_free(m);
    free(instant);
    free(got);
}
END_TEST

START_TEST(test_mem_checker_rearm_starts_new_instant_and_disarm_returns_current)
{
    struct sim_mem *m = new_vm(4 * MiB);
    sim_mem_checker_arm(m);
    sim_mem_write_page(m, 10);
    uint64_t second = sim_mem_fp(m, 10);
    ck_assert_uint_eq(sim_mem_instant_fp(m, 10), fresh_fp(m, 10));
    ck_assert_uint_eq(m->ck_len, 0);            /* a base content is computed, not logged */
    sim_mem_checker_arm(m);
    sim_mem_write_page(m, 10);
    ck_assert_uint_eq(sim_mem_instant_fp(m, 10), second);
    ck_assert_uint_eq(m->ck_len, 1);
    sim_mem_checker_disarm(m);
    ck_assert_uint_eq(sim_mem_instant_fp(m, 10), sim_mem_fp(m, 10));
    sim_mem_write_page(m, 11);
    ck_assert_uint_eq(m->ck_len, 0);
    sim_mem_free(m);
}
END_TEST

START_TEST(test_mem_checker_logs_installed_pages_once)
{
    struct sim_mem *m = new_vm(4 * MiB);
    uint64_t first[2] = { 11, 12 }, later[3] = { 21, 22, 23 };
    port_mem_write(&m->base, 40, 2, first);     /* 40, 41 have their own content */
    uint64_t base42 = sim_mem_fp(m, 42);
    sim_mem_checker_arm(m);
    port_mem_write(&m->base, 40, 3, later);
    port_mem_write(&m->base, 40, 3, later);
    ck_assert_uint_eq(m->ck_len, 2);            /* 42's old content is its base */
    ck_assert_uint_eq(sim_mem_instant_fp(m, 40), 11);
    ck_assert_uint_eq(sim_mem_instant_fp(m, 41), 12);
    ck_assert_uint_eq(sim_mem_instant_fp(m, 42), base42);
    ck_assert_uint_eq(sim_mem_fp(m, 40), 21);
    ck_assert_uint_eq(sim_mem_fp(m, 42), 23);
    sim_mem_free(m);
}
END_TEST

/* A line's own contents grow from 1 to 64 pages in any order; each page
 * keeps its own, its neighbours theirs. */
START_TEST(test_mem_own_contents_fill_a_line_in_any_order)
{
    struct sim_mem *m = new_vm(4 * MiB);
    uint64_t version[64] = { 0 };
    for (uint64_t i = 0; i < 3 * 64; i++) {
        uint64_t p = 128 + (i * 37) % 64;       /* line 2, scattered, each page 3 times */
        sim_mem_write_page(m, p);
        version[p - 128] = m->write_seq;
        for (uint64_t q = 120; q < 200; q++) {
            uint64_t want = q >= 128 && q < 192 && version[q - 128]
                            ? vm_fp_page(m->seed, q, version[q - 128]) : fresh_fp(m, q);
            ck_assert_uint_eq(sim_mem_fp(m, q), want);
        }
    }
    ck_assert_uint_eq(m->nr_own, 64);
    uint64_t got[80];
    port_mem_read(&m->base, 120, 80, got);
    for (uint64_t q = 120; q < 200; q++)
        ck_assert_uint_eq(got[q - 120], sim_mem_fp(m, q));
    sim_mem_free(m);
}
END_TEST

START_TEST(test_mem_make_absent_poisons_every_page)
{
    struct sim_mem *m = new_vm(4 * MiB);
    for (uint64_t p = 0; p < m->nr_pages; p += 5)
        sim_mem_write_page(m, p);                   /* own contents are dropped too */
    ck_assert_int_eq(sim_mem_make_absent(m, NULL), 0);
    for (uint64_t p = 0; p < m->nr_pages; p++)
        ck_assert_uint_eq(sim_mem_fp(m, p), SIM_MEM_POISON_FP);
    ck_assert_uint_eq(m->nr_own, 0);
    /* made present without an install: it still holds the poison */
    port_mem_set_present(&m->base, 10, 1, true);
    uint64_t fp = 0;
    port_mem_read(&m->base, 10, 1, &fp);
    ck_assert_uint_eq(fp, SIM_MEM_POISON_FP);
    sim_mem_free(m);
}
END_TEST

/* Each page is compared once, at its first access or at the end,
 * whatever made it present; installs are not what is checked. */
START_TEST(test_mem_restore_check_compares_present_pages_whatever_made_them_present)
{
    struct sim_mem *m = new_vm(4 * MiB);
    uint64_t *expect = malloc(m->nr_pages * sizeof *expect);
    ck_assert_ptr_nonnull(expect);
    for (uint64_t p = 0; p < m->nr_pages; p++)
        expect[p] = 5000 + p;
    ck_assert_int_eq(sim_mem_make_absent(m, expect), 0);
    uint64_t fps[8];
    for (int i = 0; i < 8; i++)
        fps[i] = 5000 + 100 + (uint64_t)i;
    fps[2] = 1;
    fps[7] = 2;
    port_mem_write(&m->base, 100, 8, fps);          /* two wrong installs */
    port_mem_set_present(&m->base, 100, 8, true);
    port_mem_set_present(&m->base, 200, 4, true);   /* present, never installed */
    port_mem_write(&m->base, 300, 1, &expect[300]); /* installed right */
    port_mem_set_present(&m->base, 300, 1, true);
    ck_assert_uint_eq(m->restore_checked, 0);       /* nothing compared yet */
    /* the guest's first access compares before its write changes the page */
    sim_mem_apply(m, 300, true);
    sim_mem_apply(m, 102, false);
    ck_assert_uint_eq(m->restore_checked, 2);
    ck_assert_uint_eq(m->restore_mismatch, 1);
    sim_mem_apply(m, 102, true);                    /* compared once */
    sim_mem_apply(m, 300, false);
    ck_assert_uint_eq(m->restore_checked, 2);
    /* an access to an absent page (a buggy fault handler let it through)
     * sees the poison */
    sim_mem_apply(m, 400, false);
    ck_assert_uint_eq(m->restore_checked, 3);
    ck_assert_uint_eq(m->restore_mismatch, 2);
    /* the end: every present page not compared yet: 7 of 100..107, 4 at 200 */
    sim_mem_restore_finish(m);
    ck_assert_uint_eq(m->restore_checked, 3 + 7 + 4);
    ck_assert_uint_eq(m->restore_mismatch, 2 + 1 + 4);
    ck_assert_ptr_null(m->expect_fp);
    sim_mem_restore_finish(m);                      /* once only */
    ck_assert_uint_eq(m->restore_checked, 14);
    sim_mem_free(m);
    free(expect);
}
END_TEST

/* A page the guest already saw, installed again, is compared again. */
START_TEST(test_mem_restore_check_compares_reinstall_over_a_seen_page)
{
    struct sim_mem *m = new_vm(4 * MiB);
    uint64_t *expect = malloc(m->nr_pages * sizeof *expect);
    ck_assert_ptr_nonnull(expect);
    for (uint64_t p = 0; p < m->nr_pages; p++)
        expect[p] = 7000 + p;
    ck_assert_int_eq(sim_mem_make_absent(m, expect), 0);
    port_mem_write(&m->base, 5, 1, &expect[5]);
    port_mem_set_present(&m->base, 5, 1, true);
    sim_mem_apply(m, 5, false);
    ck_assert_uint_eq(m->restore_mismatch, 0);
    uint64_t wrong = 3;
    port_mem_write(&m->base, 5, 1, &wrong);
    port_mem_write(&m->base, 5, 1, &expect[5]);     /* right content: not counted */
    ck_assert_uint_eq(m->restore_mismatch, 1);
    sim_mem_restore_finish(m);
    ck_assert_uint_eq(m->restore_checked, 1);
    /* off: nothing counted */
    ck_assert_int_eq(sim_mem_make_absent(m, NULL), 0);
    ck_assert_uint_eq(m->restore_checked, 0);
    port_mem_write(&m->base, 5, 1, &wrong);
    port_mem_set_present(&m->base, 5, 1, true);
    sim_mem_apply(m, 5, false);
    sim_mem_restore_finish(m);
    ck_assert_uint_eq(m->restore_checked, 0);
    ck_assert_uint_eq(m->restore_mismatch, 0);
    sim_mem_free(m);
    free(expect);
}
END_TEST

/* ---- page table and allocator ---- */

/* A fresh guest's first touch: the page's frame comes first, then the
 * tables the mapping needs (the top-level table came with the address
 * space); later pages of the same 2 MiB region get the frames that
 * follow, so a GVA run is a GPA run. */
START_TEST(test_mem_translate_fresh_guest_maps_a_gva_run_to_a_gpa_run)
{
    struct sim_mem *m = new_vm(4 * MiB);
    struct guest_vm *g = sim_mem_guest(m);
    ck_assert_ptr_nonnull(g);
    ck_assert_ptr_nonnull(sim_mem_as(m, 0));
    ck_assert_ptr_null(sim_mem_as(m, 1));
    ck_assert_uint_eq(guest_vm_nr_tables(g), 1);
    uint64_t gpa = 99;
    ck_assert_int_eq(sim_mem_translate(m, 0x7f0000400, &gpa), 0);
    ck_assert_uint_eq(gpa, 1);                        /* frame 0 holds the PML4 */
    ck_assert_uint_eq(guest_vm_nr_tables(g), 4);      /* PDPT, PD, PT in frames 2..4 */
    for (uint64_t i = 1; i < 200; i++) {
        ck_assert_int_eq(sim_mem_translate(m, 0x7f0000400 + i, &gpa), 0);
        ck_assert_uint_eq(gpa, 4 + i);
    }
    for (uint64_t i = 1; i < 200; i++) {              /* mapped: the same frame again */
        ck_assert_int_eq(sim_mem_translate_as(m, 0, 0x7f0000400 + i, i & 1, &gpa), 0);
        ck_assert_uint_eq(gpa, 4 + i);
    }
    ck_assert_uint_eq(m->mapped_pages, 200);
    struct guest_frag f;
    sim_mem_frag(m, &f);
    ck_assert_uint_eq(f.pages, 200);
    ck_assert_uint_eq(f.runs, 2);                     /* the first page, then 199 in a row */
    sim_mem_free(m);
}
END_TEST

/* The MMU's bits: a read sets A, a write D, through the software TLB too
 * (a write through an entry filled by a read walks again). */
START_TEST(test_mem_translate_sets_accessed_and_dirty_in_the_guest_pte)
{
    struct sim_mem *m = new_vm(4 * MiB);
    struct guest_as *as = sim_mem_as(m, 0);
    uint64_t gpa;
    struct guest_walk w;
    ck_assert_int_eq(sim_mem_translate_as(m, 0, 0x1234, false, &gpa), 0);
    ck_assert_int_eq(guest_pt_walk(as, 0x1234000, &w, NULL), 0);
    ck_assert(w.entry & GUEST_PTE_A);
    ck_assert(!(w.entry & GUEST_PTE_D));
    ck_assert_int_eq(sim_mem_translate_as(m, 0, 0x1234, false, &gpa), 0);   /* TLB hit */
    ck_assert_int_eq(sim_mem_translate_as(m, 0, 0x1234, true, &gpa), 0);
    ck_assert_int_eq(guest_pt_walk(as, 0x1234000, &w, NULL), 0);
    ck_assert(w.entry & GUEST_PTE_D);
    ck_assert_uint_eq(w.gpa >> 12, gpa);
    /* the guest clears D and flushes: the next write sets it again */
    uint64_t *pt = guest_vm_table(sim_mem_guest(m), w.table_gfn);
    pt[w.index] &= ~GUEST_PTE_D;
    sim_mem_tlb_flush(m, 0);
    ck_assert_int_eq(sim_mem_translate_as(m, 0, 0x1234, true, &gpa), 0);
    ck_assert_int_eq(guest_pt_walk(as, 0x1234000, &w, NULL), 0);
    ck_assert(w.entry & GUEST_PTE_D);
    ck_assert_int_eq(sim_mem_translate_as(m, 7, 0x1234, false, &gpa), VM_EINVAL);
    sim_mem_free(m);
}
END_TEST


/* Table reads: a TLB miss asks the caller to read the walk's table frames
 * first; the translation itself fills the TLB; a flush (and make_absent)
 * makes the next access walk again.  Off, translate never asks. */
START_TEST(test_mem_table_reads_make_a_tlb_miss_read_the_walks_table_frames)
{
    struct sim_mem *m = new_vm(4 * MiB);
    uint64_t gpa, again, tf[GUEST_MAX_LEVELS];
    ck_assert_int_eq(sim_mem_translate_as(m, 0, 0x1234, false, &gpa), 0);   /* off */
    sim_mem_set_table_reads(m, true);
    ck_assert_int_eq(sim_mem_translate_as(m, 0, 0x1234, false, &again), SIM_MEM_XLAT_WALK);
    unsigned n = sim_mem_walk_tables(m, 0, 0x1234, tf);
    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(tf[0], guest_as_root(sim_mem_as(m, 0)));
    struct guest_walk w;
    ck_assert_int_eq(guest_pt_walk(sim_mem_as(m, 0), 0x1234000, &w, NULL), 0);
    ck_assert_uint_eq(tf[3], w.table_gfn);
    for (unsigned i = 0; i < n; i++)
        ck_assert_uint_lt(tf[i], m->nr_pages);       /* guest frames */
    ck_assert_int_eq(sim_mem_translate_fill(m, 0, 0x1234, false, &again), 0);
    ck_assert_uint_eq(again, gpa);
    ck_assert_int_eq(sim_mem_translate_as(m, 0, 0x1234, false, &again), 0);   /* TLB hit */
    /* a write through a read's entry walks again (it sets D) */
    ck_assert_int_eq(sim_mem_translate_as(m, 0, 0x1234, true, &again), SIM_MEM_XLAT_WALK);
    ck_assert_int_eq(sim_mem_translate_fill(m, 0, 0x1234, true, &again), 0);
    ck_assert_int_eq(sim_mem_translate_as(m, 0, 0x1234, true, &again), 0);
    sim_mem_tlb_flush(m, UINT32_MAX);                /* an eviction's INVEPT */
    ck_assert_int_eq(sim_mem_translate_as(m, 0, 0x1234, false, &again), SIM_MEM_XLAT_WALK);
    ck_assert_int_eq(sim_mem_translate_fill(m, 0, 0x1234, false, &again), 0);
    ck_assert_int_eq(sim_mem_make_absent(m, NULL), 0);   /* a restored VM: TLBs empty */
    ck_assert_int_eq(sim_mem_translate_as(m, 0, 0x1234, false, &again), SIM_MEM_XLAT_WALK);
    /* errors are the fill's; an unknown asid never asks for a walk */
    ck_assert_int_eq(sim_mem_translate_as(m, 7, 0x1234, false, &again), VM_EINVAL);
    ck_assert_uint_eq(sim_mem_walk_tables(m, 7, 0x1234, tf), 0);
    sim_mem_set_table_reads(m, false);
    ck_assert_int_eq(sim_mem_translate_as(m, 0, 0x1234, false, &again), 0);
    sim_mem_free(m);
}
END_TEST

START_TEST(test_mem_translate_aged_guest_scatters_frames_deterministically)
{
    struct sim_mem *m = new_vm_full(64 * MiB, 1.0, NULL, 3);
    struct sim_mem *m2 = new_vm_full(64 * MiB, 1.0, NULL, 3);
    uint64_t n = 8192;
    uint64_t *seen = vm_bitmap_new(m->nr_pages);
    uint64_t adjacent = 0, prev = 0;
    for (uint64_t g = 0; g < n; g++) {
        uint64_t gpa, gpa2;
        ck_assert_int_eq(sim_mem_translate(m, 1000 + g, &gpa), 0);
        ck_assert_int_eq(sim_mem_translate(m2, 1000 + g, &gpa2), 0);
        ck_assert_uint_eq(gpa, gpa2);                  /* same seed, same order */
        ck_assert_uint_lt(gpa, m->nr_pages);
        ck_assert(!vm_bitmap_test_and_set(seen, gpa));   /* never handed out twice */
        adjacent += g > 0 && gpa == prev + 1;
        prev = gpa;
    }
    ck_assert_uint_lt(adjacent, n / 20);
    struct guest_frag f;
    sim_mem_frag(m, &f);
    ck_assert_uint_eq(f.pages, n);
    ck_assert(f.mean_run_pages < 1.1);
    struct sim_mem *fresh = new_vm_full(64 * MiB, 0.0, NULL, 3);
    for (uint64_t g = 0; g < n; g++)
        ck_assert_int_eq(sim_mem_translate(fresh, 1000 + g, &prev), 0);
    sim_mem_frag(fresh, &f);
    ck_assert(f.mean_run_pages > 100);
    vm_bitmap_free(seen);
    sim_mem_free(m);
    sim_mem_free(m2);
    sim_mem_free(fresh);
}
END_TEST

/* Upper-half canonical addresses map (the vsyscall page lackey logs);
 * LA57 addresses only with 5 levels; the hole never. */
START_TEST(test_mem_translate_upper_half_maps_la57_needs_five_levels)
{
    struct sim_mem *m = new_vm(4 * MiB);
    uint64_t gpa;
    ck_assert_int_eq(sim_mem_translate(m, 0xffffffffff600ull, &gpa), 0);
    ck_assert_int_eq(sim_mem_translate(m, 0x800000000ull, &gpa), VM_EINVAL);
    ck_assert_int_eq(sim_mem_translate(m, 0xff123456789ull, &gpa), VM_EINVAL);
    sim_mem_free(m);
    m = new_vm_levels(4 * MiB, 0.0, NULL, 1, 5);
    ck_assert_uint_eq(guest_vm_levels(sim_mem_guest(m)), 5);
    ck_assert_int_eq(sim_mem_translate(m, 0xff123456789ull, &gpa), 0);
    ck_assert_int_eq(sim_mem_translate(m, 0xffffffffff600ull, &gpa), 0);
    ck_assert_int_eq(sim_mem_translate(m, 0x100000000000ull, &gpa), VM_EINVAL);
    sim_mem_free(m);
}
END_TEST

START_TEST(test_mem_translate_fails_enospc_when_guest_is_full)
{
    struct sim_mem *m = new_vm_full(1 * MiB + 4096 * 3, 1.0, NULL, 1);   /* 259 pages */
    uint64_t gpa;
    /* 4 table pages (PML4, PDPT, PD, PT) and 255 pages */
    for (uint64_t g = 0; g < 255; g++)
        ck_assert_int_eq(sim_mem_translate(m, g, &gpa), 0);
    ck_assert_int_eq(sim_mem_translate(m, 255, &gpa), VM_ENOSPC);
    ck_assert_int_eq(sim_mem_translate(m, 5000000, &gpa), VM_ENOSPC);
    ck_assert_int_eq(sim_mem_translate(m, 77, &gpa), 0);      /* mapped pages still map */
    sim_mem_free(m);
}
END_TEST

static Suite *mem_suite(void)
{
    Suite *s = suite_create("mem");
    TCase *t = tcase_create("mem");
    tcase_set_timeout(t, 0);        /* no wall-clock limits (sanitized builds are slow) */
    tcase_add_test(t, test_mem_new_starts_present_untraced_with_fresh_content);
    tcase_add_test(t, test_mem_new_rejects_size_not_multiple_of_page);
    tcase_add_test(t, test_mem_set_trace_range_crossing_words_sets_exact_bits);
    tcase_add_test(t, test_mem_set_trace_over_a_million_pages_keeps_count_exact);
    tcase_add_test(t, test_mem_write_trace_faults_writes_not_reads);
    tcase_add_test(t, test_mem_rw_trace_faults_reads_and_writes);
    tcase_add_test(t, test_mem_absent_pages_fault_on_any_access);
    tcase_add_test(t, test_mem_make_absent_faults_everywhere_until_installed);
    tcase_add_test(t, test_mem_collect_dirty_returns_ors_and_clears);
    tcase_add_test(t, test_mem_collect_accessed_counts_reads_and_writes_then_clears);
    tcase_add_test(t, test_mem_test_clear_accessed_reads_one_page_and_clears_it);
    tcase_add_test(t, test_mem_accessed_bits_drive_the_host_memory_clock);
    tcase_add_test(t, test_mem_writes_change_fingerprints_deterministically);
    tcase_add_test(t, test_mem_read_and_install_copy_fingerprint_ranges);
    tcase_add_test(t, test_mem_checker_returns_instant_content_after_later_writes);
    tcase_add_test(t, test_mem_checker_range_and_list_queries_match_each_page_query);
    tcase_add_test(t, test_mem_checker_rearm_starts_new_instant_and_disarm_returns_current);
    tcase_add_test(t, test_mem_checker_logs_installed_pages_once);
    tcase_add_test(t, test_mem_own_contents_fill_a_line_in_any_order);
    tcase_add_test(t, test_mem_make_absent_poisons_every_page);
    tcase_add_test(t, test_mem_restore_check_compares_present_pages_whatever_made_them_present);
    tcase_add_test(t, test_mem_restore_check_compares_reinstall_over_a_seen_page);
    tcase_add_test(t, test_mem_translate_fresh_guest_maps_a_gva_run_to_a_gpa_run);
    tcase_add_test(t, test_mem_translate_sets_accessed_and_dirty_in_the_guest_pte);
    tcase_add_test(t, test_mem_table_reads_make_a_tlb_miss_read_the_walks_table_frames);
    tcase_add_test(t, test_mem_translate_aged_guest_scatters_frames_deterministically);
    tcase_add_test(t, test_mem_translate_upper_half_maps_la57_needs_five_levels);
    tcase_add_test(t, test_mem_translate_fails_enospc_when_guest_is_full);
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
