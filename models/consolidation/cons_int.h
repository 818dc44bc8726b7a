/*
 * cons_int.h - the consolidation engine's insides, shared by its files:
 * the engine (cons_engine.c: phases, stuns, switch-over, crash and
 * recovery, checks), the guest's I/O path (cons_guest.c), the grain
 * copier (cons_copy.c) and the methods (cons_m_*.c), which plug in as
 * struct cons_method through the registry (cons_registry.c).
 */
#ifndef CONS_INT_H
#define CONS_INT_H

#include "consolidation/cons.h"
#include "consolidation/cons_oracle.h"

#define CONS_F_HIDDEN 1u           /* test-only (deliberately broken): not listed */
#define CONS_WANT_Q 4096           /* wanted grains queued for the copier's next batch */
#define CONS_F_MIRROR_CHECK 2u     /* guest writes and copies of one grain never overlap */
#define CONS_F_EARLY_ACK 4u        /* test: acknowledge before the delta's entry is cleared */
#define CONS_F_COPY_WAITS_WRITES 8u /* no copy starts while a guest write is in flight */
#define CONS_F_QEMU_COPY 16u       /* the copier is QEMU's mirror_iteration() (cons_copy.c) */

/* The copy parameters of the ESX methods (the mechanism, its variants, the
 * helper, offline): the VMkernel data mover's copy, "a continuous queue
 * of outstanding IO requests", the data divided into 64 KiB I/Os issued
 * "using 32 threads at a time", the next issued as one completes (VMware
 * vSphere blog, "VAAI failures and the role of the VMkernel Data Mover",
 * 2012; the data mover also commits redo logs, i.e. consolidates).  The
 * copier forms batches of up to `chunk` and keeps up to max_in_flight of
 * their I/Os in flight (cons_copy.c). */
#define CONS_DM_PARAMS \
    { "max_in_flight", VM_PARAM_U32, offsetof(struct cons_method_cfg, max_in_flight), .min = 1, \
      .max = 1024, .def = "32", .help = "copy I/Os in flight (the data mover's 32)" }, \
    { "io", VM_PARAM_SIZE, offsetof(struct cons_method_cfg, io_bytes), .min = 4096, \
      .max = 64 << 20, .def = "64KiB", \
      .help = "the copy's I/O size, 4 KiB units (the data mover's 64 KiB)" }

/* One guest request, from arrival to acknowledgement. */
struct cons_greq {
    struct cons_engine *e;
    struct vm_blkio io;
    uint64_t arrive_ns;
    int phase;                      /* enum cons_phase at arrival */
    uint32_t epoch;                 /* the engine's epoch at issue (a crash bumps it) */
    int pending;                    /* sub-operations outstanding */
    int rc;
    uint64_t g0, g1;                /* grains [g0, g1] it touches */
    uint64_t *fps;                  /* write: the data; read: where it lands */
    uint64_t ver0;                  /* write: fps[i] = vm_fp_page(seed, sector + i, ver0 + i) */
    uint64_t *expect;               /* read: the oracle's view at issue */
    uint64_t *merge;                /* target-only: the whole grains read, then merged */
    int unmap_layer;                /* target-only: the delta letting go of the grains */
    bool let_go;                    /* target-only: the grains are the copier's again */
    uint32_t unmap_pending;         /* its unmaps in flight (+1 while issuing) */
    int unmap_rc;
    bool skip_check, parked;
    bool mirrored;                  /* sent to the target too */
    bool to_target;                 /* a part went to a layer below the active one */
    int mirror_rc;                  /* the target's half failed (the guest's is rc) */
    struct cons_greq *prev, *next;  /* in one list: queued, parked or in flight */
};

struct cons_glist { struct cons_greq *head, *tail; uint32_t n; };

/*
 * What a method's stun does to the guest, as its hypervisor does it:
 *  VCPUS  ESX's stun: the vCPUs stop first, then the I/O in flight
 *         drains; the guest sees those completions only when it runs
 *         again (their latency runs to the unstun) and issues nothing
 *         meanwhile (a closed loop tops up at the unstun).
 *  DRAIN  QEMU's bdrv_drained_begin() before a pivot (block/mirror.c,
 *         mirror_run()): the vCPUs run on; completions reach the guest
 *         at once, and a closed-loop guest goes on issuing; its requests
 *         wait until bdrv_drained_end() - in the virtqueue, whose
 *         notifier the drain detaches (virtio-blk), or in
 *         blk_wait_while_drained() - their latency counting the wait.
 *  OFF    the VM shuts down (offline): its I/O completes before it goes
 *         off, seen at once; nothing is issued until it is back (what
 *         every stun did before the kinds were told apart).
 * Open-loop arrivals come at their times in all three: the workload's
 * demand, not the guest's doing; they wait in the queue and their
 * latency counts from arrival.
 */
enum cons_stun_kind { CONS_STUN_VCPUS, CONS_STUN_DRAIN, CONS_STUN_OFF };

/* A completion an ESX stun holds from the guest until the unstun. */
struct cons_held {
    uint64_t arrive_ns;
    uint32_t nr;                    /* sectors */
    uint8_t op, phase;              /* enum vm_blkio_op, enum cons_phase at arrival */
};

/* A method: the mechanism or a baseline. */
struct cons_method {
    const char *name;
    const char *desc;               /* one line, with its source */
    const struct vm_param *params;
    unsigned flags;
    enum cons_stun_kind stun_kind;  /* 0: ESX's stun */
    /* The job starts with the VM running on the chain as it is (also after
     * a recovery).  Sets the copy set and begins. */
    void (*start)(struct cons_engine *e);
    /* A guest write while the job runs (NULL: to the active layer only).
     * Issues it through cons_guest_sub*(); may park it (cons_guest_park). */
    void (*write)(struct cons_engine *e, struct cons_greq *r);
    /* A guest write was acknowledged (may be NULL). */
    void (*write_done)(struct cons_engine *e, struct cons_greq *r);
    /* The copier has no copy in flight and nothing left to copy. */
    void (*copy_idle)(struct cons_engine *e);
    /* The layer whose view a guest read sees while the job runs (NULL: the
     * active layer); only a deliberately broken method changes it. */
    int (*read_view)(const struct cons_engine *e);
    enum cons_mutation mutation;    /* the chain's, for the broken methods */
};

extern const struct cons_method *const cons_methods[];     /* NULL-terminated */
const struct cons_method *cons_method_find(const char *name);

struct cons_copy_op;
struct cons_guard;
struct cons_arm;

#define CONS_SPARE_BUFS 64          /* spare fingerprint buffers kept at most */
#define CONS_SPARE_REQS 64          /* spare guest requests kept at most */

struct cons_engine {
    struct cons_engine_cfg cfg;
    struct cons_ports p;
    struct cons_peek peek;
    struct cons_chain *ch;
    struct cons_chain_cfg chain_cfg; /* to reopen the chain after a crash */
    uint8_t job_rec[CONS_JOB_MAX];  /* the descriptor's job record, as reopened */
    uint32_t job_len;
    struct cons_copy_op *all_ops;   /* every copy operation, to free at the end */
    struct cons_guard *guards;      /* chain callbacks not yet called */
    struct cons_arm *arms;          /* timers armed, not yet run */
    struct cons_chain *dead[8];     /* chains of crashed hosts (or dropped by a reopen
                                     * after a failed descriptor write), freed at the end */
    int nr_dead;
    struct cons_load *load;
    struct cons_oracle *oracle;
    uint64_t (*fp)(void *arg, int layer, uint64_t sector);
    void *fp_arg;
    uint32_t epoch;
    uint64_t write_seq;
    bool down;                      /* the host is crashed */
    uint64_t restart_at;            /* when it came back */
    bool finished;
    /* guest */
    struct cons_glist queued, parked, inflight, crashed, orphans;
    /* spares for the next requests (cons_guest.c): a guest request and
     * its fingerprint buffers cost two or three mallocs of kilobytes
     * each otherwise, on a heap SimGrid fills with its activities */
    struct cons_greq *spare_reqs;   /* chained by next */
    uint32_t nr_spare_reqs;
    uint64_t *spare_bufs[CONS_SPARE_BUFS];  /* buffers of buf_cap fingerprints */
    uint32_t nr_spare_bufs;
    uint32_t buf_cap;               /* fixed by the first request (0: none yet) */
    struct vm_blkio next;            /* the next arrival, when have_next */
    bool have_next, load_stopped;
    bool arrival_armed;             /* a timer waits for e->next */
    uint64_t load_t0;               /* stream time 0 on the clock */
    uint32_t qdepth;
    int active;                     /* the layer guest writes go to (the top) */
    /* stun */
    bool stunned, stun_draining;
    uint64_t stun_start;
    uint64_t stun_fixed_cur;        /* this stun's fixed part (cons_stun_fixed) */
    void (*after_drain)(struct cons_engine *e);
    struct cons_held *held;         /* completions the stunned guest has not seen */
    uint32_t nr_held, cap_held;
    /* job */
    bool job_running, job_done, timed_out;
    bool gave_up;                     /* the method ended the job unconsolidated */
    bool failed;                      /* a device error ended the job (cons_job_fail) */
    bool reopening;                   /* the chain is being reopened from the disk */
    uint32_t merges;                  /* target-only merges in flight (in copies too) */
    bool disk_lost;                   /* that reopen failed: the run ended, unchecked */
    uint32_t job_gen;                 /* bumped when the job fails: its callbacks die */
    uint64_t job_start, job_end;
    int src_top;                    /* the view the copier reads */
    uint64_t *copyset;              /* grains still to copy (QEMU: the dirty bitmap) */
    uint64_t *busy;                 /* grains with a copy in flight */
    uint64_t *want;                 /* grains the copy waits to take (writes in flight) */
    uint64_t *want_q;               /* the same grains in the order they were skipped
                                     * (at most CONS_WANT_Q; beyond, the bitmap alone) */
    uint32_t want_n;
    uint64_t nr_grains;
    uint64_t cursor;
    uint64_t copy_left;             /* bits set in copyset */
    int copy_depth;                 /* cons_copy_kick() on the stack */
    bool wrap;                      /* a pass over the copy set counts as an iteration */
    bool copy_paused;
    bool copy_blocked_by_writes;    /* the pre-fix QEMU rule (write-blocking-unfixed) */
    uint32_t copies;                /* copy batches in flight */
    uint32_t copy_ios;              /* their device I/Os */
    uint64_t copy_seq;              /* batches issued (QEMU: the order of ops_in_flight) */
    struct cons_copy_op *slot_wait; /* QEMU: the op the job waits for before issuing more */
    struct cons_copy_op *free_ops;
    /* method state */
    uint32_t iter;
    uint64_t iter_start, iter_copied;
    double helper_est_ns;           /* helper: the last commit estimate (tests) */
    int phase_state;                /* the method's own step */
    struct cons_result res;
};

/* What the guest does under the stun in progress, if any, by the
 * method's stun_kind: its completions held until the unstun (an ESX
 * stun), its threads running (no stun, or QEMU's drain). */
static inline bool cons_stun_holds_completions(const struct cons_engine *e)
{
    return e->stunned && e->cfg.method->stun_kind == CONS_STUN_VCPUS;
}

static inline bool cons_guest_threads_run(const struct cons_engine *e)
{
    return !e->stunned || e->cfg.method->stun_kind == CONS_STUN_DRAIN;
}

/* cons_engine.c */
uint64_t cons_now(const struct cons_engine *e);
int cons_phase_now(const struct cons_engine *e);
void cons_fail(struct cons_engine *e, int rc, const char *what);
/* A device error (VM_EIO) in the job's own I/O (its copy, a flush, the
 * target's half of a mirrored write): the job fails, as QEMU's block jobs
 * do with their default on-error policy "report" (block/mirror.c,
 * mirror_error_action()) and as an ESX consolidation task does; the copy
 * stops, a stun ends, the VM runs on with the chain as it stands (as the
 * disk holds it); res.job_failed, res.job_error.  Any other rc (no
 * memory, a refused request) ends the run: cons_fail().  Once only. */
void cons_job_fail(struct cons_engine *e, int rc, const char *what);
/* The same for a failed descriptor write, after which the layers in
 * memory are not those the disk names: the VM is stunned (its I/O
 * drained), the chain reopened from the disk (cons_chain_open) and the VM
 * runs on its top layer. */
void cons_job_fail_desc(struct cons_engine *e, int rc, const char *what);
void cons_maybe_finish(struct cons_engine *e);
/* A callback for a chain call that runs fn(e, rc) only if no crash came
 * in between; *arg is the chain call's arg.  NULL when out of memory. */
cons_done_fn cons_guard(struct cons_engine *e, void (*fn)(struct cons_engine *e, int rc),
                        void **arg);
void cons_arm(struct cons_engine *e, uint64_t when, void (*fn)(struct cons_engine *e));
void cons_note_space(struct cons_engine *e);
/* Stun the VM: no new guest request is issued; once the in-flight ones
 * are done and stun_fixed has passed, then(e) runs (VM still stunned).
 * What the guest sees meanwhile is the method's stun_kind. */
void cons_stun(struct cons_engine *e, void (*then)(struct cons_engine *e));
/* The same with a fixed part of fixed_ns instead of the method's
 * stun_fixed (QEMU's drain before the pivot: the fixed part only once the
 * pivot happens). */
void cons_stun_fixed(struct cons_engine *e, uint64_t fixed_ns,
                     void (*then)(struct cons_engine *e));
void cons_unstun(struct cons_engine *e);
/* The copy converged (READY). */
void cons_ready(struct cons_engine *e);
/* Drop the layers above the target, write the descriptor, then the job
 * is done and the VM unstunned (call while stunned). */
void cons_switch_over(struct cons_engine *e);
/* The method gives the job up: it ends now, not consolidated (res.done
 * false), the chain as it stands; the load runs on, as after a timeout. */
void cons_give_up(struct cons_engine *e);
/* Union of the grains of the layers (target, top]: a new bitmap. */
uint64_t *cons_grains_above(struct cons_engine *e, int top);

/* cons_guest.c */
void cons_guest_start(struct cons_engine *e);
void cons_guest_kick(struct cons_engine *e);       /* issue what may be issued */
void cons_guest_stop(struct cons_engine *e);       /* no more arrivals */
/* After a recovery, the guest back: open loop, the arrivals due during
 * the outage dropped and the next one armed; closed loop, a request for
 * each free slot. */
void cons_guest_resume(struct cons_engine *e);
/* Issue a sub-operation of r: a write of r's data into layer, a read of
 * r's range through view top, ...; each counts in r->pending. */
void cons_guest_sub_write(struct cons_engine *e, struct cons_greq *r, int layer);
/* Only sectors [s, s + n) of r (inside it) to the layer. */
void cons_guest_sub_write_part(struct cons_engine *e, struct cons_greq *r, int layer, uint64_t s,
                               uint32_t n);
/* The target's half of a mirrored write, sectors [s, s + n) of r: its
 * failure fails the job (cons_job_fail), not the guest's request, whose
 * data its own layer holds (QEMU's do_sync_target_write()). */
void cons_guest_sub_mirror(struct cons_engine *e, struct cons_greq *r, int layer, uint64_t s,
                           uint32_t n);
void cons_guest_sub_done(struct cons_engine *e, struct cons_greq *r, int rc);
/* r waits for the unmaps of grain g in layer now in flight (its result
 * then is theirs too: a failed one has put the grain back). */
void cons_guest_sub_unmap_wait(struct cons_engine *e, struct cons_greq *r, int layer, uint64_t g);
/* Park r until a copy of its grains ends; cons_guest_unpark retries them. */
void cons_guest_park(struct cons_engine *e, struct cons_greq *r);
void cons_guest_unpark(struct cons_engine *e);
bool cons_guest_writes_overlap(const struct cons_engine *e, uint64_t g0, uint64_t g1);
void cons_guest_crash(struct cons_engine *e);      /* settle in-flight writes later */
/* A stun ends: the guest sees the completions it held (latency to now,
 * bytes in the phase now, the counts), or never does (a crash). */
void cons_guest_release_held(struct cons_engine *e, bool guest_sees);
/* Free r and its buffers (kept as spares for the next requests, up to
 * CONS_SPARE_*); cons_guest_free_spares() frees the spares, at the end. */
void cons_greq_free(struct cons_engine *e, struct cons_greq *r);
void cons_guest_free_spares(struct cons_engine *e);
void cons_glist_add(struct cons_glist *l, struct cons_greq *r);
void cons_glist_del(struct cons_glist *l, struct cons_greq *r);

/* cons_copy.c */
void cons_copy_begin(struct cons_engine *e, int src_top, uint64_t *copyset, bool wrap);
void cons_copy_kick(struct cons_engine *e);
bool cons_copy_busy(const struct cons_engine *e, uint64_t g0, uint64_t g1);
uint64_t cons_copy_left(const struct cons_engine *e);          /* grains in the copy set */
void cons_copy_mark(struct cons_engine *e, uint64_t g0, uint64_t g1);  /* set [g0, g1] */
void cons_copy_unmark(struct cons_engine *e, uint64_t g);
bool cons_copy_dirty(const struct cons_engine *e, uint64_t g);   /* g in the copy set */
void cons_copy_end(struct cons_engine *e);                      /* free the sets */
/* Time, ns, the copier would take to copy the grains set in `set` on the
 * device `dev` with nothing else running (see cons_copy.c); a huge value
 * (1e30) when dev->copy_bps is 0 (unknown) or out of memory. */
double cons_copy_estimate_ns(const struct cons_engine *e, const uint64_t *set,
                             const struct cons_device *dev);
void cons_copy_free_ops(struct cons_engine *e);

#endif
