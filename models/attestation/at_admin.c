/*
 * at_admin.c - the baselines' administrator and the nodes' allow-lists.
 *
 * An allow-list holds, per allowed package version, every file's path and
 * hash, as Keylime's runtime policies do; its size (allow_bytes) is what
 * such a list takes as JSON: per file the path, 64 hex digits and ~8
 * bytes of quoting.  The node keeps a bit per package version of the
 * run's universe to decide (the file entries are what an administrator
 * writes and ships; the bit is the index a node would build from them).
 *
 * Schedules (at.h):
 *   manual         after each release or withdrawal, each node is updated
 *                  after its own delay drawn from U[admin_min, admin_max]
 *                  (admin_shared: one delay for all nodes);
 *   export-import  an export export_delay after the release, then one
 *                  import per attestation cluster, import_time each, in
 *                  cluster order;
 *   union          old + new installed after an admin delay, the old
 *                  versions removed union_window after the release (after
 *                  another delay).
 * With hold_wave, a release's wave waits for policy_ready_ns, the last
 * node's update (at_dc.c).
 * Every update is a POLICY message from "admin" to the node, charged the
 * file entries it carries.
 *
 * A node that is down does not take an update: the console sees its
 * connection refused (the node is down when it sends) or its update not
 * acknowledged (it arrived once the node was down: at_admin_lost), keeps
 * the update in the node's queue, and resends the queue every admin_retry
 * until the node is up, in order; a node with updates queued gets its
 * later ones through the queue too, so none overtakes another.  admin_retry
 * (1 s by default) is an assumption standing for "the administrator re-runs
 * the command until the node answers" (as a vSphere Trust Authority import
 * is re-run).  A Keylime deployment whose verifiers share one database would
 * reload its runtime policies from it on restart instead (not modelled).
 * Not modelled: an update overtaking one lost in flight within a network
 * latency (updates are hours apart), the console's own crash.
 */
#include <stdlib.h>
#include <string.h>

#include "attestation/at_int.h"

static bool uses_allow(enum at_method m)
{
    return m == AT_MANUAL || m == AT_EXPORT_IMPORT || m == AT_UNION;
}

static uint64_t pv_bytes(const struct at_dc *dc, uint32_t pv)
{
    const struct at_pkg *p = &dc->uni.pkgs[pv];
    uint64_t b = 0;
    for (uint32_t f = 0; f < p->nr_files; f++)
        b += strlen(p->files[f].path) + 2 * AT_HASH_LEN + 8;
    return b;
}

int at_admin_init(struct at_dc *dc)
{
    if (!uses_allow(dc->cfg.params.method))
        return 0;
    dc->console = calloc(dc->cfg.nr_nodes, sizeof *dc->console);
    if (!dc->console)
        return VM_ENOMEM;
    for (uint32_t j = 0; j < dc->cfg.nr_nodes; j++) {
        dc->console[j].dc = dc;
        dc->console[j].node = j;
    }
    size_t bytes = (dc->uni.nr_pkgs + 7) / 8;
    for (uint32_t j = 0; j < dc->cfg.nr_nodes; j++) {
        struct at_node *n = &dc->nodes[j];
        n->allow = calloc(bytes ? bytes : 1, 1);
        if (!n->allow)
            return VM_ENOMEM;
        /* release 0 is configured before the run */
        for (uint32_t i = 0; i < dc->ri[0].nr_new; i++) {
            uint32_t pv = dc->ri[0].new_pv[i];
            n->allow[pv / 8] |= (uint8_t)(1u << (pv % 8));
            n->allow_bytes += pv_bytes(dc, pv);
        }
        if (n->allow_bytes > dc->st.policy_bytes_max)
            dc->st.policy_bytes_max = n->allow_bytes;
    }
    return 0;
}

void at_admin_free(struct at_dc *dc)
{
    /* the allow-lists are the nodes' (at_node_free); the queues the console's */
    for (uint32_t j = 0; dc->console && j < dc->cfg.nr_nodes; j++) {
        struct at_console *c = &dc->console[j];
        if (c->tmr)
            port_timer_cancel(dc->p.timer, c->tmr);
        while (c->head) {
            struct at_pending *q = c->head;
            c->head = q->next;
            free(q);
        }
    }
    free(dc->console);
    dc->console = NULL;
}

static void resend(void *arg);

/* Keep an update node j did not take at the end of its queue; the resend
 * timer runs while the queue is not empty. */
static void keep(struct at_dc *dc, uint32_t j, const uint8_t *payload, uint32_t len,
                 uint64_t wire)
{
    struct at_console *c = &dc->console[j];
    if (dc->cfg.params.test_drop_policy)
        return;                  /* the mutation: lost, as before the console kept them */
    struct at_pending *q = malloc(sizeof *q + len);
    if (!q)
        return;                  /* as lost */
    q->next = NULL;
    q->len = len;
    q->wire = wire;
    memcpy(q->payload, payload, len);
    if (c->tail)
        c->tail->next = q;
    else
        c->head = q;
    c->tail = q;
    dc->st.policy_queued++;
    if (!c->tmr) {
        dc->console_pending++;
        c->tmr = port_timer_arm(dc->p.timer, at_now(dc) + dc->cfg.params.admin_retry_ns,
                                resend, c);
    }
}

/* Send node j an update, or queue it (the node is down, or earlier
 * updates wait). */
static void send_update(struct at_dc *dc, uint32_t j, const uint8_t *payload, uint32_t len,
                        uint64_t wire)
{
    if (!dc->nodes[j].up || dc->console[j].head) {
        keep(dc, j, payload, len, wire);
        return;
    }
    struct at_rec r = { .type = M_POLICY, .len = len };
    at_send(dc, EP_ADMIN, EP_NODE0 + j, &r, payload, wire);
}

static void resend(void *arg)
{
    struct at_console *c = arg;
    struct at_dc *dc = c->dc;
    c->tmr = 0;
    if (!dc->nodes[c->node].up) {
        c->tmr = port_timer_arm(dc->p.timer, at_now(dc) + dc->cfg.params.admin_retry_ns,
                                resend, c);
        return;
    }
    dc->console_pending--;
    struct at_pending *q = c->head;
    c->head = c->tail = NULL;
    while (q) {                  /* in order, as one batch */
        struct at_pending *next = q->next;
        struct at_rec r = { .type = M_POLICY, .len = q->len };
        at_send(dc, EP_ADMIN, EP_NODE0 + c->node, &r, q->payload, q->wire);
        free(q);
        q = next;
    }
}

void at_admin_lost(struct at_dc *dc, uint32_t j, const void *blob, size_t len)
{
    struct at_rdr r;
    struct at_rec h;
    const uint8_t *payload;
    if (!dc->console || j >= dc->cfg.nr_nodes || at_rdr_init(&r, blob, len))
        return;
    while (at_rdr_next(&r, &h, &payload) == 1) {
        if (h.type != M_POLICY || at_rec_check(&h, payload))
            continue;
        struct at_policy_rec p;
        memcpy(&p, payload, sizeof p);
        uint64_t wire = dc->cfg.msg_bytes;
        for (uint32_t i = 0; i < p.nr; i++) {
            uint32_t pv;
            memcpy(&pv, payload + sizeof p + (size_t)i * 4, 4);
            if (pv < dc->uni.nr_pkgs)
                wire += pv_bytes(dc, pv);
        }
        keep(dc, j, payload, h.len, wire);
    }
}

struct update {
    struct at_tnode t;
    uint32_t node, last_node;    /* nodes [node, last_node] */
    uint32_t add, withdrawal;
    uint64_t event_ns;
    const uint32_t *pv;
    uint32_t nr;
};

static void update_fire(void *arg)
{
    struct update *u = arg;
    struct at_dc *dc = u->t.dc;
    size_t len = sizeof(struct at_policy_rec) + (size_t)u->nr * 4;
    uint8_t *buf = malloc(len);
    if (!buf)
        return;
    struct at_policy_rec p = { .add = u->add, .nr = u->nr, .event_ns = u->event_ns,
                               .withdrawal = u->withdrawal };
    memcpy(buf, &p, sizeof p);
    memcpy(buf + sizeof p, u->pv, (size_t)u->nr * 4);
    uint64_t wire = dc->cfg.msg_bytes;
    for (uint32_t i = 0; i < u->nr; i++)
        wire += pv_bytes(dc, u->pv[i]);
    for (uint32_t j = u->node; j <= u->last_node; j++)
        send_update(dc, j, buf, (uint32_t)len, wire);
    free(buf);
}

static void schedule(struct at_dc *dc, uint64_t when, uint32_t first, uint32_t last, bool add,
                     uint32_t withdrawal, uint64_t event_ns, const uint32_t *pv, uint32_t nr)
{
    if (!nr)
        return;
    struct update *u = at_timer(dc, when, sizeof *u, update_fire);
    if (!u)
        return;
    u->node = first;
    u->last_node = last;
    u->add = add;
    u->withdrawal = withdrawal;
    u->event_ns = event_ns;
    u->pv = pv;
    u->nr = nr;
    at_dc_sched(dc, when);
}

static uint64_t delay(struct at_dc *dc)
{
    const struct at_params *p = &dc->cfg.params;
    return p->admin_min_ns + vm_rand_below(&dc->r_admin, p->admin_max_ns - p->admin_min_ns + 1);
}

/* One update of every node per the method's schedule; returns when the
 * last one is due. */
static uint64_t plan(struct at_dc *dc, uint64_t at_ns, bool add, uint32_t withdrawal,
                 const uint32_t *pv, uint32_t nr)
{
    const struct at_params *p = &dc->cfg.params;
    const struct at_cfg *c = &dc->cfg;
    uint64_t last = at_ns;
    if (p->method == AT_EXPORT_IMPORT) {
        for (uint32_t a = 0; a < dc->nr_aclusters; a++) {
            last = at_ns + p->export_delay_ns + (uint64_t)(a + 1) * p->import_time_ns;
            schedule(dc, last, a * c->cluster_nodes, (a + 1) * c->cluster_nodes - 1, add,
                     withdrawal, at_ns, pv, nr);
        }
        return last;
    }
    uint64_t shared = p->admin_shared ? at_ns + delay(dc) : 0;
    for (uint32_t j = 0; j < c->nr_nodes; j++) {
        uint64_t when = p->admin_shared ? shared : at_ns + delay(dc);
        if (when > last)
            last = when;
        schedule(dc, when, j, j, add, withdrawal, at_ns, pv, nr);
    }
    return last;
}

void at_admin_start(struct at_dc *dc)
{
    enum at_method m = dc->cfg.params.method;
    if (!uses_allow(m))
        return;
    for (uint32_t k = 1; k < dc->nr_rel; k++) {
        const struct at_relinfo *ri = &dc->ri[k];
        uint64_t at = dc->rel[k].at_ns;
        dc->ri[k].policy_ready_ns = plan(dc, at, true, 0, ri->new_pv, ri->nr_new);
        if (m == AT_UNION)
            plan(dc, at + dc->cfg.params.union_window_ns, false, 0, ri->old_pv, ri->nr_old);
    }
    for (uint32_t i = 0; i < dc->cfg.nr_attacks; i++) {
        const struct at_attack *a = &dc->atk[i];
        if (a->kind != AT_ATK_WITHDRAW)
            continue;
        const struct at_relinfo *ri = &dc->ri[a->release];
        plan(dc, a->at_ns, false, i + 1, ri->new_pv, ri->nr_new);
    }
}

void at_admin_apply(struct at_dc *dc, uint32_t j, const struct at_policy_rec *p,
                    const uint32_t *pv)
{
    struct at_node *n = &dc->nodes[j];
    if (!n->allow)
        return;                  /* a method without allow-lists */
    uint64_t now = at_now(dc);
    for (uint32_t i = 0; i < p->nr; i++) {
        if (pv[i] >= dc->uni.nr_pkgs) {
            dc->st.malformed++;
            continue;
        }
        uint8_t bit = (uint8_t)(1u << (pv[i] % 8));
        bool has = n->allow[pv[i] / 8] & bit;
        if (p->add && !has) {
            n->allow[pv[i] / 8] |= bit;
            n->allow_bytes += pv_bytes(dc, pv[i]);
        } else if (!p->add && has) {
            n->allow[pv[i] / 8] &= (uint8_t)~bit;
            n->allow_bytes -= pv_bytes(dc, pv[i]);
        }
    }
    if (p->withdrawal && p->withdrawal <= 64)
        n->wd_known |= 1ull << (p->withdrawal - 1);
    vm_hist_add(&dc->st.staleness_ns, now - p->event_ns);
    if (n->allow_bytes > dc->st.policy_bytes_max)
        dc->st.policy_bytes_max = n->allow_bytes;
}
