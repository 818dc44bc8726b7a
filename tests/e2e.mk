# tests/e2e.mk - end-to-end tests: quick experiments against their
# baselines, determinism, the invariant checker failing when it must, and
# which plot scripts an experiment runs.
TESTS += tests/e2e/quick_experiments.sh tests/e2e/determinism.sh tests/e2e/invariants.sh \
	tests/e2e/plot_names.sh
EXTRA_DIST += tests/e2e/lib.sh tests/e2e/quick_experiments.sh tests/e2e/determinism.sh \
	tests/e2e/plot_names.sh \
	tests/e2e/invariants.sh tests/e2e/broken-policy.json tests/e2e/broken-restore.json \
	tests/e2e/ignore-stun.json tests/e2e/restore-fails-early.json \
	tests/e2e/corrupt-maps.json tests/e2e/corrupt-maps-restore.json tests/e2e/disk-faults.json
# consolidation: bad chains, disks, loads, faults and blocktraces refused;
# the broken methods fail its checkers, the good ones survive a host crash
# and a failing datastore
TESTS += tests/e2e/consolidation_bad_input.sh tests/e2e/consolidation_invariants.sh \
	tests/e2e/consolidation_faults.sh
EXTRA_DIST += tests/e2e/consolidation_bad_input.sh tests/e2e/consolidation_invariants.sh \
	tests/e2e/consolidation_faults.sh \
	tests/e2e/cons-broken.json
# faults: hosts the platform lacks, a partition of a host with itself,
# negative times, each refused with one located line
TESTS += tests/e2e/fault_bad_input.sh
EXTRA_DIST += tests/e2e/fault_bad_input.sh

# A vmsim whose vCPU acknowledges a stun and runs on: sim/sim_vcpu.c built
# with SIM_VCPU_TEST_IGNORE_STUN, linked ahead of the core library (whose
# sim_vcpu.o is then never pulled in).  invariants.sh shows the stunned
# access check fails it; nothing else uses it.
check_PROGRAMS += tests/vmsim-test-ignore-stun
tests_vmsim_test_ignore_stun_SOURCES = programs/vmsim.c sim/sim_vcpu.c
tests_vmsim_test_ignore_stun_CPPFLAGS = $(AM_CPPFLAGS) -DSIM_VCPU_TEST_IGNORE_STUN
tests_vmsim_test_ignore_stun_LDADD = $(vmsim_LDADD)
nodist_EXTRA_tests_vmsim_test_ignore_stun_SOURCES = dummy.cxx
