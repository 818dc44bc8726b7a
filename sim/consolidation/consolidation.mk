# sim/consolidation/consolidation.mk - the consolidation mechanism: its
# models, its plug-in and driver, its experiments (plots/NAME.gp,
# baselines in results/baselines/) and its tests.  Makefile.am includes
# this file once.
include $(srcdir)/models/consolidation/consolidation.mk
MECH_SRC += sim/consolidation/sim_cons.h sim/consolidation/sim_cons.c \
	sim/consolidation/sim_cons_mech.c
EXTRA_DIST += sim/consolidation/consolidation.mk
include $(srcdir)/tests/cons.mk
include $(srcdir)/tests/cons_load.mk
include $(srcdir)/tests/cons_chain.mk
EXPERIMENTS += consolidation-compare consolidation-closed consolidation-rate consolidation-size consolidation-trace consolidation-crash
