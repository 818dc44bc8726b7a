# models/base/base.mk - ports and pure-C helpers every model and the core use
BASE_SRC += models/ports/port_blk.h models/ports/port_mem.h models/ports/port_clock.h models/ports/port_rand.h models/ports/port_transport.h \
	models/ports/port_backing.h models/ports/port_timer.h
BASE_SRC += models/base/vm_err.c models/base/vm_err.h \
	models/base/vm_units.c models/base/vm_units.h models/base/vm_blkio.h \
	models/base/vm_bitmap.c models/base/vm_bitmap.h \
	models/base/vm_hist.c models/base/vm_hist.h \
	models/base/vm_rand.c models/base/vm_rand.h \
	models/base/vm_fp.c models/base/vm_fp.h \
	models/base/vm_fpstore.c models/base/vm_fpstore.h \
	models/base/vm_bigmem.c models/base/vm_bigmem.h models/base/vm_prefetch.h \
	models/base/vm_param.c models/base/vm_param.h \
	models/base/vm_timerq.c models/base/vm_timerq.h
