/* container.h -- which container a process runs in: the id in /proc/PID/cgroup, cached per process. */
#ifndef HS_CONTAINER_H
#define HS_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#define CONTAINER_ID_LEN 64 /* docker, podman, containerd and CRI-O ids */

/* Finds the container id in the text of a /proc/PID/cgroup file (cgroup
 * v1 or v2 lines): docker (/docker/ID, docker-ID.scope), podman
 * (libpod-ID.scope, /libpod_parent/libpod-ID), containerd and CRI
 * (/kubepods/.../ID, cri-containerd-ID.scope, crio-ID.scope).  conmon's
 * own scope is not a container.  Returns 1 and fills out (NUL-terminated),
 * or 0 when the process is on the host. */
int container_parse_cgroup(const char *text, char out[CONTAINER_ID_LEN + 1]);

struct container_cache;

/* Cache of pid -> container id; NULL on allocation failure. */
struct container_cache *container_cache_new(void);
void container_cache_free(struct container_cache *c);
/* The container id of pid, or "" on the host or when nobody can say.
 * When the process is gone, its cgroup v2 id (from the kernel) is looked
 * up in the cgroup hierarchy instead.  The string is owned by the cache
 * and valid until the next call. */
const char *container_of(struct container_cache *c, uint32_t pid,
			 uint64_t cgroup_id);
/* Forgets pid (it exited; the number may be reused). */
void container_forget(struct container_cache *c, uint32_t pid);

/* Collects the cgroup v2 ids of the processes whose container id starts
 * with prefix, for filtering in the kernel.  Returns how many were found
 * (at most max), 0 if none can be used (no such container running, or
 * its processes sit in the root of a hybrid cgroup layout). */
size_t container_cgroup_ids(const char *prefix, uint64_t *ids, size_t max);

#endif
