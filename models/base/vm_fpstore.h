/*
 * vm_fpstore.h - the content of a simulated block device: what was written
 * where, as fingerprints, without keeping bytes.
 *
 * Two kinds of extent:
 *  - plain: nr_blocks device blocks each holding one page fingerprint
 *    (nr_fps == nr_blocks).  Kept in a two-level array indexed by block
 *    number, 8 bytes per written block; any sub-range can be read back.
 *  - packed: an extent whose payload is not one-fingerprint-per-block -
 *    nr_fps page fingerprints compressed into nr_blocks blocks, or an
 *    opaque metadata byte blob (checkpoint header, persistent maps).
 *    Kept whole, keyed by its first block; it can only be read back as a
 *    whole, at the same first block.
 * A write over a range replaces what was there (plain blocks become
 * absent when a packed extent covers them and vice versa).
 *
 * Used by sim/sim_disk.c and tests/fakes/fake_blk.c alike.
 */
#ifndef VM_FPSTORE_H
#define VM_FPSTORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

struct vm_fpstore;

struct vm_fpstore *vm_fpstore_new(uint64_t nr_blocks);
/* The same with plain leaves of 2^leaf_shift blocks (3..15; the default
 * is 9, 2 MiB of device per 4 KiB leaf).  Smaller leaves suit a device
 * written in small pieces far apart (a delta's grains copied into a big
 * base disk): memory follows what is written, at 8 bytes of top level
 * per leaf's span of device.  NULL when out of memory or out of range. */
struct vm_fpstore *vm_fpstore_new_leaf(uint64_t nr_blocks, unsigned leaf_shift);
void vm_fpstore_free(struct vm_fpstore *st);
/*
 * From now on keep one copy of equal plain leaves: a whole leaf written
 * with the content of a leaf lately written or read whole (a copy from
 * one place of the device to another, the same data written to two
 * places) shares it, and a write into a shared leaf copies it first.
 * Content and results are the same; only memory changes (the table of
 * recent leaves costs 1 MiB).  0 or VM_ENOMEM.  With sharing on, a
 * vm_fpstore_get() of a whole leaf notes it in that table: its reads of
 * the store are then not safe from several threads at once (without it
 * they only read; vm_fpstore_peek() never notes).
 */
int vm_fpstore_share(struct vm_fpstore *st);
uint64_t vm_fpstore_nr_blocks(const struct vm_fpstore *st);

/* Plain write of n blocks at lba; fps[i] != 0. 0, VM_ERANGE, VM_ENOMEM. */
int vm_fpstore_put(struct vm_fpstore *st, uint64_t lba, uint64_t n,
                   const uint64_t *fps);
/* Plain read; absent blocks read as 0 (never written).  0 or VM_ERANGE,
 * VM_EINVAL when the range overlaps a packed extent. */
int vm_fpstore_get(const struct vm_fpstore *st, uint64_t lba, uint64_t n,
                   uint64_t *fps);
/* vm_fpstore_get() that notes nothing: a pure read of the store, safe in
 * several threads at once while none writes (the end-of-run checks). */
int vm_fpstore_peek(const struct vm_fpstore *st, uint64_t lba, uint64_t n, uint64_t *fps);
/*
 * Packed write: an extent of nr_blocks blocks at lba whose payload is
 * nr_fps fingerprints (may be 0) and/or len bytes of metadata (may be 0).
 * Both are copied.  0, VM_ERANGE, VM_ENOMEM; VM_EINVAL for nr_blocks == 0
 * or a NULL payload pointer with a non-zero count.  Any packed extent the
 * range overlaps is dropped whole.
 */
int vm_fpstore_put_packed(struct vm_fpstore *st, uint64_t lba,
                          uint64_t nr_blocks, const uint64_t *fps,
                          uint32_t nr_fps, const void *bytes, uint32_t len);
/*
 * Packed read of the extent that starts at lba: copies at most max_fps
 * fingerprints and max_len bytes, and returns the extent's true sizes in
 * *nr_fps / *len (either pointer may be NULL).  VM_ENOENT when no packed
 * extent starts at lba.
 */
int vm_fpstore_get_packed(const struct vm_fpstore *st, uint64_t lba,
                          uint64_t *fps, uint32_t max_fps, uint32_t *nr_fps,
                          void *bytes, uint32_t max_len, uint32_t *len,
                          uint64_t *nr_blocks);
/*
 * Look at the packed extent that starts at lba without copying it: the
 * pointers stay valid until the extent is overwritten or the store freed.
 * Any out pointer may be NULL.  VM_ENOENT when no packed extent starts there.
 */
int vm_fpstore_peek_packed(const struct vm_fpstore *st, uint64_t lba,
                           const uint64_t **fps, uint32_t *nr_fps,
                           const void **bytes, uint32_t *len, uint64_t *nr_blocks);
/*
 * A block device's content semantics, shared by every device that keeps
 * its content in a store (sim/sim_disk.c, tests/fakes/fake_blk.c):
 *
 * vm_fpstore_req_fits: does every block of req (consecutive from lba, or
 * the I/Os of a vectored run at lbas[], of io_blocks[] blocks each when
 * given, which must then sum to nr_blocks) lie on the device?  Flushes fit.
 *
 * vm_fpstore_apply: carry out req's content: a WRITE stores its plain
 * fingerprints, vectored run or packed extent; a READ fills req->fps (and
 * for a packed extent req->bytes, then sets req->nr_fps / req->len to the
 * extent's true sizes); a FLUSH does nothing.  0, VM_ERANGE, VM_EINVAL,
 * VM_ENOENT, VM_ENOMEM as the store calls above return them.
 */
struct port_blk_req;
bool vm_fpstore_req_fits(const struct vm_fpstore *st, const struct port_blk_req *req);
int vm_fpstore_apply(struct vm_fpstore *st, struct port_blk_req *req);

/* Blocks that hold data: written plain blocks and blocks covered by a
 * packed extent; never-written blocks (holes) do not count.  This is the
 * allocated size of a sparse file in blocks; *end (may be NULL) gets its
 * apparent size, one past the last block holding data (0 when none).
 * Takes time linear in the device's size. */
uint64_t vm_fpstore_blocks_used(const struct vm_fpstore *st, uint64_t *end);

/* Bytes of host memory the store holds (for the memory report). */
size_t vm_fpstore_mem_bytes(const struct vm_fpstore *st);

#endif
