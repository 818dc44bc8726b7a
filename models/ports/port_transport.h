/*
 * port_transport.h - message transport between nodes (daemons, services).
 * Messages are small byte blobs addressed by endpoint name; receive takes
 * a timeout so protocols can fall back.  Used by the handoff and
 * attestation mechanisms; the checkpoint mechanism does not need it.
 */
#ifndef PORT_TRANSPORT_H
#define PORT_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#define PORT_TRANSPORT_VERSION 1

struct port_transport;
typedef void (*port_transport_cb)(void *data, int rc, const void *msg, size_t len);

struct port_transport_ops {
    int version;
    const char *name;
    /* Queue msg for endpoint `to`; 0 or VM_E*. */
    int (*send)(struct port_transport *t, const char *to, const void *msg, size_t len);
    /* Call cb once with the next message for `self`, or rc = VM_ETIMEDOUT
     * after timeout_ns. */
    int (*recv)(struct port_transport *t, const char *self, uint64_t timeout_ns,
                port_transport_cb cb, void *data);
};
struct port_transport { const struct port_transport_ops *ops; };

#endif
