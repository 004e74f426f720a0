/* The backend's public functions and the tree of applied zones; the SQL
 * is backend_sql.c's (see backend.h). */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"

#include "backend.h"
#include "backend_sql.h"
#include "base/log.h"
#include "dns/nsec3.h"
#include "sql/db.h"

#define GMYSQL_MODULE "yumna-agent-gmysql.so"

struct backend_tree;
struct backend {
	struct backend_sql *sql;
	struct backend_tree *tree; /* see backend_tree_attach() */
};

/* The MySQL driver of the SQL layer lives in a module (it brings
 * libmariadb and OpenSSL): next to the agent's own binary when run from
 * the build tree, else in the installed module directory. */
static int load_mysql(void)
{
	static bool loaded;
	char exe[4096], path[4200];
	void *h = NULL;

	if (loaded)
		return 0;
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
	db_open_fn fn = (db_open_fn)dlsym(h, "db_mysql_open");
	if (fn == NULL) {
		log_err("%s has no db_mysql_open", path);
		return -ENOENT;
	}
	db_set_mysql_open(fn); /* the module stays loaded for the process's life */
	loaded = true;
	return 0;
}

int backend_open(const struct backend_conf *conf, struct backend **ret)
{
	if (strcmp(conf->kind, "gsqlite3") != 0 && strcmp(conf->kind, "gmysql") != 0)
		return -EINVAL;
	int r = strcmp(conf->kind, "gmysql") == 0 ? load_mysql() : 0;
	struct backend *b = r == 0 ? calloc(1, sizeof(*b)) : NULL;
	if (r == 0 && b == NULL)
		r = -ENOMEM;
	if (r == 0)
		r = backend_sql_open(conf, &b->sql);
	if (r < 0) {
		free(b);
		return r;
	}
	*ret = b;
	return 0;
}

static void tree_free(struct backend_tree *bt);

void backend_close(struct backend *b)
{
	if (b == NULL)
		return;
	tree_free(b->tree);
	backend_sql_close(b->sql);
	free(b);
}

int backend_schema_ensure(struct backend *b, const char *schema_file)
{
	return backend_sql_schema_ensure(b->sql, schema_file);
}

/* --- the hash tree of what the node serves ------------------------------------- */

/* A change to the tree, kept until the transaction that made it commits. */
struct tree_op {
	char zone[DNAME_TEXT_MAX];
	uint64_t version;
	char digest[ZONE_DIGEST_HEX];
	int count;
};

struct backend_tree {
	struct ztree *t;
	bool in_txn;
	struct tree_op *ops;
	size_t n, alloc;
	/* The state backend_zone_state() last read, until the next write:
	 * the write that usually follows needs it, and a second read of it is
	 * a random index lookup per zone, which a full sync pays a million
	 * times. */
	char last_zone[DNAME_TEXT_MAX];
	struct zone_state last;
	/* The buckets a commit changed since backend_tree_check_start(). */
	uint8_t touched[ZTREE_BUCKETS / 8];
};

static void tree_free(struct backend_tree *bt)
{
	if (bt == NULL)
		return;
	free(bt->ops);
	free(bt);
}

static void tree_apply(struct backend_tree *bt)
{
	for (size_t i = 0; i < bt->n; i++) {
		unsigned k = ztree_bucket(bt->ops[i].zone);
		bt->touched[k / 8] |= (uint8_t)(1u << (k % 8));
		ztree_toggle(bt->t, bt->ops[i].zone, bt->ops[i].version, bt->ops[i].digest,
			     bt->ops[i].count);
	}
	bt->n = 0;
}

static int tree_add(struct backend_tree *bt, const char *zone, uint64_t version, const char *digest,
		    int count)
{
	if (bt->n == bt->alloc) {
		size_t a = bt->alloc ? 2 * bt->alloc : 64;
		struct tree_op *v = realloc(bt->ops, a * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		bt->ops = v;
		bt->alloc = a;
	}
	struct tree_op *o = &bt->ops[bt->n++];
	snprintf(o->zone, sizeof(o->zone), "%s", zone);
	snprintf(o->digest, sizeof(o->digest), "%s", digest);
	o->version = version;
	o->count = count;
	if (!bt->in_txn)
		tree_apply(bt);
	return 0;
}

/* Before a write of 'zone': its leaf, if it has one, leaves the tree. */
static int tree_out(struct backend *b, const char *zone, struct zone_state *st)
{
	if (b->tree == NULL)
		return 0;
	int r = 0;
	if (strcmp(b->tree->last_zone, zone) == 0)
		*st = b->tree->last;
	else
		r = backend_sql_zone_state(b->sql, zone, st);
	b->tree->last_zone[0] = '\0';
	if (r == 0 && st->known && !st->deleted)
		r = tree_add(b->tree, zone, st->version, st->digest, -1);
	return r;
}

/* After a write of 'zone' that leaves it live: its new leaf. */
static int tree_in(struct backend *b, const char *zone, uint64_t version, const char *digest)
{
	return b->tree == NULL ? 0 : tree_add(b->tree, zone, version, digest, +1);
}

struct tree_build {
	struct ztree *t;
	char last[DNAME_TEXT_MAX];
};

static int tree_build_zone(const char *zone, const struct zone_state *st, void *ctx)
{
	struct tree_build *tb = ctx;
	if (!st->deleted)
		ztree_toggle(tb->t, zone, st->version, st->digest, +1);
	snprintf(tb->last, sizeof(tb->last), "%s", zone);
	return 0;
}

#define TREE_PAGE 2000

/* Toggle the next page of zones after tb->last into tb->t: 1 when more
 * may follow, 0 at the end, or an error. */
static int tree_build_page(struct backend *b, struct tree_build *tb)
{
	char after[DNAME_TEXT_MAX];
	size_t n;
	snprintf(after, sizeof(after), "%s", tb->last);
	int r = backend_state_page(b, after, TREE_PAGE, tree_build_zone, tb, &n);
	return r < 0 ? r : n == TREE_PAGE;
}

int backend_tree_attach(struct backend *b, struct ztree *t)
{
	struct tree_build tb = { t, "" };
	int r;

	ztree_clear(t);
	while ((r = tree_build_page(b, &tb)) > 0)
		;
	if (r < 0)
		return r;
	b->tree = calloc(1, sizeof(*b->tree));
	if (b->tree == NULL)
		return -ENOMEM;
	b->tree->t = t;
	return 0;
}

struct backend_tree_check {
	struct tree_build tb;
	bool more;
};

int backend_tree_check_start(struct backend *b, struct backend_tree_check **ret)
{
	if (b->tree == NULL)
		return -EINVAL;
	struct backend_tree_check *c = calloc(1, sizeof(*c));
	if (c == NULL || ztree_new(&c->tb.t) < 0) {
		free(c);
		return -ENOMEM;
	}
	c->more = true;
	memset(b->tree->touched, 0, sizeof(b->tree->touched));
	*ret = c;
	return 0;
}

int backend_tree_check_step(struct backend *b, struct backend_tree_check *c)
{
	int r = c->more ? tree_build_page(b, &c->tb) : 0;
	c->more = r > 0;
	return r;
}

int backend_tree_check_finish(struct backend *b, struct backend_tree_check *c)
{
	int fixed = 0;
	for (unsigned k = 0; b->tree != NULL && !c->more && k < ZTREE_BUCKETS; k++) {
		char prefix[ZTREE_DEPTH + 1];
		struct ztree_node held, now;
		if (b->tree->touched[k / 8] & (1u << (k % 8)))
			continue; /* written meanwhile: the next pass looks again */
		snprintf(prefix, sizeof(prefix), "%04x", k);
		ztree_get(c->tb.t, prefix, &held, NULL);
		ztree_get(b->tree->t, prefix, &now, NULL);
		if (memcmp(&held, &now, sizeof(held)) != 0) {
			ztree_bucket_set(b->tree->t, k, &held);
			fixed++;
		}
	}
	ztree_free(c->tb.t);
	free(c);
	return fixed;
}

int backend_state_page(struct backend *b, const char *after, size_t limit, backend_zone_fn fn,
		       void *ctx, size_t *ret_n)
{
	return backend_sql_state_page(b->sql, after, limit, fn, ctx, ret_n);
}

int backend_begin(struct backend *b)
{
	int r = backend_sql_begin(b->sql);
	if (r == 0 && b->tree != NULL) {
		b->tree->in_txn = true;
		b->tree->n = 0;
		b->tree->last_zone[0] = '\0';
	}
	return r;
}

int backend_commit(struct backend *b)
{
	int r = backend_sql_commit(b->sql);
	if (b->tree != NULL) {
		if (r == 0)
			tree_apply(b->tree);
		b->tree->n = 0;
		b->tree->in_txn = false;
		b->tree->last_zone[0] = '\0';
	}
	return r;
}

void backend_rollback(struct backend *b)
{
	backend_sql_rollback(b->sql);
	if (b->tree != NULL) {
		b->tree->n = 0;
		b->tree->in_txn = false;
		b->tree->last_zone[0] = '\0';
	}
}

int backend_zone_state(struct backend *b, const char *zone, struct zone_state *ret)
{
	int r = backend_sql_zone_state(b->sql, zone, ret);
	if (b->tree != NULL) {
		if (r == 0) {
			snprintf(b->tree->last_zone, sizeof(b->tree->last_zone), "%s", zone);
			b->tree->last = *ret;
		} else {
			b->tree->last_zone[0] = '\0';
		}
	}
	return r;
}

int backend_zone_state_prefetch(struct backend *b, const char *const *zones, size_t n)
{
	return backend_sql_prefetch(b->sql, zones, n);
}

int backend_zone_replace(struct backend *b, const struct backend_zone *z, const char *kind,
			 int64_t *ret_domain_id)
{
	struct zone_state st;
	bool lua = false;
	int r = tree_out(b, z->origin, &st);
	if (r == 0)
		r = backend_sql_zone_replace(b->sql, z, kind, ret_domain_id);
	/* PowerDNS runs LUA records only in zones that ask for it: per zone,
	 * never the node-wide enable-lua-records (a raw record elsewhere
	 * would run) */
	for (size_t i = 0; i < z->n && !lua; i++)
		lua = z->rrs[i].type == TYPE_LUA;
	/* Written only when it changes: every push comes here. */
	static const char *const one[] = { "1" };
	if (r == 0)
		r = backend_sql_meta_set_list(b->sql, z->origin, "ENABLE-LUA-RECORDS", one,
					      lua ? 1 : 0);
	if (r == 1)
		r = 0;
	if (r == 0)
		r = tree_in(b, z->origin, z->version, z->digest ? z->digest : "");
	return r;
}

int backend_zone_delete(struct backend *b, const char *zone, uint64_t version)
{
	struct zone_state st = { 0 };
	int r = tree_out(b, zone, &st);
	return r < 0 ? r : backend_sql_zone_delete(b->sql, zone, version);
}

int backend_zone_mark_clean(struct backend *b, const char *zone)
{
	return backend_sql_zone_mark_clean(b->sql, zone);
}

int backend_zone_set_version(struct backend *b, const char *zone, uint64_t version, uint32_t serial)
{
	struct zone_state st = { 0 };
	int r = tree_out(b, zone, &st);
	if (r == 0)
		r = backend_sql_zone_set_version(b->sql, zone, version, serial);
	if (r == 0 && b->tree != NULL && st.known && !st.deleted)
		r = tree_in(b, zone, version, st.digest);
	return r;
}

int backend_zone_set_digest(struct backend *b, const char *zone, const char *digest)
{
	struct zone_state st = { 0 };
	int r = tree_out(b, zone, &st);
	if (r == 0)
		r = backend_sql_zone_set_digest(b->sql, zone, digest);
	if (r == 0 && b->tree != NULL && st.known && !st.deleted)
		r = tree_in(b, zone, st.version, digest);
	return r;
}

int backend_zone_digest(const struct backend_zone *z, char ret[ZONE_DIGEST_HEX])
{
	struct zone_digest d;
	zone_digest_init(&d);
	for (size_t i = 0; i < z->n; i++) {
		const char *type = rr_type_name(z->rrs[i].type);
		zone_digest_add(&d, z->rrs[i].owner, type ? type : "", z->rrs[i].ttl,
				z->rrs[i].content);
	}
	return zone_digest_final(&d, NULL, ret);
}

static int digest_record(const char *name, const char *type, const char *content, uint32_t ttl,
			 void *ctx)
{
	zone_digest_add(ctx, name, type, ttl, content);
	return 0;
}

int backend_zone_held_digest(struct backend *b, const char *zone, char ret[ZONE_DIGEST_HEX])
{
	struct zone_digest d;
	zone_digest_init(&d);
	int r = backend_zone_records(b, zone, digest_record, &d);
	if (r == -ENOENT) {
		zone_digest_final(&d, NULL, NULL);
		ret[0] = '\0';
		return 0;
	}
	if (r < 0) {
		zone_digest_final(&d, NULL, NULL);
		return r;
	}
	return zone_digest_final(&d, NULL, ret);
}

int backend_mark_all_clean(struct backend *b)
{
	return backend_sql_mark_all_clean(b->sql);
}

int backend_zone_foreach(struct backend *b, backend_zone_fn fn, void *ctx)
{
	return backend_sql_zone_foreach(b->sql, fn, ctx);
}

int backend_zone_records(struct backend *b, const char *zone, backend_record_fn fn, void *ctx)
{
	return backend_sql_zone_records(b->sql, zone, fn, ctx);
}

int backend_counts(struct backend *b, uint64_t *ret_zones, uint64_t *ret_records)
{
	return backend_sql_counts(b->sql, ret_zones, ret_records);
}

int backend_zone_extras(struct backend *b, const char *zone, bool *ret)
{
	return backend_sql_zone_extras(b->sql, zone, ret);
}

int backend_zone_info(struct backend *b, const char *zone, bool *ret_signed, char *kind,
		      unsigned kind_len)
{
	return backend_sql_zone_info(b->sql, zone, ret_signed, kind, kind_len);
}

#define TYPE_NS 2
#define TYPE_NSEC3 50

/* PowerDNS's NSEC order name of 'name' in 'zone': the labels below the
 * zone, lowercase, last first, one space apart ("" for the apex), as its
 * rectify writes them (DNSName::labelReverse). */
static void ordername_of(const char *name, const char *zone, char out[DNAME_TEXT_MAX])
{
	size_t n = strlen(name) - strlen(zone), used = 0;
	out[0] = '\0';
	/* 'name' ends with the zone: its own labels are name[0, n - 1) */
	while (n > 0) {
		size_t end = n - 1, start = end;
		while (start > 0 && name[start - 1] != '.')
			start--;
		used += (size_t)snprintf(out + used, DNAME_TEXT_MAX - used, "%s%.*s",
					 used > 0 ? " " : "", (int)(end - start), name + start);
		n = start;
	}
}

/* Whether the records [a, b) are a signer's NSEC3 (and their RRSIGs):
 * a hashed owner, not a name of the zone's data. */
static bool nsec3_owner(const struct backend_zone *z, size_t a, size_t b)
{
	for (size_t k = a; k < b; k++)
		if (z->rrs[k].type == TYPE_NSEC3)
			return true;
	return false;
}

/* The hashes the signer's NSEC3 records are at (their owners' first
 * labels), as the keys of a new object; NULL without memory. */
static json_t *nsec3_hashes(const struct backend_zone *z)
{
	json_t *set = json_object();

	for (size_t i = 0; set != NULL && i < z->n; i++) {
		if (z->rrs[i].type != TYPE_NSEC3)
			continue;
		char label[DNAME_TEXT_MAX];
		snprintf(label, sizeof(label), "%.*s", (int)strcspn(z->rrs[i].owner, "."),
			 z->rrs[i].owner);
		if (json_object_set_new(set, label, json_true()) < 0) {
			json_decref(set);
			set = NULL;
		}
	}
	return set;
}

/* The ordername of 'name' into its rows: NSEC's, or the NSEC3 hash when
 * the signer's chain has it ('hashes'). A name the chain leaves out (an
 * insecure delegation under opt-out, RFC 5155 section 6) gets none, so
 * PowerDNS never picks it as a neighbour the chain does not have. */
static int set_ordername(struct backend *b, const struct backend_zone *z, const char *name,
			 const char *nsec3param, const json_t *hashes)
{
	char ordername[DNAME_TEXT_MAX];
	if (nsec3param == NULL)
		ordername_of(name, z->origin, ordername);
	else if (dns_nsec3_hash(name, nsec3param, ordername) < 0)
		return -EINVAL;
	bool chained = nsec3param == NULL || json_object_get(hashes, ordername) != NULL;
	return backend_sql_ordername_set(b->sql, z->origin, name, chained ? ordername : NULL);
}

/* NSEC3 chains empty non-terminals too (RFC 5155 section 7.1): the names
 * between 'owner' and the apex that own no record, each once ('seen'). */
static int set_ents(struct backend *b, const struct backend_zone *z, const char *owner,
		    const char *nsec3param, const json_t *hashes, json_t *seen)
{
	size_t olen = strlen(z->origin);
	int r = 0;
	for (const char *p = strchr(owner, '.'); r == 0 && p != NULL && strlen(p + 1) > olen;
	     p = strchr(p + 1, '.')) {
		if (json_object_get(seen, p + 1) != NULL)
			continue;
		r = json_object_set_new(seen, p + 1, json_true()) < 0 ? -ENOMEM : 0;
		if (r == 0)
			r = set_ordername(b, z, p + 1, nsec3param, hashes);
	}
	return r;
}

int backend_zone_ordernames(struct backend *b, const struct backend_zone *z, const char *nsec3param)
{
	json_t *seen = json_object(); /* owners, then the empty non-terminals found */
	json_t *hashes = nsec3param != NULL ? nsec3_hashes(z) : NULL;
	int r = seen != NULL && (nsec3param == NULL || hashes != NULL) ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < z->n; i++)
		if (json_object_set_new(seen, z->rrs[i].owner, json_true()) < 0)
			r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < z->n;) {
		const char *owner = z->rrs[i].owner;
		bool chained = false; /* in the chain: not glue below a cut */
		size_t k = i;
		for (; k < z->n && strcmp(z->rrs[k].owner, owner) == 0; k++)
			chained = chained || z->rrs[k].auth || z->rrs[k].type == TYPE_NS;
		if (chained && nsec3param != NULL && nsec3_owner(z, i, k))
			chained = false;
		if (chained)
			r = set_ordername(b, z, owner, nsec3param, hashes);
		if (r == 0 && chained && nsec3param != NULL)
			r = set_ents(b, z, owner, nsec3param, hashes, seen);
		i = k;
	}
	json_decref(hashes);
	json_decref(seen);
	return r;
}

int backend_zone_keys(struct backend *b, const char *zone, backend_key_fn fn, void *ctx)
{
	return backend_sql_zone_keys(b->sql, zone, fn, ctx);
}

int backend_key_add(struct backend *b, const char *zone, const struct backend_key *k)
{
	return backend_sql_key_add(b->sql, zone, k);
}

int backend_key_delete(struct backend *b, int64_t id)
{
	return backend_sql_key_delete(b->sql, id);
}

int backend_meta_get(struct backend *b, const char *zone, const char *kind, char *out, size_t len)
{
	return backend_sql_meta_get(b->sql, zone, kind, out, len);
}

int backend_meta_any(struct backend *b, const char *zone, const char *const *kinds, size_t n)
{
	return backend_sql_meta_any(b->sql, zone, kinds, n);
}

int backend_meta_set(struct backend *b, const char *zone, const char *kind, const char *value)
{
	return backend_sql_meta_set(b->sql, zone, kind, value);
}

int backend_meta_set_list(struct backend *b, const char *zone, const char *kind,
			  const char *const *values, size_t n)
{
	return backend_sql_meta_set_list(b->sql, zone, kind, values, n);
}

int backend_tsig_put(struct backend *b, const char *name, const char *algorithm, const char *secret)
{
	return backend_sql_tsig_put(b->sql, name, algorithm, secret);
}

int backend_tsig_get(struct backend *b, const char *name, char *algorithm, size_t alg_len,
		     char *secret, size_t secret_len)
{
	return backend_sql_tsig_get(b->sql, name, algorithm, alg_len, secret, secret_len);
}
