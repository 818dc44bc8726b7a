/*
 * ho_host.c - what runs on a host: the disks it holds open and their
 * writes, its IO filter's daemon (answers release requests, relays them
 * for other hosts), and under HO_LEASE its sanlock daemon (delta lease
 * renewals, killing the lease holders once renewals have failed for
 * 8 x io_timeout).
 *
 * An open disk writes one block every write interval, one write in
 * flight, the next armed when the last one is answered (a guest at queue
 * depth 1, so "flush" means "wait for the write in flight").  A write
 * that times out is sent again (same block, same write id); one the
 * datastore fences closes the open: this host lost the disk.
 *
 * Release (the patent's claims 1-4, at the owner): no open of the disk
 * here -> RELEASED; a VM's open and a need that is not a migration ->
 * REFUSED (the VM runs here: a requester that presumed this host dead was
 * wrong); otherwise stop writing, wait for the write in flight, close,
 * RELEASED.  Relay (claim 2's "another filter"): ask the owner on this
 * host's own network path and pass its answer back, or UNREACHABLE when
 * it does not answer within the request timeout.
 */
#include <stdlib.h>
#include <string.h>

#include "handoff/ho_int.h"

/* ---------------------------------------------------------------- opens */

struct ho_open *ho_open_find(struct ho_cluster *c, uint32_t disk, uint32_t host)
{
    for (uint32_t i = 0; i < c->nr_opens; i++) {
        struct ho_open *o = &c->opens[i];
        if (o->live && o->disk == disk && o->host == host)
            return o;
    }
    return NULL;
}

static void write_next(struct ho_cluster *c, struct ho_open *o)
{
    uint64_t iv = c->cfg.write_interval_ns;
    ho_tmr_arm(&o->tmr, ho_now(c) + iv / 2 + vm_rand_below(&o->rnd, iv), o->seq);
}

int ho_open_new(struct ho_cluster *c, uint32_t disk, uint32_t host, enum ho_holder kind,
                uint64_t gen)
{
    uint32_t i = 0;
    while (i < c->nr_opens && c->opens[i].live)
        i++;
    if (i == c->nr_opens) {
        if (c->nr_opens == c->cap_opens)
            return VM_ENOMEM;           /* a fixed pool: timers point into it */
        memset(&c->opens[i], 0, sizeof c->opens[i]);
        c->nr_opens++;
    }
    struct ho_open *o = &c->opens[i];
    uint32_t seq = o->seq + 1;
    memset(o, 0, sizeof *o);
    o->live = true;
    o->seq = seq;
    o->disk = disk;
    o->host = host;
    o->kind = kind;
    o->gen = gen;
    vm_rand_init(&o->rnd, c->seed, ((uint64_t)c->epoch << 40) ^ ((uint64_t)disk << 20) ^ host ^
                 ((uint64_t)seq << 52));
    ho_tmr_init(&o->tmr, c, T_OPEN_WRITE, i);
    write_next(c, o);
    return 0;
}

static void reply_releases(struct ho_cluster *c, struct ho_open *o)
{
    for (uint32_t k = 0; k < o->nr_rel; k++) {
        struct ho_msg r = { .type = M_RELEASED, .disk = o->disk, .id = o->rel[k].id,
                            .slot_kind = (uint8_t)o->rel[k].kind, .slot = o->rel[k].slot,
                            .slot_seq = o->rel[k].slot_seq };
        ho_send(c, o->host, o->rel[k].host, &r, NULL,
                o->rel[k].kind == S_REQ ? o->rel[k].slot : HO_NONE);
    }
    o->nr_rel = 0;
}

void ho_open_close(struct ho_cluster *c, struct ho_open *o)
{
    ho_tmr_cancel(&o->tmr);
    o->live = false;
    o->seq++;
}

static void open_write(struct ho_cluster *c, struct ho_open *o, bool again)
{
    if (!again) {
        o->block = vm_rand_below(&o->rnd, c->cfg.blocks_per_disk);
        o->wid++;
    }
    o->inflight = true;
    o->wait_id = ++c->next_id;
    struct ho_msg m = { .type = M_DS_WRITE, .disk = o->disk, .gen = o->gen, .block = o->block,
                        .wid = o->wid, .id = o->wait_id, .slot_kind = S_OPEN,
                        .slot = (uint32_t)(o - c->opens), .slot_seq = o->seq };
    ho_send(c, o->host, HO_NONE, &m, NULL, HO_NONE);
    ho_tmr_arm(&o->tmr, ho_now(c) + c->cfg.params.ds_timeout_ns, o->seq);
}

static void open_reply(struct ho_cluster *c, struct ho_open *o, const struct ho_msg *m)
{
    if (!o->inflight || m->id != o->wait_id)
        return;
    o->inflight = false;
    ho_tmr_cancel(&o->tmr);
    if (m->type == M_DS_FENCED) {       /* the disk is someone else's now */
        reply_releases(c, o);
        ho_open_close(c, o);
        return;
    }
    if (o->closing) {                   /* flushed: close and confirm */
        uint32_t d = o->disk;
        bool lease = o->release_lease && c->ds[d].owner == o->host;
        reply_releases(c, o);
        ho_open_close(c, o);
        if (lease)
            ho_ds_clear(c, d);          /* the killed holder's I/O is done: release */
        return;
    }
    write_next(c, o);
}

/* ------------------------------------------------------------- daemon */

static void answer(struct ho_cluster *c, uint32_t host, const struct ho_msg *req, uint8_t type)
{
    struct ho_msg r = { .type = type, .disk = req->disk, .id = req->id,
                        .slot_kind = req->slot_kind, .slot = req->slot,
                        .slot_seq = req->slot_seq, .gen = req->gen };
    ho_send(c, host, req->host, &r, NULL, req->slot_kind == S_REQ ? req->slot : HO_NONE);
}

static void daemon_release(struct ho_cluster *c, uint32_t host, const struct ho_msg *m)
{
    struct ho_open *o = ho_open_find(c, m->disk, host);
    if (!o) {
        answer(c, host, m, M_RELEASED);
        return;
    }
    if (o->gen > m->gen) {
        /* the request is about an older session than this open (its
         * requester read the record before this host took the disk):
         * refuse with this open's generation, so it reads the record again
         * rather than close a newer session */
        struct ho_msg r = { .type = M_REFUSED, .disk = m->disk, .id = m->id,
                            .slot_kind = m->slot_kind, .slot = m->slot,
                            .slot_seq = m->slot_seq, .gen = o->gen };
        ho_send(c, host, m->host, &r, NULL, m->slot_kind == S_REQ ? m->slot : HO_NONE);
        return;
    }
    if (o->kind == HO_HOLD_VM && m->reason != HO_MIGRATE) {
        answer(c, host, m, M_REFUSED);
        return;
    }
    if (!o->inflight) {
        ho_open_close(c, o);
        answer(c, host, m, M_RELEASED);
        return;
    }
    o->closing = true;                  /* flush first: answer when the write is down */
    if (o->nr_rel < 4) {
        o->rel[o->nr_rel].host = m->host;
        o->rel[o->nr_rel].slot = m->slot;
        o->rel[o->nr_rel].slot_seq = m->slot_seq;
        o->rel[o->nr_rel].kind = m->slot_kind;
        o->rel[o->nr_rel].id = m->id;
        o->nr_rel++;
    }
}

static void daemon_relay(struct ho_cluster *c, uint32_t host, const struct ho_msg *m)
{
    uint32_t i = 0;
    while (i < c->nr_relays && c->relays[i].live)
        i++;
    if (i == c->nr_relays) {
        if (c->nr_relays == c->cap_relays)
            return;                     /* the requester times out */
        memset(&c->relays[i], 0, sizeof c->relays[i]);
        c->nr_relays++;
    }
    struct ho_relay *r = &c->relays[i];
    uint32_t seq = r->seq + 1;
    memset(r, 0, sizeof *r);
    r->live = true;
    r->seq = seq;
    r->host = host;
    r->to_host = m->host;
    r->to_slot = m->slot;
    r->to_seq = m->slot_seq;
    r->to_id = m->id;
    r->need = m->slot_kind == S_REQ ? m->slot : HO_NONE;
    r->wait_id = ++c->next_id;
    ho_tmr_init(&r->tmr, c, T_RELAY, i);
    struct ho_msg f = { .type = M_RELEASE, .disk = m->disk, .gen = m->gen, .reason = m->reason,
                        .id = r->wait_id, .slot_kind = S_RELAY, .slot = i, .slot_seq = seq };
    ho_send(c, host, m->owner, &f, NULL, r->need);
    ho_tmr_arm(&r->tmr, ho_now(c) + c->cfg.params.req_timeout_ns, seq);
}

static void relay_done(struct ho_cluster *c, struct ho_relay *r, uint8_t type, uint64_t gen)
{
    struct ho_msg a = { .type = type, .id = r->to_id, .slot_kind = S_REQ, .slot = r->to_slot,
                        .slot_seq = r->to_seq, .gen = gen };
    ho_send(c, r->host, r->to_host, &a, NULL, r->need);
    ho_tmr_cancel(&r->tmr);
    r->live = false;
    r->seq++;
}

/* -------------------------------------------------------------- lease */

void ho_lease_start(struct ho_cluster *c, uint32_t host)
{
    struct ho_host *h = &c->hosts[host];
    uint64_t now = ho_now(c);
    h->last_renew_ok_ns = now;
    h->renew_inflight = false;
    for (uint32_t k = 0; k < c->cfg.nr_hosts; k++) {
        h->seen_ts[k] = c->lease_ts[k];
        h->seen_change_ns[k] = now;
    }
    uint64_t renew = 2 * c->cfg.params.io_timeout_ns;
    h->next_renew_ns = now + vm_rand_below(&c->rnd, renew);
    ho_tmr_arm(&h->renew_tmr, h->next_renew_ns, h->inc);
    ho_tmr_arm(&h->fail_tmr, now + 8 * c->cfg.params.io_timeout_ns, h->inc);
}

bool ho_lease_dead(const struct ho_cluster *c, uint32_t observer, uint32_t owner)
{
    const struct ho_host *h = &c->hosts[observer];
    uint64_t dead = 8 * c->cfg.params.io_timeout_ns + c->cfg.params.watchdog_ns;
    return ho_now(c) - h->seen_change_ns[owner] >= dead;
}

bool ho_lease_own_valid(const struct ho_cluster *c, uint32_t host)
{
    return ho_now(c) - c->hosts[host].last_renew_ok_ns < 8 * c->cfg.params.io_timeout_ns;
}

/* The owner's delta lease read at acquire differs from what this host's
 * renewals last saw: the owner is alive (sanlock's acquire returns
 * IDLIVE).  Only the renewals move the dead timer's start. */
bool ho_lease_changed(const struct ho_cluster *c, uint32_t observer, uint32_t owner, uint64_t ts)
{
    const struct ho_host *h = &c->hosts[observer];
    return owner < c->cfg.nr_hosts && h->seen_ts && ts != h->seen_ts[owner];
}

/* sanlock kills the processes holding leases when renewals have failed
 * for id_renewal_fail_seconds (8 x io_timeout). */
static void lease_fail(struct ho_cluster *c, uint32_t host)
{
    struct ho_host *h = &c->hosts[host];
    uint64_t fail = 8 * c->cfg.params.io_timeout_ns;
    if (ho_now(c) - h->last_renew_ok_ns < fail) {
        ho_tmr_arm(&h->fail_tmr, h->last_renew_ok_ns + fail, h->inc);
        return;
    }
    for (uint32_t i = 0; i < c->nr_opens; i++) {
        struct ho_open *o = &c->opens[i];
        if (o->live && o->host == host) {
            c->st.lease_kills++;
            ho_open_close(c, o);
        }
    }
    /* the lockspace is lost: renewals stop until it is added again, with a
     * new delta-lease generation, so the resource leases it held are free
     * to others at once (sanlock: lockspace recovery, then add_lockspace) */
    h->rejoin = true;
}

static void lease_renew(struct ho_cluster *c, uint32_t host)
{
    struct ho_host *h = &c->hosts[host];
    uint64_t now = ho_now(c);
    h->renew_inflight = true;
    h->renew_id = ++c->next_id;
    h->renew_sent_ns = now;
    struct ho_msg m = { .type = M_DS_RENEW, .id = h->renew_id, .slot_kind = S_LEASE,
                        .slot = host, .reason = h->rejoin };
    ho_send(c, host, HO_NONE, &m, NULL, HO_NONE);
    h->next_renew_ns = now + 2 * c->cfg.params.io_timeout_ns;
    ho_tmr_arm(&h->renew_tmr, h->next_renew_ns, h->inc);
    lease_fail(c, host);
}

static void lease_reply(struct ho_cluster *c, uint32_t host, const struct ho_msg *m,
                        const uint64_t *leases)
{
    struct ho_host *h = &c->hosts[host];
    uint64_t now = ho_now(c);
    if (!h->renew_inflight || m->id != h->renew_id || !leases)
        return;
    h->renew_inflight = false;
    if (now - h->renew_sent_ns > c->cfg.params.io_timeout_ns)
        return;                         /* too late: sanlock counts it failed */
    h->last_renew_ok_ns = h->renew_sent_ns;
    h->rejoin = false;
    /* the renewal read the lease area: requests for leases this host holds,
     * published by their requester's own renewal since, make sanlock kill
     * their holder (force mode) and release them */
    for (uint32_t i = 0; i < c->nr_opens; i++) {
        struct ho_open *o = &c->opens[i];
        const struct ho_ds_disk *r = &c->ds[o->disk];
        if (!o->live || o->host != host || !r->lreq || r->owner != host ||
            h->renew_sent_ns < r->lreq_after)
            continue;
        uint32_t d = o->disk;
        c->st.lease_kills++;
        c->ds[d].lreq = false;
        if (o->inflight) {              /* the process exits once its I/O is done; */
            o->closing = true;          /* sanlock releases the lease after that */
            o->release_lease = true;
            continue;
        }
        ho_open_close(c, o);
        ho_ds_clear(c, d);
    }
    uint32_t n = m->nr_leases < c->cfg.nr_hosts ? m->nr_leases : c->cfg.nr_hosts;
    for (uint32_t k = 0; k < n; k++)
        if (leases[k] != h->seen_ts[k]) {
            h->seen_ts[k] = leases[k];
            h->seen_change_ns[k] = now;
        }
}

/* ------------------------------------------------------------- events */

void ho_host_msg(struct ho_cluster *c, uint32_t host, const struct ho_msg *m,
                 const uint64_t *leases)
{
    struct ho_host *h = &c->hosts[host];
    switch (m->type) {
    case M_DS_ACK: case M_DS_FENCED:
        if (m->slot < c->nr_opens && c->opens[m->slot].seq == m->slot_seq &&
            c->opens[m->slot].live && c->opens[m->slot].host == host)
            open_reply(c, &c->opens[m->slot], m);
        break;
    case M_DS_LEASES:
        if (c->cfg.params.method == HO_LEASE)
            lease_reply(c, host, m, leases);
        break;
    case M_RELEASE:
        if (h->daemon_up)
            daemon_release(c, host, m);
        break;
    case M_RELAY:
        if (h->daemon_up)
            daemon_relay(c, host, m);
        break;
    default:
        break;
    }
}

/* A reply for a relay this host runs. */
void ho_relay_msg(struct ho_cluster *c, uint32_t host, const struct ho_msg *m)
{
    if (m->slot >= c->nr_relays)
        return;
    struct ho_relay *r = &c->relays[m->slot];
    if (!r->live || r->seq != m->slot_seq || r->host != host || m->id != r->wait_id)
        return;
    relay_done(c, r, m->type, m->gen);
}

void ho_host_timer(struct ho_cluster *c, struct ho_tmr *t)
{
    switch (t->kind) {
    case T_OPEN_WRITE: {
        struct ho_open *o = &c->opens[t->idx];
        /* closing: no new write, but the one being flushed must still be
         * resent when it times out, or a lost write or reply would leave
         * the release unanswered (and the open half-closed) forever */
        if (!o->live || o->seq != t->seq || (o->closing && !o->inflight))
            return;
        open_write(c, o, o->inflight);  /* in flight: it timed out, send it again */
        break;
    }
    case T_RELAY: {
        struct ho_relay *r = &c->relays[t->idx];
        if (r->live && r->seq == t->seq)
            relay_done(c, r, M_UNREACHABLE, 0);
        break;
    }
    case T_RENEW:
        if (c->hosts[t->idx].inc == t->seq)
            lease_renew(c, t->idx);
        break;
    case T_LEASE_FAIL:
        if (c->hosts[t->idx].inc == t->seq)
            lease_fail(c, t->idx);
        break;
    case T_HA:
        ho_ha_pause_check(c, t->idx, t->seq);
        break;
    case T_WATCHDOG: {
        struct ho_host *h = &c->hosts[t->idx];
        if (h->inc == t->seq && h->up && h->paused) {
            c->st.watchdog_resets++;    /* wdmd stopped petting: the host resets */
            ho_host_crash(c, t->idx);
            h->reset_at_wake = true;
        }
        break;
    }
    default:
        break;
    }
}
