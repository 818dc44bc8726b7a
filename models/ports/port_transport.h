/*
 * port_transport.h - messages between named endpoints (a migration
 * source and destination, an IO-filter daemon, an attestation service).
 *
 * A message carries two sizes that need not agree:
 *   - the blob: the bytes the receiver gets, in memory (frame numbers and
 *     fingerprints, a request struct);
 *   - wire_bytes: what the network is charged for it (a post-copy reply
 *     of n pages costs n x 4 KiB on the wire while its blob holds n frame
 *     numbers and n fingerprints).  Charged as given: 0 costs the path's
 *     latency only.  Count headers in it if they matter.
 *
 * Endpoints are named; the world says where each one lives (sim/: a host
 * of the platform, sim_transport_endpoint()).  Messages from one endpoint
 * to another are delivered in the order they were sent, as on one TCP
 * connection; a message may wait behind a larger one sent before it on
 * the same pair (head-of-line blocking).  A second pair of endpoints is a
 * second connection (QEMU's postcopy-preempt channel).
 *
 * Requests and replies: call() sends a REQUEST with a fresh request id
 * and waits for the REPLY with that id, or VM_ETIMEDOUT; the serving side
 * recv()s the request and answers with reply().  A reply that arrives
 * after its call timed out is dropped (counted by the implementation).
 * Several calls may be in flight at once from one endpoint (each vCPU of
 * a post-copy destination waiting on its own page), and plain messages
 * may flow on the same path meanwhile.
 *
 * Blocking: recv() and call() block the caller until a message arrives or
 * the timeout passes.  In the simulator the caller is a SimGrid actor and
 * only it waits; simulated time advances.  The test fake
 * (tests/fakes/fake_transport.h) never blocks: it runs the serving side's
 * handler and moves its clock.  Models use the port from code that may
 * block (a daemon's loop, a vCPU's fault path), never from a callback of
 * another port.
 *
 * Faults (loss, extra delay) are injected by the implementation, not
 * through the port: a lost message is sent (and charged) but never
 * delivered, and send() still returns 0, as a socket write does.
 *
 * Errors: 0 or a negative VM_E*: VM_EINVAL (bad arguments), VM_ENOENT (an
 * unknown endpoint, or no route between their hosts), VM_ETIMEDOUT,
 * VM_ENOMEM.  Nothing is sent when an error is returned.
 */
#ifndef PORT_TRANSPORT_H
#define PORT_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define PORT_TRANSPORT_VERSION 2
#define PORT_TRANSPORT_FOREVER UINT64_MAX   /* a timeout that never expires */

/* send() flags */
#define PORT_TRANSPORT_F_WAIT 1u    /* return once the message is delivered (or
                                     * lost): the back pressure of a stream
                                     * that keeps one message in flight */

enum port_transport_kind {
    PORT_TRANSPORT_MSG = 0,          /* a plain message (send) */
    PORT_TRANSPORT_REQUEST = 1,      /* a call's request; answer with reply() */
    PORT_TRANSPORT_REPLY = 2,        /* a reply; only call() receives these */
};

/* A message to send.  The caller's: the transport copies the blob. */
struct port_transport_out {
    uint32_t tag;                    /* the protocol's message type; never read */
    const void *blob;                /* blob_len bytes; NULL when blob_len is 0 */
    size_t blob_len;
    uint64_t wire_bytes;             /* bytes charged on the network */
};

/* A received message.  Filled by recv() and call(); the blob is then the
 * receiver's: release it with port_transport_msg_free(). */
struct port_transport_msg {
    enum port_transport_kind kind;
    uint32_t tag;
    uint64_t id;                     /* request id (REQUEST, REPLY); 0 for MSG */
    const char *from;                /* the sender's name, the transport's: valid
                                      * while the transport lives */
    void *blob;                      /* malloc'd copy (NULL when blob_len is 0) */
    size_t blob_len;
    uint64_t wire_bytes;
    uint64_t sent_ns, recv_ns;       /* simulated time of send and delivery */
};

struct port_transport;

struct port_transport_ops {
    int version;                     /* PORT_TRANSPORT_VERSION */
    const char *name;                /* "sim", "fake" */
    /* Send a plain message from endpoint `from` to endpoint `to`.  Returns
     * once it is handed to the network, or with F_WAIT once it was
     * delivered or lost.  0 or VM_E*. */
    int (*send)(struct port_transport *t, const char *from, const char *to,
                const struct port_transport_out *m, unsigned flags);
    /* The next message for endpoint `self` (MSG or REQUEST, in arrival
     * order) into *out, waiting at most timeout_ns (0: do not wait).
     * 0, VM_ETIMEDOUT (*out untouched), VM_EINVAL, VM_ENOENT. */
    int (*recv)(struct port_transport *t, const char *self, uint64_t timeout_ns,
                struct port_transport_msg *out);
    /* Send req as a REQUEST and wait for its REPLY into *reply, at most
     * timeout_ns from now.  0, VM_ETIMEDOUT (the request was lost, the
     * reply too, or the server is slow; *reply untouched), VM_EINVAL,
     * VM_ENOENT, VM_ENOMEM. */
    int (*call)(struct port_transport *t, const char *from, const char *to,
                const struct port_transport_out *req, uint64_t timeout_ns,
                struct port_transport_msg *reply);
    /* Answer the REQUEST req (as received by `self`) with rep, sent back to
     * req->from with req->id.  Returns once handed to the network.  0,
     * VM_EINVAL (req is not a REQUEST), VM_ENOENT. */
    int (*reply)(struct port_transport *t, const char *self,
                 const struct port_transport_msg *req, const struct port_transport_out *rep);
};

struct port_transport { const struct port_transport_ops *ops; };   /* embedded first */

static inline int port_transport_send(struct port_transport *t, const char *from, const char *to,
                                      const struct port_transport_out *m, unsigned flags)
{ return t->ops->send(t, from, to, m, flags); }
static inline int port_transport_recv(struct port_transport *t, const char *self,
                                      uint64_t timeout_ns, struct port_transport_msg *out)
{ return t->ops->recv(t, self, timeout_ns, out); }
static inline int port_transport_call(struct port_transport *t, const char *from, const char *to,
                                      const struct port_transport_out *req, uint64_t timeout_ns,
                                      struct port_transport_msg *reply)
{ return t->ops->call(t, from, to, req, timeout_ns, reply); }
static inline int port_transport_reply(struct port_transport *t, const char *self,
                                       const struct port_transport_msg *req,
                                       const struct port_transport_out *rep)
{ return t->ops->reply(t, self, req, rep); }

/* Free a received message's blob (the struct itself is the caller's). */
static inline void port_transport_msg_free(struct port_transport_msg *m)
{
    free(m->blob);
    m->blob = NULL;
    m->blob_len = 0;
}

#endif
