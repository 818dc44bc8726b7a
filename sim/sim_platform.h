/*
 * sim_platform.h - check a SimGrid platform file before any run point
 * loads it, for `vmsim validate` and `vmsim run`.
 */
#ifndef SIM_PLATFORM_H
#define SIM_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "base/vm_err.h"

/* What a platform check found about the host and disk asked for. */
struct sim_platform_info {
    unsigned host_cores;        /* the host's core count */
    uint64_t disk_capacity_bytes;   /* the disk's usable capacity (sim_disk_props) */
    uint64_t host_memory_bytes;     /* the host's <prop id="memory">, 0 when absent */
};

enum sim_platform_part {
    SIM_PLATFORM_FILE,          /* the XML, or a disk's <prop>s in it */
    SIM_PLATFORM_OPTIONS,       /* --cfg= / --log= */
    SIM_PLATFORM_HOST,          /* the host asked for */
    SIM_PLATFORM_DISK,          /* the disk asked for */
};

/*
 * Check a platform file without keeping an engine, as a run point would
 * start: forks a child that initialises SimGrid with sg_args (--cfg=,
 * --log=), loads the platform, checks that `host` (or any host, when "")
 * has a disk called `disk` (or any disk, when "") and that every disk's
 * <prop>s suit the disk model (sim_disk_read_props).  Whatever SimGrid
 * prints or aborts with becomes one line in d.  *part says what the
 * problem is in: the options (SimGrid refused them before reading the
 * platform), the file, the host named, or the disk named.  When it
 * passed, *info (may be NULL) holds the host's cores and the disk's
 * capacity.  With disk NULL, only that `host` (non-empty; or several names
 * separated by commas, each checked) is a host of the
 * platform, with or without a disk: "unknown host 'x' (hosts: a, b)"
 * (part SIM_PLATFORM_HOST) when not.  0, VM_ENOENT,
 * VM_EPARSE (SimGrid could not load it), VM_EINVAL (options, host, disk,
 * props) or VM_ENOMEM.  For `vmsim validate` and `vmsim run`.
 */
int sim_platform_check(const char *path, const char *host, const char *disk,
                       int nr_sg_args, char **sg_args, enum sim_platform_part *part,
                       struct sim_platform_info *info, struct vm_diag *d);

#endif
