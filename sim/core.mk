# sim/core.mk - the experiment machinery: metrics, vCPU replay, drivers, runner.
SIM_SRC += sim/sim_metrics.c sim/sim_metrics.h sim/sim_exp.h sim/sim_access.h \
	sim/sim_vcpu.c sim/sim_vcpu.h sim/sim_ckpt.c sim/sim_ckpt.h \
	sim/sim_runner.c sim/sim_runner.h
