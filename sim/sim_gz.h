/*
 * sim_gz.h - reading a trace file through zlib (gzip or plain text) with
 * the errors a trace reader reports: a read error, zlib out of memory, a
 * cut or damaged gzip stream on the line being read (FILE:LINE).  Shared
 * by the memory-trace and block-trace readers.
 */
#ifndef SIM_GZ_H
#define SIM_GZ_H

#include <stdint.h>
#include <sys/stat.h>

#include <zlib.h>

#include "base/vm_err.h"

/* Open path ("-": standard input) for reading through zlib, gzip or
 * plain; `what` names the expected file in the error for a directory
 * ("a trace file").  buffer: zlib's buffer in bytes (0: its default).
 * *sb, when not NULL, gets the file's stat.  0, or VM_ENOENT / VM_EIO /
 * VM_EINVAL / VM_ENOMEM with d set; the caller gzclose()s *gz. */
int sim_gz_open(const char *path, const char *what, unsigned buffer, gzFile *gz,
                struct stat *sb, struct vm_diag *d);

/* gzread() up to cap bytes into buf: the count, 0 at the end of the file,
 * or a negative VM_E* with d set (path and the 1-based line being read). */
int sim_gz_read(gzFile gz, void *buf, unsigned cap, const char *path, uint64_t line,
                struct vm_diag *d);

#endif
