/*
 * fake_backing.c - the backing-store port for unit tests (see
 * fake_backing.h).
 */
#include <assert.h>
#include <stdlib.h>

#include "fakes/fake_backing.h"

static uint64_t fb_nr_frames(const struct port_backing *b)
{
    return ((const struct fake_backing *)b)->nr_frames;
}

static uint64_t fb_nr_slots(const struct port_backing *b)
{
    return ((const struct fake_backing *)b)->nr_slots;
}

static bool fb_is_resident(const struct port_backing *b, uint64_t frame)
{
    struct fake_backing *fb = (struct fake_backing *)b;
    fb->nr_resident_calls++;
    assert(frame < fb->nr_frames && "policies ask only about frames of the guest");
    return fb->resident[frame];
}

static uint64_t fb_slot_of(const struct port_backing *b, uint64_t frame)
{
    const struct fake_backing *fb = (const struct fake_backing *)b;
    return frame < fb->nr_frames ? fb->slot[frame] : PORT_BACKING_NONE;
}

static uint64_t fb_frame_of(const struct port_backing *b, uint64_t slot)
{
    const struct fake_backing *fb = (const struct fake_backing *)b;
    return slot < fb->nr_slots ? fb->frame[slot] : PORT_BACKING_NONE;
}

static uint64_t fb_room(const struct port_backing *b)
{
    return ((const struct fake_backing *)b)->room;
}

static const struct port_backing_ops fb_ops = {
    .version = PORT_BACKING_VERSION,
    .name = "fake",
    .nr_frames = fb_nr_frames,
    .nr_slots = fb_nr_slots,
    .is_resident = fb_is_resident,
    .slot_of = fb_slot_of,
    .frame_of = fb_frame_of,
    .room = fb_room,
};

struct fake_backing *fake_backing_new(uint64_t nr_frames, uint64_t nr_slots)
{
    struct fake_backing *fb = calloc(1, sizeof *fb);
    if (!fb)
        return NULL;
    fb->base.ops = &fb_ops;
    fb->nr_frames = nr_frames;
    fb->nr_slots = nr_slots;
    fb->room = PORT_BACKING_NONE;
    fb->resident = malloc(nr_frames * sizeof *fb->resident);
    fb->slot = malloc(nr_frames * sizeof *fb->slot);
    fb->frame = malloc((nr_slots ? nr_slots : 1) * sizeof *fb->frame);
    if (!fb->resident || !fb->slot || !fb->frame) {
        fake_backing_free(fb);
        return NULL;
    }
    for (uint64_t i = 0; i < nr_frames; i++) {
        fb->resident[i] = true;
        fb->slot[i] = PORT_BACKING_NONE;
    }
    for (uint64_t i = 0; i < nr_slots; i++)
        fb->frame[i] = PORT_BACKING_NONE;
    return fb;
}

void fake_backing_free(struct fake_backing *fb)
{
    if (!fb)
        return;
    free(fb->resident);
    free(fb->slot);
    free(fb->frame);
    free(fb);
}

void fake_backing_swap_out(struct fake_backing *fb, uint64_t frame)
{
    assert(frame < fb->nr_frames && fb->next_slot < fb->nr_slots && "room for the page");
    if (fb->slot[frame] == PORT_BACKING_NONE) {
        fb->slot[frame] = fb->next_slot;
        fb->frame[fb->next_slot++] = frame;
    }
    fb->resident[frame] = false;
}

void fake_backing_swap_out_range(struct fake_backing *fb, uint64_t first, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        fake_backing_swap_out(fb, first + i);
}

void fake_backing_bring_in(struct fake_backing *fb, uint64_t frame)
{
    fb->resident[frame] = true;
}

void fake_backing_drop(struct fake_backing *fb, uint64_t frame)
{
    assert(frame < fb->nr_frames && "a frame of the guest");
    if (fb->slot[frame] != PORT_BACKING_NONE) {
        fb->frame[fb->slot[frame]] = PORT_BACKING_NONE;     /* the slot is free */
        fb->slot[frame] = PORT_BACKING_NONE;
    }
    fb->resident[frame] = false;
}
