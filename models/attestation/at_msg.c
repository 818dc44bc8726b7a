/*
 * at_msg.c - the datacenter model's wire: a message is a batch, a header
 * (magic, record count) then records, each a struct at_rec and its
 * payload.  The records a rack's hosts send one node within cfg.batch_ns
 * travel as one transport message whose wire_bytes is the sum of theirs
 * (a simulation granularity: one SimGrid communication instead of
 * thousands); the same holds for every (from, to) pair of endpoints.
 * Batching is on the leading edge: a record sent when the pair was quiet
 * for batch_ns leaves at once (with the others of the same instant), the
 * ones that follow wait for the window's end, so an idle datacenter's
 * latencies carry no batching delay and a loaded pair sends at most one
 * message per batch_ns.
 *
 * Decoding is strict: a batch whose framing is broken (bad magic, a
 * record longer than what is left, a count that disagrees) is dropped
 * from that point; a record whose payload does not have its type's exact
 * size is refused by at_rec_check and counted as malformed by the node.
 * Nothing in a blob is trusted before it is checked, so a malformed
 * request never crashes the model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/at_int.h"

struct batch_hdr { uint32_t magic, nr; };

int at_wbuf_add(struct at_wbuf *b, const struct at_rec *h, const void *payload, uint64_t wire)
{
    size_t need = (b->len ? b->len : sizeof(struct batch_hdr)) + sizeof *h + h->len;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < need)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p)
            return VM_ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    if (!b->len)
        b->len = sizeof(struct batch_hdr);
    memcpy(b->p + b->len, h, sizeof *h);
    if (h->len)
        memcpy(b->p + b->len + sizeof *h, payload, h->len);
    b->len += sizeof *h + h->len;
    b->nr++;
    b->wire += wire;
    struct batch_hdr bh = { AT_BATCH_MAGIC, b->nr };
    memcpy(b->p, &bh, sizeof bh);
    return 0;
}

void at_wbuf_free(struct at_wbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

int at_rdr_init(struct at_rdr *r, const void *blob, size_t len)
{
    memset(r, 0, sizeof *r);
    struct batch_hdr bh;
    if (!blob || len < sizeof bh)
        return VM_EPARSE;
    memcpy(&bh, blob, sizeof bh);
    if (bh.magic != AT_BATCH_MAGIC || bh.nr == 0)
        return VM_EPARSE;
    r->p = blob;
    r->len = len;
    r->off = sizeof bh;
    r->left = bh.nr;
    return 0;
}

int at_rdr_next(struct at_rdr *r, struct at_rec *h, const uint8_t **payload)
{
    if (!r->left)
        return r->off == r->len ? 0 : VM_EPARSE;   /* trailing bytes: broken */
    if (r->len - r->off < sizeof *h)
        return VM_EPARSE;
    memcpy(h, r->p + r->off, sizeof *h);
    if (h->len > r->len - r->off - sizeof *h)
        return VM_EPARSE;
    *payload = r->p + r->off + sizeof *h;
    r->off += sizeof *h + h->len;
    r->left--;
    return 1;
}

int at_rec_check(const struct at_rec *h, const uint8_t *payload)
{
    size_t n = h->len;
    switch (h->type) {
    case M_ATTEST:
    case M_FETCH:
        return n == 0 ? 0 : VM_EPARSE;
    case M_NONCE:
        return n == AT_NONCE_LEN ? 0 : VM_EPARSE;
    case M_TOKEN:
        return n == sizeof(struct at_token_rec) ? 0 : VM_EPARSE;
    case M_REFUSE: {
        struct at_refuse_rec x;
        if (n != sizeof x)
            return VM_EPARSE;
        memcpy(&x, payload, sizeof x);
        return x.reason < R_NR ? 0 : VM_EPARSE;
    }
    case M_TIMESTAMP:
        return n == sizeof(struct at_ts_blob) ? 0 : VM_EPARSE;
    case M_TARGETS:
        return n == sizeof(struct at_targets_rec) ? 0 : VM_EPARSE;
    case M_QUOTE: {
        struct at_quote_rec q;
        if (n < sizeof q)
            return VM_EPARSE;
        memcpy(&q, payload, sizeof q);
        if (q.nr_events == 0 || q.nr_events > AT_MAX_FILES ||
            n != sizeof q + (size_t)q.nr_events * sizeof(struct at_event))
            return VM_EPARSE;
        /* every string NUL-terminated in its field */
        for (uint32_t i = 0; i < q.nr_events; i++) {
            const uint8_t *e = payload + sizeof q + (size_t)i * sizeof(struct at_event);
            if (!memchr(e + offsetof(struct at_event, name), 0, AT_NAME_MAX) ||
                !memchr(e + offsetof(struct at_event, version), 0, AT_VERSION_MAX) ||
                !memchr(e + offsetof(struct at_event, vendor), 0, AT_VENDOR_MAX))
                return VM_EPARSE;
        }
        return 0;
    }
    case M_LOOKUP: {
        uint32_t nr;
        if (n < 8)
            return VM_EPARSE;
        memcpy(&nr, payload, 4);
        if (nr == 0 || nr > AT_MAX_FILES || n != 8 + (size_t)nr * sizeof(struct at_lookup_key))
            return VM_EPARSE;
        for (uint32_t i = 0; i < nr; i++) {
            const uint8_t *k = payload + 8 + (size_t)i * sizeof(struct at_lookup_key);
            if (!memchr(k, 0, AT_NAME_MAX) || !memchr(k + AT_NAME_MAX, 0, AT_VERSION_MAX))
                return VM_EPARSE;
        }
        return 0;
    }
    case M_LOOKUP_REPLY: {
        struct at_lookup_reply x;
        if (n < sizeof x)
            return VM_EPARSE;
        memcpy(&x, payload, sizeof x);
        return x.nr <= AT_MAX_FILES && n == sizeof x + (size_t)x.nr * sizeof(struct at_lookup_ent)
                   ? 0 : VM_EPARSE;
    }
    case M_POLICY: {
        struct at_policy_rec x;
        if (n < sizeof x)
            return VM_EPARSE;
        memcpy(&x, payload, sizeof x);
        return x.add <= 1 && n == sizeof x + (size_t)x.nr * 4 ? 0 : VM_EPARSE;
    }
    default:
        return VM_EPARSE;
    }
}

const char *at_ep_name(uint32_t ep, char buf[16])
{
    if (ep == EP_DEPOT)
        return "depot";
    if (ep == EP_ADMIN)
        return "admin";
    if (ep >= EP_NODE0)
        snprintf(buf, 16, "a%u", ep - EP_NODE0);
    else
        snprintf(buf, 16, "r%u", ep);
    return buf;
}

/* ------------------------------------------------------------ batching */

static uint64_t key_hash(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return k;
}

static struct at_batch *batch_get(struct at_dc *dc, uint64_t key)
{
    if (2 * (dc->nr_batches + 1) > dc->cap_batches) {
        uint32_t cap = dc->cap_batches ? 2 * dc->cap_batches : 64;
        struct at_batch *nb = calloc(cap, sizeof *nb);
        if (!nb)
            return NULL;
        for (uint32_t i = 0; i < dc->cap_batches; i++) {
            struct at_batch *o = &dc->batches[i];
            if (!o->key)
                continue;
            uint32_t s = (uint32_t)(key_hash(o->key) & (cap - 1));
            while (nb[s].key)
                s = (s + 1) & (cap - 1);
            nb[s] = *o;
        }
        /* armed flush timers point at the batches: re-arm them at their slots */
        for (uint32_t i = 0; i < cap; i++)
            nb[i].dc = dc;
        free(dc->batches);
        dc->batches = nb;
        dc->cap_batches = cap;
    }
    uint32_t s = (uint32_t)(key_hash(key) & (dc->cap_batches - 1));
    while (dc->batches[s].key && dc->batches[s].key != key)
        s = (s + 1) & (dc->cap_batches - 1);
    if (!dc->batches[s].key) {
        dc->batches[s].key = key;
        dc->batches[s].dc = dc;
        dc->nr_batches++;
    }
    return &dc->batches[s];
}

struct flush_arg { struct at_tnode t; uint64_t key; };

static void flush(void *arg)
{
    struct flush_arg *fa = arg;
    struct at_dc *dc = fa->t.dc;
    struct at_batch *b = batch_get(dc, fa->key);
    if (!b)
        return;
    b->tmr = 0;
    if (!b->w.nr)
        return;
    b->last_ns = at_now(dc);
    b->flushed = true;
    /* each record's wait_ns held (wait so far - its enqueue time) */
    for (size_t off = sizeof(struct batch_hdr); off < b->w.len;) {
        struct at_rec h;
        memcpy(&h, b->w.p + off, sizeof h);
        h.wait_ns += b->last_ns;
        memcpy(b->w.p + off, &h, sizeof h);
        off += sizeof h + h.len;
    }
    char fb[16], tb[16];
    uint32_t from = (uint32_t)(fa->key >> 32), to = (uint32_t)fa->key - 1;
    struct port_transport_out out = { .tag = 0, .blob = b->w.p, .blob_len = b->w.len,
                                      .wire_bytes = b->w.wire };
    if (from == EP_DEPOT || to == EP_DEPOT) {
        dc->st.depot_requests += to == EP_DEPOT ? b->w.nr : 0;
        dc->st.depot_bytes += b->w.wire;
    }
    (void)port_transport_send(dc->p.net, at_ep_name(from, fb), at_ep_name(to, tb), &out, 0);
    b->w.len = 0;
    b->w.nr = 0;
    b->w.wire = 0;
}

void at_send(struct at_dc *dc, uint32_t from, uint32_t to, const struct at_rec *h,
             const void *payload, uint64_t wire)
{
    uint64_t key = (uint64_t)from << 32 | (to + 1);
    struct at_batch *b = batch_get(dc, key);
    struct at_rec q = *h;
    q.wait_ns -= at_now(dc);     /* the flush adds its own time (mod 2^64) */
    if (!b || at_wbuf_add(&b->w, &q, payload, wire))
        return;                          /* no memory: as a lost message */
    if (!b->tmr) {
        uint64_t now = at_now(dc), when = now;
        if (b->flushed && b->last_ns + dc->cfg.batch_ns > now)
            when = b->last_ns + dc->cfg.batch_ns;
        struct flush_arg *fa = at_timer(dc, when, sizeof *fa, flush);
        if (fa) {
            fa->key = key;
            b->tmr = 1;
        }
    }
}

void at_batches_free(struct at_dc *dc)
{
    for (uint32_t i = 0; i < dc->cap_batches; i++)
        at_wbuf_free(&dc->batches[i].w);
    free(dc->batches);
    dc->batches = NULL;
    dc->cap_batches = dc->nr_batches = 0;
}

/* --------------------------------------------------------- sends later */

struct later {
    struct at_tnode t;
    uint32_t node, inc, from, to;
    uint64_t wire;
    struct at_rec h;
    uint8_t payload[];
};

static void later_fire(void *arg)
{
    struct later *l = arg;
    struct at_dc *dc = l->t.dc;
    bool ok = l->node == AT_NONE ||
              (dc->nodes[l->node].up && dc->nodes[l->node].inc == l->inc);
    if (ok)
        at_send(dc, l->from, l->to, &l->h, l->payload, l->wire);
}

void at_send_at(struct at_dc *dc, uint64_t when_ns, uint32_t node, uint32_t from, uint32_t to,
                const struct at_rec *h, const void *payload, uint64_t wire)
{
    if (when_ns <= at_now(dc)) {
        at_send(dc, from, to, h, payload, wire);
        return;
    }
    struct later *l = at_timer(dc, when_ns, sizeof *l + h->len, later_fire);
    if (!l)
        return;
    l->node = node;
    l->inc = node == AT_NONE ? 0 : dc->nodes[node].inc;
    l->from = from;
    l->to = to;
    l->wire = wire;
    l->h = *h;
    if (h->len)
        memcpy(l->payload, payload, h->len);
}

void at_lookup_digest(const struct at_ts_blob *ts, const uint8_t *ents, uint32_t nr,
                      uint8_t out[AT_HASH_LEN])
{
    struct at_sha256_ctx c;
    at_sha256_init(&c);
    at_sha256_update(&c, "vmsim-lookup/1", 14);
    at_sha256_update(&c, &ts->ts.version, 8);
    at_sha256_update(&c, &ts->snap.targets_version, 8);
    at_sha256_update(&c, &nr, 4);
    at_sha256_update(&c, ents, (size_t)nr * sizeof(struct at_lookup_ent));
    at_sha256_final(&c, out);
}
