/*
 * sim_platform.h - check a SimGrid platform file before any run point
 * loads it, for `vmsim validate` and `vmsim run`.
 */
#ifndef SIM_PLATFORM_H
#define SIM_PLATFORM_H

#include <stdbool.h>

#include "base/vm_err.h"

/*
 * Check a platform file without keeping an engine, as a run point would
 * start: forks a child that initialises SimGrid with sg_args (--cfg=,
 * --log=), loads the platform, checks that `host` (or any host, when "")
 * has a disk called `disk` (or any disk, when "") and that every disk's
 * <prop>s suit the disk model (sim_disk_read_props).  Whatever SimGrid
 * prints or aborts with becomes one line in d.  *in_init is set when
 * SimGrid refused the options before reading the platform.  0, VM_ENOENT,
 * VM_EPARSE (SimGrid could not load it), VM_EINVAL (options, host, disk,
 * props) or VM_ENOMEM.  For `vmsim validate` and `vmsim run`.
 */
int sim_platform_check(const char *path, const char *host, const char *disk,
                       int nr_sg_args, char **sg_args, bool *in_init, struct vm_diag *d);

#endif
