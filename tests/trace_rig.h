/*
 * trace_rig.h - what the trace-reader suites share (check_trace_read,
 * check_trace_errors, check_trace_cache): a scratch folder per test
 * (every input is written there; the shipped traces are only read, from
 * $VMSIM_SRCDIR/workloads/traces), writers of plain and gzip inputs, and
 * a parse that collects the records.  Every function fails the running
 * Check test on an unexpected result.
 */
#ifndef TRACE_RIG_H
#define TRACE_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_trace.h"

/* The test's scratch folder: made by trace_setup, removed with all it
 * holds by trace_teardown (a Check checked fixture). */
extern char tmpdir[256];
void trace_setup(void);
void trace_teardown(void);

/* Path of shipped trace `name`, or of `name` in tmpdir (each in one of
 * four rotating static buffers). */
const char *shipped(const char *name);
const char *tpath(const char *name);
/* Write text to tmpdir/name, plain or gzip-compressed. */
void write_plain(const char *name, const char *text);
void write_gz(const char *name, const char *text);
/* Names in dir containing `part`. */
int nr_files_with(const char *dir, const char *part);
bool exists(const char *p);

/* records collected by a parse */
struct recs {
    struct sim_trace_rec *v;
    size_t n, cap;
    size_t limit;                       /* stop collecting after this many (0 = all) */
};

/* A sim_trace_parse callback: appends the records to a struct recs. */
int collect(void *arg, const struct sim_trace_rec *r, size_t n);
/* Parse path (which must succeed) collecting every record; st may be NULL. */
struct recs parse_ok(const char *path, enum sim_trace_format fmt, struct sim_trace_stats *st);
/* Record i of c is (op, page, count). */
void assert_rec(const struct recs *c, size_t i, char op, uint64_t page, uint64_t count);
/* Parse `text` (plain file) expecting VM_EPARSE with exactly `msg` after
 * "PATH:". */
void expect_parse_error(const char *text, enum sim_trace_format fmt, const char *msg);

#define PT_HDR "# vmsim pagetrace v1 page_size=4096 program=test\n"

#endif
