/* filter.c -- which connections -P and --unix keep: TCP ones by port, Unix ones by path. */
#include "app/filter.h"

#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* With -P, one known endpoint on a wanted port is enough.  A connection
 * whose ports nobody could tell (opened before tracing, and its socket
 * gone before /proc was asked) is not shown: the user asked for one
 * port, not for everything unknown. */
bool app_port_wanted(const struct options *o, const struct conn_info *c)
{
	if (!o->nports)
		return true;
	for (size_t i = 0; i < o->nports; i++)
		if ((c->local.family && c->local.port == o->ports[i]) ||
		    (c->remote.family && c->remote.port == o->ports[i]))
			return true;
	return false;
}

static bool unix_text_matches(const struct options *o, const char *s)
{
	for (size_t i = 0; i < o->nunix; i++)
		if (!strcmp(s, o->unix_paths[i]) ||
		    (o->unix_real[i][0] && !strcmp(s, o->unix_real[i])) ||
		    !fnmatch(o->unix_paths[i], s, FNM_PATHNAME))
			return true;
	return false;
}

/* A Unix connection's name matches a pattern: equal (or equal to the
 * pattern's real path), or a glob matching it as the shell matches paths
 * (FNM_PATHNAME: '*' stops at '/').  Live, the name's own real path
 * matches too (a server that bound /var/run/docker.sock, asked for as
 * /run/docker.sock); a replay has only the names, as recorded. */
static bool unix_name_matches(const struct options *o, const char *name,
			      size_t len)
{
	char s[HS_UNIX_PATH_MAX + 1], *real;
	bool match;

	if (!len)
		return false;
	memcpy(s, name, len);
	s[len] = '\0';
	if (unix_text_matches(o, s))
		return true;
	if (o->replay || s[0] != '/' || !(real = realpath(s, NULL)))
		return false;
	match = unix_text_matches(o, real);
	free(real);
	return match;
}

bool app_unix_wanted(const struct options *o, const struct conn_info *c)
{
	const struct hs_unix *u = c->unx;

	/* The server's path is its local name, and a client's remote one;
	 * a connection joined mid-stream may be either. */
	return u && (unix_name_matches(o, u->local, u->local_len) ||
		     unix_name_matches(o, u->remote, u->remote_len));
}

bool app_conn_wanted(const struct options *o, const struct conn_info *c)
{
	if (!o->nports && !o->nunix)
		return true;
	if (c->local.family == AF_UNIX)
		return o->nunix && app_unix_wanted(o, c);
	return o->nports && app_port_wanted(o, c);
}
