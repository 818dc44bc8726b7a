# sim/calib.mk - `vmsim calibrate`: CPU costs measured on this machine and
# the costs file experiments take them from; the shipped calibration.
CORE_SRC += sim/sim_calib.h sim/sim_calib_measure.c sim/sim_calib_fault.c \
	sim/sim_calib_file.c sim/sim_calib_cli.c sim/sim_calib_write.c \
	sim/sim_calib_anon.c sim/sim_calib_crypto.c
EXTRA_DIST += workloads/costs/README.md workloads/costs/calibration.json
