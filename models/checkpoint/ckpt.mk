# models/checkpoint/ckpt.mk - the checkpoint mechanism's models: file
# format, save and restore policies, registry (included by
# sim/checkpoint/checkpoint.mk).
MECH_SRC += models/checkpoint/ckpt.h models/checkpoint/ckpt_file.h \
	models/checkpoint/ckpt_file.c models/checkpoint/ckpt_file_int.h \
	models/checkpoint/ckpt_image.c models/checkpoint/ckpt_writer.h \
	models/checkpoint/ckpt_writer.c models/checkpoint/ckpt_stopcopy.c \
	models/checkpoint/ckpt_lazypage.c models/checkpoint/ckpt_bgsnap.c \
	models/checkpoint/ckpt_precopy.c \
	models/checkpoint/ckpt_buffered.c models/checkpoint/ckpt_registry.c \
	models/checkpoint/ckpt_restore_eager.c models/checkpoint/ckpt_restore_lazy.c \
	models/checkpoint/ckpt_restore_sblock.c models/checkpoint/ckpt_restore_common.h \
	models/checkpoint/ckpt_restore_common.c models/checkpoint/ckpt_broken_test.c
