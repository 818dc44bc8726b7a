/*
 * ho_req.c - the requester: one state machine per need ("host R must
 * open disk D"), as each method runs it.  Every step is a message with a
 * timeout on the need's timer slot; a reply that does not carry the
 * need's current request id and generation is stale and dropped.
 *
 *   READ     read the lock record (retried on timeout)
 *   RELEASE  (handoff) a release request to targets[ti]: the owner first,
 *            then each other daemon that can act for the disk (a relay);
 *            `attempts` tries each, the timeout growing by `backoff`
 *   CAW      compare-and-write "generation g -> owner R, g + 1" (force:
 *            a plain write), then open with the new generation
 *   POLL     (manual, lease) wait `poll` and read again
 *
 * A lost compare-and-write (another requester moved the record first)
 * reads again, at most max_rounds times.  A need not met within give_up
 * of the instant it arose fails.  A resent compare-and-write whose first
 * copy did land finds the record already ours at g + 1: that is success.
 */
#include <string.h>

#include "handoff/ho_int.h"

static bool active(const struct ho_need *n)
{
    return n->st == R_READ || n->st == R_RELEASE || n->st == R_CAW || n->st == R_POLL;
}

static uint32_t idx(const struct ho_cluster *c, const struct ho_need *n)
{
    return (uint32_t)(n - c->needs);
}

static void end(struct ho_cluster *c, struct ho_need *n, enum ho_rstate st)
{
    ho_tmr_cancel(&n->tmr);
    ho_tmr_cancel(&n->op_tmr);
    n->st = st;
    if (st == R_FAILED)
        c->st.failed++;
    else if (st == R_REFUSED)
        c->st.refused++;
}

static bool gave_up(struct ho_cluster *c, struct ho_need *n)
{
    if (ho_now(c) - n->t_need < c->cfg.params.give_up_ns)
        return false;
    end(c, n, R_FAILED);
    return true;
}

static void req_send(struct ho_cluster *c, struct ho_need *n, struct ho_msg *m, uint32_t to,
                     uint64_t timeout_ns)
{
    n->wait_id = ++c->next_id;
    m->id = n->wait_id;
    m->slot_kind = S_REQ;
    m->slot = idx(c, n);
    m->slot_seq = n->seq;
    m->disk = n->disk;
    ho_send(c, n->host, to, m, NULL, idx(c, n));
    ho_tmr_arm(&n->tmr, ho_now(c) + timeout_ns, n->seq);
}

static void send_read(struct ho_cluster *c, struct ho_need *n)
{
    n->st = R_READ;
    struct ho_msg m = { .type = M_DS_READ };
    req_send(c, n, &m, HO_NONE, c->cfg.params.ds_timeout_ns);
}

static void send_caw(struct ho_cluster *c, struct ho_need *n)
{
    n->st = R_CAW;
    bool force = c->cfg.params.method == HO_FORCE;
    struct ho_msg m = { .type = force ? M_DS_SET : M_DS_CAW, .gen = n->gen_read,
                        .owner = n->host };
    req_send(c, n, &m, HO_NONE, c->cfg.params.ds_timeout_ns);
}

static uint64_t release_timeout(const struct ho_cluster *c, const struct ho_need *n)
{
    double t = (double)c->cfg.params.req_timeout_ns;
    for (uint32_t k = 0; k < n->attempt; k++)
        t *= c->cfg.params.backoff;
    return (uint64_t)t;
}

static void send_release(struct ho_cluster *c, struct ho_need *n)
{
    n->st = R_RELEASE;
    uint32_t t = n->targets[n->ti];
    struct ho_msg m = { .type = t == n->owner_read ? M_RELEASE : M_RELAY, .gen = n->gen_read,
                        .reason = (uint8_t)n->why, .owner = n->owner_read };
    /* a relay waits req_timeout for the owner itself: give it two hops */
    uint64_t to = release_timeout(c, n);
    req_send(c, n, &m, t, m.type == M_RELAY ? 2 * to : to);
}

static void poll_later(struct ho_cluster *c, struct ho_need *n)
{
    n->st = R_POLL;
    ho_tmr_arm(&n->tmr, ho_now(c) + c->cfg.params.poll_ns, n->seq);
}

/* The next daemon to ask, or presume the owner dead and take over. */
static void next_target(struct ho_cluster *c, struct ho_need *n)
{
    n->attempt = 0;
    if (++n->ti < n->nr_targets)
        send_release(c, n);
    else
        send_caw(c, n);
}

static void opened(struct ho_cluster *c, struct ho_need *n, uint64_t gen)
{
    uint32_t old = n->owner_read;
    if (old != HO_NONE && old != n->host && !n->released) {
        c->st.takeovers++;
        const struct ho_open *o = ho_open_find(c, n->disk, old);
        if (c->hosts[old].up && o && !o->closing)
            c->st.false_takeovers++;
    }
    end(c, n, R_DONE);
    if (ho_open_new(c, n->disk, n->host, HO_HOLD_VM, gen) != 0) {
        n->st = R_FAILED;
        c->st.failed++;
        return;
    }
    uint64_t now = ho_now(c);
    c->st.opened++;
    vm_hist_add(&c->st.open_ns, now - n->t_need);
    if (n->t_crash)
        vm_hist_add(&c->st.unavail_ns, now - n->t_crash);
}

static void on_meta(struct ho_cluster *c, struct ho_need *n, const struct ho_msg *m)
{
    n->owner_read = m->owner;
    n->gen_read = m->gen;
    n->released = false;
    if (m->owner == HO_NONE || m->owner == n->host) {
        send_caw(c, n);
        return;
    }
    switch (c->cfg.params.method) {
    case HO_HANDOFF: case HO_BROKEN_NOFENCE:
        n->nr_targets = 0;
        n->targets[n->nr_targets++] = m->owner;
        for (int i = 0; i < HO_MAX_ACTORS; i++) {
            uint32_t a = m->actors[i];
            if (n->nr_targets > c->cfg.params.relays)
                break;
            if (a != HO_NONE && a != m->owner && a != n->host && a < c->cfg.nr_hosts)
                n->targets[n->nr_targets++] = a;
        }
        n->ti = 0;
        n->attempt = 0;
        send_release(c, n);
        break;
    case HO_FORCE: case HO_FORCE_FENCED:
        send_caw(c, n);
        break;
    case HO_LEASE:
        /* sanlock acquires only while its own lockspace is live (renewed
         * within 8 x io_timeout: lockspace.c), and reads the owner's delta
         * lease itself (paxos_lease.c): a change there is a live owner */
        if (!ho_lease_own_valid(c, n->host)) {
            poll_later(c, n);
            break;
        }
        /* dead: its delta lease has not changed for host_dead (as this
         * host's renewals saw it, and unchanged now); or it has restarted
         * since it took this lease (a new lease generation) */
        if (m->lgen != m->cur_lgen ||
            (!ho_lease_changed(c, n->host, m->owner, m->owner_ts) &&
             ho_lease_dead(c, n->host, m->owner))) {
            send_caw(c, n);             /* the owner's delta lease is dead: acquire */
            break;
        }
        /* held by a live host: EAGAIN.  A power-on or a migration asks for
         * it (sanlock_request, force mode); an HA restart does not kill a
         * VM that is running.  Retry later either way. */
        if (n->why != HO_RESTART && !n->lreq_sent) {
            struct ho_msg q = { .type = M_DS_LREQ, .disk = n->disk, .slot_kind = S_REQ,
                                .slot = idx(c, n), .slot_seq = n->seq };
            ho_send(c, n->host, HO_NONE, &q, NULL, idx(c, n));
            n->lreq_sent = true;
        }
        poll_later(c, n);
        break;
    case HO_MANUAL:
        if (!n->operator_paged) {
            n->operator_paged = true;
            uint64_t span = c->cfg.params.op_max_ns - c->cfg.params.op_min_ns;
            uint64_t delay = c->cfg.params.op_min_ns + (span ? vm_rand_below(&c->rnd, span) : 0);
            ho_tmr_arm(&n->op_tmr, ho_now(c) + delay, n->seq);
        }
        poll_later(c, n);
        break;
    default:
        end(c, n, R_FAILED);
        break;
    }
}

void ho_need_msg(struct ho_cluster *c, struct ho_need *n, const struct ho_msg *m)
{
    if (!active(n) || m->id != n->wait_id || gave_up(c, n))
        return;
    ho_tmr_cancel(&n->tmr);
    switch (m->type) {
    case M_DS_META:
        if (n->st == R_READ)
            on_meta(c, n, m);
        break;
    case M_DS_CAW_OK:
        if (n->st == R_CAW)
            opened(c, n, m->gen);
        break;
    case M_DS_CAW_FAIL:
        if (n->st != R_CAW)
            break;
        if (m->owner == n->host && m->gen == n->gen_read + 1) {
            opened(c, n, m->gen);       /* our earlier copy landed */
        } else if (++n->rounds >= c->cfg.params.max_rounds) {
            end(c, n, R_FAILED);
        } else {
            send_read(c, n);
        }
        break;
    case M_RELEASED:
        if (n->st == R_RELEASE) {
            n->released = true;
            send_caw(c, n);
        }
        break;
    case M_REFUSED:
        if (n->st != R_RELEASE)
            break;
        if (m->gen > n->gen_read) {     /* our read is older than its open: read again */
            if (++n->rounds >= c->cfg.params.max_rounds)
                end(c, n, R_FAILED);
            else
                send_read(c, n);
        } else {
            end(c, n, R_REFUSED);       /* the owner is alive and keeps its VM's disk */
        }
        break;
    case M_UNREACHABLE:
        if (n->st == R_RELEASE)
            next_target(c, n);
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------- start */

uint32_t ho_pick_live(struct ho_cluster *c, uint32_t avoid)
{
    for (uint32_t k = 0; k < c->cfg.nr_hosts; k++) {
        uint32_t h = c->ha_next++ % c->cfg.nr_hosts;
        if (h != avoid && c->hosts[h].up)
            return h;
    }
    return HO_NONE;
}

void ho_need_start(struct ho_cluster *c, struct ho_need *n)
{
    if (n->host == HO_NONE) {
        n->host = ho_pick_live(c, c->ds[n->disk].owner);
        if (n->host == HO_NONE) {
            end(c, n, R_FAILED);
            return;
        }
    }
    n->rounds = 0;
    send_read(c, n);
}

static void operator_acts(struct ho_cluster *c, struct ho_need *n)
{
    uint32_t x = c->ds[n->disk].owner;
    if (x != HO_NONE && c->hosts[x].up) {
        struct ho_open *o = ho_open_find(c, n->disk, x);
        if (o && o->kind == HO_HOLD_VM && n->why != HO_MIGRATE) {
            end(c, n, R_REFUSED);       /* a running VM: the operator leaves it */
            return;
        }
        if (o)
            ho_open_close(c, o);        /* unmount the hot-add, stop the holder */
    }
    if (x != HO_NONE)
        ho_ds_clear(c, n->disk);
}

void ho_need_timer(struct ho_cluster *c, struct ho_tmr *t)
{
    struct ho_need *n = &c->needs[t->idx];
    if (n->seq != t->seq)
        return;
    if (t->kind == T_OPERATOR) {
        if (active(n))
            operator_acts(c, n);
        return;
    }
    if (n->st == R_WAIT_START) {
        ho_need_start(c, n);
        return;
    }
    if (!active(n) || gave_up(c, n))
        return;
    switch (n->st) {
    case R_READ:
        n->retries++;
        c->st.retries++;
        send_read(c, n);
        break;
    case R_CAW:
        n->retries++;
        c->st.retries++;
        send_caw(c, n);
        break;
    case R_RELEASE:
        n->retries++;
        c->st.retries++;
        if (++n->attempt < c->cfg.params.attempts)
            send_release(c, n);
        else
            next_target(c, n);
        break;
    case R_POLL:
        send_read(c, n);
        break;
    default:
        break;
    }
}

/* The requester's host crashed: its state is gone.  With HA the need is
 * raised again on another host after the detection delay; without, it
 * waits for the host to come back (the power-on is retried there). */
void ho_need_host_crash(struct ho_cluster *c, uint32_t host)
{
    for (uint32_t i = 0; i < c->nr_needs; i++) {
        struct ho_need *n = &c->needs[i];
        if (n->host != host || !(active(n) || n->st == R_WAIT_START))
            continue;
        ho_tmr_cancel(&n->tmr);
        ho_tmr_cancel(&n->op_tmr);
        n->seq++;
        n->st = R_WAIT_START;
        n->operator_paged = false;
        if (c->cfg.ha) {
            n->host = HO_NONE;
            ho_tmr_arm(&n->tmr, ho_now(c) + c->cfg.ha_detect_ns, n->seq);
        }
    }
}

/* The host is back (restarted, or woken from a pause): start the needs
 * that waited for it (raised, or crashed, while it was down or frozen). */
void ho_need_host_restart(struct ho_cluster *c, uint32_t host)
{
    for (uint32_t i = 0; i < c->nr_needs; i++) {
        struct ho_need *n = &c->needs[i];
        if (n->host == host && n->st == R_WAIT_START && !n->tmr.id)
            ho_need_start(c, n);
    }
}
