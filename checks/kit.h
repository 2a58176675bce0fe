/* Internal to checks/: what the kit's files share. */
#ifndef OLAB_CHECKS_KIT_H
#define OLAB_CHECKS_KIT_H
#include "netns/netns.h"

/* Enter one of the run's namespaces; NULL with errno EINVAL for any other
 * (never the root one). */
struct nstoken *check_enter_ns(const struct netns *ns);

#endif
