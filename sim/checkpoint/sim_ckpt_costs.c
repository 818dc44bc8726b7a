/*
 * sim_ckpt_costs.c - the checkpoint mechanism's "costs" config section:
 * the CPU costs the driver charges for the work policies count (copies,
 * compression, trace faults, installs), given inline, by a costs file
 * that `vmsim calibrate -o` wrote on a real machine, or both; inline
 * values win (sim_ckpt.h says how the figures map).
 *
 * The defaults are figures of workloads/costs/calibration.json, the
 * calibration shipped with vmsim, copied here rather than read at run
 * time: a config without "costs" then reads no file, works from any
 * directory and gives the same bytes on every machine;
 * tests/check_calibrate.c fails when this table and the file disagree.
 */
#include <math.h>
#include <stddef.h>

#include "checkpoint/sim_ckpt_costs.h"
#include "sim_content.h"
#include "sim_exp.h"
#include "sim_json.h"

#define K(field) offsetof(struct sim_ckpt_costs, field)
/* Measured defaults: workloads/costs/calibration.json (AMD EPYC, 2 cores,
 * Linux 6.18.44, 2026-11-30T02:44:54Z, userfaultfd-wp, AVX2 zero test), through
 * sim_ckpt_costs_from_calib; trace_arm and device_state are estimates. */
const struct sim_key sim_ckpt_cost_keys[] = {
    SIM_KEY_STR_ROW("file", 0, sim_cfg_set_skip, 0, SIM_PATH_MAX,
                    "costs file of vmsim calibrate -o; the keys given here win"),
    SIM_KEY_SCALAR_ROW("trace_fault", 0, VM_PARAM_TIME, K(trace_fault_ns), 0, 1e9, "23.515us",
                       "write-protect fault round trip per trace fault (wp_fault_ns)"),
    SIM_KEY_SCALAR_ROW("page_copy", 0, VM_PARAM_TIME, K(page_copy_ns), 0, 1e9, "521ns",
                       "copy one 4 KiB page (page_copy_ns)"),
    SIM_KEY_SCALAR_ROW("compress", 0, VM_PARAM_RATE, K(compress_bps), 1, 1e15,
                       "875.787907MB/s",
                       "compressor input rate, one core (compress_bps: mix, level 1)"),
    SIM_KEY_SCALAR_ROW("decompress", 0, VM_PARAM_RATE, K(decompress_bps), 1, 1e15,
                       "3722.157943MB/s",
                       "decompressor output rate (decompress_bps: mix, level 1)"),
    SIM_KEY_SCALAR_ROW("trace_arm", 0, VM_PARAM_TIME, K(trace_arm_ns), 0, 1e9, "2ns",
                       "arming write tracking, per page, in the start stun (not measured)"),
    SIM_KEY_SCALAR_ROW("device_state", 0, VM_PARAM_TIME, K(device_state_ns), 0, 3600e9, "5ms",
                       "device state save, in the start stun (not measured)"),
    SIM_KEY_SCALAR_ROW("page_install", 0, VM_PARAM_TIME, K(page_install_ns), 0, 1e9, "497ns",
                       "restore: install one page (page_install_ns)"),
    SIM_KEY_SCALAR_ROW("zero_scan", 0, VM_PARAM_TIME, K(zero_scan_ns), 0, 1e9, "517ns",
                       "scan a 4 KiB zero page (zero_scan_ns): per zero page a saver finds"),
    SIM_KEY_SCALAR_ROW("unprotect", 0, VM_PARAM_TIME, K(unprotect_ns), 0, 1e9, "6482ns",
                       "remove one page's write protection after saving it, no fault "
                       "pending (wp_unprotect_ns): bgsnap's saver, per page"),
    SIM_KEY_SCALAR_ROW("stream_write", 0, VM_PARAM_TIME, K(stream_write_ns), 0, 1e9, "2989ns",
                       "write() one saved page's record into the page cache "
                       "(small_write_ns): bgsnap, per page saved"),
    SIM_KEY_END,
};

static uint64_t ns_of(double v)
{
    return (uint64_t)llround(v);
}

static double bps_of(double v)
{
    double r = round(v);
    return r < 1 ? 1 : r;               /* the keys' minimum: a rate is never 0 */
}

void sim_ckpt_costs_from_calib(const struct sim_calib *c, struct sim_ckpt_costs *costs)
{
    int l = sim_calib_level_index(c, SIM_CONTENT_ZSTD_LEVEL);
    costs->page_copy_ns = ns_of(c->page_copy_ns.median);
    costs->trace_fault_ns = ns_of(c->wp_fault_ns.median);
    costs->page_install_ns = ns_of(c->page_install_ns.median);
    costs->zero_scan_ns = ns_of(c->zero_scan_ns.median);
    costs->unprotect_ns = ns_of(c->wp_unprotect_ns.median);
    costs->stream_write_ns = ns_of(c->small_write_ns.median);
    if (l >= 0) {                       /* sim_calib_from_json made sure it is */
        costs->compress_bps = bps_of(c->compress_bps[l][SIM_CALIB_MIX].median);
        costs->decompress_bps = bps_of(c->decompress_bps[l][SIM_CALIB_MIX].median);
    }
}

/* The costs file named by v (a string at the walk's current path) into costs. */
static int load_file(struct sim_cfg_walk *w, const cJSON *v, void *arg)
{
    struct sim_ckpt_costs *costs = arg;
    char path[SIM_PATH_MAX];
    const struct sim_key pk = { .name = "file", .len = sizeof path };
    if (sim_cfg_set_path(w, &pk, v, path) != 0)
        return VM_EINVAL;               /* reported: not a readable file */
    struct sim_calib c;
    struct vm_diag d = { 0 };
    if (sim_calib_load(path, &c, &d) != 0)
        return sim_cfg_err(w, "%s", d.msg);
    sim_ckpt_costs_from_calib(&c, costs);
    return 0;
}

int sim_ckpt_costs_set(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v,
                       void *obj)
{
    return sim_cfg_set_costs(w, k, v, (char *)obj + k->p.off, load_file);
}
