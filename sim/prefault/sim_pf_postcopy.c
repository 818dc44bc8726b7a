/*
 * sim_pf_postcopy.c - the post-copy scenario: the VM runs on the
 * destination host at once; its pages are on the source host and come
 * over the platform's link through the transport port (sim_transport.h),
 * as QEMU's postcopy does:
 *   - a fault sends a page request (the policy's answer: the faulting
 *     frame and its neighbours) from the destination to the source, and
 *     the vCPU waits until the page is placed;
 *   - the source answers each request with the pages it has not sent yet;
 *   - with push, the source also streams every page it has not sent, in
 *     guest-physical order, push_pages per message, one message in flight
 *     (the migration thread's back pressure);
 *   - the faulting page travels alone, its neighbours in a second message,
 *     and the stream goes on from just after the faulting page (QEMU
 *     moves its scan position to a requested page);
 *   - with preempt (QEMU's postcopy-preempt), requested pages travel on a
 *     second connection served by their own thread, so they do not queue
 *     behind the stream.  Without preempt they share the stream's
 *     connection and wait behind the chunk in flight.
 *
 * Wire sizes: a request costs PC_HDR + 8 bytes per frame; a page message
 * PC_HDR + 4 KiB per page.  The blobs carry frame numbers and the pages'
 * fingerprints.  Zero pages (outside the working set) are never sent: the
 * destination installs them (QEMU sends a zero page as a flag).
 *
 * Network faults (the run point's "faults") act through the transport's
 * filter (sim_pf_net.c): every message names the frames it carries or
 * asks for (r->pc_ctx) so that the delay the faults add is attributed.
 */
#include <stdlib.h>
#include <string.h>

#include <simgrid/actor.h>
#include <simgrid/host.h>

#include "base/vm_bitmap.h"
#include "base/vm_fp.h"
#include "prefault/sim_pf_int.h"
#include "sim_transport.h"
#include "sim_world.h"

#define PC_HDR 64u                     /* bytes of a message's header on the wire */

enum { TAG_REQ = 1, TAG_PAGES = 2, TAG_STOP = 3 };

/* Endpoints: requests and the stream; the preempt connection. */
static const char *const EP_DST = "dst", *const EP_SRC = "src";
static const char *const EP_DST_URG = "dst-urgent", *const EP_SRC_URG = "src-urgent";

/* The connection (and way) a message from endpoint `from` goes on, for
 * the fault attribution (sim_pf_net.c): 0 dst->src, 1 src->dst, 2 and 3
 * the same on the preempt connection. */
static uint32_t conn_of(const char *from)
{
    return from == EP_DST ? 0 : from == EP_SRC ? 1 : from == EP_DST_URG ? 2 : 3;
}

struct pc_actor_arg {
    struct pf_run *r;
    const char *self;
};

/* Pages [0, n) of frames with their contents from the source's memory, as
 * one message from `from` to `to`; marks them sent. */
static int send_pages(struct pf_run *r, const char *from, const char *to, const uint64_t *frames,
                      uint32_t n, unsigned flags)
{
    size_t len = sizeof(uint32_t) + 2 * (size_t)n * sizeof(uint64_t);
    uint8_t *blob = malloc(len);
    if (!blob)
        return VM_ENOMEM;
    memcpy(blob, &n, sizeof n);
    uint64_t *f = (uint64_t *)(void *)(blob + sizeof n), *fp = f + n;
    for (uint32_t i = 0; i < n; i++) {
        f[i] = frames[i];
        fp[i] = r->expect[frames[i]];   /* the source's memory: what the guest left */
        vm_bitmap_set(r->pc_sent, frames[i]);
    }
    struct port_transport_out m = { .tag = TAG_PAGES, .blob = blob, .blob_len = len,
                                    .wire_bytes = PC_HDR + (uint64_t)n * VM_PAGE_SIZE };
    r->pc_ctx = frames;                /* the filter runs before the send can block */
    r->pc_ctx_n = r->pc_late ? n : 0;
    r->pc_ctx_conn = conn_of(from);
    r->pc_ctx_wire = m.wire_bytes;
    int rc = port_transport_send(r->pc_port, from, to, &m, flags);
    r->pc_ctx_n = 0;
    free(blob);
    if (rc == 0)
        r->pc_pages_sent += n;
    return rc;
}

/* Answer one request with the pages of it not sent yet: the faulting
 * page alone first (QEMU sends each page as its own record and the
 * destination places it on arrival: a fault does not wait for its
 * neighbours), then its neighbours in one message.  The request's blob is
 * the faulting frame (UINT64_MAX: none) then the frames.  *hint: the frame
 * after the faulting one (or after the last one asked), where the stream
 * goes on (QEMU moves its scan position to a requested page). */
static int serve(struct pf_run *r, const struct port_transport_msg *m, const char *from,
                 const char *to, uint64_t *hint)
{
    if (m->blob_len < sizeof(uint64_t))
        return VM_EINVAL;
    const uint64_t *b = m->blob;
    uint64_t faulting = b[0];
    uint32_t n = (uint32_t)(m->blob_len / sizeof(uint64_t)) - 1, k = 0;
    const uint64_t *want = b + 1;
    uint64_t *out = malloc((n ? n : 1) * sizeof *out);
    if (!out)
        return VM_ENOMEM;
    int rc = 0;
    if (faulting < r->nr_pages && !vm_bitmap_test(r->pc_sent, faulting))
        rc = send_pages(r, from, to, &faulting, 1, 0);
    for (uint32_t i = 0; i < n; i++)
        if (want[i] < r->nr_pages && !vm_bitmap_test(r->pc_sent, want[i]))
            out[k++] = want[i];
    if (rc == 0 && k)
        rc = send_pages(r, from, to, out, k, 0);
    uint64_t last = faulting < r->nr_pages ? faulting : (n ? want[n - 1] : UINT64_MAX);
    if (last < r->nr_pages)
        *hint = last + 1 == r->nr_pages ? 0 : last + 1;
    free(out);
    return rc;
}

/* The next push_pages frames with content not sent yet, from the cursor
 * (wrapping once); 0 when every page was sent. */
static uint32_t next_chunk(struct pf_run *r, uint64_t *out)
{
    uint32_t k = 0;
    for (uint64_t seen = 0; seen < r->nr_pages && k < r->cfg->push_pages; seen++) {
        uint64_t f = r->pc_cursor;
        r->pc_cursor = f + 1 == r->nr_pages ? 0 : f + 1;
        if (r->st.slot_of[f] != PF_NO_SLOT && !vm_bitmap_test(r->pc_sent, f))
            out[k++] = f;
    }
    return k;
}

/* The source's migration thread: requests (without preempt) and the stream. */
static void source_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct pf_run *r = sg_actor_self_get_data();
    uint64_t *chunk = malloc(r->cfg->push_pages * sizeof *chunk);
    bool pushing = r->cfg->push && chunk;
    for (;;) {
        struct port_transport_msg m;
        int rc = port_transport_recv(r->pc_port, EP_SRC, pushing ? 0 : PORT_TRANSPORT_FOREVER, &m);
        if (rc == 0) {
            int tag = (int)m.tag;
            if (tag == TAG_REQ)
                rc = serve(r, &m, EP_SRC, EP_DST, &r->pc_cursor);
            port_transport_msg_free(&m);
            if (tag == TAG_STOP)
                break;
            if (rc < 0 && !r->io_error)
                r->io_error = rc;
            continue;
        }
        if (!pushing)
            continue;
        uint32_t n = next_chunk(r, chunk);
        if (!n) {
            pushing = false;           /* every page is on its way */
            r->pc_push_done_ns = sim_now_ns();
            continue;
        }
        r->pc_ctx_more = true;         /* the stream goes on behind it (SACK, RACK) */
        rc = send_pages(r, EP_SRC, EP_DST, chunk, n, PORT_TRANSPORT_F_WAIT);
        r->pc_ctx_more = false;
        if (rc < 0) {
            if (!r->io_error)
                r->io_error = rc;
            pushing = false;
        }
    }
    free(chunk);
}

/* The source's preempt thread: requested pages on their own connection. */
static void urgent_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct pf_run *r = sg_actor_self_get_data();
    for (;;) {
        struct port_transport_msg m;
        if (port_transport_recv(r->pc_port, EP_SRC_URG, PORT_TRANSPORT_FOREVER, &m) < 0)
            continue;
        int tag = (int)m.tag, rc = 0;
        if (tag == TAG_REQ)
            rc = serve(r, &m, EP_SRC_URG, EP_DST_URG, &r->pc_cursor);
        port_transport_msg_free(&m);
        if (tag == TAG_STOP)
            break;
        if (rc < 0 && !r->io_error)
            r->io_error = rc;
    }
}

/* The destination's listen thread of one connection: places the pages. */
static void listen_main(int argc, char **argv)
{
    (void)argc;
    struct pf_run *r = sg_actor_self_get_data();
    const char *self = argv[0];
    for (;;) {
        struct port_transport_msg m;
        if (port_transport_recv(r->pc_port, self, PORT_TRANSPORT_FOREVER, &m) < 0)
            continue;
        int tag = (int)m.tag;
        if (tag == TAG_PAGES && m.blob_len >= sizeof(uint32_t)) {
            uint32_t n;
            memcpy(&n, m.blob, sizeof n);
            const uint64_t *f = (const uint64_t *)(const void *)((const uint8_t *)m.blob + sizeof n);
            const uint64_t *fp = f + n;
#ifdef SIM_PF_TEST_MUTANT
            /* a page that came late (retransmitted, or held by a pause)
             * arrives with other content: the content check must see it */
            bool garble = sim_pf_test_mutant("garble-late") && r->pc_late;
#endif
            for (uint32_t i = 0; i < n; i++) {
                bool asked = vm_bitmap_test(r->inflight, f[i]);
                vm_bitmap_clear(r->inflight, f[i]);
                if (sim_mem_test(r->mem, SIM_MEM_PRESENT, f[i]))
                    continue;          /* already placed */
                /* a requested page a fault waits for is placed as the
                 * faulting one; the rest of a request, and the stream's
                 * pages, as prefetched (their first use is observed) */
                uint64_t content = fp[i];
#ifdef SIM_PF_TEST_MUTANT
                if (garble && r->pc_late[f[i]])
                    content ^= 1;
#endif
                pf_install(r, f[i], content, asked && !vm_bitmap_test(r->pc_faulting, f[i]));
                vm_bitmap_clear(r->pc_faulting, f[i]);
                r->read_blocks++;
            }
            r->hv_cpu_ns += (uint64_t)n * r->cfg->costs.install_ns;
            sim_waitq_wake_all(r->io_wq);
        }
        port_transport_msg_free(&m);
        if (tag == TAG_STOP)
            break;
    }
}

/* A page request ready to go: its blob and wire size. */
struct pc_req {
    uint64_t *blob;
    size_t len;
    uint64_t wire;
};

static void drop_request(void *arg)
{
    struct pc_req *q = arg;
    free(q->blob);
    free(q);
}

static int send_request(struct pf_run *r, void *arg)
{
    struct pc_req *q = arg;
    struct port_transport_out m = { .tag = TAG_REQ, .blob = q->blob, .blob_len = q->len,
                                    .wire_bytes = q->wire };
    /* the frames asked for: the faulting one (if any) and the rest */
    r->pc_ctx = q->blob[0] == UINT64_MAX ? q->blob + 1 : q->blob;
    r->pc_ctx_n = r->pc_late ? (uint32_t)(q->len / sizeof *q->blob) -
                                   (q->blob[0] == UINT64_MAX) : 0;
    const char *from = r->cfg->preempt ? EP_DST_URG : EP_DST;
    r->pc_ctx_conn = conn_of(from);
    r->pc_ctx_wire = q->wire;
    int rc = port_transport_send(r->pc_port, from, r->cfg->preempt ? EP_SRC_URG : EP_SRC, &m,
                                 0);
    r->pc_ctx_n = 0;
    free(q->blob);
    free(q);
    return rc;
}

int pf_postcopy_request(struct pf_run *r, const uint64_t *frames, uint32_t n, uint64_t faulting)
{
    uint64_t *b = malloc(((size_t)n + 1) * sizeof *b);
    if (!b)
        return VM_ENOMEM;
    uint32_t k = 0;
    b[0] = UINT64_MAX;
    for (uint32_t i = 0; i < n; i++) {
        vm_bitmap_set(r->inflight, frames[i]);
        if (frames[i] == faulting) {
            vm_bitmap_set(r->pc_faulting, frames[i]);
            b[0] = faulting;
        } else {
            b[1 + k++] = frames[i];
        }
    }
    struct pc_req *q = malloc(sizeof *q);
    if (!q) {
        free(b);
        return VM_ENOMEM;
    }
    q->blob = b;
    q->len = ((size_t)k + 1) * sizeof *b;
    q->wire = PC_HDR + (uint64_t)n * sizeof *frames;
    r->read_ios++;
    return pf_defer(r, send_request, drop_request, q);
}

static sg_actor_t start_actor(const char *name, sg_host_t host, void (*fn)(int, char **),
                              struct pf_run *r, char *arg)
{
    sg_actor_t a = sg_actor_init(name, host);
    sg_actor_set_data(a, r);
    sg_actor_ref(a);
    char *argv[1] = { arg };
    sg_actor_start(a, fn, arg ? 1 : 0, arg ? argv : NULL);
    return a;
}

int pf_postcopy_setup(struct pf_run *r, struct vm_diag *d)
{
    struct pf_store *st = &r->st;
    for (uint64_t f = 0; f < r->nr_pages; f++)
        if (r->expect[f] != VM_FP_ZERO) {    /* the source sends every page with content */
            st->slot_of[f] = (uint32_t)f;    /* post-copy pulls by guest frame */
            st->frame_of[f] = (uint32_t)f;
        }
    st->nr_slots = r->nr_pages;
    r->pc_sent = calloc((r->nr_pages + 63) / 64, sizeof(uint64_t));
    r->pc_faulting = calloc((r->nr_pages + 63) / 64, sizeof(uint64_t));
    if (!r->pc_sent || !r->pc_faulting)
        return vm_diag_set(d, VM_ENOMEM, "out of memory");
    sg_host_t src = sg_host_by_name(r->cfg->source);
    if (!src)
        return vm_diag_set(d, VM_ENOENT, "postcopy.source: no host '%s' in the platform",
                           r->cfg->source);
    if (!(r->pc_tr = sim_transport_new(r->exp->seed, d)))
        return d->code ? d->code : VM_ENOMEM;
    int rc = sim_transport_endpoint(r->pc_tr, EP_DST, r->host, d);
    if (rc == 0)
        rc = sim_transport_endpoint(r->pc_tr, EP_SRC, src, d);
    if (rc == 0 && r->cfg->preempt)
        rc = sim_transport_endpoint(r->pc_tr, EP_DST_URG, r->host, d);
    if (rc == 0 && r->cfg->preempt)
        rc = sim_transport_endpoint(r->pc_tr, EP_SRC_URG, src, d);
    if (rc == 0)
        rc = pf_net_setup(r, d);
    if (rc < 0)
        return rc;
    r->pc_port = sim_transport_port(r->pc_tr);
    r->pc_actors[r->pc_nr_actors++] = start_actor("pc-source", src, source_main, r, NULL);
    r->pc_actors[r->pc_nr_actors++] = start_actor("pc-listen", r->host, listen_main, r,
                                                  (char *)EP_DST);
    if (r->cfg->preempt) {
        r->pc_actors[r->pc_nr_actors++] = start_actor("pc-urgent", src, urgent_main, r, NULL);
        r->pc_actors[r->pc_nr_actors++] = start_actor("pc-listen-urgent", r->host, listen_main,
                                                      r, (char *)EP_DST_URG);
    }
    return 0;
}

void pf_postcopy_stop(struct pf_run *r)
{
    if (!r->pc_tr)
        return;
    struct port_transport_out stop = { .tag = TAG_STOP, .wire_bytes = PC_HDR };
    pf_net_off(r);                     /* the stop is the simulator's, not the link's */
    /* the threads end on a stop message each, behind what is queued */
    port_transport_send(r->pc_port, EP_DST, EP_SRC, &stop, 0);
    port_transport_send(r->pc_port, EP_SRC, EP_DST, &stop, 0);
    if (r->cfg->preempt) {
        port_transport_send(r->pc_port, EP_DST_URG, EP_SRC_URG, &stop, 0);
        port_transport_send(r->pc_port, EP_SRC_URG, EP_DST_URG, &stop, 0);
    }
    for (int i = 0; i < r->pc_nr_actors; i++) {
        sg_actor_join(r->pc_actors[i], -1);
        sg_actor_unref(r->pc_actors[i]);
    }
    r->pc_nr_actors = 0;
}

void pf_postcopy_free(struct pf_run *r)
{
    sim_transport_free(r->pc_tr);
    pf_net_free(r);
    free(r->pc_sent);
    free(r->pc_faulting);
}
