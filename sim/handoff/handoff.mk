# sim/handoff/handoff.mk - the handoff mechanism: its models, its plug-in
# and driver, its experiments and its tests.  Makefile.am includes this
# file once.
include $(srcdir)/models/handoff/handoff.mk
EXTRA_DIST += sim/handoff/handoff.mk
include $(srcdir)/tests/handoff/handoff.mk
MECH_SRC += sim/handoff/sim_ho.h sim/handoff/sim_ho_int.h sim/handoff/sim_ho.c \
	sim/handoff/sim_ho_episode.c sim/handoff/sim_ho_check.c sim/handoff/sim_ho_mech.c
EXPERIMENTS += handoff-crash handoff-backup handoff-partition handoff-pause handoff-storm handoff-faults
