/*
 * ckpt_restore_rig.h - what the restore policies' suites share
 * (check_ckpt_restore_policies, check_ckpt_restore_errors).
 *
 * Every image is made by the real save policies (stopcopy with layout
 * mapped-ram -> FLAT, precopy -> STREAM, buffered -> SBLOCK plain,
 * compressed and A-bit grouped) running against the fakes, with guest
 * writes during the save, so the image differs from the memory at the
 * end of the save.  The restore then runs into a fresh fake_mem whose
 * pages are all absent and different, driven one device request at a
 * time, and the tests check every page against the memory at the
 * checkpoint instant.  Every function fails the running Check test on an
 * unexpected result.
 */
#ifndef CKPT_RESTORE_RIG_H
#define CKPT_RESTORE_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/vm_err.h"
#include "checkpoint/ckpt.h"
#include "checkpoint/ckpt_file.h"
#include "fakes/fake_clock.h"

struct fake_blk;
struct fake_mem;

#define NR_PAGES 1030u          /* B = 8: 129 blocks, the last one 6 pages */
#define BLOCK_PAGES 8u
#define SBLOCK_BLOCKS 4u        /* N = 4: 33 storage blocks, the last one 1 block */
#define DEV_BLOCKS 8192u

enum img_kind { IMG_FLAT, IMG_STREAM, IMG_SBLOCK, IMG_SBLOCK_Z, IMG_SBLOCK_ABITS };

/* An image on a fake device and the memory it must reproduce. */
struct image {
    struct fake_blk *dev;
    uint64_t *expect;           /* content of each page at the checkpoint instant */
    struct ckpt_header hdr;
    uint64_t *zero;             /* the image's zero map (NULL: none) */
    uint64_t nr_zero;
};

/* Pages made zero before the save by make_image_zero(): with B = 8 the
 * blocks 13..49 are all zero, 12 and 49 mixed. */
#define ZERO_FIRST 100u
#define ZERO_PAGES 300u

/* A restore in progress. */
struct rst {
    const struct ckpt_restore_policy *pol;
    struct ckpt_restore *r;
    struct fake_mem *mem;
    struct fake_clock clk;
    struct ckpt_env env;
    struct vm_diag diag;
};

/* An image of kind on a new fake device, into im (free_image frees it). */
void make_image(enum img_kind kind, struct image *im);
/* An image whose memory had pages [ZERO_FIRST, + ZERO_PAGES) zero when the
 * save started (the guest writes some of them during the save). */
void make_image_zero(enum img_kind kind, struct image *im);
void free_image(struct image *im);

/* A restore policy's parameters at their defaults. */
struct ckpt_restore_cfg default_cfg(const struct ckpt_restore_policy *pol);
/* Start restore policy `name` (cfg NULL: its defaults) of im into a fresh
 * fake memory of nr_pages, all absent; the policy's start() result. */
int rst_start(struct rst *t, const char *name, const struct ckpt_restore_cfg *cfg,
              struct image *im, uint64_t nr_pages);
void rst_end(struct rst *t);
/* step() until it returns something other than WAIT with work queued,
 * completing one device request between calls.  Returns DONE, an error,
 * or WAIT when nothing is queued (the restore waits for faults). */
int rst_drive(struct rst *t, struct image *im);
/* Load the header and maps: step until runnable. */
void rst_load(struct rst *t, struct image *im);
/* The test's vCPU: access a page, taking restore faults; completes one
 * device request per VM_EAGAIN (and lets step() run, as the world does). */
int rst_touch(struct rst *t, struct image *im, uint64_t page, bool is_write);
/* The restore's statistics. */
const struct ckpt_stats *rst_stats(struct rst *t);
/* Every page present with the checkpoint-instant content. */
void assert_restored(struct rst *t, struct image *im);
/* Storage blocks of an SBLOCK image. */
uint64_t nr_sblocks(const struct image *im);
/* Requests logged since the restore started, excluding header and maps. */
size_t data_reads(const struct image *im);

#endif
