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
 * Mix-and-match serves the previous targets version under the current
 * snapshot (and, in a lookup answer, which carries no targets document,
 * the previous snapshot under the current timestamp).  The revoked-key
 * attacker holds generation 0's keys (rotated out by the first rotation)
 * and serves, from the attack's start, a timestamp and a snapshot it
 * signed with them, fast-forwarded (versions + 1,000,000) and expiring in
 * a year: a node that believed them would be pinned to them.
 *
 * Roles and keys (TUF 4.3-4.6): every targets version is followed by a
 * snapshot naming it (version = the targets version) and a timestamp
 * naming that snapshot; the snapshot expires with the targets it names.
 * A key rotation (at_depot_rotate) publishes the next root, signed by the
 * previous generation's root key and its own, then re-publishes the
 * current catalog as a new targets version with the new keys.
 * Costs: lookup_ns per package looked up, sign_ns per lookup answer and
 * per timestamp, sign_ns plus the document's hashing (sha256_ns_per_byte)
 * per targets version and sign_ns for its snapshot, 2 sign_ns per new
 * root, on the depot's own workers.
 */
#include <stdlib.h>
#include <string.h>

#include "attestation/at_int.h"

static const char *const key_roles[AT_NR_ROLES] = {
    [AT_ROLE_ROOT] = "depot-root", [AT_ROLE_TIMESTAMP] = "depot-timestamp",
    [AT_ROLE_SNAPSHOT] = "depot-snapshot", [AT_ROLE_TARGETS] = "depot-targets",
};

const struct at_key *at_depot_key(const struct at_dc *dc, uint32_t g, enum at_role role)
{
    return &dc->depot.gens[g].k[role];
}

/* Generation g's keys; generation 0's targets and timestamp keys are the
 * config's (copied by value: not freed here). */
static int make_gen(struct at_dc *dc, uint32_t g)
{
    struct at_keygen *kg = &dc->depot.gens[g];
    for (int r = 0; r < AT_NR_ROLES; r++) {
        if (g == 0 && r == AT_ROLE_TARGETS) {
            kg->k[r] = dc->cfg.depot_targets_key;
            continue;
        }
        if (g == 0 && r == AT_ROLE_TIMESTAMP) {
            kg->k[r] = dc->cfg.depot_ts_key;
            continue;
        }
        uint8_t seed[AT_SEED_LEN];
        at_key_seed(seed, key_roles[r], dc->cfg.depot_key_seed, g);
        int rc = at_key_init(&kg->k[r], seed, NULL);
        if (rc)
            return rc;
        kg->own[r] = true;
    }
    return 0;
}

/* Root g + 1: generation g's keys, threshold 1 each, signed by
 * generation g - 1's root key (the trusted root's) and g's own. */
static int make_root(struct at_dc *dc, uint32_t g)
{
    struct at_rootpub *rp = &dc->depot.roots[g];
    memset(rp, 0, sizeof *rp);
    rp->root.version = g + 1;
    rp->root.expires_ns = (g ? dc->cfg.rotate_ns[g - 1] : 0) + AT_ROOT_EXPIRY_NS;
    for (int r = 0; r < AT_NR_ROLES; r++) {
        rp->root.roles[r].nr_keys = 1;
        rp->root.roles[r].threshold = 1;
        memcpy(rp->root.roles[r].keyids[0], dc->depot.gens[g].k[r].pub, AT_PUB_LEN);
    }
    int rc = 0;
    if (g)
        rc = at_root_sign(&rp->root, at_depot_key(dc, g - 1, AT_ROLE_ROOT), &rp->sigs);
    if (!rc)
        rc = at_root_sign(&rp->root, at_depot_key(dc, g, AT_ROLE_ROOT), &rp->sigs);
    return rc;
}

/* The snapshot naming the newest targets version, with the current keys. */
static int sign_snap(struct at_dc *dc)
{
    struct at_depot *dp = &dc->depot;
    const struct at_pub *last = &dp->hist[dp->nr_hist - 1];
    dp->prev_snap = dp->snap;
    struct at_snapshot_pub *sp = &dp->snap;
    memset(sp, 0, sizeof *sp);
    sp->s.version = last->cat.version;
    sp->s.targets_version = last->cat.version;
    at_targets_hash(&last->cat, sp->s.targets_hash);
    sp->s.expires_ns = last->cat.expires_ns;
    int rc = at_snapshot_sign(&sp->s, at_depot_key(dc, dp->gen, AT_ROLE_SNAPSHOT), &sp->sig);
    if (rc)
        return rc;
    dc->st.real_signs++;
    at_cpu_run(&dp->cpu, at_now(dc), dc->cfg.costs.sign_ns);
    return 0;
}

static int sign_ts(struct at_dc *dc)
{
    struct at_depot *dp = &dc->depot;
    struct at_timestamp t;
    memset(&t, 0, sizeof t);
    t.version = dp->ts.ts.version + 1;
    t.snapshot_version = dp->snap.s.version;
    at_snapshot_hash(&dp->snap.s, t.snapshot_hash);
    t.expires_ns = at_now(dc) + dc->cfg.params.ts_expiry_ns;
    struct at_ts_blob b;
    memset(&b, 0, sizeof b);
    b.ts = t;
    b.snap = dp->snap.s;
    b.snap_sig = dp->snap.sig;
    b.root_version = dp->gen + 1;
    int rc = at_timestamp_sign(&t, at_depot_key(dc, dp->gen, AT_ROLE_TIMESTAMP), &b.sig);
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
    int rc = at_targets_sign(&pb->cat, at_depot_key(dc, dp->gen, AT_ROLE_TARGETS), &pb->sig);
    if (rc) {
        at_catalog_free(&pb->cat);
        return rc;
    }
    dc->st.real_signs++;
    dp->nr_hist++;
    at_cpu_run(&dp->cpu, at_now(dc), dc->cfg.costs.sign_ns +
                                     dc->cfg.costs.sha256_ns_per_byte * (double)pb->size);
    rc = sign_snap(dc);
    return rc ? rc : sign_ts(dc);
}

int at_depot_init(struct at_dc *dc)
{
    struct at_depot *dp = &dc->depot;
    memset(dp, 0, sizeof *dp);
    int rc = at_cpu_init(&dp->cpu, dc->cfg.depot_cores);
    if (rc)
        return rc;
    uint32_t nr = dc->cfg.nr_rotations + 1;
    dp->gens = calloc(nr, sizeof *dp->gens);
    dp->roots = calloc(nr, sizeof *dp->roots);
    if (!dp->gens || !dp->roots)
        return VM_ENOMEM;
    for (uint32_t g = 0; g < nr && !rc; g++)
        rc = make_gen(dc, g);
    for (uint32_t g = 0; g < nr && !rc; g++)
        rc = make_root(dc, g);
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
    for (uint32_t g = 0; dp->gens && g <= dc->cfg.nr_rotations; g++)
        for (int r = 0; r < AT_NR_ROLES; r++)
            if (dp->gens[g].own[r])
                at_key_free(&dp->gens[g].k[r]);
    free(dp->gens);
    free(dp->roots);
    at_cpu_free(&dp->cpu);
    memset(dp, 0, sizeof *dp);
}

enum at_attack_kind at_depot_channel_attack(const struct at_dc *dc, uint64_t now)
{
    for (uint32_t i = 0; i < dc->cfg.nr_attacks; i++) {
        const struct at_attack *a = &dc->atk[i];
        bool chan = a->kind == AT_ATK_FREEZE || a->kind == AT_ATK_ROLLBACK ||
                    a->kind == AT_ATK_BAD_SIG || a->kind == AT_ATK_BAD_ALG ||
                    a->kind == AT_ATK_REVOKED_KEY || a->kind == AT_ATK_MIX;
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
    if (dc->atk[i].kind == AT_ATK_REVOKED_KEY) {
        /* fresh metadata signed with generation 0's (revoked) keys */
        struct at_ts_blob *f = &dp->forged;
        *f = dp->ts;
        f->snap.version += 1000000;
        f->snap.expires_ns = at_now(dc) + AT_ROOT_EXPIRY_NS;
        f->ts.version += 1000000;
        f->ts.snapshot_version = f->snap.version;
        f->ts.expires_ns = at_now(dc) + AT_ROOT_EXPIRY_NS;
        at_snapshot_hash(&f->snap, f->ts.snapshot_hash);
        if (!at_snapshot_sign(&f->snap, at_depot_key(dc, 0, AT_ROLE_SNAPSHOT), &f->snap_sig))
            dc->st.real_signs++;
        if (!at_timestamp_sign(&f->ts, at_depot_key(dc, 0, AT_ROLE_TIMESTAMP), &f->sig))
            dc->st.real_signs++;
    }
}

/* What a reply carries now: timestamp, targets reference, its signature. */
static void served(const struct at_dc *dc, struct at_ts_blob *ts, uint64_t *ref,
                   struct at_sigblock *tsig, bool lookup)
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
    case AT_ATK_MIX:
        if (*ref)
            (*ref)--;            /* targets of the previous version ... */
        if (lookup && dp->prev_snap.s.version) {
            ts->snap = dp->prev_snap.s;   /* ... or the previous snapshot */
            ts->snap_sig = dp->prev_snap.sig;
        }
        break;
    case AT_ATK_REVOKED_KEY:
        *ts = dp->forged;
        ts->root_version = dp->gen + 1;
        break;
    default:
        break;
    }
    *tsig = dp->hist[*ref].sig;
    switch (at_depot_channel_attack(dc, at_now(dc))) {
    case AT_ATK_BAD_SIG:
        ts->sig.sig[0] ^= 1;
        ts->snap_sig.sig[0] ^= 1;
        tsig->sig[0] ^= 1;
        break;
    case AT_ATK_BAD_ALG:
        ts->sig.alg = AT_ALG_UNKNOWN;
        ts->snap_sig.alg = AT_ALG_UNKNOWN;
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
    served(dc, &t.ts, &t.ref, &t.sig, false);
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
        served(dc, &b, &ref, &s, false);
        struct at_rec r = { .type = M_TIMESTAMP, .len = sizeof b };
        for (uint32_t j = 0; j < dc->cfg.nr_nodes; j++)
            at_send(dc, EP_DEPOT, EP_NODE0 + j, &r, &b, dc->cfg.msg_bytes + AT_TS_WIRE);
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

int at_depot_rotate(struct at_dc *dc)
{
    struct at_depot *dp = &dc->depot;
    if (dp->gen >= dc->cfg.nr_rotations)
        return VM_EINVAL;
    dp->gen++;                   /* root gen + 1 is published (signed at init) */
    at_cpu_run(&dp->cpu, at_now(dc), 2 * dc->cfg.costs.sign_ns);
    dc->st.real_signs += 2;
    struct at_catalog c;
    int rc = at_catalog_copy(&c, &dp->hist[dp->nr_hist - 1].cat);
    if (!rc)
        rc = publish(dc, &c);    /* the catalog again, under the new targets key */
    if (!rc)
        push_all(dc);
    return rc;
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
    served(dc, &x.ts, &ref, &tsig, true);
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
        at_lookup_digest(&x.ts, ents, nr, dg);
        /* signed with the timestamp key of the metadata it carries (the
         * revoked-key attacker signs with its own) */
        uint32_t g = at_depot_channel_attack(dc, at_now(dc)) == AT_ATK_REVOKED_KEY ? 0 : dp->gen;
        if (!at_sign(at_depot_key(dc, g, AT_ROLE_TIMESTAMP), dg, sizeof dg, x.sig.sig))
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
