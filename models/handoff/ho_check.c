/*
 * ho_check.c - the safety invariants, checked at the datastore, from what
 * it accepts (never from what hosts believe):
 *
 * One writer at a time.  A session is a (host, generation) pair whose
 * writes the datastore accepted.  The first accepted write of a new
 * session makes it the disk's current writer and retires the previous
 * one.  A write accepted from a retired session means two hosts were
 * writing the disk in the same interval: a double-writer window opens
 * (from the current writer's first write) and stays open, extended by
 * each such write, until another session takes over or the episode ends.
 * Windows and their length are counted.
 *
 * No acknowledged write lost.  Each block remembers the ordinal of the
 * session that wrote it last (sessions are numbered as they first
 * write).  A write from an older session over a block a newer session
 * wrote overwrites acknowledged data with stale data: counted lost.
 *
 * One owner per generation.  Every lock record update must move the
 * generation from g to exactly g + 1; a lock break that wrote from a
 * stale read (two breakers at once) gives two owners the same
 * generation: counted split.
 */
#include <stdlib.h>

#include "handoff/ho_int.h"

static int32_t sess_find(const struct ho_ds_disk *r, uint32_t host, uint64_t gen)
{
    for (uint32_t i = r->nr_sess; i-- > 0;)
        if (r->sess[i].host == host && r->sess[i].gen == gen)
            return (int32_t)i;
    return -1;
}

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
    int32_t s = sess_find(r, host, gen);
    if (s < 0) {
        if (r->nr_sess == r->cap_sess) {
            uint32_t cap = r->cap_sess ? 2 * r->cap_sess : 4;
            struct ho_sess *p = realloc(r->sess, cap * sizeof *p);
            if (!p)
                return;
            r->sess = p;
            r->cap_sess = cap;
        }
        s = (int32_t)r->nr_sess++;
        r->sess[s] = (struct ho_sess){ .host = host, .gen = gen, .ord = ++c->nr_ords };
        r->sess_first = now;
        c->st.sessions++;
        window_close(c, r);
        r->cur = s;
    } else if (s != r->cur) {
        /* a retired session writes again: two writers */
        if (!r->dw_open) {
            r->dw_open = true;
            r->dw_start = r->sess_first;
            c->st.double_writer++;
        }
        r->dw_last = now;
    }
    uint32_t ord = r->sess[s].ord;
    uint32_t *b = &r->blk_ord[block % c->cfg.blocks_per_disk];
    if (*b > ord)
        c->st.lost_acked++;
    *b = ord;
}

void ho_check_meta(struct ho_cluster *c, uint32_t disk, uint64_t old_gen, uint64_t new_gen)
{
    (void)disk;
    c->st.meta_checked++;
    if (new_gen != old_gen + 1)
        c->st.split_owner++;
}

void ho_check_finish(struct ho_cluster *c)
{
    for (uint32_t d = 0; d < c->cfg.nr_disks; d++)
        window_close(c, &c->ds[d]);
}
