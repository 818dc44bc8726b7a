# tests/ckpt_restore.mk
