/* gotls.h -- finds the Go programs with crypto/tls that run here and has the probe attach to each binary once. */
#ifndef HS_GOTLS_H
#define HS_GOTLS_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/probe.h"

struct gotls;

/* For a probe with the Go programs (probe_has_go).  NULL on allocation
 * failure. */
struct gotls *gotls_new(struct probe *p, bool verbose);
/* A process just exec'd: reads its binary (through /proc/PID/exe, so a
 * process in a container works too), unless that file was read before. */
void gotls_scan_exec(struct gotls *t, uint32_t pid);
/* The same for every process (at start, and now and then). */
void gotls_scan_all(struct gotls *t);
/* Accepts NULL. */
void gotls_free(struct gotls *t);

#endif
