/*
 * sim_mem_int.h - what sim_mem.c (lines, allocator, port ops) and
 * sim_mem_content.c (contents, checker, restore check) share; private to
 * the two.
 */
#ifndef SIM_MEM_INT_H
#define SIM_MEM_INT_H

#include <stdint.h>

#include "sim_mem.h"

#define SIM_MEM_REGION_SHIFT 9u          /* content classes per 2 MiB region of 512 pages */

/* The store of own contents: 0 or VM_ENOMEM; free is NULL-safe. */
int sim_mem_fpool_new(struct sim_mem *m);
void sim_mem_fpool_free(struct sim_mem *m);
/* Drop every page's own content (every page back to its base content). */
void sim_mem_drop_own(struct sim_mem *m);
/* Bytes the store holds. */
size_t sim_mem_fpool_bytes(const struct sim_mem *m);

/* Content of pages [first, first+n) into fps. */
void sim_mem_read_range(const struct sim_mem *m, uint64_t first, uint32_t n, uint64_t *fps);
/* Install fps as the content of pages [first, first+n) (port_mem.write). */
void sim_mem_install_range(struct sim_mem *m, uint64_t first, uint32_t n, const uint64_t *fps);

#endif
