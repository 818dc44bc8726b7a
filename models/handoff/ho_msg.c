/*
 * ho_msg.c - the handoff model's plumbing: sending a wire message through
 * the transport port, timer slots armed on the timer port, and the
 * queue of events a paused host sees when it wakes.
 *
 * A message is a fixed struct ho_msg (plus, for the datastore's lease
 * reply, the lease counters); the network is charged cfg.write_bytes
 * for a data write and cfg.msg_bytes for everything else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/ho_int.h"

uint64_t ho_now(const struct ho_cluster *c)
{
    return port_clock_now_ns(c->p.clock);
}

const char *ho_endpoint(uint32_t host, char buf[16])
{
    if (host == HO_NONE)
        return "ds";
    snprintf(buf, 16, "h%u", host);
    return buf;
}

void ho_send(struct ho_cluster *c, uint32_t from, uint32_t to, struct ho_msg *m,
             const uint64_t *leases, uint32_t need)
{
    char fb[16], tb[16];
    m->epoch = c->epoch;
    m->host = from;
    size_t len = sizeof *m;
    void *blob = m;
    void *big = NULL;
    if (leases && m->nr_leases) {
        len += (size_t)m->nr_leases * sizeof *leases;
        big = malloc(len);
        if (!big)
            return;                         /* as a lost message: the sender times out */
        memcpy(big, m, sizeof *m);
        memcpy((char *)big + sizeof *m, leases, (size_t)m->nr_leases * sizeof *leases);
        blob = big;
    }
    struct port_transport_out out = {
        .tag = m->type, .blob = blob, .blob_len = len,
        .wire_bytes = m->type == M_DS_WRITE ? c->cfg.write_bytes
                    : c->cfg.msg_bytes + (leases ? (uint64_t)m->nr_leases * 8 : 0),
    };
    c->st.msgs++;
    if (need != HO_NONE && need < c->nr_needs)
        c->needs[need].msgs++;
    (void)port_transport_send(c->p.net, ho_endpoint(from, fb), ho_endpoint(to, tb), &out, 0);
    free(big);
}

/* ------------------------------------------------------------- timers */

static void tmr_fire(void *arg);

void ho_tmr_init(struct ho_tmr *t, struct ho_cluster *c, enum ho_tkind kind, uint32_t idx)
{
    memset(t, 0, sizeof *t);
    t->c = c;
    t->kind = (uint8_t)kind;
    t->idx = idx;
}

void ho_tmr_arm(struct ho_tmr *t, uint64_t when_ns, uint32_t seq)
{
    ho_tmr_cancel(t);
    t->seq = seq;
    t->id = port_timer_arm(t->c->p.timer, when_ns, tmr_fire, t);
}

/* Also voids a fire that a pause deferred: a timeout that fired while the
 * host was frozen must not run on wake once its step has been answered
 * (by a reply queued before it) or re-armed, or it would be taken for
 * the timeout of the next step. */
void ho_tmr_cancel(struct ho_tmr *t)
{
    if (t->id)
        (void)port_timer_cancel(t->c->p.timer, t->id);
    t->id = 0;
    t->arms++;
}

/* The host whose process a timer belongs to (HO_NONE: none, e.g. the
 * operator or the hardware watchdog, which no pause freezes). */
uint32_t ho_tmr_host(struct ho_cluster *c, const struct ho_tmr *t)
{
    switch (t->kind) {
    case T_NEED: {
        const struct ho_need *n = &c->needs[t->idx];
        return n->st == R_WAIT_START ? HO_NONE : n->host;   /* HA lives in vCenter */
    }
    case T_OPEN_WRITE: return c->opens[t->idx].host;
    case T_RELAY: return c->relays[t->idx].host;
    case T_RENEW: case T_LEASE_FAIL: return t->idx;
    default: return HO_NONE;
    }
}

void ho_run_timer(struct ho_cluster *c, struct ho_tmr *t, uint32_t seq)
{
    t->seq = seq;
    switch (t->kind) {
    case T_NEED: case T_OPERATOR:
        ho_need_timer(c, t);
        break;
    default:
        ho_host_timer(c, t);
        break;
    }
}

static void tmr_fire(void *arg)
{
    struct ho_tmr *t = arg;
    struct ho_cluster *c = t->c;
    t->id = 0;
    uint32_t h = ho_tmr_host(c, t);
    if (h != HO_NONE && h < c->cfg.nr_hosts) {
        if (!c->hosts[h].up)
            return;
        if (c->hosts[h].paused) {
            ho_defer(c, h, NULL, NULL, t, t->seq);
            return;
        }
    }
    ho_run_timer(c, t, t->seq);
}

/* ------------------------------------------------------------- pauses */

void ho_defer(struct ho_cluster *c, uint32_t host, const struct ho_msg *m, const uint64_t *leases,
              struct ho_tmr *t, uint32_t seq)
{
    struct ho_host *h = &c->hosts[host];
    if (h->dq_len == h->dq_cap) {
        size_t cap = h->dq_cap ? 2 * h->dq_cap : 16;
        struct ho_deferred *p = realloc(h->dq, cap * sizeof *p);
        if (!p)
            return;                         /* the event is lost, as a dropped message */
        h->dq = p;
        h->dq_cap = cap;
    }
    struct ho_deferred *e = &h->dq[h->dq_len];
    memset(e, 0, sizeof *e);
    if (m) {
        e->is_msg = true;
        e->m = *m;
        if (leases && m->nr_leases) {
            e->leases = malloc((size_t)m->nr_leases * sizeof *leases);
            if (!e->leases)
                return;
            memcpy(e->leases, leases, (size_t)m->nr_leases * sizeof *leases);
        }
    } else {
        e->tmr = t;
        e->seq = seq;
        e->arms = t->arms;
    }
    h->dq_len++;
}
