# tests/prefault_sim.mk - end-to-end checks of the prefault driver: its
# invariant checkers fail the run when the driver is broken.
#
# tests/vmsim-test-pf-mutant: vmsim with the prefault driver's fault path
# and swap files built with SIM_PF_TEST_MUTANT, linked ahead of the
# mechanism library (whose objects for them are then never pulled in);
# VMSIM_PF_MUTANT=skip-install makes fetched pages present without their
# content, =break-evictor lets prefetches evict unused prefetches,
# =walk-skips-table lets a vCPU's walk read an absent page-table frame; for
# post-copy under network faults (tests/e2e/prefault_net.sh),
# =garble-late gives pages that came late other content, =no-pause
# ignores partitions.
TESTS += tests/e2e/prefault_invariants.sh tests/e2e/prefault_bad_input.sh tests/e2e/prefault_net.sh
EXTRA_DIST += tests/e2e/prefault_invariants.sh tests/e2e/prefault_bad_input.sh tests/e2e/pf-swap-mutant.json tests/e2e/pf-broken-policies.json \
	tests/e2e/pf-walk-mutant.json \
	tests/e2e/prefault_net.sh tests/e2e/pf-postcopy-net.json
check_PROGRAMS += tests/vmsim-test-pf-mutant
tests_vmsim_test_pf_mutant_SOURCES = programs/vmsim.c sim/prefault/sim_pf_fault.c \
	sim/prefault/sim_pf_swap.c sim/prefault/sim_pf_postcopy.c sim/prefault/sim_pf_net.c
tests_vmsim_test_pf_mutant_CPPFLAGS = $(AM_CPPFLAGS) -DSIM_PF_TEST_MUTANT
tests_vmsim_test_pf_mutant_LDADD = $(vmsim_LDADD)
nodist_EXTRA_tests_vmsim_test_pf_mutant_SOURCES = dummy.cxx
