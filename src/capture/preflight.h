/* preflight.h -- internal to the probe layer: what must hold before the probe can load (privileges, tracefs, kernel headers), each failure said with what to do. */
#ifndef HS_PREFLIGHT_H
#define HS_PREFLIGHT_H

/* Where tracefs is mounted ("/sys/kernel/tracing" or the debugfs path),
 * or NULL. */
const char *preflight_tracefs_dir(void);
/* Checks privileges, mounts tracefs if it is not, and looks for kernel
 * headers.  Returns 0, or -errno after saying what to do. */
int preflight_check(void);

#endif
