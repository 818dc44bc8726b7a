# models/handoff/handoff.mk - the handoff mechanism's models: the wire and
# timers, the datastore with its checker, the hosts and their daemons,
# the requesters, the episode.  sim/handoff/handoff.mk includes this file.
MECH_SRC += models/handoff/ho.h models/handoff/ho_int.h models/handoff/ho_msg.c \
	models/handoff/ho_ds.c models/handoff/ho_check.c models/handoff/ho_host.c \
	models/handoff/ho_req.c models/handoff/ho_cluster.c
EXTRA_DIST += models/handoff/handoff.mk
