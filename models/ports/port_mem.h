/*
 * port_mem.h - guest memory as a mechanism sees it (guest-physical pages).
 *
 * Pages are numbered by guest frame (gpa >> 12).  Content is one
 * fingerprint per page.  The world (sim/sim_mem.c, tests/fakes/fake_mem.c)
 * owns the bitmaps; a mechanism reads and changes them only through these
 * ops, a block or range at a time, never per guest access:
 *
 *  - trace: a traced page makes the next matching guest access exit to the
 *    mechanism's fault handler before it proceeds (write-protect or
 *    read/write-protect, like KVM's write tracking / userfaultfd WP);
 *  - present: a non-present page faults on any access (lazy restore);
 *  - dirty: set by every guest write; collected and cleared by
 *    collect_dirty (KVM_GET_DIRTY_LOG semantics);
 *  - accessed: set by every guest access; read and cleared by
 *    collect_accessed (the A bits a hypervisor harvests).
 */
#ifndef PORT_MEM_H
#define PORT_MEM_H

#include <stdbool.h>
#include <stdint.h>

#define PORT_MEM_VERSION 1

enum port_mem_trace {
    PORT_MEM_TRACE_NONE = 0,
    PORT_MEM_TRACE_WRITE = 1,    /* writes exit; reads run at full speed */
    PORT_MEM_TRACE_RW = 2,       /* reads and writes exit */
};

struct port_mem;

struct port_mem_ops {
    int version;                 /* PORT_MEM_VERSION */
    const char *name;
    uint64_t (*nr_pages)(const struct port_mem *m);
    /* Copy the fingerprints of pages [first, first+n) into fps. */
    void (*read)(struct port_mem *m, uint64_t first, uint32_t n, uint64_t *fps);
    /* Install contents (restore): pages [first, first+n) get fps. */
    void (*write)(struct port_mem *m, uint64_t first, uint32_t n, const uint64_t *fps);
    /* Set the trace mode of pages [first, first+n). */
    void (*set_trace)(struct port_mem *m, uint64_t first, uint64_t n, enum port_mem_trace mode);
    /* Mark pages [first, first+n) present or not present. */
    void (*set_present)(struct port_mem *m, uint64_t first, uint64_t n, bool present);
    bool (*is_present)(const struct port_mem *m, uint64_t page);
    /* OR the dirty bitmap into `into` (nr_pages bits), clear it, return the
     * number of pages that were dirty. */
    uint64_t (*collect_dirty)(struct port_mem *m, uint64_t *into);
    /* Same for accessed bits. */
    uint64_t (*collect_accessed)(struct port_mem *m, uint64_t *into);
    /* Bytes that zstd makes of the current content of the n pages listed
     * in pages[] compressed together as one frame.  The world measures this
     * on real sample pages of each page's content class (zero, text, code,
     * random); a model never sees bytes. */
    uint64_t (*compress_size)(const struct port_mem *m, const uint64_t *pages, uint32_t n);
};

struct port_mem { const struct port_mem_ops *ops; };

static inline uint64_t port_mem_nr_pages(const struct port_mem *m) { return m->ops->nr_pages(m); }
static inline void port_mem_read(struct port_mem *m, uint64_t first, uint32_t n, uint64_t *fps)
{ m->ops->read(m, first, n, fps); }
static inline void port_mem_write(struct port_mem *m, uint64_t first, uint32_t n, const uint64_t *fps)
{ m->ops->write(m, first, n, fps); }
static inline void port_mem_set_trace(struct port_mem *m, uint64_t first, uint64_t n, enum port_mem_trace mode)
{ m->ops->set_trace(m, first, n, mode); }
static inline void port_mem_set_present(struct port_mem *m, uint64_t first, uint64_t n, bool present)
{ m->ops->set_present(m, first, n, present); }
static inline bool port_mem_is_present(const struct port_mem *m, uint64_t page)
{ return m->ops->is_present(m, page); }
static inline uint64_t port_mem_collect_dirty(struct port_mem *m, uint64_t *into)
{ return m->ops->collect_dirty(m, into); }
static inline uint64_t port_mem_collect_accessed(struct port_mem *m, uint64_t *into)
{ return m->ops->collect_accessed(m, into); }
static inline uint64_t port_mem_compress_size(const struct port_mem *m, const uint64_t *pages, uint32_t n)
{ return m->ops->compress_size(m, pages, n); }

#endif
