/* gouprobe.h -- internal to the probe layer: the probe's uprobe programs for Go's crypto/tls, and their attachment to each Go binary (probe_attach_go). */
#ifndef HS_GOUPROBE_H
#define HS_GOUPROBE_H

#include <stdbool.h>

#include "capture/attach.h"
#include "event.h"

/* Uprobes attached, at most: a Go binary takes 3 entries and some 15-25
 * return instructions (gobin_func.nret), so this is room for about 150
 * binaries; past it, binaries are not traced (and that is said). */
#define GOUPROBE_MAX 4096
#define GOUPROBE_EV_LEN 32 /* an attachment's event name, NUL included */

struct gouprobe {
	int prog_fd[HS_GO_PROGS]; /* by enum hs_go_prog; -1: the probe has none */
	bool regs;		  /* the kernel has bpf_task_pt_regs (5.15), which
				   * the probe's HS_GOTLS block needs */
	int fd[GOUPROBE_MAX];	  /* attachments (perf events), to detach */
	char ev[GOUPROBE_MAX][GOUPROBE_EV_LEN];
	int nev;
};

/* Marks every slot empty, and tests the kernel (g->regs). */
void gouprobe_init(struct gouprobe *g);
/* In the compiling child: loads the Go uprobe programs the module has
 * (an edited probe may have none) and sends them to the parent.  Returns
 * 0 or -errno. */
int gouprobe_load(struct attach *a, void *mod, int sock);
/* In the parent: keeps the program of one slot.  0, or -E2BIG. */
int gouprobe_set_prog(struct gouprobe *g, int slot, int fd);
/* Detaches everything and closes the programs. */
void gouprobe_close(struct gouprobe *g);

#endif
