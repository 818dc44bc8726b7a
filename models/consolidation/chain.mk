# models/consolidation/chain.mk - the consolidation mechanism's disk chain:
# a flat base with sparse delta disks (grain directory -> grain tables ->
# grains) on a block device port, crash-safe allocation and recovery.
# models/consolidation/consolidation.mk includes this file.
MECH_SRC += models/consolidation/cons_chain.h models/consolidation/cons_chain_int.h \
	models/consolidation/cons_chain.c models/consolidation/cons_chain_write.c \
	models/consolidation/cons_chain_fmt.c models/consolidation/cons_chain_open.c \
	models/consolidation/cons_chain_grains.c
EXTRA_DIST += models/consolidation/chain.mk models/consolidation/cons_load.h
