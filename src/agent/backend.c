/* Dispatch to the backend driver (gsqlite3 or gmysql); see backend.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

int backend_open(const struct backend_conf *conf, struct backend **ret)
{
	if (strcmp(conf->kind, "gsqlite3") == 0)
		return backend_sqlite_open(conf, ret);
	if (strcmp(conf->kind, "gmysql") == 0)
		return backend_mysql_open(conf, ret);
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

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static bool in_sorted(const char **set, size_t n, const char *name)
{
	return n > 0 && bsearch(&name, set, n, sizeof(*set), cmp_str) != NULL;
}

static size_t sort_unique(const char **v, size_t n)
{
	size_t o = 0;
	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++)
		if (o == 0 || strcmp(v[o - 1], v[i]) != 0)
			v[o++] = v[i];
	return o;
}

/* The parent of 'name' inside the zone, or NULL at the apex. */
static const char *parent(const char *name, size_t origin_len)
{
	const char *dot = strchr(name, '.');
	if (dot == NULL || strlen(name) <= origin_len)
		return NULL;
	return dot + 1;
}

int backend_zone_ents(const struct backend_zone *z, backend_ent_fn fn, void *ctx)
{
	size_t olen = strlen(z->origin), nowners = 0, ncuts = 0, nents = 0, aents = 64;
	const char **owners = malloc((2 * z->n + 1) * sizeof(*owners));
	const char **ents = malloc(aents * sizeof(*ents));
	int r = 0;

	if (owners == NULL || ents == NULL) {
		r = -ENOMEM;
		goto out;
	}
	const char **cuts = owners + z->n;
	for (size_t i = 0; i < z->n; i++) {
		owners[nowners++] = z->rrs[i].owner;
		if (z->rrs[i].type == 2 /* NS */ && strcmp(z->rrs[i].owner, z->origin) != 0)
			cuts[ncuts++] = z->rrs[i].owner;
	}
	nowners = sort_unique(owners, nowners);
	ncuts = sort_unique(cuts, ncuts);
	/* Parents are suffixes of the owner strings: no copies needed. */
	for (size_t i = 0; i < nowners; i++) {
		for (const char *p = parent(owners[i], olen); p != NULL && strlen(p) > olen;
		     p = parent(p, olen)) {
			if (in_sorted(owners, nowners, p))
				continue;
			if (nents == aents) {
				const char **n = realloc(ents, 2 * aents * sizeof(*ents));
				if (n == NULL) {
					r = -ENOMEM;
					goto out;
				}
				ents = n;
				aents *= 2;
			}
			ents[nents++] = p;
		}
	}
	nents = sort_unique(ents, nents);
	for (size_t i = 0; r == 0 && i < nents; i++) {
		bool auth = true;
		for (const char *p = parent(ents[i], olen); p != NULL && auth; p = parent(p, olen))
			auth = !in_sorted(cuts, ncuts, p);
		r = fn(ents[i], auth, ctx);
	}
out:
	free(owners);
	free(ents);
	return r;
}
