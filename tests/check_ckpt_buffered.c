/*
 * check_ckpt_buffered.c - Check suite "ckpt", the buffered policy and
 * zero pages: the buffered save policy (US9053064B2: blocks copied into a
 * staging buffer on a first write, N per storage block) and its broken
 * twin, and how every save policy treats zero pages, run against the fake
 * ports in tests/fakes through the rig of ckpt_rig.h.  Stopcopy, lazypage
 * and the write errors are check_ckpt_baselines.c; the file format is
 * check_ckpt_file.c; the live baselines as QEMU runs them (bgsnap,
 * precopy) are check_ckpt_live.c; the restore side is
 * check_ckpt_restore_*.c.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "base/vm_fp.h"
#include "base/vm_rand.h"
#include "base/vm_units.h"
#include "checkpoint/ckpt.h"
#include "checkpoint/ckpt_file.h"
#include "fakes/fake_blk.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_mem.h"

#include "ckpt_rig.h"

/* ---- buffered ---- */

static void buffered_cfg(struct rig *r, uint32_t B, uint32_t N, uint32_t nr_buffers)
{
    r->cfg.block_pages = B;
    r->cfg.sblock_blocks = N;
    r->cfg.nr_buffers = nr_buffers;
}

START_TEST(test_ckpt_buffered_flushes_one_storage_block_at_n)
{
    struct rig r;
    rig_init(&r, "buffered", 64, 256);
    buffered_cfg(&r, 4, 4, 2);
    rig_start(&r);
    /* writes to blocks 0, 5, 2: three blocks in the buffer, nothing written */
    ck_assert_int_eq(vcpu(&r, 1, true), 0);
    ck_assert_int_eq(vcpu(&r, 21, true), 0);
    ck_assert_int_eq(vcpu(&r, 10, true), 0);
    ck_assert_uint_eq(fake_blk_log_len(r.dev), 0);
    ck_assert_uint_eq(stats(&r)->pages_copied_fault, 12);
    /* the 4th block fills it: ONE write of N*B = 16 blocks */
    ck_assert_int_eq(vcpu(&r, 63, true), 0);
    ck_assert_uint_eq(fake_blk_log_len(r.dev), 1);
    const struct fake_blk_logent *e = fake_blk_log_at(r.dev, 0);
    ck_assert_int_eq(e->op, PORT_BLK_WRITE);
    ck_assert_uint_eq(e->lba, CKPT_DATA_LBA);
    ck_assert_uint_eq(e->nr_blocks, 16);
    ck_assert_int_eq(port_blk_req_ios(&(struct port_blk_req){ .nr_ios = e->nr_ios }), 1);
    ck_assert_int_eq(e->packed, 0);
    ck_assert_uint_eq(stats(&r)->write_reqs, 1);
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);
    /* 16 blocks in 4 storage blocks, then maps, then header */
    ck_assert_uint_eq(stats(&r)->write_reqs, 4 + 2);
    ck_assert_uint_eq(stats(&r)->faults, 4);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_buffered_write_to_unsaved_page_copies_block_first)
{
    struct rig r;
    rig_init(&r, "buffered", 64, 256);
    buffered_cfg(&r, 8, 2, 2);
    rig_start(&r);
    ck_assert_int_eq(fake_mem_guest_access(r.mem, 13, true), VM_EBUSY);  /* traced */
    ck_assert_int_eq(r.pol->fault(r.s, 13, true), 0);
    /* the whole block 8..15 is captured and untraced, its neighbours not */
    ck_assert_uint_eq(stats(&r)->pages_copied_fault, 8);
    for (uint64_t p = 8; p < 16; p++)
        ck_assert_int_eq(fake_mem_trace_of(r.mem, p), PORT_MEM_TRACE_NONE);
    ck_assert_int_eq(fake_mem_trace_of(r.mem, 7), PORT_MEM_TRACE_WRITE);
    ck_assert_int_eq(fake_mem_trace_of(r.mem, 16), PORT_MEM_TRACE_WRITE);
    /* now the access proceeds, and later writes to the block don't trap */
    ck_assert_int_eq(fake_mem_guest_access(r.mem, 13, true), 0);
    for (uint64_t p = 8; p < 16; p++)
        ck_assert_int_eq(fake_mem_guest_access(r.mem, p, true), 0);
    ck_assert_uint_eq(stats(&r)->faults, 1);
    ck_assert_int_eq(drive(&r), 0);
    /* the image holds the pre-write content of all B pages */
    assert_image_ok(&r);
    ck_assert_uint_ne(r.mem->fp[13], r.snap[13]);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_buffered_cow_ordering_under_interleaving)
{
    int seed = _i;
    struct rig r;
    rig_init(&r, "buffered", 500, 1024);
    buffered_cfg(&r, 1 + (uint32_t)seed % 8, 2 + (uint32_t)seed % 5, 1 + (uint32_t)seed % 3);
    r.cfg.compress = seed % 2;
    r.cfg.trace = seed % 3 == 0 ? CKPT_TRACE_RW : CKPT_TRACE_WRITE;
    r.cfg.grouping = seed % 4 == 1 ? CKPT_GROUP_ABITS : CKPT_GROUP_GPA;
    if (seed % 3 == 2)
        fake_mem_set_zero(r.mem, 100, 150);
    struct vm_rand rnd;
    vm_rand_init(&rnd, (uint64_t)seed, 7);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(vcpu(&r, vm_rand_below(&rnd, 500), false), 0);
    rig_start(&r);
    for (;;) {
        /* guest accesses between every completion and saver step */
        for (int i = 0; i < 3; i++)
            ck_assert_int_eq(vcpu(&r, vm_rand_below(&rnd, 500), vm_rand_below(&rnd, 3) != 0),
                             0);
        if (vm_rand_below(&rnd, 2))
            fake_blk_run_one(r.dev);
        int rc = step_once(&r);
        ck_assert_int_ge(rc, 0);
        if (rc == CKPT_STEP_DONE)
            break;
    }
    assert_image_ok(&r);
    /* every page is copied once, or recorded in a block of zero pages */
    ck_assert_uint_eq(stats(&r)->pages_copied_fault + stats(&r)->pages_copied_bg +
                      stats(&r)->zero_pages, 500);
    ck_assert_uint_eq(stats(&r)->zero_pages > 0, seed % 3 == 2);
    ck_assert_uint_eq(stats(&r)->staging_bytes, 0);
    ck_assert_uint_eq(fake_mem_nr_traced(r.mem), 0);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_buffered_eagain_when_every_buffer_in_flight)
{
    struct rig r;
    rig_init(&r, "buffered", 64, 256);
    buffered_cfg(&r, 4, 2, 1);
    rig_start(&r);
    ck_assert_int_eq(r.pol->fault(r.s, 0, true), 0);
    ck_assert_int_eq(r.pol->fault(r.s, 4, true), 0);     /* buffer full: written */
    ck_assert_uint_eq(fake_blk_nr_queued(r.dev), 1);
    ck_assert_int_eq(r.pol->fault(r.s, 8, true), VM_EAGAIN);
    ck_assert_int_eq(r.pol->fault(r.s, 8, true), VM_EAGAIN);
    ck_assert_uint_eq(stats(&r)->fault_waits, 2);
    ck_assert_int_eq(fake_mem_trace_of(r.mem, 8), PORT_MEM_TRACE_WRITE);  /* still held */
    /* the saver waits too, once it has tested the blocks ahead (none zero) */
    int rc = CKPT_STEP_MORE;
    for (int i = 0; i < 64 && rc == CKPT_STEP_MORE; i++)
        rc = r.pol->step(r.s);
    ck_assert_int_eq(rc, CKPT_STEP_WAIT);
    ck_assert_uint_eq(stats(&r)->pages_copied_bg + stats(&r)->zero_pages_bg, 0);
    ck_assert_uint_eq(fake_blk_run(r.dev), 1);
    ck_assert_int_eq(r.pol->fault(r.s, 8, true), 0);
    ck_assert_uint_eq(stats(&r)->faults, 3);
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_buffered_compression_writes_packed_extents)
{
    struct rig r;
    rig_init(&r, "buffered", 64, 256);
    buffered_cfg(&r, 4, 4, 2);
    r.cfg.compress = true;
    rig_start(&r);
    ck_assert_int_eq(vcpu(&r, 5, true), 0);             /* block 1 on the fault path */
    ck_assert_uint_eq(stats(&r)->compress_in_fault, 4 * 4096);
    ck_assert_int_eq(drive(&r), 0);
    /* storage block i holds blocks {1,0,2,3}, {4..7}, {8..11}, {12..15} */
    static const uint32_t order[16] = { 1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
    uint64_t lba = CKPT_DATA_LBA, data_blocks = 0;
    for (int s = 0; s < 4; s++) {
        uint64_t bytes = 0;
        for (int j = 0; j < 4; j++)
            for (int k = 0; k < 4; k++)
                bytes += fake_mem_page_zbytes(r.snap[order[s * 4 + j] * 4 + k]);
        const struct fake_blk_logent *e = fake_blk_log_at(r.dev, (size_t)s);
        ck_assert_int_eq(e->packed, 1);
        ck_assert_uint_eq(e->lba, lba);
        ck_assert_uint_eq(e->nr_blocks, (bytes + 4095) / 4096);
        ck_assert_uint_eq(e->nr_fps, 16);
        lba += e->nr_blocks;
        data_blocks += e->nr_blocks;
    }
    const struct ckpt_stats *st = stats(&r);
    ck_assert_uint_eq(st->compress_in_fault + st->compress_in_bg, 64 * 4096);
    ck_assert_uint_eq(st->payload_bytes, 64 * 4096);
    ck_assert_uint_eq(st->bytes_written, data_blocks * 4096 + st->meta_bytes);
    ck_assert_uint_lt(data_blocks, 64);
    assert_image_ok(&r);
    struct ckpt_image *img;
    ck_assert_int_eq(ckpt_image_load_store(r.dev->store, &img, NULL), 0);
    ck_assert_uint_eq(img->hdr.compressed, 1);
    struct ckpt_loc loc;
    ck_assert_int_eq(ckpt_image_locate(img, 5, &loc), 0);
    ck_assert(loc.packed);
    ck_assert_uint_eq(loc.extent_lba, CKPT_DATA_LBA);
    ck_assert_uint_eq(loc.index, 1);
    ckpt_image_free(img);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_buffered_abits_puts_accessed_pages_first)
{
    struct rig r;
    rig_init(&r, "buffered", 64, 256);
    buffered_cfg(&r, 4, 2, 2);
    r.cfg.grouping = CKPT_GROUP_ABITS;
    static const uint64_t hot[5] = { 3, 17, 40, 41, 60 };
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(vcpu(&r, hot[i], i % 2), 0);
    rig_start(&r);
    /* the order is 3,17,40,41 | 60,0,1,2 | 4,5,6,7 | ...: a write to hot
     * page 40 copies block 0, the other hot pages with it */
    ck_assert_int_eq(vcpu(&r, 40, true), 0);
    ck_assert_uint_eq(stats(&r)->pages_copied_fault, 4);
    ck_assert_int_eq(fake_mem_trace_of(r.mem, 3), PORT_MEM_TRACE_NONE);
    ck_assert_int_eq(fake_mem_trace_of(r.mem, 17), PORT_MEM_TRACE_NONE);
    ck_assert_int_eq(fake_mem_trace_of(r.mem, 41), PORT_MEM_TRACE_NONE);
    ck_assert_int_eq(fake_mem_trace_of(r.mem, 60), PORT_MEM_TRACE_WRITE);
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);
    struct ckpt_image *img;
    ck_assert_int_eq(ckpt_image_load_store(r.dev->store, &img, NULL), 0);
    ck_assert_uint_eq(img->hdr.grouping, CKPT_GROUP_ABITS);
    for (int i = 0; i < 5; i++)
        ck_assert_uint_eq(img->page_order[i], hot[i]);
    ck_assert_uint_eq(img->page_order[5], 0);
    ck_assert_uint_eq(ckpt_image_page_block(img, 60), 1);
    ck_assert_uint_eq(ckpt_image_page_block(img, 0), 1);
    ck_assert_uint_eq(ckpt_image_page_block(img, 4), 2);
    ckpt_image_free(img);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_buffered_partial_last_storage_block)
{
    struct rig r;
    rig_init(&r, "buffered", 38, 128);        /* 10 blocks, the last of 2 pages */
    buffered_cfg(&r, 4, 4, 2);
    rig_start(&r);
    ck_assert_int_eq(drive(&r), 0);
    ck_assert_uint_eq(fake_blk_log_len(r.dev), 3 + 2);
    ck_assert_uint_eq(fake_blk_log_at(r.dev, 0)->nr_blocks, 16);
    ck_assert_uint_eq(fake_blk_log_at(r.dev, 1)->nr_blocks, 16);
    ck_assert_uint_eq(fake_blk_log_at(r.dev, 2)->nr_blocks, 4 + 2);  /* 2 blocks, 6 pages */
    ck_assert_uint_eq(fake_blk_log_at(r.dev, 2)->lba, 33);
    assert_image_ok(&r);
    struct ckpt_image *img;
    ck_assert_int_eq(ckpt_image_load_store(r.dev->store, &img, NULL), 0);
    ck_assert_uint_eq(img->nr_sblocks, 3);
    ck_assert_uint_eq(img->sblocks[2].nr_members, 2);
    ck_assert_uint_eq(img->hdr.maps_lba, 39);
    ckpt_image_free(img);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_buffered_header_written_last_after_all_data)
{
    struct rig r;
    rig_init(&r, "buffered", 100, 256);
    buffered_cfg(&r, 2, 3, 3);
    rig_start(&r);
    size_t seen_maps = 0;
    for (;;) {
        int rc = step_once(&r);
        ck_assert_int_ge(rc, 0);
        size_t n = fake_blk_log_len(r.dev);
        for (size_t i = 0; i < n; i++) {
            const struct fake_blk_logent *e = fake_blk_log_at(r.dev, i);
            if (e->packed && e->len > 0 && e->lba != 0 && !seen_maps) {
                /* the maps: every data write before it is acknowledged */
                for (size_t j = 0; j < i; j++)
                    ck_assert_int_eq(fake_blk_log_at(r.dev, j)->rc, 0);
                seen_maps = i;
            }
            if (e->lba == 0) {
                ck_assert_uint_eq(i, n - 1);                  /* the last request */
                ck_assert_uint_gt(seen_maps, 0);
                for (size_t j = 0; j < i; j++)
                    ck_assert_int_eq(fake_blk_log_at(r.dev, j)->rc, 0);
            }
        }
        if (rc == CKPT_STEP_DONE)
            break;
        if (fake_blk_log_len(r.dev) && fake_blk_log_at(r.dev, n - 1)->lba != 0)
            ck_assert(!has_header(&r));
    }
    ck_assert(has_header(&r));
    ck_assert_uint_eq(fake_blk_log_at(r.dev, fake_blk_log_len(r.dev) - 1)->lba, 0);
    assert_image_ok(&r);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_buffered_rw_trace_copies_on_reads)
{
    struct rig r;
    rig_init(&r, "buffered", 64, 256);
    buffered_cfg(&r, 4, 2, 2);
    r.cfg.trace = CKPT_TRACE_RW;
    rig_start(&r);
    ck_assert_int_eq(fake_mem_trace_of(r.mem, 30), PORT_MEM_TRACE_RW);
    ck_assert_int_eq(vcpu(&r, 30, false), 0);
    ck_assert_uint_eq(stats(&r)->faults, 1);
    ck_assert_uint_eq(stats(&r)->pages_copied_fault, 4);
    ck_assert_int_eq(vcpu(&r, 29, true), 0);               /* same block: no trap */
    ck_assert_uint_eq(stats(&r)->faults, 1);
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_buffered_write_trace_lets_reads_run)
{
    struct rig r;
    rig_init(&r, "buffered", 64, 256);
    rig_start(&r);                                        /* defaults: trace = write */
    for (uint64_t p = 0; p < 64; p++)
        ck_assert_int_eq(fake_mem_guest_access(r.mem, p, false), 0);
    ck_assert_uint_eq(stats(&r)->faults, 0);
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_buffered_staging_counts_buffers_in_use)
{
    struct rig r;
    rig_init(&r, "buffered", 256, 512);
    buffered_cfg(&r, 4, 4, 3);
    rig_start(&r);
    ck_assert_uint_eq(stats(&r)->staging_bytes, 0);
    ck_assert_int_eq(vcpu(&r, 0, true), 0);
    ck_assert_uint_eq(stats(&r)->staging_bytes, 4 * 4 * 4096);
    /* the saver fills the guest's buffer and submits it, then stops: it
     * keeps one write of its own in flight and leaves a buffer free */
    while (r.pol->step(r.s) == CKPT_STEP_MORE)
        ;
    ck_assert_uint_eq(stats(&r)->staging_bytes, 4 * 4 * 4096);
    ck_assert_uint_eq(fake_blk_nr_queued(r.dev), 1);
    /* the guest still finds staging space: a fault in a new block fills the
     * second buffer, the third stays free */
    ck_assert_int_eq(vcpu(&r, 200, true), 0);
    ck_assert_uint_eq(stats(&r)->staging_bytes, 2 * 4 * 4 * 4096);
    ck_assert_uint_eq(stats(&r)->fault_waits, 0);
    ck_assert_int_eq(drive(&r), 0);
    ck_assert_uint_eq(stats(&r)->staging_bytes, 0);
    ck_assert_uint_le(stats(&r)->staging_bytes_max, 3 * 4 * 4 * 4096);
    ck_assert_uint_ge(stats(&r)->staging_bytes_max, 2 * 4 * 4 * 4096);
    assert_image_ok(&r);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_buffered_stats_count_ios_and_bytes)
{
    struct rig r;
    rig_init(&r, "buffered", 128, 512);
    rig_start(&r);                                        /* B = 16, N = 8 */
    ck_assert_int_eq(drive(&r), 0);
    const struct ckpt_stats *st = stats(&r);
    ck_assert_uint_eq(st->write_reqs, 1 + 2);             /* one storage block */
    ck_assert_uint_eq(st->write_ios, 3);
    ck_assert_uint_eq(st->payload_bytes, 128 * 4096);
    ck_assert_uint_eq(st->pages_copied_bg, 128);
    ck_assert_uint_eq(st->meta_bytes, 2 * 4096);          /* maps fit one block */
    ck_assert_uint_eq(st->bytes_written, 128 * 4096 + 2 * 4096);
    ck_assert_uint_eq(nr_logged_writes(&r), 3);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_buffered_rejects_bad_cfg)
{
    struct rig r;
    rig_init(&r, "buffered", 64, 256);
    struct vm_diag d;
    r.cfg.sblock_blocks = 1;
    vm_diag_clear(&d);
    ck_assert_int_eq(r.pol->start(&r.cfg, &r.env, &r.s, &d), VM_EINVAL);
    ck_assert_ptr_nonnull(strstr(d.msg, "'sblock_blocks'"));
    ck_assert_ptr_null(r.s);
    r.cfg.sblock_blocks = 8;
    r.cfg.block_pages = 0;
    ck_assert_int_eq(r.pol->start(&r.cfg, &r.env, &r.s, NULL), VM_EINVAL);
    r.cfg.block_pages = 16;
    r.cfg.nr_buffers = 0;
    ck_assert_int_eq(r.pol->start(&r.cfg, &r.env, &r.s, NULL), VM_EINVAL);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_buffered_unsafe_image_does_not_match)
{
    struct rig r;
    rig_init(&r, "buffered-unsafe-test", 64, 256);
    ck_assert(r.pol->flags & CKPT_F_HIDDEN);
    buffered_cfg(&r, 4, 2, 2);
    rig_start(&r);
    ck_assert_int_eq(vcpu(&r, 9, true), 0);
    ck_assert_int_eq(vcpu(&r, 33, true), 0);
    ck_assert_uint_eq(stats(&r)->pages_copied_fault, 0);
    ck_assert_int_eq(drive(&r), 0);
    uint64_t mismatch, missing;
    verify(&r, &mismatch, &missing);
    ck_assert_uint_eq(mismatch, 2);
    ck_assert_uint_eq(missing, 0);
    rig_fini(&r);
}
END_TEST

/* The maps leave the policy right and reach the file with one byte
 * flipped: the image does not load, and the reason is the decoder's. */
START_TEST(test_ckpt_buffered_corrupt_maps_image_does_not_load)
{
    struct rig r;
    rig_init(&r, "buffered-corrupt-maps-test", 64, 256);
    ck_assert(r.pol->flags & CKPT_F_HIDDEN);
    buffered_cfg(&r, 4, 2, 2);
    rig_start(&r);
    ck_assert_int_eq(vcpu(&r, 9, true), 0);
    ck_assert_int_eq(drive(&r), 0);
    ck_assert_uint_eq(stats(&r)->write_ios, 64 / 8 + 2);   /* data, maps, header */
    struct ckpt_image *img = NULL;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(ckpt_image_load_store(r.dev->store, &img, &d), VM_ECORRUPT);
    ck_assert_ptr_null(img);
    ck_assert_msg(strstr(d.msg, "checkpoint maps: checksum mismatch"), "%s", d.msg);
    rig_fini(&r);
}
END_TEST

/* ---- zero pages ---- */

/* mapped-ram: a chunk's zero pages stay holes; its non-zero runs are one
 * vectored request, each run one I/O at its own offset. */
START_TEST(test_ckpt_stopcopy_zero_pages_are_holes_and_runs_are_ios)
{
    struct rig r;
    rig_init(&r, "stopcopy", 1000, 1100);
    r.cfg.layout = CKPT_SC_MAPPED_RAM;
    r.cfg.io_pages = 64;
    fake_mem_set_zero(r.mem, 64, 64);            /* chunk 1, whole */
    fake_mem_set_zero(r.mem, 200, 10);           /* chunk 3 = 192..255: runs 192..199, */
    fake_mem_set_zero(r.mem, 250, 10);           /* 210..249, and 256..259 in chunk 4 */
    fake_mem_set_zero(r.mem, 990, 10);           /* chunk 15 = 960..999: one run left */
    rig_start(&r);
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);
    const struct ckpt_stats *st = stats(&r);
    ck_assert_uint_eq(st->zero_pages, 94);
    ck_assert_uint_eq(st->zero_pages_bg, 94);
    ck_assert_uint_eq(st->zero_pages_fault, 0);
    ck_assert_uint_eq(st->pages_copied_bg, 906);
    ck_assert_uint_eq(st->payload_bytes, 906 * 4096ull);
    /* 15 data requests (chunk 1 writes nothing), the zero map, the header */
    ck_assert_uint_eq(st->write_reqs, 15 + 2);
    ck_assert_uint_eq(st->bytes_written, (906 + 2) * 4096ull);
    ck_assert_uint_eq(st->write_ios, 15 + 1 + 2);
    const struct fake_blk_logent *e = fake_blk_log_at(r.dev, 1);
    ck_assert_uint_eq(e->lba, 1 + 128);                  /* chunk 2, as before */
    ck_assert_uint_eq(e->nr_blocks, 64);
    e = fake_blk_log_at(r.dev, 2);                       /* chunk 3: two runs */
    ck_assert_uint_eq(e->lba, 1 + 192);
    ck_assert_uint_eq(e->nr_blocks, 8 + 40);
    ck_assert_uint_eq(e->nr_ios, 2);
    e = fake_blk_log_at(r.dev, 3);                       /* chunk 4 starts at 260 */
    ck_assert_uint_eq(e->lba, 1 + 260);
    ck_assert_uint_eq(e->nr_blocks, 60);
    ck_assert_uint_le(e->nr_ios, 1);
    e = fake_blk_log_at(r.dev, 14);                      /* chunk 15: one run */
    ck_assert_uint_eq(e->lba, 1 + 960);
    ck_assert_uint_eq(e->nr_blocks, 30);
    ck_assert_uint_le(e->nr_ios, 1);
    /* the holes hold nothing; the file holds the non-zero pages and meta */
    uint64_t fp = 1;
    ck_assert_int_eq(vm_fpstore_get(r.dev->store, 1 + 205, 1, &fp), 0);
    ck_assert_uint_eq(fp, 0);
    uint64_t end = 0;
    ck_assert_uint_eq(vm_fpstore_blocks_used(r.dev->store, &end), 906 + 2);
    ck_assert_uint_eq(end, 1 + 1000 + 1);                /* maps after the data */
    rig_fini(&r);
}
END_TEST

/* Off, every policy saves memory with zero pages exactly as a save with
 * the feature on saves memory without them: the same requests, in order.
 * _i: stopcopy, lazypage, bgsnap, precopy, buffered (uncompressed: the
 * fake's compressed sizes depend on the content). */
START_TEST(test_ckpt_every_policy_without_zero_pages_writes_them_as_before)
{
    static const char *const pols[] = { "stopcopy", "lazypage", "bgsnap", "precopy",
                                        "buffered" };
    struct rig a, b;
    rig_init(&a, pols[_i], 300, 1024);
    rig_init(&b, pols[_i], 300, 1024);
    a.cfg.zero_pages = false;
    ck_assert(b.cfg.zero_pages);                         /* on by default */
    fake_mem_set_zero(a.mem, 0, 300);
    rig_start(&a);
    rig_start(&b);
    ck_assert_int_eq(drive(&a), 0);
    ck_assert_int_eq(drive(&b), 0);
    assert_image_ok(&a);
    assert_image_ok(&b);
    const struct ckpt_stats *sa = stats(&a), *sb = stats(&b);
    ck_assert_uint_eq(sa->zero_pages, 0);
    ck_assert_uint_eq(sa->zero_pages_bg + sa->zero_pages_fault, 0);
    ck_assert_uint_eq(sa->bytes_written, sb->bytes_written);
    ck_assert_uint_eq(sa->write_ios, sb->write_ios);
    ck_assert_uint_eq(sa->payload_bytes, 300 * 4096ull);
    ck_assert_uint_eq(fake_blk_log_len(a.dev), fake_blk_log_len(b.dev));
    for (size_t i = 0; i < fake_blk_log_len(a.dev); i++) {
        const struct fake_blk_logent *x = fake_blk_log_at(a.dev, i), *y = fake_blk_log_at(b.dev, i);
        ck_assert_uint_eq(x->lba, y->lba);
        ck_assert_uint_eq(x->nr_blocks, y->nr_blocks);
        ck_assert_uint_eq(x->nr_ios, y->nr_ios);
        ck_assert_uint_eq(x->len, y->len);
    }
    rig_fini(&a);
    rig_fini(&b);
}
END_TEST

START_TEST(test_ckpt_lazypage_zero_pages_take_no_bounce_page_and_no_write)
{
    struct rig r;
    rig_init(&r, "lazypage", 300, 400);
    r.cfg.io_pages = 1;
    r.cfg.io_depth = 1;
    fake_mem_set_zero(r.mem, 100, 50);
    rig_start(&r);
    ck_assert_int_eq(r.pol->fault(r.s, 10, true), 0);    /* fills the one bounce page */
    ck_assert_int_eq(r.pol->fault(r.s, 20, true), VM_EAGAIN);
    /* a zero page needs none: recorded, untraced, the write proceeds */
    ck_assert_int_eq(r.pol->fault(r.s, 120, true), 0);
    ck_assert_int_eq(fake_mem_guest_access(r.mem, 120, true), 0);
    ck_assert_int_eq(fake_mem_trace_of(r.mem, 121), PORT_MEM_TRACE_WRITE);
    const struct ckpt_stats *st = stats(&r);
    ck_assert_uint_eq(st->zero_pages_fault, 1);
    ck_assert_uint_eq(st->pages_copied_fault, 1);
    ck_assert_uint_eq(st->faults, 2);
    ck_assert_uint_eq(st->fault_waits, 1);
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);                                 /* page 120 as it was: zero */
    ck_assert_uint_ne(r.mem->fp[120], VM_FP_ZERO);
    ck_assert_uint_eq(st->zero_pages, 50);
    ck_assert_uint_eq(st->zero_pages_bg, 49);
    ck_assert_uint_eq(st->pages_copied_fault + st->pages_copied_bg, 250);
    /* one 4 KiB I/O per non-zero page, the zero map and the header */
    ck_assert_uint_eq(st->write_ios, 250 + 2);
    ck_assert_uint_eq(vm_fpstore_blocks_used(r.dev->store, NULL), 250 + 2);
    rig_fini(&r);
}
END_TEST

/* A block of zero pages is recorded, not staged (a fault on it needs no
 * buffer); a block with a non-zero page is staged whole, and the test of
 * its pages stops at the first non-zero one.  _i: compressed or not. */
START_TEST(test_ckpt_buffered_zero_blocks_are_not_staged)
{
    struct rig r;
    rig_init(&r, "buffered", 64, 256);
    buffered_cfg(&r, 4, 2, 1);
    r.cfg.compress = _i;
    fake_mem_set_zero(r.mem, 8, 16);             /* blocks 2..5 */
    fake_mem_set_zero(r.mem, 33, 3);             /* block 8: 32 has data, then zeros */
    fake_mem_set_zero(r.mem, 40, 3);             /* block 10: 3 zeros, then data */
    rig_start(&r);
    ck_assert_int_eq(r.pol->fault(r.s, 0, true), 0);
    ck_assert_int_eq(r.pol->fault(r.s, 4, true), 0);     /* the only buffer: written */
    ck_assert_uint_eq(fake_blk_nr_queued(r.dev), 1);
    ck_assert_int_eq(r.pol->fault(r.s, 24, true), VM_EAGAIN);
    ck_assert_int_eq(r.pol->fault(r.s, 9, true), 0);     /* block 2: no buffer needed */
    for (uint64_t p = 8; p < 12; p++)
        ck_assert_int_eq(fake_mem_trace_of(r.mem, p), PORT_MEM_TRACE_NONE);
    ck_assert_int_eq(fake_mem_trace_of(r.mem, 12), PORT_MEM_TRACE_WRITE);
    ck_assert_uint_eq(stats(&r)->zero_pages_fault, 4);
    ck_assert_uint_eq(stats(&r)->fault_waits, 1);
    ck_assert_int_eq(fake_mem_guest_access(r.mem, 9, true), 0);
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);
    const struct ckpt_stats *st = stats(&r);
    ck_assert_uint_eq(st->zero_pages, 16);
    /* blocks 3..5, and the 3 zero pages block 10's test passed */
    ck_assert_uint_eq(st->zero_pages_bg, 12 + 3);
    ck_assert_uint_eq(st->pages_copied_fault + st->pages_copied_bg, 64 - 16);
    ck_assert_uint_eq(st->payload_bytes, (64 - 16) * 4096ull);
    struct ckpt_image *img = NULL;
    ck_assert_int_eq(ckpt_image_load_store(r.dev->store, &img, NULL), 0);
    ck_assert_uint_eq(img->block_sblock[2], CKPT_NO_SBLOCK);
    ck_assert_uint_ne(img->block_sblock[8], CKPT_NO_SBLOCK);   /* mixed: stored whole */
    ck_assert(!ckpt_image_is_zero(img, 33));
    ck_assert(ckpt_image_is_zero(img, 20));
    ck_assert_uint_eq(img->nr_sblocks, 6);                     /* 12 blocks, 2 each */
    ckpt_image_free(img);
    rig_fini(&r);
}
END_TEST

/* A saver that waits for staging space records the zero blocks ahead of
 * the block it waits with meanwhile, without a completion. */
START_TEST(test_ckpt_buffered_saver_records_zero_blocks_while_it_waits)
{
    struct rig r;
    rig_init(&r, "buffered", 64, 256);
    buffered_cfg(&r, 4, 2, 2);
    fake_mem_set_zero(r.mem, 12, 40);            /* blocks 3..12 */
    rig_start(&r);
    ck_assert_int_eq(r.pol->step(r.s), CKPT_STEP_MORE);   /* blocks 0, 1: written */
    ck_assert_uint_eq(fake_blk_nr_queued(r.dev), 1);
    /* block 2 waits behind the saver's write; blocks 3 and 4 are recorded */
    ck_assert_int_eq(r.pol->step(r.s), CKPT_STEP_MORE);
    ck_assert_uint_eq(stats(&r)->zero_pages_bg, 8);
    ck_assert_int_eq(fake_mem_trace_of(r.mem, 19), PORT_MEM_TRACE_NONE);
    ck_assert_int_eq(fake_mem_trace_of(r.mem, 20), PORT_MEM_TRACE_WRITE);
    for (int i = 0; i < 4; i++)                           /* ... two a step, to block 12 */
        ck_assert_int_eq(r.pol->step(r.s), CKPT_STEP_MORE);
    ck_assert_uint_eq(stats(&r)->zero_pages_bg, 40);
    /* blocks 13..15 have data: tested, left for their turn; then nothing */
    ck_assert_int_eq(r.pol->step(r.s), CKPT_STEP_MORE);
    ck_assert_int_eq(fake_mem_trace_of(r.mem, 60), PORT_MEM_TRACE_WRITE);
    ck_assert_int_eq(r.pol->step(r.s), CKPT_STEP_WAIT);
    ck_assert_uint_eq(fake_blk_nr_queued(r.dev), 1);
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);
    ck_assert_uint_eq(stats(&r)->zero_pages, 40);
    ck_assert_uint_eq(stats(&r)->pages_copied_bg, 24);
    rig_fini(&r);
}
END_TEST

static Suite *ckpt_suite(void)
{
    Suite *s = suite_create("ckpt");

    TCase *tb = tcase_create("buffered");
    tcase_add_test(tb, test_ckpt_buffered_flushes_one_storage_block_at_n);
    tcase_add_test(tb, test_ckpt_buffered_write_to_unsaved_page_copies_block_first);
    tcase_add_loop_test(tb, test_ckpt_buffered_cow_ordering_under_interleaving, 0, 12);
    tcase_add_test(tb, test_ckpt_buffered_eagain_when_every_buffer_in_flight);
    tcase_add_test(tb, test_ckpt_buffered_compression_writes_packed_extents);
    tcase_add_test(tb, test_ckpt_buffered_abits_puts_accessed_pages_first);
    tcase_add_test(tb, test_ckpt_buffered_partial_last_storage_block);
    tcase_add_test(tb, test_ckpt_buffered_header_written_last_after_all_data);
    tcase_add_test(tb, test_ckpt_buffered_rw_trace_copies_on_reads);
    tcase_add_test(tb, test_ckpt_buffered_write_trace_lets_reads_run);
    tcase_add_test(tb, test_ckpt_buffered_staging_counts_buffers_in_use);
    tcase_add_test(tb, test_ckpt_buffered_stats_count_ios_and_bytes);
    tcase_add_test(tb, test_ckpt_buffered_rejects_bad_cfg);
    tcase_add_test(tb, test_ckpt_buffered_unsafe_image_does_not_match);
    tcase_add_test(tb, test_ckpt_buffered_corrupt_maps_image_does_not_load);
    suite_add_tcase(s, tb);

    TCase *tp = tcase_create("baselines");
    tcase_add_test(tp, test_ckpt_stopcopy_zero_pages_are_holes_and_runs_are_ios);
    tcase_add_test(tp, test_ckpt_lazypage_zero_pages_take_no_bounce_page_and_no_write);
    tcase_add_loop_test(tp, test_ckpt_buffered_zero_blocks_are_not_staged, 0, 2);
    tcase_add_test(tp, test_ckpt_buffered_saver_records_zero_blocks_while_it_waits);
    tcase_add_loop_test(tp, test_ckpt_every_policy_without_zero_pages_writes_them_as_before, 0, 5);
    suite_add_tcase(s, tp);

    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ckpt_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
