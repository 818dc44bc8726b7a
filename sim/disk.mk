# sim/disk.mk - SimGrid glue (engine, platform, clock, wait queues), the
# C++ shim for SimGrid's C++-only calls, the simulated disk, the message
# transport on the network, its receivers for event-driven models, the timer port, and the platforms they load.
CORE_SRC += sim/sim_world.c sim/sim_world.h \
	sim/sim_sg_shim.cpp sim/sim_sg_shim.h \
	sim/sim_disk.c sim/sim_disk.h sim/sim_platform.c sim/sim_platform.h \
	sim/sim_transport.c sim/sim_transport.h sim/sim_rx.c sim/sim_rx.h \
	sim/sim_timer.c sim/sim_timer.h
EXTRA_DIST += workloads/platforms/host-nvme.xml workloads/platforms/host-nvme-16tb.xml \
	workloads/platforms/host-sata.xml \
	workloads/platforms/host-hdd.xml \
	workloads/platforms/hosts2-nvme-25g.xml \
	workloads/platforms/hosts2-nvme-10g.xml
