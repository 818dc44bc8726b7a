# models/checkpoint/ckpt.mk
