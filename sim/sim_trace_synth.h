/*
 * sim_trace_synth.h - synthetic guest-virtual memory traces: `vmsim trace
 * synth` writes a vmsim pagetrace v1 file (workloads/traces/README.md) of a
 * synthetic access pattern over one process's virtual address space, so
 * a mechanism can replay textbook patterns through the guest page tables
 * next to the recorded traces.
 *
 * The data region is nr_pages 4 KiB pages from base_addr (a heap/mmap
 * address, default 0x7f0000000000).  Patterns, each over that region:
 *   sequential  a scan, page after page, wrapping at the end
 *   strided     a scan stride_pages apart; each pass starts one page
 *               further, so every page is visited (sim_workload.c's rule)
 *   chase       pointer chasing through a linked list whose nodes sit one
 *               per page in a seeded random permutation of the region
 *               (Fisher-Yates): each lap visits every page once, in the
 *               list's order, as a walk over randomly allocated nodes does
 *   zipf        Zipf(zipf_s) popularity, rank 0 the most popular; ranks
 *               scattered over the region by the keyed bijection of
 *               sim_workload.c
 *   uniform     pages drawn uniformly
 * sequential, strided, zipf and uniform are exactly the page sequences of
 * the simulator's synthetic workloads (sim_workload.h) for the same seed
 * and footprint, shifted to base_addr.  Each data record is a W with
 * probability write_fraction (a stream of its own: the pages do not change
 * with it), else an R.  With nr_code_pages > 0, an X record on the next
 * page of a code region at SIM_TRACE_SYNTH_CODE_ADDR (cycling through its
 * pages) comes first and again after every code_every data records, as a
 * loop's instruction fetches show in a reduced trace.  Every record stands
 * for `count` raw accesses (the pagetrace count field).
 *
 * Output: a header naming the generator and every parameter, the records,
 * and the trailer (truncated=no).  Same configuration, same bytes: gzip
 * output (path ending in .gz, level 9) has mtime 0 and no file name in its
 * header.  The file is written under a temporary name in the same
 * directory and renamed; nothing is left on failure or when the process
 * is killed by SIGINT/SIGTERM/SIGHUP/SIGPIPE (sim_tempfile.h).
 */
#ifndef SIM_TRACE_SYNTH_H
#define SIM_TRACE_SYNTH_H

#include <stdint.h>

#include "base/vm_err.h"

enum sim_trace_synth_pattern {
    SIM_TRACE_SYNTH_SEQUENTIAL,
    SIM_TRACE_SYNTH_STRIDED,
    SIM_TRACE_SYNTH_CHASE,
    SIM_TRACE_SYNTH_ZIPF,
    SIM_TRACE_SYNTH_UNIFORM,
    SIM_TRACE_SYNTH_NR_PATTERNS
};

#define SIM_TRACE_SYNTH_BASE_ADDR UINT64_C(0x7f0000000000)  /* default data region */
#define SIM_TRACE_SYNTH_CODE_ADDR UINT64_C(0x400000)        /* x86-64 non-PIE text */
#define SIM_TRACE_SYNTH_VA_END (UINT64_C(1) << 47)          /* canonical lower half, 4-level */

struct sim_trace_synth_cfg {
    enum sim_trace_synth_pattern pattern;
    uint64_t nr_pages;          /* data region (footprint), >= 1 */
    uint64_t nr_records;        /* records in the file, X records included, >= 1 */
    uint64_t base_addr;         /* bytes, page aligned; region below SIM_TRACE_SYNTH_VA_END */
    uint64_t stride_pages;      /* strided: 1..2^32 */
    double zipf_s;              /* zipf: (0, 5] */
    double write_fraction;      /* 0..1 */
    uint64_t count;             /* raw accesses per record, >= 1 */
    uint64_t seed;
    uint64_t nr_code_pages;     /* 0: no X records */
    uint64_t code_every;        /* data records between X records, >= 1 */
};

/* "sequential", "strided", "chase", "zipf", "uniform"; NULL if out of range. */
const char *sim_trace_synth_pattern_name(enum sim_trace_synth_pattern p);

/*
 * Fill *c with the defaults for pattern p: base 0x7f0000000000, stride 16,
 * zipf_s 0.99, write_fraction 0.2 (the simulator's synthetic defaults),
 * seed 1, no code pages, code_every 16, and the pattern's count: the raw
 * accesses one visit of a page makes, instruction fetches included as
 * lackey counts them (sequential 512: every 8-byte word of the page;
 * strided and chase 8: a node's next pointer and key plus the loop's
 * instructions; zipf and uniform 32: a hash lookup's bucket and item).
 * nr_pages and nr_records are left 0: the caller must set them.
 */
void sim_trace_synth_defaults(struct sim_trace_synth_cfg *c, enum sim_trace_synth_pattern p);

/* Check every field; returns 0 or VM_EINVAL with a message naming the
 * command-line option ("--base: expected a page-aligned address, got
 * 0x1001") in d. */
int sim_trace_synth_check(const struct sim_trace_synth_cfg *c, struct vm_diag *d);

/*
 * Check c, then write its trace to path (gzip if path ends in ".gz", else
 * plain text) atomically, as described above.  Returns 0; VM_EINVAL (bad
 * c, or path a directory); VM_EIO (cannot create, write or rename: the
 * message names path and the system's reason); VM_ENOMEM (chase keeps its
 * list, 8 bytes a page).  On error no file is created or replaced.
 */
int sim_trace_synth_write(const struct sim_trace_synth_cfg *c, const char *path,
                          struct vm_diag *d);

/* `vmsim trace synth OPTIONS -o OUT`: argv[0] is "synth".  Prints a one-line
 * summary to stdout, errors as one "vmsim: trace synth: ..." line on
 * stderr.  Returns the exit status: 0, or 2 on bad input or a failed
 * write (nothing written). */
int sim_trace_synth_main(int argc, char **argv);

#endif
