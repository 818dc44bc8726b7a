/*
 * fake_transport.c - deterministic transport port for unit tests (see
 * fake_transport.h): one stream per pair of endpoints, time moved by the
 * calls that would wait, serving sides as handlers.
 */
#include "fakes/fake_transport.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_err.h"
#include "base/vm_rand.h"

#define NAME_MAX_LEN 64

struct fmsg {
    struct fmsg *next;           /* inbox */
    struct port_transport_msg m;
    uint32_t src, dst;
    uint64_t order;              /* send order: ties at one arrival time */
};

struct fep {
    char name[NAME_MAX_LEN];
    fake_transport_handler handler;
    void *data;
    struct fmsg *inbox, *inbox_tail;
};

struct frule {
    struct fake_transport_fault f;
    int from, to;                /* endpoint index, -1 any */
    uint64_t matched;
    struct vm_rand rnd;
};

struct fake_transport {
    struct port_transport base;  /* first: the port */
    struct fake_clock *clock;
    uint64_t lat_ns;
    double bps;
    uint64_t seed;
    struct fep eps[FAKE_TRANSPORT_MAX_ENDPOINTS];
    uint32_t nr_eps;
    uint64_t pair_free[FAKE_TRANSPORT_MAX_ENDPOINTS][FAKE_TRANSPORT_MAX_ENDPOINTS];
    uint64_t pair_last[FAKE_TRANSPORT_MAX_ENDPOINTS][FAKE_TRANSPORT_MAX_ENDPOINTS];
    struct fmsg **flight;        /* not yet arrived */
    size_t nr_flight, cap_flight;
    struct fake_transport_sent *log;
    uint64_t nr_log, cap_log;
    struct frule rules[FAKE_TRANSPORT_MAX_FAULTS];
    int nr_rules;
    uint64_t next_id, next_order;
    bool in_handler;
    uint64_t call_id;            /* the call waiting, 0 if none */
    uint32_t call_ep;
    struct fmsg *call_reply;
    struct fake_transport_stats st;
};

static const struct port_transport_ops fake_ops;

struct fake_transport *fake_transport_new(struct fake_clock *clock, uint64_t lat_ns,
                                          double bytes_per_s, uint64_t seed)
{
    if (clock == NULL || !(bytes_per_s > 0))
        return NULL;
    struct fake_transport *ft = calloc(1, sizeof(*ft));
    if (ft == NULL)
        return NULL;
    ft->base.ops = &fake_ops;
    ft->clock = clock;
    ft->lat_ns = lat_ns;
    ft->bps = bytes_per_s;
    ft->seed = seed;
    return ft;
}

static void fmsg_free(struct fmsg *m)
{
    free(m->m.blob);
    free(m);
}

void fake_transport_free(struct fake_transport *ft)
{
    if (ft == NULL)
        return;
    for (size_t i = 0; i < ft->nr_flight; i++)
        fmsg_free(ft->flight[i]);
    for (uint32_t i = 0; i < ft->nr_eps; i++)
        for (struct fmsg *m = ft->eps[i].inbox, *n; m != NULL; m = n) {
            n = m->next;
            fmsg_free(m);
        }
    free(ft->flight);
    free(ft->log);
    free(ft);
}

struct port_transport *fake_transport_port(struct fake_transport *ft)
{
    return &ft->base;
}

static int ep_index(const struct fake_transport *ft, const char *name)
{
    if (name == NULL)
        return -1;
    for (uint32_t i = 0; i < ft->nr_eps; i++)
        if (strcmp(ft->eps[i].name, name) == 0)
            return (int)i;
    return -1;
}

int fake_transport_endpoint(struct fake_transport *ft, const char *name,
                            fake_transport_handler handler, void *data)
{
    if (name == NULL || name[0] == '\0' || strlen(name) >= NAME_MAX_LEN)
        return VM_EINVAL;
    if (ep_index(ft, name) >= 0)
        return VM_EBUSY;
    if (ft->nr_eps == FAKE_TRANSPORT_MAX_ENDPOINTS)
        return VM_ENOSPC;
    struct fep *ep = &ft->eps[ft->nr_eps++];
    snprintf(ep->name, sizeof(ep->name), "%s", name);
    ep->handler = handler;
    ep->data = data;
    return 0;
}

int fake_transport_add_fault(struct fake_transport *ft, const struct fake_transport_fault *f)
{
    if (ft->nr_rules == FAKE_TRANSPORT_MAX_FAULTS)
        return VM_ENOSPC;
    if (!(f->loss >= 0.0 && f->loss <= 1.0))
        return VM_EINVAL;
    int from = ep_index(ft, f->from), to = ep_index(ft, f->to);
    if ((f->from != NULL && from < 0) || (f->to != NULL && to < 0))
        return VM_EINVAL;
    struct frule *r = &ft->rules[ft->nr_rules];
    memset(r, 0, sizeof(*r));
    r->f = *f;
    r->f.from = r->f.to = NULL;
    r->from = from;
    r->to = to;
    vm_rand_init(&r->rnd, ft->seed, 0x66616b65ull + (uint64_t)ft->nr_rules);
    ft->nr_rules++;
    return 0;
}

/* ---- time and delivery ---- */

static uint64_t now(const struct fake_transport *ft)
{
    return ft->clock->now_ns;
}

/* Index in flight of the next arrival at or before limit, or -1. */
static long next_arrival(const struct fake_transport *ft, uint64_t limit)
{
    long best = -1;
    for (size_t i = 0; i < ft->nr_flight; i++) {
        const struct fmsg *m = ft->flight[i];
        if (m->m.recv_ns > limit)
            continue;
        if (best < 0 || m->m.recv_ns < ft->flight[best]->m.recv_ns ||
            (m->m.recv_ns == ft->flight[best]->m.recv_ns && m->order < ft->flight[best]->order))
            best = (long)i;
    }
    return best;
}

static void deliver(struct fake_transport *ft, struct fmsg *m)
{
    ft->st.delivered++;
    if (m->m.kind == PORT_TRANSPORT_REPLY) {
        if (ft->call_id != 0 && ft->call_reply == NULL && m->m.id == ft->call_id &&
            m->dst == ft->call_ep) {
            ft->call_reply = m;
            return;
        }
        ft->st.late_replies++;
        fmsg_free(m);
        return;
    }
    struct fep *ep = &ft->eps[m->dst];
    if (ep->handler != NULL) {
        ft->in_handler = true;
        ep->handler(ep->data, &ft->base, ep->name, &m->m);
        ft->in_handler = false;
        fmsg_free(m);
        return;
    }
    m->next = NULL;
    if (ep->inbox_tail)
        ep->inbox_tail->next = m;
    else
        ep->inbox = m;
    ep->inbox_tail = m;
}

/* Deliver the next arrival at or before limit; false if there is none. */
static bool step(struct fake_transport *ft, uint64_t limit)
{
    long i = next_arrival(ft, limit);
    if (i < 0)
        return false;
    struct fmsg *m = ft->flight[i];
    ft->flight[i] = ft->flight[--ft->nr_flight];
    if (m->m.recv_ns > now(ft))
        fake_clock_set(ft->clock, m->m.recv_ns);
    deliver(ft, m);
    return true;
}

uint64_t fake_transport_run(struct fake_transport *ft, uint64_t until_ns)
{
    uint64_t before = ft->st.delivered;
    while (step(ft, until_ns))
        ;
    if (until_ns > now(ft))
        fake_clock_set(ft->clock, until_ns);
    return ft->st.delivered - before;
}

/* ---- sending ---- */

static int log_add(struct fake_transport *ft, const struct fake_transport_sent *s)
{
    if (ft->nr_log == ft->cap_log) {
        uint64_t cap = ft->cap_log ? ft->cap_log * 2 : 64;
        struct fake_transport_sent *l = realloc(ft->log, cap * sizeof(*l));
        if (l == NULL)
            return VM_ENOMEM;
        ft->log = l;
        ft->cap_log = cap;
    }
    ft->log[ft->nr_log++] = *s;
    return 0;
}

static int post(struct fake_transport *ft, int src, int dst, enum port_transport_kind kind,
                uint64_t id, const struct port_transport_out *out, uint64_t *arrive_out)
{
    if (out == NULL || (out->blob_len > 0 && out->blob == NULL))
        return VM_EINVAL;
    if (ft->nr_flight == ft->cap_flight) {
        size_t cap = ft->cap_flight ? ft->cap_flight * 2 : 16;
        struct fmsg **f = realloc(ft->flight, cap * sizeof(*f));
        if (f == NULL)
            return VM_ENOMEM;
        ft->flight = f;
        ft->cap_flight = cap;
    }
    struct fmsg *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return VM_ENOMEM;
    if (out->blob_len > 0) {
        if ((m->m.blob = malloc(out->blob_len)) == NULL) {
            free(m);
            return VM_ENOMEM;
        }
        memcpy(m->m.blob, out->blob, out->blob_len);
    }
    uint64_t t = now(ft);
    bool lost = false;
    uint64_t delay = 0;
    for (int i = 0; i < ft->nr_rules; i++) {
        struct frule *r = &ft->rules[i];
        if ((r->from >= 0 && r->from != src) || (r->to >= 0 && r->to != dst))
            continue;
        uint64_t k = ++r->matched;
        if (r->f.drop_nth != 0 && (k == r->f.drop_nth || (r->f.drop_after && k > r->f.drop_nth)))
            lost = true;
        if (r->f.loss > 0 && vm_rand_double(&r->rnd) < r->f.loss)
            lost = true;
        delay += r->f.delay_ns;
    }
    if (lost)
        delay = 0;
    uint64_t xfer = (uint64_t)llround((double)out->wire_bytes / ft->bps * 1e9);
    uint64_t start = ft->pair_free[src][dst] > t ? ft->pair_free[src][dst] : t;
    ft->pair_free[src][dst] = start + xfer;
    uint64_t arrive = start + delay + ft->lat_ns + xfer;
    if (arrive < ft->pair_last[src][dst])
        arrive = ft->pair_last[src][dst];
    ft->pair_last[src][dst] = arrive;

    m->m.kind = kind;
    m->m.tag = out->tag;
    m->m.id = id;
    m->m.from = ft->eps[src].name;
    m->m.blob_len = out->blob_len;
    m->m.wire_bytes = out->wire_bytes;
    m->m.sent_ns = t;
    m->m.recv_ns = arrive;
    m->src = (uint32_t)src;
    m->dst = (uint32_t)dst;
    m->order = ft->next_order++;
    struct fake_transport_sent s = {
        .from = ft->eps[src].name, .to = ft->eps[dst].name, .kind = kind, .tag = out->tag,
        .id = id, .wire_bytes = out->wire_bytes, .sent_ns = t, .arrive_ns = arrive,
        .lost = lost,
    };
    if (log_add(ft, &s) != 0) {
        fmsg_free(m);
        return VM_ENOMEM;
    }
    ft->st.sent++;
    ft->st.wire_bytes += out->wire_bytes;
    if (lost) {
        ft->st.lost++;
        fmsg_free(m);
    } else {
        ft->flight[ft->nr_flight++] = m;
    }
    if (arrive_out)
        *arrive_out = arrive;
    return 0;
}

/* ---- the port ---- */

static struct fake_transport *ft_of(struct port_transport *t)
{
    return (struct fake_transport *)t;
}

static int op_send(struct port_transport *t, const char *from, const char *to,
                   const struct port_transport_out *m, unsigned flags)
{
    struct fake_transport *ft = ft_of(t);
    int src = ep_index(ft, from), dst = ep_index(ft, to);
    if (src < 0 || dst < 0)
        return VM_ENOENT;
    if ((flags & ~PORT_TRANSPORT_F_WAIT) != 0)
        return VM_EINVAL;
    if ((flags & PORT_TRANSPORT_F_WAIT) && ft->in_handler)
        return VM_EBUSY;
    uint64_t arrive;
    int rc = post(ft, src, dst, PORT_TRANSPORT_MSG, 0, m, &arrive);
    if (rc == 0 && (flags & PORT_TRANSPORT_F_WAIT))
        fake_transport_run(ft, arrive);
    return rc;
}

static uint64_t deadline_of(const struct fake_transport *ft, uint64_t timeout_ns)
{
    return timeout_ns == PORT_TRANSPORT_FOREVER || timeout_ns > UINT64_MAX - now(ft)
               ? PORT_TRANSPORT_FOREVER : now(ft) + timeout_ns;
}

/* Time ran out (or nothing is left to arrive): VM_ETIMEDOUT. */
static int timed_out(struct fake_transport *ft, uint64_t deadline)
{
    if (deadline != PORT_TRANSPORT_FOREVER && deadline > now(ft))
        fake_clock_set(ft->clock, deadline);
    return VM_ETIMEDOUT;
}

static int op_recv(struct port_transport *t, const char *self, uint64_t timeout_ns,
                   struct port_transport_msg *out)
{
    struct fake_transport *ft = ft_of(t);
    int e = ep_index(ft, self);
    if (e < 0)
        return VM_ENOENT;
    if (out == NULL)
        return VM_EINVAL;
    if (ft->in_handler)
        return VM_EBUSY;
    struct fep *ep = &ft->eps[e];
    uint64_t deadline = deadline_of(ft, timeout_ns);
    while (ep->inbox == NULL)
        if (!step(ft, deadline))
            return timed_out(ft, deadline);
    struct fmsg *m = ep->inbox;
    ep->inbox = m->next;
    if (ep->inbox == NULL)
        ep->inbox_tail = NULL;
    *out = m->m;
    free(m);
    return 0;
}

static int op_call(struct port_transport *t, const char *from, const char *to,
                   const struct port_transport_out *req, uint64_t timeout_ns,
                   struct port_transport_msg *reply)
{
    struct fake_transport *ft = ft_of(t);
    int src = ep_index(ft, from), dst = ep_index(ft, to);
    if (src < 0 || dst < 0)
        return VM_ENOENT;
    if (reply == NULL)
        return VM_EINVAL;
    if (ft->in_handler)
        return VM_EBUSY;
    uint64_t deadline = deadline_of(ft, timeout_ns);
    uint64_t id = ++ft->next_id;
    int rc = post(ft, src, dst, PORT_TRANSPORT_REQUEST, id, req, NULL);
    if (rc != 0)
        return rc;
    ft->st.calls++;
    ft->call_id = id;
    ft->call_ep = (uint32_t)src;
    ft->call_reply = NULL;
    while (ft->call_reply == NULL && step(ft, deadline))
        ;
    struct fmsg *m = ft->call_reply;
    ft->call_id = 0;
    ft->call_reply = NULL;
    if (m == NULL) {
        ft->st.call_timeouts++;
        return timed_out(ft, deadline);
    }
    *reply = m->m;
    free(m);
    return 0;
}

static int op_reply(struct port_transport *t, const char *self,
                    const struct port_transport_msg *req, const struct port_transport_out *rep)
{
    struct fake_transport *ft = ft_of(t);
    if (req == NULL || req->kind != PORT_TRANSPORT_REQUEST)
        return VM_EINVAL;
    int src = ep_index(ft, self), dst = ep_index(ft, req->from);
    if (src < 0 || dst < 0)
        return VM_ENOENT;
    return post(ft, src, dst, PORT_TRANSPORT_REPLY, req->id, rep, NULL);
}

static const struct port_transport_ops fake_ops = {
    .version = PORT_TRANSPORT_VERSION,
    .name = "fake",
    .send = op_send,
    .recv = op_recv,
    .call = op_call,
    .reply = op_reply,
};

/* ---- what happened ---- */

uint64_t fake_transport_nr_sent(const struct fake_transport *ft)
{
    return ft->nr_log;
}

const struct fake_transport_sent *fake_transport_sent(const struct fake_transport *ft,
                                                      uint64_t i)
{
    return i < ft->nr_log ? &ft->log[i] : NULL;
}

const struct fake_transport_stats *fake_transport_stats(const struct fake_transport *ft)
{
    return &ft->st;
}
