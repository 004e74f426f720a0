#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "verify.h"
#include "zones.h"

struct build {
	struct whm *w;
	struct store *st;
	struct ztree_node *acc; /* one bucket's value, for refresh */
	uint64_t zones, backfilled, failed;
};

/* The leaf of a live zone; zones stored before digests or buckets get them
 * (and keep them in the store). */
static int leaf_of(struct build *b, struct store_zone *z, char digest[ZONE_DIGEST_HEX])
{
	if (z->bucket < 0) {
		z->bucket = (int32_t)ztree_bucket(z->domain);
		store_zone_set_bucket(b->st, z->id, (unsigned)z->bucket);
		b->backfilled++;
	}
	return zones_digest(b->w, b->st, z, digest);
}

static int build_zone(const struct store_zone *row, void *ctx)
{
	struct build *b = ctx;
	struct store_zone z = *row;
	char digest[ZONE_DIGEST_HEX];

	if (z.deleted) {
		if (z.bucket < 0)
			store_zone_set_bucket(b->st, z.id, ztree_bucket(z.domain));
		return 0;
	}
	if (leaf_of(b, &z, digest) < 0) {
		/* Not pushable as stored (rules tightened since): no node can
		 * hold it, so no leaf; every push of it fails visibly. */
		b->failed++;
		return 0;
	}
	b->zones++;
	if (b->acc != NULL)
		ztree_node_toggle(b->acc, z.domain, z.version, digest, +1);
	else
		ztree_toggle(b->w->tree, z.domain, z.version, digest, +1);
	return 0;
}

/* Observer of zone commits (zones_on_commit). */
static void on_commit(struct whm *w, struct store *st, const struct store_zone *old,
		      const struct store_zone *now, void *ctx)
{
	verify_zone_changed(w, st, old, now);
}

int verify_tree_build(struct whm *w, struct store *st)
{
	struct build b = { w, st, NULL, 0, 0, 0 };
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (w->tree == NULL) {
		int r = ztree_new(&w->tree);
		if (r == 0)
			r = zones_on_commit(w, on_commit, NULL);
		if (r < 0)
			return r;
	}
	ztree_clear(w->tree);
	int r = store_zone_foreach(st, true, build_zone, &b);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r < 0)
		return r;
	log_info("verification tree: %llu zones in %.2f s (%llu given a bucket, %llu not pushable)",
		 (unsigned long long)b.zones,
		 (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		 (unsigned long long)b.backfilled, (unsigned long long)b.failed);
	return 0;
}

static void toggle(struct whm *w, struct store *st, const struct store_zone *row, int count)
{
	struct store_zone z = *row;
	char digest[ZONE_DIGEST_HEX];
	if (row->deleted || zones_digest(w, st, &z, digest) < 0)
		return;
	ztree_toggle(w->tree, z.domain, z.version, digest, count);
}

void verify_zone_changed(struct whm *w, struct store *st, const struct store_zone *old,
			 const struct store_zone *now)
{
	if (w->tree == NULL)
		return;
	if (old != NULL)
		toggle(w, st, old, -1);
	if (now != NULL)
		toggle(w, st, now, +1);
}

uint64_t verify_live_zones(struct whm *w)
{
	struct ztree_node root;
	if (w->tree == NULL || ztree_get(w->tree, "", &root, NULL) < 0)
		return 0;
	return root.zones;
}

int verify_bucket_refresh(struct whm *w, struct store *st, unsigned bucket)
{
	struct ztree_node acc = { { 0 }, 0 };
	struct build b = { w, st, &acc, 0, 0, 0 };
	int r = store_zone_foreach_bucket(st, bucket, build_zone, &b);
	if (r == 0)
		ztree_bucket_set(w->tree, bucket, &acc);
	return r;
}
