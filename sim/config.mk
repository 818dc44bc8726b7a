# sim/config.mk - experiment configs (JSON, validated from key tables),
# result files and `vmsim check`, plots, and the command line.  main() is
# sim/sim_main.c (vmsim_SOURCES); everything else is in the library so the
# tests link it.
SIM_SRC += sim/sim_json.c sim/sim_json.h \
	sim/sim_config.c sim/sim_config.h \
	sim/sim_result.c sim/sim_result.h \
	sim/sim_plot.c sim/sim_plot.h \
	sim/sim_cli.c sim/sim_cli.h
