/* Dispatch to the backend driver (gsqlite3 or gmysql); see backend.h. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#include "backend.h"
#include "base/log.h"

#define GMYSQL_MODULE "yumna-agent-gmysql.so"

typedef int (*open_fn)(const struct backend_conf *conf, struct backend **ret);

/* The gmysql driver lives in a module (it brings libmariadb and OpenSSL):
 * next to the agent's own binary when run from the build tree, else in the
 * installed module directory. */
static int open_mysql(const struct backend_conf *conf, struct backend **ret)
{
	char exe[4096], path[4200];
	void *h = NULL;

	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash != NULL) {
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/%s", exe, GMYSQL_MODULE);
			h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		}
	}
	if (h == NULL) {
		snprintf(path, sizeof(path), "%s/%s", YUMNA_MODULE_DIR, GMYSQL_MODULE);
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	}
	if (h == NULL) {
		log_err("cannot load the gmysql driver: %s", dlerror());
		return -ENOENT;
	}
	open_fn fn = (open_fn)dlsym(h, "backend_mysql_open");
	if (fn == NULL) {
		log_err("%s has no backend_mysql_open", path);
		return -ENOENT;
	}
	return fn(conf, ret); /* the module stays loaded for the process's life */
}

int backend_open(const struct backend_conf *conf, struct backend **ret)
{
	if (strcmp(conf->kind, "gsqlite3") == 0)
		return backend_sqlite_open(conf, ret);
	if (strcmp(conf->kind, "gmysql") == 0)
		return open_mysql(conf, ret);
	return -EINVAL;
}

void backend_close(struct backend *b)
{
	if (b != NULL)
		b->ops->close(b);
}

int backend_schema_ensure(struct backend *b, const char *schema_file)
{
	return b->ops->schema_ensure(b, schema_file);
}

int backend_begin(struct backend *b)
{
	return b->ops->begin(b);
}

int backend_commit(struct backend *b)
{
	return b->ops->commit(b);
}

void backend_rollback(struct backend *b)
{
	b->ops->rollback(b);
}

int backend_zone_state(struct backend *b, const char *zone, struct zone_state *ret)
{
	return b->ops->zone_state(b, zone, ret);
}

int backend_zone_replace(struct backend *b, const struct backend_zone *z, const char *kind,
			 int64_t *ret_domain_id)
{
	return b->ops->zone_replace(b, z, kind, ret_domain_id);
}

int backend_zone_delete(struct backend *b, const char *zone, uint64_t version)
{
	return b->ops->zone_delete(b, zone, version);
}

int backend_zone_mark_clean(struct backend *b, const char *zone)
{
	return b->ops->zone_mark_clean(b, zone);
}

int backend_zone_set_version(struct backend *b, const char *zone, uint64_t version, uint32_t serial)
{
	return b->ops->zone_set_version(b, zone, version, serial);
}

int backend_mark_all_clean(struct backend *b)
{
	return b->ops->mark_all_clean(b);
}

int backend_zone_foreach(struct backend *b, backend_zone_fn fn, void *ctx)
{
	return b->ops->zone_foreach(b, fn, ctx);
}

int backend_zone_records(struct backend *b, const char *zone, backend_record_fn fn, void *ctx)
{
	return b->ops->zone_records(b, zone, fn, ctx);
}

int backend_counts(struct backend *b, uint64_t *ret_zones, uint64_t *ret_records)
{
	return b->ops->counts(b, ret_zones, ret_records);
}

int backend_zone_info(struct backend *b, const char *zone, bool *ret_signed, char *kind,
		      unsigned kind_len)
{
	return b->ops->zone_info(b, zone, ret_signed, kind, kind_len);
}
