/*
 * fake_backing.h - a backing-store port for unit tests: plain arrays.
 *
 * Every frame starts resident with no slot.  fake_backing_swap_out()
 * gives a frame the next slot, as a host swapping pages out in eviction
 * order allocates them, and makes it absent; fake_backing_bring_in()
 * makes a frame resident again (its slot stays allocated, as a page in
 * the swap cache keeps its slot); fake_backing_drop() makes a frame absent
 * with no content (no slot).  `room` is what the port's room()
 * answers (PORT_BACKING_NONE, no limit, unless a test sets it).  Counters
 * count the port calls.
 */
#ifndef FAKE_BACKING_H
#define FAKE_BACKING_H

#include <stdbool.h>
#include <stdint.h>

#include "ports/port_backing.h"

struct fake_backing {
    struct port_backing base;     /* first: &fb->base is the port */
    uint64_t nr_frames, nr_slots, next_slot;
    bool *resident;               /* per frame */
    uint64_t *slot;               /* per frame, PORT_BACKING_NONE if none */
    uint64_t *frame;              /* per slot, PORT_BACKING_NONE if free */
    uint64_t room;                /* room()'s answer; PORT_BACKING_NONE: no limit */
    uint64_t nr_resident_calls;
};

/* nr_frames frames, room for nr_slots slots; NULL when out of memory. */
struct fake_backing *fake_backing_new(uint64_t nr_frames, uint64_t nr_slots);
void fake_backing_free(struct fake_backing *fb);
/* Swap frame out to the next free slot (the frame becomes absent). */
void fake_backing_swap_out(struct fake_backing *fb, uint64_t frame);
/* Make every frame in [first, first + n) absent, slots in address order. */
void fake_backing_swap_out_range(struct fake_backing *fb, uint64_t first, uint64_t n);
void fake_backing_bring_in(struct fake_backing *fb, uint64_t frame);
/* Make frame absent with no content anywhere (a frame the guest never
 * touched, or a zero page the host dropped): no slot (a slot it had is
 * freed), so policies must not ask for it as a neighbour. */
void fake_backing_drop(struct fake_backing *fb, uint64_t frame);

#endif
