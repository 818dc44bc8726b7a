/*
 * sim_trace_cache.c - the binary replay cache of a memory trace
 * (sim_trace_open() and the accessors in sim_trace.h; the file format in
 * workloads/traces/README.md, "Binary replay cache").
 *
 * A cache is a fixed header (struct cache_hdr) followed by one struct
 * sim_access per source record (64-bit counts: the cache is proportional
 * to the source), memory-mapped read-only for replay.  It is rebuilt
 * when the header is bad or the source's size, mtime (ns) or absolute
 * path differ from what the header recorded.  Conversion parses the
 * source once (sim_trace.c), writes the records to a temporary file in
 * the cache's folder and renames it into place, so readers see either
 * the old cache or the complete new one.  The temporary file is removed
 * on every failure, and registered with sim_tempfile.c so that a
 * conversion killed by SIGINT/SIGTERM/SIGHUP/SIGPIPE or cut short by
 * exit() leaves nothing behind either.
 *
 * Not handled: traces whose source changes while being converted without
 * its mtime changing; caches are not fsync'ed (a cache is rebuildable and
 * its size is checked against its header).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "sim_tempfile.h"
#include "sim_trace.h"


#define CACHE_MAGIC "VMSIMTRC"
#define CACHE_VERSION 2u                /* 2: struct sim_access with a 64-bit count */
#define CACHE_FLAG_TRUNCATED 1u

struct cache_hdr {
    char magic[8];                      /* "VMSIMTRC" */
    uint32_t version;                   /* CACHE_VERSION; any other is rebuilt */
    uint32_t record_bytes;              /* sizeof(struct sim_access) = 16 */
    uint64_t nr_records;
    uint64_t total_accesses;
    uint64_t distinct_pages;
    uint64_t source_bytes;
    int64_t source_mtime_ns;
    uint64_t source_path_hash;          /* XXH3-64 of the source's absolute path */
    uint32_t format;                    /* enum sim_trace_format of the source */
    uint32_t flags;                     /* CACHE_FLAG_* */
    uint8_t reserved[56];               /* zero; pads the header to 128 bytes */
};
_Static_assert(sizeof(struct cache_hdr) == 128, "binary trace cache header layout");

struct sim_trace {
    void *map;
    size_t map_bytes;
    const struct cache_hdr *hdr;
    const struct sim_access *recs;
    bool built;
    char cache_path[SIM_PATH_MAX];
};

/* identity of a source: what the cache header must match */
struct source_id {
    uint64_t bytes;
    int64_t mtime_ns;
    uint64_t path_hash;
};

static int64_t mtime_ns(const struct stat *sb)
{
    return (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
}

/* Map a cache file if it is good for src; 0 or a negative code (any
 * problem just means "rebuild"). */
static int cache_map(const char *cpath, const struct source_id *src, enum sim_trace_format fmt,
                     struct sim_trace *t)
{
    int fd = open(cpath, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return VM_ENOENT;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
        (uint64_t)sb.st_size < sizeof(struct cache_hdr)) {
        close(fd);
        return VM_ECORRUPT;
    }
    size_t bytes = (size_t)sb.st_size;
    void *map = mmap(NULL, bytes, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return VM_EIO;
    const struct cache_hdr *h = map;
    bool ok = memcmp(h->magic, CACHE_MAGIC, 8) == 0 && h->version == CACHE_VERSION &&
              h->record_bytes == sizeof(struct sim_access) &&
              h->nr_records == (bytes - sizeof(*h)) / sizeof(struct sim_access) &&
              (bytes - sizeof(*h)) % sizeof(struct sim_access) == 0 && h->nr_records > 0 &&
              h->source_bytes == src->bytes && h->source_mtime_ns == src->mtime_ns &&
              h->source_path_hash == src->path_hash &&
              (fmt == SIM_TRACE_AUTO || h->format == (uint32_t)fmt);
    if (!ok) {
        munmap(map, bytes);
        return VM_ECORRUPT;
    }
    t->map = map;
    t->map_bytes = bytes;
    t->hdr = h;
    t->recs = (const struct sim_access *)(h + 1);
    snprintf(t->cache_path, sizeof(t->cache_path), "%s", cpath);
    return 0;
}

/* writer: sim_access records through a buffer into the temporary file */
#define WBUF_RECS 65536
struct cache_writer {
    int fd;
    const char *tmp_path;
    struct sim_access *buf;
    size_t n;
    uint64_t nr_records;
    struct vm_diag *d;
};

static int write_all(int fd, const void *p, size_t n, off_t off)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = pwrite(fd, c, n, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
        off += w;
    }
    return 0;
}

static int writer_flush(struct cache_writer *w)
{
    if (w->n == 0)
        return 0;
    off_t off = (off_t)(sizeof(struct cache_hdr) + (w->nr_records - w->n) * sizeof(struct sim_access));
    if (write_all(w->fd, w->buf, w->n * sizeof(struct sim_access), off) != 0)
        return vm_diag_set(w->d, errno == ENOSPC ? VM_ENOSPC : VM_EIO, "'%s': write error: %s",
                           w->tmp_path, strerror(errno));
    w->n = 0;
    return 0;
}

/* one binary record per source record (pages < 2^52 fit the page word) */
static int writer_sink(void *arg, const struct sim_trace_rec *recs, size_t n)
{
    struct cache_writer *w = arg;
    for (size_t i = 0; i < n; i++) {
        w->buf[w->n++] = sim_access_make(recs[i].page, recs[i].op, recs[i].count);
        w->nr_records++;
        if (w->n == WBUF_RECS) {
            int rc = writer_flush(w);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static uint64_t path_hash(const char *abs)
{
    return XXH3_64bits(abs, strlen(abs));
}

static int mkdir_p(const char *dir)
{
    char tmp[SIM_PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s", dir) >= (int)sizeof(tmp))
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Fallback cache folder: $VMSIM_CACHE_DIR, $XDG_CACHE_HOME/vmsim,
 * ~/.cache/vmsim. */
static int default_cache_dir(char *dst, size_t cap)
{
    const char *v = getenv("VMSIM_CACHE_DIR");
    if (v && *v)
        return snprintf(dst, cap, "%s", v) < (int)cap ? 0 : -1;
    v = getenv("XDG_CACHE_HOME");
    if (v && *v)
        return snprintf(dst, cap, "%s/vmsim", v) < (int)cap ? 0 : -1;
    v = getenv("HOME");
    if (v && *v)
        return snprintf(dst, cap, "%s/.cache/vmsim", v) < (int)cap ? 0 : -1;
    return -1;
}

/* cache file name inside a folder: stem.<path hash>.vmtrace, so equal
 * file names from different folders do not collide */
static int cache_name_in(char *dst, size_t cap, const char *dir, const char *abs, uint64_t hash)
{
    const char *base = strrchr(abs, '/');
    base = base ? base + 1 : abs;
    return snprintf(dst, cap, "%s/%s.%016" PRIx64 ".vmtrace", dir, base, hash) < (int)cap ? 0 : -1;
}

static int cache_build(const char *path, enum sim_trace_format fmt, const char *cpath,
                       const char *abs, struct source_id *built, struct vm_diag *d)
{
    char tmp[SIM_PATH_MAX + 16];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", cpath) >= (int)sizeof(tmp))
        return vm_diag_set(d, VM_EINVAL, "'%s': cache path too long", cpath);
    int fd = sim_tempfile_mkstemp(tmp);     /* unlinked if we are killed or exit */
    if (fd < 0)
        return vm_diag_set(d, VM_EIO, "'%s': cannot create cache file: %s", cpath, strerror(errno));
    struct cache_writer w = { .fd = fd, .tmp_path = tmp, .d = d };
    struct sim_trace_stats st;
    struct stat sb;
    int rc = 0;
    w.buf = malloc(WBUF_RECS * sizeof(struct sim_access));
    if (!w.buf) {
        rc = vm_diag_set(d, VM_ENOMEM, "'%s': out of memory", path);
        goto fail;
    }
    if ((rc = sim_trace_parse_stat(path, fmt, writer_sink, &w, &st, &sb, d)))
        goto fail;
    if ((rc = writer_flush(&w)))
        goto fail;
    if (w.nr_records == 0) {
        rc = vm_diag_set(d, VM_EPARSE, "%s: expected at least one record, got none", path);
        goto fail;
    }
    struct cache_hdr h;
    memset(&h, 0, sizeof(h));
    memcpy(h.magic, CACHE_MAGIC, 8);
    h.version = CACHE_VERSION;
    h.record_bytes = sizeof(struct sim_access);
    h.nr_records = w.nr_records;
    h.total_accesses = st.total_accesses;
    h.distinct_pages = st.distinct_pages;
    h.source_bytes = (uint64_t)sb.st_size;
    h.source_mtime_ns = mtime_ns(&sb);
    h.source_path_hash = path_hash(abs);
    built->bytes = h.source_bytes;
    built->mtime_ns = h.source_mtime_ns;
    built->path_hash = h.source_path_hash;
    h.format = (uint32_t)st.format;
    h.flags = st.truncated ? CACHE_FLAG_TRUNCATED : 0;
    if (write_all(fd, &h, sizeof(h), 0) != 0) {
        rc = vm_diag_set(d, VM_EIO, "'%s': write error: %s", tmp, strerror(errno));
        goto fail;
    }
    mode_t um = umask(0);
    umask(um);
    int bad = fchmod(fd, 0644 & ~um) != 0;
    bad |= close(fd) != 0;
    fd = -1;
    if (bad) {
        rc = vm_diag_set(d, VM_EIO, "'%s': cannot finish cache file: %s", tmp, strerror(errno));
        goto fail;
    }
    if (rename(tmp, cpath) != 0) {
        rc = vm_diag_set(d, VM_EIO, "'%s': cannot rename to '%s': %s", tmp, cpath, strerror(errno));
        goto fail;
    }
    sim_tempfile_unregister(tmp);
    free(w.buf);
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    sim_tempfile_unregister(tmp);
    free(w.buf);
    return rc;
}

int sim_trace_open_in(const char *path, enum sim_trace_format fmt, const char *cache_dir,
                      struct sim_trace **out, struct vm_diag *d)
{
    *out = NULL;
    if (strcmp(path, "-") == 0)
        return vm_diag_set(d, VM_EINVAL, "'-': expected a trace file, got standard input");
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT)
            return vm_diag_set(d, VM_ENOENT, "'%s': no such file", path);
        return vm_diag_set(d, VM_EIO, "'%s': cannot stat: %s", path, strerror(errno));
    }
    if (S_ISDIR(sb.st_mode))
        return vm_diag_set(d, VM_EINVAL, "'%s': expected a trace file, got a directory", path);
    char abs[PATH_MAX];
    if (!realpath(path, abs))
        return vm_diag_set(d, VM_EIO, "'%s': cannot resolve path: %s", path, strerror(errno));
    struct source_id src = {
        .bytes = (uint64_t)sb.st_size, .mtime_ns = mtime_ns(&sb), .path_hash = path_hash(abs)
    };

    /* candidates in order: next to the source, then the cache folder */
    char cand[2][SIM_PATH_MAX];
    bool writable[2] = { false, false };
    int nr = 0;
    char dir[SIM_PATH_MAX];
    if (cache_dir) {
        if (cache_name_in(cand[0], sizeof(cand[0]), cache_dir, abs, src.path_hash) != 0)
            return vm_diag_set(d, VM_EINVAL, "'%s': cache path too long", cache_dir);
        writable[0] = true;
        nr = 1;
    } else {
        if (snprintf(cand[0], sizeof(cand[0]), "%s.vmtrace", abs) < (int)sizeof(cand[0])) {
            /* abs is shorter than cand[0], so its folder fits in dir */
            size_t n = (size_t)(strrchr(abs, '/') - abs);
            memcpy(dir, abs, n ? n : 1);
            dir[n ? n : 1] = 0;
            writable[0] = access(dir, W_OK) == 0;
            nr = 1;
        }
        if (default_cache_dir(dir, sizeof(dir)) == 0 &&
            cache_name_in(cand[nr], sizeof(cand[nr]), dir, abs, src.path_hash) == 0) {
            writable[nr] = true;
            nr++;
        }
    }

    struct sim_trace *t = calloc(1, sizeof(*t));
    if (!t)
        return vm_diag_set(d, VM_ENOMEM, "out of memory");
    for (int i = 0; i < nr; i++)
        if (cache_map(cand[i], &src, fmt, t) == 0) {
            *out = t;
            return 0;
        }
    int pick = -1;
    for (int i = 0; i < nr && pick < 0; i++)
        if (writable[i])
            pick = i;
    if (pick < 0) {
        free(t);
        return vm_diag_set(d, VM_EIO, "'%s': no writable place for its binary cache", path);
    }
    if (pick > 0 || cache_dir) {
        size_t n = (size_t)(strrchr(cand[pick], '/') - cand[pick]);
        memcpy(dir, cand[pick], n);
        dir[n] = 0;
        if (mkdir_p(dir) != 0) {
            free(t);
            return vm_diag_set(d, VM_EIO, "'%s': cannot create cache folder: %s", dir, strerror(errno));
        }
    }
    struct source_id built;
    int rc = cache_build(path, fmt, cand[pick], abs, &built, d);
    if (rc) {
        free(t);
        return rc;
    }
    rc = cache_map(cand[pick], &built, fmt, t);
    if (rc) {
        free(t);
        return vm_diag_set(d, VM_EIO, "'%s': cannot map its new cache '%s'", path, cand[pick]);
    }
    t->built = true;
    *out = t;
    return 0;
}

int sim_trace_open(const char *path, enum sim_trace_format fmt, struct sim_trace **out,
                   struct vm_diag *d)
{
    return sim_trace_open_in(path, fmt, NULL, out, d);
}

void sim_trace_close(struct sim_trace *t)
{
    if (!t)
        return;
    munmap(t->map, t->map_bytes);
    free(t);
}

uint64_t sim_trace_nr_records(const struct sim_trace *t) { return t->hdr->nr_records; }
const struct sim_access *sim_trace_records(const struct sim_trace *t) { return t->recs; }
uint64_t sim_trace_total_accesses(const struct sim_trace *t) { return t->hdr->total_accesses; }
uint64_t sim_trace_distinct_pages(const struct sim_trace *t) { return t->hdr->distinct_pages; }
bool sim_trace_truncated(const struct sim_trace *t) { return t->hdr->flags & CACHE_FLAG_TRUNCATED; }
const char *sim_trace_cache_path(const struct sim_trace *t) { return t->cache_path; }
bool sim_trace_cache_built(const struct sim_trace *t) { return t->built; }
