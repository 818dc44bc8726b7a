/*
 * sim_calib.h - CPU costs measured on the machine vmsim runs on
 * (`vmsim calibrate`), and the costs file that carries them with their
 * provenance to experiments ("costs": "FILE" in a mechanism's config).
 *
 * What is measured (medians of timed samples; clock_gettime(CLOCK_MONOTONIC)):
 *   page_copy_ns     memcpy of a 4 KiB page out of a buffer far larger than
 *                    the caches (1 GiB, or twice the last-level cache if
 *                    that is more, at most a quarter of RAM), pages in random
 *                    order, into one 4 KiB destination: a cold source
 *   page_install_ns  memcpy of a hot 4 KiB page into random pages of the
 *                    same buffer: a cold destination (restore)
 *   zero_scan_ns     QEMU buffer_is_zero's test, the variant QEMU would pick
 *                    on this CPU (zero_scan_method: "avx2", "sse2" or the
 *                    word loop "int"; sim_calib_zero_best), over random zero
 *                    pages of the buffer: a full scan, cold
 *   wp_fault_ns      one write-protect fault round trip, from the write to
 *                    its resume: userfaultfd with UFFD_FEATURE_PAGEFAULT_FLAG_WP
 *                    and a handler thread that un-protects the page with
 *                    UFFDIO_WRITEPROTECT ("userfaultfd-wp") where the kernel
 *                    allows it, else an mprotect'ed page and a SIGSEGV
 *                    handler that mprotects it writable ("mprotect-sigsegv")
 *   wp_unprotect_ns  removing the write protection of one 4 KiB page, no
 *                    fault pending: UFFDIO_WRITEPROTECT with mode 0 on a page
 *                    of a write-protected userfaultfd range ("userfaultfd-wp"),
 *                    as QEMU's background snapshot does after saving each
 *                    host page (ram_save_release_protection ->
 *                    uffd_change_protection), else mprotect(PROT_READ |
 *                    PROT_WRITE) of one page of a read-only range ("mprotect")
 *   small_write_ns   one write() of 4 KiB appended to a file in $TMPDIR (or
 *                    /tmp; not O_DIRECT): the syscall and the page-cache page,
 *                    from a cache-hot source, as QEMU's qemu_fflush of the
 *                    stream after each host page (small_write_fs: the file
 *                    system); the file is truncated, untimed, every 32 MiB
 *   anon_fault_ns    a page fault the kernel handles with no I/O, as a host
 *                    swap-in's CPU path or the host side of an EPT violation
 *                    on a page already in host memory would cost: the first
 *                    write to each 4 KiB page of a fresh anonymous private
 *                    mapping (MADV_NOHUGEPAGE), minus the same loop over the
 *                    faulted pages (anon_fault_method "anon-first-write";
 *                    sim_calib_anon.c says what is in it and what is not)
 *   compress_bps     zstd compression of each content class's sample pages
 *                    (sim_content.h) in frames of 16 pages (a buffered block
 *                    at its default size), input bytes/s; per level
 *   decompress_bps   the same frames decompressed, output bytes/s
 * Rates are per class and for the default content mix ("mix": 0.25 zero,
 * 0.25 text, 0.10 code, 0.40 random pages), the mix as the time-weighted
 * (harmonic) mean: 1 / sum(fraction_c / rate_c).  Page figures are timed in
 * samples of batch_pages pages each (ns per page = sample time / pages),
 * faults one by one; the spread is the 10th and 90th percentile of the
 * samples.  A rate's time is the sum over the sample's 16 frames of each
 * frame's median over the repetitions (its spread: the sums of the
 * frames' 10th and 90th percentiles).  Samples are short (tens of us to
 * a ms) so that preemption by other load makes outliers, not medians;
 * the load average before and after is recorded with the figures.
 *
 * The costs file (JSON, "format": "vmsim-costs/1"):
 *   {
 *     "format": "vmsim-costs/1",
 *     "provenance": { "cpu_model": "...", "cores": 2, "kernel": "Linux ...",
 *                     "date": "2026-11-30T12:00:00Z", "vmsim_version": "0.1.0",
 *                     "zstd_version": "1.5.4", "buffer_bytes": ..., "llc_bytes": ...,
 *                     "loadavg_before": 0.1, "loadavg_after": 0.2, "quick": false },
 *     "wp_fault_method": "userfaultfd-wp" | "mprotect-sigsegv",
 *     "wp_fault_note": "why the fallback, when there was one",   (optional)
 *     "wp_unprotect_method": "userfaultfd-wp" | "mprotect",
 *     "wp_unprotect_note": "why the fallback",                   (optional)
 *     "zero_scan_method": "avx2" | "sse2" | "int",                (optional)
 *     "page_copy_ns": 1.0, "page_install_ns": 1.0, "zero_scan_ns": 1.0,
 *     "wp_fault_ns": 1.0, "wp_unprotect_ns": 1.0, "small_write_ns": 1.0,
 *     "anon_fault_method": "anon-first-write",                   (optional)
 *     "anon_fault_ns": 1.0,                                      (optional)
 *     "compress_bps":   { "level_1": { "zero": .., "text": .., "code": ..,
 *                                      "random": .., "mix": .. }, "level_3": {..} },
 *     "decompress_bps": { the same shape },
 *     "spread": { per figure: { "p10", "p90", "samples", ... } },  (optional, free)
 *     "not_measured": { "trace_arm": "...", "device_state": "..." } (optional, free)
 *   }
 * The provenance may also say "small_write_fs" (the file system the small
 * writes went to: "ext4", "tmpfs", ...).
 * Required: format, provenance (cpu_model, cores, kernel, date,
 * vmsim_version), wp_fault_method, wp_unprotect_method, the six page
 * figures (> 0, at most 1 s)
 * and both rate objects with level_<SIM_CONTENT_ZSTD_LEVEL> (every class and
 * the mix, > 0).  Unknown top-level keys are errors, as in configs.
 * The crypto figures (sim_calib_crypto.c; OpenSSL's libcrypto through its EVP
 * API, keys made once outside the timing, a fresh message per sample):
 *   sha256_64_ns         one SHA-256 of a 64-byte message (init, update, final
 *                        on a reused context), timed in samples of 64
 *   sha256_4k_ns         one SHA-256 of a 4 KiB message, samples of 16
 *   ed25519_sign_ns      one Ed25519 signature of a 64-byte message
 *                        (EVP_DigestSignInit + EVP_DigestSign), one a sample
 *   ed25519_verify_ns    one Ed25519 verification of such a signature
 *   ecdsa_p256_sign_ns   one ECDSA P-256 signature of a SHA-256 digest
 *                        (EVP_PKEY_sign on the 32 bytes; for comparison)
 *   ecdsa_p256_verify_ns one ECDSA P-256 verification of such a signature
 *   policy_lookup_ns     one probe of an in-memory index keyed by SHA-256
 *                        digests: a random 32-byte key (a hit) looked up
 *                        among 100,000 entries of an open-addressing table of
 *                        64-byte entries (2^17 slots, 8 MiB, linear probing),
 *                        samples of 64 probes one after the other (each
 *                        key's address depends on the previous result: a
 *                        probe's latency, not an overlapped throughput); the
 *                        table is far larger than L1 and L2, as a real index is
 * In the costs file they are one optional object:
 *     "crypto": { "openssl_version": "OpenSSL 3.0.19 ...",
 *                 "date": "...", "loadavg_before": .., "loadavg_after": ..,
 *                 "quick": false,                          (these four optional)
 *                 "sha256_64_ns": .., "sha256_4k_ns": .., "ed25519_sign_ns": ..,
 *                 "ed25519_verify_ns": .., "ecdsa_p256_sign_ns": ..,
 *                 "ecdsa_p256_verify_ns": .., "policy_lookup_ns": .. }
 * with their spreads in "spread": { "crypto": { per figure } }.  A file
 * without it loads with every crypto figure 0 (not measured) and is
 * written back without it; when present, openssl_version and the seven
 * figures are required (> 0, at most 1 s) and unknown keys are errors.
 * The crypto object has its own date and load average because `vmsim
 * calibrate --only crypto -o FILE` adds it to an existing file later
 * (sim_calib_json_set_crypto), leaving every other byte of the file as it
 * was.
 * anon_fault_ns came later: a file without it loads, with
 * anon_fault_ns.median 0 and anon_method "" (not measured; a user of the
 * figure must say so or take its own default), and is written back
 * without it.  When present it is > 0, at most 1 s, and anon_fault_method
 * must be "anon-first-write"; the method without the figure is an error.
 */
#ifndef SIM_CALIB_H
#define SIM_CALIB_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "base/vm_err.h"
#include "sim_exp.h"

#define SIM_CALIB_FORMAT "vmsim-costs/1"
#define SIM_CALIB_MAX_LEVELS 4
#define SIM_CALIB_MIX SIM_CONTENT_NR      /* index of the mix after the classes */
#define SIM_CALIB_NR_RATES (SIM_CONTENT_NR + 1)
#define SIM_CALIB_METHOD_UFFD "userfaultfd-wp"
#define SIM_CALIB_METHOD_MPROTECT "mprotect-sigsegv"
#define SIM_CALIB_UNPROTECT_MPROTECT "mprotect"   /* wp_unprotect's fallback */
#define SIM_CALIB_ZERO_AVX2 "avx2"
#define SIM_CALIB_ZERO_SSE2 "sse2"
#define SIM_CALIB_ZERO_INT "int"
#define SIM_CALIB_ANON_METHOD "anon-first-write"

/* The default content mix the "mix" rates are for (the vm.content defaults). */
extern const double sim_calib_mix[SIM_CONTENT_NR];
/* "zero", "text", "code", "random", "mix": keys of the rate objects. */
extern const char *const sim_calib_rate_names[SIM_CALIB_NR_RATES];

/* One measured figure: the median of `samples` timed samples and their
 * 10th / 90th percentiles (all 0 when not measured; loaded files may
 * carry the median only). */
struct sim_calib_fig {
    double median, p10, p90;
    uint32_t samples;
};

/* The crypto figures (ns per operation) and where they come from; every
 * figure 0 (and openssl_version "") when not measured. */
struct sim_calib_crypto {
    char openssl_version[96];            /* OpenSSL_version(OPENSSL_VERSION) */
    char date[32];                       /* UTC ISO 8601 of the run, "" if not known */
    double loadavg[2];                   /* 1-minute load average before and after, or -1 */
    bool quick;                          /* measured by a smoke-test run */
    struct sim_calib_fig sha256_64_ns, sha256_4k_ns;
    struct sim_calib_fig ed25519_sign_ns, ed25519_verify_ns;
    struct sim_calib_fig ecdsa_p256_sign_ns, ecdsa_p256_verify_ns;
    struct sim_calib_fig policy_lookup_ns;
};

struct sim_calib {
    /* provenance */
    char cpu_model[128];
    int cores;
    char kernel[320];
    char date[32];                       /* UTC ISO 8601, "2026-11-30T12:00:00Z" */
    char vmsim_version[32];
    char zstd_version[32];
    uint64_t buffer_bytes;               /* the cold buffer page figures used */
    uint64_t llc_bytes;                  /* last-level cache as sysconf reports it, or 0 */
    double loadavg[2];                   /* 1-minute load average before and after, or -1 */
    uint32_t batch_pages;                /* pages per timed sample */
    bool quick;                          /* a smoke-test run (calibrate --quick) */
    /* the write-protect fault's method, and why not userfaultfd if not */
    char wp_method[32];                  /* SIM_CALIB_METHOD_* */
    char wp_note[256];
    /* the un-protect's method (SIM_CALIB_METHOD_UFFD or SIM_CALIB_UNPROTECT_MPROTECT),
     * and why not userfaultfd if not */
    char unprotect_method[32];
    char unprotect_note[256];
    char zero_method[16];                /* SIM_CALIB_ZERO_*, "" when not known */
    char small_write_fs[32];             /* file system of the small writes, "" if not known */
    char anon_method[32];                /* SIM_CALIB_ANON_METHOD, "" when not measured */
    /* figures */
    struct sim_calib_fig page_copy_ns, page_install_ns, zero_scan_ns, wp_fault_ns;
    struct sim_calib_fig wp_unprotect_ns, small_write_ns;
    struct sim_calib_fig anon_fault_ns;  /* median 0: not measured (an older file) */
    int nr_levels;
    int levels[SIM_CALIB_MAX_LEVELS];    /* zstd levels, ascending */
    struct sim_calib_fig compress_bps[SIM_CALIB_MAX_LEVELS][SIM_CALIB_NR_RATES];
    struct sim_calib_fig decompress_bps[SIM_CALIB_MAX_LEVELS][SIM_CALIB_NR_RATES];
    struct sim_calib_crypto crypto;      /* sha256_64_ns.median 0: not measured */
};

enum sim_calib_wp {
    SIM_CALIB_WP_AUTO,                   /* userfaultfd-wp where it works, else mprotect */
    SIM_CALIB_WP_UFFD,                   /* userfaultfd-wp or fail (VM_ENOTSUP) */
    SIM_CALIB_WP_MPROTECT,               /* mprotect + SIGSEGV */
};

#define SIM_CALIB_DEF_SAMPLES 1024

/* How much to measure; zero fields take the defaults of a full run. */
struct sim_calib_opts {
    uint64_t buffer_bytes;               /* 0: 1 GiB or 2x the LLC, at most RAM/4 */
    uint32_t batch_pages;                /* 0: 64 pages per timed sample */
    uint32_t max_samples;                /* 0: SIM_CALIB_DEF_SAMPLES per page figure at
                                            most, and per crypto figure */
    uint32_t zstd_reps;                  /* 0: 31 timed passes per class and level */
    uint32_t nr_faults;                  /* 0: 8192 write-protect faults, as many
                                            pages un-protected, and the pages of each
                                            mapping the anonymous faults touch */
    const char *tmpdir;                  /* NULL: $TMPDIR, else /tmp (the small writes) */
    enum sim_calib_wp wp;
    bool quick;                          /* recorded in the provenance */
    bool progress;                       /* one line per step on stderr */
};

/*
 * Measure everything on this machine into *out (provenance included):
 * takes a few seconds with the defaults (the buffer fill dominates).
 * Loads the content samples (sim_content_init).  0, VM_ENOMEM (the
 * buffer), VM_ENOENT / VM_EIO (samples), VM_EIO (zstd, the fault
 * measurement); the message in d.
 */
int sim_calib_measure(const struct sim_calib_opts *o, struct sim_calib *out, struct vm_diag *d);

/*
 * The write-protect fault round trip alone: nr_faults faults by `how`
 * into *fig; the method used into method[32] and, when AUTO fell back to
 * mprotect, why into note[256].  0, VM_ENOTSUP (SIM_CALIB_WP_UFFD where
 * the kernel does not allow it, with why), VM_ENOMEM, VM_EIO.
 */
int sim_calib_wp_fault(enum sim_calib_wp how, uint32_t nr_faults, struct sim_calib_fig *fig,
                       char *method, char *note, struct vm_diag *d);

/*
 * Removing the write protection of one 4 KiB page, nr_pages times, pages
 * in a fixed random order, timed in samples of SIM_CALIB_UNPROTECT_BATCH
 * pages, by `how` as for the fault (AUTO: userfaultfd-wp where the kernel
 * allows it, else mprotect) into *fig; the method into method[32] and,
 * after a fallback, why into note[256].  0, VM_ENOTSUP (SIM_CALIB_WP_UFFD
 * where the kernel does not allow it), VM_EINVAL (fewer pages than one
 * sample), VM_ENOMEM, VM_EIO.
 */
#define SIM_CALIB_UNPROTECT_BATCH 16
int sim_calib_wp_unprotect(enum sim_calib_wp how, uint32_t nr_pages, struct sim_calib_fig *fig,
                           char *method, char *note, struct vm_diag *d);

/*
 * 4 KiB write()s appended to a new unnamed file in dir (NULL: $TMPDIR,
 * else /tmp), in samples of `batch` writes, max_samples of them (after
 * two dropped warm-up samples); the file is truncated untimed every 32
 * MiB and gone afterwards.  ns per write into *fig, the file system's
 * name into fs[32].  0, VM_EINVAL (batch 0), VM_EIO (cannot create the
 * file, a short or failed write, with why), VM_ENOMEM.
 */
int sim_calib_small_write(const char *dir, uint32_t batch, uint32_t max_samples,
                          struct sim_calib_fig *fig, char *fs, struct vm_diag *d);

/*
 * Anonymous first-write faults (anon_fault_ns): fresh mappings of
 * nr_pages pages (rounded down to whole samples), samples of `batch`
 * pages, max_samples of them (after two dropped warm-up samples), over
 * as many mappings as that takes; ns per fault, the faulted loop's time
 * subtracted, into *fig.  0, VM_EINVAL (batch or max_samples 0, or
 * nr_pages < batch), VM_ENOMEM (the samples, or mmap, with why).
 */
int sim_calib_anon_fault(uint32_t nr_pages, uint32_t batch, uint32_t max_samples,
                         struct sim_calib_fig *fig, struct vm_diag *d);

/*
 * The crypto figures alone (see above): each signature and lookup figure
 * from max_samples samples (sha256_64_ns and policy_lookup_ns from batches
 * of SIM_CALIB_HASH_BATCH, sha256_4k_ns of SIM_CALIB_HASH4K_BATCH), after
 * two dropped warm-up samples, into *out with OpenSSL's version, the date
 * and the load average before and after; out->quick is kept (the caller's).  Every
 * signature is checked to verify, and a tampered one not to; every probe
 * to hit.  Takes about a second with 1024 samples (building the table and
 * the signatures the verifications check dominate).  0, VM_EINVAL
 * (max_samples 0), VM_ENOMEM, VM_EIO (libcrypto failed or disagreed, with
 * its error).
 */
#define SIM_CALIB_HASH_BATCH 64
#define SIM_CALIB_HASH4K_BATCH 16
#define SIM_CALIB_POLICY_ENTRIES 100000
int sim_calib_crypto(uint32_t max_samples, struct sim_calib_crypto *out, struct vm_diag *d);

/*
 * Put c's crypto figures into a costs file's tree: "crypto" (replaced in
 * place, else inserted before "spread", else appended), "spread"."crypto"
 * and "notes"."crypto" (replaced or appended; the objects made when
 * missing).  Nothing else in root changes, so a file read, given new
 * crypto figures and printed again differs only there.  With no crypto
 * figures in c, removes those three.  0 or VM_ENOMEM.
 */
int sim_calib_json_set_crypto(cJSON *root, const struct sim_calib *c, struct vm_diag *d);

/*
 * The crypto costs a simulation charges, from a loaded costs file:
 *   *sha256_ns_per_byte  sha256_4k_ns / 4096: a whole 4 KiB hash, its fixed
 *                        part included, per byte (for messages and files
 *                        of a few KiB and more; an estimate above 4 KiB)
 *   *sha256_small_ns     sha256_64_ns: one hash of at most 64 bytes
 *   *sign_ns, *verify_ns ed25519_sign_ns, ed25519_verify_ns
 *   *lookup_ns           policy_lookup_ns: one digest looked up in an index
 * Any output may be NULL.  0, or VM_ENOENT when c has no crypto figures
 * (an older file; the message says how to add them), outputs untouched.
 */
int sim_calib_crypto_costs(const struct sim_calib *c, double *sha256_ns_per_byte,
                           double *sha256_small_ns, double *sign_ns, double *verify_ns,
                           double *lookup_ns, struct vm_diag *d);
/* The same for ECDSA P-256 (ecdsa_p256_sign_ns, ecdsa_p256_verify_ns: one
 * signature of a SHA-256 digest, one verification).  Any output may be
 * NULL.  0, or VM_ENOENT when c lacks them, outputs untouched. */
int sim_calib_crypto_ecdsa_costs(const struct sim_calib *c, double *sign_ns, double *verify_ns,
                                 struct vm_diag *d);

/*
 * The zero test of a page (QEMU's buffer_is_zero, see zero_scan_ns): true
 * when all len bytes of buf are zero.  buf is 32-byte aligned and len a
 * multiple of 256.  sim_calib_zero_best gives the variant QEMU would pick
 * on this CPU (its name in *method when method is not NULL);
 * sim_calib_zero_variant the variant SIM_CALIB_ZERO_* by name, or NULL
 * when this CPU or build does not have it.
 */
typedef bool (*sim_calib_zero_test)(const void *buf, size_t len);
sim_calib_zero_test sim_calib_zero_best(const char **method);
sim_calib_zero_test sim_calib_zero_variant(const char *method);

/* CLOCK_MONOTONIC in ns: what every timed sample reads. */
uint64_t sim_calib_now_ns(void);
/* The 1-minute load average from /proc/loadavg, or -1. */
double sim_calib_loadavg(void);

/* Median, 10th and 90th percentile of v[0..n) (sorts v; linear
 * interpolation between ranks) into *f; n = 0 leaves *f zero. */
void sim_calib_fig_from(double *v, uint32_t n, struct sim_calib_fig *f);

/* Fill the provenance fields of c from this machine (CPU model from
 * /proc/cpuinfo "model name", online cores, uname, the UTC date now). */
void sim_calib_provenance(struct sim_calib *c);

/* The costs file's JSON for c (a new tree; NULL when out of memory). */
cJSON *sim_calib_to_json(const struct sim_calib *c);

/*
 * Parse and check a costs file's tree (see above) into *out; file names it
 * in messages.  Each problem: "FILE: $.json.path: expected ..., got ...".
 * 0 or VM_EINVAL (the first problem in d).
 */
int sim_calib_from_json(const char *file, const cJSON *root, struct sim_calib *out,
                        struct vm_diag *d);
/* Read, parse and check the costs file `file`: 0, VM_ENOENT, VM_EPARSE
 * ("FILE:LINE:COL: malformed JSON: ..."), VM_EINVAL. */
int sim_calib_load(const char *file, struct sim_calib *out, struct vm_diag *d);

/* Index of zstd level `level` in c, or -1. */
int sim_calib_level_index(const struct sim_calib *c, int level);

/*
 * Writing a costs file atomically: open creates a registered temporary
 * file in the directory of `file` (sim_tempfile.h: an interrupted run
 * leaves nothing), commit writes c's JSON to it, fsyncs and renames it
 * over `file`, abort removes it.  open: 0, VM_EINVAL (file is a
 * directory), VM_EIO (cannot create it there, with why); commit: 0 or
 * VM_EIO (the temporary file is removed).  sim_calib_write does all three.
 */
struct sim_calib_out {
    char tmp[PATH_MAX];
    char final[PATH_MAX];
    int fd;
};
int sim_calib_out_open(const char *file, struct sim_calib_out *o, struct vm_diag *d);
int sim_calib_out_commit(struct sim_calib_out *o, const struct sim_calib *c, struct vm_diag *d);
/* The same with the file's tree given (printed as sim_calib_out_commit
 * prints: cJSON_Print and a newline); the tree stays the caller's. */
int sim_calib_out_commit_json(struct sim_calib_out *o, const cJSON *root, struct vm_diag *d);
void sim_calib_out_abort(struct sim_calib_out *o);
int sim_calib_write(const char *file, const struct sim_calib *c, struct vm_diag *d);

/* The human table of c (what `vmsim calibrate` prints); the crypto part
 * alone (what `--only crypto` prints). */
void sim_calib_print(FILE *f, const struct sim_calib *c);
void sim_calib_print_crypto(FILE *f, const struct sim_calib_crypto *c);

/* `vmsim calibrate [-o FILE] [--quick] [--only crypto]`: argc/argv after
 * "calibrate".  --only crypto measures the crypto figures alone and, with
 * -o, adds them to the existing costs file FILE (which must load; its
 * other keys stay byte for byte).  Exit status: 0, 1 (a measurement
 * failed), 2 (bad arguments or FILE). */
int sim_calib_main(int argc, char **argv);

#endif
