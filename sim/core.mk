# sim/core.mk - the experiment machinery: the mechanism registry, the run
# point's derived values (fault instants), fault injection as a service
# (sim_faults), vCPU replay, the runner.
CORE_SRC += sim/sim_mech.c sim/sim_mech.h sim/sim_exp.c sim/sim_exp.h sim/sim_access.h \
	sim/sim_faults.c sim/sim_faults.h \
	sim/sim_vcpu.c sim/sim_vcpu.h sim/sim_vcpus.c sim/sim_vcpus.h \
	sim/sim_pagecache.c sim/sim_pagecache.h sim/sim_dirtymap.c sim/sim_dirtymap.h \
	sim/sim_runner.c sim/sim_runner.h
