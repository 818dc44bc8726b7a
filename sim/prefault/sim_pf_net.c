/*
 * sim_pf_net.c - post-copy's link under the run point's network faults
 * (the config's "faults": partition, msg_loss, msg_delay between the
 * source and the destination host), as a filter on its transport
 * (sim_transport_set_filter) that decides when each message arrives.
 * QEMU's post-copy runs over TCP, so nothing a fault loses is lost to
 * QEMU: it arrives late.  Linux's recovery, as modelled:
 *
 *   - SACK and RACK (RFC 8985; tcp_early_retrans 3, the default): a lost
 *     segment that a later segment follows (of its message, or with
 *     postcopy's push any of them: the stream goes on behind it in a send
 *     buffer of up to 4 MiB, tcp_wmem[2]) is detected about a round trip
 *     later and sent again; counted as no delay (50 us next to the
 *     timers; fast_retransmits), lost again with the same chance.
 *   - Tail loss probe (tcp_schedule_loss_probe, net/ipv4/tcp_output.c):
 *     a lost tail is probed max(2 srtt, 10 ms) = 10 ms after the send when
 *     more than one segment is out, 1.5 srtt + TCP_DELACK_MAX = 200 ms for
 *     a lone segment (a page request), at most the RTO; what the probe's
 *     answer shows lost is sent again then (SACK).
 *   - Retransmission timeout: rearmed from the probe (tcp_rearm_rto: the
 *     probe clears icsk_pending), postcopy.rto (TCP_RTO_MIN 200 ms,
 *     include/net/tcp.h), doubling each time up to postcopy.rto_max
 *     (TCP_RTO_MAX 120 s; tcp_retransmit_timer, net/ipv4/tcp_timer.c).  A
 *     lone request lost every time goes at 0, 0.2 (probe), 0.4, 0.8, 1.6,
 *     3.2 s...; a multi-segment message at 0, 0.01, 0.21, 0.61, 1.41 s...
 *     Each try draws again (sim_faults_msg at its time); msg_delay faults
 *     add their delay to the try that gets through.
 *   - One timer per socket: a message sent while an earlier one of its
 *     connection is still being resent waits for it (after a timeout the
 *     congestion window is one segment and the timer runs on the oldest
 *     unacked data), and its own tries start when that one got through;
 *     later messages wait behind a late one (in-order delivery).
 *   - Partition: every try in it is lost, so TCP retries on the schedule
 *     above and gets through at the first try after it ends.  QEMU pauses
 *     post-copy (postcopy-paused: postcopy_pause() in migration/
 *     migration.c, postcopy_pause_incoming() in migration/savevm.c) only
 *     when a channel fails or on the management's QMP migrate-pause
 *     (qapi/migration.json): (a) postcopy.pause_after into a partition, a
 *     management tool that watches the link (default: none); (b) when a
 *     message has gone unacked for postcopy.tcp_timeout since its send
 *     (tcp_write_timeout, retransmits_timed_out with tcp_retries2 15:
 *     924.6 s), checked at its timer's expiries: the socket fails.  While
 *     paused nothing moves; a message in flight at the pause, or sent
 *     during it, is delivered when post-copy runs again, postcopy.recover
 *     after the link is back (migrate-recover, migrate resume=true): at
 *     the resume the destination asks again for the pages it waits for
 *     (loadvm_postcopy_handle_resume -> migrate_send_rp_req_pages_pending,
 *     savevm.c) on new sockets, so a pending retry does not outlive the
 *     pause: a retry due after the pause starts is caught by it.
 *
 * What p means: by default (postcopy.loss_unit "segment") p is per TCP
 * segment of SIM_PF_MSS (1448) bytes, as a link loses packets: a message
 * is ceil(wire bytes / 1448) segments (a 64-page push message 182, a page
 * 3, a request 1).  With "message" a message is lost whole with p: a
 * stress model (a burst that takes all of a message's segments).
 *
 * Simplifications: a lost try costs no link time (a 4 KiB page is 3 us
 * of 10 GbE next to the timers); the round trip of a SACK recovery is
 * left out; TCP's congestion window after a loss is not (the stream goes
 * on at the link's rate); a message in flight when a partition starts
 * arrives; a pause a socket timeout causes does not hold messages whose
 * arrival was decided before it (only with a partition or loss window
 * over 15 min); the probe and timer schedule is per message, starting
 * when the socket's earlier recovery ends.
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

#define MAX_TRIES 1000u                /* a message is delivered after this many timer
                                          tries (never reached with the validated faults) */
#define MAX_PAUSES (2 * SIM_MAX_FAULTS + 64)
/* The tail loss probe's timeout (tcp_schedule_loss_probe, net/ipv4/
 * tcp_output.c, RACK-TLP on by default: tcp_early_retrans 3): max(2 srtt,
 * 10 ms) with more than one segment out; a lone segment waits 1.5 srtt +
 * TCP_DELACK_MAX (200 ms), and never longer than the RTO.  srtt here is
 * the link's 50 us round trip, so 10 ms and 200.075 ms. */
#define TLP_NS 10000000ull
#define TLP_LONE_NS 200075000ull

/* A time post-copy is paused: [lo, hi), hi the resume. */
struct pf_pause {
    uint64_t lo, hi;
};

struct pf_cut {
    uint64_t from_ns, until_ns;        /* absolute */
    char a[SIM_NAME_MAX], b[SIM_NAME_MAX];
};

struct pf_net {
    struct pf_run *r;
    struct sim_faults *msg;            /* msg_loss and msg_delay faults, NULL: none */
    struct pf_cut cuts[SIM_MAX_FAULTS];
    int nr_cuts;
    /* the pauses: the management's (a partition that lasts pause_after)
     * and TCP's (a socket that timed out); the last one absorbs any more */
    struct pf_pause pauses[MAX_PAUSES];
    int nr_pauses;
    uint64_t t0_ns;
    uint64_t held_until[4];            /* per connection and way: the latest arrival
                                          a fault delayed (later messages wait for it) */
    uint64_t busy_until[4];            /* the same, of a message TCP had to resend:
                                          the socket's loss recovery ends then */
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

/* The pause a message not through at t and next tried at `next` is
 * caught by: one that covers t, or one that starts in (t, next] (the
 * message is still undelivered then, and migrate-pause shuts the sockets:
 * the backoff dies with them).  NULL: none. */
static const struct pf_pause *pause_hit(const struct pf_net *n, uint64_t t, uint64_t next)
{
#ifdef SIM_PF_TEST_MUTANT
    if (sim_pf_test_mutant("no-pause"))
        return NULL;
    if (sim_pf_test_mutant("pause-at-retry"))
        next = t;                      /* the old bug: a retry jumps over the pause */
#endif
    const struct pf_pause *best = NULL;
    for (int i = 0; i < n->nr_pauses; i++) {
        const struct pf_pause *p = &n->pauses[i];
        if ((t >= p->lo && t < p->hi) || (p->lo > t && p->lo <= next)) {
            if (!best || p->lo < best->lo)
                best = p;
        }
    }
    return best;
}

static void add_pause(struct pf_net *n, uint64_t lo, uint64_t hi)
{
    if (n->nr_pauses == MAX_PAUSES) {  /* merged into the last one (a lower bound) */
        struct pf_pause *p = &n->pauses[MAX_PAUSES - 1];
        if (lo < p->lo)
            p->lo = lo;
        if (hi > p->hi)
            p->hi = hi;
        return;
    }
    n->pauses[n->nr_pauses++] = (struct pf_pause){ lo, hi };
}

/* One try at t of `need` segments (message mode: 1, the whole message):
 * how many of them are still lost after it, one draw each
 * (sim_faults_msg).  On the first try of a message in segment mode
 * (`fast`), a lost segment that a later one of the message follows (any
 * of them, with `more`: later stream data follows at once) is detected by
 * SACK and RACK (RFC 8985) about a round trip later and sent again (counted as no
 * delay next to the timers), lost again with the same chance; the others
 * (the tail) wait for the loss probe.  *extra gets the msg_delay faults'
 * delay. */
static uint64_t try_lost(struct pf_net *n, const char *from, const char *to, uint64_t t,
                         uint64_t need, bool fast, bool more, uint64_t *extra)
{
    uint64_t still = 0;
    for (uint64_t i = 0; i < need; i++) {
        if (!sim_faults_msg(n->msg, from, to, t, extra))
            continue;
#ifdef SIM_PF_TEST_MUTANT
        if (sim_pf_test_mutant("no-fast"))
            fast = false;
#endif
        if (fast && (more || i + 1 < need)) {
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
    const struct sim_pf_cfg *cfg = r->cfg;
    uint32_t conn = r->pc_ctx_conn & 3;
    bool segments = cfg->loss_unit == SIM_PF_LOSS_SEGMENT, first = true, probed = false;
    uint64_t segs = r->pc_ctx_wire > SIM_PF_MSS ? (r->pc_ctx_wire + SIM_PF_MSS - 1) / SIM_PF_MSS
                                                : 1;
    /* what is still to get through: segments, or the message */
    uint64_t need = segments ? segs : 1, extra = 0;
    /* Behind a message TCP is still resending on this socket, a message
     * waits for it: after a timeout Linux's congestion window is one
     * segment and the socket's one retransmission timer runs on the
     * oldest unacked data (tcp_rearm_rto), so the data queued behind it
     * goes once it is acked, and its own tries start there. */
    uint64_t t = now_ns > n->busy_until[conn] ? now_ns : n->busy_until[conn];
    uint64_t sent = t, rto = cfg->rto_ns;
    bool resent = false;
    for (uint32_t tries = 0; tries < MAX_TRIES; tries++) {
        const struct pf_pause *p = pause_hit(n, t, t);
        if (p) {
            /* paused: at the resume the destination asks again for what it
             * waits for and the source resends (fresh sockets) */
            t = sent = p->hi;
            rto = cfg->rto_ns;
            first = true;
            probed = false;
            need = segments ? segs : 1;
            resent = true;
            continue;
        }
        const struct pf_cut *c = cut_at(n, from_host, to_host, t);
        if (!c) {
            if (!n->msg || !(need = try_lost(n, from_host, to_host, t, need, segments && first,
                                             r->pc_ctx_more, &extra)))
                break;
        }
        first = false;
        resent = true;
        /* lost: the next timer, a loss probe first, then the RTO rearmed
         * from it and doubling (tcp_retransmit_timer) */
        uint64_t next;
        if (!probed) {
            uint64_t pto = segs > 1 ? TLP_NS : TLP_LONE_NS;
#ifdef SIM_PF_TEST_MUTANT
            if (sim_pf_test_mutant("no-tlp"))
                pto = cfg->rto_ns;
#endif
            next = t + (pto < cfg->rto_ns ? pto : cfg->rto_ns);
            probed = true;
            r->pc_probes++;
        } else {
            next = t + rto;
            rto = rto > cfg->rto_max_ns / 2 ? cfg->rto_max_ns : 2 * rto;
            r->pc_retrans++;
        }
        extra = 0;
        if ((p = pause_hit(n, t, next))) {
            t = p->lo;                 /* caught by the pause: the loop resends at its end */
            continue;
        }
        if (next - sent >= cfg->tcp_timeout_ns) {
            /* the socket gives up (retransmits_timed_out, tcp_retries2):
             * the channel's error pauses post-copy until the link is back
             * and the management resumes it */
            const struct pf_cut *cc = cut_at(n, from_host, to_host, next);
            uint64_t back = cc ? cc->until_ns : next;
            add_pause(n, next, back + cfg->recover_ns);
            t = sent = back + cfg->recover_ns;   /* resent at the resume */
            rto = cfg->rto_ns;
            first = true;
            probed = false;
            need = segments ? segs : 1;
            continue;
        }
        t = next;
    }
    *delay_ns = t - now_ns + extra;
    if (resent && t > n->busy_until[conn])
        n->busy_until[conn] = t;
    /* what the message waits because of the faults: its own delay, or the
     * wait behind an earlier message of its connection they delayed */
    uint64_t *held = &n->held_until[conn], late = *delay_ns;
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
        memcpy(c->a, f->a, sizeof c->a);
        memcpy(c->b, f->b, sizeof c->b);
        /* the management's migrate-pause, pause_after into the partition */
        if (f->until_ns - f->from_ns > r->cfg->pause_after_ns)
            add_pause(n, c->from_ns + r->cfg->pause_after_ns,
                      c->until_ns + r->cfg->recover_ns);
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

/* The time in [t0, end) post-copy was paused, the pauses merged. */
static uint64_t paused_ns(const struct pf_net *n, uint64_t end)
{
    uint64_t lo[MAX_PAUSES], hi[MAX_PAUSES];
    int k = 0;
    for (int i = 0; i < n->nr_pauses; i++) {
        uint64_t a = n->pauses[i].lo, b = n->pauses[i].hi;
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
    sim_outcome_set(r->out, SIM_PF_M_LOSS_PROBES, (double)r->pc_probes);
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
