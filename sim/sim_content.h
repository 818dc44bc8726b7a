/*
 * sim_content.h - compressed sizes of guest pages, measured with zstd on
 * real sample pages of each content class, not assumed:
 *   zero   - zero-filled pages
 *   text   - English/C text (workloads/content/text.sample)
 *   code   - x86-64 machine code (workloads/content/code.sample)
 *   random - incompressible bytes (a seeded xoshiro stream)
 * For a run of n pages of one class, the size is what zstd (level 1, as
 * the save stream would use) makes of n distinct sample pages compressed
 * as one frame, measured once per (class, n rounded up to a power of two)
 * and cached; a mixed block costs the sum over its classes.  Frames
 * smaller than the 256-page sample are measured on every disjoint group
 * of the sample and averaged; larger frames wrap around the sample.
 * Sizes scale linearly beyond 4096 pages.  If the samples cannot be
 * loaded, sizes are the uncompressed 4096 bytes per page (sim_mem_new
 * calls sim_content_init and fails instead, so a run never sees that).
 */
#ifndef SIM_CONTENT_H
#define SIM_CONTENT_H

#include <stdint.h>

#include "base/vm_err.h"
#include "sim_exp.h"

/* The zstd level of the save stream's sizes (and of the calibrated
 * compression rates, sim_calib.h). */
#define SIM_CONTENT_ZSTD_LEVEL 1
/* Bytes of each class's sample: 256 distinct pages. */
#define SIM_CONTENT_SAMPLE_BYTES (1u << 20)

/* Load the sample files.  The data directory is $VMSIM_DATADIR, else
 * <srcdir>/workloads/content.  0, VM_ENOENT (naming the file), VM_EIO. */
int sim_content_init(struct vm_diag *d);
/* Compressed bytes of `n` pages of class c compressed together. */
uint64_t sim_content_size(int content_class, uint32_t n);
/* Bytes of one page of class c in a frame of n pages (size(c,n)/n, at
 * least 1). */
double sim_content_page_size(int content_class, uint32_t n);
/* The loaded sample of class c (SIM_CONTENT_SAMPLE_BYTES bytes, owned by
 * this module), or NULL before a successful sim_content_init. */
const unsigned char *sim_content_sample(int content_class);

#endif
