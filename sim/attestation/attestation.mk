# sim/attestation/attestation.mk - the depot attestation mechanism: its
# models, its plug-in and driver, its experiments and its tests.
# Makefile.am includes this file once.
include $(srcdir)/models/attestation/attestation.mk
EXTRA_DIST += sim/attestation/attestation.mk
include $(srcdir)/tests/attestation/attestation.mk

# --- the plug-in and the driver (sim/attestation)


# --- experiments


