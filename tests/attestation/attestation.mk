# tests/attestation/attestation.mk - the attestation mechanism's Check
# suites (real keys on every message) and end-to-end tests.

# --- cryptography, evidence, depot metadata


# --- the datacenter model


# --- end to end


