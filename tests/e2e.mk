# tests/e2e.mk - end-to-end tests: quick experiments against their
# baselines, determinism, and the invariant checker failing when it must.
TESTS += tests/e2e/quick_experiments.sh tests/e2e/determinism.sh tests/e2e/invariants.sh
EXTRA_DIST += tests/e2e/lib.sh tests/e2e/quick_experiments.sh tests/e2e/determinism.sh \
	tests/e2e/invariants.sh tests/e2e/broken-policy.json tests/e2e/broken-restore.json \
	tests/e2e/disk-faults.json
