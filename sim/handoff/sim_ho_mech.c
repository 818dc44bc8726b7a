/*
 * sim_ho_mech.c - ownership handoff as a plug-in of the simulator core
 * (struct sim_mech, sim_mech.h): its config sections (cluster, scenario,
 * campaign), the method set (the mechanism and its baselines, each with
 * its parameter table and defaults), the metric and invariant tables,
 * and the finish/check hooks.  The driver is sim_ho.c.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "handoff/sim_ho_int.h"
#include "sim_json.h"
#include "sim_platform.h"

#define TIME_MAX_NS SIM_CFG_TIME_MAX_NS

/* ------------------------------------------------------------ methods */

#define P(field) offsetof(struct ho_params, field)
#define ROW_DS_TIMEOUT                                                                    \
    { "ds_timeout", VM_PARAM_TIME, P(ds_timeout_ns), .min = 1e6, .max = 3600e9, .def = "2s", \
      .help = "a datastore operation's timeout, then it is sent again (below VMFS's 8 s)" }
#define ROW_GIVE_UP                                                                       \
    { "give_up", VM_PARAM_TIME, P(give_up_ns), .min = 1e6, .max = 864000e9, .def = "600s", \
      .help = "a need not met this long after it arose fails" }
#define ROWS_HANDOFF                                                                      \
    { "req_timeout", VM_PARAM_TIME, P(req_timeout_ns), .min = 1e3, .max = 3600e9,           \
      .def = "500ms", .help = "a release request's first timeout (our choice: the patent "  \
      "names none)" },                                                                    \
    { "attempts", VM_PARAM_U32, P(attempts), .min = 1, .max = 100, .def = "3",             \
      .help = "requests to one daemon before asking the next" },                          \
    { "backoff", VM_PARAM_DOUBLE, P(backoff), .min = 1, .max = 100, .def = "2",            \
      .help = "timeout multiplier per retry" },                                           \
    { "relays", VM_PARAM_U32, P(relays), .min = 0, .max = HO_MAX_ACTORS - 1, .def = "2",   \
      .help = "other daemons that can act for the disk asked after the owner" },          \
    { "max_rounds", VM_PARAM_U32, P(max_rounds), .min = 1, .max = 100, .def = "3",         \
      .help = "lost compare-and-writes before the need fails" },                          \
    ROW_DS_TIMEOUT, ROW_GIVE_UP

static const struct vm_param handoff_params[] = { ROWS_HANDOFF, { NULL } };

static const struct vm_param manual_params[] = {
    { "operator_min", VM_PARAM_TIME, P(op_min_ns), .min = 0, .max = 864000e9, .def = "300s",
      .help = "the operator clears the lock after a delay drawn uniformly from "
              "[operator_min, operator_max] (an assumption: a paged on-call operator)" },
    { "operator_max", VM_PARAM_TIME, P(op_max_ns), .min = 0, .max = 864000e9, .def = "1800s",
      .help = "upper end of that delay" },
    { "poll", VM_PARAM_TIME, P(poll_ns), .min = 1e6, .max = 3600e9, .def = "10s",
      .help = "the failed open is retried this often" },
    { "max_rounds", VM_PARAM_U32, P(max_rounds), .min = 1, .max = 100, .def = "3",
      .help = "lost compare-and-writes before the need fails" },
    ROW_DS_TIMEOUT,
    { "give_up", VM_PARAM_TIME, P(give_up_ns), .min = 1e6, .max = 864000e9, .def = "3600s",
      .help = "a need not met this long after it arose fails" },
    { NULL },
};

static const struct vm_param lease_params[] = {
    { "io_timeout", VM_PARAM_TIME, P(io_timeout_ns), .min = 1e6, .max = 3600e9, .def = "10s",
      .help = "sanlock's io_timeout: renewal every 2x, renewal failure at 8x, host dead at "
              "8x + watchdog (src/timeouts.c)" },
    { "watchdog", VM_PARAM_TIME, P(watchdog_ns), .min = 1e6, .max = 3600e9, .def = "60s",
      .help = "wdmd's watchdog fire timeout" },
    { "poll", VM_PARAM_TIME, P(poll_ns), .min = 1e6, .max = 3600e9, .def = "1s",
      .help = "the acquire re-reads the owner's delta lease this often (sanlock: 1 s)" },
    { "max_rounds", VM_PARAM_U32, P(max_rounds), .min = 1, .max = 100, .def = "3",
      .help = "lost acquires before the need fails" },
    ROW_DS_TIMEOUT, ROW_GIVE_UP, { NULL },
};

static const struct vm_param force_params[] = {
    { "max_rounds", VM_PARAM_U32, P(max_rounds), .min = 1, .max = 100, .def = "3",
      .help = "lost compare-and-writes before the need fails (force-fenced; a break "
              "never loses)" },
    ROW_DS_TIMEOUT, ROW_GIVE_UP, { NULL },
};

static const struct sim_policy_info methods[] = {
    { "handoff", "the patent (US9575658): release request to the owner's filter daemon, then "
      "the next daemon that can act for the disk; compare-and-write the new owner; fencing "
      "by generation refuses a presumed-dead owner's late writes", handoff_params, false },
    { "manual", "the open fails until an operator clears the lock (closing a hot-add first)",
      manual_params, false },
    { "lease", "sanlock: delta leases renewed every 20 s; a held lease is taken once its "
      "owner's lease has not changed for 140 s, or by a lease request (power-on, migration) "
      "at the owner's next renewal; the watchdog resets a frozen host",
      lease_params, false },
    { "force", "break the lock at once (no release, no fencing: unsafe)", force_params, false },
    { "force-fenced", "take the lock at once by compare-and-write on the fencing datastore (no "
      "release request): what fencing alone buys", force_params, false },
    { "broken-no-fencing", "test only: handoff on a datastore that does not fence writes",
      handoff_params, true },
};
#define NR_METHODS (int)(sizeof methods / sizeof methods[0])

static bool method_get(int i, struct sim_policy_info *out)
{
    if (i < 0 || i >= NR_METHODS)
        return false;
    *out = methods[i];
    return true;
}

static const struct sim_policy_set method_set = {
    .name = "method",
    .used_by = "variants[].policy",
    .cfg_size = sizeof(struct ho_params),
    .get = method_get,
};

static const struct sim_policy_set *const policy_sets[] = { &method_set, NULL };

static const struct sim_policy_set *variant_set(const cJSON *doc)
{
    (void)doc;
    return &method_set;
}

/* ------------------------------------------------------------ sections */

#define C(field) offsetof(struct sim_ho_cfg, field)

static const struct sim_key cluster_keys[] = {
    SIM_KEY_SCALAR_ROW("hosts", 0, VM_PARAM_U32, C(hosts), 1, SIM_HO_MAX_HOSTS, "8",
                       "hosts h0..h<n-1> of the platform (the datastore is $.host)"),
    SIM_KEY_SCALAR_ROW("disks", 0, VM_PARAM_U32, C(disks), 1, HO_MAX_DISKS, "8",
                       "virtual disks, disk i held at the start on host i mod vm_hosts"),
    SIM_KEY_SCALAR_ROW("vm_hosts", 0, VM_PARAM_U32, C(vm_hosts), 0, SIM_HO_MAX_HOSTS, "0",
                       "the disks are spread over the first vm_hosts hosts (0: all)"),
    SIM_KEY_SCALAR_ROW("daemon_disks", 0, VM_PARAM_U32, C(daemon_disks), 0, HO_MAX_DISKS, "0",
                       "the last n disks are held at the start by a filter daemon outside any "
                       "VM (a backup proxy's hot-add never released), the others by VMs"),
    SIM_KEY_SCALAR_ROW("daemons", 0, VM_PARAM_U32, C(daemons), 0, HO_MAX_ACTORS - 1, "2",
                       "other hosts' filter daemons that can act for a disk (the next hosts)"),
    SIM_KEY_SCALAR_ROW("write_interval", 0, VM_PARAM_TIME, C(write_interval_ns), 1e6,
                       3600e9, "1s", "a holder writes one block this often"),
    SIM_KEY_SCALAR_ROW("blocks", 0, VM_PARAM_U32, C(blocks), 1, 1 << 20, "64",
                       "blocks of a disk the holders write into"),
    SIM_KEY_SCALAR_ROW("write_size", 0, VM_PARAM_SIZE, C(write_bytes), 512, 1 << 24, "4KiB",
                       "a data write on the wire"),
    SIM_KEY_SCALAR_ROW("msg_size", 0, VM_PARAM_SIZE, C(msg_bytes), 64, 1 << 20, "256B",
                       "a control message on the wire (headers included)"),
    SIM_KEY_SCALAR_ROW("ha", 0, VM_PARAM_BOOL, C(ha), 0, 0, "false",
                       "restart the VMs of a host that crashed, or froze for ha_detect, on "
                       "other hosts (vSphere HA)"),
    SIM_KEY_SCALAR_ROW("ha_detect", 0, VM_PARAM_TIME, C(ha_detect_ns), 0, 3600e9, "15s",
                       "host crash (or freeze) to HA restarting its VMs"),
    SIM_KEY_END,
};

#define N(field) offsetof(struct sim_ho_need, field)
static const struct sim_key need_keys[] = {
    SIM_KEY_SCALAR_ROW("at", SIM_KEY_REQ, VM_PARAM_TIME, N(at_ns), 0, TIME_MAX_NS, NULL,
                       "when the need arises, from the episode's start"),
    SIM_KEY_SCALAR_ROW("disk", 0, VM_PARAM_U32, N(disk), 0, HO_MAX_DISKS - 1, "0",
                       "the disk (0..cluster.disks-1)"),
    SIM_KEY_STR_ROW("host", SIM_KEY_REQ, sim_cfg_set_str, N(host), SIM_NAME_MAX,
                    "the host that must open it (a cluster host)"),
    SIM_KEY_ENUM_ROW("reason", 0, N(reason), "restart|power_on|migrate", "restart",
                     "HA restart (a live VM owner refuses), power-on (a daemon holds it), "
                     "migration (the owner's VM releases)"),
    SIM_KEY_END,
};

static int set_needs(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj)
{
    struct sim_ho_cfg *c = obj;
    char got[64];
    if (!cJSON_IsArray(v))
        return sim_cfg_err(w, "expected array of needs, got %s", sim_json_got(v, got, sizeof got));
    int n = cJSON_GetArraySize(v);
    if (n > SIM_HO_MAX_NEEDS)
        return sim_cfg_err(w, "expected at most %d needs, got %d", SIM_HO_MAX_NEEDS, n);
    int i = 0, before = sim_cfg_nr_errors(w);
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        struct sim_ho_need *nd = &c->needs[i];
        size_t mark = sim_cfg_push_index(w, i);
        memset(nd, 0, sizeof *nd);
        sim_cfg_apply_defaults(k->sub, nd);
        if (!cJSON_IsObject(e))
            sim_cfg_err(w, "expected object, got %s", sim_json_got(e, got, sizeof got));
        else
            sim_cfg_walk_object(w, e, k->sub, nd);
        sim_cfg_pop(w, mark);
    }
    c->nr_needs = n;
    return sim_cfg_nr_errors(w) == before ? 0 : VM_EINVAL;
}

static const struct sim_key scenario_keys[] = {
    SIM_KEY_SCALAR_ROW("duration", 0, VM_PARAM_TIME, C(duration_ns), 1e6, TIME_MAX_NS, "300s",
                       "an episode's length"),
    SIM_KEY_ARR_ROW("needs", 0, set_needs, need_keys, NULL,
                    "[{at, disk, host, reason}]: hosts that must open disks"),
    SIM_KEY_END,
};

static const struct sim_key campaign_keys[] = {
    SIM_KEY_SCALAR_ROW("schedules", 0, VM_PARAM_U32, C(schedules), 1, 1000000, "1",
                       "episodes, each with its own random fault schedule"),
    SIM_KEY_SCALAR_ROW("random", 0, VM_PARAM_BOOL, C(random), 0, 0, "false",
                       "draw a fault schedule per episode (besides $.faults)"),
    SIM_KEY_SCALAR_ROW("faults_min", 0, VM_PARAM_U32, C(faults_min), 0, 16, "1",
                       "faults per schedule, at least"),
    SIM_KEY_SCALAR_ROW("faults_max", 0, VM_PARAM_U32, C(faults_max), 0, 16, "4",
                       "faults per schedule, at most"),
    SIM_KEY_SCALAR_ROW("horizon", 0, VM_PARAM_TIME, C(horizon_ns), 1e6, TIME_MAX_NS, "60s",
                       "faults begin in [0, horizon)"),
    SIM_KEY_SCALAR_ROW("down_min", 0, VM_PARAM_TIME, C(down_min_ns), 0, TIME_MAX_NS, "5s",
                       "a crashed host or daemon stays down at least"),
    SIM_KEY_SCALAR_ROW("down_max", 0, VM_PARAM_TIME, C(down_max_ns), 0, TIME_MAX_NS, "120s",
                       "... at most"),
    SIM_KEY_SCALAR_ROW("pause_min", 0, VM_PARAM_TIME, C(pause_min_ns), 1e6, TIME_MAX_NS, "1s",
                       "a host freezes at least"),
    SIM_KEY_SCALAR_ROW("pause_max", 0, VM_PARAM_TIME, C(pause_max_ns), 1e6, TIME_MAX_NS,
                       "200s", "... at most"),
    SIM_KEY_SCALAR_ROW("cut_min", 0, VM_PARAM_TIME, C(cut_min_ns), 1e6, TIME_MAX_NS, "1s",
                       "a partition lasts at least"),
    SIM_KEY_SCALAR_ROW("cut_max", 0, VM_PARAM_TIME, C(cut_max_ns), 1e6, TIME_MAX_NS, "200s",
                       "... at most"),
    SIM_KEY_SCALAR_ROW("loss_max", 0, VM_PARAM_DOUBLE, C(loss_max), 0, 1, "0.5",
                       "message loss probability, at most"),
    SIM_KEY_SCALAR_ROW("delay_max", 0, VM_PARAM_TIME, C(delay_max_ns), 1e3, TIME_MAX_NS,
                       "5s", "extra message delay, at most"),
    SIM_KEY_SCALAR_ROW("slow_max", 0, VM_PARAM_DOUBLE, C(slow_max), 1, 1e6, "100",
                       "datastore slow-down factor, at most"),
    SIM_KEY_END,
};

static const struct sim_key sections[] = {
    SIM_KEY_OBJ_ROW("cluster", SIM_KEY_DEFAULTS, sim_cfg_set_object, 0, cluster_keys, NULL,
                    "the hosts, the disks and who holds them"),
    SIM_KEY_OBJ_ROW("scenario", SIM_KEY_DEFAULTS, sim_cfg_set_object, 0, scenario_keys, NULL,
                    "what happens in an episode"),
    SIM_KEY_OBJ_ROW("campaign", SIM_KEY_DEFAULTS, sim_cfg_set_object, 0, campaign_keys, NULL,
                    "many episodes under random fault schedules (Jepsen style)"),
    SIM_KEY_END,
};

/* ------------------------------------------------------------ checks */

int sim_ho_host_index(const struct sim_ho_cfg *c, const char *s)
{
    if (s[0] != 'h' || !s[1])
        return -1;
    unsigned v = 0;
    for (const char *p = s + 1; *p; p++) {
        if (*p < '0' || *p > '9' || v > 100000 || (p == s + 1 && *p == '0' && p[1]))
            return -1;
        v = v * 10 + (unsigned)(*p - '0');
    }
    return v < c->hosts ? (int)v : -1;
}

static int finish(struct sim_cfg_walk *w, void *cfg)
{
    struct sim_ho_cfg *c = cfg;
    int rc = 0;
    char path[64];
    if (c->vm_hosts > c->hosts)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.cluster.vm_hosts", "expected at most "
                            "cluster.hosts (%u), got %u", c->hosts, c->vm_hosts);
    if (c->daemons >= c->hosts && c->daemons > 0)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.cluster.daemons", "expected fewer than "
                            "cluster.hosts (%u), got %u", c->hosts, c->daemons);
    if (c->daemon_disks > c->disks)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.cluster.daemon_disks", "expected at most "
                            "cluster.disks (%u), got %u", c->disks, c->daemon_disks);
    for (int i = 0; i < c->nr_needs; i++) {
        const struct sim_ho_need *n = &c->needs[i];
        if (n->disk >= c->disks) {
            snprintf(path, sizeof path, "$.scenario.needs[%d].disk", i);
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "unknown disk %u (the cluster has disks "
                                "0..%u)", n->disk, c->disks - 1);
        }
        if (sim_ho_host_index(c, n->host) < 0) {
            snprintf(path, sizeof path, "$.scenario.needs[%d].host", i);
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "unknown host '%s' (the cluster's hosts "
                                "are h0..h%u)", n->host, c->hosts - 1);
        }
        if (n->at_ns >= c->duration_ns) {
            snprintf(path, sizeof path, "$.scenario.needs[%d].at", i);
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "expected a time within the episode "
                                "(scenario.duration), got one at or after its end");
        }
    }
    if (c->faults_min > c->faults_max)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.campaign.faults_max", "expected at least "
                            "faults_min (%u), got %u", c->faults_min, c->faults_max);
    if (c->down_min_ns > c->down_max_ns)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.campaign.down_max", "expected at least down_min");
    if (c->pause_min_ns > c->pause_max_ns)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.campaign.pause_max", "expected at least pause_min");
    if (c->cut_min_ns > c->cut_max_ns)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.campaign.cut_max", "expected at least cut_min");
    if (c->horizon_ns > c->duration_ns)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.campaign.horizon", "expected at most "
                            "scenario.duration");
    return rc;
}

/* ------------------------------------------------------------ results */

static const struct sim_metric_def metrics[SIM_HO_M_NR] = {
#define X(id, nm, un, hi, ds) [SIM_HO_M_##id] = { .name = nm, .unit = un, \
                                                   .higher_is_better = hi, .desc = ds },
    SIM_HO_METRICS(X)
#undef X
};

static const struct sim_inv_def invariants[SIM_HO_INV_NR] = {
#define X(id, nm, bad, ds) [SIM_HO_INV_##id] = { .name = nm, .is_violation = bad, .desc = ds },
    SIM_HO_INVARIANTS(X)
#undef X
};

const struct sim_mech sim_ho_mech = {
    .name = "handoff",
    .summary = "hand a virtual disk's ownership to another host by asking the owner's IO "
               "filter daemon to release it (US9575658), against manual unlock, sanlock "
               "leases and a forced lock break, under crashes, pauses and partitions",
    .notes = "  Safety is checked at the datastore: at most one writer per disk, no\n"
             "  acknowledged write overwritten by a stale session, one owner per lock\n"
             "  generation.  'force' is unsafe by design: its violations are figures;\n"
             "  for the other methods a violation fails the run.\n",
    .sections = sections,
    .cfg_size = sizeof(struct sim_ho_cfg),
    .policy_sets = policy_sets,
    .variant_set = variant_set,
    .finish = finish,
    .check = sim_ho_check,
    .metrics = metrics,
    .nr_metrics = SIM_HO_M_NR,
    .invariants = invariants,
    .nr_invariants = SIM_HO_INV_NR,
    .run = sim_ho_run,
    .fault_kinds = SIM_FAULT_HOST_KINDS | SIM_FAULT_MSG_KINDS | SIM_FAULT_BIT(SIM_FAULT_DISK_SLOW),
};
