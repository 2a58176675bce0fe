/*
 * The statically linked binaries copied into every container rootfs
 * (olab-ctr, olab-app), embedded at build time so an installed offloadlab
 * needs only runc and busybox-static.  containers/containers.mk builds them
 * and passes CTR_BLOB_DIR.
 */
#include "containers/internal.h"

#ifndef CTR_BLOB_DIR
#error "CTR_BLOB_DIR is set by containers/containers.mk"
#endif

#define BLOB(sym, file)						\
	".global " #sym "\n.type " #sym ", @object\n.balign 16\n"	\
	#sym ":\n.incbin \"" CTR_BLOB_DIR "/" file "\"\n"		\
	".global " #sym "_end\n" #sym "_end:\n.byte 0\n"

__asm__(".section .rodata\n"
	BLOB(ctr_blob_helper, "olab-ctr")
	BLOB(ctr_blob_app, "olab-app")
	".previous\n");
