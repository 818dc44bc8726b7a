/*
 * at_cpu.c - the workers of an attestation node or of the depot: k
 * workers, FIFO.  An operation arriving at now runs on the worker that is
 * free first (at now if one is idle, else when the earliest busy one
 * finishes) for its measured cost; FIFO with k identical workers is
 * exactly "the earliest free worker, in arrival order", so no queue is
 * kept, only each worker's next free instant.  The caller acts at the
 * returned completion time (at_send_at, or a timer).
 * at_sign_cost and at_verify_cost pick the measured cost of an algorithm.
 * Not modelled: preemption, cache effects, cost variance.
 */
#include <stdlib.h>

#include "attestation/at_int.h"

int at_cpu_init(struct at_cpu *c, uint32_t workers)
{
    c->nr = workers ? workers : 1;
    c->busy_ns = 0;
    c->free_at = calloc(c->nr, sizeof *c->free_at);
    return c->free_at ? 0 : VM_ENOMEM;
}

void at_cpu_free(struct at_cpu *c)
{
    free(c->free_at);
    c->free_at = NULL;
}

uint64_t at_cpu_run(struct at_cpu *c, uint64_t now_ns, double cost_ns)
{
    uint32_t best = 0;
    for (uint32_t i = 1; i < c->nr; i++)
        if (c->free_at[i] < c->free_at[best])
            best = i;
    uint64_t start = c->free_at[best] > now_ns ? c->free_at[best] : now_ns;
    uint64_t cost = cost_ns > 0 ? (uint64_t)(cost_ns + 0.5) : 0;
    c->free_at[best] = start + cost;
    c->busy_ns += cost;
    return start + cost;
}

double at_sign_cost(const struct at_costs *c, enum at_alg alg)
{
    return alg == AT_ALG_ECDSA_P256 ? c->ecdsa_sign_ns : c->sign_ns;
}

double at_verify_cost(const struct at_costs *c, enum at_alg alg)
{
    return alg == AT_ALG_ECDSA_P256 ? c->ecdsa_verify_ns : c->verify_ns;
}
