/*
 * cons_chain.h - a virtual disk as a chain of disk files on one datastore
 * device: a flat base disk with sparse delta disks on top, in the shape of
 * VMware's VMDK sparse extents (grain directory -> grain tables -> grains)
 * and qcow2's L1/L2 tables.  Contents are per-4 KiB-sector fingerprints
 * (vm_fp.h); a sector is one device block (port_blk.h).
 *
 * Layers are numbered from the base: layer 0 is the flat base disk, the
 * highest is the active delta (the VM writes there).  A read resolves
 * each grain to the highest layer (at or below the one asked) that holds
 * it; the base holds every grain.  A fingerprint of 0 in the base means
 * "original data, never written".
 *
 * On the device (all metadata blocks are packed extents of one block,
 * port_blk.h; all offsets in blocks):
 *
 *   descriptor   one block at cfg.desc_lba: the chain as the VM opens it
 *                (struct cons_desc): layers bottom-up by slot, a generation,
 *                and an opaque job record (up to CONS_JOB_MAX bytes) a
 *                consolidation uses to persist its progress.
 *   base         slot 0: blocks [slot_lba(0), + nr_sectors), flat.
 *   delta file   slot k >= 1 at slot_lba(k) = cfg.slot0_lba + k * slot_blocks:
 *                  block 0           header (struct cons_hdr)
 *                  blocks 1..gd      grain directory: one block per 1024 GTs,
 *                                    uint32 entries = the GT's block in the
 *                                    file, 0 = no GT yet
 *                  then, appended    GT blocks (CONS_GT_ENTRIES uint32 entries
 *                                    = the grain's first block in the file,
 *                                    0 = unallocated) and grains (1 <<
 *                                    grain_shift plain blocks each)
 *                The header and GD are padded to a grain and GT blocks are
 *                appended in chunks of one grain, so every grain starts at
 *                a grain-aligned file block (recovery checks it).  Each
 *                metadata blob carries a magic, its slot and index and an
 *                xxhash, so a torn or foreign block fails open().
 *
 * Crash safety (the order a real sparse format keeps; VMware's sparse
 * extent and qcow2 both write data before the table that points to it):
 *   - a grain is allocated by writing its whole data first (a write that
 *     covers only part of it fills the rest from the layers below: copy on
 *     write), then its GT block, then - for a new GT - the GD block;
 *   - a write is acknowledged (done callback) only when every block that
 *     makes it reachable is durable;
 *   - one write per GT block is in flight at a time; entries added while
 *     it is in flight go out in the next write (group commit), so an older
 *     GT image never lands after a newer one;
 *   - operations on a grain being allocated wait until the allocation is
 *     durable, then proceed against the allocated grain.
 * After a crash, cons_chain_open() rebuilds the chain from these blocks
 * alone: whatever a crash left, every acknowledged write is reachable.
 *
 * Deliberate mutations for the invariant tests (CONS_MUT_*) break one of
 * these rules each, so the checks can be shown to fail.
 *
 * Memory: 4 bytes per GT entry, GTs allocated on demand: proportional to
 * what the deltas map.
 */
#ifndef CONS_CHAIN_H
#define CONS_CHAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "ports/port_blk.h"

#define CONS_GT_ENTRIES 512         /* grain table entries (VMDK numGTEsPerGT) */
#define CONS_GD_PER_BLOCK 1024      /* uint32 GD entries in one 4 KiB block */
#define CONS_MAX_LAYERS 32          /* layers in one chain, base included */
#define CONS_JOB_MAX 256            /* bytes of a job record in the descriptor */

enum cons_mutation {
    CONS_MUT_NONE = 0,
    CONS_MUT_GT_BEFORE_DATA,        /* write the GT entry before the grain's data */
    CONS_MUT_ACK_BEFORE_GT,         /* acknowledge an allocating write once its data is down */
    CONS_MUT_REUSE_BEFORE_GT,       /* reuse an unmapped grain's place before its GT is down */
    CONS_MUT_KEEP_FAILED,           /* keep the entries a failed GT/GD write carried */
};

struct cons_chain_cfg {
    uint64_t nr_sectors;            /* virtual disk size, 4 KiB sectors */
    uint32_t grain_shift;           /* sectors per grain = 1 << grain_shift (0..12) */
    uint64_t desc_lba;              /* the descriptor block */
    uint64_t slot0_lba;             /* slot 0 (the base) starts here */
    uint64_t slot_blocks;           /* blocks per slot: >= nr_sectors, and with deltas
                                       >= cons_delta_max_blocks(); <= UINT32_MAX */
    uint32_t nr_slots;              /* slots on the device (<= CONS_MAX_LAYERS * 2) */
    enum cons_mutation mutation;
};

/* Blocks a delta file needs at most for a disk of cfg: header, GD, every
 * GT and every grain (so cfg.slot_blocks can be chosen).  Places an unmap
 * freed are reused, so a delta never needs more while the chain stays
 * open; the holes a crash leaked (or unmaps before a reopen) are not in
 * it: such a delta may run out of slot (VM_ENOSPC from the write). */
uint64_t cons_delta_max_blocks(uint64_t nr_sectors, uint32_t grain_shift);

typedef void (*cons_done_fn)(void *arg, int rc);     /* rc: 0 or VM_E* */

/* Writes that set up a device before the simulation starts, without time
 * (the driver writes into the device's store directly; tests into the
 * fake's).  Plain: n fps at lba.  Packed: one metadata block at lba. */
struct cons_setup {
    int (*put)(void *arg, uint64_t lba, uint64_t n, const uint64_t *fps);
    int (*put_meta)(void *arg, uint64_t lba, const void *bytes, uint32_t len);
    void *arg;
};

struct cons_chain;

/* A chain over dev with only the base (layer 0, slot 0).  NULL when out
 * of memory or cfg is inconsistent (grain_shift > 12, slot too small,
 * slots beyond the device). */
struct cons_chain *cons_chain_new(struct port_blk *dev, const struct cons_chain_cfg *cfg);
/* Free the chain.  Operations still in flight (e.g. after the device
 * dropped its queue in a crash) are freed without their callbacks; the
 * device must not complete their requests afterwards. */
void cons_chain_free(struct cons_chain *ch);
/* The host crashed: from now on the chain submits nothing (requests
 * already at the device may still complete and run their callbacks; the
 * caller ignores what they report).  Free it once the device is idle. */
void cons_chain_kill(struct cons_chain *ch);
const struct cons_chain_cfg *cons_chain_cfg(const struct cons_chain *ch);

/* ---- set-up, no time passes ---------------------------------------- */

/* Add a delta layer on top with `nr_grains` grains allocated, chosen by
 * pick(arg, i) (the i-th grain number, strictly increasing, < grains of
 * the disk), each sector's content fp(arg, layer, sector) (non-zero).
 * Writes its file (header, GD, GTs, grains) and the descriptor through
 * su.  0, VM_ENOSPC (no free slot), VM_ERANGE, VM_ENOMEM. */
int cons_chain_setup_delta(struct cons_chain *ch, const struct cons_setup *su,
                           uint64_t nr_grains,
                           uint64_t (*pick)(void *arg, uint64_t i),
                           uint64_t (*fp)(void *arg, int layer, uint64_t sector), void *arg);
/* Write the descriptor through su (after the last setup_delta). */
int cons_chain_setup_desc(struct cons_chain *ch, const struct cons_setup *su);

/* ---- the chain as it is now ----------------------------------------- */

int cons_chain_nr_layers(const struct cons_chain *ch);
uint64_t cons_chain_nr_grains(const struct cons_chain *ch);        /* of the disk */
uint32_t cons_chain_grain_sectors(const struct cons_chain *ch);
/* Is grain g allocated in layer l (the base: always true)? */
bool cons_chain_allocated(const struct cons_chain *ch, int layer, uint64_t g);
/* Is a write allocating grain g in layer l now (its entry not set yet)? */
bool cons_chain_allocating(const struct cons_chain *ch, int layer, uint64_t g);
/* Grains allocated in layer l (the base: grains of the disk). */
uint64_t cons_chain_nr_allocated(const struct cons_chain *ch, int layer);
/* Set in map (a bitmap of cons_chain_nr_grains() bits, the caller's) the
 * bit of every grain allocated in layer l (the base: every grain), a
 * GT's 512 entries at a time (about half the instructions of a walk
 * grain by grain, on a 1 TiB disk of 64 KiB grains with a 10 GiB delta). */
void cons_chain_mark_allocated(const struct cons_chain *ch, int layer, uint64_t *map);
/* The highest layer <= top holding grain g. */
int cons_chain_resolve(const struct cons_chain *ch, int top, uint64_t g);
/* Bytes the deltas' files use on the device now (headers, tables, grains). */
uint64_t cons_chain_delta_bytes(const struct cons_chain *ch);

/* ---- I/O, through the block port ------------------------------------ */

/* Read n sectors from sector s as layer `top` sees them (top and the
 * layers below it) into fps[n].  One port read per run of sectors that
 * resolve to the same layer and are contiguous on the device: the runs
 * go out as one port request, plain for one run, else a vectored run of
 * one I/O per run (port_blk.h lbas/io_blocks).  A grain being allocated
 * in a layer the read looks at is read once its allocation is durable.
 * done runs once, never from inside this call, with 0 or the port's
 * error.  0 or VM_ERANGE (range, top) / VM_ENOMEM (then done will not
 * run). */
int cons_chain_read(struct cons_chain *ch, int top, uint64_t s, uint32_t n, uint64_t *fps,
                    cons_done_fn done, void *arg);
/* Write n sectors at s into layer `layer` (allocating the grains it does
 * not hold, as described above); fps must stay valid until done.  done
 * runs when the data and every table making it reachable are durable,
 * never from inside this call; its rc is 0, VM_ENOSPC (the slot is full),
 * VM_ENOMEM or the port's error.  Requests: one per run in place; per
 * partly written new grain its fill reads and one grain write; whole new
 * grains appended back to back share one data write (up to 64 grains);
 * then the shared GT / GD writes.  Layer 0 is a plain write at
 * slot_lba(0) + s.  Returns 0, or VM_ERANGE (range, layer) / VM_ENOMEM /
 * VM_ENOSPC when nothing was issued (done will not run). */
int cons_chain_write(struct cons_chain *ch, int layer, uint64_t s, uint32_t n,
                     const uint64_t *fps, cons_done_fn done, void *arg);
/* Read the whole grains g[0..n) (strictly increasing) as layer `top`
 * sees them into fps (one grain after another; the disk's last grain may
 * be short), as one port request of one I/O per run of grains contiguous
 * on the device, split into I/Os of at most io_sec sectors (0: a run is
 * one I/O).  VM_EAGAIN, with nothing issued, while one of them is being
 * allocated in a layer of the view (read them one by one then). */
int cons_chain_read_grains(struct cons_chain *ch, int top, const uint64_t *g, uint32_t n,
                           uint32_t io_sec, uint64_t *fps, cons_done_fn done, void *arg);
/* The device I/Os cons_chain_read_grains() would issue for g[0..n)
 * (increasing) through layer `top`'s view with the same io_sec: the runs
 * contiguous on the device (a delta stores its grains in the order they
 * were allocated, so grains scattered over the disk may be one run in the
 * delta's file), each split into I/Os of at most io_sec sectors.  No I/O,
 * no time. */
uint32_t cons_chain_read_runs(const struct cons_chain *ch, int top, const uint64_t *g, uint32_t n,
                              uint32_t io_sec);
/* Write whole grains g[0..n) into layer `layer` where they already are
 * (the flat base, or grains the delta holds) as one request, its I/Os
 * formed as cons_chain_read_grains() forms them; VM_ENOTSUP, with nothing
 * issued, when the layer must allocate one of them (use cons_chain_write
 * then). */
int cons_chain_write_grains(struct cons_chain *ch, int layer, const uint64_t *g, uint32_t n,
                            uint32_t io_sec, const uint64_t *fps, cons_done_fn done, void *arg);

/* Drop grain g from delta layer `layer` (its GT entry becomes 0); done
 * when the GT block is durable.  The grain's place is reused by a later
 * allocation of the layer (lowest place first, as qcow2 reuses clusters
 * of refcount 0) once that GT write is durable and every read or write
 * started before it has ended; it is leaked if the GT write fails or the
 * chain is reopened first.  Reads then fall through to the layers
 * below.  A grain being allocated is unmapped once its allocation is
 * durable.  0 or VM_EINVAL (base, or not allocated), VM_ENOMEM. */
int cons_chain_unmap(struct cons_chain *ch, int layer, uint64_t g, cons_done_fn done, void *arg);
/* The table writes that calls between cons_chain_batch_begin(ch) and
 * cons_chain_batch_end(ch) ask for (unmaps, the GT entries of
 * allocations that complete meanwhile) go out at the end, one write per
 * table block, as a format updates the tables of one operation at once
 * (qcow2 links an allocation's L2 entries in one update).  Nested: the
 * outermost end starts them; callbacks may run inside it (a write the
 * device refuses at once). */
void cons_chain_batch_begin(struct cons_chain *ch);
void cons_chain_batch_end(struct cons_chain *ch);
/* Wait for the unmaps of grain g in `layer` now in flight (their entry is
 * already clear in memory, not yet on the disk): done(arg, rc) once for
 * each when it is down, rc its result (a failed one has put the entry
 * back).  Returns how many it waits for (0: none, done is not called) or
 * VM_ENOMEM. */
int cons_chain_unmap_wait(struct cons_chain *ch, int layer, uint64_t g, cons_done_fn done,
                          void *arg);
/* Flush the device (port FLUSH); done once. */
int cons_chain_flush(struct cons_chain *ch, cons_done_fn done, void *arg);

/* Create a new empty delta on top (a snapshot): writes its header and
 * empty GD; done when durable.  The layer is usable at once (its new
 * index is returned through *layer); the VM opens it after the
 * descriptor says so (cons_chain_write_desc).  0, VM_ENOSPC (no free
 * slot or CONS_MAX_LAYERS), VM_ENOMEM, or the port's refusal. */
int cons_chain_create_delta(struct cons_chain *ch, int *layer, cons_done_fn done, void *arg);
/* Remove layer l (1 <= l) from the chain in memory: layers above move
 * down one index; its slot becomes free for a later delta once the
 * descriptor no longer names it.  The caller persists with write_desc.
 * 0, VM_EINVAL (the base or no such layer), VM_EBUSY (allocations, unmaps
 * or table writes of that layer in flight: remove after they are done). */
int cons_chain_remove(struct cons_chain *ch, int layer);
/* Write the descriptor: the chain as it is now plus job[len] (len <=
 * CONS_JOB_MAX); done when durable.  One descriptor write in flight at a
 * time; a call while one is in flight is queued (later wins): the next
 * write carries the chain and job as they are when it starts, and every
 * call queued before it is done when it is.  0, VM_EINVAL (len), VM_ENOMEM. */
int cons_chain_write_desc(struct cons_chain *ch, const void *job, uint32_t len,
                          cons_done_fn done, void *arg);

/* ---- recovery -------------------------------------------------------- */

/* Rebuild ch's layers from the device (after a crash, or to open a disk):
 * read the descriptor, each delta's header, GD and GT blocks through the
 * port, and take the layers it names.  The job record is copied into
 * job[CONS_JOB_MAX], its length into *job_len.  done(arg, rc) once: 0, or
 * VM_EPARSE when a block is not what the format says (bad magic or
 * checksum, a block of another slot, a GD or GT entry outside its file,
 * a grain not grain-aligned or named twice or on a GT block, a layer not
 * of this disk's size), with the reason in cons_chain_error(); or the
 * port's error.  On failure ch keeps the layers it had.  Returns 0,
 * VM_EBUSY (operations in flight on a delta: open an idle chain, e.g. a
 * fresh one after a crash), VM_ENOMEM. */
int cons_chain_open(struct cons_chain *ch, void *job, uint32_t *job_len,
                    cons_done_fn done, void *arg);
const char *cons_chain_error(const struct cons_chain *ch);

/* ---- the checker's view (no I/O, no time) --------------------------- */

/* The device block that holds sector s as layer `top` sees it now
 * (resolved as cons_chain_read does; the base always maps).  For an
 * invariant checker that reads the device's store directly. */
uint64_t cons_chain_map(const struct cons_chain *ch, int top, uint64_t s);

#endif
