/*
 * sim_pf_mech.c - the prefault mechanism as a plug-in of the simulator
 * core (struct sim_mech, sim_mech.h): its config sections, the policy set
 * (models/prefault/ registry), metric and invariant tables, and the
 * finish/check hooks.  The driver is sim_pf.c.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/vm_units.h"
#include "hostmem/hostmem.h"
#include "prefault/sim_pf.h"
#include "sim_cfg_vm.h"
#include "sim_platform.h"

#define TIME_MAX_NS SIM_CFG_TIME_MAX_NS

/* ------------------------------------------------------------ policies */

static bool policy_get(int i, struct sim_policy_info *out)
{
    for (int j = 0; j <= i; j++)
        if (!prefault_policies[j])
            return false;
    const struct prefault_policy *p = prefault_policies[i];
    *out = (struct sim_policy_info){ .name = p->name, .desc = p->desc, .params = p->params,
                                     .hidden = (p->flags & PREFAULT_F_HIDDEN) != 0 };
    return true;
}

static const struct sim_policy_set policy_set = {
    .name = "prefetch",
    .used_by = "variants[].policy",
    .cfg_size = sizeof(struct prefault_cfg),
    .get = policy_get,
};

static const struct sim_policy_set *const policy_sets[] = { &policy_set, NULL };

static const struct sim_policy_set *variant_set(const cJSON *doc)
{
    (void)doc;
    return &policy_set;
}

/* ------------------------------------------------------------ sections */

#define C(field) offsetof(struct sim_pf_cfg, field)
#define K(field) (offsetof(struct sim_pf_cfg, costs) + offsetof(struct sim_pf_costs, field))

/* uffd_fault and install: workloads/costs/calibration.json (AMD EPYC, 2
 * cores, Linux 6.18.44, 2026-11-30T02:44:54Z): wp_fault_ns, a userfaultfd
 * fault round trip (fault, handler thread woken, ioctl, vCPU woken), and
 * page_install_ns; kernel_fault: its anon_fault_ns (first write to a page
 * of a fresh anonymous mapping: the kernel's fault path without I/O, page
 * zeroing included; measured later on the same machine, a VM whose
 * nested paging makes every fault dear: bare metal is about 1 us).  walk_entry:
 * bench/bench_guest on the same machine, 24.5 M four-level walks/s, about
 * 10 ns per entry read.  decode is an estimate, not measured (KVM's
 * emulator fetching and decoding one instruction). */
static const struct sim_key cost_keys[] = {
    SIM_KEY_SCALAR_ROW("uffd_fault", 0, VM_PARAM_TIME, K(uffd_fault_ns), 0, 1e9, "23.515us",
                       "a fault's round trip through a user-space handler: post-copy and "
                       "resume (wp_fault_ns)"),
    SIM_KEY_SCALAR_ROW("kernel_fault", 0, VM_PARAM_TIME, K(kernel_fault_ns), 0, 1e9, "14.651us",
                       "a fault the host kernel serves without I/O: host swap-in's path, a "
                       "swap-cache hit, mapping an installed page (anon_fault_ns)"),
    SIM_KEY_SCALAR_ROW("decode", 0, VM_PARAM_TIME, K(decode_ns), 0, 1e9, "2us",
                       "decode the faulting instruction to find its GVA (estimate)"),
    SIM_KEY_SCALAR_ROW("walk_entry", 0, VM_PARAM_TIME, K(walk_entry_ns), 0, 1e9, "10ns",
                       "read one guest page-table entry (bench_guest)"),
    SIM_KEY_SCALAR_ROW("install", 0, VM_PARAM_TIME, K(install_ns), 0, 1e9, "497ns",
                       "install one 4 KiB page (page_install_ns)"),
    SIM_KEY_END,
};

static const struct sim_key swap_keys[] = {
    SIM_KEY_SCALAR_ROW("memory_fraction", 0, VM_PARAM_DOUBLE, C(memory_fraction), 0.01, 1,
                       "0.5", "host memory for the guest, as a fraction of its working set"),
    SIM_KEY_SCALAR_ROW("host_memory", 0, VM_PARAM_SIZE, C(host_memory_bytes), 0,
                       1ull << 50, "0", "host memory for the guest in bytes (0: the fraction)"),
    /* reclaim: models/hostmem/hostmem.h "Reclaim".  min_free_kbytes 0 is
     * Linux's default for the host memory (mm/page_alloc.c
     * calculate_min_free_kbytes: int_sqrt(KiB * 16), 128..262144);
     * watermark_scale_factor's range and default are its sysctl's
     * (vm.watermark_scale_factor, 1..3000, 10) */
    SIM_KEY_ENUM_ROW("reclaim", 0, C(reclaim), "memcg|kswapd", "memcg",
                     "who makes room: memcg, a hard limit whose faults evict and wait for "
                     "the write-back (memory.max), or kswapd, a host whose RAM is the host "
                     "memory: background reclaim between Linux's zone watermarks"),
    SIM_KEY_SCALAR_ROW("min_free_kbytes", 0, VM_PARAM_U64, C(min_free_kbytes), 0, 262144, "0",
                       "reclaim kswapd: vm.min_free_kbytes, KiB (0: Linux's default for the "
                       "host memory, sqrt(KiB x 16) clamped to 128..262144)"),
    SIM_KEY_SCALAR_ROW("watermark_scale_factor", 0, VM_PARAM_U32, C(watermark_scale_factor),
                       1, 3000, "10", "reclaim kswapd: vm.watermark_scale_factor, in "
                       "1/10000 of the host memory between the watermarks (Linux's 10)"),
    SIM_KEY_END,
};

static const struct sim_key resume_keys[] = {
    SIM_KEY_ENUM_ROW("image_order", 0, C(image_order), "gpa|gva", "gpa",
                     "suspend image in guest-physical order, or guest-virtual order "
                     "(US9086981's suspend claim)"),
    SIM_KEY_END,
};

static const struct sim_key postcopy_keys[] = {
    SIM_KEY_STR_ROW("source", 0, sim_cfg_set_str, C(source), SIM_NAME_MAX,
                    "the source host in the platform"),
    SIM_KEY_SCALAR_ROW("push", 0, VM_PARAM_BOOL, C(push), 0, 0, "true",
                       "the source pushes the pages not requested, in the background"),
    SIM_KEY_SCALAR_ROW("preempt", 0, VM_PARAM_BOOL, C(preempt), 0, 0, "true",
                       "the push goes on from just after the last requested page "
                       "(QEMU's postcopy page requests reorder the stream)"),
    SIM_KEY_SCALAR_ROW("push_pages", 0, VM_PARAM_U32, C(push_pages), 1, 4096, "64",
                       "pages per push message"),
    /* Under the run point's network faults (sim_pf_net.c).  rto: Linux's
     * TCP_RTO_MIN (HZ/5, include/net/tcp.h), the floor a LAN path's
     * timeout sits on (__tcp_set_rto: srtt + rttvar, rttvar >= rto_min;
     * the 50 us srtt of a rack is left out); rto_max: TCP_RTO_MAX, the
     * ceiling of the doubling in tcp_retransmit_timer (net/ipv4/
     * tcp_timer.c).  tcp_timeout: when a socket with unacked data fails
     * (tcp_write_timeout -> retransmits_timed_out with tcp_retries2 15
     * and rto_base TCP_RTO_MIN: 0.2 s x (2^10 - 1) + 6 x 120 s = 924.6 s);
     * QEMU sets no TCP_USER_TIMEOUT, and keepalive (only with the
     * address's keep-alive=on, util/qemu-sockets.c) does not fire with
     * data outstanding; the channel's error is what pauses post-copy
     * (migration_detect_error -> postcopy_pause, migration/migration.c;
     * postcopy_pause_incoming, migration/savevm.c).  pause_after: a
     * management tool that calls migrate-pause (QMP, qapi/migration.json)
     * that long after a partition starts; the default, one day (the
     * faults' limit), is none: TCP's timeout decides.  recover: an
     * estimate, not a measurement: the management's migrate-recover on
     * the destination and migrate resume=true on the source, the new
     * connection and the handshake that sends the received-page bitmap
     * (32 KiB for 1 GiB: 26 us on 10 GbE); the management's reaction
     * time dominates and is not published.  Sweep it.  loss_unit
     * segment: a link loses packets; message (a whole message lost at
     * once) is a stress model. */
    SIM_KEY_SCALAR_ROW("rto", 0, VM_PARAM_TIME, C(rto_ns), 1000, TIME_MAX_NS, "200ms",
                       "network faults: TCP's retransmission timeout of a lost message "
                       "(Linux TCP_RTO_MIN)"),
    SIM_KEY_SCALAR_ROW("rto_max", 0, VM_PARAM_TIME, C(rto_max_ns), 1000, TIME_MAX_NS, "120s",
                       "network faults: the timeout's ceiling as it doubles for a message "
                       "lost again (Linux TCP_RTO_MAX)"),
    SIM_KEY_SCALAR_ROW("tcp_timeout", 0, VM_PARAM_TIME, C(tcp_timeout_ns), 1000, TIME_MAX_NS,
                       "924.6s", "network faults: a socket with unacked data fails after "
                       "retransmitting this long (Linux tcp_retries2 15), and post-copy "
                       "pauses (postcopy-paused) until the link is back"),
    SIM_KEY_SCALAR_ROW("pause_after", 0, VM_PARAM_TIME, C(pause_after_ns), 0, TIME_MAX_NS,
                       "86400s", "network faults: a management tool calls migrate-pause "
                       "this long after a partition starts (0: at once; the default, one "
                       "day: no such tool, TCP's timeout decides)"),
    SIM_KEY_SCALAR_ROW("recover", 0, VM_PARAM_TIME, C(recover_ns), 0, TIME_MAX_NS, "1s",
                       "network faults: from the partition's end to post-copy running again "
                       "(migrate-recover, migrate resume; an estimate)"),
    SIM_KEY_ENUM_ROW("loss_unit", 0, C(loss_unit), "message|segment", "segment",
                     "network faults: msg_loss's p is per TCP segment of 1448 bytes, as a "
                     "link loses them, or per whole message (a stress model)"),
    SIM_KEY_END,
};

static const struct sim_key sections[] = {
    SIM_KEY_ENUM_ROW("scenario", 0, C(scenario), "swap|postcopy|resume", "swap",
                     "where absent pages are: host swap, the migration source, a suspend image"),
    SIM_CFG_VM_ROW(C(vm)),
    SIM_CFG_WORKLOAD_ROW(C(workload)),
    SIM_KEY_OBJ_ROW("costs", SIM_KEY_DEFAULTS, sim_cfg_set_object, 0, cost_keys, NULL,
                    "CPU costs charged per fault, decode, walk and install"),
    SIM_KEY_OBJ_ROW("swap", SIM_KEY_DEFAULTS, sim_cfg_set_object, 0, swap_keys, NULL,
                    "scenario swap: host memory smaller than the guest"),
    SIM_KEY_OBJ_ROW("resume", SIM_KEY_DEFAULTS, sim_cfg_set_object, 0, resume_keys, NULL,
                    "scenario resume: the suspend image"),
    SIM_KEY_OBJ_ROW("postcopy", SIM_KEY_DEFAULTS, sim_cfg_set_object, 0, postcopy_keys, NULL,
                    "scenario postcopy: the source and the background push"),
    SIM_KEY_SCALAR_ROW("max_io", 0, VM_PARAM_SIZE, C(max_io_bytes), 4096, 64 << 20, "1MiB",
                       "largest read I/O (the queue's max_sectors_kb)"),
    SIM_KEY_SCALAR_ROW("ttr_window", 0, VM_PARAM_TIME, C(ttr_window_ns), 1000, TIME_MAX_NS,
                       "1ms", "window for time to responsiveness (its resolution)"),
    SIM_KEY_SCALAR_ROW("ttr_stall", 0, VM_PARAM_DOUBLE, C(ttr_stall), 0, 1, "0.1",
                       "stall share a responsive window may have"),
    SIM_KEY_END,
};

static int finish(struct sim_cfg_walk *w, void *cfg)
{
    struct sim_pf_cfg *c = cfg;
    int rc = sim_cfg_workload_finish(w, "$.workload", &c->vm, &c->workload);
    if (c->host_memory_bytes > c->vm.memory_bytes) {
        char h[32], g[32];
        vm_units_fmt_size(c->host_memory_bytes, h, sizeof h);
        vm_units_fmt_size(c->vm.memory_bytes, g, sizeof g);
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.swap.host_memory", "expected at most the guest's "
                            "memory (%s), got %s: with more host memory nothing is swapped",
                            g, h);
    }
    /* the watermarks are kswapd's: under memcg they would be ignored */
    if (c->reclaim != HOSTMEM_RECLAIM_KSWAPD && c->min_free_kbytes)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.swap.min_free_kbytes", "a watermark of reclaim "
                            "kswapd: expected swap.reclaim \"kswapd\" with it, got memcg");
    if (c->reclaim != HOSTMEM_RECLAIM_KSWAPD &&
        c->watermark_scale_factor != HOSTMEM_WMARK_SCALE_DEFAULT)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.swap.watermark_scale_factor", "a watermark of "
                            "reclaim kswapd: expected swap.reclaim \"kswapd\" with it, got "
                            "memcg");
    if (c->reclaim == HOSTMEM_RECLAIM_KSWAPD && c->host_memory_bytes) {
        /* with a size (not a fraction) the watermarks are known now */
        struct hostmem_wmarks wm;
        uint64_t pages = c->host_memory_bytes / VM_PAGE_SIZE;
        hostmem_wmarks_calc(pages, c->min_free_kbytes, c->watermark_scale_factor, &wm);
        if (wm.high >= pages)
            rc = sim_cfg_err_at(w, VM_EINVAL, "$.swap.min_free_kbytes", "expected watermarks "
                                "below the host memory (%llu pages), got a high watermark "
                                "of %llu pages: lower swap.min_free_kbytes or "
                                "swap.watermark_scale_factor", (unsigned long long)pages,
                                (unsigned long long)wm.high);
    }
    if (c->scenario == SIM_PF_POSTCOPY && !c->source[0])
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.postcopy.source",
                            "scenario postcopy needs the source host's name");
    if (c->rto_max_ns < c->rto_ns)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.postcopy.rto_max", "expected at least "
                            "postcopy.rto (%.9g s), got %.9g s", (double)c->rto_ns / 1e9,
                            (double)c->rto_max_ns / 1e9);
    if (c->tcp_timeout_ns < c->rto_ns)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.postcopy.tcp_timeout", "expected at least "
                            "postcopy.rto (%.9g s): a socket fails after retransmitting, "
                            "got %.9g s", (double)c->rto_ns / 1e9,
                            (double)c->tcp_timeout_ns / 1e9);
    return rc;
}

static const char *const scenario_names[] = { "swap", "postcopy", "resume" };

/* One end of a network fault: "" (any host, msg_loss and msg_delay only)
 * or one of the post-copy link's two hosts; another host of the platform
 * would never match and the fault would be silently ignored. */
static int check_end(struct sim_cfg_walk *w, const struct sim_exp *e, int i, const char *key,
                     const char *host)
{
    const struct sim_pf_cfg *c = e->mech_cfg;
    if (!host[0] || strcmp(host, e->host) == 0 || strcmp(host, c->source) == 0)
        return 0;
    char path[64];
    snprintf(path, sizeof path, "$.faults[%d].%s", i, key);
    /* a host the platform lacks: the core's line (the same, so not repeated) */
    if (sim_cfg_check_host(w, e->platform, host, path))
        return VM_EINVAL;
    return sim_cfg_err_at(w, VM_EINVAL, path, "expected one of the post-copy link's hosts "
                          "('%s', the destination, or '%s', the source), got '%s'", e->host,
                          c->source, host);
}

/* The run point's faults act on post-copy's link only (sim_pf_net.c). */
static int check_faults(struct sim_cfg_walk *w, const struct sim_exp *e)
{
    const struct sim_pf_cfg *c = e->mech_cfg;
    int rc = 0;
    char path[64];
    for (int i = 0; i < e->nr_faults; i++) {
        const struct sim_exp_fault *f = &e->faults[i];
        if (c->scenario != SIM_PF_POSTCOPY) {
            snprintf(path, sizeof path, "$.faults[%d].kind", i);
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "%s faults act on the post-copy link: "
                                "expected scenario postcopy, got %s (it has no network)",
                                sim_fault_kind_name(f->kind), scenario_names[c->scenario]);
            continue;
        }
        if (!e->host[0]) {
            rc = sim_cfg_err_at(w, VM_EINVAL, "$.host", "network faults on the post-copy "
                                "link need the destination host named");
            break;
        }
        if (check_end(w, e, i, "a", f->a) || check_end(w, e, i, "b", f->b))
            rc = VM_EINVAL;
        if (f->until_ns != UINT64_MAX)
            continue;
        snprintf(path, sizeof path, "$.faults[%d]", i);
        if (f->kind == SIM_FAULT_PARTITION)
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "expected an 'until' for a partition of "
                                "the post-copy link: post-copy stays paused until the link "
                                "is back");
        else if (f->kind == SIM_FAULT_MSG_LOSS && f->p >= 1)
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "expected an 'until' for msg_loss with "
                                "p 1: TCP would never deliver a message (a partition "
                                "pauses post-copy instead)");
    }
    return rc;
}

static int check(struct sim_cfg_walk *w, const struct sim_exp *e)
{
    const struct sim_pf_cfg *c = e->mech_cfg;
    int rc = sim_cfg_workload_check(w, "$.workload", &c->vm, &c->workload);
    if (!c->workload.is_trace)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.workload", "the prefault mechanism replays "
                            "memory traces (kind \"trace\"): a policy needs guest-virtual "
                            "addresses");
    struct sim_platform_info pi;
    if (sim_cfg_check_platform(w, e->platform, e->host, e->disk, "$.platform", "$.host",
                               "$.disk", &pi) == 0 && c->scenario == SIM_PF_POSTCOPY &&
        sim_cfg_check_platform(w, e->platform, c->source, e->disk, "$.platform",
                               "$.postcopy.source", "$.disk", NULL))
        rc = VM_EINVAL;
    if (check_faults(w, e))
        rc = VM_EINVAL;
    return rc;
}

/* ------------------------------------------------------------ results */

static const struct sim_metric_def metrics[SIM_PF_M_NR] = {
#define X(id, nm, un, hi, ds) [SIM_PF_M_##id] = { .name = nm, .unit = un, \
                                                   .higher_is_better = hi, .desc = ds },
    SIM_PF_METRICS(X)
#undef X
};

static const struct sim_inv_def invariants[SIM_PF_INV_NR] = {
#define X(id, nm, bad, ds) [SIM_PF_INV_##id] = { .name = nm, .is_violation = bad, .desc = ds },
    SIM_PF_INVARIANTS(X)
#undef X
};

const struct sim_mech sim_pf_mech = {
    .name = "prefault",
    .summary = "on a fault for an absent guest page, bring in its guest-virtual neighbours "
               "(US9086981/US9454489); swap-in, post-copy, resume",
    .sections = sections,
    .cfg_size = sizeof(struct sim_pf_cfg),
    .policy_sets = policy_sets,
    .variant_set = variant_set,
    .finish = finish,
    .check = check,
    /* network faults on the post-copy link (sim_pf_net.c); check_faults
     * refuses them for the scenarios without a network */
    .fault_kinds = SIM_FAULT_MSG_KINDS,
    .metrics = metrics,
    .nr_metrics = SIM_PF_M_NR,
    .invariants = invariants,
    .nr_invariants = SIM_PF_INV_NR,
    .run = sim_pf_run,
};
