/*
 * check_guest.c - unit tests of models/guest: the buddy allocator (fresh
 * and aged), x86-64 page tables (4 and 5 levels, canonical addresses,
 * holes, 2 MiB pages, entries as the SDM lays them out), the hypervisor's
 * walks and neighbour translations with their costs, several address
 * spaces, and the measured fragmentation.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "guest/guest_buddy.h"
#include "guest/guest_pt.h"

#define MiB_FRAMES(n) ((uint64_t)(n) * 256)

static struct guest_vm *new_vm(uint64_t frames, unsigned levels, double aging, bool thp)
{
    struct guest_vm_cfg cfg = { .nr_frames = frames, .levels = levels, .aging = aging,
                                .seed = 1, .thp = thp };
    struct guest_vm *vm;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(guest_vm_new(&cfg, &vm, &d), 0);
    return vm;
}

static struct guest_as *new_as(struct guest_vm *vm)
{
    struct guest_as *as;
    ck_assert_int_eq(guest_as_new(vm, &as), 0);
    return as;
}

/* =================================================================== buddy */

START_TEST(test_guest_buddy_fresh_hands_out_consecutive_frames)
{
    struct guest_buddy *b;
    ck_assert_int_eq(guest_buddy_new(4096, 0.0, 1, &b, NULL), 0);
    for (uint64_t i = 0; i < 600; i++) {
        uint64_t f;
        ck_assert_int_eq(guest_buddy_alloc(b, 0, &f), 0);
        ck_assert_uint_eq(f, i);
    }
    uint64_t h;
    ck_assert_int_eq(guest_buddy_alloc(b, 9, &h), 0);
    ck_assert_uint_eq(h % 512, 0);
    ck_assert_uint_ge(h, 600);
    guest_buddy_free_all(b);
}
END_TEST

START_TEST(test_guest_buddy_odd_size_gives_every_frame_once_then_enospc)
{
    const uint64_t n = 1000 + 3;
    struct guest_buddy *b;
    ck_assert_int_eq(guest_buddy_new(n, 0.0, 1, &b, NULL), 0);
    uint64_t *seen = vm_bitmap_new(n);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t f;
        ck_assert_int_eq(guest_buddy_alloc(b, 0, &f), 0);
        ck_assert_uint_lt(f, n);
        ck_assert(!vm_bitmap_test_and_set(seen, f));
    }
    uint64_t f;
    ck_assert_int_eq(guest_buddy_alloc(b, 0, &f), VM_ENOSPC);
    struct guest_buddy_stats st;
    guest_buddy_get_stats(b, &st);
    ck_assert_uint_eq(st.free_frames, 0);
    vm_bitmap_free(seen);
    guest_buddy_free_all(b);
}
END_TEST

START_TEST(test_guest_buddy_free_merges_buddies_back_to_the_largest_blocks)
{
    struct guest_buddy *b;
    ck_assert_int_eq(guest_buddy_new(2048, 0.0, 1, &b, NULL), 0);
    uint64_t f[2048];
    for (int i = 0; i < 2048; i++)
        ck_assert_int_eq(guest_buddy_alloc(b, 0, &f[i]), 0);
    ck_assert(!guest_buddy_is_free(b, 5));
    for (int i = 2047; i >= 0; i -= 2)      /* odd ones first: nothing can merge */
        guest_buddy_free(b, f[i], 0);
    struct guest_buddy_stats st;
    guest_buddy_get_stats(b, &st);
    ck_assert_uint_eq(st.free_blocks[0], 1024);
    ck_assert_uint_eq(st.free_blocks[1], 0);
    for (int i = 0; i < 2048; i += 2)
        guest_buddy_free(b, f[i], 0);
    guest_buddy_get_stats(b, &st);
    ck_assert_uint_eq(st.free_frames, 2048);
    ck_assert_uint_eq(st.free_blocks[0], 0);
    ck_assert_uint_eq(st.free_blocks[GUEST_BUDDY_MAX_ORDER], 2);
    ck_assert(guest_buddy_is_free(b, 5));
    guest_buddy_free_all(b);
}
END_TEST

START_TEST(test_guest_buddy_aged_reclaims_cache_and_scatters)
{
    const uint64_t n = 8192;
    struct guest_buddy *b;
    ck_assert_int_eq(guest_buddy_new(n, 1.0, 7, &b, NULL), 0);
    struct guest_buddy_stats st;
    guest_buddy_get_stats(b, &st);
    ck_assert_uint_eq(st.free_frames, 0);
    ck_assert_uint_eq(st.cached_frames, n);
    uint64_t *seen = vm_bitmap_new(n);
    uint64_t prev = 0, adjacent = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t f;
        ck_assert_int_eq(guest_buddy_alloc(b, 0, &f), 0);
        ck_assert(!vm_bitmap_test_and_set(seen, f));
        adjacent += i && f == prev + 1;
        prev = f;
    }
    uint64_t f;
    ck_assert_int_eq(guest_buddy_alloc(b, 0, &f), VM_ENOSPC);
    guest_buddy_get_stats(b, &st);
    ck_assert_uint_eq(st.reclaimed_frames, n);
    ck_assert_uint_eq(st.cached_frames, 0);
    /* Reclaim batches of 32 random frames: few neighbours follow each other. */
    ck_assert_uint_lt(adjacent, n / 20);
    vm_bitmap_free(seen);
    guest_buddy_free_all(b);
}
END_TEST

START_TEST(test_guest_buddy_refuses_bad_sizes_aging_and_orders)
{
    struct guest_buddy *b;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(guest_buddy_new(0, 0.0, 1, &b, &d), VM_EINVAL);
    ck_assert_ptr_null(b);
    vm_diag_clear(&d);
    ck_assert_int_eq(guest_buddy_new(100, 1.5, 1, &b, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "'aging' 1.5: expected a number in [0, 1]");
    ck_assert_int_eq(guest_buddy_new(100, 0.0, 1, &b, NULL), 0);
    uint64_t f;
    ck_assert_int_eq(guest_buddy_alloc(b, GUEST_BUDDY_MAX_ORDER + 1, &f), VM_EINVAL);
    ck_assert_int_eq(guest_buddy_alloc(b, 7, &f), VM_ENOSPC);   /* 100 < 128 frames */
    guest_buddy_free_all(b);
}
END_TEST

/* ============================================================ page tables */

START_TEST(test_guest_pt_map_builds_sdm_entries_four_levels)
{
    struct guest_vm *vm = new_vm(MiB_FRAMES(16), 4, 0.0, false);
    struct guest_as *as = new_as(vm);
    ck_assert_uint_eq(guest_vm_nr_tables(vm), 1);
    const uint64_t gva = 0x00007f1234567abcull;
    ck_assert_int_eq(guest_pt_map(as, gva & ~0xfffull, 3000, GUEST_PTE_RW | GUEST_PTE_US, NULL), 0);
    ck_assert_uint_eq(guest_vm_nr_tables(vm), 4);           /* PML4, PDPT, PD, PT */
    /* Follow the entries by hand, as the SDM's figure 4-8 does. */
    uint64_t t = guest_as_root(as);
    unsigned shift[4] = { 39, 30, 21, 12 };
    uint64_t e = 0;
    for (int l = 0; l < 4; l++) {
        uint64_t *tab = guest_vm_table(vm, t);
        ck_assert_ptr_nonnull(tab);
        e = tab[(gva >> shift[l]) & 511];
        ck_assert(e & GUEST_PTE_P);
        if (l < 3)
            ck_assert_uint_eq(e & 0xfff, GUEST_PTE_P | GUEST_PTE_RW | GUEST_PTE_US | GUEST_PTE_A);
        t = (e & GUEST_PTE_ADDR) >> 12;
    }
    ck_assert_uint_eq(t, 3000);
    ck_assert_uint_eq(e & 0xfff, GUEST_PTE_P | GUEST_PTE_RW | GUEST_PTE_US);
    struct guest_walk w;
    struct guest_walk_cost c = { 0, 0 };
    ck_assert_int_eq(guest_pt_walk(as, gva, &w, &c), 0);
    ck_assert_uint_eq(w.gpa, 3000ull * 4096 + 0xabc);
    ck_assert_uint_eq(w.level, 1);
    ck_assert_uint_eq(w.index, (gva >> 12) & 511);
    ck_assert_uint_eq(c.walks, 1);
    ck_assert_uint_eq(c.entries, 4);
    uint64_t g;
    ck_assert_int_eq(guest_pt_translate(as, gva, &g), 0);
    ck_assert_uint_eq(g, 3000);
    ck_assert_int_eq(guest_pt_map(as, gva, 3001, 0, NULL), VM_EBUSY);
    guest_vm_free(vm);
}
END_TEST

START_TEST(test_guest_pt_five_levels_map_la57_addresses)
{
    const uint64_t la57 = 0x00ff123456789000ull;   /* bit 55 set: needs 5 levels */
    struct guest_vm *vm4 = new_vm(MiB_FRAMES(4), 4, 0.0, false);
    struct guest_as *as4 = new_as(vm4);
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(guest_pt_map(as4, la57, 10, 0, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "address 0xff123456789000 is not canonical for 4-level paging "
                            "(bits 63:47 must all equal bit 47)");
    guest_vm_free(vm4);

    struct guest_vm *vm = new_vm(MiB_FRAMES(4), 5, 0.0, false);
    struct guest_as *as = new_as(vm);
    ck_assert_int_eq(guest_pt_map(as, la57, 10, GUEST_PTE_RW, NULL), 0);
    ck_assert_uint_eq(guest_vm_nr_tables(vm), 5);
    struct guest_walk w;
    struct guest_walk_cost c = { 0, 0 };
    ck_assert_int_eq(guest_pt_walk(as, la57 + 0x10, &w, &c), 0);
    ck_assert_uint_eq(w.gpa, 10 * 4096 + 0x10);
    ck_assert_uint_eq(c.entries, 5);
    /* The PML5 entry is at bits 56:48 of the address. */
    uint64_t *root = guest_vm_table(vm, guest_as_root(as));
    ck_assert(root[(la57 >> 48) & 511] & GUEST_PTE_P);
    /* Bit 56 set with bits 63:57 clear is not canonical even with 5 levels. */
    vm_diag_clear(&d);
    ck_assert_int_eq(guest_pt_map(as, 0x0100000000000000ull, 11, 0, &d), VM_EINVAL);
    ck_assert_int_eq(guest_pt_walk(as, 0x0100000000000000ull, &w, NULL), VM_EINVAL);
    ck_assert_int_eq(w.fault, GUEST_WALK_NONCANONICAL);
    ck_assert_uint_eq(w.level, 5);
    guest_vm_free(vm);
}
END_TEST

START_TEST(test_guest_pt_upper_half_maps_and_the_hole_is_refused)
{
    struct guest_vm *vm = new_vm(MiB_FRAMES(4), 4, 0.0, false);
    struct guest_as *as = new_as(vm);
    const uint64_t vsyscall = 0xffffffffff600000ull;
    ck_assert(guest_pt_canonical(4, vsyscall));
    ck_assert(!guest_pt_canonical(4, 0x0000800000000000ull));
    ck_assert(guest_pt_canonical(4, 0x00007ffffffff000ull));
    ck_assert(guest_pt_canonical(4, 0xffff800000000000ull));
    ck_assert_int_eq(guest_pt_map(as, vsyscall, 42, 0, NULL), 0);
    uint64_t g;
    ck_assert_int_eq(guest_pt_translate(as, vsyscall + 8, &g), 0);
    ck_assert_uint_eq(g, 42);
    struct guest_walk w;
    ck_assert_int_eq(guest_pt_walk(as, 0x0000800000000000ull, &w, NULL), VM_EINVAL);
    ck_assert_int_eq(w.fault, GUEST_WALK_NONCANONICAL);
    uint64_t gfn;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(guest_as_fault_in(as, 0x1234000000000000ull, false, &gfn, &d), VM_EINVAL);
    ck_assert(strstr(d.msg, "0x1234000000000000 is not canonical") != NULL);
    /* The last page of the address space: a range stops there, no wrap. */
    ck_assert_int_eq(guest_pt_map(as, 0xfffffffffffff000ull, 43, 0, NULL), 0);
    struct guest_xlat xl[8];
    ck_assert_uint_eq(guest_pt_xlat_range(as, 0xffffffffffffe000ull, 8, xl, NULL), 1);
    ck_assert_uint_eq(xl[0].gfn, 43);
    guest_vm_free(vm);
}
END_TEST

START_TEST(test_guest_pt_holes_report_the_level_that_is_absent)
{
    struct guest_vm *vm = new_vm(MiB_FRAMES(16), 4, 0.0, false);
    struct guest_as *as = new_as(vm);
    ck_assert_int_eq(guest_pt_map(as, 0x200000, 7, 0, NULL), 0);
    struct guest_walk w;
    ck_assert_int_eq(guest_pt_walk(as, 0x201000, &w, NULL), VM_ENOENT);  /* PT entry */
    ck_assert_int_eq(w.fault, GUEST_WALK_NOT_PRESENT);
    ck_assert_uint_eq(w.level, 1);
    ck_assert_uint_eq(w.index, 1);
    ck_assert_int_eq(guest_pt_walk(as, 0x400000, &w, NULL), VM_ENOENT);  /* PD entry */
    ck_assert_uint_eq(w.level, 2);
    ck_assert_int_eq(guest_pt_walk(as, 0x40000000, &w, NULL), VM_ENOENT); /* PDPT entry */
    ck_assert_uint_eq(w.level, 3);
    ck_assert_int_eq(guest_pt_walk(as, 0x8000000000ull, &w, NULL), VM_ENOENT); /* PML4 */
    ck_assert_uint_eq(w.level, 4);
    ck_assert_uint_eq(w.table_gfn, guest_as_root(as));
    /* Clear P in the PD entry by hand: the page under it disappears. */
    ck_assert_int_eq(guest_pt_walk(as, 0x200000, &w, NULL), 0);
    uint64_t pt_gfn = w.table_gfn;
    struct guest_walk up;
    ck_assert_int_eq(guest_pt_walk(as, 0x200000, &up, NULL), 0);
    uint64_t *root = guest_vm_table(vm, guest_as_root(as));
    uint64_t *pdpt = guest_vm_table(vm, (root[0] & GUEST_PTE_ADDR) >> 12);
    uint64_t *pd = guest_vm_table(vm, (pdpt[0] & GUEST_PTE_ADDR) >> 12);
    ck_assert_uint_eq((pd[1] & GUEST_PTE_ADDR) >> 12, pt_gfn);
    pd[1] &= ~GUEST_PTE_P;
    ck_assert_int_eq(guest_pt_walk(as, 0x200000, &w, NULL), VM_ENOENT);
    ck_assert_uint_eq(w.level, 2);
    pd[1] |= GUEST_PTE_P;
    ck_assert_int_eq(guest_pt_unmap(as, 0x200000), 0);
    ck_assert_int_eq(guest_pt_unmap(as, 0x200000), VM_ENOENT);
    ck_assert_uint_eq(guest_as_nr_mapped(as), 0);
    guest_vm_free(vm);
}
END_TEST

START_TEST(test_guest_pt_huge_pages_map_two_mib)
{
    struct guest_vm *vm = new_vm(MiB_FRAMES(16), 4, 0.0, false);
    struct guest_as *as = new_as(vm);
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(guest_pt_map_huge(as, 0x40100000, 1024, 0, &d), VM_EINVAL);
    ck_assert_int_eq(guest_pt_map_huge(as, 0x40000000, 1000, 0, NULL), VM_EINVAL);
    ck_assert_int_eq(guest_pt_map_huge(as, 0x40000000, 1024, GUEST_PTE_RW, NULL), 0);
    ck_assert_uint_eq(guest_as_nr_mapped(as), 512);
    struct guest_walk w;
    ck_assert_int_eq(guest_pt_walk(as, 0x40123456, &w, NULL), 0);
    ck_assert_uint_eq(w.level, 2);
    ck_assert(w.entry & GUEST_PTE_PS);
    ck_assert_uint_eq(w.gpa, 1024ull * 4096 + 0x123456);
    uint64_t g;
    ck_assert_int_eq(guest_pt_translate(as, 0x40123456, &g), 0);
    ck_assert_uint_eq(g, 1024 + 0x123);
    vm_diag_clear(&d);
    ck_assert_int_eq(guest_pt_map(as, 0x40001000, 5, 0, &d), VM_EBUSY);
    ck_assert_str_eq(d.msg, "address 0x40001000 is inside a 2 MiB page");
    /* A PD entry that holds a table cannot become a huge page. */
    ck_assert_int_eq(guest_pt_map(as, 0x40200000, 5, 0, NULL), 0);
    ck_assert_int_eq(guest_pt_map_huge(as, 0x40200000, 2048, 0, NULL), VM_EBUSY);
    struct guest_xlat xl[GUEST_PT_ENTRIES];
    ck_assert_int_eq(guest_pt_xlat_table(as, 0x40003000, xl, NULL), 512);
    ck_assert_uint_eq(xl[0].gva, 0x40000000);
    ck_assert_uint_eq(xl[511].gfn, 1024 + 511);
    ck_assert_int_eq(guest_pt_unmap(as, 0x40000000), 0);
    ck_assert_uint_eq(guest_as_nr_mapped(as), 1);
    guest_vm_free(vm);
}
END_TEST

START_TEST(test_guest_pt_fault_in_sets_accessed_and_dirty_like_the_mmu)
{
    struct guest_vm *vm = new_vm(MiB_FRAMES(16), 4, 0.0, false);
    struct guest_as *as = new_as(vm);
    uint64_t g1, g2;
    ck_assert_int_eq(guest_as_fault_in(as, 0x1000, false, &g1, NULL), 0);
    struct guest_walk w;
    ck_assert_int_eq(guest_pt_walk(as, 0x1000, &w, NULL), 0);
    ck_assert(w.entry & GUEST_PTE_A);
    ck_assert(!(w.entry & GUEST_PTE_D));
    ck_assert_int_eq(guest_as_fault_in(as, 0x1008, true, &g2, NULL), 0);
    ck_assert_uint_eq(g1, g2);
    ck_assert_int_eq(guest_pt_walk(as, 0x1000, &w, NULL), 0);
    ck_assert(w.entry & GUEST_PTE_D);
    ck_assert_uint_eq(guest_as_nr_mapped(as), 1);
    guest_vm_free(vm);
}
END_TEST

START_TEST(test_guest_pt_thp_fault_in_maps_a_huge_page)
{
    struct guest_vm *vm = new_vm(MiB_FRAMES(16), 4, 0.0, true);
    struct guest_as *as = new_as(vm);
    uint64_t g, g2;
    ck_assert_int_eq(guest_as_fault_in(as, 0x600000 + 0x5000, true, &g, NULL), 0);
    ck_assert_uint_eq(guest_as_nr_mapped(as), 512);
    ck_assert_uint_eq(g % 512, 5);
    ck_assert_int_eq(guest_as_fault_in(as, 0x600000, false, &g2, NULL), 0);
    ck_assert_uint_eq(g2, g - 5);
    guest_vm_free(vm);
}
END_TEST

START_TEST(test_guest_pt_xlat_range_reuses_one_walk_per_table_and_skips_holes)
{
    struct guest_vm *vm = new_vm(MiB_FRAMES(64), 4, 0.0, false);
    struct guest_as *as = new_as(vm);
    for (uint64_t p = 0; p < 10; p++)
        if (p != 5)
            ck_assert_int_eq(guest_pt_map(as, 0x10000000 + p * 4096, 100 + p, 0, NULL), 0);
    struct guest_xlat xl[2048];
    struct guest_walk_cost c = { 0, 0 };
    ck_assert_uint_eq(guest_pt_xlat_range(as, 0x10000000, 10, xl, &c), 9);
    ck_assert_uint_eq(c.walks, 1);
    ck_assert_uint_eq(c.entries, 3 + 10);       /* PML4, PDPT, PD once; 10 PTEs */
    for (int i = 0; i < 9; i++) {
        uint64_t p = (uint64_t)(i < 5 ? i : i + 1);
        ck_assert_uint_eq(xl[i].gva, 0x10000000 + p * 4096);
        ck_assert_uint_eq(xl[i].gfn, 100 + p);
    }
    /* Across a last-level table boundary: one more walk. */
    ck_assert_int_eq(guest_pt_map(as, 0x10200000, 200, 0, NULL), 0);
    c = (struct guest_walk_cost){ 0, 0 };
    ck_assert_uint_eq(guest_pt_xlat_range(as, 0x101fe000, 4, xl, &c), 1);
    ck_assert_uint_eq(c.walks, 2);
    /* An absent PD entry skips its 512 pages with one read. */
    ck_assert_int_eq(guest_pt_map(as, 0x10600000, 300, 0, NULL), 0);
    c = (struct guest_walk_cost){ 0, 0 };
    ck_assert_uint_eq(guest_pt_xlat_range(as, 0x10000000, 4 * 512, xl, &c), 9 + 1 + 1);
    ck_assert_uint_eq(c.walks, 4);
    ck_assert_uint_eq(c.entries, 4 * 3 + 3 * 512);    /* tables at 0, 2 and 6 MiB */
    ck_assert_uint_eq(xl[10].gfn, 300);
    /* Below address 0 nothing wraps around. */
    ck_assert_uint_eq(guest_pt_xlat_range(as, 0, 3, xl, NULL), 0);
    guest_vm_free(vm);
}
END_TEST

START_TEST(test_guest_pt_xlat_table_returns_present_entries_in_order)
{
    struct guest_vm *vm = new_vm(MiB_FRAMES(16), 4, 0.0, false);
    struct guest_as *as = new_as(vm);
    const uint64_t base = 0x7f0000200000ull;
    uint64_t idx[5] = { 0, 3, 100, 300, 511 };
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(guest_pt_map(as, base + idx[i] * 4096, 1000 + (uint64_t)i, 0, NULL), 0);
    ck_assert_int_eq(guest_pt_map(as, base + 512 * 4096, 2000, 0, NULL), 0);  /* next table */
    struct guest_xlat xl[GUEST_PT_ENTRIES];
    struct guest_walk_cost c = { 0, 0 };
    ck_assert_int_eq(guest_pt_xlat_table(as, base + 100 * 4096 + 7, xl, &c), 5);
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_eq(xl[i].gva, base + idx[i] * 4096);
        ck_assert_uint_eq(xl[i].gfn, 1000 + (uint64_t)i);
    }
    ck_assert_uint_eq(c.walks, 1);
    ck_assert_uint_eq(c.entries, 3 + 512);
    ck_assert_int_eq(guest_pt_xlat_table(as, 0x1000, xl, NULL), 0);
    ck_assert_int_eq(guest_pt_xlat_table(as, 0x0000900000000000ull, xl, NULL), VM_EINVAL);
    guest_vm_free(vm);
}
END_TEST

START_TEST(test_guest_pt_address_spaces_are_separate_and_give_frames_back)
{
    struct guest_vm *vm = new_vm(MiB_FRAMES(16), 4, 0.0, false);
    struct guest_buddy_stats before, after;
    guest_buddy_get_stats(guest_vm_buddy(vm), &before);
    struct guest_as *a = new_as(vm), *b = new_as(vm);
    ck_assert_uint_ne(guest_as_root(a), guest_as_root(b));
    uint64_t ga, gb;
    for (uint64_t p = 0; p < 600; p++) {
        ck_assert_int_eq(guest_as_fault_in(a, 0x400000 + p * 4096, true, &ga, NULL), 0);
        ck_assert_int_eq(guest_as_fault_in(b, 0x400000 + p * 4096, true, &gb, NULL), 0);
        ck_assert_uint_ne(ga, gb);
    }
    ck_assert_int_eq(guest_pt_translate(a, 0x400000, &ga), 0);
    ck_assert_int_eq(guest_pt_translate(b, 0x400000, &gb), 0);
    ck_assert_uint_ne(ga, gb);
    guest_as_free(a);
    ck_assert_int_eq(guest_pt_translate(b, 0x400000, &gb), 0);
    guest_as_free(b);
    guest_buddy_get_stats(guest_vm_buddy(vm), &after);
    ck_assert_uint_eq(after.free_frames, before.free_frames);
    ck_assert_uint_eq(guest_vm_nr_tables(vm), 0);
    guest_vm_free(vm);
}
END_TEST

START_TEST(test_guest_pt_refuses_bad_levels_and_frames)
{
    struct guest_vm_cfg cfg = { .nr_frames = 1024, .levels = 3 };
    struct guest_vm *vm;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(guest_vm_new(&cfg, &vm, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "paging levels 3: expected 4 or 5 (LA57)");
    vm = new_vm(1024, 4, 0.0, false);
    struct guest_as *as = new_as(vm);
    vm_diag_clear(&d);
    ck_assert_int_eq(guest_pt_map(as, 0x1000, 1024, 0, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "frame 1024 is beyond guest memory (1024 frames)");
    guest_vm_free(vm);
}
END_TEST

START_TEST(test_guest_pt_out_of_guest_memory_is_enospc)
{
    struct guest_vm *vm = new_vm(64, 4, 0.0, false);
    struct guest_as *as = new_as(vm);
    uint64_t g;
    int rc = 0;
    uint64_t p;
    for (p = 0; p < 100 && rc == 0; p++)
        rc = guest_as_fault_in(as, p * 4096, false, &g, NULL);
    ck_assert_int_eq(rc, VM_ENOSPC);
    ck_assert_uint_eq(guest_as_nr_mapped(as) + guest_vm_nr_tables(vm), 64);
    guest_vm_free(vm);
}
END_TEST

/* ========================================================= fragmentation */

START_TEST(test_guest_frag_counts_runs_contiguous_in_both_spaces)
{
    struct guest_vm *vm = new_vm(MiB_FRAMES(16), 4, 0.0, false);
    struct guest_as *as = new_as(vm);
    for (uint64_t p = 0; p < 10; p++)
        ck_assert_int_eq(guest_pt_map(as, 0x10000 + p * 4096, p == 5 ? 3000 : 2000 + p, 0, NULL), 0);
    ck_assert_int_eq(guest_pt_map_huge(as, 0x200000, 512, 0, NULL), 0);
    struct guest_frag f = { 0 };
    guest_pt_frag(as, &f);
    ck_assert_uint_eq(f.pages, 10 + 512);
    ck_assert_uint_eq(f.runs, 3 + 1);
    ck_assert(f.mean_run_pages > 130.4 && f.mean_run_pages < 130.6);
    guest_vm_free(vm);
}
END_TEST

static double frag_after_scan(double aging)
{
    struct guest_vm *vm = new_vm(MiB_FRAMES(64), 4, aging, false);
    struct guest_as *as = new_as(vm);
    uint64_t g;
    for (uint64_t p = 0; p < MiB_FRAMES(16); p++)     /* a 16 MiB array, in order */
        ck_assert_int_eq(guest_as_fault_in(as, 0x7f0000000000ull + p * 4096, true, &g, NULL), 0);
    struct guest_frag f = { 0 };
    guest_pt_frag(as, &f);
    ck_assert_uint_eq(f.pages, MiB_FRAMES(16));
    guest_vm_free(vm);
    return f.mean_run_pages;
}

START_TEST(test_guest_frag_fresh_guest_is_contiguous_aged_is_scattered)
{
    double fresh = frag_after_scan(0.0);
    double half = frag_after_scan(0.5);
    double aged = frag_after_scan(1.0);
    /* Fresh: runs break only where a new page table takes a frame. */
    ck_assert(fresh > 400.0);
    ck_assert(half < fresh / 50);
    ck_assert(aged < half);
    ck_assert(aged < 1.2);
}
END_TEST

/* ========================================================= table storage */

/* One page in each of many 1 GiB regions: simulator memory for the
 * tables stays proportional to the entries present (compact tables), and
 * every page still translates; a table that fills past the compact form
 * keeps its entries. */
START_TEST(test_guest_pt_sparse_tables_cost_memory_per_entry_not_per_table)
{
    struct guest_vm *vm = new_vm(MiB_FRAMES(64), 4, 0.0, false);
    struct guest_as *as = new_as(vm);
    const uint64_t regions = 2000;
    uint64_t g;
    for (uint64_t r = 0; r < regions; r++)
        ck_assert_int_eq(guest_as_fault_in(as, (r << 30) + 0x5000, r & 1, &g, NULL), 0);
    /* a PD and a PT per region, 4 PDPTs and the PML4 */
    ck_assert_uint_eq(guest_vm_nr_tables(vm), 2 * regions + 4 + 1);
    /* full tables would take 12 KiB per region; compact ones about 100 bytes */
    ck_assert_uint_lt(guest_vm_table_bytes(vm), regions * 256 + (2u << 20));
    for (uint64_t r = 0; r < regions; r++) {
        ck_assert_int_eq(guest_pt_translate(as, (r << 30) + 0x5000, &g), 0);
        ck_assert_int_eq(guest_pt_translate(as, (r << 30) + 0x6000, &g), VM_ENOENT);
    }
    /* fill one last-level table past the compact form, out of order */
    uint64_t gfn[512];
    for (unsigned i = 0; i < 512; i++) {
        unsigned k = (i * 37) & 511;
        ck_assert_int_eq(guest_as_fault_in(as, 0x7f0000000000ull + k * 4096ull, false,
                                           &gfn[k], NULL), 0);
    }
    for (unsigned k = 0; k < 512; k++) {
        ck_assert_int_eq(guest_pt_translate(as, 0x7f0000000000ull + k * 4096ull, &g), 0);
        ck_assert_uint_eq(g, gfn[k]);
    }
    struct guest_xlat xl[GUEST_PT_ENTRIES];
    ck_assert_int_eq(guest_pt_xlat_table(as, 0x7f0000000000ull, xl, NULL), 512);
    ck_assert_uint_eq(xl[511].gfn, gfn[511]);
    /* guest_vm_table() makes a compact table full, and walks follow it */
    struct guest_walk w;
    ck_assert_int_eq(guest_pt_walk(as, (7ull << 30) + 0x5000, &w, NULL), 0);
    uint64_t *pt = guest_vm_table(vm, w.table_gfn);
    ck_assert_ptr_nonnull(pt);
    ck_assert_uint_eq(pt[5], w.entry);
    pt[6] = (123ull << 12) | GUEST_PTE_P;
    ck_assert_int_eq(guest_pt_translate(as, (7ull << 30) + 0x6000, &g), 0);
    ck_assert_uint_eq(g, 123);
    ck_assert_int_eq(guest_pt_unmap(as, (7ull << 30) + 0x6000), 0);
    struct guest_frag f = { 0 };
    guest_pt_frag(as, &f);
    ck_assert_uint_eq(f.pages, regions + 512);
    guest_vm_free(vm);
}
END_TEST


/* ----------------------------------------------- table frames as guest memory */

/* A reader that refuses the frames set in its bitmap (absent from host memory). */
struct refuse { uint64_t *absent; uint64_t asked; };
static bool refuse_readable(void *arg, uint64_t gfn)
{
    struct refuse *r = arg;
    r->asked++;
    return !vm_bitmap_test(r->absent, gfn);
}

START_TEST(test_guest_pt_walk_tables_names_each_level_top_first)
{
    for (unsigned levels = 4; levels <= 5; levels++) {
        struct guest_vm *vm = new_vm(MiB_FRAMES(8), levels, 0.0, false);
        struct guest_as *as = new_as(vm);
        const uint64_t gva = 0x7f1234567000ull;
        ck_assert_int_eq(guest_pt_map(as, gva, 1000, GUEST_PTE_RW, NULL), 0);
        uint64_t tf[GUEST_MAX_LEVELS];
        ck_assert_uint_eq(guest_pt_walk_tables(as, gva, tf), levels);
        ck_assert_uint_eq(tf[0], guest_as_root(as));
        /* each frame is the one the entry above names, as the hypervisor's walk finds */
        struct guest_walk w;
        ck_assert_int_eq(guest_pt_walk(as, gva, &w, NULL), 0);
        ck_assert_uint_eq(tf[levels - 1], w.table_gfn);
        for (unsigned i = 0; i + 1 < levels; i++) {
            uint64_t *t = guest_vm_table(vm, tf[i]);
            ck_assert_ptr_nonnull(t);
            unsigned idx = (unsigned)(gva >> (12 + 9 * (levels - 1 - i))) & 511;
            ck_assert_uint_eq((t[idx] & GUEST_PTE_ADDR) >> 12, tf[i + 1]);
        }
        /* an unmapped address in the same last-level table: the same frames;
         * one whose PD entry is absent: the walk stops at the PD; whose
         * PDPT entry is absent: at the PDPT */
        ck_assert_uint_eq(guest_pt_walk_tables(as, gva + 4096, tf), levels);
        ck_assert_uint_eq(guest_pt_walk_tables(as, gva + (1ull << 21), tf), levels - 1);
        ck_assert_uint_eq(guest_pt_walk_tables(as, gva + (1ull << 30), tf), levels - 2);
        ck_assert_uint_eq(guest_pt_walk_tables(as, 1ull << 63, tf), 0);   /* not canonical */
        /* a 2 MiB page: the walk ends at the PD */
        ck_assert_int_eq(guest_pt_map_huge(as, 0x40000000ull, 512, GUEST_PTE_RW, NULL), 0);
        ck_assert_uint_eq(guest_pt_walk_tables(as, 0x40001000ull, tf), levels - 1);
        guest_vm_free(vm);
    }
}
END_TEST

START_TEST(test_guest_pt_readers_skip_what_lies_below_an_unreadable_table)
{
    struct guest_vm *vm = new_vm(MiB_FRAMES(8), 4, 0.0, false);
    struct guest_as *as = new_as(vm);
    /* pages 0..3 of region A (2 MiB at 0x200000), pages 0..3 of region B next to it */
    const uint64_t a = 0x200000, b = 0x400000;
    for (unsigned i = 0; i < 4; i++) {
        ck_assert_int_eq(guest_pt_map(as, a + 4096ull * (508 + i), 100 + i, 0, NULL), 0);
        ck_assert_int_eq(guest_pt_map(as, b + 4096ull * i, 200 + i, 0, NULL), 0);
    }
    uint64_t ta[GUEST_MAX_LEVELS], tb[GUEST_MAX_LEVELS];
    ck_assert_uint_eq(guest_pt_walk_tables(as, a, ta), 4);
    ck_assert_uint_eq(guest_pt_walk_tables(as, b, tb), 4);
    ck_assert_uint_ne(ta[3], tb[3]);                 /* two last-level tables, one PD */
    ck_assert_uint_eq(ta[2], tb[2]);
    struct refuse rf = { vm_bitmap_new(MiB_FRAMES(8)), 0 };
    struct guest_pt_reader rd = { refuse_readable, &rf };
    struct guest_xlat out[16];
    struct guest_walk_cost all = { 0, 0 }, some = { 0, 0 };
    /* everything readable: the same as without a reader */
    ck_assert_uint_eq(guest_pt_xlat_range_rd(as, &rd, a + 4096ull * 508, 8, out, &all), 8);
    ck_assert_uint_gt(rf.asked, 0);
    /* B's last-level table absent: its pages are skipped, unread */
    vm_bitmap_set(rf.absent, tb[3]);
    ck_assert_uint_eq(guest_pt_xlat_range_rd(as, &rd, a + 4096ull * 508, 8, out, &some), 4);
    for (unsigned i = 0; i < 4; i++)
        ck_assert_uint_eq(out[i].gfn, 100 + i);
    ck_assert_uint_eq(some.entries, all.entries - 4);   /* B's PTEs are not read */
    ck_assert_int_eq(guest_pt_xlat_table_rd(as, &rd, b, out, NULL), 0);
    ck_assert_int_eq(guest_pt_xlat_table_rd(as, &rd, a + 4096ull * 508, out, NULL), 4);
    struct guest_walk w;
    ck_assert_int_eq(guest_pt_walk_rd(as, &rd, b, &w, NULL), VM_EAGAIN);
    ck_assert_int_eq(w.fault, GUEST_WALK_UNREADABLE);
    ck_assert_uint_eq(w.table_gfn, tb[3]);
    ck_assert_uint_eq(w.level, 1);
    /* the shared PD absent: both regions are skipped, nothing below is read */
    vm_bitmap_set(rf.absent, ta[2]);
    struct guest_walk_cost none = { 0, 0 };
    ck_assert_uint_eq(guest_pt_xlat_range_rd(as, &rd, a + 4096ull * 508, 8, out, &none), 0);
    ck_assert_uint_eq(none.entries, 2);             /* the PML4 and PDPT entries only */
    ck_assert_int_eq(guest_pt_walk_rd(as, &rd, a + 4096ull * 508, &w, NULL), VM_EAGAIN);
    ck_assert_uint_eq(w.level, 2);
    /* the root absent: nothing at all, and the range ends */
    vm_bitmap_set(rf.absent, guest_as_root(as));
    ck_assert_uint_eq(guest_pt_xlat_range_rd(as, &rd, a, 2048, out, NULL), 0);
    /* a NULL reader reads every table */
    ck_assert_uint_eq(guest_pt_xlat_range_rd(as, NULL, a + 4096ull * 508, 8, out, NULL), 8);
    vm_bitmap_free(rf.absent);
    guest_vm_free(vm);
}
END_TEST

START_TEST(test_guest_vm_table_map_marks_every_table_frame_and_nothing_else)
{
    struct guest_vm *vm = new_vm(MiB_FRAMES(8), 4, 0.5, false);
    struct guest_as *p = new_as(vm), *q = new_as(vm);
    uint64_t gfn;
    for (uint64_t i = 0; i < 300; i++) {
        ck_assert_int_eq(guest_as_fault_in(p, 0x10000000ull + i * 0x10000, true, &gfn, NULL), 0);
        ck_assert_int_eq(guest_as_fault_in(q, 0x7f0000000000ull + i * 4096, false, &gfn, NULL),
                         0);
    }
    uint64_t *map = vm_bitmap_new(MiB_FRAMES(8));
    guest_vm_table_map(vm, map);
    uint64_t n = 0;
    for (uint64_t f = 0; f < MiB_FRAMES(8); f++)
        n += vm_bitmap_test(map, f);
    ck_assert_uint_eq(n, guest_vm_nr_tables(vm));
    /* every frame a walk reads is marked; no data frame is */
    for (uint64_t i = 0; i < 300; i++) {
        uint64_t tf[GUEST_MAX_LEVELS], va = 0x10000000ull + i * 0x10000;
        unsigned k = guest_pt_walk_tables(p, va, tf);
        ck_assert_uint_eq(k, 4);
        for (unsigned j = 0; j < k; j++)
            ck_assert(vm_bitmap_test(map, tf[j]));
        ck_assert_int_eq(guest_pt_translate(p, va, &gfn), 0);
        ck_assert(!vm_bitmap_test(map, gfn));
    }
    vm_bitmap_free(map);
    guest_vm_free(vm);
}
END_TEST

static Suite *buddy_suite(void)
{
    Suite *s = suite_create("buddy");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_guest_buddy_fresh_hands_out_consecutive_frames);
    tcase_add_test(tc, test_guest_buddy_odd_size_gives_every_frame_once_then_enospc);
    tcase_add_test(tc, test_guest_buddy_free_merges_buddies_back_to_the_largest_blocks);
    tcase_add_test(tc, test_guest_buddy_aged_reclaims_cache_and_scatters);
    tcase_add_test(tc, test_guest_buddy_refuses_bad_sizes_aging_and_orders);
    suite_add_tcase(s, tc);
    return s;
}

static Suite *pt_suite(void)
{
    Suite *s = suite_create("pt");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_guest_pt_map_builds_sdm_entries_four_levels);
    tcase_add_test(tc, test_guest_pt_five_levels_map_la57_addresses);
    tcase_add_test(tc, test_guest_pt_upper_half_maps_and_the_hole_is_refused);
    tcase_add_test(tc, test_guest_pt_holes_report_the_level_that_is_absent);
    tcase_add_test(tc, test_guest_pt_huge_pages_map_two_mib);
    tcase_add_test(tc, test_guest_pt_fault_in_sets_accessed_and_dirty_like_the_mmu);
    tcase_add_test(tc, test_guest_pt_thp_fault_in_maps_a_huge_page);
    tcase_add_test(tc, test_guest_pt_xlat_range_reuses_one_walk_per_table_and_skips_holes);
    tcase_add_test(tc, test_guest_pt_xlat_table_returns_present_entries_in_order);
    tcase_add_test(tc, test_guest_pt_address_spaces_are_separate_and_give_frames_back);
    tcase_add_test(tc, test_guest_pt_refuses_bad_levels_and_frames);
    tcase_add_test(tc, test_guest_pt_out_of_guest_memory_is_enospc);
    tcase_add_test(tc, test_guest_pt_sparse_tables_cost_memory_per_entry_not_per_table);
    tcase_add_test(tc, test_guest_pt_walk_tables_names_each_level_top_first);
    tcase_add_test(tc, test_guest_pt_readers_skip_what_lies_below_an_unreadable_table);
    tcase_add_test(tc, test_guest_vm_table_map_marks_every_table_frame_and_nothing_else);
    suite_add_tcase(s, tc);
    return s;
}

static Suite *frag_suite(void)
{
    Suite *s = suite_create("frag");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_guest_frag_counts_runs_contiguous_in_both_spaces);
    tcase_add_test(tc, test_guest_frag_fresh_guest_is_contiguous_aged_is_scattered);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(buddy_suite());
    srunner_add_suite(sr, pt_suite());
    srunner_add_suite(sr, frag_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
