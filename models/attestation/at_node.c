/*
 * at_node.c - an attestation node: it issues nonces, checks quotes, and
 * decides each host against its policy by its method (at.h): a depot
 * lookup per request, a cached copy of the depot's signed targets, a copy
 * kept current by the depot's feed, or an administrator's allow-list.
 *
 * Work happens at a message's arrival and its effect leaves when the
 * node's workers (at_cpu.c) have spent the operation's measured cost: a
 * decision is taken at arrival, its answer sent at the completion.  A
 * node that crashed (inc bumped) sends nothing it decided before.
 *
 * Quote check.  For sampled requests (at_sampled) at_quote_verify
 * recomputes the PCR and checks the signature (cfg.quote_alg: ECDSA P-256
 * or Ed25519) with the host's registered key; for the others the node
 * makes the same comparisons without the arithmetic: the quote's host,
 * the nonce it issued, the id of the key that signed.  The nonce is SHA-256(node secret, host,
 * attempt): unpredictable to the host, fresh per request, and stored
 * nowhere but in the issued[] pair (attempt, node).
 *
 * Depot view.  Every depot document goes through at_view (TUF's rules):
 * the roots the reply says the depot has beyond the node's (each
 * signature checked is charged verify_ns), the timestamp, the snapshot it
 * names (verified and charged only when not the one held), the targets;
 * a refused one is counted in meta_refused and the node fails closed if
 * no fresh view is left.  A timestamp identical to the last accepted one
 * is not verified again (its expiry is).  AT_BROKEN_ROLLBACK accepts a
 * document the view refused as a rollback, AT_BROKEN_NONCE takes the
 * quote's own nonce as the expected one, AT_BROKEN_FREEZE takes an
 * expired timestamp as current, AT_BROKEN_WITHDRAW ignores the withdrawn
 * flag of its lookup answer, AT_BROKEN_REVOKED believes a timestamp
 * signed with its shipped root's (revoked) timestamp key: the checker
 * must catch all five.
 *
 * A crash (at_node_crash) loses the node's memory: its workers' queue,
 * what it decided and had not sent, the nonces it issued, its cached
 * targets and last timestamp (at.h, "A node crash").
 */
#include <stdlib.h>
#include <string.h>

#include "attestation/at_int.h"

static uint32_t rack_of(const struct at_dc *dc, uint32_t h)
{
    return h / dc->cfg.rack_hosts;
}

static bool is_cache(enum at_method m)
{
    return m == AT_DEPOT_CACHE || m == AT_BROKEN_ROLLBACK || m == AT_BROKEN_FREEZE ||
           m == AT_BROKEN_REVOKED;
}

static void nonce_of(const struct at_node *n, uint32_t h, uint32_t attempt,
                     uint8_t out[AT_NONCE_LEN])
{
    struct at_sha256_ctx c;
    at_sha256_init(&c);
    at_sha256_update(&c, n->secret, sizeof n->secret);
    at_sha256_update(&c, &h, sizeof h);
    at_sha256_update(&c, &attempt, sizeof attempt);
    at_sha256_final(&c, out);
}

/* The decision leaves once the workers spent cost (and not before
 * not_before, the end of the request's earlier work). */
static void answer(struct at_dc *dc, uint32_t j, uint32_t h, uint32_t attempt, uint64_t wait_ns,
                   enum at_reason reason, uint32_t comp, uint64_t version, double cost,
                   uint64_t not_before)
{
    struct at_node *n = &dc->nodes[j];
    uint64_t now = at_now(dc);
    at_check_decision(dc, j, h, reason, version);
    n->answers++;
    if (reason == R_OK)
        cost += at_sign_cost(&dc->cfg.costs, dc->cfg.token_alg);
    uint64_t when = at_cpu_run(&n->cpu, now, cost);
    if (when < not_before)
        when = not_before;
    struct at_rec r = { .host = h, .attempt = attempt, .wait_ns = wait_ns };
    if (reason == R_OK) {
        struct at_token_rec t = { .host = h, .expires_ns = now + dc->cfg.params.token_ttl_ns,
                                  .depot_version = version, .node = j };
        if (at_sampled(dc, h, attempt) && !at_sign(&n->key, &t, offsetof(struct at_token_rec, sig),
                                                   t.sig))
            dc->st.real_signs++;
        r.type = M_TOKEN;
        r.len = sizeof t;
        at_send_at(dc, when, j, EP_NODE0 + j, rack_of(dc, h), &r, &t, dc->cfg.msg_bytes);
    } else {
        struct at_refuse_rec x = { .reason = reason, .component = comp };
        r.type = M_REFUSE;
        r.len = sizeof x;
        at_send_at(dc, when, j, EP_NODE0 + j, rack_of(dc, h), &r, &x, dc->cfg.msg_bytes);
    }
}

static void seen(struct at_dc *dc, struct at_node *n, uint64_t v)
{
    if (v > dc->depot.nr_hist)
        return;
    uint64_t now = at_now(dc);
    for (uint64_t u = n->seen_version + 1; u <= v; u++)
        vm_hist_add(&dc->st.staleness_ns, now - dc->depot.hist[u - 1].pub_ns);
    if (v > n->seen_version)
        n->seen_version = v;
}

static bool sig_same(const struct at_sigblock *a, const struct at_sigblock *b)
{
    return a->alg == b->alg && !memcmp(a->sig, b->sig, AT_SIG_LEN);
}

static bool ts_same(const struct at_ts_blob *a, const struct at_ts_blob *b)
{
    return a->ts.version == b->ts.version &&
           a->ts.snapshot_version == b->ts.snapshot_version &&
           a->ts.expires_ns == b->ts.expires_ns &&
           !memcmp(a->ts.snapshot_hash, b->ts.snapshot_hash, AT_HASH_LEN) &&
           sig_same(&a->sig, &b->sig) && a->snap.version == b->snap.version &&
           a->snap.targets_version == b->snap.targets_version &&
           a->snap.expires_ns == b->snap.expires_ns &&
           !memcmp(a->snap.targets_hash, b->snap.targets_hash, AT_HASH_LEN) &&
           sig_same(&a->snap_sig, &b->snap_sig) && a->root_version == b->root_version;
}

static void count_refused(struct at_dc *dc, enum at_meta_err e)
{
    if (e != AT_META_OK && (unsigned)e < AT_META_NR_ERR)
        dc->st.meta_refused[e]++;
}

/* Charge and count n Ed25519 verifications on the node's workers. */
static void charge_verifies(struct at_dc *dc, struct at_node *n, uint32_t nr)
{
    if (!nr)
        return;
    dc->st.real_verifies += nr;
    at_cpu_run(&n->cpu, at_now(dc), dc->cfg.costs.verify_ns * nr);
}

/* The roots the node lacks up to `want` (the depot's newest the reply
 * names), one by one from the depot's published list (TUF 5.3). */
static enum at_meta_err apply_roots(struct at_dc *dc, struct at_node *n, uint64_t want)
{
    const struct at_depot *dp = &dc->depot;
    if (want > (uint64_t)dp->gen + 1)
        want = (uint64_t)dp->gen + 1;      /* never one not published */
    uint32_t verified = 0;
    enum at_meta_err e = AT_META_OK;
    while (!e && n->view.root.version < want) {
        const struct at_rootpub *rp = &dp->roots[n->view.root.version];   /* version v + 1 */
        e = at_view_root(&n->view, &rp->root, &rp->sigs, &verified);
        if (!e)
            n->have_last_ts = false;       /* its timestamp may be forgotten (5.3.11) */
    }
    charge_verifies(dc, n, verified);
    count_refused(dc, e);
    return e;
}

/* The broken variants believe the document the view refused. */
static void force_view(struct at_view *v, const struct at_ts_blob *b)
{
    v->ts_version = b->ts.version;
    v->ts_expires_ns = b->ts.expires_ns;
    v->snap_version = b->ts.snapshot_version;
    memcpy(v->snap_hash, b->ts.snapshot_hash, AT_HASH_LEN);
    v->have_snap = b->snap.version;
    v->snap_expires_ns = b->snap.expires_ns;
    v->targets_version = b->snap.targets_version;
    memcpy(v->targets_hash, b->snap.targets_hash, AT_HASH_LEN);
}

/* AT_BROKEN_REVOKED: the timestamp verifies with the key the root the
 * node shipped with listed (revoked since). */
static bool shipped_key_signed(const struct at_dc *dc, const struct at_ts_blob *b)
{
    if (dc->cfg.params.method != AT_BROKEN_REVOKED)
        return false;
    uint8_t buf[AT_TIMESTAMP_ENC_LEN];
    size_t n = at_timestamp_encode(&b->ts, buf);
    return at_verify(b->sig.alg, dc->depot.roots[0].root.roles[AT_ROLE_TIMESTAMP].keyids[0],
                     buf, n, b->sig.sig) == 0;
}

/* The snapshot the accepted timestamp names: verified (and charged) only
 * when it is not the one held already. */
static enum at_meta_err apply_snap(struct at_dc *dc, struct at_node *n, const struct at_ts_blob *b)
{
    struct at_view *v = &n->view;
    uint8_t h[AT_HASH_LEN];
    at_snapshot_hash(&b->snap, h);
    if (v->have_snap && b->snap.version == v->have_snap && v->have_snap == v->snap_version &&
        !memcmp(h, v->snap_hash, AT_HASH_LEN))
        return AT_META_OK;
    enum at_meta_err e = at_view_snapshot(v, &b->snap, &b->snap_sig, at_now(dc));
    if (e != AT_META_MISMATCH && b->snap_sig.alg == AT_ALG_ED25519)
        charge_verifies(dc, n, 1);          /* a mismatch is caught before the signature */
    return e;
}

/* A timestamp and its snapshot through the view, after the roots the
 * reply names; refusals counted.  The blob is remembered (last_ts, not
 * verified again) only once its snapshot is accepted too: tough cached a
 * timestamp before the snapshot's rollback check (CVE-2025-2888). */
static enum at_meta_err apply_ts(struct at_dc *dc, struct at_node *n, const struct at_ts_blob *b)
{
    uint64_t now = at_now(dc);
    enum at_meta_err e = apply_roots(dc, n, b->root_version);
    if (e)
        return e;
    bool broken_freeze = dc->cfg.params.method == AT_BROKEN_FREEZE;
    if (n->have_last_ts && ts_same(b, &n->last_ts)) {
        e = b->ts.expires_ns <= now && !broken_freeze ? AT_META_EXPIRED : AT_META_OK;
    } else {
        e = at_view_timestamp(&n->view, &b->ts, &b->sig, now);
        if (b->sig.alg == AT_ALG_ED25519)
            dc->st.real_verifies++;
        if (e == AT_META_OK)
            e = apply_snap(dc, n, b);
        if ((e == AT_META_ROLLBACK && dc->cfg.params.method == AT_BROKEN_ROLLBACK) ||
            (e == AT_META_EXPIRED && broken_freeze) || (e == AT_META_BAD_SIG &&
                                                        shipped_key_signed(dc, b))) {
            force_view(&n->view, b);
            e = AT_META_OK;
        }
        if (e == AT_META_OK) {
            n->last_ts = *b;
            n->have_last_ts = true;
        }
    }
    count_refused(dc, e);
    return e;
}

/* ------------------------------------------------------------ policies */

static enum at_reason decide_cat(const struct at_catalog *cat, const struct at_event *ev,
                                 uint32_t nr, uint32_t *comp)
{
    for (uint32_t i = 0; i < nr; i++) {
        const struct at_pkg *p = at_catalog_find(cat, ev[i].name, ev[i].version);
        *comp = i;
        if (!p || strcmp(p->vendor, ev[i].vendor))
            return R_UNKNOWN;
        if (memcmp(p->data_hash, ev[i].data_hash, AT_HASH_LEN))
            return R_HASH;
        if (p->withdrawn)
            return R_WITHDRAWN;
    }
    return R_OK;
}

static enum at_reason decide_allow(const struct at_dc *dc, const struct at_node *n,
                                   const struct at_event *ev, uint32_t nr, uint32_t *comp)
{
    for (uint32_t i = 0; i < nr; i++) {
        const struct at_pkg *p = at_catalog_find(&dc->uni, ev[i].name, ev[i].version);
        *comp = i;
        if (!p)
            return R_UNKNOWN;
        uint32_t pv = (uint32_t)(p - dc->uni.pkgs);
        if (!(n->allow[pv / 8] & (1u << (pv % 8))))
            return R_NOT_ALLOWED;
        if (memcmp(p->data_hash, ev[i].data_hash, AT_HASH_LEN))
            return R_HASH;
    }
    return R_OK;
}

static bool held_usable(const struct at_dc *dc, const struct at_node *n, uint64_t now)
{
    if (!n->held_ref)
        return false;
    if (dc->cfg.params.method == AT_BROKEN_FREEZE) {
        /* the broken variant: any view, expired or not */
        if (n->view.have_targets != n->view.targets_version)
            return false;
    } else if (!at_view_fresh(&n->view, now)) {
        return false;
    }
    return dc->cfg.params.method == AT_DEPOT_FEED ||
           now - n->held_at_ns < dc->cfg.params.cache_ttl_ns;
}

static uint64_t depot_timeout(const struct at_dc *dc)
{
    return dc->cfg.params.req_timeout_ns / 2;
}

static void fetch_timeout(void *arg);

static void fetch(struct at_dc *dc, struct at_node *n, uint64_t when)
{
    n->fetching = true;
    n->last_fetch_ns = at_now(dc);
    struct at_rec r = { .type = M_FETCH };
    at_send_at(dc, when, n->idx, EP_NODE0 + n->idx, EP_DEPOT, &r, NULL, dc->cfg.msg_bytes);
    if (n->fetch_tmr)
        port_timer_cancel(dc->p.timer, n->fetch_tmr);
    n->fetch_tmr = port_timer_arm(dc->p.timer, when + depot_timeout(dc), fetch_timeout, n);
}

static bool may_fetch(const struct at_dc *dc, const struct at_node *n, uint64_t now)
{
    return !n->fetching &&
           (!n->last_fetch_ns || now - n->last_fetch_ns >= dc->cfg.params.min_refetch_ns);
}

static void wait_fetch(struct at_node *n, struct at_job *jb)
{
    jb->next = NULL;
    if (n->wait_tail)
        n->wait_tail->next = jb;
    else
        n->wait_head = jb;
    n->wait_tail = jb;
}

/* Decide from the held targets (cache, feed), or wait for a fetch. */
static void held_decide(struct at_dc *dc, struct at_job *jb, uint64_t not_before)
{
    struct at_node *n = &dc->nodes[jb->node];
    uint64_t now = at_now(dc);
    enum at_method m = dc->cfg.params.method;
    double cost = dc->cfg.costs.lookup_ns * jb->nr_ev;
    uint32_t comp = 0;
    if (held_usable(dc, n, now)) {
        const struct at_catalog *cat = &dc->depot.hist[n->held_ref - 1].cat;
        enum at_reason why = decide_cat(cat, jb->ev, jb->nr_ev, &comp);
        if (why == R_UNKNOWN && is_cache(m) && !jb->refetched && may_fetch(dc, n, now)) {
            jb->refetched = 1;       /* a miss: fetch once, then decide again */
            fetch(dc, n, not_before > now ? not_before : now);
            wait_fetch(n, jb);
            return;
        }
        answer(dc, jb->node, jb->host, jb->attempt, jb->wait_ns, why, comp,
               n->view.have_targets, cost, not_before);
        at_job_free(dc, jb);
        return;
    }
    if (!jb->refetched && (n->fetching || may_fetch(dc, n, now))) {
        jb->refetched = 1;
        if (!n->fetching)
            fetch(dc, n, not_before > now ? not_before : now);
        wait_fetch(n, jb);
        return;
    }
    answer(dc, jb->node, jb->host, jb->attempt, jb->wait_ns, R_NO_VIEW, 0,
           n->view.have_targets, cost, not_before);
    at_job_free(dc, jb);
}

static void run_waiters(struct at_dc *dc, struct at_node *n)
{
    struct at_job *jb = n->wait_head;
    n->wait_head = n->wait_tail = NULL;
    while (jb) {
        struct at_job *next = jb->next;
        held_decide(dc, jb, 0);
        jb = next;
    }
}

static void fetch_timeout(void *arg)
{
    struct at_node *n = arg;
    n->fetch_tmr = 0;
    n->fetching = false;
    run_waiters(n->dc, n);
}

static void targets_in(struct at_dc *dc, struct at_node *n, const struct at_targets_rec *t)
{
    uint64_t now = at_now(dc);
    if (t->ref >= dc->depot.nr_hist) {
        dc->st.malformed++;
        return;
    }
    const struct at_pub *pb = &dc->depot.hist[t->ref];
    /* two signatures and the document's hash */
    at_cpu_run(&n->cpu, now, dc->cfg.costs.verify_ns * 2 +
                             dc->cfg.costs.sha256_ns_per_byte * (double)pb->size);
    if (apply_ts(dc, n, &t->ts) == AT_META_OK) {
        bool same = n->held_ref == t->ref + 1 && n->view.have_targets == pb->cat.version &&
                    n->view.targets_version == pb->cat.version &&
                    t->sig.alg == pb->sig.alg && !memcmp(t->sig.sig, pb->sig.sig, AT_SIG_LEN);
        enum at_meta_err e = AT_META_OK;
        if (!same) {
            e = at_view_targets(&n->view, &pb->cat, &t->sig, now);
            if (t->sig.alg == AT_ALG_ED25519)
                dc->st.real_verifies++;
            if (e == AT_META_ROLLBACK && dc->cfg.params.method == AT_BROKEN_ROLLBACK) {
                n->view.have_targets = pb->cat.version;
                n->view.targets_expires_ns = pb->cat.expires_ns;
                e = AT_META_OK;
            }
            count_refused(dc, e);
        }
        if (e == AT_META_OK) {
            n->held_ref = t->ref + 1;
            n->held_at_ns = now;
            seen(dc, n, pb->cat.version);
            uint64_t bytes = (uint64_t)pb->cat.nr_pkgs *
                             (AT_NAME_MAX + AT_VERSION_MAX + AT_VENDOR_MAX + AT_HASH_LEN + 1);
            if (bytes > dc->st.policy_bytes_max)
                dc->st.policy_bytes_max = bytes;
        }
    }
    if (n->fetching) {
        n->fetching = false;
        if (n->fetch_tmr)
            port_timer_cancel(dc->p.timer, n->fetch_tmr);
        n->fetch_tmr = 0;
        run_waiters(dc, n);
    }
}

/* ---------------------------------------------------- per-request lookup */

static void lookup_timeout(void *arg)
{
    struct at_job *jb = arg;
    struct at_dc *dc = jb->dc;
    struct at_node *n = &dc->nodes[jb->node];
    jb->tmr = 0;
    if (n->up && n->inc == jb->inc)
        answer(dc, jb->node, jb->host, jb->attempt, jb->wait_ns, R_DEPOT_TIMEOUT, 0, 0, 0, 0);
    at_job_free(dc, jb);
}

static void lookup_send(struct at_dc *dc, struct at_job *jb, uint64_t when)
{
    size_t len = 8 + (size_t)jb->nr_ev * sizeof(struct at_lookup_key);
    uint8_t *buf = calloc(1, len);
    if (!buf) {
        at_job_free(dc, jb);
        return;                  /* as a lost message: the host times out */
    }
    memcpy(buf, &jb->nr_ev, 4);
    for (uint32_t i = 0; i < jb->nr_ev; i++) {
        struct at_lookup_key k;
        memset(&k, 0, sizeof k);
        strcpy(k.name, jb->ev[i].name);
        strcpy(k.version, jb->ev[i].version);
        memcpy(buf + 8 + (size_t)i * sizeof k, &k, sizeof k);
    }
    struct at_rec r = { .type = M_LOOKUP, .flags = jb->real ? AT_F_REAL : 0,
                        .len = (uint32_t)len, .host = jb->host, .attempt = jb->attempt,
                        .id = at_job_id(jb), .wait_ns = jb->wait_ns };
    at_send_at(dc, when, jb->node, EP_NODE0 + jb->node, EP_DEPOT, &r, buf,
               dc->cfg.msg_bytes + (uint64_t)jb->nr_ev * sizeof(struct at_lookup_key));
    free(buf);
    jb->tmr = port_timer_arm(dc->p.timer, when + depot_timeout(dc), lookup_timeout, jb);
}

static void lookup_reply(struct at_dc *dc, struct at_node *n, const struct at_rec *r,
                         const uint8_t *payload)
{
    struct at_job *jb = at_job_find(dc, r->id);
    if (!jb || jb->node != n->idx)
        return;                  /* answered already (timed out) */
    if (jb->tmr)
        port_timer_cancel(dc->p.timer, jb->tmr);
    jb->tmr = 0;
    if (jb->inc != n->inc) {
        at_job_free(dc, jb);
        return;
    }
    uint64_t now = at_now(dc);
    struct at_lookup_reply x;
    memcpy(&x, payload, sizeof x);
    const uint8_t *ents = payload + sizeof x;
    double cost = dc->cfg.costs.verify_ns + dc->cfg.costs.lookup_ns * jb->nr_ev;
    enum at_reason why = R_OK;
    uint32_t comp = 0;
    if (apply_ts(dc, n, &x.ts) != AT_META_OK) {
        why = R_META;
    } else if (x.ts.ts.expires_ns <= now) {
        why = R_NO_VIEW;
    } else if (x.nr != jb->nr_ev) {
        why = R_META;
    } else if (jb->real) {
        uint8_t dg[AT_HASH_LEN];
        at_lookup_digest(&x.ts, ents, x.nr, dg);
        enum at_meta_err e = at_view_check_sig(&n->view, AT_ROLE_TIMESTAMP, dg, sizeof dg,
                                               &x.sig, NULL);
        dc->st.real_verifies++;
        if (e) {
            count_refused(dc, e);
            why = R_META;
        }
    }
    for (uint32_t i = 0; why == R_OK && i < x.nr; i++) {
        struct at_lookup_ent e;
        memcpy(&e, ents + (size_t)i * sizeof e, sizeof e);
        comp = i;
        if (!e.found)
            why = R_UNKNOWN;
        else if (memcmp(e.hash, jb->ev[i].data_hash, AT_HASH_LEN))
            why = R_HASH;
        else if (e.withdrawn && dc->cfg.params.method != AT_BROKEN_WITHDRAW)
            why = R_WITHDRAWN;   /* the broken variant: it accepts it */
    }
    if (why != R_META)
        seen(dc, n, x.ts.snap.targets_version);
    answer(dc, n->idx, jb->host, jb->attempt, r->wait_ns, why, comp, x.ts.snap.targets_version,
           cost, 0);
    at_job_free(dc, jb);
}

/* ---------------------------------------------------------------- quote */

static enum at_reason check_quote(struct at_dc *dc, struct at_node *n, uint32_t h,
                                  uint32_t attempt, const struct at_quote_rec *qr,
                                  const struct at_event *ev, bool real)
{
    uint8_t want[AT_NONCE_LEN];
    if (dc->cfg.params.method == AT_BROKEN_NONCE) {
        memcpy(want, qr->q.nonce, AT_NONCE_LEN);   /* the broken variant: any nonce */
    } else {
        if (dc->issued[h].node != n->idx + 1 || dc->issued[h].attempt != attempt)
            return R_NONCE;      /* no nonce issued for this request */
        nonce_of(n, h, attempt, want);
    }
    if (real) {
        const struct at_key *k = at_host_key(dc, h);   /* its registered key */
        if (!k)
            return R_SIG;
        dc->st.real_verifies++;
        switch (at_quote_verify(&qr->q, h, k->alg, k->pub, want, ev, qr->nr_events)) {
        case AT_QUOTE_OK: return R_OK;
        case AT_QUOTE_WRONG_HOST: return R_WRONG_HOST;
        case AT_QUOTE_STALE_NONCE: return R_NONCE;
        case AT_QUOTE_PCR_MISMATCH: return R_PCR;
        default: return R_SIG;
        }
    }
    if (qr->q.host != h)
        return R_WRONG_HOST;
    if (memcmp(qr->q.nonce, want, AT_NONCE_LEN))
        return R_NONCE;
    if (qr->key_id != h || qr->q.alg != dc->cfg.quote_alg)
        return R_SIG;            /* another key, or another algorithm than the
                                  * host's registered key, as the real path */
    return R_OK;
}

static void quote_in(struct at_dc *dc, struct at_node *n, const struct at_rec *r,
                     const uint8_t *payload)
{
    uint32_t h = r->host;
    uint64_t now = at_now(dc);
    const struct at_costs *c = &dc->cfg.costs;
    struct at_quote_rec qr;
    memcpy(&qr, payload, sizeof qr);
    uint32_t nr = qr.nr_events;
    struct at_event *ev = malloc((size_t)nr * sizeof *ev);
    if (!ev)
        return;
    memcpy(ev, payload + sizeof qr, (size_t)nr * sizeof *ev);
    bool real = at_sampled(dc, h, r->attempt);
    double cost = at_verify_cost(c, dc->cfg.quote_alg) + c->sha256_small_ns * (2.0 * nr + 2);
    enum at_reason why = check_quote(dc, n, h, r->attempt, &qr, ev, real);
    if (dc->issued[h].node == n->idx + 1 && dc->issued[h].attempt == r->attempt)
        dc->issued[h].node = 0;  /* a nonce answers one quote */
    enum at_method m = dc->cfg.params.method;
    uint32_t comp = 0;
    if (why == R_OK && !at_method_uses_depot(m))
        why = decide_allow(dc, n, ev, nr, &comp);
    if (why != R_OK || !at_method_uses_depot(m)) {
        answer(dc, n->idx, h, r->attempt, r->wait_ns, why, comp, 0, cost + c->lookup_ns * nr, 0);
        free(ev);
        return;
    }
    struct at_job *jb = at_job_new(dc);
    if (!jb) {
        free(ev);
        return;
    }
    jb->node = n->idx;
    jb->inc = n->inc;
    jb->host = h;
    jb->attempt = r->attempt;
    jb->real = real;
    jb->nr_ev = nr;
    jb->ev = ev;
    jb->wait_ns = r->wait_ns;
    uint64_t done = at_cpu_run(&n->cpu, now, cost);
    if (m == AT_DEPOT || m == AT_BROKEN_NONCE || m == AT_BROKEN_WITHDRAW)
        lookup_send(dc, jb, done);
    else
        held_decide(dc, jb, done);
}

/* ------------------------------------------------------------- dispatch */

void at_node_recv(struct at_dc *dc, uint32_t j, const struct at_rec *r, const uint8_t *payload)
{
    struct at_node *n = &dc->nodes[j];
    uint64_t now = at_now(dc);
    bool host_rec = r->type == M_ATTEST || r->type == M_QUOTE;
    if (at_rec_check(r, payload) || (host_rec && r->host >= dc->cfg.nr_hosts)) {
        dc->st.malformed++;
        if (r->host < dc->cfg.nr_hosts && host_rec)
            answer(dc, j, r->host, r->attempt, r->wait_ns, R_MALFORMED, 0, 0, 0, 0);
        return;
    }
    switch (r->type) {
    case M_ATTEST: {
        dc->issued[r->host].attempt = r->attempt;
        dc->issued[r->host].node = j + 1;
        uint8_t nonce[AT_NONCE_LEN];
        nonce_of(n, r->host, r->attempt, nonce);
        uint64_t when = at_cpu_run(&n->cpu, now, dc->cfg.costs.sha256_small_ns);
        struct at_rec o = { .type = M_NONCE, .len = AT_NONCE_LEN, .host = r->host,
                            .attempt = r->attempt, .wait_ns = r->wait_ns };
        at_send_at(dc, when, j, EP_NODE0 + j, rack_of(dc, r->host), &o, nonce,
                   dc->cfg.msg_bytes + AT_NONCE_LEN);
        break;
    }
    case M_QUOTE:
        quote_in(dc, n, r, payload);
        break;
    case M_LOOKUP_REPLY:
        lookup_reply(dc, n, r, payload);
        break;
    case M_TARGETS: {
        struct at_targets_rec t;
        memcpy(&t, payload, sizeof t);
        targets_in(dc, n, &t);
        break;
    }
    case M_TIMESTAMP: {
        struct at_ts_blob b;
        memcpy(&b, payload, sizeof b);
        at_cpu_run(&n->cpu, now, dc->cfg.costs.verify_ns);
        if (apply_ts(dc, n, &b) == AT_META_OK && n->view.targets_version > n->view.have_targets &&
            may_fetch(dc, n, now))
            fetch(dc, n, now);   /* a targets version it missed */
        break;
    }
    case M_POLICY: {
        struct at_policy_rec p;
        memcpy(&p, payload, sizeof p);
        uint32_t *pv = malloc((size_t)p.nr * 4 + 4);
        if (!pv)
            return;
        memcpy(pv, payload + sizeof p, (size_t)p.nr * 4);
        at_admin_apply(dc, j, &p, pv);
        free(pv);
        break;
    }
    default:
        dc->st.malformed++;      /* a record a node never receives */
        break;
    }
}

/* ----------------------------------------------------------- life cycle */

void at_node_start(struct at_dc *dc, uint32_t j)
{
    struct at_node *n = &dc->nodes[j];
    n->up = true;
    n->seen_version = dc->depot.nr_hist;
    enum at_method m = dc->cfg.params.method;
    if (at_method_uses_depot(m) && m != AT_DEPOT && m != AT_BROKEN_NONCE &&
        m != AT_BROKEN_WITHDRAW)
        fetch(dc, n, at_now(dc));   /* the cache's first copy; the feed's subscription */
}

static void drop_waiters(struct at_dc *dc, struct at_node *n)
{
    struct at_job *jb = n->wait_head;
    while (jb) {
        struct at_job *next = jb->next;
        at_job_free(dc, jb);
        jb = next;
    }
    n->wait_head = n->wait_tail = NULL;
}

void at_node_crash(struct at_dc *dc, uint32_t j)
{
    struct at_node *n = &dc->nodes[j];
    if (n->downs++)
        return;                  /* down already: it stays down until the later restart */
    n->up = false;
    n->inc++;
    drop_waiters(dc, n);
    if (n->fetch_tmr)
        port_timer_cancel(dc->p.timer, n->fetch_tmr);
    n->fetch_tmr = 0;
    n->fetching = false;
    /* memory is lost: the cache and the last timestamp; the view's
     * versions persist (TUF keeps its trusted metadata on disk) */
    n->held_ref = 0;
    n->have_last_ts = false;
    for (uint32_t i = 0; i < n->cpu.nr; i++)
        n->cpu.free_at[i] = 0;
    /* ... and the nonces it issued: a quote for one is refused after the restart */
    for (uint32_t h = 0; h < dc->cfg.nr_hosts; h++)
        if (dc->issued[h].node == j + 1)
            dc->issued[h].node = 0;
}

void at_node_restart(struct at_dc *dc, uint32_t j)
{
    struct at_node *n = &dc->nodes[j];
    if (!n->downs || --n->downs)
        return;                  /* not down, or a later crash keeps it down */
    n->up = true;
    n->last_fetch_ns = 0;
    uint32_t seen_v = (uint32_t)n->seen_version;
    at_node_start(dc, j);
    n->seen_version = seen_v;
}

int at_crash_node(struct at_dc *dc, uint32_t j)
{
    if (!dc->started || j >= dc->cfg.nr_nodes)
        return VM_EINVAL;
    at_node_crash(dc, j);
    return 0;
}

int at_restart_node(struct at_dc *dc, uint32_t j)
{
    if (!dc->started || j >= dc->cfg.nr_nodes)
        return VM_EINVAL;
    at_node_restart(dc, j);
    return 0;
}

void at_node_free(struct at_node *n)
{
    if (n->fetch_tmr)
        port_timer_cancel(n->dc->p.timer, n->fetch_tmr);
    drop_waiters(n->dc, n);
    at_cpu_free(&n->cpu);
    at_key_free(&n->key);
    free(n->allow);
}
