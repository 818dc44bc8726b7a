/*
 * at_depot.c - the software depot server: its catalog history (one signed
 * targets version per release and per withdrawal, kept whole: a depot
 * keeps every version it shipped), its timestamp re-signed every
 * ts_period, per-request lookups (each answer signed), fetches of the
 * targets document, and the feed (every new targets version and every
 * timestamp pushed to every node, for AT_DEPOT_FEED).
 *
 * A TARGETS message carries a reference to the published document (the
 * history is immutable) and its signature block; wire_bytes is the
 * document's canonical size.  The node verifies the signature over the
 * canonical bytes, so a changed signature or algorithm is caught as it
 * would be on a real copy.
 *
 * Attacks on the channel to the nodes change what the depot's replies
 * carry, not the depot's own history (the checker's ground truth): a
 * frozen view (the timestamp and targets of the attack's start), a rolled
 * back one (timestamp 1 and targets 1), a corrupted signature, an unknown
 * algorithm; an outage drops every request and push.
 * Costs: lookup_ns per package looked up, sign_ns per lookup answer and
 * per timestamp, sign_ns plus the document's hashing (sha256_ns_per_byte)
 * per targets version, on the depot's own workers.
 */
#include <stdlib.h>
#include <string.h>

#include "attestation/at_int.h"

static int sign_ts(struct at_dc *dc)
{
    struct at_depot *dp = &dc->depot;
    const struct at_pub *last = &dp->hist[dp->nr_hist - 1];
    struct at_timestamp t;
    memset(&t, 0, sizeof t);
    t.version = dp->ts.ts.version + 1;
    t.targets_version = last->cat.version;
    at_targets_hash(&last->cat, t.targets_hash);
    t.expires_ns = at_now(dc) + dc->cfg.params.ts_expiry_ns;
    struct at_ts_blob b;
    memset(&b, 0, sizeof b);
    b.ts = t;
    int rc = at_timestamp_sign(&t, &dc->cfg.depot_ts_key, &b.sig);
    if (rc)
        return rc;
    dc->st.real_signs++;
    dp->ts = b;
    at_cpu_run(&dp->cpu, at_now(dc), dc->cfg.costs.sign_ns);
    return 0;
}

/* Publish cat (taken) as the next targets version. */
static int publish(struct at_dc *dc, struct at_catalog *cat)
{
    struct at_depot *dp = &dc->depot;
    struct at_pub *h = realloc(dp->hist, (dp->nr_hist + 1) * sizeof *h);
    if (!h) {
        at_catalog_free(cat);
        return VM_ENOMEM;
    }
    dp->hist = h;
    struct at_pub *pb = &h[dp->nr_hist];
    memset(pb, 0, sizeof *pb);
    pb->cat = *cat;
    pb->cat.version = dp->nr_hist + 1;
    pb->cat.expires_ns = at_now(dc) + dc->cfg.params.targets_expiry_ns;
    pb->pub_ns = at_now(dc);
    pb->size = at_targets_size(&pb->cat);
    int rc = at_targets_sign(&pb->cat, &dc->cfg.depot_targets_key, &pb->sig);
    if (rc) {
        at_catalog_free(&pb->cat);
        return rc;
    }
    dc->st.real_signs++;
    dp->nr_hist++;
    at_cpu_run(&dp->cpu, at_now(dc), dc->cfg.costs.sign_ns +
                                     dc->cfg.costs.sha256_ns_per_byte * (double)pb->size);
    return sign_ts(dc);
}

int at_depot_init(struct at_dc *dc)
{
    struct at_depot *dp = &dc->depot;
    memset(dp, 0, sizeof *dp);
    int rc = at_cpu_init(&dp->cpu, dc->cfg.depot_cores);
    if (rc)
        return rc;
    struct at_catalog c;
    rc = at_catalog_copy(&c, dc->cfg.base);
    if (!rc)
        rc = publish(dc, &c);
    if (rc)
        return rc;
    dp->first_ts = dp->ts;
    dp->rel_version[0] = 1;
    return 0;
}

void at_depot_free(struct at_dc *dc)
{
    struct at_depot *dp = &dc->depot;
    if (dp->ts_tmr)
        port_timer_cancel(dc->p.timer, dp->ts_tmr);
    for (uint32_t i = 0; i < dp->nr_hist; i++)
        at_catalog_free(&dp->hist[i].cat);
    free(dp->hist);
    at_cpu_free(&dp->cpu);
    memset(dp, 0, sizeof *dp);
}

enum at_attack_kind at_depot_channel_attack(const struct at_dc *dc, uint64_t now)
{
    for (uint32_t i = 0; i < dc->cfg.nr_attacks; i++) {
        const struct at_attack *a = &dc->atk[i];
        bool chan = a->kind == AT_ATK_FREEZE || a->kind == AT_ATK_ROLLBACK ||
                    a->kind == AT_ATK_BAD_SIG || a->kind == AT_ATK_BAD_ALG;
        if (chan && now >= a->at_ns && (!a->len_ns || now < a->at_ns + a->len_ns))
            return a->kind;
    }
    return AT_NR_ATTACKS;
}

bool at_depot_down(const struct at_dc *dc, uint64_t now)
{
    for (uint32_t i = 0; i < dc->cfg.nr_attacks; i++) {
        const struct at_attack *a = &dc->atk[i];
        if (a->kind == AT_ATK_DEPOT_DOWN && now >= a->at_ns &&
            (!a->len_ns || now < a->at_ns + a->len_ns))
            return true;
    }
    return false;
}

void at_depot_attack_begin(struct at_dc *dc, uint32_t i)
{
    struct at_depot *dp = &dc->depot;
    if (dc->atk[i].kind == AT_ATK_FREEZE) {   /* each freeze holds its own start */
        dp->frozen = true;
        dp->frozen_ts = dp->ts;
        dp->frozen_ref = dp->nr_hist - 1;
    }
}

/* What a reply carries now: timestamp, targets reference, its signature. */
static void served(const struct at_dc *dc, struct at_ts_blob *ts, uint64_t *ref,
                   struct at_sigblock *tsig)
{
    const struct at_depot *dp = &dc->depot;
    *ts = dp->ts;
    *ref = dp->nr_hist - 1;
    switch (at_depot_channel_attack(dc, at_now(dc))) {
    case AT_ATK_FREEZE:
        if (dp->frozen) {
            *ts = dp->frozen_ts;
            *ref = dp->frozen_ref;
        }
        break;
    case AT_ATK_ROLLBACK:
        *ts = dp->first_ts;
        *ref = 0;
        break;
    default:
        break;
    }
    *tsig = dp->hist[*ref].sig;
    switch (at_depot_channel_attack(dc, at_now(dc))) {
    case AT_ATK_BAD_SIG:
        ts->sig.sig[0] ^= 1;
        tsig->sig[0] ^= 1;
        break;
    case AT_ATK_BAD_ALG:
        ts->sig.alg = AT_ALG_UNKNOWN;
        tsig->alg = AT_ALG_UNKNOWN;
        break;
    default:
        break;
    }
}

static void send_targets(struct at_dc *dc, uint32_t node_ep, uint64_t when)
{
    struct at_targets_rec t;
    memset(&t, 0, sizeof t);
    served(dc, &t.ts, &t.ref, &t.sig);
    struct at_rec r = { .type = M_TARGETS, .len = sizeof t };
    at_send_at(dc, when, AT_NONE, EP_DEPOT, node_ep, &r, &t,
               dc->cfg.msg_bytes + dc->depot.hist[t.ref].size);
}

static bool feeding(const struct at_dc *dc)
{
    return dc->cfg.params.method == AT_DEPOT_FEED;
}

static void ts_tick(void *arg)
{
    struct at_dc *dc = arg;
    struct at_depot *dp = &dc->depot;
    uint64_t now = at_now(dc);
    dp->ts_tmr = 0;
    if (sign_ts(dc))
        return;
    if (feeding(dc) && !at_depot_down(dc, now)) {
        struct at_ts_blob b;
        uint64_t ref;
        struct at_sigblock s;
        served(dc, &b, &ref, &s);
        struct at_rec r = { .type = M_TIMESTAMP, .len = sizeof b };
        for (uint32_t j = 0; j < dc->cfg.nr_nodes; j++)
            at_send(dc, EP_DEPOT, EP_NODE0 + j, &r, &b, dc->cfg.msg_bytes + sizeof b);
    }
    dp->ts_tmr = port_timer_arm(dc->p.timer, now + dc->cfg.params.ts_period_ns, ts_tick, dc);
}

void at_depot_start(struct at_dc *dc)
{
    dc->depot.ts_tmr = port_timer_arm(dc->p.timer, at_now(dc) + dc->cfg.params.ts_period_ns,
                                      ts_tick, dc);
}

static void push_all(struct at_dc *dc)
{
    if (!feeding(dc) || at_depot_down(dc, at_now(dc)))
        return;
    for (uint32_t j = 0; j < dc->cfg.nr_nodes; j++)
        send_targets(dc, EP_NODE0 + j, at_now(dc));
}

int at_depot_publish_release(struct at_dc *dc, uint32_t k)
{
    struct at_depot *dp = &dc->depot;
    struct at_catalog c;
    int rc = at_catalog_copy(&c, &dp->hist[dp->nr_hist - 1].cat);
    if (rc)
        return rc;
    const struct at_relinfo *ri = &dc->ri[k];
    for (uint32_t i = 0; i < ri->nr_new && !rc; i++) {
        const struct at_pkg *p = &dc->uni.pkgs[ri->new_pv[i]];
        rc = at_catalog_add(&c, p->name, p->version, p->vendor, false, p->files, p->nr_files,
                            NULL);
    }
    if (rc) {
        at_catalog_free(&c);
        return rc;
    }
    rc = publish(dc, &c);
    if (rc)
        return rc;
    dp->rel_version[k] = dp->nr_hist;
    push_all(dc);
    return 0;
}

int at_depot_publish_withdrawal(struct at_dc *dc, uint32_t i)
{
    struct at_depot *dp = &dc->depot;
    struct at_catalog c;
    int rc = at_catalog_copy(&c, &dp->hist[dp->nr_hist - 1].cat);
    if (rc)
        return rc;
    const struct at_relinfo *ri = &dc->ri[dc->atk[i].release];
    for (uint32_t k = 0; k < ri->nr_new; k++) {
        const struct at_pkg *p = &dc->uni.pkgs[ri->new_pv[k]];
        (void)at_catalog_withdraw(&c, p->name, p->version);   /* not yet published: no-op */
    }
    rc = publish(dc, &c);
    if (rc)
        return rc;
    dp->wd_version[i] = dp->nr_hist;
    push_all(dc);
    return 0;
}

/* An answer is built when the depot's worker finishes it, from the
 * depot's state then: answers leave in completion order, so a node never
 * sees an older timestamp after a newer one unless an attack sends it. */
struct djob {
    struct at_tnode t;
    uint32_t from;
    struct at_rec r;
    uint8_t payload[];
};

static void lookup_answer(struct at_dc *dc, uint32_t from, const struct at_rec *r,
                          const uint8_t *payload)
{
    struct at_depot *dp = &dc->depot;
    uint32_t nr;
    memcpy(&nr, payload, 4);
    struct at_lookup_reply x;
    memset(&x, 0, sizeof x);
    uint64_t ref;
    struct at_sigblock tsig;
    served(dc, &x.ts, &ref, &tsig);
    const struct at_catalog *cat = &dp->hist[ref].cat;
    size_t len = sizeof x + (size_t)nr * sizeof(struct at_lookup_ent);
    uint8_t *buf = calloc(1, len);
    if (!buf)
        return;                  /* as a lost message: the node times out */
    uint8_t *ents = buf + sizeof x;
    for (uint32_t i = 0; i < nr; i++) {
        struct at_lookup_key k;
        memcpy(&k, payload + 8 + (size_t)i * sizeof k, sizeof k);
        struct at_lookup_ent e;
        memset(&e, 0, sizeof e);
        const struct at_pkg *p = at_catalog_find(cat, k.name, k.version);
        if (p) {
            e.found = 1;
            e.withdrawn = p->withdrawn;
            memcpy(e.hash, p->data_hash, AT_HASH_LEN);
        }
        memcpy(ents + (size_t)i * sizeof e, &e, sizeof e);
    }
    x.nr = nr;
    x.sig.alg = x.ts.sig.alg;    /* an attack on the channel changes both alike */
    if (r->flags & AT_F_REAL) {
        uint8_t dg[AT_HASH_LEN];
        at_lookup_digest(&x.ts.ts, ents, nr, dg);
        if (!at_sign(&dc->cfg.depot_ts_key, dg, sizeof dg, x.sig.sig))
            dc->st.real_signs++;
        if (at_depot_channel_attack(dc, at_now(dc)) == AT_ATK_BAD_SIG)
            x.sig.sig[0] ^= 1;
    }
    memcpy(buf, &x, sizeof x);
    struct at_rec o = { .type = M_LOOKUP_REPLY, .len = (uint32_t)len, .host = r->host,
                        .attempt = r->attempt, .id = r->id, .wait_ns = r->wait_ns };
    at_send(dc, EP_DEPOT, from, &o, buf, dc->cfg.msg_bytes + (uint64_t)nr * (1 + AT_HASH_LEN));
    free(buf);
}

static void djob_fire(void *arg)
{
    struct djob *j = arg;
    struct at_dc *dc = j->t.dc;
    if (at_depot_down(dc, at_now(dc)))
        return;                  /* the outage began while it was being served */
    if (j->r.type == M_FETCH)
        send_targets(dc, j->from, at_now(dc));
    else
        lookup_answer(dc, j->from, &j->r, j->payload);
}

void at_depot_recv(struct at_dc *dc, uint32_t from, const struct at_rec *r,
                   const uint8_t *payload)
{
    struct at_depot *dp = &dc->depot;
    uint64_t now = at_now(dc);
    if (at_depot_down(dc, now))
        return;
    if (at_rec_check(r, payload) || (r->type != M_FETCH && r->type != M_LOOKUP)) {
        dc->st.malformed++;
        return;
    }
    double cost = dc->cfg.costs.lookup_ns;
    if (r->type == M_LOOKUP) {
        uint32_t nr;
        memcpy(&nr, payload, 4);
        cost = dc->cfg.costs.lookup_ns * nr + dc->cfg.costs.sign_ns;
    }
    uint64_t when = at_cpu_run(&dp->cpu, now, cost);
    struct djob *j = at_timer(dc, when, sizeof *j + r->len, djob_fire);
    if (!j)
        return;
    j->from = from;
    j->r = *r;
    if (r->len)
        memcpy(j->payload, payload, r->len);
}
