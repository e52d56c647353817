/* tls.h -- finds the OpenSSL libraries traced processes use and has the probe attach to each one once (and, through gotls.h, the Go programs). */
#ifndef HS_TLS_H
#define HS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/probe.h"

struct tls;

/* libs: extra binaries to attach to (--tls-lib), e.g. a statically linked
 * server; they are attached now, and failures are reported.  pids: -p's
 * processes, the only ones whose libraries matter (npids 0: every
 * process's); kept, not copied.  NULL on allocation failure. */
struct tls *tls_new(struct probe *p, const char *const *libs, size_t nlibs,
		    const uint32_t *pids, size_t npids, bool verbose);
/* A process just exec'd: attaches to any libssl it maps (through
 * /proc/PID/root, so a process in a container works too) and to the
 * standard libssl paths in its root, which it has not mapped yet; and to
 * its own binary if that is a Go program with crypto/tls. */
void tls_scan_exec(struct tls *t, uint32_t pid);
/* Attaches to any libssl a running process maps, and to its binary if it
 * is a Go program with crypto/tls, for every process (or -p's). */
void tls_scan_all(struct tls *t);
void tls_free(struct tls *t);

#endif
