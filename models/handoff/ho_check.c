/*
 * ho_check.c - the safety invariants, checked at the datastore, from what
 * it accepts (never from what hosts believe):
 *
 * One writer at a time.  A session is a (host, generation) pair.  The
 * lock record names the one current session; when it changes (a handoff,
 * a takeover, a lock break, an operator's clear) the sessions before it
 * are superseded at that instant.  A write the datastore accepts from any
 * session but the current one means two hosts were writing the disk: a
 * double-writer window opens at the instant the writer was superseded and
 * stays open, extended by each such write, until the record changes again
 * or the episode ends.  Windows and their length are counted.  (On a
 * fencing datastore this is the fence's own test, made again here so a
 * broken fence shows; on the others it is what catches a stale owner.)
 *
 * No acknowledged write lost.  Each block remembers the generation (and
 * host) of the last write accepted on it.  A write of an older generation
 * over it, or a superseded writer's over another host's block of the same
 * generation (two breakers), overwrites acknowledged data: counted lost.
 *
 * One owner per generation.  Every lock record update must move the
 * generation from g to exactly g + 1; a lock break that wrote from a
 * stale read (two breakers at once) gives two owners the same
 * generation: counted split.
 */
#include <stdlib.h>

#include "handoff/ho_int.h"

static void window_close(struct ho_cluster *c, struct ho_ds_disk *r)
{
    if (!r->dw_open)
        return;
    c->st.double_writer_ns += r->dw_last - r->dw_start;
    r->dw_open = false;
}

void ho_check_write(struct ho_cluster *c, uint32_t disk, uint32_t host, uint64_t gen,
                    uint64_t block)
{
    struct ho_ds_disk *r = &c->ds[disk];
    uint64_t now = ho_now(c);
    c->st.writes_checked++;
    if (host == r->owner && gen == r->gen) {
        if (!r->cur_wrote) {            /* the current session's first write */
            r->cur_wrote = true;
            c->st.sessions++;
        }
    } else {                            /* a superseded session writes: two writers */
        if (!r->dw_open) {
            r->dw_open = true;
            r->dw_start = r->superseded_at;
            c->st.double_writer++;
        }
        r->dw_last = now;
    }
    /* a superseded writer over a block the record's newer (or other, same
     * generation: a split) session wrote clobbers acknowledged data */
    uint64_t k = block % c->cfg.blocks_per_disk;
    bool current = host == r->owner && gen == r->gen;
    if (r->blk_gen[k] > gen || (!current && r->blk_gen[k] == gen && r->blk_host[k] != host))
        c->st.lost_acked++;
    r->blk_gen[k] = gen;                /* what the block holds now */
    r->blk_host[k] = host;
}

void ho_check_meta(struct ho_cluster *c, uint32_t disk, uint64_t old_gen, uint64_t new_gen)
{
    struct ho_ds_disk *r = &c->ds[disk];
    window_close(c, r);                 /* a new writer: a later stale write is a new window */
    r->superseded_at = ho_now(c);
    r->cur_wrote = false;
    c->st.meta_checked++;
    if (new_gen != old_gen + 1)
        c->st.split_owner++;
}

void ho_check_finish(struct ho_cluster *c)
{
    for (uint32_t d = 0; d < c->cfg.nr_disks; d++)
        window_close(c, &c->ds[d]);
}
