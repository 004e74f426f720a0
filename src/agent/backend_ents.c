/* Empty non-terminals of a zone, for every backend driver (see backend.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

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
