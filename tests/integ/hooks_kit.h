/* What the hooks integration tests share (tests/integ/hooks*.c). */
#ifndef OLAB_TESTS_INTEG_HOOKS_KIT_H
#define OLAB_TESTS_INTEG_HOOKS_KIT_H
#include <stdbool.h>
#include <stdint.h>
#include "lib/hooks.h"
#include "netns/topo.h"


#define PORT        7777
#define UDP_N       3000    /* datagrams per case */
#define UDP_SIZE    64      /* payload bytes */
#define UDP_FRAME   (14 + 20 + 8 + UDP_SIZE)
#define BURST       32
#define WAIT_MS     3000
#define ROOT_NET    "bpftool net show 2>&1"

extern const char *const hook_test_actions[]; /* by enum hook_action */
struct topo_opts hooks_bed_opts(void);
/* Skips the test (subtest) when h does not work here: true. */
bool hooks_skip_unsupported(const struct hook_desc *h);
/* test(h), as a subtest named after it, for every hook h of the table where(h) holds. */
void hooks_each(bool (*where)(const struct hook_desc *h), void (*test)(const struct hook_desc *h));
/* Unless h is skipped here: the root namespace's `bpftool net` into
 * root_before, then the testbed (false when skipped or it failed). */
bool hooks_bed_up(const struct hook_desc *h, struct topo *t, char *root_before, size_t len);
bool hooks_prog_gone(uint32_t id);
/* A socket of type in t's gen namespace; -errno. */
int hooks_gen_socket(struct topo *t, int type);
/* Write all of buf, reading echoes into back (if set) as they come. */
bool hooks_tcp_write_read(int fd, const uint8_t *buf, size_t len, uint8_t *back, size_t *got);

#endif
