/*
 * sim_tempfile.c - the temporary-file registry (sim_tempfile.h): names to
 * unlink if the process is killed by SIGINT/SIGTERM/SIGHUP/SIGPIPE or
 * exits while they are registered.  After git's tempfile.c + sigchain.c.
 *
 * The table is static: SIM_TEMPFILE_MAX slots, each with a state that
 * only atomic operations touch (lock-free, so usable in a signal handler),
 * the registering process id and the name.  A slot goes FREE -> BUSY
 * (claimed, name being written) -> LIVE (the handler may read it) on
 * registration and back LIVE -> BUSY -> FREE on unregistration; the
 * handler and the exit hook only read LIVE slots, and only unlink those
 * whose pid is their own (a forked child must not remove its parent's
 * files).  The handler calls getpid, unlink, sigaction and raise: all
 * async-signal-safe.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/vm_err.h"
#include "sim_tempfile.h"

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the signal handler needs lock-free atomics");

enum { SLOT_FREE, SLOT_BUSY, SLOT_LIVE };

struct slot {
    atomic_int state;
    pid_t owner;
    char path[SIM_TEMPFILE_PATH_MAX];
};

static struct slot slots[SIM_TEMPFILE_MAX];

static const int signals[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
#define NR_SIGNALS ((int)(sizeof(signals) / sizeof(signals[0])))
static struct sigaction previous[NR_SIGNALS];
static atomic_int installed;          /* 0 never, 1 being installed, 2 done */

/* Unlink every name this process registered.  Async-signal-safe. */
static void remove_all(void)
{
    pid_t me = getpid();
    for (int i = 0; i < SIM_TEMPFILE_MAX; i++)
        if (atomic_load(&slots[i].state) == SLOT_LIVE && slots[i].owner == me)
            unlink(slots[i].path);
}

static void on_signal(int sig)
{
    int saved = errno;
    remove_all();
    /* back to the action before ours (normally the default one), then
     * the same signal again: it is delivered when this handler returns */
    for (int i = 0; i < NR_SIGNALS; i++)
        if (signals[i] == sig)
            sigaction(sig, &previous[i], NULL);
    raise(sig);
    errno = saved;
}

static void on_exit_hook(void)
{
    remove_all();
}

/* The handlers and the exit hook, once per process (the first caller
 * installs, concurrent ones wait for it). */
static void install(void)
{
    int expect = 0;
    if (!atomic_compare_exchange_strong(&installed, &expect, 1)) {
        while (atomic_load(&installed) != 2)
            ;
        return;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < NR_SIGNALS; i++)
        sigaddset(&sa.sa_mask, signals[i]);     /* one removal pass at a time */
    for (int i = 0; i < NR_SIGNALS; i++) {
        if (sigaction(signals[i], NULL, &previous[i]) != 0 ||
            previous[i].sa_handler == SIG_IGN)
            continue;                           /* an ignored signal kills nobody */
        sigaction(signals[i], &sa, NULL);
    }
    atexit(on_exit_hook);
    atomic_store(&installed, 2);
}

int sim_tempfile_register(const char *path)
{
    size_t n = strlen(path);
    if (n >= SIM_TEMPFILE_PATH_MAX)
        return VM_EINVAL;
    install();
    for (int i = 0; i < SIM_TEMPFILE_MAX; i++) {
        int expect = SLOT_FREE;
        if (!atomic_compare_exchange_strong(&slots[i].state, &expect, SLOT_BUSY))
            continue;
        memcpy(slots[i].path, path, n + 1);
        slots[i].owner = getpid();
        atomic_store(&slots[i].state, SLOT_LIVE);
        return 0;
    }
    return VM_ENOSPC;
}

void sim_tempfile_unregister(const char *path)
{
    pid_t me = getpid();
    for (int i = 0; i < SIM_TEMPFILE_MAX; i++) {
        struct slot *s = &slots[i];
        if (atomic_load(&s->state) != SLOT_LIVE || s->owner != me || strcmp(s->path, path) != 0)
            continue;
        int expect = SLOT_LIVE;
        if (!atomic_compare_exchange_strong(&s->state, &expect, SLOT_BUSY))
            continue;
        s->path[0] = 0;
        s->owner = 0;
        atomic_store(&s->state, SLOT_FREE);
        return;
    }
}

int sim_tempfile_mkstemp(char *tmpl)
{
    sigset_t block, old;
    sigemptyset(&block);
    for (int i = 0; i < NR_SIGNALS; i++)
        sigaddset(&block, signals[i]);
    install();              /* before the file exists: nothing to leak yet */
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int fd = mkstemp(tmpl);
    int err = errno;
    if (fd >= 0) {
        int rc = sim_tempfile_register(tmpl);
        if (rc != 0) {
            close(fd);
            unlink(tmpl);
            fd = -1;
            err = rc == VM_EINVAL ? ENAMETOOLONG : ENOSPC;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = err;
    return fd;
}
