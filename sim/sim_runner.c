/*
 * sim_runner.c - run an experiment's points, each in a forked child.
 *
 * SimGrid's engine runs once per process, so every run point is a child:
 * it initialises SimGrid, loads the platform, runs the mechanism driver in
 * an actor and writes its record (JSON, one line) to a pipe.  The parent
 * keeps up to `jobs` children, reads their pipes with poll() so none can
 * block on a full pipe, and slots records by point index, so the result
 * does not depend on -j or on completion order.  A child that dies
 * (signal, exit without a record) becomes a failed record naming why.
 * Wall time and peak RSS per child (wait4) go to the `host` block only.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <simgrid/actor.h>
#include <simgrid/engine.h>
#include <simgrid/host.h>

#include "sim_mech.h"
#include "sim_runner.h"
#include "sim_world.h"

struct driver_ctx {
    const struct sim_exp *exp;
    sg_host_t host;
    struct sim_outcome out;
    bool finished;              /* the mechanism's run() returned */
};

/* In a forked child (child_main): the pipe its record goes to, else -1. */
static int child_fd = -1;
static struct driver_ctx *driver_ctx;   /* the run point's, while its actor runs */
static sg_actor_t driver_actor;

static cJSON *make_record(const struct sim_exp *exp, const struct sim_outcome *o);
static void send_record(int fd, cJSON *rec);

/* True when every actor but the caller is a daemon: the caller's end
 * ends the simulation (SimGrid then kills the daemons, and no simulated
 * event happens any more). */
static bool last_ordinary_actor(void)
{
    size_t n = sg_actor_count();
    sg_actor_t *all = sg_actor_list();
    sg_actor_t self = sg_actor_self();
    bool last = all != NULL;
    for (size_t i = 0; last && i < n; i++)
        if (all[i] != self && !sg_actor_is_daemon(all[i]))
            last = false;
    free(all);
    return last;
}

/* The driver's end: the core's own metric (the activities the run
 * issued); the record is final. */
static void driver_done(struct driver_ctx *c)
{
    sim_outcome_set(&c->out, sim_mech_activities_metric(c->exp->mech),
                    (double)sim_activity_count());
    c->finished = true;
}

void sim_runner_point_done(struct sim_outcome *out)
{
    struct driver_ctx *c = driver_ctx;
    if (child_fd < 0 || !c || out != &c->out || sg_actor_self() != driver_actor ||
        !last_ordinary_actor())
        return;
    driver_done(c);
    send_record(child_fd, make_record(c->exp, &c->out));
    _exit(0);
}

/* The run point's actor: the mechanism's driver, then the core's own
 * metric.  In a forked child whose driver is the last ordinary actor,
 * the record is final here: it is sent and the child exits at once,
 * skipping SimGrid's tear-down (the disk workers, their stacks and the
 * disk activities each keeps until it hands over, sim_disk.c; before the
 * workers handed over, freeing 1.3 M kept activities took a second,
 * about 8% of a run point that issued them). */
static void driver_main(int argc, char **argv)
{
    struct driver_ctx *c = sg_actor_self_get_data();
    const struct sim_mech *m = c->exp->mech;
    driver_ctx = c;
    driver_actor = sg_actor_self();
    m->run(c->exp, c->host, &c->out);
    driver_done(c);
    sim_runner_point_done(&c->out);
    driver_ctx = NULL;
}

static cJSON *make_record(const struct sim_exp *exp, const struct sim_outcome *o)
{
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "id", exp->id);
    cJSON_AddStringToObject(rec, "variant", exp->variant);
    cJSON_AddStringToObject(rec, "policy", exp->policy);
    cJSON *pt = cJSON_AddObjectToObject(rec, "point");
    for (int i = 0; i < exp->nr_point_keys; i++)
        cJSON_AddStringToObject(pt, exp->point_keys[i], exp->point_values[i]);
    const struct sim_mech *mech = exp->mech;
    cJSON *m = cJSON_AddObjectToObject(rec, "metrics");
    for (int i = 0; i < sim_mech_nr_metrics(mech); i++)
        if (o->have[i])
            cJSON_AddNumberToObject(m, sim_mech_metric(mech, i)->name, o->metric[i]);
    cJSON *inv = cJSON_AddObjectToObject(rec, "invariants");
    uint64_t violations = 0;
    for (int i = 0; i < mech->nr_invariants; i++) {
        cJSON_AddNumberToObject(inv, mech->invariants[i].name, (double)o->inv[i]);
        if (mech->invariants[i].is_violation)
            violations += o->inv[i];
    }
    cJSON_AddNumberToObject(rec, "violations", (double)violations);
    /* an expected failure (one that injected faults make happen) is the
     * mechanism's to count; any error that ended the run fails the record */
    cJSON_AddBoolToObject(rec, "ok", violations == 0 && o->rc == 0);
    if (o->rc)
        cJSON_AddStringToObject(rec, "error", o->error);
    if (o->detail[0]) {
        cJSON *dt = cJSON_Parse(o->detail);
        if (dt)
            cJSON_AddItemToObject(rec, "detail", dt);
        else
            cJSON_AddStringToObject(rec, "detail", o->detail);
    }
    return rec;
}

static cJSON *failed_record(const struct sim_exp *exp, const char *why)
{
    struct sim_outcome o;
    memset(&o, 0, sizeof(o));
    o.rc = VM_EIO;
    snprintf(o.error, sizeof(o.error), "%s", why);
    return make_record(exp, &o);
}

int sim_runner_run_point(const struct sim_exp *exp, int nr_sg_args, char **sg_args,
                         cJSON **record, struct vm_diag *d)
{
    sim_world_init_options(nr_sg_args, sg_args);

    int rc = sim_world_load_platform(exp->platform, d);
    if (rc < 0)
        return rc;
    sg_host_t host = sim_world_host(exp->host, d);
    if (!host)
        return d && d->code ? d->code : VM_EINVAL;

    struct driver_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return vm_diag_set(d, VM_ENOMEM, "out of memory");
    ctx->exp = exp;
    ctx->host = host;
    sg_actor_t a = sg_actor_init("driver", host);
    sg_actor_set_data(a, ctx);
    sg_actor_start(a, driver_main, 0, NULL);
    simgrid_run();
    /* SimGrid ends the simulation when every actor waits for something
     * that never comes (it says "Deadlock detected"): the point did not
     * finish, whatever its outcome holds so far */
    if (!ctx->finished)
        sim_outcome_fail(&ctx->out, VM_EIO, "the simulation ended before the run point "
                         "finished (every actor was waiting: a deadlock)");
    *record = make_record(exp, &ctx->out);
    free(ctx);
    return 0;
}

/* The child: run, print the record to fd, exit. */
static void child_main(const struct sim_exp *exp, const struct sim_run_opts *opts, int fd)
{
    struct vm_diag d;
    vm_diag_clear(&d);
    cJSON *rec = NULL;
    child_fd = fd;
    int rc = sim_runner_run_point(exp, opts->nr_sg_args, opts->sg_args, &rec, &d);
    if (rc < 0 || !rec) {
        char why[600];
        snprintf(why, sizeof(why), "%s", d.code ? d.msg : vm_strerror(rc));
        rec = failed_record(exp, why);
    }
    send_record(fd, rec);
    _exit(0);
}

/* Write rec (JSON, one line) to fd and close it; _exit(3) if it cannot. */
static void send_record(int fd, cJSON *rec)
{
    char *txt = cJSON_PrintUnformatted(rec);
    size_t len = txt ? strlen(txt) : 0, off = 0;
    while (off < len) {
        ssize_t w = write(fd, txt + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            _exit(3);
        off += (size_t)w;
    }
    close(fd);
}

struct slot {
    pid_t pid;
    int fd;
    int point;
    char *buf;
    size_t len, cap;
    double t0;
};

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int slot_read(struct slot *s)
{
    if (s->cap - s->len < 4096) {
        size_t cap = s->cap ? s->cap * 2 : 16384;
        char *b = realloc(s->buf, cap);
        if (!b)
            return VM_ENOMEM;
        s->buf = b;
        s->cap = cap;
    }
    ssize_t n = read(s->fd, s->buf + s->len, s->cap - s->len - 1);
    if (n < 0)
        return errno == EINTR ? 1 : VM_EIO;
    if (n == 0)
        return 0;
    s->len += (size_t)n;
    return 1;
}

int sim_runner_run(const struct sim_config *cfg, const struct sim_run_opts *opts,
                   cJSON **records_out, cJSON **host_out, struct vm_diag *d)
{
    enum { MAX_JOBS = SIM_RUNNER_MAX_JOBS };
    int n = cfg->nr_points, jobs = opts->jobs > 0 ? opts->jobs : 1;
    if (jobs > MAX_JOBS)
        jobs = MAX_JOBS;
    cJSON **recs = calloc((size_t)n + 1, sizeof(*recs));
    double *wall = calloc((size_t)n + 1, sizeof(*wall));
    long *rss = calloc((size_t)n + 1, sizeof(*rss));
    struct slot *slots = calloc((size_t)jobs, sizeof(*slots));
    if (!recs || !wall || !rss || !slots) {
        free(recs); free(wall); free(rss); free(slots);
        return vm_diag_set(d, VM_ENOMEM, "out of memory");
    }
    double t_begin = wall_now();
    int next = 0, running = 0, finished = 0, rc = 0;
    pid_t parent = getpid();
    fflush(NULL);

    while (finished < n && rc == 0) {
        while (running < jobs && next < n) {
            int pfd[2];
            if (pipe(pfd) < 0) {
                rc = vm_diag_set(d, VM_EIO, "pipe: %s", strerror(errno));
                break;
            }
            pid_t pid = fork();
            if (pid < 0) {
                int e = errno;
                close(pfd[0]);
                close(pfd[1]);
                if (e == EAGAIN && running > 0)
                    break;              /* out of processes for now: wait for one */
                rc = vm_diag_set(d, VM_EIO, "fork: %s", strerror(e));
                break;
            }
            if (pid == 0) {
                /* a run point must not outlive the run: killed with it
                 * (kept across the huge-heap re-exec), also if the run
                 * died before this line */
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
                    _exit(3);
                close(pfd[0]);
                for (int j = 0; j < jobs; j++)
                    if (slots[j].pid)
                        close(slots[j].fd);
                child_main(&cfg->points[next], opts, pfd[1]);
            }
            close(pfd[1]);
            for (int j = 0; j < jobs; j++) {
                if (!slots[j].pid) {
                    slots[j] = (struct slot){ .pid = pid, .fd = pfd[0], .point = next,
                                              .t0 = wall_now() };
                    break;
                }
            }
            next++;
            running++;
        }
        if (rc || running == 0)
            break;

        struct pollfd pfds[MAX_JOBS];
        int map[MAX_JOBS], np = 0;
        for (int j = 0; j < jobs; j++) {
            if (slots[j].pid) {
                pfds[np] = (struct pollfd){ .fd = slots[j].fd, .events = POLLIN };
                map[np++] = j;
            }
        }
        if (poll(pfds, (nfds_t)np, -1) < 0) {
            if (errno == EINTR)
                continue;
            rc = vm_diag_set(d, VM_EIO, "poll: %s", strerror(errno));
            break;
        }
        for (int k = 0; k < np; k++) {
            if (!(pfds[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            struct slot *s = &slots[map[k]];
            int r = slot_read(s);
            if (r > 0)
                continue;
            /* EOF (or a read error): reap the child */
            close(s->fd);
            int status = 0;
            struct rusage ru;
            memset(&ru, 0, sizeof(ru));
            while (wait4(s->pid, &status, 0, &ru) < 0 && errno == EINTR)
                ;
            const struct sim_exp *exp = &cfg->points[s->point];
            cJSON *rec = NULL;
            if (s->buf && s->len) {
                s->buf[s->len] = '\0';
                rec = cJSON_Parse(s->buf);
            }
            if (!rec || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                char why[160];
                if (WIFSIGNALED(status))
                    snprintf(why, sizeof(why), "run point crashed (signal %d, %s)",
                             WTERMSIG(status), strsignal(WTERMSIG(status)));
                else
                    snprintf(why, sizeof(why), "run point exited with status %d and no result",
                             WIFEXITED(status) ? WEXITSTATUS(status) : -1);
                cJSON_Delete(rec);
                rec = failed_record(exp, why);
            }
            recs[s->point] = rec;
            wall[s->point] = wall_now() - s->t0;
            rss[s->point] = ru.ru_maxrss;
            free(s->buf);
            finished++;
            running--;
            if (opts->progress) {
                cJSON *ok = cJSON_GetObjectItem(rec, "ok");
                fprintf(stderr, "\r\033[K[%d/%d] %s %s (%.1f s)%s", finished, n, exp->id,
                        cJSON_IsTrue(ok) ? "done" : "FAILED", wall[s->point],
                        finished == n ? "\n" : "");
                fflush(stderr);
            }
            memset(s, 0, sizeof(*s));
        }
    }
    /* on a runner error, stop and reap what is still running */
    for (int j = 0; j < jobs; j++) {
        if (slots[j].pid) {
            kill(slots[j].pid, SIGKILL);
            close(slots[j].fd);
            waitpid(slots[j].pid, NULL, 0);
            free(slots[j].buf);
        }
    }
    if (rc == 0) {
        cJSON *arr = cJSON_CreateArray();
        cJSON *host = cJSON_CreateObject();
        cJSON_AddNumberToObject(host, "wall_s", wall_now() - t_begin);
        cJSON_AddNumberToObject(host, "jobs", jobs);
        cJSON *per = cJSON_AddArrayToObject(host, "points");
        long max_rss = 0;
        for (int i = 0; i < n; i++) {
            cJSON_AddItemToArray(arr, recs[i]);
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "id", cfg->points[i].id);
            cJSON_AddNumberToObject(p, "wall_s", wall[i]);
            cJSON_AddNumberToObject(p, "max_rss_kib", (double)rss[i]);
            cJSON_AddItemToArray(per, p);
            if (rss[i] > max_rss)
                max_rss = rss[i];
        }
        cJSON_AddNumberToObject(host, "max_rss_kib", (double)max_rss);
        *records_out = arr;
        *host_out = host;
    } else {
        for (int i = 0; i < n; i++)
            cJSON_Delete(recs[i]);
    }
    free(recs);
    free(wall);
    free(rss);
    free(slots);
    return rc;
}
