/*
 * cons_oracle.c - the expected content of every sector (cons_oracle.h).
 */
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "base/vm_err.h"
#include "base/vm_fp.h"
#include "consolidation/cons_oracle.h"

#define LEAF_SHIFT 8             /* 1 MiB of disk per leaf: 1 KiB */
#define LEAF_SECTORS (1u << LEAF_SHIFT)

/* A sector acknowledged with cons_fp_write(seed, sector, version) keeps
 * the 32-bit version, and its fingerprint is computed again when asked:
 * half the memory of keeping it.  Any other fingerprint (a sector settled
 * after a crash, a version past 32 bits) goes into fp[], made for the
 * leaf when first needed; there, non-zero wins over the version.  A
 * leaf's in-flight counts exist only while some write into it is in
 * flight: a few leaves at a time. */
struct leaf {
    uint32_t ver[LEAF_SECTORS];         /* 0: not by version */
    uint64_t *fp;                       /* [LEAF_SECTORS] or NULL; 0: not by fingerprint */
    uint16_t *inflight;                 /* [LEAF_SECTORS] writes in flight, or NULL: none */
    uint32_t busy;                      /* their sum */
};

struct cons_oracle {
    uint64_t nr_sectors, nr_leaves, nr_grains;
    uint32_t grain_shift;
    struct leaf **leaves;
    int nr_maps;                        /* initial deltas, layers 1..nr_maps */
    uint64_t *maps[CONS_MAX_LAYERS];    /* their grain maps */
    uint64_t (*fp)(void *arg, int layer, uint64_t sector);
    void *arg;
    uint64_t seed;                      /* of the guest's write fingerprints */
};

struct cons_oracle *cons_oracle_new(const struct cons_chain *ch, uint64_t seed,
                                    uint64_t (*fp)(void *arg, int layer, uint64_t sector),
                                    void *arg)
{
    const struct cons_chain_cfg *cfg = cons_chain_cfg(ch);
    struct cons_oracle *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->nr_sectors = cfg->nr_sectors;
    o->grain_shift = cfg->grain_shift;
    o->nr_grains = cons_chain_nr_grains(ch);
    o->nr_leaves = (o->nr_sectors + LEAF_SECTORS - 1) >> LEAF_SHIFT;
    o->leaves = calloc(o->nr_leaves, sizeof *o->leaves);
    o->fp = fp;
    o->arg = arg;
    o->seed = seed;
    if (!o->leaves)
        goto fail;
    o->nr_maps = cons_chain_nr_layers(ch) - 1;
    for (int l = 1; l <= o->nr_maps; l++) {
        uint64_t *m = vm_bitmap_new(o->nr_grains);
        if (!m)
            goto fail;
        o->maps[l - 1] = m;
        cons_chain_mark_allocated(ch, l, m);
    }
    return o;
fail:
    cons_oracle_free(o);
    return NULL;
}

void cons_oracle_free(struct cons_oracle *o)
{
    if (!o)
        return;
    for (uint64_t i = 0; o->leaves && i < o->nr_leaves; i++)
        if (o->leaves[i]) {
            free(o->leaves[i]->inflight);
            free(o->leaves[i]->fp);
            free(o->leaves[i]);
        }
    free(o->leaves);
    for (int l = 0; l < o->nr_maps; l++)
        vm_bitmap_free(o->maps[l]);
    free(o);
}

/* One write in flight on each of sectors k0 .. k0 + nk - 1 of lf is over
 * (a sector without one is skipped, as after a crash cleared the counts;
 * busy is the counts' sum, so it reaches 0 only past the last sector
 * with a count). */
static void leaves_done(struct leaf *lf, uint32_t k0, uint32_t nk)
{
    if (!lf || !lf->inflight)
        return;
    uint32_t done = 0;
    for (uint32_t k = k0; k < k0 + nk; k++) {
        uint16_t c = lf->inflight[k];
        lf->inflight[k] = c ? (uint16_t)(c - 1) : 0;
        done += c != 0;
    }
    lf->busy -= done;
    if (lf->busy == 0) {
        free(lf->inflight);
        lf->inflight = NULL;
    }
}

static struct leaf *leaf_get(struct cons_oracle *o, uint64_t s)
{
    struct leaf **slot = &o->leaves[s >> LEAF_SHIFT];
    if (!*slot)
        *slot = calloc(1, sizeof **slot);
    return *slot;
}

int cons_oracle_begin(struct cons_oracle *o, uint64_t s, uint32_t n)
{
    uint64_t end = s + n;
    for (uint64_t i = s; i < end;) {             /* a leaf's part at a time */
        struct leaf *lf = leaf_get(o, i);
        if (!lf)
            return VM_ENOMEM;
        if (!lf->inflight) {
            /* malloc and memset, not calloc: glibc's calloc skips the
             * per-thread cache, and this array comes and goes with every
             * write into an idle leaf */
            if (!(lf->inflight = malloc(LEAF_SECTORS * sizeof *lf->inflight)))
                return VM_ENOMEM;
            memset(lf->inflight, 0, LEAF_SECTORS * sizeof *lf->inflight);
        }
        uint64_t stop = ((i >> LEAF_SHIFT) + 1) << LEAF_SHIFT;
        if (stop > end)
            stop = end;
        lf->busy += (uint32_t)(stop - i);
        for (; i < stop; i++)
            lf->inflight[i & (LEAF_SECTORS - 1)]++;
    }
    return 0;
}

/* Sector k of lf holds fp (not by version).  VM_ENOMEM when the leaf's
 * fingerprint array cannot be made: the sector's version is cleared and
 * its expectation is then unknown (cons_oracle_ack's caller ends the run;
 * cons_oracle_set, after a crash, leaves the initial content expected,
 * as it does when it cannot make the leaf). */
static int leaf_set_fp(struct leaf *lf, uint32_t k, uint64_t fp)
{
    lf->ver[k] = 0;
    if (!lf->fp && fp && !(lf->fp = calloc(LEAF_SECTORS, sizeof *lf->fp)))
        return VM_ENOMEM;
    if (lf->fp)
        lf->fp[k] = fp;
    return 0;
}

int cons_oracle_ack(struct cons_oracle *o, uint64_t s, uint32_t n, const uint64_t *fps,
                     uint64_t ver0)
{
    /* by version when the fingerprints are what it says (the first is
     * checked) and the last version fits */
    bool by_ver = ver0 && ver0 + n - 1 <= UINT32_MAX && n &&
                  fps[0] == cons_fp_write(o->seed, s, ver0);
    int rc = 0;
    for (uint64_t i = s, end = s + n; i < end;) {   /* a leaf's part at a time */
        struct leaf *lf = o->leaves[i >> LEAF_SHIFT];
        uint64_t stop = ((i >> LEAF_SHIFT) + 1) << LEAF_SHIFT;
        if (stop > end)
            stop = end;
        uint32_t k0 = i & (LEAF_SECTORS - 1), nk = (uint32_t)(stop - i);
        if (by_ver) {
            uint32_t v = (uint32_t)(ver0 + (i - s));
            for (uint32_t k = k0; k < k0 + nk; k++)
                lf->ver[k] = v++;
            if (lf->fp)
                memset(lf->fp + k0, 0, nk * sizeof *lf->fp);
        } else {
            for (uint32_t k = k0; k < k0 + nk; k++)
                if (leaf_set_fp(lf, k, fps[i - s + (k - k0)]))
                    rc = VM_ENOMEM;
        }
        leaves_done(lf, k0, nk);
        i = stop;
    }
    return rc;
}

void cons_oracle_fail(struct cons_oracle *o, uint64_t s, uint32_t n)
{
    for (uint64_t i = s, end = s + n; i < end;) {   /* a leaf's part at a time */
        uint64_t stop = ((i >> LEAF_SHIFT) + 1) << LEAF_SHIFT;
        if (stop > end)
            stop = end;
        leaves_done(o->leaves[i >> LEAF_SHIFT], i & (LEAF_SECTORS - 1), (uint32_t)(stop - i));
        i = stop;
    }
}

void cons_oracle_clear_inflight(struct cons_oracle *o)
{
    for (uint64_t i = 0; i < o->nr_leaves; i++)
        if (o->leaves[i]) {
            free(o->leaves[i]->inflight);
            o->leaves[i]->inflight = NULL;
            o->leaves[i]->busy = 0;
        }
}

void cons_oracle_set(struct cons_oracle *o, uint64_t s, uint64_t fp)
{
    struct leaf *lf = leaf_get(o, s);
    if (lf)
        leaf_set_fp(lf, s & (LEAF_SECTORS - 1), fp);
}

/* The initial content of sector s: the topmost initial delta that has
 * its grain, else the base's (0: never written). */
static uint64_t initial(const struct cons_oracle *o, uint64_t s)
{
    uint64_t g = s >> o->grain_shift;
    for (int l = o->nr_maps; l >= 1; l--)
        if (vm_bitmap_test(o->maps[l - 1], g))
            return o->fp(o->arg, l, s);
    return 0;
}

/* Sector k of lf (sector s): a fingerprint wins over a version, a
 * version over the initial content. */
static inline uint64_t leaf_expect(const struct cons_oracle *o, const struct leaf *lf,
                                   uint32_t k, uint64_t s)
{
    if (lf->fp && lf->fp[k])
        return lf->fp[k];
    if (lf->ver[k])
        return cons_fp_write(o->seed, s, lf->ver[k]);
    return initial(o, s);
}

uint64_t cons_oracle_expect(const struct cons_oracle *o, uint64_t s)
{
    const struct leaf *lf = o->leaves[s >> LEAF_SHIFT];
    return lf ? leaf_expect(o, lf, s & (LEAF_SECTORS - 1), s) : initial(o, s);
}

void cons_oracle_expect_run(const struct cons_oracle *o, uint64_t s, uint64_t n,
                            uint64_t *out)
{
    for (uint64_t i = s, end = s + n; i < end;) {   /* a leaf's part at a time */
        const struct leaf *lf = o->leaves[i >> LEAF_SHIFT];
        uint64_t stop = ((i >> LEAF_SHIFT) + 1) << LEAF_SHIFT;
        if (stop > end)
            stop = end;
        if (lf)
            for (; i < stop; i++)
                *out++ = leaf_expect(o, lf, i & (LEAF_SECTORS - 1), i);
        else
            for (; i < stop; i++)
                *out++ = initial(o, i);
    }
}

bool cons_oracle_busy(const struct cons_oracle *o, uint64_t s)
{
    const struct leaf *lf = o->leaves[s >> LEAF_SHIFT];
    return lf && lf->inflight && lf->inflight[s & (LEAF_SECTORS - 1)];
}

/* Runs go to the parts in turns of EACH_TURN: neighbouring runs, whose
 * memory is near, in one part; each part a share of every region. */
#define EACH_TURN 64

int cons_oracle_each_part(const struct cons_oracle *o, unsigned part, unsigned nparts,
                          int (*fn)(void *arg, uint64_t s, uint64_t n), void *arg)
{
    uint64_t gs = 1ull << o->grain_shift, idx = 0;
    for (int l = 0; l < o->nr_maps; l++)
        for (uint64_t g = vm_bitmap_next_set(o->maps[l], o->nr_grains, 0); g < o->nr_grains;
             g = vm_bitmap_next_set(o->maps[l], o->nr_grains, g + 1)) {
            if (idx++ / EACH_TURN % nparts != part)
                continue;
            uint64_t s = g << o->grain_shift, n = gs;
            if (s + n > o->nr_sectors)
                n = o->nr_sectors - s;
            int rc = fn(arg, s, n);
            if (rc)
                return rc;
        }
    for (uint64_t i = 0; i < o->nr_leaves; i++) {
        if (!o->leaves[i] || idx++ / EACH_TURN % nparts != part)
            continue;
        uint64_t s = i << LEAF_SHIFT, n = LEAF_SECTORS;
        if (s + n > o->nr_sectors)
            n = o->nr_sectors - s;
        int rc = fn(arg, s, n);
        if (rc)
            return rc;
    }
    return 0;
}

int cons_oracle_each(const struct cons_oracle *o,
                     int (*fn)(void *arg, uint64_t s, uint64_t n), void *arg)
{
    return cons_oracle_each_part(o, 0, 1, fn, arg);
}
