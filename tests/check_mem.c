/*
 * check_mem.c - unit tests of the guest memory model (sim_mem), the
 * measured content sizes (sim_content) and the synthetic workload
 * generators (sim_workload).  Suite "mem".
 *
 * The content samples are read from $VMSIM_SRCDIR/workloads/content (the
 * compile-time VMSIM_SRCDIR when the variable is unset).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "base/vm_fp.h"
#include "base/vm_units.h"
#include "hostmem/hostmem.h"
#include "sim_content.h"
#include "sim_mem.h"
#include "sim_workload.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static struct sim_mem *new_vm_levels(uint64_t bytes, double aging, const double content[4],
                                     uint64_t seed, uint32_t levels)
{
    struct sim_exp_vm vm = { .memory_bytes = bytes, .aging = aging, .paging_levels = levels };
    static const double def[4] = { 0.25, 0.25, 0.10, 0.40 };
    memcpy(vm.content, content ? content : def, sizeof vm.content);
    struct sim_mem *m = NULL;
    struct vm_diag d = { 0 };
    int rc = sim_mem_new(&vm, seed, &m, &d);
    ck_assert_msg(rc == 0, "sim_mem_new: %s", d.msg);
    ck_assert_ptr_nonnull(m);
    return m;
}

static struct sim_mem *new_vm_full(uint64_t bytes, double aging, const double content[4],
                                   uint64_t seed)
{
    return new_vm_levels(bytes, aging, content, seed, 4);
}

static struct sim_mem *new_vm(uint64_t bytes)
{
    return new_vm_full(bytes, 0, NULL, 1);
}

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
    tcase_add_test(t, test_mem_translate_aged_guest_scatters_frames_deterministically);
    tcase_add_test(t, test_mem_translate_upper_half_maps_la57_needs_five_levels);
    tcase_add_test(t, test_mem_translate_fails_enospc_when_guest_is_full);
    tcase_add_test(t, test_mem_content_classes_follow_fractions_per_region);
    tcase_add_test(t, test_mem_zero_regions_start_as_zero_pages_until_written);
    tcase_add_test(t, test_content_zero_pages_compress_to_almost_nothing);
    tcase_add_test(t, test_content_random_pages_do_not_compress);
    tcase_add_test(t, test_content_text_and_code_compress_between_zero_and_random);
    tcase_add_test(t, test_content_size_rounds_n_up_to_power_of_two_and_scales);
    tcase_add_test(t, test_mem_compress_size_sums_page_sizes_per_class);
    tcase_add_test(t, test_mem_64gib_vm_holds_about_a_byte_per_page);
    tcase_add_test(t, test_workload_stream_is_a_function_of_the_seed);
    tcase_add_test(t, test_workload_zipf_stream_taken_in_pieces_is_the_same_stream);
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
