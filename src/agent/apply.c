#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "backend.h"
#include "base/err.h"
#include "base/log.h"
#include "dnssec.h"
#include "pdns.h"
#include "repurge.h"
#include "supervise.h"
#include "xfr.h"
#include "xfrn.h"

/* Zones per backend transaction in a batch: large enough that commits and
 * cache purges are rare, small enough that PowerDNS's readers never wait
 * long and a killed agent loses little work. */
#define BATCH_TXN_ZONES 500
/* Up to this many zones in a batch transaction, caches are purged zone by
 * zone; above it, all at once. One purge costs PowerDNS about 0.3 ms of CPU
 * whatever it covers (measured through its API), and a batch of more than
 * a few zones comes from a stream of changes or a full sync. */
#define PURGE_EACH_MAX 2

/* MASTER when PowerDNS has secondaries to notify of the zone (the node's
 * also-notify), which it does for no other kind; NATIVE otherwise. The
 * zone's own secondaries are notified by the agent (xfrn.h). */
static const char *zone_kind(const struct agent *a)
{
	return a->notify_enabled ? "MASTER" : "NATIVE";
}

static void mark_down(struct agent *a, const char *why)
{
	if (atomic_exchange(&a->pdns_up, false))
		log_warn("powerdns state up -> down: %s", why);
	pthread_mutex_lock(&a->state_lock);
	snprintf(a->pdns_error, sizeof(a->pdns_error), "%s", why);
	pthread_mutex_unlock(&a->state_lock);
}

int apply_check_pdns(struct agent *a, struct errmsg *err)
{
	char version[64], why[256];

	/* Ask, rather than trust the last health check: a change PowerDNS
	 * cannot take at once is refused before anything is written. The
	 * pdns_server the agent runs is asked of the kernel, which knows at
	 * once that it died or was stopped; a request to PowerDNS's API would
	 * cost it a connection and a thread (about 1 ms of its CPU per push, a
	 * third of what a push costs it). One that hangs while running is the
	 * supervisor's to find. An operator's PowerDNS is asked over its API. */
	if (!atomic_load(&a->pdns_up))
		return errmsg_set(err, ERR_UNAVAILABLE,
				  "powerdns is not running; nothing was changed");
	int running = supervise_pdns_state(a, why, sizeof(why));
	if (running == 1 || (running < 0 && pdns_ping(a->pdns, version, sizeof(version)) == 0))
		return 0;
	if (running < 0)
		pdns_last_error(why, sizeof(why));
	mark_down(a, why);
	return errmsg_set(err, ERR_UNAVAILABLE, "powerdns is not running; nothing was changed");
}

/* Make PowerDNS serve what was committed for 'zone': read its keys and
 * DNSSEC metadata again when they changed ('refresh'), rectify signed zones,
 * purge the caches, clear the dirty flag. Called with db_lock held. */
static int publish(struct agent *a, const char *zone, bool refresh, struct errmsg *err)
{
	bool is_signed = false;
	char kind[16];
	int r = refresh ? pdns_dnssec_refresh(a->pdns, zone) : 0;
	if (r == 0)
		r = backend_zone_info(a->db, zone, &is_signed, kind, sizeof(kind));
	if (r == 0 && is_signed)
		r = pdns_rectify(a->pdns, zone);
	if (r == 0 || r == -ENOENT)
		r = pdns_flush(a->pdns, zone);
	if (r == 0)
		repurge_add(a->repurge, zone);
	if (r < 0) {
		char why[256];
		pdns_last_error(why, sizeof(why));
		if (r == ERR_UNAVAILABLE)
			mark_down(a, why);
		errmsg_set(
		    err, 0,
		    "committed, but powerdns did not take it (%s); it is served once powerdns "
		    "answers again",
		    why);
		atomic_store(&a->dirty, true);
		return ERR_UNAVAILABLE;
	}
	return backend_zone_mark_clean(a->db, zone);
}

/* With db_lock held: keep the zone count that /health reports current
 * without making /health wait for the database. */
static void count_zones(struct agent *a)
{
	uint64_t zones;
	if (backend_counts(a->db, &zones, NULL) == 0)
		atomic_store(&a->zones, zones);
}

void apply_count_zones(struct agent *a)
{
	pthread_mutex_lock(&a->db_lock);
	count_zones(a);
	pthread_mutex_unlock(&a->db_lock);
}

/* 'own': the zone has secondaries of its own (zone.transfer). Both kinds
 * are told once the caches cannot hold the old SOA any more (xfrn.h). */
static void notify(struct agent *a, const char *zone, bool own)
{
	xfrn_queue(a->xfrn, zone, own, a->notify_enabled);
}

/* Publish a zone left dirty by a publish that failed, and send the
 * NOTIFYs that failure held back (to the secondaries its stored transfer
 * settings name), unless the zone is gone. Which zones had their keys
 * changed is not known: all are read again. With db_lock held. */
static int publish_dirty(struct agent *a, const char *zone, struct errmsg *err)
{
	struct zone_state st;
	int r = publish(a, zone, true, err);
	if (r < 0 || backend_zone_state(a->db, zone, &st) < 0 || !st.exists)
		return r;
	json_t *t = xfr_read(a, zone);
	notify(a, zone, xfr_notifies(t));
	json_decref(t);
	return 0;
}

/* Whether a push at 'version' with content 'digest' must be written over
 * the zone in state 'st': when it is newer, or when it is the version the
 * node holds, the backend does not hold that content, and it no longer
 * holds what the agent applied either (an edit behind the agent's back, a
 * zone deleted there, a delete without a version such as a node's purge,
 * which keeps the applied digest). A push of the version the node holds
 * with other content than the node applied and still holds is a
 * conflicting duplicate and changes nothing. Only a push of the version
 * the node holds reads the zone's records. 'held' gets the digest of what
 * the zone holds now. */
static int must_write(struct agent *a, const char *zone, const struct zone_state *st,
		      uint64_t version, const char *digest, char held[ZONE_DIGEST_HEX], bool *ret)
{
	*ret = false;
	snprintf(held, ZONE_DIGEST_HEX, "%s", st->digest);
	if (!st->known || version > st->version) {
		*ret = true;
		return 0;
	}
	if (version < st->version)
		return 0;
	int r = backend_zone_held_digest(a->db, zone, held);
	/* Verification marked it (its records, keys or DNSSEC parameters
	 * changed behind the agent): written again even if its records are
	 * right again. */
	bool live = !(st->deleted && !st->exists);
	bool marked = live && strcmp(st->digest, ZONE_DIGEST_DRIFTED) == 0;
	/* It holds the pushed content though it recorded something else (a
	 * zone written before digests): record it, so its tree agrees with
	 * the controller's again. */
	if (r == 0 && !marked && live && strcmp(held, digest) == 0 && strcmp(held, st->digest) != 0)
		r = backend_zone_set_digest(a->db, zone, held);
	if (r < 0 || (!marked && (strcmp(held, digest) == 0 || strcmp(held, st->digest) == 0)))
		return r;
	*ret = true;
	if (marked && strcmp(held, digest) == 0) {
		/* counted as drift when verification marked it */
		log_notice("zone '%s': version %llu written again, as verification found its "
			   "backend changed",
			   zone, (unsigned long long)version);
	} else if (st->exists || !st->deleted) {
		atomic_fetch_add(&a->stats.drift, 1);
		log_warn(
		    "zone '%s': the backend does not hold version %llu as pushed (digest %.12s, "
		    "pushed %.12s); writing it again",
		    zone, (unsigned long long)version, held[0] ? held : "none", digest);
	}
	return 0;
}

static int txn_fail(struct agent *a, int r, const char *what, struct errmsg *err)
{
	backend_rollback(a->db);
	return errmsg_set(err, r, "%s: %s", what, err_str(r));
}

void apply_zone_view(const struct zone_push *p, struct backend_rr *rrs, struct backend_zone *ret)
{
	for (size_t i = 0; i < p->data.n; i++) {
		const struct rr *rr = &p->data.rrs[i];
		rrs[i] = (struct backend_rr){ rr->owner, rr->type, rr->ttl, rr->content,
					      zone_rr_is_auth(&p->data, i) };
	}
	*ret = (struct backend_zone){ p->data.origin, rrs,  p->data.n, p->version,
				      p->serial,      NULL, NULL,      NULL };
}

int apply_push(struct agent *a, const struct zone_push *p, struct apply_result *res,
	       struct errmsg *err)
{
	const char *zone = p->data.origin;
	struct zone_state st;
	int r = apply_check_pdns(a, err);
	if (r < 0)
		return r;

	struct backend_rr *rrs = malloc(p->data.n * sizeof(*rrs) + 1);
	struct backend_zone z;
	char digest[ZONE_DIGEST_HEX], held[ZONE_DIGEST_HEX];
	bool write = false;
	if (rrs == NULL)
		return errmsg_set(err, -ENOMEM, "out of memory");
	apply_zone_view(p, rrs, &z);
	r = backend_zone_digest(&z, digest);
	if (r < 0) {
		free(rrs);
		return errmsg_set(err, r, "digest: %s", err_str(r));
	}
	z.digest = digest;

	pthread_mutex_lock(&a->db_lock);
	r = backend_zone_state(a->db, zone, &st);
	if (r == 0)
		r = must_write(a, zone, &st, p->version, digest, held, &write);
	if (r < 0) {
		free(rrs);
		errmsg_set(err, 0, "reading zone state: %s", err_str(r));
		goto out;
	}
	if (!write) {
		free(rrs);
		res->applied = false;
		res->version = st.version;
		res->serial = st.serial;
		res->domain_id = 0;
		res->deleted = st.deleted && !st.exists;
		snprintf(res->digest, sizeof(res->digest), "%s", held);
		if (st.dirty)
			r = publish_dirty(a, zone, err);
		goto out;
	}
	/* The zone's keys and DNSSEC metadata go in with its records. Keys
	 * PowerDNS could not use fail the push, and it is sent again; a zone
	 * new to this node is written at a version any retry beats, unsigned. */
	bool refresh = false;
	if (p->dnssec != NULL && (r = dnssec_check(p->dnssec, err)) < 0) {
		if (!st.exists) {
			z.version = st.known ? st.version : 0;
			int w = backend_begin(a->db);
			if (w == 0)
				w = backend_zone_replace(a->db, &z, zone_kind(a), &res->domain_id);
			if (w == 0)
				w = backend_commit(a->db);
			if (w < 0)
				r = txn_fail(a, w, "writing the zone", err);
		}
		free(rrs);
		goto out;
	}
	r = backend_begin(a->db);
	if (r == 0)
		r = backend_zone_replace(a->db, &z, zone_kind(a), &res->domain_id);
	if (r == 0 && p->dnssec != NULL)
		r = dnssec_write(a, zone, p->dnssec, &refresh, err);
	if (r == 0 && (r = dnssec_presigned_write(a, &z, st.exists)) >= 0) {
		refresh = refresh || r == 0;
		r = 0;
	}
	free(rrs);
	/* PowerDNS caches metadata: read again, like DNSSEC's. */
	if (r == 0 && p->transfer != NULL && (r = xfr_write(a, zone, p->transfer, err)) >= 0) {
		refresh = refresh || r == 0;
		r = 0;
	}
	if (r == 0)
		r = backend_commit(a->db);
	if (r < 0) {
		r = txn_fail(a, r, "writing the zone", err);
		goto out;
	}
	res->applied = true;
	res->version = p->version;
	res->serial = p->serial;
	res->repaired = st.known && st.version == p->version;
	snprintf(res->digest, sizeof(res->digest), "%s", digest);
	if (!st.exists)
		atomic_fetch_add(&a->zones, 1);
	r = publish(a, zone, refresh, err);
	if (r == 0)
		notify(a, zone, xfr_notifies(p->transfer));
out:
	pthread_mutex_unlock(&a->db_lock);
	return r;
}

/* What a delete of 'zone' at 'version' (0: unconditional) has to do, read
 * with db_lock held: nothing (*ret_skip: a newer version stands, its
 * version in *ret_kept when the node serves it, or the zone is gone
 * already), or remove it, through PowerDNS's API first when *ret_via_api. */
static int delete_plan(struct agent *a, const char *zone, uint64_t version, struct zone_state *st,
		       bool *ret_skip, bool *ret_via_api, uint64_t *ret_kept, struct errmsg *err)
{
	*ret_skip = true;
	*ret_via_api = false;
	*ret_kept = 0;
	int r = backend_zone_state(a->db, zone, st);
	if (r < 0)
		return errmsg_set(err, r, "reading zone state: %s", err_str(r));
	if (version != 0 && st->known && st->version > version) {
		/* a newer push already replaced what this delete meant */
		*ret_kept = st->exists ? st->version : 0;
		return 0;
	}
	if (!st->exists && st->deleted && (version == 0 || version <= st->version))
		return 0; /* already gone */
	*ret_skip = false;
	/* PowerDNS's API removes the zone with its keys and metadata and
	 * clears the key and metadata caches, which a database delete would
	 * leave behind for a zone created again under the same name. A zone
	 * with neither (most zones) has nothing there that a later write of a
	 * key or of metadata would not clear (the agent has PowerDNS read both
	 * again then), so a managed node deletes it in the database alone: the
	 * API's delete costs PowerDNS a connection and a thread of its own, a
	 * mass delete 2.5 times as long. An external PowerDNS may keep a
	 * zone cache, which only the API's delete clears. */
	*ret_via_api = st->exists && !agent_is_managed(a);
	if (st->exists && !*ret_via_api &&
	    (r = backend_zone_extras(a->db, zone, ret_via_api)) < 0 && r != -ENOENT)
		return errmsg_set(err, r, "reading the zone's keys and metadata: %s", err_str(r));
	return 0;
}

static int delete_via_api(struct agent *a, const char *zone, struct errmsg *err)
{
	int r = pdns_zone_delete(a->pdns, zone);
	if (r < 0 && r != -ENOENT) {
		char why[256];
		pdns_last_error(why, sizeof(why));
		return errmsg_set(err, r, "deleting the zone '%s' in powerdns: %s", zone, why);
	}
	return 0;
}

static void count_deleted(struct agent *a, uint64_t n)
{
	uint64_t z = atomic_load(&a->zones);
	while (n > 0 && !atomic_compare_exchange_weak(&a->zones, &z, z > n ? z - n : 0))
		;
}

/* Within a transaction: leave 'zone' (state 'st') deleted at 'version',
 * or, unconditionally (0), at the version it had. Without a version the
 * delete says nothing of the controller's intent (a purge, a stray zone):
 * the applied digest stays, so a push of the version the node held brings
 * the zone back. */
static int delete_row(struct agent *a, const char *zone, uint64_t version,
		      const struct zone_state *st)
{
	int r = backend_zone_delete(a->db, zone, version ? version : st->version);
	if (r == 0 && version == 0 && st->known && !st->deleted)
		r = backend_zone_set_digest(a->db, zone, st->digest);
	return r;
}

/* apply_delete() with db_lock held. */
static int delete_one(struct agent *a, const char *zone, uint64_t version, bool *ret_deleted,
		      uint64_t *ret_kept, struct errmsg *err)
{
	struct zone_state st;
	bool skip, via_api;

	*ret_deleted = false;
	int r = delete_plan(a, zone, version, &st, &skip, &via_api, ret_kept, err);
	if (r < 0 || skip)
		return r;
	if (via_api && (r = delete_via_api(a, zone, err)) < 0)
		return r;
	r = backend_begin(a->db);
	if (r == 0)
		r = delete_row(a, zone, version, &st);
	if (r == 0)
		r = backend_commit(a->db);
	if (r < 0)
		return txn_fail(a, r, "deleting the zone", err);
	*ret_deleted = st.exists;
	count_deleted(a, st.exists);
	return publish(a, zone, false, err);
}

int apply_delete(struct agent *a, const char *zone, uint64_t version, bool *ret_deleted,
		 uint64_t *ret_kept, struct errmsg *err)
{
	*ret_deleted = false;
	*ret_kept = 0;
	int r = apply_check_pdns(a, err);
	if (r < 0)
		return r;
	pthread_mutex_lock(&a->db_lock);
	r = delete_one(a, zone, version, ret_deleted, ret_kept, err);
	pthread_mutex_unlock(&a->db_lock);
	return r;
}

struct name_list {
	char **names;
	size_t n, alloc;
};

static int name_list_add(struct name_list *l, const char *name)
{
	if (l->n == l->alloc) {
		size_t n = l->alloc ? 2 * l->alloc : 64;
		char **z = realloc(l->names, n * sizeof(*z));
		if (z == NULL)
			return -ENOMEM;
		l->names = z;
		l->alloc = n;
	}
	l->names[l->n] = strdup(name);
	return l->names[l->n++] ? 0 : -ENOMEM;
}

static void name_list_clear(struct name_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	memset(l, 0, sizeof(*l));
}

/* What one batch transaction changed, for batch_publish(). */
struct batch_changes {
	struct name_list refresh;    /* zones whose keys or DNSSEC metadata changed */
	struct name_list to_rectify; /* signed zones */
	struct name_list zones;	     /* every zone, up to PURGE_EACH_MAX */
	struct name_list notify;     /* zones with secondaries of their own */
	bool many;		     /* more than that: purge everything */
	uint64_t created;	     /* zones new to PowerDNS */
	int refused;		     /* the first zone whose keys could not be used */
	struct errmsg refused_err;
};

static void batch_changes_clear(struct batch_changes *bc)
{
	name_list_clear(&bc->refresh);
	name_list_clear(&bc->to_rectify);
	name_list_clear(&bc->zones);
	name_list_clear(&bc->notify);
	bc->many = false;
}

/* What the batch's answer says of one zone: the digest of what it holds
 * now, and, when a newer version or delete kept the push out, that state. */
static int report_zone(json_t *report, const struct backend_zone *z, const struct zone_state *st,
		       bool written, const char *digest, const char *held)
{
	if (report == NULL)
		return 0;
	json_t *digests = json_object_get(report, "digests");
	if (json_object_set_new(digests, z->origin, json_string(written ? digest : held)) < 0)
		return -ENOMEM;
	if (written && st->known && st->version == z->version &&
	    json_array_append_new(json_object_get(report, "repaired"), json_string(z->origin)) < 0)
		return -ENOMEM;
	/* Kept out: a newer version or delete, or the same version with other
	 * content that the node applied and still holds (the controller's
	 * content for that version changed: it raises the zone's version). */
	if (written || (st->version < z->version && !(st->deleted && !st->exists)) ||
	    strcmp(held, digest) == 0)
		return 0;
	json_t *o = json_pack("{s:s,s:I,s:b}", "zone", z->origin, "version",
			      (json_int_t)st->version, "deleted", st->deleted && !st->exists);
	return json_array_append_new(json_object_get(report, "blocked"), o) == 0 ? 0 : -ENOMEM;
}

/* Write one zone of a batch: its records, and its keys and DNSSEC
 * metadata if it carries them. A zone whose keys could not be used is left
 * as the node holds it, as a single push leaves it, or, new to the node,
 * written at a version any retry beats, unsigned; the batch answers with
 * the first such refusal. */
static int batch_zone(struct agent *a, struct backend_zone *z, const struct zone_state *st,
		      struct batch_changes *bc, bool *applied)
{
	bool refresh = false, is_signed = false;
	char kind[16];
	struct errmsg msg;
	json_t *cfg = NULL;
	struct backend_zone w = *z;
	int r = 0;

	*applied = true;
	if (z->dnssec != NULL) {
		cfg = json_loads(z->dnssec, 0, NULL);
		r = cfg ? dnssec_check(cfg, &msg) : -ENOMEM;
		if (r < 0 && r != -ENOMEM) {
			if (bc->refused == 0) {
				bc->refused = r;
				errmsg_set(&bc->refused_err, 0, "zone '%.200s': %.280s", z->origin,
					   msg.text);
			}
			w.version = st->known ? st->version : 0;
			json_decref(cfg);
			cfg = NULL;
			*applied = false;
			r = 0;
			if (st->exists)
				return 0;
		}
	}
	json_t *xfr = z->transfer != NULL ? json_loads(z->transfer, 0, NULL) : NULL;
	if (r == 0 && z->transfer != NULL && xfr == NULL)
		r = -ENOMEM;
	if (r == 0)
		r = backend_zone_replace(a->db, &w, zone_kind(a), NULL);
	if (r == 0 && cfg != NULL)
		r = dnssec_write(a, z->origin, cfg, &refresh, &msg);
	if (r == 0 && (r = dnssec_presigned_write(a, &w, st->exists)) >= 0) {
		refresh = refresh || r == 0;
		r = 0;
	}
	if (r == 0 && xfr != NULL && (r = xfr_write(a, z->origin, xfr, &msg)) >= 0) {
		refresh = refresh || r == 0;
		r = 0;
	}
	if (r == 0 && xfr_notifies(xfr))
		r = name_list_add(&bc->notify, z->origin);
	json_decref(xfr);
	json_decref(cfg);
	if (r == 0 && refresh)
		r = name_list_add(&bc->refresh, z->origin);
	if (r == 0 && (st->exists || refresh))
		r = backend_zone_info(a->db, z->origin, &is_signed, kind, sizeof(kind));
	if (r == 0 && is_signed)
		r = name_list_add(&bc->to_rectify, z->origin);
	if (r == 0 && bc->zones.n < PURGE_EACH_MAX)
		r = name_list_add(&bc->zones, z->origin);
	else
		bc->many = true;
	return r;
}

/* Read the states of the next zones of the batch, up to 'left' of them
 * (what remains of the transaction: the window ends with it), in one
 * statement. *fetched counts the zones read ahead. */
static int batch_prefetch(struct agent *a, apply_ahead_fn ahead, void *ctx, unsigned left,
			  unsigned *fetched)
{
	const char *names[BACKEND_PREFETCH_MAX];
	size_t n = ahead(ctx, names, left < BACKEND_PREFETCH_MAX ? left : BACKEND_PREFETCH_MAX);
	*fetched += (unsigned)n;
	return n > 0 ? backend_zone_state_prefetch(a->db, names, n) : 0;
}

/* One transaction of a batch: up to BATCH_TXN_ZONES pushes. Returns 1 if
 * pushes remain, 0 at the end, or an error. */
static int batch_txn(struct agent *a, apply_next_fn next, apply_ahead_fn ahead, void *ctx,
		     struct batch_changes *bc, json_t *report, uint64_t *applied,
		     uint64_t *unchanged, uint64_t *records, struct errmsg *err)
{
	struct backend_zone z;
	unsigned done = 0, fetched = 0;
	uint64_t changed = 0;
	int more = 1;

	int r = backend_begin(a->db);
	while (r == 0 && done < BATCH_TXN_ZONES) {
		if (ahead != NULL && done == fetched)
			r = batch_prefetch(a, ahead, ctx, BATCH_TXN_ZONES - done, &fetched);
		if (r < 0 || (more = next(ctx, &z)) != 1)
			break;
		struct zone_state st;
		bool write = false, ok = false;
		char digest[ZONE_DIGEST_HEX], held[ZONE_DIGEST_HEX];
		r = backend_zone_digest(&z, digest);
		z.digest = digest;
		if (r == 0)
			r = backend_zone_state(a->db, z.origin, &st);
		if (r == 0)
			r = must_write(a, z.origin, &st, z.version, digest, held, &write);
		if (r == 0)
			r = report_zone(report, &z, &st, write, digest, held);
		if (r == 0 && write) {
			r = batch_zone(a, &z, &st, bc, &ok);
			changed += ok;
			bc->created += !st.exists;
			*records += z.n;
		} else if (r == 0) {
			(*unchanged)++;
		}
		done++;
	}
	if (more < 0 && r == 0)
		r = more;
	if (r == 0)
		r = backend_commit(a->db);
	if (r < 0)
		return txn_fail(a, r, "writing the batch", err);
	*applied += changed;
	return more == 1 ? 1 : 0;
}

/* After a batch transaction: rectify the signed zones it changed, purge
 * the caches (zone by zone for a few zones, as a single push does; all at
 * once for a full sync, where per-zone calls would cost more than the
 * transaction) and clear the dirty flags. The zone cache is off in managed
 * mode, so new zones need nothing more. */
static int batch_publish(struct agent *a, struct batch_changes *bc, struct errmsg *err)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < bc->refresh.n; i++)
		r = pdns_dnssec_refresh(a->pdns, bc->refresh.names[i]);
	for (size_t i = 0; r == 0 && i < bc->to_rectify.n; i++)
		r = pdns_rectify(a->pdns, bc->to_rectify.names[i]);
	if (r == 0 && bc->many && (r = pdns_flush(a->pdns, ".")) == 0)
		repurge_add(a->repurge, ".");
	for (size_t i = 0; r == 0 && !bc->many && i < bc->zones.n; i++)
		if ((r = pdns_flush(a->pdns, bc->zones.names[i])) == 0)
			repurge_add(a->repurge, bc->zones.names[i]);
	for (size_t i = 0; r == 0 && i < bc->notify.n; i++)
		notify(a, bc->notify.names[i], true);
	batch_changes_clear(bc);
	if (r < 0) {
		char why[256];
		pdns_last_error(why, sizeof(why));
		if (r == ERR_UNAVAILABLE)
			mark_down(a, why);
		errmsg_set(err, 0, "committed, but powerdns did not take it (%s)", why);
		atomic_store(&a->dirty, true);
		return ERR_UNAVAILABLE;
	}
	/* Zones an earlier publish left dirty are not this batch's to clear:
	 * apply_flush_dirty() publishes them (and this batch's again). */
	return atomic_load(&a->dirty) ? 0 : backend_mark_all_clean(a->db);
}

static int collect_dirty(const char *zone, const struct zone_state *st, void *ctx)
{
	return st->dirty ? name_list_add(ctx, zone) : 0;
}

/* apply_flush_dirty() with db_lock held. The flag is taken under it: a
 * batch that sees it clear may clear every zone's dirty flag
 * (batch_publish()). */
static int flush_dirty(struct agent *a)
{
	struct name_list l = { 0 };
	struct errmsg err;

	/* Listing every zone is what this costs, so only when a purge failed
	 * (or at start-up, after a crash may have left one undone). */
	if (!atomic_exchange(&a->dirty, false))
		return 0;
	int r = backend_zone_foreach(a->db, collect_dirty, &l);
	/* A zone PowerDNS refuses does not keep the others unpublished; a
	 * PowerDNS that does not answer at all ends the round (each zone would
	 * wait its timeouts with db_lock held). */
	for (size_t i = 0; i < l.n && atomic_load(&a->pdns_up); i++) {
		int p = publish_dirty(a, l.names[i], &err);
		r = r < 0 ? r : p;
	}
	if (r < 0 || !atomic_load(&a->pdns_up))
		atomic_store(&a->dirty, true);
	name_list_clear(&l);
	return r;
}

/* The start of a batch: PowerDNS runs, db_lock is taken (0), and what an
 * earlier failure left dirty goes first, so that the batch may clear every
 * dirty flag after its own publish (batch_publish()): otherwise each of
 * its zones would stay dirty and be published once more, one by one. */
static int batch_start(struct agent *a, struct errmsg *err)
{
	int r = apply_check_pdns(a, err);
	if (r < 0)
		return r;
	pthread_mutex_lock(&a->db_lock);
	if (atomic_load(&a->dirty))
		(void)flush_dirty(a);
	return 0;
}

int apply_batch(struct agent *a, apply_next_fn next, apply_ahead_fn ahead, void *ctx,
		json_t *report, uint64_t *ret_applied, uint64_t *ret_unchanged,
		uint64_t *ret_records, struct errmsg *err)
{
	struct batch_changes bc = { 0 };

	/* A zone whose keys cannot be used does not stop the batch: the others
	 * are applied, and the batch answers with the first refusal. */
	*ret_applied = *ret_unchanged = *ret_records = 0;
	int r = batch_start(a, err);
	if (r < 0)
		return r;
	do {
		uint64_t before = *ret_applied;
		r = batch_txn(a, next, ahead, ctx, &bc, report, ret_applied, ret_unchanged,
			      ret_records, err);
		if (r >= 0 && (*ret_applied > before || bc.zones.n > 0 || bc.many)) {
			int p = batch_publish(a, &bc, err);
			r = p < 0 ? p : r;
		}
	} while (r == 1);
	if (r >= 0 && bc.refused < 0) {
		errmsg_set(err, 0, "%s", bc.refused_err.text);
		r = bc.refused;
	}
	/* Counted, not counted again: a count of every zone costs a scan of
	 * PowerDNS's domains, which at a million zones after every batch was
	 * most of a full sync's time. */
	atomic_fetch_add(&a->zones, bc.created);
	pthread_mutex_unlock(&a->db_lock);
	batch_changes_clear(&bc);
	return r < 0 ? r : 0;
}

/* One transaction of a delete batch: the zones [0, n) of 'd' that need no
 * call of PowerDNS's API (their 'via_api' is set for the caller); in
 * *ret_written the tombstones it wrote. */
static int delete_txn(struct agent *a, struct apply_delete_zone *d, size_t n,
		      struct batch_changes *bc, size_t *ret_written, struct errmsg *err)
{
	uint64_t gone = 0;
	size_t written = 0;
	int r = backend_begin(a->db);
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct zone_state st;
		bool skip = true;
		if (i % BACKEND_PREFETCH_MAX == 0) {
			const char *names[BACKEND_PREFETCH_MAX];
			size_t k;
			for (k = 0; k < BACKEND_PREFETCH_MAX && i + k < n; k++)
				names[k] = d[i + k].zone;
			r = backend_zone_state_prefetch(a->db, names, k);
		}
		if (r == 0)
			r = delete_plan(a, d[i].zone, d[i].version, &st, &skip, &d[i].via_api,
					&d[i].kept, err);
		if (r < 0 || skip || d[i].via_api)
			continue;
		r = delete_row(a, d[i].zone, d[i].version, &st);
		d[i].deleted = st.exists;
		gone += st.exists;
		written++;
		if (r == 0 && st.exists && bc->zones.n < PURGE_EACH_MAX)
			r = name_list_add(&bc->zones, d[i].zone);
		else if (st.exists)
			bc->many = true;
	}
	if (r == 0)
		r = backend_commit(a->db);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			d[i].deleted = false;
		return txn_fail(a, r, "deleting the zones", err);
	}
	count_deleted(a, gone);
	*ret_written = written;
	return 0;
}

int apply_delete_batch(struct agent *a, struct apply_delete_zone *d, size_t n, struct errmsg *err)
{
	struct batch_changes bc = { 0 };
	int r = batch_start(a, err);
	if (r < 0)
		return r;
	for (size_t from = 0; r == 0 && from < n; from += BATCH_TXN_ZONES) {
		size_t count = n - from < BATCH_TXN_ZONES ? n - from : BATCH_TXN_ZONES;
		size_t written = 0;
		r = delete_txn(a, d + from, count, &bc, &written, err);
		if (r == 0 && (bc.zones.n > 0 || bc.many))
			r = batch_publish(a, &bc, err);
		else if (r == 0 && written > 0 && !atomic_load(&a->dirty))
			/* Only tombstones of zones PowerDNS did not serve:
			 * nothing to purge, and they must not stay dirty (a
			 * flush would publish each of them one by one). */
			r = backend_mark_all_clean(a->db);
		/* The zones with keys or metadata, and every zone in external
		 * mode, go through PowerDNS's API one by one. */
		for (size_t i = from; r == 0 && i < from + count; i++)
			if (d[i].via_api)
				r = delete_one(a, d[i].zone, d[i].version, &d[i].deleted,
					       &d[i].kept, err);
	}
	pthread_mutex_unlock(&a->db_lock);
	batch_changes_clear(&bc);
	return r;
}

int apply_flush_dirty(struct agent *a)
{
	pthread_mutex_lock(&a->db_lock);
	int r = flush_dirty(a);
	pthread_mutex_unlock(&a->db_lock);
	return r;
}
