/* bench copy: the ways a program copies packet bytes into a map value
 * (shared with user space; names in bench/copy.c in this order). */
#ifndef OLAB_BPF_COPY_H
#define OLAB_BPF_COPY_H

enum copy_method {
	COPY_PER_BYTE,    /* a bounds check before every byte */
	COPY_UPFRONT,     /* one check of the whole length, then the bytes */
	COPY_STACK,       /* from a stack buffer: no check at all */
	COPY_HELPER,      /* bpf_xdp_load_bytes / bpf_skb_load_bytes */
	COPY_DYNPTR,      /* bpf_dynptr_from_xdp/skb + bpf_dynptr_read */
	/* memcpy between two map values (no packet): */
	COPY_MEM_BYTE,    /* a byte loop */
	COPY_MEM_WORD,    /* an 8-byte loop (then the tail bytes) */
	COPY_MEM_HELPER,  /* bpf_probe_read_kernel */
	COPY_MEM_DYNPTR,  /* bpf_dynptr_from_mem + bpf_dynptr_read */
	COPY_NONE,        /* the same program without the copy, subtracted */
};

#define COPY_MAX   1472  /* payload of a 1514-byte frame */
#define COPY_MEM_MAX 4096 /* memcpy between map values */
#define COPY_STACK_BUF 256

#endif
