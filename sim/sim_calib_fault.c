/*
 * sim_calib_fault.c - the cost of a write-protect fault round trip, the
 * write to a traced page until the writer resumes (sim_calib.h).
 *
 * Two ways, the first the kernel allows:
 *   userfaultfd-wp    a userfaultfd registered with UFFDIO_REGISTER_MODE_WP
 *                     (UFFD_FEATURE_PAGEFAULT_FLAG_WP, Linux 5.7+) over
 *                     populated pages that UFFDIO_WRITEPROTECT protected; a
 *                     handler thread polls the descriptor and un-protects
 *                     each faulting page with UFFDIO_WRITEPROTECT, which
 *                     wakes the writer (QEMU's live-snapshot tracking);
 *   mprotect-sigsegv  pages mprotect'ed read-only and a SIGSEGV handler that
 *                     mprotects the faulting page writable (the classic
 *                     user-space write barrier).
 * userfaultfd is tried with UFFD_USER_MODE_ONLY (Linux 5.11+, allowed to
 * unprivileged users even when the sysctl vm.unprivileged_userfaultfd is
 * 0), then without it, then through /dev/userfaultfd (Linux 6.1+, its file
 * mode decides); ENOSYS, EPERM (the sysctl, a seccomp filter) or a kernel
 * without write-protect support fall back to mprotect, and the reason is
 * recorded with the figure.
 *
 * The pages are 4 KiB (MADV_NOHUGEPAGE: a THP would make the first fault
 * split a huge page) and written in a fixed random order, each once.
 * Not measured: faults of several writers at once, and the VM exit a
 * hypervisor adds in front of the same work (EPT/NPT write protection).
 *
 * Also here: the un-protect alone (sim_calib_wp_unprotect), what QEMU's
 * background snapshot does after saving each host page with no fault
 * pending (migration/ram.c ram_save_release_protection ->
 * uffd_change_protection: UFFDIO_WRITEPROTECT, mode 0, over the page),
 * the same way: userfaultfd-wp where the kernel allows it, else mprotect
 * of one page of a read-only range writable.  The kernel flushes the
 * page's TLB entry; this process runs one thread, so the flush is local:
 * the shootdown IPIs to other CPUs running a VM's threads are not in it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/userfaultfd.h>
#include <sys/eventfd.h>
#endif

#include "base/vm_rand.h"
#include "base/vm_units.h"
#include "sim_calib.h"

#define ORDER_SEED 0x77702d6661756c74ull   /* fixed: the same page order on every run */

/* nr populated 4 KiB pages and a fixed random order over them. */
struct region {
    unsigned char *base;
    size_t len;
    uint32_t nr;
    uint32_t *order;
    double *v;                          /* ns per fault */
};

static int region_new(struct region *r, uint32_t nr, struct vm_diag *d)
{
    memset(r, 0, sizeof *r);
    r->nr = nr;
    r->len = (size_t)nr * VM_PAGE_SIZE;
    r->base = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r->base == MAP_FAILED) {
        r->base = NULL;
        return vm_diag_set(d, VM_ENOMEM, "cannot map %u pages for faults: %s", nr,
                           strerror(errno));
    }
#ifdef MADV_NOHUGEPAGE
    (void)madvise(r->base, r->len, MADV_NOHUGEPAGE);   /* advice: 4 KiB pages if it can */
#endif
    for (size_t off = 0; off < r->len; off += VM_PAGE_SIZE)
        r->base[off] = 1;                               /* populated: faults are WP only */
    r->order = malloc(sizeof *r->order * nr);
    r->v = malloc(sizeof *r->v * nr);
    if (!r->order || !r->v)
        return vm_diag_set(d, VM_ENOMEM, "out of memory for %u faults", nr);
    struct vm_rand rnd;
    vm_rand_init(&rnd, ORDER_SEED, 0);
    for (uint32_t i = 0; i < nr; i++)
        r->order[i] = i;
    for (uint32_t i = nr - 1; i > 0; i--) {
        uint32_t j = (uint32_t)vm_rand_below(&rnd, (uint64_t)i + 1), t = r->order[i];
        r->order[i] = r->order[j];
        r->order[j] = t;
    }
    return 0;
}

static void region_free(struct region *r)
{
    if (r->base)
        munmap(r->base, r->len);
    free(r->order);
    free(r->v);
}

/* Write each page once, in order, timing each write. */
static void write_pages(struct region *r, const atomic_int *stop)
{
    for (uint32_t i = 0; i < r->nr; i++) {
        volatile unsigned char *p = r->base + (size_t)r->order[i] * VM_PAGE_SIZE;
        uint64_t t0 = sim_calib_now_ns();
        *p = 2;
        uint64_t t1 = sim_calib_now_ns();
        r->v[i] = (double)(t1 - t0);
        if (stop && atomic_load(stop))
            break;
    }
}

/* ------------------------------------------------------------ mprotect */

static volatile uintptr_t segv_lo, segv_hi;
static volatile sig_atomic_t segv_failed;
static struct sigaction segv_old;
static atomic_uint segv_handled;

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
    uintptr_t a = (uintptr_t)si->si_addr;
    if (a >= segv_lo && a < segv_hi &&
        mprotect((void *)(a & ~(uintptr_t)(VM_PAGE_SIZE - 1)), VM_PAGE_SIZE,
                 PROT_READ | PROT_WRITE) == 0) {
        atomic_fetch_add(&segv_handled, 1);
        return;
    }
    /* not ours (or mprotect failed): the previous action takes the fault again */
    segv_failed = 1;
    sigaction(SIGSEGV, &segv_old, NULL);
}

static int fault_mprotect(uint32_t nr, struct sim_calib_fig *fig, struct vm_diag *d)
{
    struct region r;
    int rc = region_new(&r, nr, d);
    if (rc) {
        region_free(&r);
        return rc;
    }
    if (mprotect(r.base, r.len, PROT_READ) != 0) {
        rc = vm_diag_set(d, VM_EIO, "mprotect: %s", strerror(errno));
        region_free(&r);
        return rc;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = segv_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    segv_lo = (uintptr_t)r.base;
    segv_hi = (uintptr_t)r.base + r.len;
    segv_failed = 0;
    atomic_store(&segv_handled, 0);
    if (sigaction(SIGSEGV, &sa, &segv_old) != 0) {
        rc = vm_diag_set(d, VM_EIO, "sigaction(SIGSEGV): %s", strerror(errno));
        region_free(&r);
        return rc;
    }
    write_pages(&r, NULL);
    sigaction(SIGSEGV, &segv_old, NULL);
    unsigned handled = atomic_load(&segv_handled);
    if (segv_failed || handled != nr)
        rc = vm_diag_set(d, VM_EIO, "mprotect-sigsegv: %u writes, %u faults handled", nr,
                         handled);
    else
        sim_calib_fig_from(r.v, nr, fig);
    region_free(&r);
    return rc;
}

/* ------------------------------------------------------------ userfaultfd */

#if defined(__linux__) && defined(__NR_userfaultfd) && defined(UFFD_FEATURE_PAGEFAULT_FLAG_WP) \
    && defined(UFFDIO_WRITEPROTECT)
#define HAVE_UFFD_WP 1
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

/* A userfaultfd, or -1 with why it is not there in why[256]. */
static int uffd_open(char *why)
{
    int fd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (fd < 0 && errno == EINVAL)       /* before Linux 5.11: no UFFD_USER_MODE_ONLY */
        fd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0)
        return fd;
    int e = errno;
#ifdef USERFAULTFD_IOC_NEW
    int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
    if (dev >= 0) {
        fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
        close(dev);
        if (fd >= 0)
            return fd;
    }
#endif
    char sysctl[16] = "?";
    FILE *f = fopen("/proc/sys/vm/unprivileged_userfaultfd", "r");
    if (f) {
        if (!fgets(sysctl, sizeof sysctl, f))
            snprintf(sysctl, sizeof sysctl, "?");
        sysctl[strcspn(sysctl, "\n")] = '\0';
        fclose(f);
    }
    if (e == ENOSYS)
        snprintf(why, 256, "userfaultfd: not in this kernel (ENOSYS)");
    else if (e == EPERM)
        snprintf(why, 256, "userfaultfd: not permitted (EPERM; vm.unprivileged_userfaultfd=%s, "
                 "or a seccomp filter)", sysctl);
    else
        snprintf(why, 256, "userfaultfd: %s", strerror(e));
    return -1;
}

struct uffd_handler {
    int uffd, stopfd;
    uintptr_t lo, len;
    atomic_uint handled;
    atomic_int err;                      /* errno of a failed ioctl, or 0 */
    atomic_int stop;                     /* set with err: the writer stops */
};

/* Un-protect each faulting page (which wakes its writer) until stopfd. */
static void *uffd_handler_main(void *arg)
{
    struct uffd_handler *h = arg;
    for (;;) {
        struct pollfd pfd[2] = { { .fd = h->uffd, .events = POLLIN },
                                 { .fd = h->stopfd, .events = POLLIN } };
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            atomic_store(&h->err, errno);
            break;
        }
        if (pfd[1].revents)
            return NULL;
        struct uffd_msg msg;
        ssize_t n = read(h->uffd, &msg, sizeof msg);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n != (ssize_t)sizeof msg) {
            atomic_store(&h->err, n < 0 ? errno : EIO);
            break;
        }
        if (msg.event != UFFD_EVENT_PAGEFAULT)
            continue;
        uint64_t addr = msg.arg.pagefault.address & ~(uint64_t)(VM_PAGE_SIZE - 1);
        struct uffdio_writeprotect wp = { .range = { .start = addr, .len = VM_PAGE_SIZE },
                                          .mode = 0 };
        if (!(msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) ||
            ioctl(h->uffd, UFFDIO_WRITEPROTECT, &wp) != 0) {
            atomic_store(&h->err, (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) ? errno
                                                                                     : EFAULT);
            break;
        }
        atomic_fetch_add(&h->handled, 1);
    }
    /* failed: let the writer go (unregistering wakes it, later writes do not fault) */
    atomic_store(&h->stop, 1);
    struct uffdio_range range = { .start = h->lo, .len = h->len };
    (void)ioctl(h->uffd, UFFDIO_UNREGISTER, &range);
    return NULL;
}

/* A userfaultfd with write-protect faults, or -1 with why[256] said. */
static int uffd_open_wp(char *why)
{
    int uffd = uffd_open(why);
    if (uffd < 0)
        return -1;
    struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP };
    if (ioctl(uffd, UFFDIO_API, &api) != 0 || !(api.features & UFFD_FEATURE_PAGEFAULT_FLAG_WP)) {
        snprintf(why, 256, "userfaultfd: no write-protect support "
                 "(UFFD_FEATURE_PAGEFAULT_FLAG_WP: %s)", strerror(errno));
        close(uffd);
        return -1;
    }
    return uffd;
}

/* 0 and *fig; VM_ENOTSUP with why in why[256] when the kernel does not
 * allow it (nothing measured); VM_EIO / VM_ENOMEM. */
static int fault_uffd(uint32_t nr, struct sim_calib_fig *fig, char *why, struct vm_diag *d)
{
    int uffd = uffd_open_wp(why);
    if (uffd < 0)
        return VM_ENOTSUP;
    struct region r;
    int rc = region_new(&r, nr, d);
    if (rc) {
        region_free(&r);
        close(uffd);
        return rc;
    }
    struct uffdio_register reg = { .range = { .start = (uintptr_t)r.base, .len = r.len },
                                   .mode = UFFDIO_REGISTER_MODE_WP };
    if (ioctl(uffd, UFFDIO_REGISTER, &reg) != 0 ||
        !(reg.ioctls & ((uint64_t)1 << _UFFDIO_WRITEPROTECT))) {
        snprintf(why, 256, "userfaultfd: cannot register anonymous memory for "
                 "write-protect faults (%s)", strerror(errno));
        region_free(&r);
        close(uffd);
        return VM_ENOTSUP;
    }
    struct uffdio_writeprotect wp = { .range = reg.range, .mode = UFFDIO_WRITEPROTECT_MODE_WP };
    struct uffd_handler h = { .uffd = uffd, .lo = (uintptr_t)r.base, .len = r.len };
    h.stopfd = eventfd(0, EFD_CLOEXEC);
    pthread_t th;
    if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) != 0) {
        snprintf(why, 256, "userfaultfd: UFFDIO_WRITEPROTECT: %s", strerror(errno));
        rc = VM_ENOTSUP;
    } else if (h.stopfd < 0 || pthread_create(&th, NULL, uffd_handler_main, &h) != 0) {
        rc = vm_diag_set(d, VM_EIO, "userfaultfd: cannot start the handler thread");
    } else {
        write_pages(&r, &h.stop);
        uint64_t one = 1;
        if (write(h.stopfd, &one, sizeof one) != (ssize_t)sizeof one)
            atomic_store(&h.err, errno);
        pthread_join(th, NULL);
        unsigned handled = atomic_load(&h.handled);
        int err = atomic_load(&h.err);
        if (err || handled != nr)
            rc = vm_diag_set(d, VM_EIO, "userfaultfd-wp: %u writes, %u faults handled%s%s", nr,
                             handled, err ? ": " : "", err ? strerror(err) : "");
        else
            sim_calib_fig_from(r.v, nr, fig);
    }
    if (h.stopfd >= 0)
        close(h.stopfd);
    struct uffdio_range range = { .start = (uintptr_t)r.base, .len = r.len };
    (void)ioctl(uffd, UFFDIO_UNREGISTER, &range);
    close(uffd);
    region_free(&r);
    return rc;
}
#endif

/* ------------------------------------------------------------ un-protect alone */

/* Samples of SIM_CALIB_UNPROTECT_BATCH pages in r's order: per page, ns into r->v. */
static uint32_t nr_unprotect_samples(const struct region *r)
{
    return r->nr / SIM_CALIB_UNPROTECT_BATCH;
}

static int unprotect_mprotect(uint32_t nr, struct sim_calib_fig *fig, struct vm_diag *d)
{
    struct region r;
    int rc = region_new(&r, nr, d);
    if (rc == 0 && mprotect(r.base, r.len, PROT_READ) != 0)
        rc = vm_diag_set(d, VM_EIO, "mprotect: %s", strerror(errno));
    uint32_t n = nr_unprotect_samples(&r);
    for (uint32_t s = 0; rc == 0 && s < n; s++) {
        const uint32_t *o = r.order + (size_t)s * SIM_CALIB_UNPROTECT_BATCH;
        int bad = 0;
        uint64_t t0 = sim_calib_now_ns();
        for (uint32_t i = 0; i < SIM_CALIB_UNPROTECT_BATCH; i++)
            bad |= mprotect(r.base + (size_t)o[i] * VM_PAGE_SIZE, VM_PAGE_SIZE,
                            PROT_READ | PROT_WRITE);
        uint64_t t1 = sim_calib_now_ns();
        if (bad)
            rc = vm_diag_set(d, VM_EIO, "mprotect: %s", strerror(errno));
        r.v[s] = (double)(t1 - t0) / SIM_CALIB_UNPROTECT_BATCH;
    }
    if (rc == 0)
        sim_calib_fig_from(r.v, n, fig);
    region_free(&r);
    return rc;
}

#ifdef HAVE_UFFD_WP
/* 0 and *fig; VM_ENOTSUP with why in why[256] when the kernel does not
 * allow it (nothing measured); VM_EIO / VM_ENOMEM. */
static int unprotect_uffd(uint32_t nr, struct sim_calib_fig *fig, char *why, struct vm_diag *d)
{
    int uffd = uffd_open_wp(why);
    if (uffd < 0)
        return VM_ENOTSUP;
    struct region r;
    int rc = region_new(&r, nr, d);
    struct uffdio_register reg = { .range = { .start = (uintptr_t)r.base, .len = r.len },
                                   .mode = UFFDIO_REGISTER_MODE_WP };
    if (rc == 0 && (ioctl(uffd, UFFDIO_REGISTER, &reg) != 0 ||
                    !(reg.ioctls & ((uint64_t)1 << _UFFDIO_WRITEPROTECT)))) {
        snprintf(why, 256, "userfaultfd: cannot register anonymous memory for "
                 "write-protect faults (%s)", strerror(errno));
        rc = VM_ENOTSUP;
    }
    struct uffdio_writeprotect all = { .range = reg.range, .mode = UFFDIO_WRITEPROTECT_MODE_WP };
    if (rc == 0 && ioctl(uffd, UFFDIO_WRITEPROTECT, &all) != 0) {
        snprintf(why, 256, "userfaultfd: UFFDIO_WRITEPROTECT: %s", strerror(errno));
        rc = VM_ENOTSUP;
    }
    uint32_t n = nr_unprotect_samples(&r);
    for (uint32_t s = 0; rc == 0 && s < n; s++) {
        const uint32_t *o = r.order + (size_t)s * SIM_CALIB_UNPROTECT_BATCH;
        int bad = 0;
        uint64_t t0 = sim_calib_now_ns();
        for (uint32_t i = 0; i < SIM_CALIB_UNPROTECT_BATCH; i++) {
            struct uffdio_writeprotect wp = {
                .range = { .start = (uintptr_t)r.base + (uint64_t)o[i] * VM_PAGE_SIZE,
                           .len = VM_PAGE_SIZE },
                .mode = 0 };
            bad |= ioctl(uffd, UFFDIO_WRITEPROTECT, &wp);
        }
        uint64_t t1 = sim_calib_now_ns();
        if (bad)
            rc = vm_diag_set(d, VM_EIO, "userfaultfd-wp: un-protect: %s", strerror(errno));
        r.v[s] = (double)(t1 - t0) / SIM_CALIB_UNPROTECT_BATCH;
    }
    if (rc == 0)
        sim_calib_fig_from(r.v, n, fig);
    if (r.base) {
        struct uffdio_range range = { .start = (uintptr_t)r.base, .len = r.len };
        (void)ioctl(uffd, UFFDIO_UNREGISTER, &range);
    }
    close(uffd);
    region_free(&r);
    return rc;
}
#endif

/* One measurement by userfaultfd where allowed, else by mprotect: the
 * figure, the method's name and, after a fallback, why it was needed. */
struct wp_way {
    int (*uffd)(uint32_t nr, struct sim_calib_fig *fig, char *why, struct vm_diag *d);
    int (*mprotect)(uint32_t nr, struct sim_calib_fig *fig, struct vm_diag *d);
    const char *mprotect_method, *mprotect_note;
};

static int wp_measure(const struct wp_way *way, enum sim_calib_wp how, uint32_t nr,
                      struct sim_calib_fig *fig, char *method, char *note, struct vm_diag *d)
{
    char why[256] = "";
    if (how != SIM_CALIB_WP_MPROTECT) {
#ifdef HAVE_UFFD_WP
        struct vm_diag ud = { 0 };
        int rc = way->uffd(nr, fig, why, &ud);
        if (rc == 0) {
            snprintf(method, 32, "%s", SIM_CALIB_METHOD_UFFD);
            return 0;
        }
        if (rc != VM_ENOTSUP)       /* it ran and failed: say so, then fall back */
            snprintf(why, sizeof why, "%.200s", ud.msg);
#else
        snprintf(why, sizeof why, "userfaultfd write-protect: not on this platform");
#endif
        if (how == SIM_CALIB_WP_UFFD)
            return vm_diag_set(d, VM_ENOTSUP, "%s", why);
    }
    int rc = way->mprotect(nr, fig, d);
    if (rc == 0) {
        snprintf(method, 32, "%s", way->mprotect_method);
        if (why[0])
            snprintf(note, 256, "%s; %s used", why, way->mprotect_note);
    }
    return rc;
}

int sim_calib_wp_unprotect(enum sim_calib_wp how, uint32_t nr_pages, struct sim_calib_fig *fig,
                           char *method, char *note, struct vm_diag *d)
{
    static const struct wp_way way = {
#ifdef HAVE_UFFD_WP
        .uffd = unprotect_uffd,
#endif
        .mprotect = unprotect_mprotect,
        .mprotect_method = SIM_CALIB_UNPROTECT_MPROTECT, .mprotect_note = "mprotect",
    };
    memset(fig, 0, sizeof *fig);
    method[0] = note[0] = '\0';
    if (nr_pages < SIM_CALIB_UNPROTECT_BATCH)
        return vm_diag_set(d, VM_EINVAL, "expected at least %d pages to un-protect, got %u",
                           SIM_CALIB_UNPROTECT_BATCH, nr_pages);
    return wp_measure(&way, how, nr_pages, fig, method, note, d);
}

/* ------------------------------------------------------------ either */

int sim_calib_wp_fault(enum sim_calib_wp how, uint32_t nr_faults, struct sim_calib_fig *fig,
                       char *method, char *note, struct vm_diag *d)
{
    static const struct wp_way way = {
#ifdef HAVE_UFFD_WP
        .uffd = fault_uffd,
#endif
        .mprotect = fault_mprotect,
        .mprotect_method = SIM_CALIB_METHOD_MPROTECT, .mprotect_note = "mprotect + SIGSEGV",
    };
    memset(fig, 0, sizeof *fig);
    method[0] = note[0] = '\0';
    if (nr_faults < 1)
        return vm_diag_set(d, VM_EINVAL, "expected at least one fault, got 0");
    return wp_measure(&way, how, nr_faults, fig, method, note, d);
}
