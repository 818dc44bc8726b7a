/*
 * ckpt_writer.c - submit, count, track in flight, and end a save with
 * maps then header: the machinery shared by every save policy (see
 * ckpt_writer.h).  Based on the header-last commit rule of ckpt_file.h.
 * Not modelled: a cache flush between data and header (an acknowledged
 * write is durable in this model).
 */
#include "checkpoint/ckpt_writer.h"

#include <stdlib.h>
#include <string.h>

#include "base/vm_fp.h"

static void wreq_done(struct port_blk_req *req, int rc)
{
    struct ckpt_wreq *r = (struct ckpt_wreq *)req;
    struct ckpt_writer *w = r->w;
    w->in_flight--;
    if (rc < 0) {
        if (!w->err)
            w->err = rc;
    } else {
        w->bytes_acked += (uint64_t)req->nr_blocks * VM_PAGE_SIZE;
    }
    if (r->staged_bytes) {
        ckpt_writer_stage(w, -(int64_t)r->staged_bytes);
        r->staged_bytes = 0;
    }
    if (r->pool < 0)
        return;                          /* maps or header: finish() moves on */
    if (w->done)
        w->done(w->owner, r, rc);
    ckpt_writer_put(w, r);
}

void ckpt_writer_init(struct ckpt_writer *w, const struct ckpt_env *env, struct ckpt_stats *st,
                      ckpt_writer_done_fn done, void *owner)
{
    memset(w, 0, sizeof(*w));
    w->dev = env->file;
    w->mem = env->mem;
    w->clock = env->clock;
    w->st = st;
    w->dev_blocks = port_blk_nr_blocks(env->file);
    w->cursor = CKPT_DATA_LBA;
    w->done = done;
    w->owner = owner;
    w->meta_req.w = w;
    w->meta_req.pool = -1;
}

int ckpt_writer_add_pool(struct ckpt_writer *w, int idx, uint32_t nr_reqs, uint32_t fps_per_req)
{
    struct ckpt_wpool *p = &w->pools[idx];
    p->reqs = calloc(nr_reqs, sizeof(*p->reqs));
    p->fps = calloc((size_t)nr_reqs * fps_per_req, sizeof(uint64_t));
    if (!p->reqs || !p->fps) {
        free(p->reqs);
        free(p->fps);
        memset(p, 0, sizeof(*p));
        return VM_ENOMEM;
    }
    p->nr_reqs = nr_reqs;
    p->fps_per_req = fps_per_req;
    p->nr_free = 0;
    p->free = NULL;
    for (uint32_t i = nr_reqs; i-- > 0;) {
        struct ckpt_wreq *r = &p->reqs[i];
        r->w = w;
        r->fps = p->fps + (size_t)i * fps_per_req;
        r->pool = idx;
        r->id = i;
        r->next_free = p->free;
        p->free = r;
        p->nr_free++;
    }
    return 0;
}

void ckpt_writer_fini(struct ckpt_writer *w)
{
    for (int i = 0; i < CKPT_WRITER_MAX_POOLS; i++) {
        free(w->pools[i].reqs);
        free(w->pools[i].fps);
        memset(&w->pools[i], 0, sizeof(w->pools[i]));
    }
    free(w->maps_buf);
    w->maps_buf = NULL;
}

struct ckpt_wreq *ckpt_writer_get(struct ckpt_writer *w, int idx)
{
    struct ckpt_wpool *p = &w->pools[idx];
    struct ckpt_wreq *r = p->free;
    if (!r)
        return NULL;
    p->free = r->next_free;
    p->nr_free--;
    r->next_free = NULL;
    return r;
}

void ckpt_writer_put(struct ckpt_writer *w, struct ckpt_wreq *r)
{
    struct ckpt_wpool *p = &w->pools[r->pool];
    r->next_free = p->free;
    p->free = r;
    p->nr_free++;
}

int ckpt_writer_alloc(struct ckpt_writer *w, uint64_t nr_blocks, uint64_t *lba)
{
    if (nr_blocks > w->dev_blocks || w->cursor > w->dev_blocks - nr_blocks) {
        if (!w->err)
            w->err = VM_ENOSPC;
        return VM_ENOSPC;
    }
    *lba = w->cursor;
    w->cursor += nr_blocks;
    return 0;
}

void ckpt_writer_stage(struct ckpt_writer *w, int64_t delta)
{
    w->st->staging_bytes += (uint64_t)delta;
    if (w->st->staging_bytes > w->st->staging_bytes_max)
        w->st->staging_bytes_max = w->st->staging_bytes;
}

static int submit(struct ckpt_writer *w, struct ckpt_wreq *r)
{
    struct ckpt_stats *st = w->st;
    st->write_reqs++;
    st->write_ios += port_blk_req_ios(&r->req);
    st->bytes_written += (uint64_t)r->req.nr_blocks * VM_PAGE_SIZE;
    w->in_flight++;
    int rc = port_blk_submit(w->dev, &r->req);
    if (rc < 0) {
        w->in_flight--;
        if (!w->err)
            w->err = rc;
    }
    return rc;
}

int ckpt_writer_submit(struct ckpt_writer *w, struct ckpt_wreq *r, uint64_t lba,
                       uint32_t nr_blocks, uint32_t nr_ios, int packed, uint32_t nr_fps,
                       uint64_t payload_bytes, uint64_t staged_bytes)
{
    r->req = (struct port_blk_req){
        .op = PORT_BLK_WRITE, .lba = lba, .nr_blocks = nr_blocks, .nr_ios = nr_ios,
        .lbas = r->lbas, .io_blocks = r->lbas ? r->io_blocks : NULL, .packed = packed,
        .fps = r->fps, .nr_fps = packed ? nr_fps : nr_blocks,
        .cb = wreq_done, .data = r,
    };
    r->staged_bytes = staged_bytes;
    w->st->payload_bytes += payload_bytes;
    int rc = submit(w, r);
    if (rc < 0) {
        if (staged_bytes)
            ckpt_writer_stage(w, -(int64_t)staged_bytes);
        r->staged_bytes = 0;
        ckpt_writer_put(w, r);
    }
    return rc;
}

int ckpt_writer_failed(struct ckpt_writer *w)
{
    if (w->err && !w->untraced) {
        port_mem_set_trace(w->mem, 0, port_mem_nr_pages(w->mem), PORT_MEM_TRACE_NONE);
        w->untraced = true;
    }
    return w->err;
}

int ckpt_writer_step_failed(struct ckpt_writer *w)
{
    int rc = ckpt_writer_failed(w);
    return w->in_flight ? CKPT_STEP_WAIT : rc;
}

static int submit_meta(struct ckpt_writer *w, uint64_t lba, uint32_t nr_blocks, void *bytes,
                       uint32_t len)
{
    w->meta_req.req = (struct port_blk_req){
        .op = PORT_BLK_WRITE, .lba = lba, .nr_blocks = nr_blocks, .nr_ios = 1, .packed = 1,
        .bytes = bytes, .len = len, .cb = wreq_done, .data = &w->meta_req,
    };
    w->st->meta_bytes += (uint64_t)nr_blocks * VM_PAGE_SIZE;
    return submit(w, &w->meta_req);
}

int ckpt_writer_finish(struct ckpt_writer *w, struct ckpt_image *img)
{
    if (w->err)
        return ckpt_writer_step_failed(w);
    if (w->in_flight)
        return CKPT_STEP_WAIT;
    struct ckpt_header *h = &img->hdr;
    if (w->meta == CKPT_WMETA_NONE) {
        h->magic = CKPT_MAGIC;
        h->version = CKPT_FORMAT_VERSION;
        w->meta = CKPT_WMETA_MAPS;
        w->st->zero_pages = ckpt_image_nr_zero(img);
        if (ckpt_image_has_maps(img)) {
            size_t len;
            uint64_t xxh;
            int rc = ckpt_maps_encode_xxh(img, &w->maps_buf, &len, &xxh);
            if (rc)
                return w->err = rc;
            if (len > UINT32_MAX)
                return w->err = VM_ERANGE;
            uint64_t nb = (len + VM_PAGE_SIZE - 1) / VM_PAGE_SIZE, lba;
            if (ckpt_writer_alloc(w, nb, &lba))
                return ckpt_writer_step_failed(w);
            h->maps_lba = lba;
            h->maps_blocks = nb;
            h->maps_len = len;
            h->maps_xxh = xxh;
            if (submit_meta(w, lba, (uint32_t)nb, w->maps_buf, (uint32_t)len) < 0)
                return ckpt_writer_step_failed(w);
            return CKPT_STEP_WAIT;
        }
        /* a FLAT image without zero pages has no maps: straight on to the header */
    }
    if (w->meta == CKPT_WMETA_MAPS) {
        /* the maps are on the device (nothing in flight, no error) */
        free(w->maps_buf);
        w->maps_buf = NULL;
        size_t len = ckpt_header_encode(h, w->hdr_buf, sizeof(w->hdr_buf));
        w->meta = CKPT_WMETA_HEADER;
        if (submit_meta(w, CKPT_HEADER_LBA, 1, w->hdr_buf, (uint32_t)len) < 0)
            return ckpt_writer_step_failed(w);
        return CKPT_STEP_WAIT;
    }
    w->meta = CKPT_WMETA_DONE;         /* the header is acknowledged */
    return CKPT_STEP_DONE;
}
