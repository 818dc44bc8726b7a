/*
 * cons_chain_fmt.c - the disk chain's blocks on the device (layout in
 * cons_chain.h, blob layouts in cons_chain_int.h): encoding and checking
 * of the header, GD, GT and descriptor blobs, and the set-up that writes
 * a whole chain straight into the device's store before time starts
 * (grains in batches of whole grains, so a 100 GiB delta takes about a
 * second).  Not modelled: torn multi-block writes (every metadata block
 * is one packed extent, written whole or not at all).
 */
#include "consolidation/cons_chain.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_err.h"
#include "base/vm_fp.h"
#include "consolidation/cons_chain_int.h"

/* ---- little-endian fields ----------------------------------------------- */

static void put32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static uint64_t get64(const uint8_t *b) { return get32(b) | (uint64_t)get32(b + 4) << 32; }

/* The blob is len bytes; its last 8 are the sum of the rest. */
static void seal(uint8_t *b, uint32_t len) { put64(b + len - 8, vm_fp_bytes(b, len - 8)); }

static int check_frame(const uint8_t *b, uint32_t len, uint32_t want_len, uint32_t magic,
                       const char *what, char *err, size_t errlen)
{
    if (len != want_len) {
        snprintf(err, errlen, "%s: %u bytes, expected %u", what, len, want_len);
        return VM_EPARSE;
    }
    if (get32(b) != magic) {
        snprintf(err, errlen, "%s: bad magic 0x%08x", what, get32(b));
        return VM_EPARSE;
    }
    if (get64(b + len - 8) != vm_fp_bytes(b, len - 8)) {
        snprintf(err, errlen, "%s: bad checksum (torn or overwritten block)", what);
        return VM_EPARSE;
    }
    return 0;
}

void cons_fmt_put_hdr(uint8_t *b, const struct cons_hdr *h)
{
    put32(b, CONS_HDR_MAGIC);
    put32(b + 4, CONS_FMT_VERSION);
    put32(b + 8, h->grain_shift);
    put32(b + 12, h->slot);
    put64(b + 16, h->nr_sectors);
    put64(b + 24, h->gd_blocks);
    seal(b, CONS_HDR_LEN);
}

int cons_fmt_get_hdr(const uint8_t *b, uint32_t len, struct cons_hdr *h, char *err,
                     size_t errlen)
{
    int rc = check_frame(b, len, CONS_HDR_LEN, CONS_HDR_MAGIC, "header", err, errlen);
    if (rc)
        return rc;
    *h = (struct cons_hdr){ .magic = get32(b), .version = get32(b + 4),
                            .grain_shift = get32(b + 8), .slot = get32(b + 12),
                            .nr_sectors = get64(b + 16), .gd_blocks = (uint32_t)get64(b + 24) };
    if (h->version != CONS_FMT_VERSION) {
        snprintf(err, errlen, "header: version %u, expected %u", h->version, CONS_FMT_VERSION);
        return VM_EPARSE;
    }
    return 0;
}

void cons_fmt_put_desc(uint8_t *b, const struct cons_desc *d)
{
    memset(b, 0, CONS_DESC_LEN);
    put32(b, CONS_DESC_MAGIC);
    put32(b + 4, CONS_FMT_VERSION);
    put64(b + 8, d->generation);
    put64(b + 16, d->nr_sectors);
    put32(b + 24, d->grain_shift);
    put32(b + 28, d->nr_layers);
    for (uint32_t i = 0; i < CONS_MAX_LAYERS; i++)
        put32(b + 40 + 4 * i, i < d->nr_layers ? d->slots[i] : 0);
    uint8_t *p = b + 40 + 4 * CONS_MAX_LAYERS;
    put32(p, d->job_len);
    memcpy(p + 4, d->job, d->job_len);
    seal(b, CONS_DESC_LEN);
}

int cons_fmt_get_desc(const uint8_t *b, uint32_t len, struct cons_desc *d, char *err,
                      size_t errlen)
{
    int rc = check_frame(b, len, CONS_DESC_LEN, CONS_DESC_MAGIC, "descriptor", err, errlen);
    if (rc)
        return rc;
    memset(d, 0, sizeof(*d));
    d->magic = get32(b);
    d->version = get32(b + 4);
    d->generation = get64(b + 8);
    d->nr_sectors = get64(b + 16);
    d->grain_shift = get32(b + 24);
    d->nr_layers = get32(b + 28);
    const uint8_t *p = b + 40 + 4 * CONS_MAX_LAYERS;
    d->job_len = get32(p);
    if (d->version != CONS_FMT_VERSION || d->nr_layers < 1 || d->nr_layers > CONS_MAX_LAYERS ||
        d->job_len > CONS_JOB_MAX) {
        snprintf(err, errlen, "descriptor: version %u, %u layers, job of %u bytes", d->version,
                 d->nr_layers, d->job_len);
        return VM_EPARSE;
    }
    for (uint32_t i = 0; i < d->nr_layers; i++)
        d->slots[i] = get32(b + 40 + 4 * i);
    memcpy(d->job, p + 4, d->job_len);
    return 0;
}

void cons_fmt_put_tbl(uint8_t *b, uint32_t magic, uint32_t slot, uint32_t index,
                      const uint32_t *ent, uint32_t nr_valid, uint32_t n)
{
    put32(b, magic);
    put32(b + 4, slot);
    put32(b + 8, index);
    put32(b + 12, n);
    uint32_t nv = nr_valid < n ? nr_valid : n;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* the entries are little-endian uint32 already: a GT is written on
     * every grain a copy or a guest write allocates */
    if (nv)
        memcpy(b + CONS_TBL_HEAD, ent, 4 * (size_t)nv);
#else
    for (uint32_t i = 0; i < nv; i++)
        put32(b + CONS_TBL_HEAD + 4 * i, ent[i]);
#endif
    memset(b + CONS_TBL_HEAD + 4 * (size_t)nv, 0, 4 * (size_t)(n - nv));
    seal(b, CONS_TBL_HEAD + 4 * n + 8);
}

int cons_fmt_get_tbl(const uint8_t *b, uint32_t len, uint32_t magic, uint32_t slot,
                     uint32_t index, uint32_t *ent, uint32_t n, char *err, size_t errlen)
{
    const char *what = magic == CONS_GT_MAGIC ? "GT block" : "GD block";
    int rc = check_frame(b, len, CONS_TBL_HEAD + 4 * n + 8, magic, what, err, errlen);
    if (rc)
        return rc;
    if (get32(b + 4) != slot || get32(b + 8) != index || get32(b + 12) != n) {
        snprintf(err, errlen, "%s: of slot %u index %u, expected slot %u index %u", what,
                 get32(b + 4), get32(b + 8), slot, index);
        return VM_EPARSE;
    }
    for (uint32_t i = 0; i < n; i++)
        ent[i] = get32(b + CONS_TBL_HEAD + 4 * i);
    return 0;
}


/* ---- the descriptor's content -------------------------------------------- */

uint64_t cons_desc_fill(struct cons_chain *ch, struct cons_desc *d)
{
    uint64_t mask = 0;
    *d = (struct cons_desc){ .generation = ++ch->generation,
                             .nr_sectors = ch->cfg.nr_sectors,
                             .grain_shift = ch->cfg.grain_shift,
                             .nr_layers = (uint32_t)ch->nr_layers, .job_len = ch->job_len };
    for (int l = 0; l < ch->nr_layers; l++) {
        d->slots[l] = ch->layers[l]->slot;
        mask |= UINT64_C(1) << d->slots[l];
    }
    memcpy(d->job, ch->job, ch->job_len);
    return mask;
}

/* ---- set-up: straight into the store, no time ------------------------ */

static int setup_desc(struct cons_chain *ch, const struct cons_setup *su)
{
    struct cons_desc d;
    ch->slot_named = cons_desc_fill(ch, &d);
    cons_fmt_put_desc(ch->desc_blob, &d);
    return su->put_meta(su->arg, ch->cfg.desc_lba, ch->desc_blob, CONS_DESC_LEN);
}

int cons_chain_setup_desc(struct cons_chain *ch, const struct cons_setup *su)
{
    return setup_desc(ch, su);
}

#define SETUP_BATCH 65536u          /* sectors per put: grain-sized or larger batches */

struct batch {
    const struct cons_setup *su;
    uint64_t lba;
    uint32_t n;
    uint64_t *fps;
};

static int batch_flush(struct batch *b)
{
    int rc = b->n ? b->su->put(b->su->arg, b->lba, b->n, b->fps) : 0;
    b->n = 0;
    return rc;
}

static int setup_tables(struct cons_chain *ch, const struct cons_setup *su, struct cons_layer *ly)
{
    uint8_t blob[CONS_BLOB_MAX];
    int rc = 0;
    for (uint64_t t = 0; rc == 0 && t < ch->nr_gts; t++) {
        if (!ly->gt_pos[t])
            continue;
        cons_fmt_put_tbl(blob, CONS_GT_MAGIC, ly->slot, (uint32_t)t, ly->gt[t],
                         ly->gt[t] ? CONS_GT_ENTRIES : 0, CONS_GT_ENTRIES);
        rc = su->put_meta(su->arg, ly->lba0 + ly->gt_pos[t], blob, CONS_GT_LEN);
        ly->gd_img[t] = ly->gt_pos[t];
    }
    for (uint32_t i = 0; rc == 0 && i < ch->gd_blocks; i++) {
        uint64_t first = (uint64_t)i * CONS_GD_PER_BLOCK;
        uint64_t nv = ch->nr_gts - first < CONS_GD_PER_BLOCK ? ch->nr_gts - first
                                                               : CONS_GD_PER_BLOCK;
        cons_fmt_put_tbl(blob, CONS_GD_MAGIC, ly->slot, i, ly->gd_img + first, (uint32_t)nv,
                         CONS_GD_PER_BLOCK);
        rc = su->put_meta(su->arg, ly->lba0 + 1 + i, blob, CONS_GD_LEN);
    }
    if (rc == 0) {
        struct cons_hdr h = { .grain_shift = ch->cfg.grain_shift, .slot = ly->slot,
                              .nr_sectors = ch->cfg.nr_sectors, .gd_blocks = ch->gd_blocks };
        cons_fmt_put_hdr(blob, &h);
        rc = su->put_meta(su->arg, ly->lba0, blob, CONS_HDR_LEN);
    }
    return rc;
}

int cons_chain_setup_delta(struct cons_chain *ch, const struct cons_setup *su,
                           uint64_t nr_grains,
                           uint64_t (*pick)(void *arg, uint64_t i),
                           uint64_t (*fp)(void *arg, int layer, uint64_t sector), void *arg)
{
    if (ch->nr_layers >= CONS_MAX_LAYERS)
        return VM_ENOSPC;
    int slot = cons_free_slot(ch);
    if (slot < 0)
        return VM_ENOSPC;
    if (nr_grains > ch->nr_grains)
        return VM_ERANGE;
    struct cons_layer *ly = cons_layer_new(ch, (uint32_t)slot);
    struct batch b = { .su = su, .fps = malloc(SETUP_BATCH * sizeof(uint64_t)) };
    if (!ly || !b.fps) {
        cons_layer_free(ch, ly);
        free(b.fps);
        return VM_ENOMEM;
    }
    int layer = ch->nr_layers;
    uint32_t gsec = ch->gsec;
    int rc = 0;
    uint64_t prev = 0;
    for (uint64_t i = 0; rc == 0 && i < nr_grains; i++) {
        uint64_t g = pick(arg, i);
        if (g >= ch->nr_grains || (i > 0 && g <= prev)) {
            rc = VM_ERANGE;
            break;
        }
        prev = g;
        uint32_t pos = 0;
        if (!cons_layer_reserve_gt(ch, ly, g / CONS_GT_ENTRIES) ||
            !(pos = cons_layer_reserve_grain(ch, ly))) {
            rc = VM_ENOSPC;
            break;
        }
        if ((rc = cons_layer_set(ly, g, pos)))
            break;
        uint64_t lba = ly->lba0 + pos;
        if (b.n && (b.lba + b.n != lba || b.n + gsec > SETUP_BATCH))
            rc = batch_flush(&b);
        if (!b.n)
            b.lba = lba;
        uint64_t s0 = g << ch->cfg.grain_shift;
        for (uint32_t k = 0; k < gsec; k++)
            b.fps[b.n + k] = s0 + k < ch->cfg.nr_sectors ? fp(arg, layer, s0 + k) : 0;
        b.n += gsec;
    }
    if (rc == 0)
        rc = batch_flush(&b);
    free(b.fps);
    if (rc == 0)
        rc = setup_tables(ch, su, ly);
    if (rc) {
        cons_layer_free(ch, ly);
        return rc;
    }
    for (uint32_t i = 0; i < ch->gd_blocks; i++)    /* what is on the device: write 1 */
        ly->gdc[i]->started = ly->gdc[i]->done = 1;
    ch->layers[ch->nr_layers++] = ly;
    ch->slot_live |= UINT64_C(1) << slot;
    return setup_desc(ch, su);
}

