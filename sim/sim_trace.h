/*
 * sim_trace.h - memory traces: readers for vmsim pagetrace v1 and raw
 * Valgrind lackey output (gzip or plain, via zlib), the reduction rule
 * that turns lackey into pagetrace records, and the binary cache.
 *
 * Replay reads the binary form: an mmap'ed file of struct sim_access
 * records (sim_access.h) after a fixed header that records the source's
 * size and mtime, so a changed source is converted again.  The cache sits
 * next to the source (<file>.vmtrace) when that directory is writable,
 * else in $VMSIM_CACHE_DIR or $XDG_CACHE_HOME/vmsim or ~/.cache/vmsim.
 * Conversion writes a temporary file and renames it (atomic); the
 * temporary file is removed on failure and when the process is killed by
 * SIGINT/SIGTERM/SIGHUP/SIGPIPE or exits meanwhile (sim_tempfile.h).
 *
 * Errors name file and line: "trace.gz:17: expected 'X', 'R' or 'W', got 'Q'".
 * Addresses are not checked against a paging mode here (the reader does
 * not know the guest's): the stats say where the first non-canonical one
 * is, and sim_trace_check_canonical() turns that into the message.
 */
#ifndef SIM_TRACE_H
#define SIM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/vm_err.h"
#include "sim_access.h"
#include "sim_exp.h"
#include "sim_trace_reduce.h"

struct sim_trace;
struct stat;

/* Open a trace for replay: convert to the binary form if needed, mmap it.
 * fmt SIM_TRACE_AUTO sniffs the first line ("# vmsim pagetrace v1", or
 * a lackey access line or one of Valgrind's own "==PID== ", "--PID-- ",
 * "**PID** " lines: the same rule as the lackey reader's).  The cache is
 * used when its header matches the source's size, mtime (ns) and absolute
 * path, else rebuilt.  A trace has at least one record.  Returns 0, VM_ENOENT (no
 * such file), VM_EPARSE (bad or empty trace; no cache file is left),
 * VM_EINVAL (a directory), VM_EIO or VM_ENOMEM; *out is NULL on error.
 * Records stay valid until sim_trace_close(). */
int sim_trace_open(const char *path, enum sim_trace_format fmt, struct sim_trace **out,
                   struct vm_diag *d);
void sim_trace_close(struct sim_trace *t);
uint64_t sim_trace_nr_records(const struct sim_trace *t);
const struct sim_access *sim_trace_records(const struct sim_trace *t);
uint64_t sim_trace_total_accesses(const struct sim_trace *t);
uint64_t sim_trace_distinct_pages(const struct sim_trace *t);

/* Parse the whole source without converting (for `vmsim validate`).
 * Writes nothing; a trace without records is an error (VM_EPARSE). */
int sim_trace_validate(const char *path, enum sim_trace_format fmt, struct vm_diag *d);

/* sim_trace_open() with the cache in cache_dir (created if missing)
 * instead of the default places; cache_dir NULL = sim_trace_open(). */
int sim_trace_open_in(const char *path, enum sim_trace_format fmt, const char *cache_dir,
                      struct sim_trace **out, struct vm_diag *d);
/* The trailer said truncated=yes, or there was none (pagetrace), or
 * lackey's final "Exit code:" line was missing (lackey). */
bool sim_trace_truncated(const struct sim_trace *t);
/* The binary cache file in use, and whether this open (re)built it. */
const char *sim_trace_cache_path(const struct sim_trace *t);
bool sim_trace_cache_built(const struct sim_trace *t);

/* Ops indexed in stats arrays. */
enum { SIM_TRACE_OP_X, SIM_TRACE_OP_R, SIM_TRACE_OP_W, SIM_TRACE_NR_OPS };

/* What one full parse of a source found.  Records are source records
 * (pagetrace lines, reduced lackey records); each becomes exactly one
 * binary record, 64-bit count included. */
struct sim_trace_stats {
    enum sim_trace_format format;      /* what was read, never AUTO */
    char program[SIM_NAME_MAX];        /* header's program=, lackey's Command: basename */
    char command[256];                 /* lackey's Command: line; "" if none */
    uint64_t nr_lines;
    uint64_t nr_records;
    uint64_t nr_records_op[SIM_TRACE_NR_OPS];
    uint64_t total_accesses;
    uint64_t distinct_pages;                     /* pages in any record */
    uint64_t distinct_pages_op[SIM_TRACE_NR_OPS];   /* pages in X / R / W records */
    uint64_t distinct_data_pages;                /* pages in R or W records */
    /* distinct 2 MiB, 1 GiB, 512 GiB and 256 TiB regions the pages lie in
     * (page >> 9, 18, 27, 36): the page-table pages a process needs */
    uint64_t distinct_regions[4];
    /* the first line whose address is not canonical (0: none) and that
     * address: [0] for 4-level paging (bits 63:47 all equal), [1] for
     * 5-level (bits 63:56); a pagetrace page p stands for p << 12 */
    uint64_t noncanon_line[2];
    uint64_t noncanon_addr[2];
    bool has_trailer;                  /* pagetrace trailer / lackey "Exit code:" seen */
    bool truncated;
};

/* Called with the next n records in trace order; a non-zero return
 * (a negative VM_E*) stops the parse and is returned by it. */
typedef int (*sim_trace_rec_fn)(void *arg, const struct sim_trace_rec *recs, size_t n);

/*
 * Stream a source (path "-" = standard input) through fn (may be NULL).
 * st (may be NULL) is filled as parsing goes (program and command are
 * known before the first record reaches fn); the distinct-page counts
 * are computed only when st is given.  Returns 0, VM_ENOENT for a missing
 * file, VM_EIO, VM_ENOMEM or VM_EPARSE ("FILE:LINE: expected ..., got ...").
 */
int sim_trace_parse(const char *path, enum sim_trace_format fmt, sim_trace_rec_fn fn,
                    void *arg, struct sim_trace_stats *st, struct vm_diag *d);

/* sim_trace_parse() that also fills *sb (if not NULL) with the fstat of
 * the source as it was opened: the identity the binary cache records
 * (sim_trace_cache.c). */
int sim_trace_parse_stat(const char *path, enum sim_trace_format fmt, sim_trace_rec_fn fn,
                         void *arg, struct sim_trace_stats *st, struct stat *sb,
                         struct vm_diag *d);

/* Whether st's trace has only addresses canonical for paging `levels`
 * (4 or 5): 0, or VM_EINVAL with "PATH:LINE: expected an address canonical
 * for 4-level paging (bits 63:47 all equal), got 0x..." in d. */
int sim_trace_check_canonical(const char *path, const struct sim_trace_stats *st,
                              unsigned levels, struct vm_diag *d);
/* Page-table pages one process needs for st's pages with paging `levels`
 * (top-level table included). */
uint64_t sim_trace_table_pages(const struct sim_trace_stats *st, unsigned levels);

/* `vmsim trace reduce|stats|convert|synth ...`: argv[0] is the subcommand.
 * Prints to stdout, errors to stderr as "vmsim: ...".  Returns the exit
 * status (0, 2 on bad input). */
int sim_trace_main(int argc, char **argv);

#endif
