# tests/attestation/attestation.mk - the attestation mechanism's Check
# suites (real keys on every message) and end-to-end tests.

# --- cryptography, evidence, depot metadata
# known answers (FIPS 180-2, RFC 8032), keys, strict hex, quotes good,
# tampered, replayed, wrong key; the catalog, encodings and TUF's rules
check_PROGRAMS += tests/check_at_crypto tests/check_at_evidence tests/check_at_meta
TESTS += tests/check_at_crypto tests/check_at_evidence tests/check_at_meta
tests_check_at_crypto_SOURCES = tests/attestation/check_at_crypto.c
tests_check_at_crypto_CFLAGS = $(TEST_CFLAGS)
tests_check_at_crypto_LDADD = $(TEST_LDADD)
tests_check_at_evidence_SOURCES = tests/attestation/check_at_evidence.c
tests_check_at_evidence_CFLAGS = $(TEST_CFLAGS)
tests_check_at_evidence_LDADD = $(TEST_LDADD)
tests_check_at_meta_SOURCES = tests/attestation/check_at_meta.c
tests_check_at_meta_CFLAGS = $(TEST_CFLAGS)
tests_check_at_meta_LDADD = $(TEST_LDADD)
# TUF's root and snapshot roles: rotation thresholds, versions, expiry,
# mix-and-match, snapshot rollback, revoked keys
check_PROGRAMS += tests/check_at_root
TESTS += tests/check_at_root
tests_check_at_root_SOURCES = tests/attestation/check_at_root.c
tests_check_at_root_CFLAGS = $(TEST_CFLAGS)
tests_check_at_root_LDADD = $(TEST_LDADD)


# --- the datacenter model
AT_WORLD = tests/attestation/at_world.c tests/attestation/at_world.h tests/fakes/fake_clock.c \
	tests/fakes/fake_clock.h tests/fakes/fake_timer.c tests/fakes/fake_timer.h
check_PROGRAMS += tests/check_at_dc
TESTS += tests/check_at_dc
tests_check_at_dc_SOURCES = tests/attestation/check_at_dc.c $(AT_WORLD)
tests_check_at_dc_CFLAGS = $(TEST_CFLAGS)
tests_check_at_dc_LDADD = $(TEST_LDADD)
# attacks on evidence and on the depot channel, outages, crashes, withdrawal
check_PROGRAMS += tests/check_at_attacks
TESTS += tests/check_at_attacks
tests_check_at_attacks_SOURCES = tests/attestation/check_at_attacks.c $(AT_WORLD)
tests_check_at_attacks_CFLAGS = $(TEST_CFLAGS)
tests_check_at_attacks_LDADD = $(TEST_LDADD)
# the wire's strict decoding and the FIFO workers
check_PROGRAMS += tests/check_at_msg
TESTS += tests/check_at_msg
tests_check_at_msg_SOURCES = tests/attestation/check_at_msg.c
tests_check_at_msg_CFLAGS = $(TEST_CFLAGS)
tests_check_at_msg_LDADD = $(TEST_LDADD)


# --- the depot metadata file (sim/attestation)
# generated depots, write and read back, an edited file refused until
# signed again, every kind of bad file with its location
check_PROGRAMS += tests/check_at_depotfile
TESTS += tests/check_at_depotfile
tests_check_at_depotfile_SOURCES = tests/attestation/check_at_depotfile.c tests/test_tmpdir.c \
	tests/test_tmpdir.h
tests_check_at_depotfile_CFLAGS = $(TEST_CFLAGS)
tests_check_at_depotfile_LDADD = $(TEST_LDADD)

# --- end to end
# bad depot files (form, signatures, keys) and impossible configs refused
# by run and validate with one located line; the broken methods failing
# the checker, the real ones holding under every attack at once
TESTS += tests/e2e/attestation_bad_input.sh tests/e2e/attestation_invariants.sh
EXTRA_DIST += tests/e2e/attestation_bad_input.sh tests/e2e/attestation_invariants.sh


