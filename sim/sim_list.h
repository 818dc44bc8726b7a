/*
 * sim_list.h - `vmsim list [MECHANISM]`: what the registered mechanisms
 * declare, printed from their tables (struct sim_mech): per mechanism its
 * policy sets with each policy's parameters and defaults, its config
 * sections, its metrics and its invariants; then the core's keys, the
 * workloads and the traces shipped in the source tree.
 */
#ifndef SIM_LIST_H
#define SIM_LIST_H

#include <stdio.h>

#include "base/vm_err.h"
#include "sim_mech.h"

/* Print everything (name NULL) or one mechanism to f.  traces_dir: the
 * folder whose traces to list (NULL: none).  0, or VM_ENOENT with "unknown
 * mechanism 'x' (did you mean ...)" in d. */
int sim_list_print(FILE *f, const char *name, const char *traces_dir, struct vm_diag *d);

/* One mechanism's part of the listing. */
void sim_list_mech(FILE *f, const struct sim_mech *m);

#endif
