/* Child processes of the run: started inside a namespace, pinned, killed at cleanup. */
#ifndef OLAB_PROC_H
#define OLAB_PROC_H
#include <sys/types.h>
#include "netns/netns.h"

struct proc {
	pid_t pid;
	int cleanup;
};

/* Fork; the child enters ns (if not NULL), pins to cpu (if >= 0), dies with
 * the parent (PR_SET_PDEATHSIG), runs fn(arg) and exits with its return. */
int proc_spawn(struct proc *p, const struct netns *ns, int cpu, int (*fn)(void *), void *arg);
/* Wait up to timeout_ms; returns the exit status (0..255), or -ETIMEDOUT, or
 * 128+signal when it was killed. */
int proc_wait(struct proc *p, int timeout_ms);
/* SIGKILL and reap. */
void proc_kill(struct proc *p);

#endif
