SIM_SRC += sim/sim_metrics.c sim/sim_metrics.h sim/sim_exp.h
