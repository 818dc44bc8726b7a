/*
 * port_rand.h - a random stream handed to a model, so the world decides
 * seeding (one --seed, independent streams; see vm_rand.h).
 */
#ifndef PORT_RAND_H
#define PORT_RAND_H

#include <stdint.h>

#define PORT_RAND_VERSION 1

struct port_rand;
struct port_rand_ops {
    int version;
    const char *name;
    uint64_t (*next_u64)(struct port_rand *r);
};
struct port_rand { const struct port_rand_ops *ops; };

static inline uint64_t port_rand_next(struct port_rand *r) { return r->ops->next_u64(r); }

#endif
