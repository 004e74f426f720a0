/* A hash tree over the zones a node serves, for comparing a node with the
 * controller without listing either side.
 *
 * Each live zone is a leaf: the first 16 bytes of SHA-256 over
 * "<zone> <version> <digest>" (digest as in dns/digest.h). A zone falls into
 * one of 65,536 buckets by the first 16 bits of SHA-256 of its name, and a
 * bucket's value is the XOR of its leaves, so adding or removing a zone is
 * one XOR wherever it happens, in any order. The tree above the buckets is
 * 16-ary: the node at a prefix of 0 to 4 hex digits covers the buckets
 * whose number, in 4 hex digits, starts with it; its value is the XOR of
 * theirs. Two sides that hold the same zones at the same versions with the
 * same content have equal roots; where they differ, comparing the 16
 * children of each differing node top-down finds the buckets that differ
 * in at most 4 rounds, and only those buckets' zones need listing.
 *
 * A tree is thread-safe. */
#ifndef YUMNA_MODEL_ZTREE_H
#define YUMNA_MODEL_ZTREE_H

#include <stdbool.h>
#include <stdint.h>

#define ZTREE_BUCKETS 65536u
#define ZTREE_DEPTH 4	  /* hex digits of a bucket's prefix */
#define ZTREE_LEAF_HEX 33 /* 32 hex digits and a NUL */

struct ztree;

int ztree_new(struct ztree **ret);
/* Accepts NULL. */
void ztree_free(struct ztree *t);

/* The bucket of 'zone' (normalised, trailing dot). */
unsigned ztree_bucket(const char *zone);

/* Add a live zone to the tree, or remove it (the same call with the same
 * arguments: XOR); 'count' is +1 or -1. */
void ztree_toggle(struct ztree *t, const char *zone, uint64_t version, const char *digest,
		  int count);

/* Forget every zone (before a rebuild). */
void ztree_clear(struct ztree *t);

/* Replace one bucket's value and count (a bucket recomputed from a store). */
struct ztree_node {
	uint8_t hash[16];
	uint64_t zones;
};
void ztree_bucket_set(struct ztree *t, unsigned bucket, const struct ztree_node *v);
/* The value of one bucket computed from scratch: start from zero and
 * toggle each zone into 'acc'. */
void ztree_node_toggle(struct ztree_node *acc, const char *zone, uint64_t version,
		       const char *digest, int count);

/* The node at 'prefix' (0..ZTREE_DEPTH lowercase hex digits) and, for a
 * prefix shorter than ZTREE_DEPTH, its 16 children. -EINVAL for a bad
 * prefix. */
int ztree_get(struct ztree *t, const char *prefix, struct ztree_node *ret_node,
	      struct ztree_node ret_children[16]);

/* Whether 'prefix' is 0..ZTREE_DEPTH lowercase hex digits; the bucket it
 * names when it has ZTREE_DEPTH of them. */
bool ztree_prefix_valid(const char *prefix);
unsigned ztree_prefix_bucket(const char *prefix);

/* Hex of a node's hash. */
void ztree_hex(const struct ztree_node *n, char out[ZTREE_LEAF_HEX]);

#endif
