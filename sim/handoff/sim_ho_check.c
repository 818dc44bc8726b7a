/*
 * sim_ho_check.c - the handoff run point's checks before any run point
 * starts, in `vmsim validate` and `vmsim run` alike: the datastore's host
 * and disk and every cluster host are in the platform; every fault names
 * a cluster host (or, for a partition or a message fault, the datastore's
 * host); no host crashes again before it has rebooted from its last
 * crash; no fault begins after the episode ends.
 */
#include <stdio.h>
#include <string.h>

#include "handoff/sim_ho_int.h"
#include "sim_platform.h"

static bool host_kind(enum sim_fault_kind k)
{
    return k == SIM_FAULT_HOST_CRASH || k == SIM_FAULT_DAEMON_CRASH || k == SIM_FAULT_CLOCK_PAUSE;
}

static bool msg_kind(enum sim_fault_kind k)
{
    return k == SIM_FAULT_PARTITION || k == SIM_FAULT_MSG_LOSS || k == SIM_FAULT_MSG_DELAY;
}

static int check_end(struct sim_cfg_walk *w, const struct sim_exp *e, int i, const char *key,
                     const char *name, bool any_ok)
{
    const struct sim_ho_cfg *c = e->mech_cfg;
    char path[64];
    if (!name[0] && any_ok)
        return 0;
    if (sim_ho_host_index(c, name) >= 0)
        return 0;
    if (strcmp(key, "host") != 0 && strcmp(name, e->host) == 0)
        return 0;                       /* a message fault may cut the datastore off */
    snprintf(path, sizeof path, "$.faults[%d].%s", i, key);
    /* a host the platform lacks: the core's line (the same, so not repeated) */
    if (name[0] && sim_cfg_check_host(w, e->platform, name, path))
        return VM_EINVAL;
    if (!name[0])
        return sim_cfg_err_at(w, VM_EINVAL, path, "missing: a handoff fault names its host "
                              "(a cluster host, h0..h%u)", c->hosts - 1);
    if (strcmp(key, "host") == 0)
        return sim_cfg_err_at(w, VM_EINVAL, path, "expected a cluster host (h0..h%u), got "
                              "'%s'", c->hosts - 1, name);
    return sim_cfg_err_at(w, VM_EINVAL, path, "expected a cluster host (h0..h%u) or the "
                          "datastore's host '%s', got '%s'", c->hosts - 1, e->host, name);
}

/* h0..h<n-1> are hosts of the platform: one platform load for them all,
 * remembered for the next run points (they share it). */
static int check_cluster_hosts(struct sim_cfg_walk *w, const char *platform, uint32_t n)
{
    static char memo_platform[SIM_PATH_MAX];
    static uint32_t memo_n;
    static int memo_rc;
    static char memo_msg[VM_DIAG_MSG_MAX];
    if (n != memo_n || strcmp(platform, memo_platform) != 0) {
        char list[SIM_HO_MAX_HOSTS * 5];
        size_t len = 0;
        for (uint32_t i = 0; i < n; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%sh%u", i ? "," : "", i);
        struct vm_diag d = { 0 };
        enum sim_platform_part part;
        memo_rc = sim_platform_check(platform, list, NULL, 0, NULL, &part, NULL, &d);
        snprintf(memo_msg, sizeof memo_msg, "%s", d.msg);
        snprintf(memo_platform, sizeof memo_platform, "%s", platform);
        memo_n = n;
    }
    if (!memo_rc)
        return 0;
    return sim_cfg_err_at(w, VM_EINVAL, "$.cluster.hosts", "expected at most as many hosts as "
                          "the platform has h0, h1, ...: %s", memo_msg);
}

/* A fixed-instant crash of a host still down from an earlier one. */
static int check_reboots(struct sim_cfg_walk *w, const struct sim_exp *e)
{
    int rc = 0;
    char path[64];
    for (int i = 0; i < e->nr_faults; i++) {
        const struct sim_exp_fault *f = &e->faults[i];
        if ((f->kind != SIM_FAULT_HOST_CRASH && f->kind != SIM_FAULT_DAEMON_CRASH) || f->drawn)
            continue;
        for (int j = 0; j < i; j++) {
            const struct sim_exp_fault *g = &e->faults[j];
            if (g->kind != f->kind || g->drawn || strcmp(g->host, f->host) != 0)
                continue;
            if (f->at_ns >= g->at_ns && f->at_ns < g->at_ns + g->restart_after_ns) {
                snprintf(path, sizeof path, "$.faults[%d].at", i);
                rc = sim_cfg_err_at(w, VM_EINVAL, path, "expected a time after %s '%s' "
                                    "restarts from faults[%d] (at %.9g s), got %.9g s: it "
                                    "would crash before it booted",
                                    f->kind == SIM_FAULT_HOST_CRASH ? "host" : "the daemon of",
                                    f->host, j, (double)(g->at_ns + g->restart_after_ns) / 1e9,
                                    (double)f->at_ns / 1e9);
            }
        }
    }
    return rc;
}

int sim_ho_check(struct sim_cfg_walk *w, const struct sim_exp *e)
{
    const struct sim_ho_cfg *c = e->mech_cfg;
    struct sim_platform_info pi;
    int rc = 0;
    char path[64];
    if (!e->host[0])
        return sim_cfg_err_at(w, VM_EINVAL, "$.host", "expected the datastore's host (a host "
                              "of the platform with a disk, not one of h0..h%u)",
                              c->hosts - 1);
    if (sim_cfg_check_platform(w, e->platform, e->host, e->disk, "$.platform", "$.host",
                               "$.disk", &pi))
        return VM_EINVAL;
    if (sim_ho_host_index(c, e->host) >= 0)
        return sim_cfg_err_at(w, VM_EINVAL, "$.host", "expected a datastore host that is not "
                              "a cluster host (h0..h%u), got '%s'", c->hosts - 1, e->host);
    if (check_cluster_hosts(w, e->platform, c->hosts))
        return VM_EINVAL;
    for (int i = 0; i < e->nr_faults; i++) {
        const struct sim_exp_fault *f = &e->faults[i];
        if (host_kind(f->kind) && check_end(w, e, i, "host", f->host, false))
            rc = VM_EINVAL;
        if (msg_kind(f->kind) && (check_end(w, e, i, "a", f->a, f->kind != SIM_FAULT_PARTITION) ||
                                  check_end(w, e, i, "b", f->b, f->kind != SIM_FAULT_PARTITION)))
            rc = VM_EINVAL;
        uint64_t begin = host_kind(f->kind) ? (f->drawn ? f->from_ns : f->at_ns) : f->from_ns;
        if (begin >= c->duration_ns) {
            snprintf(path, sizeof path, "$.faults[%d].%s", i,
                     host_kind(f->kind) && !f->drawn ? "at" : "from");
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "expected a time within the episode "
                                "(scenario.duration %.9g s), got %.9g s",
                                (double)c->duration_ns / 1e9, (double)begin / 1e9);
        }
    }
    if (check_reboots(w, e))
        rc = VM_EINVAL;
    return rc;
}
