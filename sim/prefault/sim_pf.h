/*
 * sim_pf.h - the prefault mechanism in the simulator: on a fault for a
 * guest frame that is not in host memory, the policy (models/prefault/)
 * names the frames to bring in with it, and the world brings them in from
 * where they are: a host swap device, a suspend image on disk, or the
 * source host of a post-copy migration.  US9086981 / US9454489 (the
 * guest-virtual window) runs next to the baselines Linux and the papers
 * use, on the same trace, seed and world.
 *
 * A run point:
 *   1. Recording pass (plain C, no simulated time): every vCPU replays its
 *      stream once through the guest's page tables, so the guest's
 *      processes map their pages (frames from the guest's buddy
 *      allocator) and write their contents.  The frames touched are the
 *      working set, in first-touch order (the recorded set REAP-style
 *      policies replay).
 *   2. The scenario's start state:
 *        swap      a warm pass of the streams with host memory limited
 *                  (sim_pf_swap.c): the pages it pushed out sit in swap
 *                  slots in eviction order, as on a host that has been
 *                  running the guest; the resident set it left;
 *        resume    every page absent; the working set in a suspend image
 *                  on the disk, in guest-physical order or in guest-virtual
 *                  order (a walk of each process's tables: the patent's
 *                  suspend claim);
 *        postcopy  every page absent; the working set on the source host,
 *                  pulled over the link (optionally pushed in the
 *                  background, reordered around recent faults).
 *      The rest of guest memory holds content too (kernel, page cache:
 *      the content classes of vm.content) and is stored with the working
 *      set: in the image, on the source, in swap (where it went long
 *      ago).  Zero pages are stored nowhere: a fault on one installs a
 *      zero page without I/O, as QEMU and the kernel do, and no policy is
 *      given one as a neighbour (it has no copy to read).
 *   3. The measured pass: the vCPUs replay their streams again in
 *      simulated time; a fault calls the policy and waits for the I/O
 *      that holds its page; the prefetched pages arrive with it.  A fault
 *      costs the handler's entry (the host kernel's fault path under swap,
 *      a userfaultfd round trip for post-copy and resume), the decode and
 *      the page-table entries the policy read, then its I/O starts; the
 *      first use of a prefetched page is a fault of the host kernel's
 *      (a swap-cache hit, or the EPT mapping of an installed page).
 *
 * Post-copy under network faults (the run point's "faults": partition,
 * msg_loss, msg_delay between the source and the destination): a lost
 * message arrives after TCP's retransmission timeout, doubled each time
 * the same message is lost again; a partition pauses post-copy
 * (postcopy-paused) until the link is back and the recovery is done
 * (sim_pf_net.c).
 *
 * Host reclaim under swap (swap.reclaim, models/hostmem "Reclaim"):
 * memcg, the default, is a hard limit on the guest's host memory (a
 * memory cgroup's memory.max): a fault that needs a frame evicts one and
 * waits for its write-back.  kswapd is a host whose RAM is the host
 * memory, with Linux's zone watermarks: a fault takes a free frame while
 * more than min are free and waits for no write; one that takes memory
 * to low or below wakes kswapd, an actor of its own (sim_pf_swap.c) that
 * evicts batches of 32 by the clock and writes each batch's dirty pages
 * in one request per run of neighbouring slots on the swap disk the
 * faults read, until free plus under write-back is at high; a frame is
 * free when its write ends; a frame it freed from an unused prefetch is
 * for a faulting page only.  At min or below a fault reclaims directly
 * and waits, as under memcg.  Simplified: one zone, one kswapd, no
 * kcompactd, kswapd's scan takes no time.
 *
 * Page-table frames (sim_mem's table reads): the guest's tables are
 * guest frames like any other, with content of their own (the entries
 * the guest kernel wrote).  The recording pass's walks read them, so they
 * are in the working set (first touched before the page a walk
 * translates) and with it in the start state: in swap slots when the warm
 * pass's clock evicted them (their EPT accessed bits are set by the walks
 * that read them), absent on the post-copy destination until pulled or
 * pushed, absent after a resume.  In the measured pass a vCPU's walk (a
 * software-TLB miss) reads the root, then each table down to the leaf;
 * an absent one is a fault on that frame through the same path and policy
 * as any (the policy is told no GVA: hardware reports the address being
 * translated, which does not map the table frame, so the GVA windows
 * bring the table in alone), and the walk starts again.  The neighbour
 * translations read only present table frames and skip what lies below
 * the others.  Every eviction flushes the vCPUs' software TLBs, as KVM's
 * INVEPT after zapping an EPT entry does.  The suspend image in
 * guest-virtual order holds each table just before the first page it
 * maps (a depth-first walk of each process's tables).
 *
 * Not modelled: a fault on a page under kswapd's write-back being served
 * from the swap cache (it reads the slot after the write); the A and D
 * bits the walks set in table entries changing a table frame's content
 * (every A bit is set in the recording pass, before the contents are
 * taken); the paging-structure caches, which let a real walk skip the
 * upper levels (here every walk reads each level).
 *
 * Checks in every run (sim_pf_fault.c, sim_pf_swap.c): every page the guest uses,
 * and every table frame a walk reads, holds
 * the content it held when it left host memory (sim_mem's restore check,
 * re-armed per page at each eviction), every frame a policy asks for is
 * absent, and no prefetch takes the frame of a page the policy
 * prefetched and the guest has not used yet (by evicting it, or, under
 * kswapd, by taking the free frame kswapd's eviction of it left).
 */
#ifndef SIM_PF_H
#define SIM_PF_H

#include <stdbool.h>
#include <stdint.h>

#include "prefault/prefault.h"
#include "sim_exp.h"
#include "sim_mech.h"

enum sim_pf_scenario { SIM_PF_SWAP = 0, SIM_PF_POSTCOPY = 1, SIM_PF_RESUME = 2 };
enum sim_pf_order { SIM_PF_ORDER_GPA = 0, SIM_PF_ORDER_GVA = 1 };
/* msg_loss's p on the post-copy link: per message, or per TCP segment of
 * SIM_PF_MSS bytes (a message is lost when one of its segments is). */
enum sim_pf_loss_unit { SIM_PF_LOSS_MESSAGE = 0, SIM_PF_LOSS_SEGMENT = 1 };
/* TCP's payload per segment on Ethernet: MTU 1500 - 20 (IPv4) - 20 (TCP)
 * - 12 (the timestamps option Linux sends by default) */
#define SIM_PF_MSS 1448u

/* CPU costs the driver charges (ns); defaults and sources in sim_pf_mech.c. */
struct sim_pf_costs {
    uint64_t uffd_fault_ns;            /* a fault's round trip through a user-space
                                          handler (post-copy, resume) */
    uint64_t kernel_fault_ns;          /* a fault the host kernel handles without I/O
                                          (swap-in path, swap-cache hit, EPT mapping) */
    uint64_t decode_ns;                /* decoding the faulting instruction (GVA by decode) */
    uint64_t walk_entry_ns;            /* reading one guest page-table entry */
    uint64_t install_ns;               /* installing one 4 KiB page (copy + map) */
};

struct sim_pf_cfg {
    int scenario;                      /* enum sim_pf_scenario */
    struct sim_exp_vm vm;
    struct sim_exp_workload workload;
    struct sim_pf_costs costs;
    /* swap */
    double memory_fraction;            /* host memory for the guest / working set */
    uint64_t host_memory_bytes;        /* or this many bytes (0: use the fraction) */
    int reclaim;                       /* enum hostmem_reclaim: memcg (0) or kswapd */
    uint64_t min_free_kbytes;          /* kswapd: vm.min_free_kbytes (0: Linux's for the
                                          host memory) */
    uint32_t watermark_scale_factor;   /* kswapd: vm.watermark_scale_factor (1..3000) */
    /* resume */
    int image_order;                   /* enum sim_pf_order */
    /* post-copy */
    char source[SIM_NAME_MAX];         /* the source host */
    bool push;                         /* background push of pages not requested */
    bool preempt;                      /* the push continues after the last fault */
    uint32_t push_pages;               /* pages per push message */
    /* post-copy under the run point's network faults (sim_pf_net.c) */
    uint64_t rto_ns;                   /* TCP's first retransmission timeout */
    uint64_t rto_max_ns;               /* its ceiling under exponential backoff */
    uint64_t pause_after_ns;           /* the management's migrate-pause this long into
                                          a partition (0: at once; 1 day: never) */
    uint64_t tcp_timeout_ns;           /* a socket with unacked data fails (and post-copy
                                          pauses) after retransmitting this long */
    uint64_t recover_ns;               /* from the link's return to post-copy running
                                          again (migrate-recover, migrate resume) */
    int loss_unit;                     /* enum sim_pf_loss_unit: what msg_loss's p is for */
    /* all */
    uint64_t max_io_bytes;             /* largest read I/O */
    uint64_t ttr_window_ns;
    double ttr_stall;
};

#define SIM_PF_METRICS(X) \
    X(COMPLETION_NS,   "completion_ns",   "ns",    false, "measured pass: start to the last vCPU's end") \
    X(STALL_NS,        "stall_ns",        "ns",    false, "vCPU time spent in faults (handling and waiting), summed over vCPUs") \
    X(MAJOR_FAULTS,    "major_faults",    "count", false, "faults that had to fetch their page (disk or network)") \
    X(MINOR_FAULTS,    "minor_faults",    "count", false, "faults served without a fetch of their own (zero page, page already on its way, swap-cache hit)") \
    X(TABLE_FAULTS,    "table_faults",    "count", false, "major faults on the guest's page-table " \
      "frames (the vCPU's walk read an absent table: an EPT violation on a paging-structure " \
      "access), counted in major_faults") \
    X(FAULTONLY_FAULTS,"faultonly_faults","count", false, "major faults demand paging takes on the same pass (the coverage reference, counted by a replay without prefetch)") \
    X(COVERAGE_PCT,    "coverage_pct",    "%",     true,  "major faults avoided: 100 x (1 - major_faults / faultonly_faults)") \
    X(PREFETCHED,      "prefetched",      "count", false, "pages brought in ahead of a fault") \
    X(PREFETCH_USED,   "prefetch_used",   "count", true,  "prefetched pages the guest used") \
    X(ACCURACY_PCT,    "accuracy_pct",    "%",     true,  "100 x prefetch_used / prefetched") \
    X(READ_IOS,        "read_ios",        "count", false, "read I/Os or page requests issued") \
    X(BYTES_READ,      "bytes_read",      "bytes", false, "bytes moved in: disk reads or network payload") \
    X(BYTES_WRITTEN,   "bytes_written",   "bytes", false, "swap: bytes written to swap by evictions in the measured pass") \
    X(EVICTIONS,       "evictions",       "count", false, "swap: pages evicted in the measured pass") \
    X(FAULT_CPU_NS,    "fault_cpu_ns",    "ns",    false, "hypervisor CPU on the faulting vCPU's path per fault (entry, decode, walks, its own installs)") \
    X(HV_CPU_NS,       "hv_cpu_ns",       "ns",    false, "hypervisor CPU in all: the faults' paths and the installs of pages read ahead") \
    X(FAULT_P50_NS,    "fault_p50_ns",    "ns",    false, "fault latency seen by the vCPU, median") \
    X(FAULT_P99_NS,    "fault_p99_ns",    "ns",    false, "fault latency seen by the vCPU, 99th percentile") \
    X(TTR_NS,          "ttr_ns",          "ns",    false, "time to responsiveness: to the end of the first window with stall <= ttr_stall") \
    X(ACCESSES,        "accesses",        "count", true,  "guest accesses replayed in the measured pass (a trace record's count)") \
    X(WS_PAGES,        "ws_pages",        "count", false, "working set: guest frames the recording pass touched") \
    X(HOST_PAGES,      "host_pages",      "count", false, "swap: host memory for the guest, pages") \
    X(FRAG_RUN_PAGES,  "frag_run_pages",  "pages", true,  "measured fragmentation: mean length of runs contiguous in guest-virtual and guest-physical space") \
    X(WALK_ENTRIES,    "walk_entries",    "count", false, "guest page-table entries the policy read") \
    X(DECODES,         "decodes",         "count", false, "faulting instructions decoded") \
    X(NET_STALL_NS,    "net_stall_ns",    "ns",    false, "post-copy with network faults: vCPU stall attributable to them (the retransmission timeouts and pause of the request and of the message that carried each faulting page; summed over faults)") \
    X(RETRANSMISSIONS, "retransmissions", "count", false, "post-copy with network faults: retransmission timeouts that expired (each sends again what of one message is still lost)") \
    X(LOSS_PROBES,     "loss_probes",     "count", false, "post-copy with network faults: tail loss probes sent (RACK-TLP: 10 ms after a lost multi-segment tail, 200 ms for a lone segment)") \
    X(FAST_RETRANSMITS,"fast_retransmits","count", false, "post-copy with network faults, loss per segment: segments recovered by SACK/RACK about a round trip after their loss (no timer)") \
    X(PAUSED_NS,       "paused_ns",       "ns",    false, "post-copy with network faults: time post-copy spent paused (postcopy-paused, recovery included) during the measured pass") \
    X(WRITEBACK_WAITS, "writeback_waits", "count", false, "swap with reclaim kswapd: faults that reclaimed directly (min or fewer frames free) and waited for the write-back of a dirty frame they took") \
    X(DIRECT_EVICTIONS,"direct_evictions","count", false, "swap with reclaim kswapd: pages the faults evicted themselves (direct reclaim)") \
    X(KSWAPD_EVICTIONS,"kswapd_evictions","count", false, "swap with reclaim kswapd: pages kswapd evicted in the background") \
    X(KSWAPD_WRITE_IOS,"kswapd_write_ios","count", false, "swap with reclaim kswapd: write I/Os kswapd issued (one per run of neighbouring slots of a batch)")

enum sim_pf_metric {
#define X(id, name, unit, higher, desc) SIM_PF_M_##id,
    SIM_PF_METRICS(X)
#undef X
    SIM_PF_M_NR
};

#define SIM_PF_INVARIANTS(X) \
    X(CONTENT_CHECKED,   "content_checked",     false, "pages compared with the content they held before leaving host memory, at first use or at the end") \
    X(CONTENT_MISMATCH,  "content_mismatch",    true,  "pages the guest used (or that stayed present) with other content: used before resident with the right content") \
    X(FETCH_CHECKED,     "fetch_checked",       false, "frames a policy asked for, checked absent") \
    X(FETCH_PRESENT,     "fetch_present",       true,  "frames a policy asked for that were already in host memory") \
    X(EVICT_CHECKED,     "evict_checked",       false, "evictions checked") \
    X(EVICT_UNUSED,      "evict_unused_prefetch",true, "evictions of a page the policy prefetched that the guest had not used") \
    X(VCPU_ERRORS,       "vcpu_errors",         true,  "vCPUs stopped by an error")

enum sim_pf_inv {
#define X(id, name, bad, desc) SIM_PF_INV_##id,
    SIM_PF_INVARIANTS(X)
#undef X
    SIM_PF_INV_NR
};

/* The plug-in: one line in the program's mechanism registry. */
extern const struct sim_mech sim_pf_mech;

/* Run point e on host (the mechanism's run hook), from an actor. */
void sim_pf_run(const struct sim_exp *e, sg_host_t host, struct sim_outcome *out);

#endif
