/*
 * vm_blkio.h - one recorded or generated block I/O request of a guest, as
 * a stream of them carries it: a file-I/O trace mapped onto a virtual
 * disk (sim/sim_blocktrace.h) or a synthetic generator (a mechanism's
 * load model).  Sectors are 4 KiB; times ns from the stream's start.
 */
#ifndef VM_BLKIO_H
#define VM_BLKIO_H

#include <stdint.h>

enum vm_blkio_op { VM_BLKIO_READ, VM_BLKIO_WRITE, VM_BLKIO_FLUSH };

struct vm_blkio {
    uint64_t t_ns;          /* arrival, from the stream's start */
    uint64_t sector;        /* first 4 KiB sector (FLUSH: 0) */
    uint32_t nr;            /* sectors, >= 1 (FLUSH: 0) */
    uint8_t op;             /* enum vm_blkio_op */
};

#endif
