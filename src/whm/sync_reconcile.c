/* Reconciliation: a node worker compares the node's hash tree with the
 * controller's (model/ztree.h), lists the zones of the buckets that
 * differ, and marks for pushing again what the node lost or holds with
 * other content; zones the store does not know are deleted. A node too far
 * apart for the tree gets every zone again, and its zone list is walked a
 * page at a time for the zones to delete. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "base/err.h"
#include "base/log.h"
#include "events.h"
#include "sync_node.h"
#include "verify.h"
#include "zones.h"

struct recon {
	struct node *n;
	struct store *st;
	json_t *agent; /* zone name -> {"version", "digest"}, live zones on the node */
	json_t *ahead; /* zone id (text) -> the version the node serves above the store's */
	unsigned fixed;
	unsigned drift;
};

bool sync_node_holds(bool deleted, uint64_t version, bool listed, uint64_t on_node,
		     bool same_digest)
{
	if (deleted)
		return !listed;
	return on_node == version && same_digest;
}

enum sync_repair sync_reconcile_action(bool deleted, uint64_t version, uint64_t on_node)
{
	if (on_node > version)
		return SYNC_REPAIR_AHEAD;
	if (!deleted && on_node == version)
		return SYNC_REPAIR_SAME;
	return SYNC_REPAIR_FROM_NODE;
}

static int reconcile_zone(const struct store_zone *z, void *ctx)
{
	struct recon *rc = ctx;
	json_t *v = json_object_get(rc->agent, z->domain);
	uint64_t on_node = (uint64_t)json_integer_value(json_object_get(v, "version"));
	char held[ZONE_DIGEST_HEX] = "", want[ZONE_DIGEST_HEX] = "";
	bool same = false;

	if (v != NULL) {
		snprintf(held, sizeof(held), "%s",
			 json_string_value(json_object_get(v, "digest")) ?: "");
		json_object_del(rc->agent, z->domain); /* what remains is unknown to the store */
	}
	if (!z->deleted && on_node == z->version) {
		/* The node holds the version: it counts only with the content. */
		struct store_zone copy = *z;
		same =
		    zones_digest(rc->n->s->w, rc->st, &copy, want) < 0 || strcmp(held, want) == 0;
	}
	if (sync_node_holds(z->deleted, z->version, v != NULL, on_node, same))
		return 0;
	/* A version the node has not acknowledged yet is on its way: only a
	 * node that lost what it acknowledged needs the zone again. */
	bool acked = false;
	if (store_sync_node_acked(rc->st, rc->n->id, z->id, z->version, &acked) < 0 || !acked)
		return 0;
	enum sync_repair action = sync_reconcile_action(z->deleted, z->version, on_node);
	rc->fixed++;
	if (action == SYNC_REPAIR_AHEAD) {
		/* Only a store that went back (restored from a backup) is behind
		 * a node: what it committed wins, at a version above the node's
		 * (raised once the walk of the store is over). */
		char id[24];
		log_warn("node '%s': zone '%s' is at version %llu, ahead of the store's %llu%s; "
			 "raising the store's",
			 rc->n->name, z->domain, (unsigned long long)on_node,
			 (unsigned long long)z->version, z->deleted ? " (deleted there)" : "");
		snprintf(id, sizeof(id), "%lld", (long long)z->id);
		return json_object_set_new(rc->ahead, id, json_integer((json_int_t)on_node)) < 0
			   ? -ENOMEM
			   : 0;
	}
	if (action == SYNC_REPAIR_SAME) {
		/* Pushed again at the same version: the agent writes it when its
		 * backend drifted (counted as drift when it says it repaired it),
		 * and keeps it out when it holds what it applied, which makes the
		 * store raise the version (the store's meaning of it changed). */
		rc->drift++;
		log_notice("node '%s': zone '%s' version %llu: the node holds digest %.12s, the "
			   "store %.12s; pushing it again",
			   rc->n->name, z->domain, (unsigned long long)z->version,
			   held[0] ? held : "none", want);
		return store_sync_reset(rc->st, rc->n->id, z->id, 0);
	}
	return store_sync_reset(rc->st, rc->n->id, z->id, z->deleted ? 0 : on_node);
}

/* Differing buckets above which the node is taken as having lost its data
 * (a database restored or wiped): every zone is pushed to it again. */
#define RECON_BUCKETS_MAX 1024
/* Buckets listed by one request (the agent walks its zones once for it). */
#define RECON_BUCKETS_PER_CALL 64

struct tree_diff {
	unsigned *buckets;
	size_t n;
	unsigned requests;
	uint64_t node_zones; /* the node's count of live zones (the root) */
	/* The roots' hashes, the controller's and the node's ("" if it
	 * did not say). */
	char ours[ZTREE_LEAF_HEX];
	char theirs[ZTREE_LEAF_HEX];
};

/* The node's live zones and ours are so far apart that descending the
 * tree would reach most buckets. */
static bool differ_widely(uint64_t ours, uint64_t theirs)
{
	uint64_t gap = ours > theirs ? ours - theirs : theirs - ours;
	return gap > RECON_BUCKETS_MAX;
}

/* Compare the node's hash tree with the controller's top-down from
 * 'prefix' and collect the buckets that differ; ERR_TOO_LARGE past
 * RECON_BUCKETS_MAX. An in-sync node costs one request. */
static int tree_diff(struct node *n, const char *prefix, struct tree_diff *d)
{
	char path[64], mine[ZTREE_LEAF_HEX];
	struct errmsg err;
	struct ztree_node node, kids[16];
	long status;
	json_t *j = NULL;

	snprintf(path, sizeof(path), "?prefix=%s", prefix);
	int r = agent_call(n->http, AGENT_TREE, path, NULL, 0, &status, &j, &err);
	d->requests++;
	if (r < 0)
		return r;
	ztree_get(n->s->w->tree, prefix, &node, kids);
	if (prefix[0] == '\0') {
		json_t *root = json_object_get(j, "node");
		d->node_zones = (uint64_t)json_integer_value(json_object_get(root, "zones"));
		ztree_hex(&node, d->ours);
		snprintf(d->theirs, sizeof(d->theirs), "%s",
			 json_string_value(json_object_get(root, "hash")) ?: "");
		if (differ_widely(node.zones, d->node_zones)) {
			json_decref(j);
			return ERR_TOO_LARGE;
		}
	}
	json_t *children = json_object_get(j, "children");
	for (unsigned c = 0; r == 0 && c < 16; c++) {
		const char *theirs =
		    json_string_value(json_object_get(json_array_get(children, c), "hash"));
		ztree_hex(&kids[c], mine);
		if (theirs != NULL && strcmp(theirs, mine) == 0)
			continue;
		char child[ZTREE_DEPTH + 1];
		snprintf(child, sizeof(child), "%s%x", prefix, c);
		if (strlen(child) < ZTREE_DEPTH)
			r = tree_diff(n, child, d);
		else if (d->n == RECON_BUCKETS_MAX)
			r = ERR_TOO_LARGE;
		else
			d->buckets[d->n++] = ztree_prefix_bucket(child);
	}
	json_decref(j);
	return r;
}

/* Delete from the node the zones 'names' (count of them), which the store
 * does not have, without a version (a zone the store creates under the
 * same name later is pushed above what such a delete leaves): in
 * delete-batch requests of DELETE_BATCH_MAX, or one by one for a single
 * zone or an agent that does not take the batch (agent_delete_batch()).
 * *deleted counts the zones the node deleted; a zone whose single delete
 * the node refuses for good (4xx) counts in *refused and does not stop the
 * others. A negative code when the node failed otherwise. */
static int delete_unknown(struct node *n, const char *const *names, size_t count, unsigned *deleted,
			  unsigned *refused)
{
	struct errmsg err;
	long status = 0;
	size_t i = 0;
	int r = 0;

	while (count > 1 && i < count) {
		size_t m = count - i < DELETE_BATCH_MAX ? count - i : DELETE_BATCH_MAX;
		r = agent_delete_batch(n->http, names + i, NULL, m, &status, NULL, &err);
		if (r == 1)
			break; /* the rest one by one */
		if (r < 0) {
			log_warn(
			    "node '%s': reconciliation: cannot delete %zu zones the store does "
			    "not have: %s",
			    n->name, m, err.text);
			return r;
		}
		*deleted += (unsigned)m;
		i += m;
	}
	for (; i < count; i++) {
		r = agent_call(n->http, AGENT_ZONE_DELETE, names[i], NULL, 0, &status, NULL, &err);
		if (r == 0) {
			(*deleted)++;
			continue;
		}
		log_warn("node '%s': reconciliation: cannot delete zone '%s', which the store does "
			 "not have: %s",
			 n->name, names[i], err.text);
		if (status < 400 || status >= 500)
			return r;
		(*refused)++;
	}
	return 0;
}

/* Reconcile the zones of buckets[0..count) with what the node lists for
 * them; the controller's own buckets are read again from the store first,
 * in case another process changed them. */
static int reconcile_buckets(struct node *n, struct store *st, const unsigned *buckets,
			     size_t count, struct recon *rc, unsigned *stray)
{
	char path[40 + RECON_BUCKETS_PER_CALL * (ZTREE_DEPTH + 1)];
	struct errmsg err;
	long status;
	json_t *j = NULL;
	size_t off = (size_t)snprintf(path, sizeof(path), "?buckets=");

	for (size_t i = 0; i < count; i++)
		off += (size_t)snprintf(path + off, sizeof(path) - off, "%s%04x", i ? "," : "",
					buckets[i]);
	int r = agent_call(n->http, AGENT_ZONES, path, NULL, 0, &status, &j, &err);
	if (r < 0)
		return r;
	size_t i;
	json_t *item;
	json_array_foreach(json_object_get(j, "zones"), i, item) {
		const char *name = json_string_value(json_object_get(item, "zone"));
		if (name != NULL)
			json_object_set(rc->agent, name, item);
	}
	json_decref(j);
	for (i = 0; r == 0 && i < count; i++) {
		r = verify_bucket_refresh(n->s->w, st, buckets[i]);
		if (r == 0)
			r = store_zone_foreach_bucket(st, buckets[i], reconcile_zone, rc);
	}
	const char *name;
	json_t *v;
	/* One that cannot be raised now (deleted meanwhile, the store busy)
	 * waits for the next reconciliation; the others go on. */
	json_object_foreach(rc->ahead, name, v) {
		int e = r == 0 ? zones_raise_version(n->s->w, st, strtoll(name, NULL, 10),
						     (uint64_t)json_integer_value(v))
			       : 0;
		if (e < 0)
			log_warn("node '%s': zone id %s: its version cannot be raised now: %s",
				 n->name, name, err_str(e));
	}
	json_object_clear(rc->ahead);
	/* Zones the node serves that the store does not know: delete them
	 * (one that fails waits for the next reconciliation). */
	size_t left = json_object_size(rc->agent), k = 0;
	const char **names = r == 0 && left > 0 ? calloc(left, sizeof(*names)) : NULL;
	json_object_foreach(rc->agent, name, v) {
		if (names != NULL)
			names[k++] = name;
	}
	unsigned refused = 0;
	if (names != NULL)
		(void)delete_unknown(n, names, k, stray, &refused);
	free(names);
	json_object_clear(rc->agent);
	return r;
}

/* Zones of the node's list read by one request. */
#define RECON_PAGE 1000
/* How long one pass of the worker walks the node's zone list: the pushes
 * to the node and its health checks wait meanwhile, and go between two
 * parts of a long walk. */
#define RECON_WALK_MS 2000
/* After a request of the walk failed (the node or the store), the walk
 * goes on from where it was no sooner than this. */
#define RECON_WALK_RETRY_MS 5000

/* Whether the store has the zone 'name' (live or as a tombstone, whose
 * delete is pushed): 1 or 0, or a negative code when the store failed. */
static int store_has(struct node *n, struct store *st, const char *name)
{
	struct store_zone z;
	int r = store_zone_get_by_name(st, name, &z);
	if (r == 0) {
		store_zone_clear(&z);
		return 1;
	}
	if (r == -ENOENT)
		return 0;
	log_warn("node '%s': reconciliation: cannot look zone '%s' up: %s", n->name, name,
		 err_str(r));
	return r;
}

/* Delete from the node, walking its zone list a page at a time from
 * n->far_after, each zone it serves that the store does not have
 * (delete_unknown(), DELETE_BATCH_MAX zones of the list at a time). A
 * page's zones are looked up in the store after the node listed them, and
 * only this worker pushes to the node: what the node lists from this store
 * was committed before that lookup, so only a zone the store never had (or
 * purged, every node having deleted it: a store restored from a backup) is
 * deleted. A zone created after the lookup is pushed after the delete,
 * above the version the delete leaves behind. Memory: one page. Stops
 * after RECON_WALK_MS (checked before each part of a page), or at the
 * first failure of the node or the store (then n->far_next_ms says when to
 * go on), the walk still under way and n->far_after the last zone done;
 * at its end, n->far_walking is false. */
static int delete_strays(struct node *n, struct store *st, unsigned *stray)
{
	int64_t deadline = whm_mono_ms() + RECON_WALK_MS;
	struct errmsg err;
	int r = 0;

	while (r == 0 && n->far_walking && whm_mono_ms() < deadline) {
		json_t *j = NULL;
		r = agent_zone_page(n->http, n->far_after, RECON_PAGE, &j, &err);
		if (r < 0) {
			log_warn("node '%s': reconciliation: cannot list its zones: %s", n->name,
				 err.text);
			break;
		}
		json_t *list = json_object_get(j, "zones");
		size_t total = json_array_size(list), done = 0;
		while (r == 0 && done < total && whm_mono_ms() < deadline) {
			const char *names[DELETE_BATCH_MAX];
			size_t m =
			    total - done < DELETE_BATCH_MAX ? total - done : DELETE_BATCH_MAX;
			size_t unknown = 0;
			for (size_t k = done; r == 0 && k < done + m; k++) {
				const char *name = json_string_value(
				    json_object_get(json_array_get(list, k), "zone"));
				int has = name != NULL ? store_has(n, st, name) : 1;
				if (has < 0)
					r = has;
				else if (has == 0)
					names[unknown++] = name;
			}
			if (r == 0)
				r = delete_unknown(n, names, unknown, stray, &n->far_kept);
			if (r < 0)
				break;
			done += m;
			/* Resumed after it (agent_zone_page()). */
			const char *last = json_string_value(
			    json_object_get(json_array_get(list, done - 1), "zone"));
			if (last != NULL)
				snprintf(n->far_after, sizeof(n->far_after), "%s", last);
		}
		if (r == 0 && done == total &&
		    json_string_value(json_object_get(j, "next")) == NULL)
			n->far_walking = false; /* the last page, done */
		json_decref(j);
	}
	if (r < 0)
		n->far_next_ms = whm_mono_ms() + RECON_WALK_RETRY_MS;
	if (!n->far_walking && n->far_kept > 0)
		log_warn("node '%s': reconciliation: %u zones the store does not have are left "
			 "on it: it refused to delete them",
			 n->name, n->far_kept);
	return r;
}

/* The root of the node's tree, "" when it does not answer. */
static void node_root(struct node *n, char out[ZTREE_LEAF_HEX])
{
	struct errmsg err;
	long status;
	json_t *j = NULL;

	out[0] = '\0';
	if (agent_call(n->http, AGENT_TREE, "?prefix=", NULL, 0, &status, &j, &err) == 0)
		snprintf(out, ZTREE_LEAF_HEX, "%s",
			 json_string_value(json_object_get(json_object_get(j, "node"), "hash"))
			     ?: "");
	json_decref(j);
}

/* A step of the walk of the node's zone list (delete_strays()); at its
 * end, both trees as the walk leaves them (the pushes queued change them
 * only where the node lacks something). */
static int walk_on(struct node *n, struct store *st, unsigned *stray)
{
	int r = delete_strays(n, st, stray);
	if (!n->far_walking) {
		struct ztree_node root, kids[16];
		ztree_get(n->s->w->tree, "", &root, kids);
		ztree_hex(&root, n->far_ours);
		node_root(n, n->far_theirs);
		n->far_clean = n->far_kept == 0;
	}
	return r;
}

/* The node is too far apart to walk its tree, and nothing pending explains
 * it: push every zone to it again and walk its zone list for what the
 * store does not have, unless the last walk ended with both trees as they
 * are now. A walk that left zones the node would not delete is done again
 * without pushing everything. */
static int reconcile_far(struct node *n, struct store *st, const struct tree_diff *d, uint64_t live,
			 unsigned *stray)
{
	bool same = n->far_theirs[0] != '\0' && d->theirs[0] != '\0' &&
		    strcmp(n->far_ours, d->ours) == 0 && strcmp(n->far_theirs, d->theirs) == 0;
	if (same && n->far_clean) {
		log_debug("node '%s': reconciliation: %llu zones against %llu, as when every "
			  "zone was last pushed to it again; skipped",
			  n->name, (unsigned long long)d->node_zones, (unsigned long long)live);
		return 0;
	}
	if (!same) {
		/* The node lost what it had (a database restored or wiped), or
		 * holds what the store no longer has (a store restored). */
		log_warn("node '%s': reconciliation: it holds %llu zones against %llu, or more "
			 "than %d of its %u buckets differ; pushing every zone again",
			 n->name, (unsigned long long)d->node_zones, (unsigned long long)live,
			 RECON_BUCKETS_MAX, ZTREE_BUCKETS);
		events_add(n->s->w->events, "sync.drift", n->name, NULL,
			   "the node holds %llu zones against %llu with nothing pending; pushing "
			   "every zone again",
			   (unsigned long long)d->node_zones, (unsigned long long)live);
		int r = store_sync_reset_server(st, n->id);
		if (r < 0)
			return r;
	}
	n->far_walking = true;
	n->far_after[0] = '\0';
	n->far_kept = 0;
	return walk_on(n, st, stray);
}

/* Whether the pushes the node has yet to acknowledge ('sum') can account
 * for a tree too far apart to walk: more than RECON_BUCKETS_MAX of them
 * (fewer change fewer buckets), and at least the gap between the live zones
 * and the node's. A few zones always behind (one the node refuses) are no
 * full sync on its way: a node that lost its data meanwhile would wait for
 * them for ever. */
static bool pushes_explain(const struct store_sync_summary *sum, uint64_t live, uint64_t node_zones)
{
	uint64_t pending = sum->behind + sum->deletes;
	uint64_t gap = live > node_zones ? live - node_zones : node_zones - live;
	return pending > RECON_BUCKETS_MAX && gap <= pending;
}

void sync_reconcile_walk(struct node *n, struct store *st)
{
	unsigned stray = 0;

	walk_on(n, st, &stray);
	if (stray > 0)
		log_notice("node '%s': reconciliation: %u stray zones deleted", n->name, stray);
}

void sync_reconcile(struct node *n, struct store *st)
{
	struct recon rc = { n, st, json_object(), json_object(), 0, 0 };
	struct tree_diff d = { .buckets = calloc(RECON_BUCKETS_MAX, sizeof(unsigned)) };
	unsigned stray = 0;
	uint64_t started = sync_mono_ns();

	int r = d.buckets != NULL && rc.agent != NULL && rc.ahead != NULL ? tree_diff(n, "", &d)
									  : -ENOMEM;
	uint64_t live = verify_live_zones(n->s->w);
	bool catching_up = false;
	if (r == ERR_TOO_LARGE) {
		struct store_sync_summary sum = { 0 };
		catching_up = store_sync_summary(st, n->id, &live, &sum) < 0 ||
			      pushes_explain(&sum, live, d.node_zones);
		free(sum.last_error);
	}
	if (r == ERR_TOO_LARGE && catching_up) {
		/* A node far behind with pushes on their way (a full sync): the
		 * differences are those pushes. */
		log_debug("node '%s': reconciliation: %llu zones against %llu, pushes pending; "
			  "skipped",
			  n->name, (unsigned long long)d.node_zones, (unsigned long long)live);
		d.n = 0;
		r = 0;
	} else if (r == ERR_TOO_LARGE) {
		/* Nothing pending, yet most of it differs. */
		d.n = 0;
		r = reconcile_far(n, st, &d, live, &stray);
	} else if (r == 0) {
		/* Close enough for the tree: the buckets show what differs. */
		n->far_theirs[0] = '\0';
		n->far_walking = false;
	}
	for (size_t i = 0; r == 0 && i < d.n; i += RECON_BUCKETS_PER_CALL) {
		size_t count = d.n - i < RECON_BUCKETS_PER_CALL ? d.n - i : RECON_BUCKETS_PER_CALL;
		r = reconcile_buckets(n, st, d.buckets + i, count, &rc, &stray);
	}
	json_decref(rc.agent);
	json_decref(rc.ahead);
	free(d.buckets);
	atomic_store(&n->c.reconcile_ns, sync_mono_ns() - started);
	atomic_fetch_add(&n->c.reconciles, 1);
	if (rc.fixed || stray)
		log_notice(
		    "node '%s': reconciliation: %zu buckets differed (%u requests), %u zones "
		    "to push again (%u with other content), %u stray zones deleted",
		    n->name, d.n, d.requests, rc.fixed, rc.drift, stray);
	else if (d.n > 0)
		log_debug("node '%s': reconciliation: %zu buckets differed, all on their way",
			  n->name, d.n);
}
