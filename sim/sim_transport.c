/*
 * sim_transport.c - the transport port on SimGrid's network (see
 * sim_transport.h for the model, the ordering and the fault rules).
 *
 * Based on SimGrid 3.32: s4u::Comm::sendto() (host to host, no mailbox;
 * through sim_sg_shim.cpp) for the transfer, sim_world's wait queues for
 * blocking.  Mailboxes are not used: a mailbox per call would stay
 * allocated in the engine for the whole run, and SimGrid's rendezvous
 * would start a transfer only when the receiver asks for it, not when the
 * sender sends.
 *
 * The pieces:
 *   - post(): checks, copies the blob, numbers the message on its pair,
 *     applies the fault rules, and hands it to a carrier (or, with
 *     PORT_TRANSPORT_F_WAIT, carries it in the sender's actor);
 *   - carriers: daemon actors that each carry one message at a time
 *     (delay, transfer, arrive); started when a message finds no idle one;
 *   - arrive(): in-order delivery per pair; a message that comes early
 *     waits in its receiver's `early` list;
 *   - deliver(): a REPLY goes to the call waiting for its id, anything
 *     else to the receiver's inbox.
 * Actors run one at a time, so the structures need no locks; every
 * blocking point (sleep, transfer, wait) re-checks state after it.
 */
#include "sim_transport.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <simgrid/actor.h>
#include <simgrid/host.h>
#include <xbt/log.h>

#include "base/vm_rand.h"
#include "sim_sg_shim.h"
#include "sim_world.h"

XBT_LOG_NEW_DEFAULT_SUBCATEGORY(vmsim_transport, vmsim, "message transport");

struct tmsg {
    struct tmsg *next;           /* queue, inbox or early list */
    struct tmsg *fprev, *fnext;  /* the in-flight list, while carried */
    struct port_transport_msg m; /* m.from is the sender's name */
    uint32_t src, dst;           /* endpoint indices */
    uint64_t seq;                /* number on its (src, dst) pair */
    uint64_t delay_ns;           /* injected extra delay */
    bool lost;
};

struct pending {                 /* a call waiting for its reply */
    struct pending *next;
    uint64_t id;
    struct sim_waitq *wq;
    struct tmsg *reply;          /* set by deliver() */
};

enum { ROUTE_UNKNOWN = 0, ROUTE_OK = 1, ROUTE_NONE = 2 };

struct chan {                    /* this endpoint and endpoint j */
    uint64_t next_seq;           /* next number of a message to j */
    uint64_t expect;             /* number of the next message from j to deliver */
    uint8_t route;               /* ROUTE_* to j, checked on first send */
};

struct endpoint {
    char name[SIM_TRANSPORT_NAME_MAX];
    uint32_t index;
    sg_host_t host;
    struct chan *chan;           /* [chan_len], indexed by the other endpoint */
    uint32_t chan_len;
    struct tmsg *inbox, *inbox_tail;
    struct sim_waitq *inbox_wq;
    struct tmsg *early;          /* arrived before an earlier one of their pair */
    struct pending *pending;
    uint64_t bytes_sent, bytes_recv;
};

struct rule {
    struct sim_transport_fault f;
    int64_t from_ep, to_ep;      /* -1: any */
    uint64_t matched;
    struct vm_rand rnd;
};

struct sim_transport {
    struct port_transport base;  /* first: the port */
    struct endpoint **eps;
    uint32_t nr_eps, cap_eps;
    struct tmsg *q, *q_tail;     /* waiting for a carrier */
    uint64_t q_len;
    struct tmsg *inflight;       /* being carried (freed if the run ends first) */
    struct sim_waitq *idle;      /* idle carriers wait here */
    uint32_t nr_idle, nr_starting, nr_carriers;
    int refs;                    /* the owner + one per live carrier */
    bool closing;
    uint64_t seed, next_id;
    struct rule rules[SIM_TRANSPORT_MAX_FAULTS];
    int nr_rules;
    sim_transport_filter_fn filter;  /* NULL: none */
    void *filter_arg;
    struct sim_transport_stats st;
};

static const struct port_transport_ops transport_ops;

/* ---- lifetime ---- */

struct sim_transport *sim_transport_new(uint64_t seed, struct vm_diag *d)
{
    struct sim_transport *tr = calloc(1, sizeof(*tr));
    if (tr == NULL || (tr->idle = sim_waitq_new()) == NULL) {
        free(tr);
        vm_diag_set(d, VM_ENOMEM, "transport: out of memory");
        return NULL;
    }
    tr->base.ops = &transport_ops;
    tr->refs = 1;
    tr->seed = seed;
    return tr;
}

static void msg_free(struct tmsg *m)
{
    free(m->m.blob);
    free(m);
}

static void list_free(struct tmsg *m)
{
    while (m != NULL) {
        struct tmsg *next = m->next;
        msg_free(m);
        m = next;
    }
}

static void transport_release(struct sim_transport *tr)
{
    list_free(tr->q);
    for (struct tmsg *m = tr->inflight; m != NULL;) {
        struct tmsg *next = m->fnext;
        msg_free(m);
        m = next;
    }
    for (uint32_t i = 0; i < tr->nr_eps; i++) {
        struct endpoint *ep = tr->eps[i];
        list_free(ep->inbox);
        list_free(ep->early);
        sim_waitq_free(ep->inbox_wq);
        free(ep->chan);
        free(ep);
    }
    free(tr->eps);
    sim_waitq_free(tr->idle);
    free(tr);
}

static void transport_unref(struct sim_transport *tr)
{
    if (--tr->refs == 0)
        transport_release(tr);
}

void sim_transport_free(struct sim_transport *tr)
{
    if (tr == NULL)
        return;
    tr->closing = true;
    /* carriers waiting for work see `closing` and end.  After the run
     * (no actor calling) they are gone: SimGrid killed them, and a
     * semaphore is no longer to be touched. */
    if (tr->nr_idle > 0 && sg_actor_self() != NULL)
        sim_waitq_wake_all(tr->idle);
    transport_unref(tr);
}

struct port_transport *sim_transport_port(struct sim_transport *tr)
{
    return &tr->base;
}

const struct sim_transport_stats *sim_transport_stats(const struct sim_transport *tr)
{
    return &tr->st;
}

/* ---- endpoints ---- */

static struct endpoint *ep_find(const struct sim_transport *tr, const char *name)
{
    if (name == NULL)
        return NULL;
    for (uint32_t i = 0; i < tr->nr_eps; i++)
        if (strcmp(tr->eps[i]->name, name) == 0)
            return tr->eps[i];
    return NULL;
}

/* Grow every endpoint's channel table to n entries. */
static int chans_grow(struct sim_transport *tr, uint32_t n)
{
    for (uint32_t i = 0; i < tr->nr_eps; i++) {
        struct endpoint *ep = tr->eps[i];
        if (ep->chan_len >= n)
            continue;
        struct chan *c = realloc(ep->chan, n * sizeof(*c));
        if (c == NULL)
            return VM_ENOMEM;
        memset(c + ep->chan_len, 0, (n - ep->chan_len) * sizeof(*c));
        ep->chan = c;
        ep->chan_len = n;
    }
    return 0;
}

int sim_transport_endpoint(struct sim_transport *tr, const char *name, sg_host_t host,
                           struct vm_diag *d)
{
    if (name == NULL || name[0] == '\0' || strlen(name) >= SIM_TRANSPORT_NAME_MAX)
        return vm_diag_set(d, VM_EINVAL, "transport: endpoint name must be 1..%d characters",
                           SIM_TRANSPORT_NAME_MAX - 1);
    if (host == NULL)
        return vm_diag_set(d, VM_EINVAL, "transport: endpoint '%s': no host", name);
    if (ep_find(tr, name) != NULL)
        return vm_diag_set(d, VM_EBUSY, "transport: endpoint '%s' exists already", name);
    if (tr->nr_eps == tr->cap_eps) {
        uint32_t cap = tr->cap_eps ? tr->cap_eps * 2 : 4;
        struct endpoint **eps = realloc(tr->eps, cap * sizeof(*eps));
        if (eps == NULL)
            return vm_diag_set(d, VM_ENOMEM, "transport: out of memory");
        tr->eps = eps;
        tr->cap_eps = cap;
    }
    struct endpoint *ep = calloc(1, sizeof(*ep));
    if (ep == NULL || (ep->inbox_wq = sim_waitq_new()) == NULL) {
        free(ep);
        return vm_diag_set(d, VM_ENOMEM, "transport: out of memory");
    }
    snprintf(ep->name, sizeof(ep->name), "%s", name);
    ep->host = host;
    ep->index = tr->nr_eps;
    tr->eps[tr->nr_eps++] = ep;
    if (chans_grow(tr, tr->nr_eps) != 0)
        return vm_diag_set(d, VM_ENOMEM, "transport: out of memory");
    XBT_DEBUG("endpoint '%s' on host '%s'", name, sg_host_get_name(host));
    return 0;
}

int sim_transport_endpoint_bytes(const struct sim_transport *tr, const char *name,
                                 uint64_t *sent, uint64_t *received)
{
    const struct endpoint *ep = ep_find(tr, name);
    if (ep == NULL)
        return VM_ENOENT;
    *sent = ep->bytes_sent;
    *received = ep->bytes_recv;
    return 0;
}

/* ---- faults ---- */

int sim_transport_add_fault(struct sim_transport *tr, const struct sim_transport_fault *f,
                            struct vm_diag *d)
{
    if (tr->nr_rules == SIM_TRANSPORT_MAX_FAULTS)
        return vm_diag_set(d, VM_ENOSPC, "transport: at most %d fault rules",
                           SIM_TRANSPORT_MAX_FAULTS);
    if (!(f->loss >= 0.0 && f->loss <= 1.0))
        return vm_diag_set(d, VM_EINVAL, "transport fault: 'loss' must be in [0, 1], got %g",
                           f->loss);
    if (f->until_ns != 0 && f->until_ns <= f->from_ns)
        return vm_diag_set(d, VM_EINVAL, "transport fault: 'until' must be after 'from'");
    struct endpoint *from = ep_find(tr, f->from), *to = ep_find(tr, f->to);
    if (f->from != NULL && from == NULL)
        return vm_diag_set(d, VM_EINVAL, "transport fault: unknown endpoint '%s'", f->from);
    if (f->to != NULL && to == NULL)
        return vm_diag_set(d, VM_EINVAL, "transport fault: unknown endpoint '%s'", f->to);
    struct rule *r = &tr->rules[tr->nr_rules];
    memset(r, 0, sizeof(*r));
    r->f = *f;
    r->f.from = r->f.to = NULL;        /* matched by index */
    r->from_ep = from ? (int64_t)from->index : -1;
    r->to_ep = to ? (int64_t)to->index : -1;
    vm_rand_init(&r->rnd, tr->seed, 0x7472616eull + (uint64_t)tr->nr_rules);
    tr->nr_rules++;
    return 0;
}

void sim_transport_set_filter(struct sim_transport *tr, sim_transport_filter_fn fn, void *arg)
{
    tr->filter = fn;
    tr->filter_arg = arg;
}

/* Apply the rules, then the filter, to a message being sent now. */
static void apply_faults(struct sim_transport *tr, struct tmsg *m, uint64_t now)
{
    for (int i = 0; i < tr->nr_rules; i++) {
        struct rule *r = &tr->rules[i];
        if ((r->from_ep >= 0 && (uint32_t)r->from_ep != m->src) ||
            (r->to_ep >= 0 && (uint32_t)r->to_ep != m->dst) || now < r->f.from_ns ||
            (r->f.until_ns != 0 && now >= r->f.until_ns))
            continue;
        uint64_t k = ++r->matched;
        if (r->f.drop_nth != 0 &&
            (k == r->f.drop_nth || (r->f.drop_after && k > r->f.drop_nth)))
            m->lost = true;
        /* draw for every match, lost or not: the stream stays aligned */
        if (r->f.loss > 0 && vm_rand_double(&r->rnd) < r->f.loss)
            m->lost = true;
        m->delay_ns += r->f.delay_ns;
    }
    if (tr->filter) {
        uint64_t extra = 0;
        if (tr->filter(tr->filter_arg, sg_host_get_name(tr->eps[m->src]->host),
                       sg_host_get_name(tr->eps[m->dst]->host), now, &extra))
            m->lost = true;
        m->delay_ns += extra;
    }
    if (m->lost)
        m->delay_ns = 0;
}

/* ---- delivery ---- */

static void deliver(struct sim_transport *tr, struct endpoint *dst, struct tmsg *m)
{
    if (m->lost) {
        XBT_DEBUG("'%s' -> '%s': message %llu lost", m->m.from, dst->name,
                  (unsigned long long)m->seq);
        msg_free(m);
        return;
    }
    m->m.recv_ns = sim_now_ns();
    tr->st.delivered++;
    dst->bytes_recv += m->m.wire_bytes;
    XBT_DEBUG("'%s' -> '%s': kind %d id %llu tag %u, %llu wire bytes, sent %llu ns",
              m->m.from, dst->name, (int)m->m.kind, (unsigned long long)m->m.id, m->m.tag,
              (unsigned long long)m->m.wire_bytes, (unsigned long long)m->m.sent_ns);
    if (m->m.kind == PORT_TRANSPORT_REPLY) {
        for (struct pending *p = dst->pending; p != NULL; p = p->next) {
            if (p->id == m->m.id && p->reply == NULL) {
                p->reply = m;
                sim_waitq_wake_all(p->wq);
                return;
            }
        }
        tr->st.late_replies++;
        msg_free(m);
        return;
    }
    m->next = NULL;
    if (dst->inbox_tail)
        dst->inbox_tail->next = m;
    else
        dst->inbox = m;
    dst->inbox_tail = m;
    sim_waitq_wake_one(dst->inbox_wq);
}

/* A message's transfer ended: deliver it and whatever of its pair waited
 * for it, in order. */
static void arrive(struct sim_transport *tr, struct tmsg *m)
{
    struct endpoint *dst = tr->eps[m->dst];
    struct chan *c = &dst->chan[m->src];
    if (m->seq != c->expect) {
        m->next = dst->early;
        dst->early = m;
        return;
    }
    uint32_t src = m->src;
    for (;;) {
        deliver(tr, dst, m);
        c->expect++;
        struct tmsg **pp = &dst->early;
        while (*pp != NULL && !((*pp)->src == src && (*pp)->seq == c->expect))
            pp = &(*pp)->next;
        if (*pp == NULL)
            return;
        m = *pp;
        *pp = m->next;
    }
}

static void inflight_link(struct sim_transport *tr, struct tmsg *m)
{
    m->fprev = NULL;
    m->fnext = tr->inflight;
    if (tr->inflight)
        tr->inflight->fprev = m;
    tr->inflight = m;
}

static void inflight_unlink(struct sim_transport *tr, struct tmsg *m)
{
    if (m->fprev)
        m->fprev->fnext = m->fnext;
    else
        tr->inflight = m->fnext;
    if (m->fnext)
        m->fnext->fprev = m->fprev;
}

/* Carry one message: its extra delay, the transfer, the arrival. */
static void carry(struct sim_transport *tr, struct tmsg *m)
{
    inflight_link(tr, m);
    sim_sleep_ns(m->delay_ns);
    if (sim_sg_sendto(tr->eps[m->src]->host, tr->eps[m->dst]->host, m->m.wire_bytes) != 0) {
        XBT_WARN("'%s' -> '%s': SimGrid failed the transfer; message lost", m->m.from,
                 tr->eps[m->dst]->name);
        if (!m->lost)
            tr->st.lost++;
        m->lost = true;
    }
    sim_activity_add(1);
    inflight_unlink(tr, m);
    if (tr->closing) {
        msg_free(m);
        return;
    }
    arrive(tr, m);
}

/* ---- carriers ---- */

static void carrier_exit(int failed, void *arg)
{
    (void)failed;
    transport_unref(arg);
}

static void carrier_main(int argc, char **argv)
{
    struct sim_transport *tr = sg_actor_self_get_data();

    (void)argc;
    (void)argv;
    sg_actor_on_exit(carrier_exit, tr);
    tr->nr_starting--;
    for (;;) {
        while (tr->q == NULL) {
            if (tr->closing)
                return;
            tr->nr_idle++;
            sim_waitq_wait(tr->idle);
            tr->nr_idle--;
        }
        struct tmsg *m = tr->q;
        tr->q = m->next;
        if (tr->q == NULL)
            tr->q_tail = NULL;
        tr->q_len--;
        carry(tr, m);
    }
}

static int start_carrier(struct sim_transport *tr, sg_host_t on)
{
    char aname[64];
    snprintf(aname, sizeof(aname), "transport:c%u", tr->nr_carriers);
    sg_actor_t a = sg_actor_init(aname, on);
    if (a == NULL)
        return VM_ENOMEM;
    sg_actor_set_data(a, tr);
    tr->refs++;
    tr->nr_starting++;
    tr->nr_carriers++;
    tr->st.carriers++;
    sg_actor_start(a, carrier_main, 0, NULL);
    sg_actor_daemonize(a);
    return 0;
}

/* Queue m for a carrier; wake one or start one when none is spare. */
static void dispatch(struct sim_transport *tr, struct tmsg *m)
{
    m->next = NULL;
    if (tr->q_tail)
        tr->q_tail->next = m;
    else
        tr->q = m;
    tr->q_tail = m;
    tr->q_len++;
    /* idle carriers (woken ones included) and starting ones will each take
     * one message; busy ones take more when they finish */
    if (tr->q_len > (uint64_t)tr->nr_idle + tr->nr_starting) {
        if (tr->nr_carriers < SIM_TRANSPORT_MAX_CARRIERS &&
            start_carrier(tr, tr->eps[m->src]->host) == 0)
            return;
        tr->st.queued_for_carrier++;
    }
    sim_waitq_wake_one(tr->idle);
}

/* ---- sending ---- */

static int route_check(struct endpoint *src, struct endpoint *dst)
{
    struct chan *c = &src->chan[dst->index];
    if (c->route == ROUTE_UNKNOWN) {
        double lat = 0;
        c->route = src->host == dst->host || sim_sg_route_links(src->host, dst->host, &lat) > 0
                       ? ROUTE_OK : ROUTE_NONE;
    }
    return c->route == ROUTE_OK ? 0 : VM_ENOENT;
}

static int post(struct sim_transport *tr, struct endpoint *src, struct endpoint *dst,
                enum port_transport_kind kind, uint64_t id, const struct port_transport_out *out,
                unsigned flags)
{
    if (out == NULL || (out->blob_len > 0 && out->blob == NULL) ||
        (flags & ~PORT_TRANSPORT_F_WAIT) != 0)
        return VM_EINVAL;
    int rc = route_check(src, dst);
    if (rc != 0) {
        XBT_DEBUG("'%s' -> '%s': no route between '%s' and '%s'", src->name, dst->name,
                  sg_host_get_name(src->host), sg_host_get_name(dst->host));
        return rc;
    }
    struct tmsg *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return VM_ENOMEM;
    if (out->blob_len > 0) {
        if ((m->m.blob = malloc(out->blob_len)) == NULL) {
            free(m);
            return VM_ENOMEM;
        }
        memcpy(m->m.blob, out->blob, out->blob_len);
    }
    uint64_t now = sim_now_ns();
    m->m.kind = kind;
    m->m.tag = out->tag;
    m->m.id = id;
    m->m.from = src->name;
    m->m.blob_len = out->blob_len;
    m->m.wire_bytes = out->wire_bytes;
    m->m.sent_ns = now;
    m->src = src->index;
    m->dst = dst->index;
    m->seq = src->chan[dst->index].next_seq++;
    apply_faults(tr, m, now);
    tr->st.sent++;
    tr->st.wire_bytes += out->wire_bytes;
    src->bytes_sent += out->wire_bytes;
    if (m->lost)
        tr->st.lost++;
    else if (m->delay_ns)
        tr->st.delayed++;
    if (flags & PORT_TRANSPORT_F_WAIT)
        carry(tr, m);
    else
        dispatch(tr, m);
    return 0;
}

/* ---- the port ---- */

static struct sim_transport *tr_of(struct port_transport *t)
{
    return (struct sim_transport *)t;
}

static int op_send(struct port_transport *t, const char *from, const char *to,
                   const struct port_transport_out *m, unsigned flags)
{
    struct sim_transport *tr = tr_of(t);
    struct endpoint *src = ep_find(tr, from), *dst = ep_find(tr, to);
    if (src == NULL || dst == NULL)
        return VM_ENOENT;
    return post(tr, src, dst, PORT_TRANSPORT_MSG, 0, m, flags);
}

static uint64_t deadline_of(uint64_t timeout_ns)
{
    uint64_t now = sim_now_ns();
    return timeout_ns == PORT_TRANSPORT_FOREVER || timeout_ns > UINT64_MAX - now
               ? PORT_TRANSPORT_FOREVER : now + timeout_ns;
}

/* One wait on q, after the caller found its condition false: VM_ETIMEDOUT
 * when the deadline has passed, else 0 once woken or timed out (the
 * caller checks its condition again).  Nothing between the caller's check
 * and the ticket lets another actor run. */
static int wait_step(struct sim_waitq *q, uint64_t deadline)
{
    uint64_t now = sim_now_ns();
    if (deadline != PORT_TRANSPORT_FOREVER && now >= deadline)
        return VM_ETIMEDOUT;
    uint64_t ticket = sim_waitq_ticket(q);
    if (deadline == PORT_TRANSPORT_FOREVER)
        sim_waitq_wait_ticket(q, ticket);
    else
        sim_waitq_wait_for_ticket(q, ticket, deadline - now);
    return 0;
}

static int op_recv(struct port_transport *t, const char *self, uint64_t timeout_ns,
                   struct port_transport_msg *out)
{
    struct sim_transport *tr = tr_of(t);
    struct endpoint *ep = ep_find(tr, self);
    if (ep == NULL)
        return VM_ENOENT;
    if (out == NULL)
        return VM_EINVAL;
    uint64_t deadline = deadline_of(timeout_ns);
    while (ep->inbox == NULL) {
        int rc = wait_step(ep->inbox_wq, deadline);
        if (rc != 0)
            return rc;
    }
    struct tmsg *m = ep->inbox;
    ep->inbox = m->next;
    if (ep->inbox == NULL)
        ep->inbox_tail = NULL;
    *out = m->m;
    free(m);                     /* the blob is the receiver's now */
    return 0;
}

static int op_call(struct port_transport *t, const char *from, const char *to,
                   const struct port_transport_out *req, uint64_t timeout_ns,
                   struct port_transport_msg *reply)
{
    struct sim_transport *tr = tr_of(t);
    struct endpoint *src = ep_find(tr, from), *dst = ep_find(tr, to);
    if (src == NULL || dst == NULL)
        return VM_ENOENT;
    if (reply == NULL)
        return VM_EINVAL;
    uint64_t deadline = deadline_of(timeout_ns);
    struct pending *p = calloc(1, sizeof(*p));
    if (p == NULL || (p->wq = sim_waitq_new()) == NULL) {
        free(p);
        return VM_ENOMEM;
    }
    p->id = ++tr->next_id;
    p->next = src->pending;
    src->pending = p;
    int rc = post(tr, src, dst, PORT_TRANSPORT_REQUEST, p->id, req, 0);
    if (rc == 0) {
        tr->st.calls++;
        while (p->reply == NULL && (rc = wait_step(p->wq, deadline)) == 0)
            ;
        if (rc == VM_ETIMEDOUT) {
            tr->st.call_timeouts++;
            XBT_DEBUG("'%s' -> '%s': call %llu timed out", from, to, (unsigned long long)p->id);
        }
    }
    struct pending **pp = &src->pending;
    while (*pp != p)
        pp = &(*pp)->next;
    *pp = p->next;
    if (rc == 0) {
        *reply = p->reply->m;
        free(p->reply);
    }
    sim_waitq_free(p->wq);
    free(p);
    return rc;
}

static int op_reply(struct port_transport *t, const char *self,
                    const struct port_transport_msg *req, const struct port_transport_out *rep)
{
    struct sim_transport *tr = tr_of(t);
    if (req == NULL || req->kind != PORT_TRANSPORT_REQUEST)
        return VM_EINVAL;
    struct endpoint *src = ep_find(tr, self), *dst = ep_find(tr, req->from);
    if (src == NULL || dst == NULL)
        return VM_ENOENT;
    return post(tr, src, dst, PORT_TRANSPORT_REPLY, req->id, rep, 0);
}

static const struct port_transport_ops transport_ops = {
    .version = PORT_TRANSPORT_VERSION,
    .name = "sim",
    .send = op_send,
    .recv = op_recv,
    .call = op_call,
    .reply = op_reply,
};
