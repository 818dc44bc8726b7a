/*
 * sim_platform.c - check a platform file as a run point would load it,
 * without keeping a SimGrid engine (see sim_platform.h).
 *
 * SimGrid's engine cannot be reset, and a bad platform or option makes it
 * abort with a backtrace, so the check runs in a child whose stderr goes
 * into the same pipe as its verdict: the parent turns whatever SimGrid
 * said into one line.  SimGrid 3.32 reports fatal platform errors as
 * "[0.000000] file:line: [category/CRITICAL] message" (xbt_die) or
 * "Uncaught exception <type>: message".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <simgrid/disk.h>
#include <simgrid/host.h>
#include <xbt/log.h>
#include <xbt/sysdep.h>

#include "sim_disk.h"
#include "sim_platform.h"
#include "sim_world.h"

/* The child's protocol, in text: "\001INIT\n" once simgrid_init()
 * accepted the options, then "\001RESULT <rc> <message>\n". */
#define CHECK_OUTPUT_MAX 65536

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "unknown host 'x' (hosts: a, b, c)": the platform's hosts by name. */
static void unknown_host(const char *host, struct vm_diag *d)
{
    size_t nh = sg_host_count();
    sg_host_t *hosts = sg_host_list();
    const char **names = malloc(sizeof *names * (nh ? nh : 1));
    char list[VM_DIAG_MSG_MAX - 96] = "";
    size_t o = 0;
    for (size_t i = 0; names && i < nh; i++)
        names[i] = sg_host_get_name(hosts[i]);
    if (names)
        qsort(names, nh, sizeof *names, cmp_name);
    for (size_t i = 0; names && i < nh && o < sizeof list; i++) {
        size_t left = sizeof list - o;
        int n = snprintf(list + o, left, "%s%s", i ? ", " : "", names[i]);
        if (n < 0 || (size_t)n >= left) {
            snprintf(list + (o < sizeof list - 4 ? o : sizeof list - 4), 4, "...");
            break;
        }
        o += (size_t)n;
    }
    free(names);
    xbt_free(hosts);
    vm_diag_set(d, VM_ENOENT, "unknown host '%s' (hosts: %s)", host, list);
}

static void check_child(int fd, const char *path, const char *host, const char *disk,
                        int nr_sg_args, char **sg_args)
{
    struct vm_diag cd;
    int rc;
    struct rlimit no_core = { 0, 0 };

    setrlimit(RLIMIT_CORE, &no_core);   /* an abort leaves no core file behind */
    dup2(fd, STDERR_FILENO);
    vm_diag_clear(&cd);
    sim_world_init_options(nr_sg_args, sg_args);
    dprintf(fd, "\001INIT\n");
    xbt_log_control_set("root.thres:critical");
    enum sim_platform_part part = SIM_PLATFORM_FILE;
    unsigned cores = 0;
    uint64_t capacity = 0, memory = 0;
    sg_disk_t dk = NULL;
    rc = sim_world_load_platform(path, &cd);
    if (rc == 0 && disk == NULL) {
        /* the hosts alone ("a" or "a,b,c"): they may have no disk, and the
         * rest was checked */
        for (const char *p = host; rc == 0 && *p;) {
            char one[256];
            size_t n = strcspn(p, ",");
            snprintf(one, sizeof one, "%.*s", (int)(n < sizeof one ? n : sizeof one - 1), p);
            if (sg_host_by_name(one) == NULL) {
                rc = VM_ENOENT;
                part = SIM_PLATFORM_HOST;
                unknown_host(one, &cd);
            }
            p += n + (p[n] == ',');
        }
        dprintf(fd, "\001RESULT %d %d 0 0 0 %s\n", rc, (int)part, cd.msg);
        _exit(0);
    }
    if (rc == 0) {
        sg_host_t h = sim_world_host(host, &cd);
        if (h == NULL) {
            rc = cd.code;
            part = host[0] ? SIM_PLATFORM_HOST : SIM_PLATFORM_FILE;
        } else if ((dk = sim_world_disk(h, disk, &cd)) == NULL) {
            rc = cd.code;
            part = disk[0] ? SIM_PLATFORM_DISK : host[0] ? SIM_PLATFORM_HOST
                                                        : SIM_PLATFORM_FILE;
        } else {
            cores = (unsigned)sg_host_core_count(h);
            if ((rc = sim_world_host_memory(h, &memory, &cd)) != 0)
                part = host[0] ? SIM_PLATFORM_HOST : SIM_PLATFORM_FILE;
        }
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
            else if (disks[j] == dk)
                capacity = props.capacity_bytes;
        }
        xbt_free(disks);
    }
    xbt_free(hosts);
    for (char *p = cd.msg; *p; p++)
        if (*p == '\n')
            *p = ' ';
    dprintf(fd, "\001RESULT %d %d %u %" PRIu64 " %" PRIu64 " %s\n", rc, (int)part, cores,
            capacity, memory, cd.msg);
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

int sim_platform_check(const char *path, const char *host, const char *disk,
                       int nr_sg_args, char **sg_args, enum sim_platform_part *part,
                       struct sim_platform_info *info, struct vm_diag *d)
{
    int fds[2];
    pid_t pid;

    *part = SIM_PLATFORM_FILE;
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
        long pt = strtol(end, &end, 10);
        *part = pt >= SIM_PLATFORM_FILE && pt <= SIM_PLATFORM_DISK ? (enum sim_platform_part)pt
                                                                     : SIM_PLATFORM_FILE;
        unsigned long cores = strtoul(end, &end, 10);
        unsigned long long capacity = strtoull(end, &end, 10);
        unsigned long long memory = strtoull(end, &end, 10);
        if (info) {
            info->host_cores = (unsigned)cores;
            info->disk_capacity_bytes = capacity;
            info->host_memory_bytes = memory;
        }
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
        *part = SIM_PLATFORM_OPTIONS;
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
