/*
 * check_hostmem.c - suite "hostmem": host memory with swap
 * (models/hostmem/hostmem.h): the clock's order and second chance, swap
 * slots in eviction order, the swap cache, protection of prefetched
 * frames not yet used and of locked frames (I/O in flight), the cap on
 * unused prefetches (Linux's inactive list share), the admission room,
 * the invariant check against
 * a deliberately broken evictor, the backing port, bad input, and a
 * random run that must keep every invariant.
 *
 * The referenced bits are a bitmap the test sets, as the guest's
 * accesses set EPT accessed bits.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "base/vm_rand.h"
#include "hostmem/hostmem.h"

struct rig {
    struct hostmem *hm;
    uint64_t *young;              /* referenced bits, per frame */
    uint64_t young_calls;
    struct hostmem_admission *adm;
};

static bool young_cb(void *data, uint64_t frame)
{
    struct rig *r = data;
    r->young_calls++;
    bool was = vm_bitmap_test(r->young, frame);
    vm_bitmap_clear(r->young, frame);
    return was;
}

static void rig_init(struct rig *r, uint64_t nr_frames, uint64_t max_resident)
{
    memset(r, 0, sizeof(*r));
    r->young = vm_bitmap_new(nr_frames);
    r->adm = malloc(sizeof(*r->adm));
    ck_assert_ptr_nonnull(r->young);
    ck_assert_ptr_nonnull(r->adm);
    struct hostmem_cfg cfg = { .nr_frames = nr_frames, .max_resident = max_resident };
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_msg(hostmem_new(&cfg, young_cb, r, &r->hm, &d) == 0, "%s", d.msg);
}

static void rig_fini(struct rig *r)
{
    ck_assert_uint_eq(hostmem_check(r->hm), 0);
    hostmem_free(r->hm);
    vm_bitmap_free(r->young);
    free(r->adm);
}

/* Admit one faulting frame; returns the frame it evicted or HOSTMEM_NONE. */
static uint64_t fault(struct rig *r, uint64_t frame)
{
    ck_assert_int_eq(hostmem_admit(r->hm, &frame, 1, r->adm), 0);
    ck_assert_uint_eq(r->adm->nr_admitted, 1);
    return r->adm->nr_evicted ? r->adm->evicted[0] : HOSTMEM_NONE;
}

static void touch(struct rig *r, uint64_t frame)
{
    vm_bitmap_set(r->young, frame);
    hostmem_use(r->hm, frame);
}

START_TEST(test_hostmem_unreferenced_frames_leave_in_admission_order)
{
    struct rig r;
    rig_init(&r, 64, 4);
    for (uint64_t f = 0; f < 4; f++)
        ck_assert_uint_eq(fault(&r, 10 + f), HOSTMEM_NONE);
    ck_assert_uint_eq(hostmem_nr_resident(r.hm), 4);
    ck_assert_uint_eq(fault(&r, 20), 10);
    ck_assert_uint_eq(fault(&r, 21), 11);
    ck_assert_uint_eq(fault(&r, 22), 12);
    ck_assert_uint_eq(fault(&r, 23), 13);
    /* the new frames took the old ones' places behind the hand */
    ck_assert_uint_eq(fault(&r, 24), 20);
    ck_assert(!hostmem_is_resident(r.hm, 10));
    ck_assert(hostmem_is_resident(r.hm, 21));
    ck_assert_uint_eq(hostmem_stats(r.hm)->evictions, 5);
    ck_assert_uint_eq(hostmem_stats(r.hm)->second_chances, 0);
    rig_fini(&r);
}
END_TEST

START_TEST(test_hostmem_referenced_frame_gets_second_chance_and_loses_bit)
{
    struct rig r;
    rig_init(&r, 64, 4);
    for (uint64_t f = 0; f < 4; f++)
        fault(&r, f);
    touch(&r, 0);
    touch(&r, 2);
    ck_assert_uint_eq(fault(&r, 4), 1);    /* 0 passed over, its bit cleared */
    ck_assert(!vm_bitmap_test(r.young, 0));
    ck_assert_uint_eq(fault(&r, 5), 3);    /* 2 passed over */
    ck_assert_uint_eq(fault(&r, 6), 0);    /* 0 had its second chance */
    ck_assert_uint_eq(fault(&r, 7), 4);    /* 2's bit was cleared: next is 4 ... */
    ck_assert_uint_eq(hostmem_stats(r.hm)->second_chances, 2);
    rig_fini(&r);
}
END_TEST

START_TEST(test_hostmem_all_referenced_evicts_after_one_round)
{
    struct rig r;
    rig_init(&r, 64, 4);
    for (uint64_t f = 0; f < 4; f++) {
        fault(&r, f);
        touch(&r, f);
    }
    ck_assert_uint_eq(fault(&r, 9), 0);    /* one round clears all, then 0 goes */
    ck_assert_uint_eq(hostmem_stats(r.hm)->second_chances, 4);
    rig_fini(&r);
}
END_TEST

START_TEST(test_hostmem_slots_taken_in_eviction_order)
{
    struct rig r;
    rig_init(&r, 64, 4);
    /* frames admitted in a scattered order leave in that order and land in
     * neighbouring slots: 0, 1, 2, ... */
    uint64_t order[] = { 40, 3, 17, 8, 50, 22, 9, 33 };
    for (int i = 0; i < 8; i++)
        fault(&r, order[i]);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(hostmem_slot_of(r.hm, order[i]), (uint64_t)i);
    ck_assert_uint_eq(hostmem_stats(r.hm)->writes, 4);
    /* one batch that evicts several writes one contiguous run */
    uint64_t batch[] = { 60, 61, 62, 63 };
    ck_assert_int_eq(hostmem_admit(r.hm, batch, 1, r.adm), 0);
    ck_assert_uint_eq(r.adm->nr_writes, 1);
    ck_assert_uint_eq(r.adm->writes[0].frame, 50);
    ck_assert_uint_eq(r.adm->writes[0].slot, 4);
    rig_fini(&r);
}
END_TEST

START_TEST(test_hostmem_batch_evictions_write_one_run)
{
    struct rig r;
    rig_init(&r, 64, 8);
    for (uint64_t f = 0; f < 8; f++)
        fault(&r, f);
    /* a batch of 5 (demand 20, prefetch 21..24): evicts 0..4, written to
     * slots 0..4 in that order: one run */
    uint64_t batch[] = { 20, 21, 22, 23, 24 };
    ck_assert_int_eq(hostmem_admit(r.hm, batch, 5, r.adm), 0);
    ck_assert_uint_eq(r.adm->nr_admitted, 5);
    ck_assert_uint_eq(r.adm->nr_evicted, 5);
    ck_assert_uint_eq(r.adm->nr_writes, 5);
    hostmem_io_sort(r.adm->writes, r.adm->nr_writes);
    ck_assert_uint_eq(hostmem_io_run(r.adm->writes, r.adm->nr_writes, 0), 5);
    for (uint32_t i = 0; i < 5; i++)
        ck_assert_uint_eq(r.adm->writes[i].slot, i);
    rig_fini(&r);
}
END_TEST

START_TEST(test_hostmem_io_runs_split_at_gaps)
{
    struct hostmem_io io[] = { { 1, 7 }, { 2, 3 }, { 3, 4 }, { 4, 9 }, { 5, 8 }, { 6, 5 } };
    hostmem_io_sort(io, 6);
    ck_assert_uint_eq(io[0].slot, 3);
    ck_assert_uint_eq(hostmem_io_run(io, 6, 0), 3);      /* 3 4 5 */
    ck_assert_uint_eq(hostmem_io_run(io, 6, 3), 3);      /* 7 8 9 */
    ck_assert_uint_eq(hostmem_io_run(io, 6, 6), 0);
}
END_TEST

START_TEST(test_hostmem_swapped_in_clean_frame_keeps_slot_and_needs_no_write)
{
    struct rig r;
    rig_init(&r, 64, 2);
    fault(&r, 5);
    fault(&r, 6);
    fault(&r, 7);                           /* 5 -> slot 0, written */
    ck_assert_uint_eq(hostmem_slot_of(r.hm, 5), 0);
    ck_assert_uint_eq(fault(&r, 5), 6);     /* 5 read back from slot 0 */
    ck_assert_uint_eq(r.adm->nr_reads, 1);
    ck_assert_uint_eq(r.adm->reads[0].slot, 0);
    ck_assert_uint_eq(hostmem_slot_of(r.hm, 5), 0);   /* swap cache */
    fault(&r, 8);                           /* evicts 7 */
    ck_assert_uint_eq(fault(&r, 9), 5);     /* 5 again: clean, no write */
    ck_assert_uint_eq(r.adm->nr_writes, 0);
    ck_assert_uint_eq(hostmem_slot_of(r.hm, 5), 0);
    ck_assert_uint_eq(hostmem_stats(r.hm)->clean_evictions, 1);
    rig_fini(&r);
}
END_TEST

START_TEST(test_hostmem_write_frees_slot_and_next_eviction_writes_at_cursor)
{
    struct rig r;
    rig_init(&r, 64, 2);
    fault(&r, 5);
    fault(&r, 6);
    fault(&r, 7);                           /* 5 -> slot 0 */
    fault(&r, 8);                           /* 6 -> slot 1 */
    fault(&r, 5);                           /* 7 -> slot 2; 5 back, keeps 0 */
    ck_assert_int_eq(hostmem_write(r.hm, 5), 0);
    ck_assert_uint_eq(hostmem_slot_of(r.hm, 5), HOSTMEM_NONE);
    ck_assert_uint_eq(port_backing_frame_of(hostmem_backing(r.hm), 0), HOSTMEM_NONE);
    ck_assert_uint_eq(hostmem_stats(r.hm)->slots_freed, 1);
    fault(&r, 9);                           /* 8 -> slot 3 */
    ck_assert_uint_eq(fault(&r, 10), 5);    /* dirty 5: written to slot 4, not 0 */
    ck_assert_uint_eq(r.adm->nr_writes, 1);
    ck_assert_uint_eq(r.adm->writes[0].slot, 4);
    ck_assert_int_eq(hostmem_write(r.hm, 5), VM_EINVAL);   /* not resident */
    rig_fini(&r);
}
END_TEST

START_TEST(test_hostmem_slot_cursor_wraps_to_freed_slots)
{
    struct rig r;
    struct hostmem_cfg cfg = { .nr_frames = 4, .max_resident = 1, .nr_slots = 4 };
    memset(&r, 0, sizeof(r));
    r.young = vm_bitmap_new(4);
    r.adm = malloc(sizeof(*r.adm));
    ck_assert_int_eq(hostmem_new(&cfg, young_cb, &r, &r.hm, NULL), 0);
    fault(&r, 0);
    fault(&r, 1);                           /* 0 -> 0 */
    fault(&r, 2);                           /* 1 -> 1 */
    fault(&r, 3);                           /* 2 -> 2 */
    fault(&r, 0);                           /* 3 -> 3; 0 back from 0 */
    hostmem_write(r.hm, 0);                 /* frees slot 0 */
    fault(&r, 1);                           /* 0 written: cursor wraps to slot 0 */
    ck_assert_uint_eq(r.adm->writes[0].slot, 0);
    rig_fini(&r);
}
END_TEST

START_TEST(test_hostmem_prefetch_never_evicts_unused_prefetched_frame)
{
    struct rig r;
    rig_init(&r, 64, 8);                    /* 32 KiB: ratio 1, cap 4 */
    uint64_t b1[] = { 0, 1, 2, 3 };         /* 0 faulted, 1..3 prefetched */
    ck_assert_int_eq(hostmem_admit(r.hm, b1, 4, r.adm), 0);
    ck_assert_uint_eq(r.adm->nr_admitted, 4);
    ck_assert(hostmem_is_prefetched(r.hm, 1));
    ck_assert(!hostmem_is_prefetched(r.hm, 0));
    for (uint64_t f = 4; f < 8; f++) {      /* reads in flight: locked */
        fault(&r, f);
        ck_assert_int_eq(hostmem_lock(r.hm, f), 0);
    }
    /* the cap would take one more prefetch; protection leaves only 0 */
    ck_assert_uint_eq(hostmem_room(r.hm), 1);
    uint64_t b2[] = { 10, 11, 12 };
    ck_assert_int_eq(hostmem_admit(r.hm, b2, 3, r.adm), 0);
    /* 10 evicts 0, the only frame neither prefetched-unused nor locked;
     * 11 and 12 would have to evict 1..3, a locked frame or 10: refused */
    ck_assert_uint_eq(r.adm->nr_admitted, 1);
    ck_assert_uint_eq(r.adm->evicted[0], 0);
    ck_assert_uint_eq(hostmem_stats(r.hm)->prefetch_refused, 2);
    ck_assert_uint_eq(hostmem_stats(r.hm)->prefetch_capped, 0);
    ck_assert(hostmem_is_resident(r.hm, 1) && hostmem_is_resident(r.hm, 3));
    /* a use makes a prefetched frame ordinary again, and room grows */
    ck_assert(hostmem_use(r.hm, 2));
    ck_assert(!hostmem_use(r.hm, 2));       /* a hit once */
    ck_assert_uint_eq(hostmem_room(r.hm), 2);
    for (uint64_t f = 4; f < 8; f++)
        hostmem_unlock(r.hm, f);
    ck_assert_uint_eq(hostmem_stats(r.hm)->prefetch_hits, 1);
    ck_assert_uint_eq(hostmem_stats(r.hm)->violations, 0);
    rig_fini(&r);
}
END_TEST

START_TEST(test_hostmem_batch_never_evicts_its_own_frames)
{
    struct rig r;
    rig_init(&r, 64, 4);                    /* cap 2 */
    fault(&r, 0);
    fault(&r, 1);
    hostmem_lock(r.hm, 0);
    hostmem_lock(r.hm, 1);
    /* 7 and 8 fill memory, 9 is within the cap but every resident frame
     * is locked or of this batch: refused, and 10 after it */
    uint64_t b[] = { 7, 8, 9, 10 };
    ck_assert_int_eq(hostmem_admit(r.hm, b, 4, r.adm), 0);
    ck_assert_uint_eq(r.adm->nr_admitted, 2);
    ck_assert_uint_eq(r.adm->nr_evicted, 0);
    ck_assert_uint_eq(hostmem_stats(r.hm)->prefetch_refused, 2);
    ck_assert_uint_eq(hostmem_stats(r.hm)->prefetch_capped, 0);
    hostmem_unlock(r.hm, 0);
    hostmem_unlock(r.hm, 1);
    rig_fini(&r);
}
END_TEST

START_TEST(test_hostmem_fault_may_evict_old_unused_prefetch)
{
    struct rig r;
    rig_init(&r, 64, 4);                    /* cap 2 */
    uint64_t b[] = { 0, 1, 2 };
    ck_assert_int_eq(hostmem_admit(r.hm, b, 3, r.adm), 0);
    fault(&r, 3);                           /* memory full */
    touch(&r, 0);                           /* 0 used and referenced */
    ck_assert_uint_eq(hostmem_room(r.hm), 1);   /* at the cap: the fault only */
    /* the fault must proceed: 0 has a second chance, 1 is an old unused
     * prefetch the clock may take for a fault */
    ck_assert_uint_eq(fault(&r, 5), 1);
    ck_assert_uint_eq(hostmem_stats(r.hm)->prefetch_wasted, 1);
    ck_assert_uint_eq(hostmem_stats(r.hm)->violations, 0);
    rig_fini(&r);
}
END_TEST

START_TEST(test_hostmem_room_bounds_an_untrimmed_batch)
{
    struct rig r;
    rig_init(&r, 256, 16);
    struct vm_rand rnd;
    vm_rand_init(&rnd, 7, 0);
    uint64_t next = 0;
    for (int round = 0; round < 40; round++) {
        uint64_t want = 1 + vm_rand_below(&rnd, 8);
        uint64_t room = hostmem_room(r.hm);
        uint64_t n = want < room ? want : room ? room : 1;
        uint64_t b[8];
        for (uint64_t i = 0; i < n; i++)
            b[i] = next++ % 256;
        for (uint64_t i = 0; i < n; i++)     /* skip resident ones: take new */
            while (hostmem_is_resident(r.hm, b[i]))
                b[i] = next++ % 256;
        ck_assert_int_eq(hostmem_admit(r.hm, b, (uint32_t)n, r.adm), 0);
        ck_assert_uint_eq(r.adm->nr_admitted, n);      /* trimmed to room: never refused */
        if (vm_rand_below(&rnd, 2))
            touch(&r, b[vm_rand_below(&rnd, n)]);
    }
    ck_assert_uint_eq(hostmem_stats(r.hm)->prefetch_refused, 0);
    ck_assert_uint_eq(hostmem_stats(r.hm)->prefetch_capped, 0);
    rig_fini(&r);
}
END_TEST

START_TEST(test_hostmem_inactive_ratio_follows_linux_formula)
{
    ck_assert_uint_eq(hostmem_inactive_ratio(0), 1);
    ck_assert_uint_eq(hostmem_inactive_ratio(512ull << 20), 1);    /* below 1 GiB */
    ck_assert_uint_eq(hostmem_inactive_ratio((1ull << 30) - 1), 1);
    ck_assert_uint_eq(hostmem_inactive_ratio(1ull << 30), 3);      /* sqrt(10) */
    ck_assert_uint_eq(hostmem_inactive_ratio(4ull << 30), 6);      /* sqrt(40) */
    ck_assert_uint_eq(hostmem_inactive_ratio(10ull << 30), 10);    /* exact root */
    ck_assert_uint_eq(hostmem_inactive_ratio(64ull << 30), 25);    /* sqrt(640) */
    ck_assert_uint_eq(hostmem_inactive_ratio(1ull << 40), 101);    /* 1 TiB */
}
END_TEST

START_TEST(test_hostmem_prefetch_cap_from_host_memory_size)
{
    /* 512 MiB of host memory: 1:1, half of it may be unused prefetch */
    struct rig r;
    rig_init(&r, 1u << 17, 1u << 17);
    ck_assert_uint_eq(hostmem_prefetch_cap(r.hm), (1u << 17) / 2);
    rig_fini(&r);
    /* 4 GiB: 1:6 */
    rig_init(&r, 1u << 20, 1u << 20);
    ck_assert_uint_eq(hostmem_prefetch_cap(r.hm), (1u << 20) / 7);
    ck_assert_uint_eq(hostmem_room(r.hm), 1 + (1u << 20) / 7);
    rig_fini(&r);
    /* a config's own ratio wins over the size's */
    struct hostmem *hm;
    struct hostmem_cfg cfg = { .nr_frames = 100, .max_resident = 100, .inactive_ratio = 3 };
    ck_assert_int_eq(hostmem_new(&cfg, young_cb, NULL, &hm, NULL), 0);
    ck_assert_uint_eq(hostmem_prefetch_cap(hm), 25);
    hostmem_free(hm);
}
END_TEST

START_TEST(test_hostmem_huge_prefetch_trimmed_at_cap)
{
    struct rig r;
    rig_init(&r, 4096, 1000);               /* ~4 MiB: ratio 1, cap 500 */
    ck_assert_uint_eq(hostmem_prefetch_cap(r.hm), 500);
    ck_assert_uint_eq(hostmem_room(r.hm), 501);
    uint64_t *b = malloc(HOSTMEM_MAX_BATCH * sizeof(*b));
    ck_assert_ptr_nonnull(b);
    for (uint32_t i = 0; i < HOSTMEM_MAX_BATCH; i++)
        b[i] = i;
    /* untrimmed by the caller: admit() stops at the cap itself */
    ck_assert_int_eq(hostmem_admit(r.hm, b, HOSTMEM_MAX_BATCH, r.adm), 0);
    ck_assert_uint_eq(r.adm->nr_admitted, 501);      /* the fault + 500 */
    ck_assert_uint_eq(hostmem_nr_prefetched(r.hm), 500);
    ck_assert_uint_eq(hostmem_stats(r.hm)->prefetch_capped, HOSTMEM_MAX_BATCH - 501);
    ck_assert_uint_eq(hostmem_stats(r.hm)->prefetch_refused, 0);
    ck_assert(!hostmem_is_resident(r.hm, 501));
    /* at the cap the room is the faulting frame alone */
    ck_assert_uint_eq(hostmem_room(r.hm), 1);
    /* uses free the share: the room follows */
    for (uint64_t f = 1; f <= 10; f++)
        ck_assert(hostmem_use(r.hm, f));
    ck_assert_uint_eq(hostmem_room(r.hm), 11);
    free(b);
    rig_fini(&r);
}
END_TEST

START_TEST(test_hostmem_demand_proceeds_at_cap)
{
    struct rig r;
    rig_init(&r, 64, 8);                    /* cap 4 */
    uint64_t b[] = { 0, 1, 2, 3, 4, 5, 6 };
    ck_assert_int_eq(hostmem_admit(r.hm, b, 7, r.adm), 0);
    ck_assert_uint_eq(r.adm->nr_admitted, 5);        /* 0 + prefetches 1..4 */
    ck_assert_uint_eq(hostmem_stats(r.hm)->prefetch_capped, 2);
    ck_assert_uint_eq(hostmem_room(r.hm), 1);
    /* a batch at the cap: its fault is admitted, its prefetch capped,
     * though memory has free frames */
    uint64_t b2[] = { 40, 41 };
    ck_assert_int_eq(hostmem_admit(r.hm, b2, 2, r.adm), 0);
    ck_assert_uint_eq(r.adm->nr_admitted, 1);
    ck_assert(hostmem_is_resident(r.hm, 40));
    ck_assert_uint_eq(hostmem_stats(r.hm)->prefetch_capped, 3);
    /* demand faults fill memory and go on evicting: never capped */
    for (uint64_t f = 10; f < 30; f++) {
        touch(&r, 0);                       /* the working set stays */
        fault(&r, f);
        ck_assert_uint_le(hostmem_nr_prefetched(r.hm), 4);
    }
    ck_assert_uint_eq(hostmem_stats(r.hm)->demand, 22);
    ck_assert_uint_eq(hostmem_stats(r.hm)->prefetch_capped, 3);
    ck_assert(hostmem_is_resident(r.hm, 0));
    rig_fini(&r);
}
END_TEST

START_TEST(test_hostmem_locked_frame_is_never_evicted_and_full_lock_is_busy)
{
    struct rig r;
    rig_init(&r, 64, 2);
    fault(&r, 0);
    fault(&r, 1);
    ck_assert_int_eq(hostmem_lock(r.hm, 0), 0);        /* its read in flight */
    ck_assert_uint_eq(hostmem_room(r.hm), 1);
    ck_assert_uint_eq(fault(&r, 2), 1);                 /* 0 is older but locked */
    ck_assert_int_eq(hostmem_lock(r.hm, 2), 0);
    uint64_t f = 3;
    struct hostmem_stats before = *hostmem_stats(r.hm);
    ck_assert_int_eq(hostmem_admit(r.hm, &f, 1, r.adm), VM_EBUSY);
    ck_assert_uint_eq(r.adm->nr_admitted, 0);
    ck_assert_uint_eq(hostmem_stats(r.hm)->busy, before.busy + 1);
    ck_assert_uint_eq(hostmem_stats(r.hm)->evictions, before.evictions);
    ck_assert_uint_eq(hostmem_check(r.hm), 0);
    ck_assert_int_eq(hostmem_unlock(r.hm, 0), 0);
    ck_assert_uint_eq(fault(&r, 3), 0);                 /* unlocked: it may go */
    ck_assert_int_eq(hostmem_unlock(r.hm, 2), 0);
    rig_fini(&r);
}
END_TEST

START_TEST(test_hostmem_lock_refuses_absent_or_locked_frames)
{
    struct rig r;
    rig_init(&r, 16, 4);
    fault(&r, 1);
    ck_assert_int_eq(hostmem_lock(r.hm, 2), VM_EINVAL);   /* absent */
    ck_assert_int_eq(hostmem_lock(r.hm, 16), VM_EINVAL);  /* out of range */
    ck_assert_int_eq(hostmem_lock(r.hm, 1), 0);
    ck_assert_int_eq(hostmem_lock(r.hm, 1), VM_EINVAL);   /* locked already */
    ck_assert_int_eq(hostmem_unlock(r.hm, 1), 0);
    ck_assert_int_eq(hostmem_unlock(r.hm, 1), VM_EINVAL); /* not locked */
    ck_assert_int_eq(hostmem_unlock(r.hm, 99), VM_EINVAL);
    rig_fini(&r);
}
END_TEST

START_TEST(test_hostmem_prefetch_never_evicts_locked_frame)
{
    struct rig r;
    rig_init(&r, 64, 3);
    fault(&r, 0);
    fault(&r, 1);
    fault(&r, 2);
    ck_assert_int_eq(hostmem_lock(r.hm, 1), 0);
    ck_assert_int_eq(hostmem_lock(r.hm, 2), 0);
    ck_assert_uint_eq(hostmem_room(r.hm), 1);
    uint64_t b[] = { 10, 11 };
    ck_assert_int_eq(hostmem_admit(r.hm, b, 2, r.adm), 0);
    ck_assert_uint_eq(r.adm->nr_admitted, 1);            /* 10 took 0; 11 refused */
    ck_assert_uint_eq(r.adm->evicted[0], 0);
    ck_assert(hostmem_is_resident(r.hm, 1) && hostmem_is_resident(r.hm, 2));
    hostmem_unlock(r.hm, 1);
    hostmem_unlock(r.hm, 2);
    rig_fini(&r);
}
END_TEST

START_TEST(test_hostmem_broken_evictor_fails_the_check)
{
    struct rig r;
    rig_init(&r, 64, 8);                    /* cap 4 */
    hostmem_test_break_evictor(r.hm, true);
    uint64_t b1[] = { 0, 1, 2, 3 };         /* 3 prefetched */
    ck_assert_int_eq(hostmem_admit(r.hm, b1, 4, r.adm), 0);
    for (uint64_t f = 4; f < 8; f++)
        fault(&r, f);
    uint64_t b2[] = { 10, 11 };
    ck_assert_int_eq(hostmem_admit(r.hm, b2, 2, r.adm), 0);
    /* 10 takes 0; the broken evictor gives 11 the unused prefetch 1 */
    ck_assert_uint_eq(r.adm->nr_admitted, 2);
    ck_assert_uint_eq(r.adm->evicted[1], 1);
    ck_assert_uint_gt(hostmem_stats(r.hm)->violations, 0);
    ck_assert_uint_gt(hostmem_check(r.hm), 0);
    hostmem_free(r.hm);
    vm_bitmap_free(r.young);
    free(r.adm);
}
END_TEST

START_TEST(test_hostmem_broken_evictor_caught_taking_batch_frames)
{
    struct rig r;
    rig_init(&r, 64, 4);                    /* cap 2 */
    fault(&r, 0);
    fault(&r, 1);
    touch(&r, 0);                           /* second chances: the hand */
    touch(&r, 1);                           /* reaches the batch's frames */
    hostmem_test_break_evictor(r.hm, true);
    uint64_t b[] = { 7, 8, 9 };
    ck_assert_int_eq(hostmem_admit(r.hm, b, 3, r.adm), 0);
    ck_assert_uint_eq(r.adm->nr_evicted, 1);
    ck_assert_uint_eq(r.adm->evicted[0], 7);        /* same batch */
    ck_assert_uint_gt(hostmem_check(r.hm), 0);
    hostmem_free(r.hm);
    vm_bitmap_free(r.young);
    free(r.adm);
}
END_TEST

START_TEST(test_hostmem_preload_puts_frames_in_swap_in_order)
{
    struct rig r;
    rig_init(&r, 64, 8);
    for (uint64_t f = 63; f >= 60; f--)
        ck_assert_int_eq(hostmem_preload(r.hm, f), 0);
    ck_assert_uint_eq(hostmem_slot_of(r.hm, 63), 0);
    ck_assert_uint_eq(hostmem_slot_of(r.hm, 60), 3);
    ck_assert_int_eq(hostmem_preload(r.hm, 60), VM_EINVAL);   /* in swap already */
    ck_assert_int_eq(hostmem_preload(r.hm, 64), VM_EINVAL);   /* out of range */
    fault(&r, 1);
    ck_assert_int_eq(hostmem_preload(r.hm, 1), VM_EINVAL);    /* resident */
    uint64_t b[] = { 61, 62 };
    ck_assert_int_eq(hostmem_admit(r.hm, b, 2, r.adm), 0);
    ck_assert_uint_eq(r.adm->nr_reads, 2);
    ck_assert_uint_eq(r.adm->reads[0].slot, 2);
    ck_assert_uint_eq(r.adm->reads[1].slot, 1);
    ck_assert_uint_eq(hostmem_stats(r.hm)->first_touch, 1);
    rig_fini(&r);
}
END_TEST

START_TEST(test_hostmem_backing_port_answers_as_the_model)
{
    struct rig r;
    rig_init(&r, 16, 2);
    struct port_backing *b = hostmem_backing(r.hm);
    ck_assert_uint_eq(port_backing_nr_frames(b), 16);
    ck_assert_uint_eq(port_backing_nr_slots(b), 16);
    fault(&r, 3);
    fault(&r, 4);
    fault(&r, 5);                           /* 3 -> slot 0 */
    ck_assert(!port_backing_is_resident(b, 3));
    ck_assert(port_backing_is_resident(b, 5));
    ck_assert(!port_backing_is_resident(b, 99));
    ck_assert_uint_eq(port_backing_slot_of(b, 3), 0);
    ck_assert_uint_eq(port_backing_slot_of(b, 5), HOSTMEM_NONE);
    ck_assert_uint_eq(port_backing_frame_of(b, 0), 3);
    ck_assert_uint_eq(port_backing_frame_of(b, 1), HOSTMEM_NONE);
    ck_assert_uint_eq(port_backing_frame_of(b, 999), HOSTMEM_NONE);
    rig_fini(&r);
}
END_TEST

START_TEST(test_hostmem_bad_config_refused_with_message)
{
    struct hostmem *hm = (struct hostmem *)1;
    struct vm_diag d;
    struct { struct hostmem_cfg cfg; const char *key; } cases[] = {
        { { .nr_frames = 0, .max_resident = 1 }, "'nr_frames'" },
        { { .nr_frames = 8, .max_resident = 0 }, "'max_resident'" },
        { { .nr_frames = 8, .max_resident = 9 }, "'max_resident'" },
        { { .nr_frames = 8, .max_resident = 4, .nr_slots = 7 }, "'nr_slots'" },
        { { .nr_frames = HOSTMEM_MAX_FRAMES + 1, .max_resident = 4 }, "'nr_frames'" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vm_diag_clear(&d);
        ck_assert_int_eq(hostmem_new(&cases[i].cfg, young_cb, NULL, &hm, &d), VM_EINVAL);
        ck_assert_ptr_null(hm);
        ck_assert_msg(strstr(d.msg, cases[i].key) != NULL, "case %zu: %s", i, d.msg);
    }
    struct hostmem_cfg ok = { .nr_frames = 8, .max_resident = 4 };
    ck_assert_int_eq(hostmem_new(&ok, NULL, NULL, &hm, NULL), VM_EINVAL);
}
END_TEST

START_TEST(test_hostmem_bad_batch_refused_and_nothing_changes)
{
    struct rig r;
    rig_init(&r, 16, 4);
    fault(&r, 2);
    struct hostmem_stats before = *hostmem_stats(r.hm);
    uint64_t dup[] = { 5, 6, 5 };
    uint64_t res[] = { 5, 2 };
    uint64_t out[] = { 5, 16 };
    ck_assert_int_eq(hostmem_admit(r.hm, dup, 3, r.adm), VM_EINVAL);
    ck_assert_uint_eq(r.adm->nr_admitted, 0);
    ck_assert_int_eq(hostmem_admit(r.hm, res, 2, r.adm), VM_EINVAL);
    ck_assert_int_eq(hostmem_admit(r.hm, out, 2, r.adm), VM_EINVAL);
    ck_assert_int_eq(hostmem_admit(r.hm, dup, 0, r.adm), VM_EINVAL);
    ck_assert_int_eq(hostmem_admit(r.hm, dup, HOSTMEM_MAX_BATCH + 1, r.adm), VM_EINVAL);
    ck_assert(memcmp(&before, hostmem_stats(r.hm), sizeof(before)) == 0);
    ck_assert_uint_eq(hostmem_nr_resident(r.hm), 1);
    ck_assert(!hostmem_is_resident(r.hm, 5));
    ck_assert_int_eq(hostmem_write(r.hm, 16), VM_EINVAL);
    ck_assert(!hostmem_use(r.hm, 16));
    fault(&r, 5);                           /* the refused frames are admissible */
    rig_fini(&r);
}
END_TEST

/* A long random run: faults with prefetch batches trimmed to the room,
 * reads and writes setting referenced bits; every invariant holds, memory
 * stays bounded, and the counts add up. */
START_TEST(test_hostmem_random_run_keeps_invariants)
{
    struct rig r;
    const uint64_t nr = 4096, max = 512;
    rig_init(&r, nr, max);
    struct vm_rand rnd;
    vm_rand_init(&rnd, 42, 1);
    uint64_t b[64];
    for (int step = 0; step < 20000; step++) {
        uint64_t f = vm_rand_below(&rnd, nr);
        if (hostmem_is_resident(r.hm, f)) {
            touch(&r, f);
            if (vm_rand_below(&rnd, 4) == 0)
                ck_assert_int_eq(hostmem_write(r.hm, f), 0);
            continue;
        }
        uint64_t room = hostmem_room(r.hm);
        uint32_t n = 1;
        b[0] = f;
        for (uint64_t g = f + 1; g < nr && n < 64 && n < room; g++)
            if (!hostmem_is_resident(r.hm, g))
                b[n++] = g;
        ck_assert_int_eq(hostmem_admit(r.hm, b, n, r.adm), 0);
        ck_assert_uint_eq(r.adm->nr_admitted, n);
        ck_assert_uint_le(hostmem_nr_resident(r.hm), max);
        touch(&r, f);
        if (step % 2000 == 0)
            ck_assert_uint_eq(hostmem_check(r.hm), 0);
    }
    const struct hostmem_stats *st = hostmem_stats(r.hm);
    ck_assert_uint_eq(st->admitted - st->evictions, hostmem_nr_resident(r.hm));
    ck_assert_uint_eq(st->evictions, st->writes + st->clean_evictions);
    ck_assert_uint_eq(st->admitted, st->reads + st->first_touch);
    ck_assert_uint_eq(st->admitted, st->demand + st->prefetched);
    ck_assert_uint_gt(st->clean_evictions, 0);
    ck_assert_uint_gt(st->prefetch_hits, 0);
    ck_assert_uint_eq(st->violations, 0);
    rig_fini(&r);
}
END_TEST

static Suite *hostmem_suite(void)
{
    Suite *s = suite_create("hostmem");
    TCase *tc = tcase_create("clock");
    tcase_add_test(tc, test_hostmem_unreferenced_frames_leave_in_admission_order);
    tcase_add_test(tc, test_hostmem_referenced_frame_gets_second_chance_and_loses_bit);
    tcase_add_test(tc, test_hostmem_all_referenced_evicts_after_one_round);
    suite_add_tcase(s, tc);
    tc = tcase_create("swap");
    tcase_add_test(tc, test_hostmem_slots_taken_in_eviction_order);
    tcase_add_test(tc, test_hostmem_batch_evictions_write_one_run);
    tcase_add_test(tc, test_hostmem_io_runs_split_at_gaps);
    tcase_add_test(tc, test_hostmem_swapped_in_clean_frame_keeps_slot_and_needs_no_write);
    tcase_add_test(tc, test_hostmem_write_frees_slot_and_next_eviction_writes_at_cursor);
    tcase_add_test(tc, test_hostmem_slot_cursor_wraps_to_freed_slots);
    tcase_add_test(tc, test_hostmem_preload_puts_frames_in_swap_in_order);
    suite_add_tcase(s, tc);
    tc = tcase_create("prefetch");
    tcase_add_test(tc, test_hostmem_prefetch_never_evicts_unused_prefetched_frame);
    tcase_add_test(tc, test_hostmem_batch_never_evicts_its_own_frames);
    tcase_add_test(tc, test_hostmem_fault_may_evict_old_unused_prefetch);
    tcase_add_test(tc, test_hostmem_room_bounds_an_untrimmed_batch);
    tcase_add_test(tc, test_hostmem_locked_frame_is_never_evicted_and_full_lock_is_busy);
    tcase_add_test(tc, test_hostmem_lock_refuses_absent_or_locked_frames);
    tcase_add_test(tc, test_hostmem_prefetch_never_evicts_locked_frame);
    tcase_add_test(tc, test_hostmem_inactive_ratio_follows_linux_formula);
    tcase_add_test(tc, test_hostmem_prefetch_cap_from_host_memory_size);
    tcase_add_test(tc, test_hostmem_huge_prefetch_trimmed_at_cap);
    tcase_add_test(tc, test_hostmem_demand_proceeds_at_cap);
    tcase_add_test(tc, test_hostmem_broken_evictor_fails_the_check);
    tcase_add_test(tc, test_hostmem_broken_evictor_caught_taking_batch_frames);
    suite_add_tcase(s, tc);
    tc = tcase_create("port_and_input");
    tcase_add_test(tc, test_hostmem_backing_port_answers_as_the_model);
    tcase_add_test(tc, test_hostmem_bad_config_refused_with_message);
    tcase_add_test(tc, test_hostmem_bad_batch_refused_and_nothing_changes);
    tcase_add_test(tc, test_hostmem_random_run_keeps_invariants);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(hostmem_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
