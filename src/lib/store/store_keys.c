/* The store's DNSSEC settings and keys (store.h), over store_internal.h.
 * A key's private part is wiped from memory when its row is cleared. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

void store_dnssec_clear(struct store_dnssec *d)
{
	if (d == NULL)
		return;
	free(d->scheme);
	free(d->roll_kind);
	memset(d, 0, sizeof(*d));
}

int store_dnssec_get(struct store *st, int64_t zone_id, struct store_dnssec *ret)
{
	struct db_stmt *q;
	int r = store_stmt(st, Q_DNSSEC_GET, &q, "i", zone_id);
	if (r < 0)
		return r;
	r = db_step(q);
	if (r == DB_ROW) {
		memset(ret, 0, sizeof(*ret));
		ret->zone_id = db_column_int64(q, 0);
		ret->enabled = db_column_int64(q, 1) != 0;
		ret->algorithm = (uint32_t)db_column_int64(q, 2);
		ret->nsec3 = db_column_int64(q, 4) != 0;
		ret->nsec3_optout = db_column_int64(q, 5) != 0;
		ret->signed_at = db_column_int64(q, 6);
		ret->updated_at = db_column_int64(q, 7);
		ret->roll_step = (uint32_t)db_column_int64(q, 9);
		ret->roll_next_at = db_column_int64(q, 10);
		ret->roll_version = (uint64_t)db_column_int64(q, 11);
		ret->roll_ds_at = db_column_int64(q, 12);
		ret->roll_wait = db_column_int64(q, 13);
		bool ok = store_col_dup(q, 3, &ret->scheme) && ret->scheme != NULL;
		ok = store_col_dup(q, 8, &ret->roll_kind) && ret->roll_kind != NULL && ok;
		r = ok ? 0 : -ENOMEM;
		if (r < 0)
			store_dnssec_clear(ret);
	} else if (r == DB_DONE) {
		r = -ENOENT;
	}
	db_reset(q);
	return r;
}

int store_dnssec_put(struct store *st, const struct store_dnssec *d)
{
	bool own;

	if (d->scheme == NULL)
		return -EINVAL;
	int r = store_auto_begin(st, &own);
	if (r == 0)
		r = store_exec(st, Q_DNSSEC_DELETE, "i", d->zone_id);
	if (r == 0)
		r = store_exec(
		    st, Q_DNSSEC_INSERT, "iiitiiiitiiiii", d->zone_id, (int64_t)d->enabled,
		    (int64_t)d->algorithm, d->scheme, (int64_t)d->nsec3, (int64_t)d->nsec3_optout,
		    d->signed_at, d->updated_at != 0 ? d->updated_at : store_now(),
		    d->roll_kind ? d->roll_kind : "", (int64_t)d->roll_step, d->roll_next_at,
		    (int64_t)d->roll_version, d->roll_ds_at, d->roll_wait);
	return store_auto_end(st, own, r);
}

int store_dnssec_delete(struct store *st, int64_t zone_id)
{
	bool own;
	int r = store_auto_begin(st, &own);
	if (r == 0)
		r = store_exec(st, Q_KEY_DELETE_ZONE, "i", zone_id);
	if (r == 0)
		r = store_exec(st, Q_DNSSEC_DELETE, "i", zone_id);
	return store_auto_end(st, own, r);
}

void store_dnssec_key_clear(struct store_dnssec_key *k)
{
	if (k == NULL)
		return;
	free(k->keytype);
	free(k->dnskey);
	if (k->private_key != NULL) {
		explicit_bzero(k->private_key, strlen(k->private_key));
		free(k->private_key);
	}
	memset(k, 0, sizeof(*k));
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): the analyzer mixes up the rows of key_foreach */
}

int store_dnssec_key_insert(struct store *st, struct store_dnssec_key *k)
{
	int64_t created = k->created_at != 0 ? k->created_at : store_now();
	struct db_stmt *q;
	int64_t id = 0;

	if (k->keytype == NULL || k->dnskey == NULL || k->private_key == NULL)
		return -EINVAL;
	int r = store_stmt(st, Q_KEY_INSERT, &q, "itiiittiii", k->zone_id, k->keytype,
			   (int64_t)k->algorithm, (int64_t)k->flags, (int64_t)k->keytag, k->dnskey,
			   k->private_key, (int64_t)k->active, (int64_t)k->published, created);
	if (r < 0)
		return r;
	r = store_run(q, NULL, &id);
	if (r < 0)
		return r;
	k->id = id;
	k->created_at = created;
	return 0;
}

int store_dnssec_key_delete_zone(struct store *st, int64_t zone_id)
{
	return store_exec(st, Q_KEY_DELETE_ZONE, "i", zone_id);
}

/* A zone has a handful of keys: read them all, then call 'fn'. */
#define KEYS_MAX 32

int store_dnssec_key_foreach(struct store *st, int64_t zone_id, store_dnssec_key_fn fn, void *ctx)
{
	struct store_dnssec_key rows[KEYS_MAX];
	struct db_stmt *q;
	size_t n = 0;

	int r = store_stmt(st, Q_KEY_LIST, &q, "i", zone_id);
	if (r < 0)
		return r;
	while (n < KEYS_MAX && (r = db_step(q)) == DB_ROW) {
		struct store_dnssec_key *k = &rows[n];
		/* NOLINTBEGIN(clang-analyzer-unix.Malloc): rows[n] is a fresh row, not the last one */
		memset(k, 0, sizeof(*k));
		k->id = db_column_int64(q, 0);
		/* NOLINTEND(clang-analyzer-unix.Malloc) */
		k->zone_id = db_column_int64(q, 1);
		k->algorithm = (uint32_t)db_column_int64(q, 3);
		k->flags = (uint32_t)db_column_int64(q, 4);
		k->keytag = (uint32_t)db_column_int64(q, 5);
		k->active = db_column_int64(q, 8) != 0;
		k->published = db_column_int64(q, 9) != 0;
		k->created_at = db_column_int64(q, 10);
		n++;
		bool ok = store_col_dup(q, 2, &k->keytype);
		ok = store_col_dup(q, 6, &k->dnskey) && ok;
		ok = store_col_dup(q, 7, &k->private_key) && ok;
		if (!ok || k->keytype == NULL || k->dnskey == NULL || k->private_key == NULL) {
			r = -ENOMEM;
			break;
		}
	}
	db_reset(q);
	if (r == DB_ROW || r == DB_DONE)
		r = 0;
	for (size_t i = 0; i < n; i++) {
		if (r == 0)
			r = fn(&rows[i], ctx);
		store_dnssec_key_clear(&rows[i]);
	}
	return r;
}

static void listing_clear(struct store_key_listing *l)
{
	store_dnssec_key_clear(&l->key);
	free(l->domain);
	free(l->roll_kind);
	memset(l, 0, sizeof(*l));
}

int store_dnssec_key_page(struct store *st, int64_t after, unsigned limit, store_key_listing_fn fn,
			  void *ctx)
{
	struct store_key_listing *rows;
	struct db_stmt *q;
	size_t n = 0;

	if (limit == 0 || limit > STORE_KEY_PAGE_MAX)
		return -EINVAL;
	rows = calloc(limit, sizeof(*rows));
	if (rows == NULL)
		return -ENOMEM;
	/* The rows are read first, then handed out: 'fn' may use the store. */
	int r = store_stmt(st, Q_KEY_PAGE, &q, "ii", after, (int64_t)limit);
	if (r < 0) {
		free(rows);
		return r;
	}
	while (n < limit && (r = db_step(q)) == DB_ROW) {
		struct store_key_listing *l = &rows[n++];
		l->key.id = db_column_int64(q, 0);
		l->key.zone_id = db_column_int64(q, 1);
		l->key.algorithm = (uint32_t)db_column_int64(q, 3);
		l->key.flags = (uint32_t)db_column_int64(q, 4);
		l->key.keytag = (uint32_t)db_column_int64(q, 5);
		l->key.active = db_column_int64(q, 6) != 0;
		l->key.published = db_column_int64(q, 7) != 0;
		l->key.created_at = db_column_int64(q, 8);
		l->roll_step = (uint32_t)db_column_int64(q, 11);
		bool ok = store_col_dup(q, 2, &l->key.keytype) && l->key.keytype != NULL;
		ok = store_col_dup(q, 9, &l->domain) && l->domain != NULL && ok;
		ok = store_col_dup(q, 10, &l->roll_kind) && l->roll_kind != NULL && ok;
		if (!ok) {
			r = -ENOMEM;
			break;
		}
	}
	db_reset(q);
	if (r == DB_ROW || r == DB_DONE)
		r = 0;
	for (size_t i = 0; i < n; i++) {
		if (r == 0)
			r = fn(&rows[i], ctx);
		listing_clear(&rows[i]);
	}
	free(rows);
	return r;
}

int store_dnssec_key_delete(struct store *st, int64_t zone_id, int64_t key_id)
{
	return store_exec_changed(st, Q_KEY_DELETE, "ii", key_id, zone_id);
}

int store_dnssec_key_set_flags(struct store *st, int64_t zone_id, int64_t key_id, bool active,
			       bool published)
{
	return store_exec_changed(st, Q_KEY_SET_FLAGS, "iiii", (int64_t)active, (int64_t)published,
				  key_id, zone_id);
}

int store_dnssec_foreach_rolling(struct store *st, store_id_fn fn, void *ctx)
{
	struct db_stmt *q;
	int r = store_stmt(st, Q_DNSSEC_ROLLING, &q, "");
	return r < 0 ? r : store_each_id(q, NULL, fn, ctx);
}
