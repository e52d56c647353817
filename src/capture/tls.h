/* tls.h -- finds the OpenSSL libraries traced processes use and has the probe attach to each one once. */
#ifndef HS_TLS_H
#define HS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/probe.h"

struct tls;

/* libs: extra binaries to attach to (--tls-lib), e.g. a statically linked
 * server; they are attached now, and failures are reported.  NULL on
 * allocation failure. */
struct tls *tls_new(struct probe *p, const char *const *libs, size_t nlibs,
		    bool verbose);
/* A process just exec'd: attaches to any libssl it maps (through
 * /proc/PID/root, so a process in a container works too) and to the
 * standard libssl paths in its root, which it has not mapped yet. */
void tls_scan_exec(struct tls *t, uint32_t pid);
/* Attaches to any libssl a running process maps, for every process. */
void tls_scan_all(struct tls *t);
void tls_free(struct tls *t);

#endif
