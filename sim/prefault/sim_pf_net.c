/*
 * sim_pf_net.c - post-copy's link under the run point's network faults
 * (the config's "faults": partition, msg_loss, msg_delay between the
 * source and the destination host), as a filter on its transport
 * (sim_transport_set_filter) that decides when each message arrives:
 *
 *   - Loss.  QEMU's post-copy runs over TCP, so a message a msg_loss
 *     fault loses is not lost to QEMU: TCP sends it again when its
 *     retransmission timeout expires, postcopy.rto after the send (Linux
 *     TCP_RTO_MIN, 200 ms, include/net/tcp.h), and each time the same
 *     message is lost again the timeout doubles up to postcopy.rto_max
 *     (TCP_RTO_MAX, 120 s; tcp_retransmit_timer, net/ipv4/tcp_timer.c).
 *     Each try draws again (sim_faults_msg at the try's time).  The
 *     message is then delivered with that much extra delay, and later
 *     messages of its connection wait behind it (the transport's in-order
 *     delivery: TCP's head-of-line blocking).
 *   - Partition.  Messages between the two hosts sent in a partition
 *     [from, until) go nowhere.  Once it has lasted postcopy.pause_after
 *     (0: at once) QEMU is in postcopy-paused (postcopy_pause() in
 *     migration/migration.c on the source, postcopy_pause_incoming() in
 *     migration/savevm.c on the destination): nothing moves, and a vCPU that faults on an absent
 *     page stays blocked until the link is back (until) and the
 *     management has resumed the migration (migrate-recover on the
 *     destination, migrate resume=true on the source: postcopy.recover
 *     later).  The recovery handshake resends what was lost in flight and
 *     the destination asks again for the pages its faults wait for, so a
 *     message sent while paused (or retransmitted into the pause) is
 *     delivered at the resume, at until + recover.  Before the pause (a
 *     partition shorter than pause_after), TCP retransmits as for a loss.
 *   - Delay: msg_delay faults add their delay to the try that gets through.
 *
 * What p means: by default (postcopy.loss_unit "message") each message
 * is lost with msg_loss's p as a whole, as the config documents the
 * fault; with "segment" p is per TCP segment of SIM_PF_MSS (1448) bytes,
 * as a link loses packets: a message is ceil(wire bytes / 1448) segments
 * (a 64-page push message 182, a page 3, a request 1).  A lost segment
 * followed by 3 more of its message is recovered by fast retransmit
 * (counted as no delay: one round trip, 50 us here, next to the RTO),
 * unless that retransmission is lost too; the others (a message's last 3
 * segments: all of a request's or a page's) wait for the RTO, after which
 * only those still lost are sent again (SACK, on by default in Linux).
 * Later messages of the connection do not count as duplicate ACKs for a
 * message's tail: a lower bound on the recoveries (the push keeps one
 * message in flight anyway).
 *
 * Simplifications: a lost try costs no link time (a 4 KiB page is 3 us
 * of 10 GbE next to a 200 ms timeout); tail loss probes (which can
 * recover a tail sooner than the RTO) and fast retransmit in message mode
 * are not modelled (the RTO is the cost of those losses), nor TCP's
 * congestion window after a loss (the stream goes on at the link's rate),
 * nor Linux giving up after tcp_retries2 (15) tries (~15 min), nor a
 * message in flight when a partition starts (it arrives).
 *
 * Attribution (net_stall_ns): the filter adds each message's extra delay
 * to the frames it carries or asks for (r->pc_ctx, set by the sender
 * just before the send: the filter runs inside it before it can block);
 * a message sent while an earlier one of its connection is held counts
 * the wait until that one's (delayed) send, as TCP's in-order delivery
 * makes it wait (its transfer time is left out).  A fault that ends on
 * frame f counts min(its wait, f's extra) as stall due to the faults.
 * Waits the faults cause otherwise (the source's migration thread blocked
 * behind a retransmitted push message while a request waits for it
 * without preempt; a vCPU that faults later because an earlier fault took
 * longer) are not counted: a lower bound.  The whole cost is the
 * difference of stall_ns with the same point without faults.
 */
#include <stdlib.h>
#include <string.h>

#include "prefault/sim_pf_int.h"
#include "sim_faults.h"
#include "sim_transport.h"
#include "sim_world.h"

#define MAX_TRIES 1000u                /* a message is delivered after this many (never
                                          reached with the validated faults) */

struct pf_cut {
    uint64_t from_ns, until_ns;        /* absolute */
    uint64_t pause_ns;                 /* absolute; UINT64_MAX: it never pauses */
    char a[SIM_NAME_MAX], b[SIM_NAME_MAX];
};

struct pf_net {
    struct pf_run *r;
    struct sim_faults *msg;            /* msg_loss and msg_delay faults, NULL: none */
    struct pf_cut cuts[SIM_MAX_FAULTS];
    int nr_cuts;
    uint64_t t0_ns;
    uint64_t held_until[4];            /* per connection and way: the latest arrival
                                          a fault delayed (later messages wait for it) */
};

static const struct pf_cut *cut_at(const struct pf_net *n, const char *from, const char *to,
                                   uint64_t t)
{
#ifdef SIM_PF_TEST_MUTANT
    if (sim_pf_test_mutant("no-pause"))
        return NULL;                   /* partitions ignored: nothing blocks */
#endif
    for (int i = 0; i < n->nr_cuts; i++) {
        const struct pf_cut *c = &n->cuts[i];
        if (t >= c->from_ns && t < c->until_ns &&
            ((!strcmp(c->a, from) && !strcmp(c->b, to)) ||
             (!strcmp(c->a, to) && !strcmp(c->b, from))))
            return c;
    }
    return NULL;
}

/* One try at t of `need` segments (message mode: 1, the whole message):
 * how many of them are still lost after it, one draw each
 * (sim_faults_msg).  On the first try of a message in segment mode
 * (`fast`), a lost segment followed by 3 more of the message gets 3
 * duplicate ACKs and is sent again at once (fast retransmit, RFC 5681),
 * lost again with the same chance; the others wait for the timeout.
 * *extra gets the msg_delay faults' delay. */
static uint64_t try_lost(struct pf_net *n, const char *from, const char *to, uint64_t t,
                         uint64_t need, bool fast, uint64_t *extra)
{
    uint64_t still = 0;
    for (uint64_t i = 0; i < need; i++) {
        if (!sim_faults_msg(n->msg, from, to, t, extra))
            continue;
        if (fast && i + 3 < need) {
            n->r->pc_fast_retrans++;
            if (!sim_faults_msg(n->msg, from, to, t, extra))
                continue;
        }
        still++;
    }
    return still;
}

static bool filter(void *arg, const char *from_host, const char *to_host, uint64_t now_ns,
                   uint64_t *delay_ns)
{
    struct pf_net *n = arg;
    struct pf_run *r = n->r;
    uint64_t t = now_ns, rto = r->cfg->rto_ns, extra = 0;
    bool segments = r->cfg->loss_unit == SIM_PF_LOSS_SEGMENT, first = true;
    /* what is still to get through: segments (at least 1), or the message */
    uint64_t need = segments && r->pc_ctx_wire > SIM_PF_MSS
                        ? (r->pc_ctx_wire + SIM_PF_MSS - 1) / SIM_PF_MSS : 1;
    for (uint32_t tries = 0; tries < MAX_TRIES; tries++) {
        const struct pf_cut *c = cut_at(n, from_host, to_host, t);
        if (c && t >= c->pause_ns) {
            t = c->until_ns + r->cfg->recover_ns;   /* paused: sent again at the resume */
            continue;
        }
        if (!c) {
            if (!n->msg || !(need = try_lost(n, from_host, to_host, t, need,
                                             segments && first, &extra)))
                break;
            first = false;
        }
        r->pc_retrans++;               /* lost: TCP's timer sends it again */
        t += rto;
        rto = rto > r->cfg->rto_max_ns / 2 ? r->cfg->rto_max_ns : 2 * rto;
        extra = 0;
    }
    *delay_ns = t - now_ns + extra;
    /* what the message waits because of the faults: its own delay, or the
     * wait behind an earlier message of its connection they delayed */
    uint64_t *held = &n->held_until[r->pc_ctx_conn & 3], late = *delay_ns;
    if (*held > now_ns + late)
        late = *held - now_ns;
    else if (*delay_ns)
        *held = now_ns + *delay_ns;
    for (uint32_t i = 0; late && i < r->pc_ctx_n; i++)
        r->pc_late[r->pc_ctx[i]] += late;
    r->pc_ctx_n = 0;
    return false;
}

int pf_net_setup(struct pf_run *r, struct vm_diag *d)
{
    const struct sim_exp *e = r->exp;
    if (!e->nr_faults)
        return 0;                      /* no filter: the link as without faults */
    struct pf_net *n = calloc(1, sizeof *n);
    struct sim_exp_fault *msg = calloc(SIM_MAX_FAULTS, sizeof *msg);
    r->pc_late = calloc(r->nr_pages, sizeof *r->pc_late);
    if (!n || !msg || !r->pc_late) {
        free(n);
        free(msg);
        return vm_diag_set(d, VM_ENOMEM, "out of memory");
    }
    n->r = r;
    n->t0_ns = sim_now_ns();           /* the faults' times count from the run's start */
    int nm = 0;
    for (int i = 0; i < e->nr_faults; i++) {
        const struct sim_exp_fault *f = &e->faults[i];
        if (f->kind != SIM_FAULT_PARTITION) {
            msg[nm++] = *f;
            continue;
        }
        struct pf_cut *c = &n->cuts[n->nr_cuts++];
        c->from_ns = n->t0_ns + f->from_ns;
        c->until_ns = n->t0_ns + f->until_ns;   /* finite: check_faults (sim_pf_mech.c) */
        c->pause_ns = f->until_ns - f->from_ns > r->cfg->pause_after_ns
                          ? c->from_ns + r->cfg->pause_after_ns : UINT64_MAX;
        memcpy(c->a, f->a, sizeof c->a);
        memcpy(c->b, f->b, sizeof c->b);
    }
    if (nm && !(n->msg = sim_faults_new(msg, nm, n->t0_ns, e->seed, "", d))) {
        free(msg);
        free(n);
        return d->code ? d->code : VM_ENOMEM;
    }
    free(msg);
    r->pc_net = n;
    sim_transport_set_filter(r->pc_tr, filter, n);
    return 0;
}

void pf_net_off(struct pf_run *r)
{
    if (r->pc_net)
        sim_transport_set_filter(r->pc_tr, NULL, NULL);
}

/* The time in [t0, end) some partition's pause covers, the pause windows
 * [pause, until + recover) merged. */
static uint64_t paused_ns(const struct pf_net *n, uint64_t end)
{
    uint64_t lo[SIM_MAX_FAULTS], hi[SIM_MAX_FAULTS];
    int k = 0;
    for (int i = 0; i < n->nr_cuts; i++) {
        const struct pf_cut *c = &n->cuts[i];
        if (c->pause_ns == UINT64_MAX)
            continue;
        uint64_t a = c->pause_ns, b = c->until_ns + n->r->cfg->recover_ns;
        if (b > end)
            b = end;
        if (a >= b)
            continue;
        int j = k++;                   /* insertion by start */
        for (; j > 0 && lo[j - 1] > a; j--) {
            lo[j] = lo[j - 1];
            hi[j] = hi[j - 1];
        }
        lo[j] = a;
        hi[j] = b;
    }
    uint64_t sum = 0, cur_lo = 0, cur_hi = 0;
    for (int i = 0; i < k; i++) {
        if (i && lo[i] <= cur_hi) {
            if (hi[i] > cur_hi)
                cur_hi = hi[i];
            continue;
        }
        sum += cur_hi - cur_lo;
        cur_lo = lo[i];
        cur_hi = hi[i];
    }
    return sum + (cur_hi - cur_lo);
}

void pf_net_report(struct pf_run *r, uint64_t completion_ns)
{
    const struct pf_net *n = r->pc_net;
    if (!n)
        return;
    sim_outcome_set(r->out, SIM_PF_M_NET_STALL_NS, (double)r->pc_net_stall_ns);
    sim_outcome_set(r->out, SIM_PF_M_RETRANSMISSIONS, (double)r->pc_retrans);
    if (r->cfg->loss_unit == SIM_PF_LOSS_SEGMENT)
        sim_outcome_set(r->out, SIM_PF_M_FAST_RETRANSMITS, (double)r->pc_fast_retrans);
    sim_outcome_set(r->out, SIM_PF_M_PAUSED_NS, (double)paused_ns(n, n->t0_ns + completion_ns));
}

void pf_net_free(struct pf_run *r)
{
    if (r->pc_net)
        sim_faults_free(r->pc_net->msg);
    free(r->pc_net);
    free(r->pc_late);
    r->pc_net = NULL;
    r->pc_late = NULL;
}
