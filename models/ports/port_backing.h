/*
 * port_backing.h - where a guest's absent pages are: which guest frames
 * are resident in host memory, and where the others' contents lie on the
 * backing store (a host swap slot, a page of a suspend image, a page on
 * the migration source).
 *
 * Frames are guest-physical page numbers (gpa >> 12) below nr_frames.
 * Slots number the backing store's pages from 0 below nr_slots; adjacency
 * of slots is what a device reads in one I/O (Linux swap readahead reads
 * neighbouring slots).  Where the store has no order of its own (post-copy
 * pulls by guest frame) an implementation maps slot = frame.
 *
 * The port is read-only: a policy asks, the world decides and moves pages.
 * Calls are cheap (a bitmap test, an array lookup) and may be made per
 * candidate page on every fault.
 */
#ifndef PORT_BACKING_H
#define PORT_BACKING_H

#include <stdbool.h>
#include <stdint.h>

#define PORT_BACKING_VERSION 1
#define PORT_BACKING_NONE UINT64_MAX     /* no slot / no frame */

struct port_backing;

struct port_backing_ops {
    int version;                 /* PORT_BACKING_VERSION */
    const char *name;            /* "sim-swap", "fake", ... */
    uint64_t (*nr_frames)(const struct port_backing *b);
    uint64_t (*nr_slots)(const struct port_backing *b);
    /* Whether the frame is in host memory (a fault on it is minor). */
    bool (*is_resident)(const struct port_backing *b, uint64_t frame);
    /* The slot holding the frame's content, PORT_BACKING_NONE if none. */
    uint64_t (*slot_of)(const struct port_backing *b, uint64_t frame);
    /* The frame whose content the slot holds, PORT_BACKING_NONE for a free slot. */
    uint64_t (*frame_of)(const struct port_backing *b, uint64_t slot);
    /* Optional (NULL: no limit).  How many frames the host can bring in
     * now, the faulting one included, without evicting a frame that was
     * brought in ahead and not yet used: the free frames plus those the
     * evictor may take.  Policies keep each answer within it (the faulting
     * frame always comes in), so that a prefetch never evicts an unused
     * prefetch; PORT_BACKING_NONE also means no limit. */
    uint64_t (*room)(const struct port_backing *b);
};

struct port_backing { const struct port_backing_ops *ops; };

static inline uint64_t port_backing_nr_frames(const struct port_backing *b)
{ return b->ops->nr_frames(b); }
static inline uint64_t port_backing_nr_slots(const struct port_backing *b)
{ return b->ops->nr_slots(b); }
static inline bool port_backing_is_resident(const struct port_backing *b, uint64_t frame)
{ return b->ops->is_resident(b, frame); }
static inline uint64_t port_backing_slot_of(const struct port_backing *b, uint64_t frame)
{ return b->ops->slot_of(b, frame); }
static inline uint64_t port_backing_frame_of(const struct port_backing *b, uint64_t slot)
{ return b->ops->frame_of(b, slot); }
static inline uint64_t port_backing_room(const struct port_backing *b)
{ return b->ops->room ? b->ops->room(b) : PORT_BACKING_NONE; }

#endif
