/*
 * check_guest_kept.c - unit tests of the kept last-level tables of
 * models/guest (struct guest_leaf: guest_pt_prefetch_leaf,
 * guest_pt_peek_leaf, guest_as_access_leaf and the inline guest_leaf_pte /
 * guest_pte_access), the replay loop's shortcut past the upper levels: it
 * must answer and set A/D bits as guest_as_fault_in()'s walk does, and go
 * stale whenever a table moves, is released or is handed out.
 */
#include <check.h>
#include <stdlib.h>

#include "base/vm_err.h"
#include "guest/guest_pt.h"

#define MiB_FRAMES(n) ((uint64_t)(n) * 256)

static struct guest_vm *new_vm(uint64_t frames)
{
    struct guest_vm_cfg cfg = { .nr_frames = frames, .levels = 4, .seed = 1 };
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

/* A kept last-level table (struct guest_leaf) answers as a walk does, sets
 * A and D as guest_as_fault_in() would, and goes stale when a table
 * moves; a walk through an upper entry whose A bit is clear keeps none. */
START_TEST(test_guest_pt_kept_leaf_acts_as_the_walk_and_goes_stale)
{
    struct guest_vm *vm = new_vm(MiB_FRAMES(64));
    struct guest_as *as = new_as(vm);
    uint64_t g, h;
    ck_assert_int_eq(guest_as_fault_in(as, 0x200000, false, &g, NULL), 0);
    struct guest_leaf ref;
    guest_pt_prefetch_leaf(as, 0x200000, &ref);
    ck_assert_int_eq(guest_pt_peek_leaf(as, 0x200000, &ref, &h), 0);
    ck_assert_uint_eq(h, g);
    ck_assert_int_eq(guest_pt_peek_leaf(as, 0x201000, &ref, &h), VM_ENOENT);   /* same table */
    ck_assert_int_eq(guest_as_access_leaf(as, 0x201000, &ref, true, &h), VM_ENOENT);
    struct guest_walk w;
    ck_assert_int_eq(guest_pt_walk(as, 0x200000, &w, NULL), 0);
    ck_assert(!(w.entry & GUEST_PTE_D));
    ck_assert_int_eq(guest_as_access_leaf(as, 0x200000, &ref, true, &h), 0);
    ck_assert_uint_eq(h, g);
    ck_assert_int_eq(guest_pt_walk(as, 0x200000, &w, NULL), 0);
    ck_assert(w.entry & GUEST_PTE_D);
    /* nothing mapped in that region: no table to keep; not canonical: none */
    guest_pt_prefetch_leaf(as, 0x40000000, &ref);
    ck_assert_int_eq(guest_pt_peek_leaf(as, 0x40000000, &ref, &h), VM_EAGAIN);
    guest_pt_prefetch_leaf(as, 0x0000900000000000ull, &ref);
    ck_assert_int_eq(guest_as_access_leaf(as, 0x0000900000000000ull, &ref, false, &h), VM_EAGAIN);
    /* the compact table grows full (it moves): the reference is stale */
    guest_pt_prefetch_leaf(as, 0x200000, &ref);
    for (uint64_t k = 1; k < 64; k++)
        ck_assert_int_eq(guest_as_fault_in(as, 0x200000 + k * 0x1000, false, &h, NULL), 0);
    ck_assert_int_eq(guest_pt_peek_leaf(as, 0x200000, &ref, &h), VM_EAGAIN);
    ck_assert_int_eq(guest_as_access_leaf(as, 0x200000, &ref, false, &h), VM_EAGAIN);
    /* an upper entry without A (the guest cleared it): a walk keeps no
     * table, so the access walks and sets it as the MMU does */
    uint64_t *root = guest_vm_table(vm, guest_as_root(as));
    uint64_t *pdpt = guest_vm_table(vm, (root[0] & GUEST_PTE_ADDR) >> 12);
    uint64_t *pd = guest_vm_table(vm, (pdpt[0] & GUEST_PTE_ADDR) >> 12);
    ck_assert_ptr_nonnull(pd);
    ck_assert(pd[1] & GUEST_PTE_A);                 /* 0x200000: PD entry 1 */
    pd[1] &= ~GUEST_PTE_A;
    ck_assert_int_eq(guest_pt_translate(as, 0x200000, &h), 0);   /* fills no cache entry */
    guest_pt_prefetch_leaf(as, 0x200000, &ref);
    ck_assert_int_eq(guest_as_access_leaf(as, 0x200000, &ref, false, &h), VM_EAGAIN);
    ck_assert_int_eq(guest_as_fault_in(as, 0x200000, false, &h, NULL), 0);
    ck_assert(pd[1] & GUEST_PTE_A);
    guest_pt_prefetch_leaf(as, 0x200000, &ref);
    ck_assert_int_eq(guest_as_access_leaf(as, 0x200000, &ref, false, &h), 0);
    ck_assert_uint_eq(h, g);
    guest_vm_free(vm);
}
END_TEST

/* The inline fast path: a full last-level table's PTE through a current
 * reference, A set on access (D only for a write), stale after a hand-out
 * or a release of a table. */
START_TEST(test_guest_pt_kept_leaf_inline_path)
{
    struct guest_vm *vm = new_vm(MiB_FRAMES(64));
    struct guest_as *as = new_as(vm), *other = new_as(vm);
    for (uint64_t k = 0; k < 64; k++)               /* no A: as a guest kernel maps */
        ck_assert_int_eq(guest_pt_map(as, 0x400000 + k * 0x1000, 1000 + k, GUEST_PTE_RW, NULL), 0);
    struct guest_leaf ref;
    guest_pt_prefetch_leaf(as, 0x405000, &ref);
    const uint64_t *gen = guest_vm_gen(vm);
    uint64_t *pte = guest_leaf_pte(&ref, 0x405000, *gen);
    ck_assert_ptr_nonnull(pte);                     /* 64 entries: the table is full */
    ck_assert(!(*pte & GUEST_PTE_A));
    uint64_t g;
    ck_assert(guest_pte_access(pte, false, &g));
    ck_assert_uint_eq(g, 1005);
    ck_assert(*pte & GUEST_PTE_A);
    ck_assert(!(*pte & GUEST_PTE_D));
    ck_assert(guest_pte_access(pte, true, &g));
    ck_assert(*pte & GUEST_PTE_D);
    /* a table handed out writable: stale */
    ck_assert_ptr_nonnull(guest_vm_table(vm, guest_as_root(as)));
    ck_assert_ptr_null(guest_leaf_pte(&ref, 0x405000, *gen));
    /* a table released (another process's, freed): stale too */
    guest_pt_prefetch_leaf(as, 0x405000, &ref);
    ck_assert_ptr_nonnull(guest_leaf_pte(&ref, 0x405000, *gen));
    guest_as_free(other);
    ck_assert_ptr_null(guest_leaf_pte(&ref, 0x405000, *gen));
    guest_vm_free(vm);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("guest_kept");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_guest_pt_kept_leaf_acts_as_the_walk_and_goes_stale);
    tcase_add_test(tc, test_guest_pt_kept_leaf_inline_path);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
