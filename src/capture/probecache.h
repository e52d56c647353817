/* probecache.h -- internal to the probe layer: compiled probes kept on disk, so that a start with the same probe, flags, kernel and BCC skips the compiler. */
#ifndef HS_PROBECACHE_H
#define HS_PROBECACHE_H

#include <stdbool.h>

#include "capture/compile.h"
#include "capture/probe.h"

/* In the compiling child, before compiling: the module job would compile
 * to, from the cache, with its maps made afresh.  On success it points
 * compile_bcc's functions at the cache's own, which serve that module
 * (the rest of the child cannot tell it from BCC's), and returns it.
 * Returns NULL when there is none or it cannot be used; what cannot be
 * used is said when job->verbose, or always when it is damaged. */
void *pcache_load(const struct compile_job *job);
/* In the compiling child, once BCC's module mod has been loaded and
 * attached (the kernel's verifier took every program): keeps it for the
 * next start.  Failing to is said when job->verbose, and is harmless. */
void pcache_save(const struct compile_job *job, void *mod);

#endif
