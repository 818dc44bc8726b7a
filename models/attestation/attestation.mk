# models/attestation/attestation.mk - the attestation mechanism's models:
# real cryptography, evidence, depot metadata, the datacenter.
# sim/attestation/attestation.mk includes this file.
MECH_SRC += models/attestation/at_crypto.h models/attestation/at_evidence.h \
	models/attestation/at_meta.h models/attestation/at_root.h models/attestation/at.h
EXTRA_DIST += models/attestation/attestation.mk

# --- cryptography, evidence, depot metadata
MECH_SRC += models/attestation/at_crypto.c models/attestation/at_evidence.c \
	models/attestation/at_meta.c models/attestation/at_root.c


# --- the datacenter (hosts, nodes, depot, methods, checker)
MECH_SRC += models/attestation/at_int.h models/attestation/at_msg.c \
	models/attestation/at_cpu.c models/attestation/at_host.c models/attestation/at_node.c \
	models/attestation/at_depot.c models/attestation/at_admin.c models/attestation/at_check.c \
	models/attestation/at_dc.c


