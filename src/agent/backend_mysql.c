/* PowerDNS gmysql backend, written directly (see backend.h). */
#include <errno.h>

#include "backend.h"

int backend_mysql_open(const struct backend_conf *conf, struct backend **ret)
{
	return -EOPNOTSUPP;
}
