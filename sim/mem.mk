# sim/mem.mk - guest memory model, measured content sizes, synthetic workloads
CORE_SRC += sim/sim_mem.c sim/sim_mem.h sim/sim_mem_content.c sim/sim_mem_int.h \
	sim/sim_content.c sim/sim_content.h \
	sim/sim_workload.c sim/sim_workload.h
EXTRA_DIST += workloads/content/text.sample workloads/content/code.sample \
	workloads/content/README.md
