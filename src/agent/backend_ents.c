/* Empty non-terminals and the rows of a zone, for every backend driver
 * (see backend.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "base/err.h"

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

/* --- the rows of a zone, for a driver that rewrites only what changed -- */

static int cmp_text(const char *a, const char *b)
{
	return a == b ? 0 : a == NULL ? -1 : b == NULL ? 1 : strcmp(a, b);
}

static int cmp_row(const void *x, const void *y)
{
	const struct backend_row *a = x, *b = y;
	int c = memcmp(a->name, b->name, a->name_len < b->name_len ? a->name_len : b->name_len);
	if (c == 0)
		c = (a->name_len > b->name_len) - (a->name_len < b->name_len);
	if (c == 0)
		c = cmp_text(a->type, b->type);
	if (c == 0)
		c = cmp_text(a->content, b->content);
	if (c == 0)
		c = (a->prio > b->prio) - (a->prio < b->prio);
	return c;
}

/* PowerDNS stores names without the trailing dot: the length leaves it out. */
static size_t row_name_len(const char *name)
{
	size_t n = strlen(name);
	return n > 0 && name[n - 1] == '.' ? n - 1 : n;
}

static int add_ent(const char *name, bool auth, void *ctx)
{
	struct backend_rows *w = ctx;
	if (w->n == w->alloc) {
		size_t alloc = 2 * w->alloc;
		struct backend_row *v = realloc(w->v, alloc * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		w->v = v;
		w->alloc = alloc;
	}
	w->v[w->n++] = (struct backend_row){
		.name = name, .name_len = row_name_len(name), .auth = auth, .rr = SIZE_MAX
	};
	return 0;
}

int backend_rows_build(const struct backend_zone *z, struct backend_rows *ret)
{
	struct backend_rows w = { .alloc = z->n + 16 };

	w.v = malloc(w.alloc * sizeof(*w.v));
	if (w.v == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < z->n; i++) {
		const struct backend_rr *rr = &z->rrs[i];
		const char *content = rr->content;
		long prio = 0;
		/* MX and SRV keep their first field in the prio column. */
		if (rr->type == 15 /* MX */ || rr->type == 33 /* SRV */) {
			char *end;
			prio = strtol(content, &end, 10);
			if (end == content || *end != ' ') {
				backend_rows_free(&w);
				return ERR_INVALID;
			}
			content = end + 1;
		}
		w.v[w.n++] = (struct backend_row){ .name = rr->owner,
						   .name_len = row_name_len(rr->owner),
						   .type = rr_type_name(rr->type),
						   .content = content,
						   .prio = prio,
						   .ttl = rr->ttl,
						   .auth = rr->auth,
						   .rr = i };
	}
	int r = backend_zone_ents(z, add_ent, &w);
	if (r < 0) {
		backend_rows_free(&w);
		return r;
	}
	qsort(w.v, w.n, sizeof(*w.v), cmp_row);
	*ret = w;
	return 0;
}

struct backend_row *backend_rows_find(struct backend_rows *w, const char *name, const char *type,
				      const char *content, long prio)
{
	struct backend_row key = { .name = name,
				   .name_len = strlen(name),
				   .type = type,
				   .content = content,
				   .prio = prio };
	return bsearch(&key, w->v, w->n, sizeof(*w->v), cmp_row);
}

void backend_rows_free(struct backend_rows *w)
{
	free(w->v);
	*w = (struct backend_rows){ 0 };
}
