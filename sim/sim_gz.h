/*
 * sim_gz.h - reading a trace file through zlib (gzip or plain text) with
 * the errors a trace reader reports: a read error, zlib out of memory, a
 * cut or damaged gzip stream on the line being read (FILE:LINE).  Shared
 * by the memory-trace and block-trace readers.
 */
#ifndef SIM_GZ_H
#define SIM_GZ_H

#include <stdint.h>

#include <zlib.h>

#include "base/vm_err.h"

/* gzread() up to cap bytes into buf: the count, 0 at the end of the file,
 * or a negative VM_E* with d set (path and the 1-based line being read). */
int sim_gz_read(gzFile gz, void *buf, unsigned cap, const char *path, uint64_t line,
                struct vm_diag *d);

#endif
