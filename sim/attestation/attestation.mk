# sim/attestation/attestation.mk - the depot attestation mechanism: its
# models, its plug-in and driver, its experiments and its tests.
# Makefile.am includes this file once.
include $(srcdir)/models/attestation/attestation.mk
EXTRA_DIST += sim/attestation/attestation.mk
include $(srcdir)/tests/attestation/attestation.mk

# --- the plug-in and the driver (sim/attestation)
MECH_SRC += sim/attestation/sim_at.h sim/attestation/sim_at_int.h \
	sim/attestation/sim_at_depotfile.h sim/attestation/sim_at_depotfile.c \
	sim/attestation/sim_at_depotfile_int.h sim/attestation/sim_at_depotroles.c \
	sim/attestation/sim_at_depotgen.c \
	sim/attestation/sim_at_mech.c sim/attestation/sim_at_check.c sim/attestation/sim_at.c
# vmsim-depot: make, sign and check depot metadata files (the core's
# command line names no mechanism, so this is a program of its own)
bin_PROGRAMS += vmsim-depot
vmsim_depot_SOURCES = programs/vmsim_depot.c
vmsim_depot_LDADD = libvmsim_mechs.a libvmsim_core.a libvmsim_base.a $(VMSIM_LIBS)
nodist_EXTRA_vmsim_depot_SOURCES = dummy.cxx
EXTRA_DIST += workloads/platforms/dc-attest.xml workloads/depots/README.md \
	workloads/depots/esxi-like.json workloads/depots/small.json


# --- experiments
EXPERIMENTS += attestation-upgrade attestation-scale attestation-attacks attestation-depot-outage


