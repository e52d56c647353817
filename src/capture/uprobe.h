/* uprobe.h -- internal to the probe layer: the probe's OpenSSL uprobe programs, and their attachment to each TLS library (probe_attach_tls). */
#ifndef HS_UPROBE_H
#define HS_UPROBE_H

#include <stdbool.h>

#include "capture/attach.h"
#include "event.h"

#define UPROBE_LIBS 32 /* libraries attached to, at most */
#define UPROBE_MAX (UPROBE_LIBS * HS_UPROBE_SLOTS)
/* The slot of hs_ssl_write, the writes' uprobe session program. */
#define UPROBE_SESSION 9
#define UPROBE_EV_LEN 32 /* an attachment's event name, NUL included */

struct uprobe {
	int prog_fd[HS_UPROBE_SLOTS]; /* by slot; -1: the probe has none */
	char ev[UPROBE_MAX][UPROBE_EV_LEN]; /* attachments, to detach */
	int nev;
	int link_fd[UPROBE_LIBS]; /* uprobe session links (writes) */
	int nlinks;
	bool no_session; /* the kernel refused a session link: pairs */
	char how[320]; /* where the last library's reads and writes are
			* probed, and why there, for --verbose */
};

/* Marks every slot empty. */
void uprobe_init(struct uprobe *u);
/* In the compiling child: loads the uprobe programs that the module mod
 * has (an edited probe may have none) and sends them to the parent.
 * Returns 0 or -errno. */
int uprobe_load(struct attach *a, void *mod, int sock);
/* In the parent: keeps the program of one slot.  0, or -E2BIG for a
 * slot out of range. */
int uprobe_set_prog(struct uprobe *u, int slot, int fd);
/* Where the last probe_attach_tls put the uprobes of reads and writes
 * (at the internal function SSL_read and SSL_read_ex share, see
 * sslbin.h, or why at the exported functions).  Valid until the next
 * call. */
struct probe;
const char *uprobe_tls_how(const struct probe *p);
/* Detaches everything and closes the programs. */
void uprobe_close(struct uprobe *u);

#endif
