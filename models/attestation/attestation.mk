# models/attestation/attestation.mk - the attestation mechanism's models:
# real cryptography, evidence, depot metadata, the datacenter.
# sim/attestation/attestation.mk includes this file.
MECH_SRC += models/attestation/at_crypto.h models/attestation/at_evidence.h \
	models/attestation/at_meta.h models/attestation/at.h
EXTRA_DIST += models/attestation/attestation.mk

# --- cryptography, evidence, depot metadata
MECH_SRC += models/attestation/at_crypto.c models/attestation/at_evidence.c \
	models/attestation/at_meta.c


# --- the datacenter (hosts, nodes, depot, methods, checker)


