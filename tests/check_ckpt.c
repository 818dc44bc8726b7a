/*
 * check_ckpt.c - Check suite "ckpt": the save policies stopcopy,
 * lazypage, buffered and its broken twin, and every policy under write
 * errors, run against the fake ports in tests/fakes through the rig of
 * ckpt_rig.h.  The file format is check_ckpt_file.c; the live baselines
 * as QEMU runs them (bgsnap, precopy) are check_ckpt_live.c; the restore
 * side is check_ckpt_restore.c.
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

/* ---- stopcopy ---- */

/* mapped-ram: page p at block data_lba + p, in GPA-order chunks */
START_TEST(test_ckpt_stopcopy_image_equals_memory)
{
    struct rig r;
    rig_init(&r, "stopcopy", 1000, 1100);
    r.cfg.layout = CKPT_SC_MAPPED_RAM;
    r.cfg.io_pages = 64;
    r.cfg.io_depth = 3;
    rig_start(&r);
    ck_assert(r.pol->flags & CKPT_F_STUN_ALL);
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);
    const struct ckpt_stats *st = stats(&r);
    ck_assert_uint_eq(st->write_reqs, 16 + 1);            /* ceil(1000/64) + header */
    ck_assert_uint_eq(st->bytes_written, 1000 * 4096 + 4096);
    ck_assert_uint_eq(st->meta_bytes, 4096);
    ck_assert_uint_eq(st->pages_copied_bg, 1000);
    ck_assert_uint_eq(r.max_queued, 3);
    ck_assert_uint_eq(st->staging_bytes_max, 3 * 64 * 4096);
    /* GPA order, contiguous chunks */
    for (size_t i = 0; i < 16; i++)
        ck_assert_uint_eq(fake_blk_log_at(r.dev, i)->lba, 1 + 64 * i);
    rig_fini(&r);
}
END_TEST

/* stream (the default, QEMU's legacy stream): the non-zero pages are
 * packed in GPA order into requests of io_pages pages appended one after
 * another, whatever the zero pages between them; the page map says where
 * each went, the zero map holds the zero pages. */
START_TEST(test_ckpt_stopcopy_stream_packs_non_zero_pages)
{
    struct rig r;
    rig_init(&r, "stopcopy", 1000, 1100);
    ck_assert_int_eq(r.cfg.layout, CKPT_SC_STREAM);      /* the default */
    r.cfg.io_pages = 64;
    r.cfg.io_depth = 3;
    fake_mem_set_zero(r.mem, 64, 64);
    fake_mem_set_zero(r.mem, 200, 10);
    fake_mem_set_zero(r.mem, 250, 10);
    fake_mem_set_zero(r.mem, 990, 10);
    rig_start(&r);
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);
    const struct ckpt_stats *st = stats(&r);
    ck_assert_uint_eq(st->zero_pages, 94);
    ck_assert_uint_eq(st->pages_copied_bg, 906);
    /* ceil(906 / 64) = 15 requests of one I/O each, then the maps extent
     * (the page map and the zero map: 2 blocks) and the header */
    ck_assert_uint_eq(st->write_reqs, 15 + 2);
    ck_assert_uint_eq(st->write_ios, 15 + 2);
    ck_assert_uint_eq(st->bytes_written, (906 + 2 + 1) * 4096ull);
    ck_assert_uint_le(r.max_queued, 3);
    for (size_t i = 0; i < 15; i++) {
        const struct fake_blk_logent *e = fake_blk_log_at(r.dev, i);
        ck_assert_uint_eq(e->lba, 1 + 64 * i);            /* appended */
        ck_assert_uint_eq(e->nr_blocks, i < 14 ? 64 : 906 - 14 * 64);
        ck_assert_uint_le(e->nr_ios, 1);
    }
    struct ckpt_image *img = NULL;
    struct vm_diag d;
    ck_assert_int_eq(ckpt_image_load_store(r.dev->store, &img, &d), 0);
    ck_assert_uint_eq(img->hdr.layout, CKPT_LAYOUT_STREAM);
    ck_assert_uint_eq(img->page_lba[63], 1 + 63);
    ck_assert_uint_eq(img->page_lba[128], 1 + 64);       /* after the 64 zero pages */
    ck_assert_uint_eq(img->page_lba[210], 1 + 200 - 64);
    ck_assert_uint_eq(ckpt_image_nr_zero(img), 94);
    ckpt_image_free(img);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_stopcopy_small_file_is_enospc)
{
    struct rig r;
    rig_init(&r, "stopcopy", 100, 100);
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(r.pol->start(&r.cfg, &r.env, &r.s, &d), VM_ENOSPC);
    ck_assert_int_eq(d.code, VM_ENOSPC);
    rig_fini(&r);
}
END_TEST

/* ---- lazypage ---- */

START_TEST(test_ckpt_lazypage_one_io_per_page)
{
    struct rig r;
    rig_init(&r, "lazypage", 300, 400);
    rig_start(&r);                                        /* io_pages 64, depth 4 */
    ck_assert_int_eq(fake_mem_nr_traced(r.mem), 300);
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);
    const struct ckpt_stats *st = stats(&r);
    ck_assert_uint_eq(st->write_ios, 300 + 1);            /* one I/O per page + header */
    ck_assert_uint_eq(st->write_reqs, 5 + 1);             /* runs of 64 */
    ck_assert_uint_eq(fake_blk_log_at(r.dev, 0)->nr_ios, 64);
    ck_assert_uint_eq(r.dev->nr_write_ios, 301);
    ck_assert_uint_eq(fake_mem_nr_traced(r.mem), 0);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_lazypage_fault_copies_single_page)
{
    struct rig r;
    rig_init(&r, "lazypage", 100, 200);
    rig_start(&r);
    ck_assert_int_eq(vcpu(&r, 50, true), 0);
    ck_assert_uint_eq(stats(&r)->pages_copied_fault, 1);
    ck_assert_int_eq(fake_mem_trace_of(r.mem, 49), PORT_MEM_TRACE_WRITE);
    ck_assert_int_eq(fake_mem_trace_of(r.mem, 51), PORT_MEM_TRACE_WRITE);
    ck_assert_int_eq(vcpu(&r, 50, true), 0);              /* no second trap */
    ck_assert_uint_eq(stats(&r)->faults, 1);
    /* the bounce page waits in its buffer; the saver's requests skip it:
     * 0..49 + 51..64 (64 pages, vectored), then 65..99, then the partial
     * bounce buffer goes out */
    ck_assert_ptr_null(fake_blk_log_at(r.dev, 0));
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);
    ck_assert_uint_eq(fake_blk_log_at(r.dev, 0)->nr_blocks, 64);
    ck_assert_uint_eq(fake_blk_log_at(r.dev, 0)->nr_ios, 64);
    ck_assert_uint_eq(fake_blk_log_at(r.dev, 1)->lba, 1 + 65);
    ck_assert_uint_eq(fake_blk_log_at(r.dev, 1)->nr_blocks, 35);
    const struct fake_blk_logent *e = fake_blk_log_at(r.dev, 2);
    ck_assert_uint_eq(e->lba, 1 + 50);
    ck_assert_uint_eq(e->nr_blocks, 1);
    ck_assert_uint_eq(e->nr_ios, 1);
    ck_assert_uint_eq(stats(&r)->write_ios, 100 + 1);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_lazypage_fault_pages_go_out_as_one_vectored_run)
{
    struct rig r;
    rig_init(&r, "lazypage", 100, 200);
    r.cfg.io_pages = 3;
    rig_start(&r);
    /* three scattered faults fill a bounce buffer of three pages, which
     * goes out at once as one vectored run */
    ck_assert_int_eq(vcpu(&r, 70, true), 0);
    ck_assert_int_eq(vcpu(&r, 10, true), 0);
    ck_assert_ptr_null(fake_blk_log_at(r.dev, 0));
    ck_assert_int_eq(vcpu(&r, 90, true), 0);
    const struct fake_blk_logent *e = fake_blk_log_at(r.dev, 0);
    ck_assert_uint_eq(e->nr_blocks, 3);
    ck_assert_uint_eq(e->nr_ios, 3);                       /* one 4 KiB I/O per page */
    ck_assert_uint_eq(e->lba, 1 + 70);
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);                                   /* each page at its own offset */
    ck_assert_uint_eq(stats(&r)->write_ios, 100 + 1);      /* still one I/O per page */
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_lazypage_eagain_when_bounce_pool_empty)
{
    struct rig r;
    rig_init(&r, "lazypage", 100, 200);
    r.cfg.io_pages = 1;
    r.cfg.io_depth = 2;
    rig_start(&r);
    ck_assert_int_eq(r.pol->fault(r.s, 10, true), 0);
    ck_assert_int_eq(r.pol->fault(r.s, 20, true), 0);
    ck_assert_int_eq(r.pol->fault(r.s, 30, true), VM_EAGAIN);
    ck_assert_uint_eq(stats(&r)->fault_waits, 1);
    ck_assert_uint_eq(fake_blk_run_one(r.dev), 1);
    ck_assert_int_eq(r.pol->fault(r.s, 30, true), 0);
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_lazypage_cow_under_interleaving)
{
    struct rig r;
    rig_init(&r, "lazypage", 400, 500);
    r.cfg.io_pages = 16;
    r.cfg.io_depth = 2;
    rig_start(&r);
    struct vm_rand rnd;
    vm_rand_init(&rnd, 3, 1);
    for (;;) {
        for (int i = 0; i < 4; i++)
            ck_assert_int_eq(vcpu(&r, vm_rand_below(&rnd, 400), true), 0);
        int rc = step_once(&r);
        ck_assert_int_ge(rc, 0);
        if (rc == CKPT_STEP_DONE)
            break;
    }
    assert_image_ok(&r);
    ck_assert_uint_eq(stats(&r)->write_ios, 400 + 1);
    ck_assert_uint_gt(stats(&r)->pages_copied_fault, 0);
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

/* ---- every policy: I/O errors ---- */

static const char *const all_policies[] = {
    "stopcopy", "lazypage", "bgsnap", "precopy", "buffered", "buffered-unsafe-test",
    "buffered-corrupt-maps-test",
};

/* One save with guest writes interleaved; returns drive()'s result. */
static int run_with_guest(struct rig *r, struct vm_rand *rnd)
{
    bool stun_all = r->pol->flags & CKPT_F_STUN_ALL;
    for (long i = 0; i < 1000000; i++) {
        if (!stun_all && r->stuns == 0)
            ck_assert_int_eq(vcpu(r, vm_rand_below(rnd, r->nr_pages), true), 0);
        int rc = step_once(r);
        if (rc == CKPT_STEP_DONE)
            return 0;
        if (rc < 0)
            return rc;
    }
    ck_abort_msg("save never finishes");
    return VM_EINVAL;
}

START_TEST(test_ckpt_every_policy_fails_cleanly_on_each_write_error)
{
    const char *name = all_policies[_i];
    int k;
    for (k = 0;; k++) {
        struct rig r;
        rig_init(&r, name, 150, 1024);
        r.cfg.io_pages = 16;
        r.cfg.block_pages = 4;
        r.cfg.sblock_blocks = 3;
        r.cfg.compress = k % 2;
        r.cfg.stall_rounds = 2;
        r.cfg.buffer_bytes = 3 * 16 * VM_PAGE_SIZE;
        fake_mem_set_zero(r.mem, 40, 50);        /* zero pages and blocks too */
        fake_blk_fail_writes(r.dev, (uint64_t)k, VM_FAULT_ONCE, VM_EIO);
        rig_start(&r);
        struct vm_rand rnd;
        vm_rand_init(&rnd, (uint64_t)k, 5);
        int rc = run_with_guest(&r, &rnd);
        if (fake_blk_nr_failed(r.dev) == 0) {
            ck_assert_int_eq(rc, 0);              /* past the last write */
            rig_fini(&r);
            break;
        }
        ck_assert_msg(rc == VM_EIO, "%s: write %d failed, step gave %d", name, k, rc);
        ck_assert_msg(!has_header(&r), "%s: header after failed write %d", name, k);
        /* no image, the guest is free, and the error sticks */
        ck_assert_uint_eq(fake_mem_nr_traced(r.mem), 0);
        ck_assert_int_eq(r.pol->fault(r.s, 3, true), 0);
        ck_assert_int_eq(vcpu(&r, 3, true), 0);
        ck_assert_int_eq(r.pol->step(r.s), VM_EIO);
        ck_assert_uint_eq(fake_blk_nr_queued(r.dev), 0);
        rig_fini(&r);
    }
    ck_assert_int_ge(k, 3);
}
END_TEST

START_TEST(test_ckpt_every_policy_fails_on_persistent_write_error)
{
    const char *name = all_policies[_i];
    struct rig r;
    rig_init(&r, name, 200, 1024);
    fake_blk_fail_writes(r.dev, 1, VM_FAULT_PERSIST, VM_EIO);
    rig_start(&r);
    struct vm_rand rnd;
    vm_rand_init(&rnd, 1, 1);
    ck_assert_int_eq(run_with_guest(&r, &rnd), VM_EIO);
    ck_assert(!has_header(&r));
    ck_assert_uint_ge(fake_blk_nr_failed(r.dev), 1);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_registry_finds_policies_and_defaults_apply)
{
    static const char *const visible[] = { "stopcopy", "lazypage", "bgsnap", "precopy",
                                           "buffered" };
    size_t n = 0;
    for (; ckpt_save_policies[n]; n++) {
        struct ckpt_cfg cfg;
        memset(&cfg, 0, sizeof(cfg));
        ck_assert_int_eq(vm_param_defaults(ckpt_save_policies[n]->params, &cfg, NULL), 0);
        /* every policy, hidden ones too, skips zero pages unless told not to */
        ck_assert_ptr_nonnull(vm_param_find(ckpt_save_policies[n]->params, "zero_pages"));
        ck_assert(cfg.zero_pages);
    }
    ck_assert_uint_eq(n, 7);
    for (size_t i = 0; i < 5; i++) {
        ck_assert_ptr_eq(ckpt_save_policy_find(visible[i]), ckpt_save_policies[i]);
        ck_assert(!(ckpt_save_policies[i]->flags & CKPT_F_HIDDEN));
    }
    ck_assert(ckpt_save_policy_find("buffered-unsafe-test")->flags & CKPT_F_HIDDEN);
    ck_assert(ckpt_save_policy_find("buffered-corrupt-maps-test")->flags & CKPT_F_HIDDEN);
    ck_assert_ptr_null(ckpt_save_policy_find("bufferd"));
    ck_assert_ptr_nonnull(ckpt_restore_policy_find("eager"));
    ck_assert_ptr_nonnull(ckpt_restore_policy_find("lazy"));
    ck_assert_ptr_nonnull(ckpt_restore_policy_find("sblock"));
    ck_assert_ptr_null(ckpt_restore_policy_find("buffered"));
    struct ckpt_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    vm_param_defaults(ckpt_save_policy_find("precopy")->params, &cfg, NULL);
    ck_assert_uint_eq(cfg.max_downtime_ns, 300 * VM_NS_PER_MS);
    ck_assert_uint_eq(cfg.stall_rounds, 5);
    ck_assert(!cfg.auto_converge);
    ck_assert_uint_eq(cfg.throttle_initial, 20);
    ck_assert_uint_eq(cfg.throttle_increment, 10);
    ck_assert_uint_eq(cfg.throttle_max, 99);
    ck_assert_uint_eq(cfg.throttle_threshold, 50);
    memset(&cfg, 0, sizeof(cfg));
    vm_param_defaults(ckpt_save_policy_find("bgsnap")->params, &cfg, NULL);
    ck_assert_uint_eq(cfg.io_pages, 256);
    ck_assert_uint_eq(cfg.io_depth, 4);
    ck_assert_uint_eq(cfg.buffer_bytes, 256ull << 20);
    memset(&cfg, 0, sizeof(cfg));
    vm_param_defaults(ckpt_save_policy_find("buffered")->params, &cfg, NULL);
    ck_assert_uint_eq(cfg.block_pages, 16);
    ck_assert_uint_eq(cfg.sblock_blocks, 8);
    ck_assert_uint_eq(cfg.nr_buffers, 2);
    ck_assert_int_eq(cfg.trace, CKPT_TRACE_WRITE);
    ck_assert_int_eq(cfg.grouping, CKPT_GROUP_GPA);
    ck_assert_ptr_null(vm_param_find(ckpt_save_policy_find("stopcopy")->params, "block_pages"));
}
END_TEST

/* A callback that records rc through req->data. */
static void cb_rec(struct port_blk_req *q, int rc) { *(int *)q->data = rc; }

START_TEST(test_ckpt_fake_blk_fails_the_kth_write_once)
{
    struct fake_blk *dev = fake_blk_new(8);
    uint64_t fp = 5;
    struct port_blk_req req[4];
    int got[4];
    for (int i = 0; i < 4; i++)
        got[i] = 1;
    fake_blk_fail_writes(dev, 1, VM_FAULT_ONCE, VM_EIO);
    for (int i = 0; i < 4; i++) {
        req[i] = (struct port_blk_req){ .op = PORT_BLK_WRITE, .lba = (uint64_t)i,
                                        .nr_blocks = 1, .fps = &fp, .cb = cb_rec,
                                        .data = &got[i] };
        ck_assert_int_eq(port_blk_submit(&dev->base, &req[i]), 0);
    }
    ck_assert_uint_eq(fake_blk_nr_queued(dev), 4);
    ck_assert_uint_eq(fake_blk_run(dev), 4);
    ck_assert_int_eq(got[0], 0);
    ck_assert_int_eq(got[1], VM_EIO);
    ck_assert_int_eq(got[2], 0);
    ck_assert_int_eq(fake_blk_nr_failed(dev), 1);
    uint64_t out[4];
    ck_assert_int_eq(vm_fpstore_get(dev->store, 0, 4, out), 0);
    ck_assert_uint_eq(out[0], 5);
    ck_assert_uint_eq(out[1], 0);                 /* the failed write left nothing */
    ck_assert_int_eq(fake_blk_log_at(dev, 1)->rc, VM_EIO);
    struct port_blk_req bad = { .op = PORT_BLK_WRITE, .lba = 7, .nr_blocks = 2, .fps = &fp,
                                .cb = cb_rec };
    ck_assert_int_eq(port_blk_submit(&dev->base, &bad), VM_ERANGE);
    fake_blk_free(dev);
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
    tcase_add_test(tp, test_ckpt_stopcopy_image_equals_memory);
    tcase_add_test(tp, test_ckpt_stopcopy_stream_packs_non_zero_pages);
    tcase_add_test(tp, test_ckpt_stopcopy_small_file_is_enospc);
    tcase_add_test(tp, test_ckpt_lazypage_one_io_per_page);
    tcase_add_test(tp, test_ckpt_lazypage_fault_copies_single_page);
    tcase_add_test(tp, test_ckpt_lazypage_fault_pages_go_out_as_one_vectored_run);
    tcase_add_test(tp, test_ckpt_lazypage_eagain_when_bounce_pool_empty);
    tcase_add_test(tp, test_ckpt_lazypage_cow_under_interleaving);
    tcase_add_test(tp, test_ckpt_stopcopy_zero_pages_are_holes_and_runs_are_ios);
    tcase_add_test(tp, test_ckpt_lazypage_zero_pages_take_no_bounce_page_and_no_write);
    tcase_add_loop_test(tp, test_ckpt_buffered_zero_blocks_are_not_staged, 0, 2);
    tcase_add_test(tp, test_ckpt_buffered_saver_records_zero_blocks_while_it_waits);
    tcase_add_loop_test(tp, test_ckpt_every_policy_without_zero_pages_writes_them_as_before, 0, 5);
    suite_add_tcase(s, tp);

    TCase *te = tcase_create("errors");
    tcase_add_test(te, test_ckpt_fake_blk_fails_the_kth_write_once);
    tcase_add_loop_test(te, test_ckpt_every_policy_fails_cleanly_on_each_write_error, 0,
                        (int)(sizeof all_policies / sizeof all_policies[0]));
    tcase_add_loop_test(te, test_ckpt_every_policy_fails_on_persistent_write_error, 0,
                        (int)(sizeof all_policies / sizeof all_policies[0]));
    tcase_add_test(te, test_ckpt_registry_finds_policies_and_defaults_apply);
    suite_add_tcase(s, te);
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
