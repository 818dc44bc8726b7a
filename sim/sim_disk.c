/*
 * sim_disk.c - a simulated block device (see sim_disk.h): SimGrid's disk
 * for bandwidth, plus per-operation latency, queue depth and an IOPS
 * limit modelled here from the disk's <prop>s.
 *
 * Model of one request of nr_ios I/Os (equal, or a vectored run's own
 * lengths: the time depends only on nr_ios and nr_blocks), served by one
 * of the min(qdepth, 64) worker actors that pull requests in FIFO order:
 *
 *   waves  = ceil(nr_ios / qdepth)              (qdepth from the prop, so a
 *                                                depth beyond 64 workers
 *                                                still shortens the waves)
 *   delay  = waves x latency x slow factor
 *   IOPS:    the device's token clock next_free_ns advances by
 *            nr_ios / iops from max(now, next_free_ns); the request's
 *            delay is at least up to that point
 *   then     one SimGrid disk activity of nr_blocks x 4 KiB (max-min
 *            fair with every other transfer on the disk, reads and writes
 *            alike) with as many shares of the bandwidth as the request
 *            keeps I/Os on the device on average (transfer_shares():
 *            nr_ios / waves for equal I/Os, fewer for a vectored run of
 *            unequal lengths): the device serves a request's I/Os side by
 *            side with every other request's, so a request of 16 equal
 *            I/Os (qdepth >= 16) gets what 16 requests of one would, not
 *            what one would.  SimGrid's disk (S19, 3.32) advances each
 *            transfer by rint(rate x step) bytes, so a transfer whose
 *            rate x step stays under half a byte for many steps in a row
 *            stands still meanwhile: one share among 2,000 on a 3 GB/s
 *            disk, with events under 330 ns apart; not seen in the runs
 *            checked.  Shares are SimGrid's I/O priority, a simcall more
 *            than a transfer of one share (so requests of one share and
 *            of more are ordered differently within an instant;
 *            deterministic either way); SimGrid's disk/solver
 *            fairbottleneck ignores them.
 *
 * So a request costs one sleep and one disk activity whatever nr_ios is
 * (a flush: one sleep).  The latency phase of concurrent requests
 * overlaps (that is what the queue depth means); only the transfers share
 * the bandwidth.
 *
 * A worker that has served DISK_WORKER_SERVES requests hands over to a
 * fresh worker actor and returns, busy or idle: SimGrid 3.32 keeps every
 * disk activity an actor started until the actor ends (IoImpl's
 * constructor puts it on the actor's activity list and nothing takes it
 * off; ExecImpl does take itself off), about 190 bytes each with its list
 * node - 250 MiB for a run point of 1.3 M requests, 4 GiB for one of
 * 40 M (README, "How fast the simulator is").  The new worker starts at the same
 * simulated instant and takes the queue where the old one left it, two
 * scheduling sub-rounds later: the order of actors within an instant can
 * move (a review found one quick experiment's row move by 2 us with a
 * hand-over after every request), but at 4,096 the quick
 * experiments and the full runs checked are byte-identical.  SimGrid
 * 3.36 takes a finished IoImpl off its actor's list (commit 103904b118);
 * there the hand-over is not needed and is compiled out.  It is
 * started in one simcall and makes itself a daemon in its first step
 * (sim_sg_shim.h says why: a worker handing over as the simulation ends
 * is killed, and SimGrid must neither leak the new actor's record nor run
 * a killed daemon into a blocking call).
 *
 * Not modelled: seek distance, request merging or reordering inside the
 * device, read/write latency asymmetry beyond the two props, write
 * caches (a flush costs flush_lat whatever was written before it); the
 * queue depth is each request's own (its waves), not a pool the
 * requests in flight share (which an HDD's qdepth of 4 would feel);
 * a large I/O is one I/O (Linux splits it at max_sectors_kb into
 * several device commands, which would weigh it more).
 */
#include "sim_disk.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <simgrid/actor.h>
#include <simgrid/disk.h>
#include <simgrid/host.h>
#include <simgrid/version.h>
#include <xbt/log.h>

#include "base/vm_units.h"
#include "sim_sg_shim.h"
#include "sim_world.h"

XBT_LOG_NEW_DEFAULT_SUBCATEGORY(vmsim_disk, vmsim, "simulated disks");

#define DISK_MAX_WORKERS 64
#define DISK_WORKER_SERVES 4096         /* requests before a worker hands over */
#define DISK_HAND_OVER (SIMGRID_VERSION < 33600UL)
/* A worker's stack, KiB: above glibc's largest mmap threshold (32 MiB on
 * 64-bit), so each stack SimGrid allocates (Debian's 3.32: posix_memalign
 * and an mprotect'ed guard page) is a mapping of its own, unmapped at the
 * worker's end.  With SimGrid's default 8 MiB, glibc's dynamic threshold
 * soon served stacks from the heap, and the freed stacks, split up by
 * small allocations (and by the guard pages' mprotect), fragmented it
 * (at 512 KiB, 470 KB of RSS per hand-over): a run point of 1.3 M
 * requests took 15-25% more CPU than without hand-overs; with this, none
 * more.  Costs: 2.1 GiB of address space per 64-worker disk (a refused
 * mapping aborts in SimGrid), and in huge-heap runs khugepaged may fold
 * a stack's touched pages into a 2 MiB page. */
#define DISK_WORKER_STACK_KIB (33 * 1024)
#define DISK_MAX_QDEPTH 65536
#define DISK_DEFAULT_CAPACITY (1ull << 40)
/* The largest capacity: the fingerprint store indexes the whole disk
 * up front, 4 bytes per leaf (vm_fpstore.c), 4 GiB of address space at
 * 64 TiB with the 64 KiB leaves of 64 KiB grains - beyond it the index
 * alone may not be allocatable on a machine of 24 GiB. */
#define DISK_MAX_CAPACITY (1ull << 46)

struct sim_disk {
    struct port_blk base;          /* first: the port */
    sg_disk_t sg;
    char name[128];
    struct sim_disk_props props;
    struct sim_disk_stats stats;
    struct vm_fpstore *store;
    uint64_t nr_blocks;

    /* FIFO of submitted requests: a ring of pointers, grown by doubling */
    struct port_blk_req **ring;
    size_t ring_cap, ring_head, ring_len;

    struct sim_waitq *idle;        /* workers with nothing to do wait here */
    uint32_t nr_idle;
    uint32_t nr_workers;
    uint32_t nr_spawned;           /* workers started so far (names) */
    int refs;                      /* the owner + one per live worker */
    bool closing;

    uint64_t next_free_ns;         /* IOPS token clock */
    uint64_t ios_seen[2];          /* [0] read, [1] write I/Os served, for faults */
    struct sim_exp_fault faults[SIM_MAX_FAULTS];
    int nr_faults;
    uint64_t fault_t0_ns;          /* the faults' windows count from here */

    void (*notify)(void *arg);
    void *notify_arg;
};

/* ---- props ---- */

static int prop_get(const_sg_disk_t sg, const char *key, bool required,
                    const char *what, const char **out, struct vm_diag *d)
{
    *out = sim_sg_disk_property(sg, key);
    if (*out == NULL && required)
        return vm_diag_set(d, VM_EINVAL, "disk '%s': missing prop '%s' (%s)",
                           sg_disk_get_name(sg), key, what);
    return 0;
}

static int prop_time(const_sg_disk_t sg, const char *key, bool required,
                     uint64_t *out_ns, struct vm_diag *d)
{
    static const char what[] = "a time with a unit, such as '80us'";
    const char *v;
    int rc = prop_get(sg, key, required, what, &v, d);

    if (rc != 0 || v == NULL)
        return rc;
    if (vm_units_parse_time(v, out_ns) != 0)
        return vm_diag_set(d, VM_EINVAL, "disk '%s': prop '%s': expected %s, got '%s'",
                           sg_disk_get_name(sg), key, what, v);
    return 0;
}

static int prop_int(const_sg_disk_t sg, const char *key, bool required,
                    uint64_t min, uint64_t max, uint64_t *out, struct vm_diag *d)
{
    char what[64];
    const char *v;
    uint64_t x;

    snprintf(what, sizeof(what), "an integer %llu..%llu",
             (unsigned long long)min, (unsigned long long)max);
    int rc = prop_get(sg, key, required, what, &v, d);
    if (rc != 0 || v == NULL)
        return rc;
    if (vm_units_parse_u64(v, &x) != 0 || x < min || x > max)
        return vm_diag_set(d, VM_EINVAL, "disk '%s': prop '%s': expected %s, got '%s'",
                           sg_disk_get_name(sg), key, what, v);
    *out = x;
    return 0;
}

/* A size prop of 4 KiB to DISK_MAX_CAPACITY. */
static int prop_size(const_sg_disk_t sg, const char *key, uint64_t *out, struct vm_diag *d)
{
    static const char what[] = "a size of 4KiB to 64TiB, such as '1TiB'";
    const char *v;
    uint64_t x;
    int rc = prop_get(sg, key, false, what, &v, d);

    if (rc != 0 || v == NULL)
        return rc;
    if (vm_units_parse_size(v, &x) != 0 || x < VM_PAGE_SIZE || x > DISK_MAX_CAPACITY)
        return vm_diag_set(d, VM_EINVAL, "disk '%s': prop '%s': expected %s, got '%s'",
                           sg_disk_get_name(sg), key, what, v);
    *out = x;
    return 0;
}

int sim_disk_read_props(sg_disk_t sg, struct sim_disk_props *p, struct vm_diag *d)
{
    uint64_t qdepth = 0, iops = 0;
    int rc;

    static const char *const known[] = { "read_lat", "write_lat", "flush_lat", "qdepth",
                                         "iops", "capacity", NULL };
    char unknown[64];
    rc = sim_sg_disk_unknown_prop(sg, known, unknown, sizeof unknown);
    if (rc < 0)
        return vm_diag_set(d, VM_ENOMEM, "disk '%s': cannot list its props", sg_disk_get_name(sg));
    if (rc > 0)
        return vm_diag_set(d, VM_EINVAL, "disk '%s': unknown prop '%s' (expected read_lat, "
                           "write_lat, flush_lat, qdepth, iops or capacity)",
                           sg_disk_get_name(sg), unknown);
    p->capacity_bytes = DISK_DEFAULT_CAPACITY;
    if ((rc = prop_time(sg, "read_lat", true, &p->read_lat_ns, d)) != 0 ||
        (rc = prop_time(sg, "write_lat", true, &p->write_lat_ns, d)) != 0)
        return rc;
    p->flush_lat_ns = p->write_lat_ns;
    if ((rc = prop_time(sg, "flush_lat", false, &p->flush_lat_ns, d)) != 0 ||
        (rc = prop_int(sg, "qdepth", true, 1, DISK_MAX_QDEPTH, &qdepth, d)) != 0 ||
        (rc = prop_int(sg, "iops", false, 0, UINT32_MAX, &iops, d)) != 0 ||
        (rc = prop_size(sg, "capacity", &p->capacity_bytes, d)) != 0)
        return rc;
    /* A partial last block cannot be addressed. */
    p->capacity_bytes -= p->capacity_bytes % VM_PAGE_SIZE;
    p->qdepth = (uint32_t)qdepth;
    p->iops = (double)iops;
    p->read_bps = sg_disk_read_bandwidth(sg);
    p->write_bps = sg_disk_write_bandwidth(sg);
    if (!(p->read_bps > 0) || !(p->write_bps > 0) || !isfinite(p->read_bps) ||
        !isfinite(p->write_bps))
        return vm_diag_set(d, VM_EINVAL, "disk '%s': read_bw and write_bw must be > 0 and finite",
                           sg_disk_get_name(sg));
    return 0;
}

/* ---- lifetime ---- */

static void disk_free(struct sim_disk *disk)
{
    vm_fpstore_free(disk->store);
    sim_waitq_free(disk->idle);
    free(disk->ring);
    free(disk);
}

static void disk_unref(struct sim_disk *disk)
{
    if (--disk->refs == 0)
        disk_free(disk);
}

/* Runs when a worker returns, and when SimGrid kills it (daemons are
 * killed once the last ordinary actor ends). */
static void worker_exit(int failed, void *arg)
{
    (void)failed;
    disk_unref(arg);
}

/* ---- the request queue ---- */

static int queue_push(struct sim_disk *disk, struct port_blk_req *req)
{
    if (disk->ring_len == disk->ring_cap) {
        size_t cap = disk->ring_cap ? disk->ring_cap * 2 : 64;
        struct port_blk_req **r = malloc(cap * sizeof(*r));
        if (r == NULL)
            return VM_ENOMEM;
        for (size_t i = 0; i < disk->ring_len; i++)
            r[i] = disk->ring[(disk->ring_head + i) % disk->ring_cap];
        free(disk->ring);
        disk->ring = r;
        disk->ring_cap = cap;
        disk->ring_head = 0;
    }
    disk->ring[(disk->ring_head + disk->ring_len) % disk->ring_cap] = req;
    disk->ring_len++;
    return 0;
}

static struct port_blk_req *queue_pop(struct sim_disk *disk)
{
    struct port_blk_req *req = disk->ring[disk->ring_head];

    disk->ring_head = (disk->ring_head + 1) % disk->ring_cap;
    disk->ring_len--;
    return req;
}

/* ---- serving a request ---- */

/* Product of the factors of the slow windows covering now. */
static double slow_factor(const struct sim_disk *disk, uint64_t now_ns)
{
    double f = 1.0;

    if (now_ns < disk->fault_t0_ns)
        return f;
    uint64_t t = now_ns - disk->fault_t0_ns;
    for (int i = 0; i < disk->nr_faults; i++) {
        const struct sim_exp_fault *ft = &disk->faults[i];
        if (ft->kind == SIM_FAULT_DISK_SLOW && t >= ft->from_ns && t < ft->until_ns)
            f *= ft->factor;
    }
    return f;
}

/* Count the request's I/Os [first, first + ios) of its direction against
 * the error countdowns; VM_EIO if any of them falls in a failing range. */
static int injected_error(struct sim_disk *disk, bool is_write, uint64_t ios)
{
    uint64_t first = disk->ios_seen[is_write];
    uint64_t end = first + ios;
    int rc = 0;

    disk->ios_seen[is_write] = end;
    for (int i = 0; i < disk->nr_faults; i++) {
        const struct sim_exp_fault *ft = &disk->faults[i];
        if (ft->kind != SIM_FAULT_DISK_ERROR || ft->on_write != is_write)
            continue;
        uint64_t lo = ft->after_ios;
        uint64_t hi = ft->count == 0 || ft->count > UINT64_MAX - lo ? UINT64_MAX
                                                                     : lo + ft->count;
        uint64_t a = first > lo ? first : lo;
        uint64_t b = end < hi ? end : hi;
        if (a < b)
            rc = VM_EIO;
    }
    return rc;
}

static void complete(struct sim_disk *disk, struct port_blk_req *req, int rc)
{
    req->done_ns = sim_now_ns();
    req->cb(req, rc);
    if (disk->notify != NULL)
        disk->notify(disk->notify_arg);
}

/*
 * The bandwidth shares of a request's transfer: the I/Os it has on the
 * device at once, on average over the transfer.  Its ios I/Os go in waves
 * waves; a wave lasts as long as its longest I/O, so the transfer keeps
 * nr_blocks / (waves x longest) I/Os busy on average: ios / waves for
 * equal I/Os (at most qdepth), fewer when a vectored run's lengths differ
 * (its short I/Os end early, as separate requests would).  At least one.
 */
static double transfer_shares(const struct port_blk_req *req, uint64_t ios, uint64_t waves)
{
    double shares;

    if (req->io_blocks) {
        uint32_t longest = 1;
        for (uint64_t i = 0; i < ios; i++)
            if (req->io_blocks[i] > longest)
                longest = req->io_blocks[i];
        shares = (double)req->nr_blocks / ((double)waves * longest);
    } else {
        shares = (double)ios / (double)waves;
    }
    return shares > 1.0 ? shares : 1.0;
}

static void serve(struct sim_disk *disk, struct port_blk_req *req)
{
    const struct sim_disk_props *p = &disk->props;
    uint64_t now = sim_now_ns();
    uint64_t ios = port_blk_req_ios(req);
    bool is_write = req->op == PORT_BLK_WRITE;
    uint64_t lat_ns;
    int rc = 0;

    if (!vm_fpstore_req_fits(disk->store, req)) {
        XBT_DEBUG("disk '%s': lba=%llu n=%u beyond %llu blocks", disk->name,
                  (unsigned long long)req->lba, req->nr_blocks,
                  (unsigned long long)disk->nr_blocks);
        complete(disk, req, VM_ERANGE);
        return;
    }
    switch (req->op) {
    case PORT_BLK_READ:  lat_ns = p->read_lat_ns; break;
    case PORT_BLK_WRITE: lat_ns = p->write_lat_ns; break;
    default:             lat_ns = p->flush_lat_ns; break;
    }
    uint64_t waves = (ios + p->qdepth - 1) / p->qdepth;
    uint64_t delay_ns = (uint64_t)llround((double)waves * (double)lat_ns * slow_factor(disk, now));

    if (req->op != PORT_BLK_FLUSH) {
        if (p->iops > 0) {
            uint64_t start = disk->next_free_ns > now ? disk->next_free_ns : now;
            disk->next_free_ns = start + (uint64_t)ceil((double)ios * 1e9 / p->iops);
            if (disk->next_free_ns - now > delay_ns)
                delay_ns = disk->next_free_ns - now;
        }
        rc = injected_error(disk, is_write, ios);
    }
    XBT_DEBUG("disk '%s': %s lba=%llu n=%u ios=%llu delay=%lluns%s", disk->name,
              req->op == PORT_BLK_READ ? "read" : is_write ? "write" : "flush",
              (unsigned long long)req->lba, req->nr_blocks, (unsigned long long)ios,
              (unsigned long long)delay_ns, rc ? " (injected error)" : "");
    sim_sleep_ns(delay_ns);

    uint64_t bytes = (uint64_t)req->nr_blocks * VM_PAGE_SIZE;
    if (rc == 0 && req->op != PORT_BLK_FLUSH && bytes > 0) {
        sim_sg_disk_io(disk->sg, bytes, is_write, transfer_shares(req, ios, waves));
        sim_activity_add(1);
    }
    /* a write-back I/O (sim_disk_submit_timing) carries no content: the
     * page cache stored it when it accepted the write */
    bool timing_only = is_write && !req->packed && req->fps == NULL;
    if (rc == 0 && !timing_only)
        rc = vm_fpstore_apply(disk->store, req);

    struct sim_disk_stats *s = &disk->stats;
    uint64_t lat = sim_now_ns() - req->submit_ns;
    switch (req->op) {
    case PORT_BLK_READ:
        s->read_reqs++;
        s->read_ios += ios;
        if (rc == 0)
            s->read_bytes += bytes;
        vm_hist_add(&s->read_lat_ns, lat);
        break;
    case PORT_BLK_WRITE:
        s->write_reqs++;
        s->write_ios += ios;
        if (rc == 0)
            s->write_bytes += bytes;
        vm_hist_add(&s->write_lat_ns, lat);
        break;
    case PORT_BLK_FLUSH:
        s->flushes++;
        break;
    }
    if (rc == VM_EIO)
        s->errors++;
    complete(disk, req, rc);
}

static void worker_main(void);

/* Start a worker actor; it holds a reference on the disk until it ends,
 * and makes itself a daemon in its first step (workers must not keep the
 * simulation alive).  0 or VM_ENOMEM. */
static int start_worker(struct sim_disk *disk, sg_host_t on, uint32_t i)
{
    char aname[160];
    snprintf(aname, sizeof(aname), "%s:w%u", disk->name, i);
    /* counted before the simcall: a creator killed in the same round
     * drops its own reference, never the new worker's */
    disk->refs++;
    disk->stats.workers++;
    if (sim_sg_actor_start(aname, on, worker_main, disk, DISK_WORKER_STACK_KIB) != 0) {
        disk->refs--;
        disk->stats.workers--;
        return VM_ENOMEM;
    }
    return 0;
}

static void worker_main(void)
{
    struct sim_disk *disk = sg_actor_self_get_data();
    uint32_t served = 0;

    sim_sg_self_daemonize_on_exit(worker_exit, disk);
    for (;;) {
        /* after many requests, busy or idle: hand over to a fresh actor,
         * so SimGrid frees the disk activities this one started */
        if (served >= DISK_WORKER_SERVES && !disk->closing &&
            DISK_HAND_OVER && start_worker(disk, sg_host_self(), disk->nr_spawned++) == 0)
            return;
        while (disk->ring_len == 0) {
            if (disk->closing)
                return;
            disk->nr_idle++;
            sim_waitq_wait(disk->idle);
            disk->nr_idle--;
        }
        serve(disk, queue_pop(disk));
        served++;
    }
}

/* ---- the port ---- */

int sim_disk_check_req(const struct port_blk_req *req)
{
    if (req == NULL || req->cb == NULL)
        return VM_EINVAL;
    switch (req->op) {
    case PORT_BLK_FLUSH:
        break;
    case PORT_BLK_READ:
    case PORT_BLK_WRITE:
        if (req->nr_blocks == 0 || port_blk_req_ios(req) > req->nr_blocks)
            return VM_EINVAL;
        if (req->lbas && (req->packed ||
                          (!req->io_blocks && req->nr_blocks % port_blk_req_ios(req))))
            return VM_EINVAL;           /* vectored runs: plain, equal I/Os unless sized */
        if (req->io_blocks && !req->lbas)
            return VM_EINVAL;           /* I/O lengths only for a vectored run */
        if (!req->packed && req->fps == NULL)
            return VM_EINVAL;
        if (req->packed && req->op == PORT_BLK_WRITE &&
            ((req->nr_fps > 0 && req->fps == NULL) || (req->len > 0 && req->bytes == NULL)))
            return VM_EINVAL;
        break;
    default:
        return VM_EINVAL;
    }
    return 0;
}

static int enqueue(struct sim_disk *disk, struct port_blk_req *req)
{
    int rc = queue_push(disk, req);
    if (rc != 0)
        return rc;
    req->submit_ns = sim_now_ns();
    req->done_ns = 0;
    if (disk->nr_idle > 0)
        sim_waitq_wake_one(disk->idle);
    return 0;
}

static int disk_submit(struct port_blk *dev, struct port_blk_req *req)
{
    int rc = sim_disk_check_req(req);
    return rc ? rc : enqueue((struct sim_disk *)dev, req);
}

int sim_disk_submit_timing(struct sim_disk *disk, struct port_blk_req *req)
{
    if (req == NULL || req->cb == NULL || req->op != PORT_BLK_WRITE || req->packed ||
        req->fps != NULL || req->lbas != NULL || req->nr_blocks == 0)
        return VM_EINVAL;
    return enqueue(disk, req);
}

static uint64_t disk_nr_blocks(const struct port_blk *dev)
{
    return ((const struct sim_disk *)dev)->nr_blocks;
}

static const struct port_blk_ops disk_ops = {
    .version = PORT_BLK_VERSION,
    .name = "sim",
    .submit = disk_submit,
    .nr_blocks = disk_nr_blocks,
};

struct sim_disk *sim_disk_open(sg_host_t host, const char *name, struct vm_diag *d)
{
    return sim_disk_open_leaf(host, name, 9, d);
}

struct sim_disk *sim_disk_open_leaf(sg_host_t host, const char *name, unsigned leaf_shift,
                                    struct vm_diag *d)
{
    sg_disk_t sg = sim_world_disk(host, name, d);
    struct sim_disk *disk;

    if (sg == NULL)
        return NULL;
    disk = calloc(1, sizeof(*disk));
    if (disk == NULL) {
        vm_diag_set(d, VM_ENOMEM, "disk '%s': out of memory", sg_disk_get_name(sg));
        return NULL;
    }
    disk->base.ops = &disk_ops;
    disk->sg = sg;
    snprintf(disk->name, sizeof(disk->name), "%s", sg_disk_get_name(sg));
    vm_hist_init(&disk->stats.read_lat_ns);
    vm_hist_init(&disk->stats.write_lat_ns);
    disk->refs = 1;
    if (sim_disk_read_props(disk->sg, &disk->props, d) != 0) {
        disk_free(disk);
        return NULL;
    }
    disk->nr_blocks = disk->props.capacity_bytes / VM_PAGE_SIZE;
    disk->store = vm_fpstore_new_leaf(disk->nr_blocks, leaf_shift);
    disk->idle = sim_waitq_new();
    if (disk->store == NULL || disk->idle == NULL) {
        vm_diag_set(d, VM_ENOMEM, "disk '%s': out of memory", disk->name);
        disk_free(disk);
        return NULL;
    }
    disk->nr_workers = sim_disk_concurrency(&disk->props);
    sg_host_t on = sg_disk_get_host(sg);
    for (uint32_t i = 0; i < disk->nr_workers; i++) {
        if (start_worker(disk, on, disk->nr_spawned++) != 0) {
            vm_diag_set(d, VM_ENOMEM, "disk '%s': out of memory", disk->name);
            sim_disk_close(disk);
            return NULL;
        }
    }
    XBT_DEBUG("disk '%s' on '%s': rlat=%lluns wlat=%lluns qd=%u iops=%.0f rbw=%.0f wbw=%.0f",
              disk->name, sg_host_get_name(on), (unsigned long long)disk->props.read_lat_ns,
              (unsigned long long)disk->props.write_lat_ns, disk->props.qdepth,
              disk->props.iops, disk->props.read_bps, disk->props.write_bps);
    return disk;
}

void sim_disk_close(struct sim_disk *disk)
{
    if (disk == NULL)
        return;
    /* Live workers finish the queue, see `closing` and return; the last
     * reference frees the disk.  After simgrid_run() they are gone and
     * this frees it at once. */
    disk->closing = true;
    if (disk->refs > 1 && disk->nr_idle > 0)
        sim_waitq_wake_all(disk->idle);
    disk_unref(disk);
}

struct port_blk *sim_disk_port(struct sim_disk *disk)
{
    return &disk->base;
}

const struct sim_disk_props *sim_disk_props(const struct sim_disk *disk)
{
    return &disk->props;
}

double sim_disk_copy_bps(const struct sim_disk_props *p)
{
    double r = p->read_bps, w = p->write_bps;
    double shared = (r > w ? r : w) / 2;
    double x = r < w ? r : w;
    return x < shared ? x : shared;
}

uint32_t sim_disk_concurrency(const struct sim_disk_props *p)
{
    return p->qdepth < DISK_MAX_WORKERS ? p->qdepth : DISK_MAX_WORKERS;
}

const struct sim_disk_stats *sim_disk_stats(const struct sim_disk *disk)
{
    return &disk->stats;
}

struct vm_fpstore *sim_disk_store(struct sim_disk *disk)
{
    return disk->store;
}

const char *sim_disk_name(const struct sim_disk *disk)
{
    return disk->name;
}

void sim_disk_set_notify(struct sim_disk *disk, void (*fn)(void *arg), void *arg)
{
    disk->notify = fn;
    disk->notify_arg = arg;
}

int sim_disk_set_faults(struct sim_disk *disk, const struct sim_exp_fault *f, int n,
                        uint64_t t0_ns)
{
    disk->nr_faults = 0;
    disk->fault_t0_ns = t0_ns;
    disk->ios_seen[0] = disk->ios_seen[1] = 0;
    for (int i = 0; i < n; i++)
        if (f[i].kind == SIM_FAULT_DISK_ERROR || f[i].kind == SIM_FAULT_DISK_SLOW) {
            int rc = sim_disk_add_fault(disk, &f[i]);
            if (rc)
                return rc;
        }
    return 0;
}

int sim_disk_add_fault(struct sim_disk *disk, const struct sim_exp_fault *f)
{
    if (disk->nr_faults >= SIM_MAX_FAULTS)
        return VM_ENOSPC;
    disk->faults[disk->nr_faults] = *f;
    disk->nr_faults++;
    return 0;
}
