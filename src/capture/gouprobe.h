/* gouprobe.h -- internal to the probe layer: the probe's uprobe program for Go's crypto/tls, and its attachment to each Go binary (probe_attach_go). */
#ifndef HS_GOUPROBE_H
#define HS_GOUPROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/attach.h"
#include "event.h"

/* Uprobes attached, at most: a Go binary takes 3 entries and some 40-60
 * places where a call is over (gobin_func.nsite), so this is room for
 * about 80 binaries; past it, binaries are not traced (and that is said). */
#define GOUPROBE_MAX 4096

struct gouprobe {
	int prog_fd[HS_GO_PROGS]; /* by enum hs_go_prog; -1: the probe has none */
	int fd[GOUPROBE_MAX];	  /* attachments: their perf events ... */
	int link[GOUPROBE_MAX];	  /* ... and BPF links (which carry the cookies) */
	int nev;
	int pmu;		  /* the uprobe PMU's perf type; -1 before it is read */
};

/* Marks every slot empty. */
void gouprobe_init(struct gouprobe *g);
/* In the compiling child: loads the Go uprobe program if the module has
 * it (an edited probe may not; one with the programs of an older version
 * is warned about, named source_name) and sends it to the parent.
 * Returns 0 or -errno. */
int gouprobe_load(struct attach *a, void *mod, int sock, const char *source_name);
/* In the parent: keeps the program of one slot.  0, or -E2BIG. */
int gouprobe_set_prog(struct gouprobe *g, int slot, int fd);
/* Detaches everything and closes the programs. */
void gouprobe_close(struct gouprobe *g);

#endif
