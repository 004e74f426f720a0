/* The controller's side of verification: the hash tree (model/ztree.h) of
 * every live zone at its committed version and digest, which node workers
 * compare with each node's own tree to find, in a few small requests, the
 * zones a node does not hold as committed.
 *
 * The tree is built from the store at start-up (giving zones stored before
 * digests and buckets theirs) and changed after every commit this
 * controller makes. Changes made by another process sharing the store are
 * found when a comparison reaches their bucket: the bucket is then read
 * again from the store (verify_bucket_refresh). */
#ifndef YUMNA_WHM_VERIFY_H
#define YUMNA_WHM_VERIFY_H

#include "model/ztree.h"
#include "whm.h"

/* Build w->tree from the store; the first build registers the tree as an
 * observer of zone commits (zones_on_commit), so it must come before the
 * sync engine's. */
int verify_tree_build(struct whm *w, struct store *st);

/* A commit turned zone row 'old' into 'now' (either may be NULL: created,
 * purged): move its leaf. Tombstones have none. */
void verify_zone_changed(struct whm *w, struct store *st, const struct store_zone *old,
			 const struct store_zone *now);

/* How many live zones the tree holds (no store read). */
uint64_t verify_live_zones(struct whm *w);

/* Read bucket 'bucket' again from the store and put it into w->tree. */
int verify_bucket_refresh(struct whm *w, struct store *st, unsigned bucket);

#endif
