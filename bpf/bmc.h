/*
 * A BMC-style look-aside cache for memcached's UDP GETs (bpf/bmc.bpf.c),
 * after Ghigoff et al., "BMC: Accelerating Memcached using Safe In-kernel
 * Caching and Pre-stack Processing", NSDI'21.  Shared with the tests.
 */
#ifndef OLAB_BMC_H
#define OLAB_BMC_H

#define BMC_PORT        11211
#define BMC_ENTRIES     32768    /* direct-mapped: slot = hash % BMC_ENTRIES */
#define BMC_KEY_MAX     250      /* memcached's own key limit */
#define BMC_DATA_MAX    504      /* stored "VALUE k f n\r\ndata\r\n" + room for "END\r\n" */
#define BMC_BLOB_CAP    (BMC_DATA_MAX - 8)  /* longest stored reply body */
#define BMC_PKT_MAX     2048     /* payload bytes scanned per packet (power of 2) */
#define BMC_HDR_LEN     8        /* memcached UDP frame header */

/* What a GET reply is made of, minus the UDP frame header and "END\r\n". */
struct bmc_blob {
	__u8 data[BMC_DATA_MAX];
	__u32 len;
};

struct bmc_entry {
	struct bpf_spin_lock lock;
	__u32 hash;
	__u32 valid;
	struct bmc_blob blob;
};

/* Key of the allow-list LPM trie `allow4` (bmc_rx_allow). */
struct bmc_lpm4 {
	__u32 prefixlen;
	__u8 addr[4];
};

#endif
