/*
 * cons_load.c - the guest's disk I/O stream (cons_load.h): an open-loop
 * synthetic generator shaped like a fio job (rate, rw mix, block size,
 * sequential or aligned random offsets, a hot region) and the replay of
 * a recorded stream (sim/sim_blocktrace.c maps a file-I/O trace onto the
 * disk).
 *
 * Open loop: arrivals do not wait for completions (fio's rate_process
 * with an unlimited queue), so a slow disk shows up as queueing at the
 * consumer, not as a lower offered load.  Each random choice (arrival
 * gaps, read or write, hot or cold, offset) draws from a stream of its
 * own, so changing one knob (say read_fraction) leaves the others'
 * sequences as they were.
 *
 * A closed loop (cons_load_set_closed) is the consumer's: it takes the
 * same requests as they come free of their times.
 *
 * Not modelled: think time between dependent requests, request size
 * distributions, trim.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_rand.h"
#include "consolidation/cons_load.h"

#define SECTOR_BYTES 4096.0
#define NS_PER_S 1e9
#define MIN_LAP_NS 1000.0           /* a loop's laps at least 1 us apart */

/* random streams of one synthetic load ("cl" + index) */
enum { STREAM_GAP = 0x636c00, STREAM_OP, STREAM_HOT, STREAM_WHERE };

/* a range of request-size-aligned slots: requests start at k * req for k
 * in [lo, lo + nr) */
struct slots {
    uint64_t lo, nr;
};

struct cons_load {
    bool synth;
    bool closed;                    /* for the consumer: cons_load_set_closed() */
    uint32_t qdepth;

    /* synthetic */
    struct cons_load_cfg cfg;
    uint64_t nr_sectors;
    uint64_t hot_start, hot_end;    /* the hot set (the whole disk when cfg has none) */
    struct slots hot, all;
    double gap_ns;                  /* mean time between arrivals */
    double t_ns;                    /* Poisson: the last arrival, unrounded */
    uint64_t nr_out;                /* arrivals so far */
    uint64_t seq_next;              /* the sequential stream's next sector */
    struct vm_rand r_gap, r_op, r_hot, r_where;

    /* replay */
    struct vm_blkio *ios;
    size_t nr_ios, next;
    double speed;
    bool loop;
    double lap_ns;                  /* one lap in trace time */
    uint64_t lap;
};

/* aligned slots inside [start, end): k * req >= start, (k + 1) * req <= end */
static struct slots slots_in(uint64_t start, uint64_t end, uint32_t req)
{
    struct slots s = { .lo = (start + req - 1) / req, .nr = 0 };
    uint64_t hi = end / req;
    if (hi > s.lo)
        s.nr = hi - s.lo;
    return s;
}

struct cons_load *cons_load_new_synth(const struct cons_load_cfg *cfg, uint64_t nr_sectors,
                                      uint64_t seed)
{
    if (!cfg)
        return NULL;
    /* written this way so that NaN fails every test */
    if (!(cfg->write_bps > 0 && isfinite(cfg->write_bps)))
        return NULL;
    if (!(cfg->read_fraction >= 0 && cfg->read_fraction < 1))
        return NULL;
    if (!(cfg->hot_share >= 0 && cfg->hot_share <= 1))
        return NULL;
    if (cfg->req_sectors == 0 || cfg->qdepth == 0 || nr_sectors < cfg->req_sectors)
        return NULL;
    uint64_t hot_start = cfg->hot_start, hot_end;
    if (cfg->hot_sectors == 0) {
        if (hot_start != 0)
            return NULL;
        hot_end = nr_sectors;
    } else {
        if (hot_start >= nr_sectors || cfg->hot_sectors > nr_sectors - hot_start)
            return NULL;
        hot_end = hot_start + cfg->hot_sectors;
    }
    if (hot_end - hot_start < cfg->req_sectors)
        return NULL;
    struct slots hot = slots_in(hot_start, hot_end, cfg->req_sectors);
    struct slots all = slots_in(0, nr_sectors, cfg->req_sectors);
    if (!cfg->sequential && hot.nr == 0)
        return NULL;                /* no aligned request fits in the hot set */

    struct cons_load *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->synth = true;
    l->qdepth = cfg->qdepth;
    l->cfg = *cfg;
    l->nr_sectors = nr_sectors;
    l->hot_start = hot_start;
    l->hot_end = hot_end;
    l->hot = hot;
    l->all = all;
    double writes_per_s = cfg->write_bps / (cfg->req_sectors * SECTOR_BYTES);
    /* writes are (1 - read_fraction) of all requests */
    l->gap_ns = NS_PER_S * (1 - cfg->read_fraction) / writes_per_s;
    l->seq_next = hot_start;
    vm_rand_init(&l->r_gap, seed, STREAM_GAP);
    vm_rand_init(&l->r_op, seed, STREAM_OP);
    vm_rand_init(&l->r_hot, seed, STREAM_HOT);
    vm_rand_init(&l->r_where, seed, STREAM_WHERE);
    return l;
}

struct cons_load *cons_load_new_trace(const struct vm_blkio *ios, size_t n, double speed,
                                      bool loop, uint32_t qdepth)
{
    if (!ios || n == 0 || qdepth == 0 || !(speed > 0 && isfinite(speed)))
        return NULL;
    if (n > SIZE_MAX / sizeof(*ios))
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (ios[i].op > VM_BLKIO_FLUSH)
            return NULL;
        if (i > 0 && ios[i].t_ns < ios[i - 1].t_ns)
            return NULL;
    }
    struct cons_load *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->ios = malloc(n * sizeof(*ios));
    if (!l->ios) {
        free(l);
        return NULL;
    }
    memcpy(l->ios, ios, n * sizeof(*ios));
    l->nr_ios = n;
    l->speed = speed;
    l->loop = loop;
    l->qdepth = qdepth;
    double lap = (double)(ios[n - 1].t_ns - ios[0].t_ns);
    if (n >= 2)
        lap += (double)(ios[1].t_ns - ios[0].t_ns);
    l->lap_ns = lap < MIN_LAP_NS ? MIN_LAP_NS : lap;
    return l;
}

void cons_load_free(struct cons_load *l)
{
    if (!l)
        return;
    free(l->ios);
    free(l);
}

uint32_t cons_load_qdepth(const struct cons_load *l)
{
    return l ? l->qdepth : 0;
}

void cons_load_set_closed(struct cons_load *l, bool closed)
{
    if (l)
        l->closed = closed;
}

bool cons_load_closed(const struct cons_load *l)
{
    return l && l->closed;
}

/* The next request's first sector, from the hot set or the whole disk. */
static uint64_t synth_where(struct cons_load *l)
{
    const struct cons_load_cfg *c = &l->cfg;
    /* hot_share 1 never draws cold, 0 never hot: U is in [0, 1) */
    bool hot = vm_rand_double(&l->r_hot) < c->hot_share;
    if (c->sequential && hot) {
        if (l->hot_end - l->seq_next < c->req_sectors)
            l->seq_next = l->hot_start;     /* wrap: never cross the hot set's end */
        uint64_t s = l->seq_next;
        l->seq_next += c->req_sectors;
        return s;
    }
    const struct slots *sl = hot ? &l->hot : &l->all;
    return (sl->lo + vm_rand_below(&l->r_where, sl->nr)) * c->req_sectors;
}

static void synth_next(struct cons_load *l, struct vm_blkio *out)
{
    const struct cons_load_cfg *c = &l->cfg;
    double t;
    if (c->poisson) {
        /* 1 - U is in (0, 1]: the log is finite */
        l->t_ns += -log(1 - vm_rand_double(&l->r_gap)) * l->gap_ns;
        t = l->t_ns;
    } else {
        t = (double)(l->nr_out + 1) * l->gap_ns;    /* no drift from summing */
    }
    l->nr_out++;
    out->t_ns = (uint64_t)llround(t);
    out->op = vm_rand_double(&l->r_op) < c->read_fraction ? VM_BLKIO_READ : VM_BLKIO_WRITE;
    out->sector = synth_where(l);
    out->nr = c->req_sectors;
}

bool cons_load_next(struct cons_load *l, struct vm_blkio *out)
{
    if (!l || !out)
        return false;
    if (l->synth) {
        synth_next(l, out);
        return true;
    }
    if (l->next == l->nr_ios) {
        if (!l->loop)
            return false;
        l->next = 0;
        l->lap++;
    }
    *out = l->ios[l->next++];
    double t = ((double)out->t_ns + (double)l->lap * l->lap_ns) / l->speed;
    out->t_ns = (uint64_t)llround(t);
    return true;
}
