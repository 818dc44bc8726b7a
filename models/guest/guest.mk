# models/guest/guest.mk - the guest model every mechanism may use: x86-64
# page tables (4 and 5 levels) per address space and the guest's buddy
# allocator with aging (plain C11, in libvmsim_base.a next to models/base).
BASE_SRC += models/guest/guest_buddy.c models/guest/guest_buddy.h \
	models/guest/guest_pt.c models/guest/guest_pt.h \
	models/guest/guest_pt_int.h models/guest/guest_pt_store.c
EXTRA_DIST += models/guest/guest.mk
