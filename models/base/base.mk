# models/base/base.mk
MODELS_SRC += models/ports/port_blk.h models/ports/port_mem.h models/ports/port_clock.h models/ports/port_rand.h models/ports/port_transport.h
