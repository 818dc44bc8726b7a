# sim/prefault/prefault.mk - the prefault mechanism: its models (policies),
# its plug-in and driver, its experiments (plots/NAME.gp, baselines in
# results/baselines/) and its tests.  Makefile.am includes this file once.
include $(srcdir)/models/prefault/prefault.mk
MECH_SRC += sim/prefault/sim_pf.h sim/prefault/sim_pf_int.h sim/prefault/sim_pf.c \
	sim/prefault/sim_pf_mech.c sim/prefault/sim_pf_fault.c sim/prefault/sim_pf_swap.c \
	sim/prefault/sim_pf_postcopy.c sim/prefault/sim_pf_net.c
EXPERIMENTS += prefault-resume prefault-swap prefault-postcopy prefault-postcopy-faults \
	prefault-pressure prefault-window \
	prefault-fragmentation
EXTRA_DIST += sim/prefault/prefault.mk
include $(srcdir)/tests/prefault_sim.mk
