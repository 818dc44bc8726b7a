/*
 * sim_vcpus.c - a guest's vCPUs as one (see sim_vcpus.h).
 */
#include <stdlib.h>
#include <string.h>

#include "base/vm_rand.h"
#include "sim_cfg_vm.h"
#include "sim_trace.h"
#include "sim_vcpus.h"
#include "sim_workload.h"

/* rand stream of the per-vCPU seeds (vm_rand.h) */
enum { STREAM_VCPU_SEED = 0x76637075 };

/* vCPU i's generator seed: the run's seed for vCPU 0 (a one-vCPU guest
 * replays what it always did), an independent draw for the others. */
static uint64_t vcpu_seed(uint64_t seed, uint32_t i)
{
    if (i == 0)
        return seed;
    struct vm_rand r;
    vm_rand_init(&r, seed ^ i, STREAM_VCPU_SEED);
    return vm_rand_u64(&r);
}

static int open_sources(struct sim_vcpus *s, const struct sim_exp_workload *wl,
                        struct sim_mem *mem, uint64_t seed, struct vm_diag *d)
{
    if (!wl->is_trace) {
        for (uint32_t i = 0; i < s->n; i++) {
            int rc = sim_gen_new(wl, mem->nr_pages, vcpu_seed(seed, i), &s->v[i]->gen, d);
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    int rc = sim_mem_set_address_spaces(mem, s->n);
    if (rc < 0)
        return vm_diag_set(d, rc, "%u guest address spaces: %s", s->n, vm_strerror(rc));
    s->nr_traces = wl->nr_files > 1 ? wl->nr_files : 1;
    s->traces = calloc(s->nr_traces, sizeof *s->traces);
    if (!s->traces)
        return vm_diag_set(d, VM_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < s->nr_traces; i++) {
        rc = sim_trace_open(sim_exp_workload_file(wl, i), wl->format, &s->traces[i], d);
        if (rc < 0)
            return rc;
    }
    for (uint32_t i = 0; i < s->n; i++) {
        struct sim_vcpu *v = s->v[i];
        v->trace = s->traces[s->nr_traces > 1 ? i : 0];
        v->asid = i;
        v->loop = wl->loop;
        if (s->nr_traces == 1)      /* copies of one program, not in lockstep */
            v->trace_start = (uint64_t)((unsigned __int128)sim_trace_nr_records(v->trace) * i /
                                        s->n);
    }
    return 0;
}

int sim_vcpus_new(struct sim_vcpus *s, const struct sim_exp_vm *vm,
                  const struct sim_exp_workload *wl, struct sim_mem *mem, uint64_t seed,
                  struct sim_waitq *io_wq, struct vm_diag *d)
{
    memset(s, 0, sizeof *s);
    uint32_t n = vm->vcpus ? vm->vcpus : 1;
    s->v = calloc(n, sizeof *s->v);
    if (!s->v)
        return vm_diag_set(d, VM_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        struct sim_vcpu *v = calloc(1, sizeof *v);
        if (!v)
            return vm_diag_set(d, VM_ENOMEM, "out of memory");
        s->v[s->n++] = v;
        v->index = i;
        v->mem = mem;
        v->io_wq = io_wq;
        v->access_ns = wl->access_ns;
        v->ctl_wq = sim_waitq_new();
    }
    return open_sources(s, wl, mem, seed, d);
}

void sim_vcpus_start(struct sim_vcpus *s, sg_host_t host)
{
    for (uint32_t i = 0; i < s->n; i++)
        sim_vcpu_start(s->v[i], host);
}

void sim_vcpus_stun(struct sim_vcpus *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        sim_vcpu_stun_request(s->v[i]);
    for (uint32_t i = 0; i < s->n; i++)
        sim_vcpu_stun_wait(s->v[i]);
}

void sim_vcpus_resume(struct sim_vcpus *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        sim_vcpu_resume(s->v[i]);
}

void sim_vcpus_stop(struct sim_vcpus *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        sim_vcpu_stop(s->v[i]);
}

void sim_vcpus_set_throttle(struct sim_vcpus *s, uint32_t pct)
{
    for (uint32_t i = 0; i < s->n; i++)
        sim_vcpu_set_throttle(s->v[i], pct);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

void sim_vcpus_totals(const struct sim_vcpus *s, struct sim_vcpus_totals *t)
{
    memset(t, 0, sizeof *t);
    for (uint32_t i = 0; i < s->n; i++) {
        const struct sim_vcpu *v = s->v[i];
        t->stall_ns = sat_add(t->stall_ns, v->stall_ns);
        t->throttle_ns = sat_add(t->throttle_ns, v->throttle_ns);
        t->compute_ns = sat_add(t->compute_ns, v->compute_ns);
        t->raw_accesses = sat_add(t->raw_accesses, v->raw_accesses);
        t->stunned_accesses += v->stunned_accesses;
        t->exits += v->exits;
    }
}

void sim_vcpus_take_exit_hist(struct sim_vcpus *s, struct vm_hist *kept)
{
    vm_hist_init(kept);
    for (uint32_t i = 0; i < s->n; i++) {
        vm_hist_merge(kept, &s->v[i]->exit_lat_ns);
        vm_hist_init(&s->v[i]->exit_lat_ns);
    }
}

void sim_vcpus_exit_hist(const struct sim_vcpus *s, struct vm_hist *h)
{
    for (uint32_t i = 0; i < s->n; i++)
        vm_hist_merge(h, &s->v[i]->exit_lat_ns);
}

void sim_vcpus_restore_exit_hist(struct sim_vcpus *s, const struct vm_hist *kept)
{
    if (s->n)
        vm_hist_merge(&s->v[0]->exit_lat_ns, kept);
}

void sim_vcpus_track_windows(struct sim_vcpus *s, uint64_t origin_ns, uint64_t win_ns,
                             double need_ns)
{
    for (uint32_t i = 0; i < s->n; i++)
        sim_vcpu_track_windows(s->v[i], origin_ns, win_ns, need_ns);
}

bool sim_vcpus_responsive(const struct sim_vcpus *s, uint64_t *end_ns)
{
    uint64_t latest = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        uint64_t e;
        if (!sim_vcpu_responsive(s->v[i], &e))
            return false;
        if (e > latest)
            latest = e;
    }
    *end_ns = latest;
    return s->n > 0;
}

int sim_vcpus_error(const struct sim_vcpus *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        if (s->v[i]->error)
            return s->v[i]->error;
    return 0;
}

void sim_vcpus_free(struct sim_vcpus *s)
{
    for (uint32_t i = 0; i < s->n; i++) {
        struct sim_vcpu *v = s->v[i];
        sim_gen_free(v->gen);
        if (v->ctl_wq)
            sim_waitq_free(v->ctl_wq);
        sim_vcpu_free(v);
    }
    for (uint32_t i = 0; i < s->nr_traces; i++)
        if (s->traces[i])
            sim_trace_close(s->traces[i]);
    free(s->traces);
    free(s->v);
    memset(s, 0, sizeof *s);
}
