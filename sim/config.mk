# sim/config.mk - experiment configs (the config engine: key tables, walk,
# paths and sweeps; the core's keys; the shared vm and workload sections),
# result files and `vmsim check`, `vmsim list`, plots, and the command
# line.  main() and the mechanism registry are programs/vmsim.c; the rest
# is in the core library so tests link it.
CORE_SRC += sim/sim_json.c sim/sim_json.h \
	sim/sim_cfg.h sim/sim_cfg_int.h sim/sim_cfg_walk.c sim/sim_cfg_path.c \
	sim/sim_cfg_top.c sim/sim_cfg_vm.c sim/sim_cfg_vm.h \
	sim/sim_config.c sim/sim_config.h \
	sim/sim_result.c sim/sim_result.h \
	sim/sim_list.c sim/sim_list.h \
	sim/sim_plot.c sim/sim_plot.h \
	sim/sim_cli.c sim/sim_cli.h
