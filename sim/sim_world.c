/*
 * sim_world.c - SimGrid glue: engine start-up with vmsim's defaults,
 * platform loading without aborts, the clock port, counted sleeps and
 * wait queues (see sim_world.h).
 *
 * Based on SimGrid 3.32's C API (simgrid/engine.h, actor.h, cond.h); the
 * two C++-only pieces (catching parse exceptions, disk properties) are in
 * sim_sg_shim.cpp.  Defaults: network/model:CM02 with
 * network/crosstraffic:0, so a message costs exactly latency +
 * size/bandwidth (SimGrid's default LV08 multiplies latency by 13.01, and
 * cross-traffic would take 1/21 of each link for the reverse ACK flow);
 * SimGrid's own log lines at warning and above only.
 *
 * This file also defines vmsim's root log category `vmsim`; every sim/
 * file logs in a subcategory of it (--log=vmsim.thres:debug).
 */
#include "sim_world.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <simgrid/actor.h>
#include <simgrid/cond.h>
#include <simgrid/engine.h>
#include <simgrid/host.h>
#include <simgrid/disk.h>
#include <simgrid/mutex.h>
#include <xbt/log.h>
#include <xbt/sysdep.h>

#include "sim_disk.h"
#include "sim_sg_shim.h"

XBT_LOG_NEW_CATEGORY(vmsim, "vmsim simulator");
XBT_LOG_NEW_DEFAULT_SUBCATEGORY(vmsim_world, vmsim, "engine, platform and clock");

/* Prepended to argv, so a --cfg= given by the user (which comes later)
 * still wins. */
static char cfg_network_model[] = "--cfg=network/model:CM02";
static char cfg_crosstraffic[] = "--cfg=network/crosstraffic:0";

static uint64_t nr_activities;

void sim_world_init(int *argc, char **argv)
{
    static char prog[] = "vmsim";
    static char *no_argv[] = { prog, NULL };
    int no_argc = 1;

    if (argc == NULL || argv == NULL || *argc < 1) {
        argc = &no_argc;
        argv = no_argv;
    }
    /* Before simgrid_init(), so that --log= options override them. */
    xbt_log_control_set("root.thres:warning");
    xbt_log_control_set("xbt_cfg.thres:warning");

    int n = *argc + 2;
    char **av = calloc((size_t)n + 1, sizeof(*av));
    if (av == NULL) {
        /* Too early for a diag: run with the user's arguments only. */
        simgrid_init(argc, argv);
        return;
    }
    av[0] = argv[0];
    av[1] = cfg_network_model;
    av[2] = cfg_crosstraffic;
    for (int i = 1; i < *argc; i++)
        av[i + 2] = argv[i];
    simgrid_init(&n, av);
    /* simgrid_init() removed the options it consumed; hand the rest back. */
    int out = 0;
    for (int i = 0; i < n; i++)
        if (av[i] != cfg_network_model && av[i] != cfg_crosstraffic)
            argv[out++] = av[i];
    argv[out] = NULL;
    *argc = out;
    free(av);
}

int sim_world_load_platform(const char *path, struct vm_diag *d)
{
    char msg[VM_DIAG_MSG_MAX];

    if (access(path, R_OK) != 0)
        return vm_diag_set(d, VM_ENOENT, "platform '%s': %s", path, strerror(errno));
    if (sim_sg_load_platform(path, msg, sizeof(msg)) != 0)
        return vm_diag_set(d, VM_EPARSE, "platform '%s': %s", path, msg);
    XBT_DEBUG("platform '%s' loaded: %zu hosts", path, sg_host_count());
    return 0;
}

static int cmp_host_name(const void *a, const void *b)
{
    return strcmp(sg_host_get_name(*(const sg_host_t *)a),
                  sg_host_get_name(*(const sg_host_t *)b));
}

static unsigned host_nr_disks(sg_host_t h)
{
    unsigned n = 0;
    sg_disk_t *disks = NULL;

    sg_host_get_disks(h, &n, &disks);
    xbt_free(disks);
    return n;
}

sg_host_t sim_world_host(const char *name, struct vm_diag *d)
{
    if (name != NULL && name[0] != '\0') {
        sg_host_t h = sg_host_by_name(name);
        if (h == NULL)
            vm_diag_set(d, VM_ENOENT, "no host '%s' in the platform", name);
        return h;
    }
    size_t n = sg_host_count();
    sg_host_t *hosts = sg_host_list();
    sg_host_t found = NULL;

    qsort(hosts, n, sizeof(*hosts), cmp_host_name);
    for (size_t i = 0; i < n && found == NULL; i++)
        if (host_nr_disks(hosts[i]) > 0)
            found = hosts[i];
    xbt_free(hosts);
    if (found == NULL)
        vm_diag_set(d, VM_ENOENT, "no host with a disk in the platform");
    return found;
}

sg_disk_t sim_world_disk(sg_host_t host, const char *name, struct vm_diag *d)
{
    unsigned n = 0;
    sg_disk_t *disks = NULL;
    sg_disk_t found = NULL;
    bool any = name == NULL || name[0] == '\0';

    sg_host_get_disks(host, &n, &disks);
    for (unsigned i = 0; i < n && found == NULL; i++)
        if (any || strcmp(sg_disk_get_name(disks[i]), name) == 0)
            found = disks[i];
    xbt_free(disks);
    if (found == NULL) {
        if (any)
            vm_diag_set(d, VM_ENOENT, "host '%s' has no disk", sg_host_get_name(host));
        else
            vm_diag_set(d, VM_ENOENT, "host '%s' has no disk '%s'", sg_host_get_name(host), name);
    }
    return found;
}

/*
 * sim_world_check_platform() runs SimGrid in a child: its engine cannot
 * be reset, and a bad platform or option makes it abort with a backtrace.
 * The child's stderr goes into the same pipe as its verdict, so the
 * parent can turn whatever SimGrid said into one line.  Protocol, in
 * text: "\001INIT\n" once simgrid_init() accepted the options, then
 * "\001RESULT <rc> <message>\n".
 */
#define CHECK_OUTPUT_MAX 65536

static void check_child(int fd, const char *path, const char *host, const char *disk,
                        int nr_sg_args, char **sg_args)
{
    struct vm_diag cd;
    int rc;
    char *argv[66];
    int argc = 0;
    struct rlimit no_core = { 0, 0 };

    setrlimit(RLIMIT_CORE, &no_core);   /* an abort leaves no core file behind */
    dup2(fd, STDERR_FILENO);
    argv[argc++] = "vmsim";
    for (int i = 0; i < nr_sg_args && argc < 64; i++)
        argv[argc++] = sg_args[i];
    argv[argc] = NULL;
    vm_diag_clear(&cd);
    sim_world_init(&argc, argv);
    dprintf(fd, "\001INIT\n");
    xbt_log_control_set("root.thres:critical");
    rc = sim_world_load_platform(path, &cd);
    if (rc == 0) {
        sg_host_t h = sim_world_host(host, &cd);
        if (h == NULL)
            rc = cd.code;
        else if (sim_world_disk(h, disk, &cd) == NULL)
            rc = cd.code;
    }
    /* every disk of the platform must suit the disk model */
    size_t nh = rc == 0 ? sg_host_count() : 0;
    sg_host_t *hosts = nh ? sg_host_list() : NULL;
    for (size_t i = 0; rc == 0 && i < nh; i++) {
        unsigned n = 0;
        sg_disk_t *disks = NULL;
        sg_host_get_disks(hosts[i], &n, &disks);
        for (unsigned j = 0; rc == 0 && j < n; j++) {
            struct sim_disk_props props;
            struct vm_diag dd;
            vm_diag_clear(&dd);
            rc = sim_disk_read_props(disks[j], &props, &dd);
            if (rc)
                vm_diag_set(&cd, rc, "host '%s': %s", sg_host_get_name(hosts[i]), dd.msg);
        }
        xbt_free(disks);
    }
    xbt_free(hosts);
    for (char *p = cd.msg; *p; p++)
        if (*p == '\n')
            *p = ' ';
    dprintf(fd, "\001RESULT %d %s\n", rc, cd.msg);
    _exit(0);
}

/* SimGrid's own words in what a dying child printed: the text after
 * "CRITICAL] " (xbt_die, uncaught exceptions) without the exception's
 * type, else the first line. */
static void simgrid_words(const char *out, char *buf, size_t len)
{
    const char *s = strstr(out, "CRITICAL] ");
    s = s ? s + strlen("CRITICAL] ") : out;
    while (*s == '\001' || *s == '\n')
        s++;
    static const char uncaught[] = "Uncaught exception ";
    if (strncmp(s, uncaught, sizeof uncaught - 1) == 0) {
        const char *colon = strstr(s, ": ");
        size_t eol = strcspn(s, "\n");
        if (colon && (size_t)(colon - s) < eol)
            s = colon + 2;
    }
    size_t n = strcspn(s, "\n");
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '.'))
        n--;
    if (n == 0) {
        snprintf(buf, len, "no message");
        return;
    }
    if (n >= len)
        n = len - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
}

int sim_world_check_platform(const char *path, const char *host, const char *disk,
                             int nr_sg_args, char **sg_args, bool *in_init, struct vm_diag *d)
{
    int fds[2];
    pid_t pid;

    *in_init = false;
    if (access(path, R_OK) != 0)
        return vm_diag_set(d, VM_ENOENT, "platform '%s': %s", path, strerror(errno));
    if (pipe(fds) != 0)
        return vm_diag_set(d, VM_ENOMEM, "platform '%s': pipe: %s", path, strerror(errno));
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return vm_diag_set(d, VM_ENOMEM, "platform '%s': fork: %s", path, strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        check_child(fds[1], path, host, disk, nr_sg_args, sg_args);
    }
    close(fds[1]);

    /* read to the end (so the child never blocks), keeping the start */
    char *out = malloc(CHECK_OUTPUT_MAX + 1);
    size_t got = 0;
    for (;;) {
        char sink[4096];
        char *to = out && got < CHECK_OUTPUT_MAX ? out + got : sink;
        size_t room = out && got < CHECK_OUTPUT_MAX ? CHECK_OUTPUT_MAX - got : sizeof sink;
        ssize_t r = read(fds[0], to, room);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (to != sink)
            got += (size_t)r;
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!out)
        return vm_diag_set(d, VM_ENOMEM, "platform '%s': out of memory", path);
    out[got] = '\0';
    int rc;
    const char *res = strstr(out, "\001RESULT ");
    if (res) {
        char *end;
        rc = (int)strtol(res + 8, &end, 10);
        if (*end == ' ')
            end++;
        size_t n = strcspn(end, "\n");
        if (rc != 0)
            vm_diag_set(d, rc < 0 ? rc : VM_EINVAL, "%.*s", (int)n, end);
        free(out);
        return rc < 0 ? rc : rc ? VM_EINVAL : 0;
    }
    char words[VM_DIAG_MSG_MAX - 128];
    simgrid_words(out, words, sizeof words);
    if (!strstr(out, "\001INIT\n")) {
        char opts[256] = "";
        size_t o = 0;
        *in_init = true;
        for (int i = 0; i < nr_sg_args && o < sizeof opts; i++)
            o += (size_t)snprintf(opts + o, sizeof opts - o, "%s%s", i ? " " : "", sg_args[i]);
        rc = vm_diag_set(d, VM_EINVAL, "SimGrid refused the options '%s': %s", opts, words);
    } else if (WIFSIGNALED(status)) {
        rc = vm_diag_set(d, VM_EPARSE, "platform '%s': SimGrid cannot load it: %s", path, words);
    } else {
        rc = vm_diag_set(d, VM_EPARSE, "platform '%s': SimGrid failed loading it (exit status "
                         "%d): %s", path, WIFEXITED(status) ? WEXITSTATUS(status) : -1, words);
    }
    free(out);
    return rc;
}

/* ---- clock and activities ---- */

uint64_t sim_now_ns(void)
{
    return (uint64_t)llround(simgrid_get_clock() * 1e9);
}

static uint64_t clock_now_ns(const struct port_clock *c)
{
    (void)c;
    return sim_now_ns();
}

static const struct port_clock_ops clock_ops = {
    .version = PORT_CLOCK_VERSION,
    .name = "sim",
    .now_ns = clock_now_ns,
};
static const struct port_clock sim_clock = { .ops = &clock_ops };

const struct port_clock *sim_world_clock(void)
{
    return &sim_clock;
}

void sim_sleep_ns(uint64_t ns)
{
    if (ns == 0)
        return;
    nr_activities++;
    sg_actor_sleep_for((double)ns / 1e9);
}

uint64_t sim_activity_count(void)
{
    return nr_activities;
}

void sim_activity_add(uint64_t n)
{
    nr_activities += n;
}

/* ---- wait queues ----
 * Every SimGrid call is a simcall and so a point where other actors run:
 * an actor that found its condition false and then calls sg_mutex_lock()
 * may miss a notify sent before it reaches sg_cond_wait().  So a wake
 * also bumps a generation counter, read before the first simcall: a
 * waiter whose generation moved returns at once instead of blocking.
 * Actors run one at a time, so the counter needs no atomics, and the
 * mutex is never contended; SimGrid's condition variable needs one all
 * the same. */

struct sim_waitq {
    sg_cond_t cond;
    sg_mutex_t mutex;
    uint64_t gen;                  /* bumped by every wake */
};

struct sim_waitq *sim_waitq_new(void)
{
    struct sim_waitq *q = malloc(sizeof(*q));

    if (q == NULL)
        return NULL;
    q->cond = sg_cond_init();
    q->mutex = sg_mutex_init();
    q->gen = 0;
    return q;
}

void sim_waitq_free(struct sim_waitq *q)
{
    if (q == NULL)
        return;
    sg_cond_destroy(q->cond);
    sg_mutex_destroy(q->mutex);
    free(q);
}

void sim_waitq_wait(struct sim_waitq *q)
{
    uint64_t gen = q->gen;

    sg_mutex_lock(q->mutex);
    while (q->gen == gen)
        sg_cond_wait(q->cond, q->mutex);
    sg_mutex_unlock(q->mutex);
}

int sim_waitq_wait_for(struct sim_waitq *q, uint64_t timeout_ns)
{
    uint64_t gen = q->gen;
    uint64_t deadline = sim_now_ns() + timeout_ns;
    int rc = 0;

    sg_mutex_lock(q->mutex);
    while (q->gen == gen) {
        uint64_t now = sim_now_ns();
        if (now >= deadline ||
            sg_cond_wait_for(q->cond, q->mutex, (double)(deadline - now) / 1e9) != 0) {
            rc = q->gen == gen ? VM_ETIMEDOUT : 0;
            break;
        }
    }
    sg_mutex_unlock(q->mutex);
    return rc;
}

void sim_waitq_wake_all(struct sim_waitq *q)
{
    q->gen++;
    sg_cond_notify_all(q->cond);
}

void sim_waitq_wake_one(struct sim_waitq *q)
{
    q->gen++;
    sg_cond_notify_one(q->cond);
}
