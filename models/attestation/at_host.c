/*
 * at_host.c - the hosts: state machines multiplexed on the port's timers
 * and on their rack's endpoint, 32 bytes each, so 100,000 hosts are one
 * array and one pending timer each, not 100,000 actors.
 *
 * A host boots (at its boot instant, or boot_time after an upgrade
 * reboot), sends ATTEST to a node of its attestation cluster, answers the
 * NONCE with a QUOTE over its event log (its release's components) once
 * its TPM made it (tpm_quote_ns after the TPM is free: a TPM executes one
 * command at a time, so a request that timed out and went to the next
 * node queues its quote behind the one still running; a quote made for a
 * request the host gave up, or before a reboot, is not sent), and
 * gets a TOKEN (it re-attests at 3/4 of the token's ttl) or a REFUSE (it
 * asks again after retry_ns, doubled at each refusal in a row up to
 * retry_max_ns, as agents back off).  No answer within req_timeout: the next
 * node of its cluster.
 *
 * Attacks on evidence are applied here, to the quote the host sends, from
 * the attack schedule: a tampered component (its data_hash changed, as a
 * changed file changes it), an extra component in no depot, a quote made
 * for an old nonce, a quote signed by the next host's key, a QUOTE record
 * whose length disagrees with its count.  The host notes which forgery it
 * sent (forged) for the checker: the ground truth, not the node's view.
 *
 * Quotes are really signed (at_quote_sign) for the sampled requests
 * (at_sampled), and their tokens really verified; the others carry the id
 * of the key that would have signed them.  Host keys are derived on demand into a small cache.
 */
#include <stdlib.h>
#include <string.h>

#include "attestation/at_int.h"

/* 100,000 hosts in 3.2 MB (plus 8 bytes each of issued nonces) */
_Static_assert(sizeof(struct at_host) <= 32, "a host's state stays small");
_Static_assert(AT_NR_ATTACKS < 16, "forged holds an attack kind in 4 bits");

uint32_t at_host_node(const struct at_dc *dc, uint32_t h)
{
    const struct at_cfg *c = &dc->cfg;
    uint32_t a = (h / c->cluster_hosts) % dc->nr_aclusters;
    return a * c->cluster_nodes + (h + dc->hosts[h].try_) % c->cluster_nodes;
}

int at_host_attack(const struct at_dc *dc, enum at_attack_kind kind, uint32_t h, uint64_t now)
{
    for (uint32_t i = 0; i < dc->cfg.nr_attacks; i++) {
        const struct at_attack *a = &dc->atk[i];
        if (a->kind == kind && h >= a->first_host && h - a->first_host < a->nr_hosts &&
            now >= a->at_ns && (!a->len_ns || now < a->at_ns + a->len_ns))
            return (int)i;
    }
    return -1;
}

const struct at_key *at_host_key(struct at_dc *dc, uint64_t h)
{
    unsigned s = (unsigned)(h % AT_KEY_CACHE);
    if (dc->keys[s].used && dc->keys[s].h == h)
        return &dc->keys[s].k;
    if (dc->keys[s].used)
        at_key_free(&dc->keys[s].k);
    dc->keys[s].used = false;
    uint8_t seed[AT_SEED_LEN];
    at_key_seed(seed, "host", dc->cfg.seed, h);
    if (at_key_init_alg(&dc->keys[s].k, dc->cfg.quote_alg, seed, NULL))
        return NULL;
    dc->keys[s].used = true;
    dc->keys[s].h = h;
    return &dc->keys[s].k;
}

static bool busy_state(uint8_t s)
{
    return s != H_TOKEN && s != H_REFUSED;
}

static void set_state(struct at_dc *dc, struct at_host *x, enum at_hstate s)
{
    bool was = busy_state(x->state), is = busy_state((uint8_t)s);
    if (was && !is)
        dc->nr_busy--;
    else if (!was && is)
        dc->nr_busy++;
    x->state = (uint8_t)s;
}

static void fire(void *arg);

static void arm(struct at_dc *dc, struct at_host *x, uint64_t when_ns)
{
    if (x->tmr)
        port_timer_cancel(dc->p.timer, x->tmr);
    x->tmr = port_timer_arm(dc->p.timer, when_ns, fire, x);
}

static void attest(struct at_dc *dc, uint32_t h, bool fresh)
{
    struct at_host *x = &dc->hosts[h];
    uint64_t now = at_now(dc);
    if (fresh)
        x->start_ns = now;
    x->attempt++;
    set_state(dc, x, H_WAIT_NONCE);
    struct at_rec r = { .type = M_ATTEST, .host = h, .attempt = x->attempt };
    at_send(dc, h / dc->cfg.rack_hosts, EP_NODE0 + at_host_node(dc, h), &r, NULL,
            dc->cfg.msg_bytes);
    dc->st.attests++;
    arm(dc, x, now + dc->cfg.params.req_timeout_ns);
}

static void fire(void *arg)
{
    struct at_host *x = arg;
    struct at_dc *dc = x->dc;
    uint32_t h = (uint32_t)(x - dc->hosts);
    x->tmr = 0;
    switch (x->state) {
    case H_WAIT_NONCE:
    case H_QUOTING:
    case H_WAIT_ANSWER:
        dc->st.timeouts++;
        x->try_ = (uint8_t)((x->try_ + 1) % dc->cfg.cluster_nodes) & 0x3f;
        attest(dc, h, false);
        break;
    default:
        attest(dc, h, true);
        break;
    }
}

void at_host_boot(struct at_dc *dc, uint32_t h, uint64_t when_ns)
{
    struct at_host *x = &dc->hosts[h];
    set_state(dc, x, H_BOOTING);
    arm(dc, x, when_ns);
}

void at_host_upgrade(struct at_dc *dc, uint32_t h, uint32_t rel)
{
    struct at_host *x = &dc->hosts[h];
    if (x->rel >= rel)
        return;
    x->rel = (uint8_t)rel;
    x->on_rel = 0;
    x->backoff = 0;
    x->attempt++;                /* voids the request in flight: it rebooted */
    at_host_boot(dc, h, at_now(dc) + dc->cfg.boot_time_ns);
}

/* The quote for this NONCE, with the attacks of the schedule applied. */
static void send_quote(struct at_dc *dc, uint32_t h, const uint8_t nonce[AT_NONCE_LEN],
                       uint64_t wait_ns)
{
    struct at_host *x = &dc->hosts[h];
    uint64_t now = at_now(dc);
    const struct at_relinfo *ri = &dc->ri[x->rel];
    uint32_t nr = ri->nr_log;
    size_t cap = sizeof(struct at_quote_rec) + (size_t)(nr + 1) * sizeof(struct at_event);
    uint8_t *buf = calloc(1, cap);
    if (!buf)
        return;                  /* as a lost message: the host times out */
    struct at_quote_rec qr = { .key_id = h };
    struct at_event *ev = (struct at_event *)(buf + sizeof qr);
    memcpy(ev, ri->log, (size_t)nr * sizeof *ev);
    x->forged = AT_NR_ATTACKS;
    uint8_t old[AT_NONCE_LEN];
    const uint8_t *qn = nonce;
    uint64_t signer = h;
    if (at_host_attack(dc, AT_ATK_TAMPER, h, now) >= 0) {
        /* a changed file changes the component's hash */
        uint8_t b[AT_HASH_LEN + 8];
        memcpy(b, ev[0].data_hash, AT_HASH_LEN);
        memcpy(b + AT_HASH_LEN, "tampered", 8);
        at_sha256(b, sizeof b, ev[0].data_hash);
        x->forged = AT_ATK_TAMPER;
    } else if (at_host_attack(dc, AT_ATK_UNKNOWN, h, now) >= 0) {
        struct at_event *e = &ev[nr++];
        strcpy(e->name, "implant");
        strcpy(e->version, "1.0");
        strcpy(e->vendor, "unknown");
        at_sha256("implant", 7, e->data_hash);
        x->forged = AT_ATK_UNKNOWN;
    } else if (at_host_attack(dc, AT_ATK_REPLAY, h, now) >= 0) {
        /* a genuine quote the host made for an earlier nonce */
        uint8_t b[16];
        uint64_t hh = h;
        memcpy(b, "old-nonce", 8);
        memcpy(b + 8, &hh, 8);
        at_sha256(b, sizeof b, old);
        qn = old;
        x->forged = AT_ATK_REPLAY;
    } else if (at_host_attack(dc, AT_ATK_WRONG_KEY, h, now) >= 0) {
        signer = (h + 1) % dc->cfg.nr_hosts;
        x->forged = AT_ATK_WRONG_KEY;
    }
    bool real = at_sampled(dc, h, x->attempt);
    qr.key_id = signer;
    qr.nr_events = nr;
    if (real) {
        const struct at_key *k = at_host_key(dc, signer);
        if (!k || at_quote_sign(k, h, qn, ev, nr, &qr.q)) {
            free(buf);
            return;
        }
        dc->st.real_signs++;
    } else {
        qr.q.host = h;
        qr.q.alg = dc->cfg.quote_alg;
        memcpy(qr.q.nonce, qn, AT_NONCE_LEN);
    }
    size_t len = sizeof qr + (size_t)nr * sizeof *ev;
    if (at_host_attack(dc, AT_ATK_MALFORMED, h, now) >= 0) {
        qr.nr_events = nr + 7;   /* a count that disagrees with the length */
        x->forged = AT_ATK_MALFORMED;
    }
    memcpy(buf, &qr, sizeof qr);
    struct at_rec r = { .type = M_QUOTE, .flags = real ? AT_F_REAL : 0, .len = (uint32_t)len,
                        .host = h, .attempt = x->attempt, .wait_ns = wait_ns };
    at_send(dc, h / dc->cfg.rack_hosts, EP_NODE0 + at_host_node(dc, h), &r, buf,
            dc->cfg.msg_bytes + (uint64_t)nr * sizeof *ev);
    free(buf);
    set_state(dc, x, H_WAIT_ANSWER);
    arm(dc, x, now + dc->cfg.params.req_timeout_ns);
}

uint64_t at_host_tpm_reserve(struct at_dc *dc, uint32_t h, uint64_t now)
{
    uint64_t start = dc->tpm_free_at[h] > now ? dc->tpm_free_at[h] : now;
    dc->tpm_free_at[h] = start + dc->cfg.tpm_quote_ns;
    return dc->tpm_free_at[h];
}

/* A quote the TPM made: sent if the host still waits for it. */
struct tpm_done {
    struct at_tnode t;
    uint32_t h, attempt;
    uint64_t wait_ns;
    uint8_t nonce[AT_NONCE_LEN];
};

static void tpm_done_fire(void *arg)
{
    struct tpm_done *q = arg;
    struct at_dc *dc = q->t.dc;
    struct at_host *x = &dc->hosts[q->h];
    if (x->attempt == q->attempt && x->state == H_QUOTING)
        send_quote(dc, q->h, q->nonce, q->wait_ns);
}

/* A NONCE: the TPM quotes it (at once when the model has no TPM delay). */
static void quote_nonce(struct at_dc *dc, uint32_t h, const struct at_rec *r,
                        const uint8_t *nonce)
{
    if (!dc->tpm_free_at) {
        send_quote(dc, h, nonce, r->wait_ns);
        return;
    }
    struct tpm_done *q = at_timer(dc, at_host_tpm_reserve(dc, h, at_now(dc)), sizeof *q,
                                  tpm_done_fire);
    if (!q)
        return;                  /* as a lost message: the host times out */
    q->h = h;
    q->attempt = r->attempt;
    q->wait_ns = r->wait_ns;
    memcpy(q->nonce, nonce, AT_NONCE_LEN);
    set_state(dc, &dc->hosts[h], H_QUOTING);
}

void at_host_recv(struct at_dc *dc, uint32_t h, const struct at_rec *r, const uint8_t *payload)
{
    struct at_host *x = &dc->hosts[h];
    if (r->attempt != x->attempt)
        return;                  /* an answer to a request it gave up */
    uint64_t now = at_now(dc);
    switch (r->type) {
    case M_NONCE:
        if (x->state == H_WAIT_NONCE)
            quote_nonce(dc, h, r, payload);
        break;
    case M_TOKEN:
    case M_REFUSE:
        if (x->state != H_WAIT_NONCE && x->state != H_WAIT_ANSWER && x->state != H_QUOTING)
            break;
        if (r->type == M_TOKEN && at_sampled(dc, h, r->attempt)) {
            /* a sampled token is checked with the node's key, as a relying
             * party would; one that does not verify is not an answer */
            struct at_token_rec t;
            memcpy(&t, payload, sizeof t);
            if (t.host != h || t.node >= dc->cfg.nr_nodes)
                break;
            dc->st.real_verifies++;
            const struct at_key *nk = &dc->nodes[t.node].key;
            if (at_verify_key(nk->alg, nk->pub, at_pub_len(nk->alg), &t,
                              offsetof(struct at_token_rec, sig), t.sig))
                break;
        }
        /* batching is a simulation granularity: not in the latency */
        vm_hist_add(&dc->st.latency_ns, now - x->start_ns > r->wait_ns
                                            ? now - x->start_ns - r->wait_ns : 0);
        if (!dc->st.first_ns)
            dc->st.first_ns = now;
        dc->st.last_ns = now;
        if (r->type == M_TOKEN) {
            set_state(dc, x, H_TOKEN);
            x->backoff = 0;
            arm(dc, x, now + dc->cfg.params.token_ttl_ns / 4 * 3);
        } else {
            /* retry_ns, doubling at each refusal in a row, up to retry_max */
            const struct at_params *p = &dc->cfg.params;
            uint64_t wait = p->retry_ns;
            for (unsigned i = 0; i < x->backoff && wait < p->retry_max_ns; i++)
                wait *= 2;
            if (wait > p->retry_max_ns)
                wait = p->retry_max_ns;
            if (x->backoff < 15)
                x->backoff++;
            set_state(dc, x, H_REFUSED);
            arm(dc, x, now + wait);
        }
        break;
    default:
        break;
    }
}
