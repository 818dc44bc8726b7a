/*
 * ckpt_rig.h - the test rig of the checkpoint save suites: fake guest
 * memory and a fake checkpoint file (tests/fakes) around one save policy.
 *
 * The test plays both the vCPU (rig_vcpu(): a guest access that traps
 * calls the policy's fault handler first, waiting for a completion on
 * VM_EAGAIN) and the world's background saver (rig_drive(): step() until
 * DONE, completing one queued request on WAIT).  Images are checked with
 * ckpt_image_load_store() + ckpt_image_verify() against a copy of memory
 * taken at the checkpoint instant (rig->snap).  Every function fails the
 * running Check test on an unexpected result.
 */
#ifndef CKPT_RIG_H
#define CKPT_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoint/ckpt.h"
#include "fakes/fake_blk.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_mem.h"

struct rig {
    struct fake_mem *mem;
    struct fake_blk *dev;
    struct fake_clock clk;
    struct ckpt_env env;
    struct ckpt_cfg cfg;
    const struct ckpt_policy *pol;
    struct ckpt_save *s;
    uint64_t *snap;               /* memory at the checkpoint instant */
    uint64_t nr_pages;
    int stuns;                    /* CKPT_STEP_STUN seen */
    size_t max_queued;            /* most requests queued at once */
};

/* A rig of nr_pages guest pages and a file of dev_blocks blocks around
 * the save policy called `policy`, its cfg at the policy's defaults. */
void rig_init(struct rig *r, const char *policy, uint64_t nr_pages, uint64_t dev_blocks);
/* Copy memory into r->snap (the checkpoint instant). */
void snapshot(struct rig *r);
/* snapshot(), then start the policy with r->cfg. */
void rig_start(struct rig *r);
void rig_fini(struct rig *r);
const struct ckpt_stats *stats(struct rig *r);
/* One guest access, trapping into the policy like the world does. */
int vcpu(struct rig *r, uint64_t page, bool is_write);
/* One step of the background saver, as the world runs it. */
int step_once(struct rig *r);
/* Run the saver to the end: 0 when DONE, else the error. */
int drive(struct rig *r);
/* ckpt_image_verify's expected(): the snapshot's fingerprints. */
void snap_fp(void *arg, const uint64_t *pages, uint64_t first, uint64_t n, uint64_t *fps);
/* Check the image on the device against the snapshot. */
void verify(struct rig *r, uint64_t *mismatch, uint64_t *missing);
void assert_image_ok(struct rig *r);
bool has_header(struct rig *r);
/* Write requests in the log that carry page data (not lba 0, not maps). */
size_t nr_logged_writes(struct rig *r);

#endif
