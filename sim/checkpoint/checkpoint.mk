# sim/checkpoint/checkpoint.mk - the checkpoint mechanism: its models, its
# plug-in and driver, its experiments (plots/NAME.gp, baselines in
# results/baselines/) and its tests.  Makefile.am includes this file once.
include $(srcdir)/models/checkpoint/ckpt.mk
MECH_SRC += sim/checkpoint/sim_ckpt.h sim/checkpoint/sim_ckpt.c \
	sim/checkpoint/sim_ckpt_mech.c sim/checkpoint/sim_ckpt_costs.c sim/checkpoint/sim_ckpt_cache.c sim/checkpoint/sim_ckpt_restore.c \
	sim/checkpoint/sim_ckpt_costs.h sim/checkpoint/sim_ckpt_int.h
EXPERIMENTS += checkpoint-compare checkpoint-block-sweep checkpoint-scale checkpoint-restore \
	checkpoint-channels checkpoint-vcpus checkpoint-cache
EXTRA_DIST += sim/checkpoint/checkpoint.mk models/checkpoint/ckpt.mk
include $(srcdir)/tests/ckpt.mk
include $(srcdir)/tests/ckpt_restore.mk
include $(srcdir)/tests/ckpt_sim.mk
