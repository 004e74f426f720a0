/* The store's SQL (queries.h). Column lists and the shared halves of
 * statements are macros so that every statement reading a row names its
 * columns in the order the row readers in store_*.c expect. */
#include "store/queries.h"

#define SERVER_COLS                                                                           \
	"id, name, hostname, ip, agent_port, agent_secret, in_cluster, status, pdns_version," \
	" last_error, last_seen, created_at"
#define ZONE_COLS                                                                        \
	"id, domain, user_id, server_id, version, serial, deleted, dnssec, created_at, " \
	"updated_at,"                                                                    \
	" rdigest, bucket, soa, pdns, life"
#define RECORD_COLS "id, zone_id, name, type, content, ttl, priority, created_at, disabled"
#define DNSSEC_COLS                                                                        \
	"zone_id, enabled, algorithm, scheme, nsec3, nsec3_optout, signed_at, updated_at," \
	" roll_kind, roll_step, roll_next_at, roll_version, roll_ds_at, roll_wait"
#define KEY_COLS                                                                                  \
	"id, zone_id, keytype, algorithm, flags, keytag, dnskey, private_key, active, published," \
	" created_at"
#define VERSION_COLS                                                                          \
	"id, zone_id, version, serial, created_at, actor, action, summary, rdigest, deleted," \
	" record_count, soa"
#define TSIG_COLS "id, name, algorithm, secret, created_at, updated_at"
#define AUDIT_COLS "id, created_at, actor, action, zone_id, zone, version, detail"
/* The tail of an audit page: the filters (zone, actor, action; "" is any),
 * the id range that 'since' and 'until' became, the times themselves
 * (exact at the edges) and the page size. */
#define AUDIT_TAIL                                                                   \
	" (? = '' OR zone = ?) AND (? = '' OR actor = ?) AND (? = '' OR action = ?)" \
	" AND id >= ? AND id < ? AND created_at >= ? AND created_at <= ?"            \
	" ORDER BY id DESC LIMIT ?"
#define SYNC_COLS \
	"server_id, zone_id, desired, applied, attempts, next_attempt_ms, last_error, updated_at"
#define SYNC_INSERT                                                                             \
	"INSERT INTO node_zone_state (server_id, zone_id, desired, applied, pending, attempts," \
	" next_attempt_ms, last_error, updated_at) "

/* The update half of both "want" upserts. desired never goes down (a late
 * want for an older version changes nothing); a row that becomes pending
 * gets a fresh updated_at, one already pending keeps its place in the
 * queue. Every expression reads only the old row: MySQL evaluates the
 * assignments left to right with the new values, SQLite with the old. */
#define SYNC_UPSERT                                                               \
	" {UPSERT:server_id, zone_id}"                                            \
	" updated_at = CASE WHEN node_zone_state.pending = 1"                     \
	" OR {NEW:desired} <= node_zone_state.desired"                            \
	" THEN node_zone_state.updated_at ELSE {NEW:updated_at} END,"             \
	" pending = CASE WHEN {GREATEST}(node_zone_state.desired, {NEW:desired})" \
	" > node_zone_state.applied THEN 1 ELSE 0 END,"                           \
	" desired = {GREATEST}(node_zone_state.desired, {NEW:desired})"

#define SYNC_PENDING_TAIL                                    \
	" AND (next_attempt_ms <= ? OR next_attempt_ms > ?)" \
	" ORDER BY updated_at, server_id, zone_id LIMIT ?"
/* The rows of live zones, those behind, those failing, the oldest pending
 * row (deletes too) and the deletes pending: the counts are of live zones
 * only, what a deleted zone still waits for is counted apart. */
#define SYNC_SUMMARY_COLS                                                                 \
	"SELECT COALESCE(SUM(CASE WHEN z.deleted = 0 THEN 1 ELSE 0 END), 0),"             \
	" COALESCE(SUM(CASE WHEN n.pending = 1 AND z.deleted = 0 THEN 1 ELSE 0 END), 0)," \
	" COALESCE(SUM(CASE WHEN n.pending = 1 AND z.deleted = 0 AND n.attempts > 0"      \
	" THEN 1 ELSE 0 END), 0),"                                                        \
	" COALESCE(MIN(CASE WHEN n.pending = 1 THEN n.updated_at END), 0),"               \
	" COALESCE(SUM(CASE WHEN n.pending = 1 AND z.deleted = 1 THEN 1 ELSE 0 END), 0)"  \
	" FROM node_zone_state n JOIN dns_zones z ON z.id = n.zone_id"

const char *const store_query_sql[Q_COUNT] = {
	[Q_SERVER_INSERT] = "INSERT INTO servers (name, hostname, ip, agent_port, agent_secret,"
			    " in_cluster, status, pdns_version, last_error, last_seen, created_at)"
			    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[Q_SERVER_UPDATE] = "UPDATE servers SET name = ?, hostname = ?, ip = ?, agent_port = ?,"
			    " agent_secret = ?, in_cluster = ?, status = ?, pdns_version = ?,"
			    " last_error = ?, last_seen = ? WHERE id = ?",
	[Q_SERVER_GET] = "SELECT " SERVER_COLS " FROM servers WHERE id = ?",
	[Q_SERVER_EXISTS] = "SELECT id FROM servers WHERE id = ?",
	[Q_SERVER_DELETE_STATE] = "DELETE FROM node_zone_state WHERE server_id = ?",
	[Q_SERVER_DELETE] = "DELETE FROM servers WHERE id = ?",
	[Q_SERVER_PAGE] = "SELECT " SERVER_COLS " FROM servers WHERE id > ? ORDER BY id LIMIT ?",
	[Q_SERVER_PAGE_CLUSTER] = "SELECT " SERVER_COLS " FROM servers"
				  " WHERE id > ? AND in_cluster = 1 ORDER BY id LIMIT ?",

	/* Locks the tombstone it finds: two controllers must not both revive it. */
	[Q_ZONE_FIND] = "SELECT id, deleted, version, serial, life FROM dns_zones WHERE domain = ?"
			"{FOR_UPDATE}",
	[Q_ZONE_REVIVE] =
	    "UPDATE dns_zones SET user_id = ?, server_id = ?, version = ?, serial = ?,"
	    " deleted = 0, dnssec = ?, created_at = ?, updated_at = ?, rdigest = ?, soa = '',"
	    " pdns = '', life = ?"
	    " WHERE id = ?",
	[Q_ZONE_INSERT] = "INSERT INTO dns_zones (domain, user_id, server_id, version, serial,"
			  " deleted, dnssec, created_at, updated_at, rdigest, bucket, life)"
			  " VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)",
	[Q_ZONE_UPDATE] = "UPDATE dns_zones SET version = ?, serial = ?, deleted = ?, dnssec = ?,"
			  " user_id = ?, server_id = ?, updated_at = ?, rdigest = ?, soa = ?,"
			  " pdns = ?"
			  " WHERE id = ?",
	[Q_ZONE_SET_RDIGEST] = "UPDATE dns_zones SET rdigest = ? WHERE id = ? AND version = ?",
	[Q_ZONE_SET_BUCKET] = "UPDATE dns_zones SET bucket = ? WHERE id = ?",
	[Q_ZONE_PAGE_BUCKET] = "SELECT " ZONE_COLS " FROM dns_zones"
			       " WHERE bucket = ? AND id > ? ORDER BY id LIMIT ?",
	[Q_ZONE_GET] = "SELECT " ZONE_COLS " FROM dns_zones WHERE id = ?",
	[Q_ZONE_GET_LOCKED] = "SELECT " ZONE_COLS " FROM dns_zones WHERE id = ?{FOR_UPDATE}",
	[Q_ZONE_GET_NAME] = "SELECT " ZONE_COLS " FROM dns_zones WHERE domain = ?",
	[Q_ZONE_PAGE] = "SELECT " ZONE_COLS " FROM dns_zones"
			" WHERE id > ? AND deleted = 0 ORDER BY id LIMIT ?",
	[Q_ZONE_PAGE_ALL] = "SELECT " ZONE_COLS " FROM dns_zones WHERE id > ? ORDER BY id LIMIT ?",
	/* Two plans for a name prefix (store_zone_foreach_prefix picks one):
	 * walk the ids in order and keep the names in the range, which finds
	 * a page soon when many names match; or read the range on the unique
	 * domain index and sort it by id ('+id' keeps the id order from being
	 * chosen), which costs only the names that match. */
	[Q_ZONE_PAGE_PREFIX] =
	    "SELECT " ZONE_COLS " FROM dns_zones WHERE domain >= ? AND domain < ?"
	    " AND id > ? AND deleted = 0 ORDER BY id LIMIT ?",
	[Q_ZONE_PAGE_PREFIX_NAME] =
	    "SELECT " ZONE_COLS " FROM dns_zones WHERE domain >= ? AND domain < ?"
	    " AND +id > ? AND deleted = 0 ORDER BY +id LIMIT ?",
	[Q_ZONE_PREFIX_COUNT] = "SELECT COUNT(*) FROM (SELECT 1 FROM dns_zones"
				" WHERE domain >= ? AND domain < ? LIMIT ?) AS m",
	[Q_ZONE_PURGE] = "DELETE FROM dns_zones WHERE id = ? AND deleted = 1",
	[Q_ZONE_IS_DELETED] = "SELECT deleted FROM dns_zones WHERE id = ?",
	[Q_ZONE_EXISTS] = "SELECT id FROM dns_zones WHERE id = ?",
	[Q_PURGED_FIND] = "SELECT version, serial, life FROM dns_purged_zones WHERE domain = ?",
	[Q_PURGED_FORGET] = "DELETE FROM dns_purged_zones WHERE domain = ?",
	/* Written by a purge, with the same condition as Q_ZONE_PURGE. */
	[Q_PURGED_REMEMBER] = "INSERT INTO dns_purged_zones (domain, version, serial, life,"
			      " purged_at)"
			      " SELECT domain, version, serial, life, ? FROM dns_zones"
			      " WHERE id = ? AND deleted = 1 {UPSERT:domain}"
			      " version = {GREATEST}(dns_purged_zones.version, {NEW:version}),"
			      " serial = {NEW:serial},"
			      " life = {GREATEST}(dns_purged_zones.life, {NEW:life}),"
			      " purged_at = {NEW:purged_at}",
	[Q_ZONE_COUNT] = "SELECT COUNT(*) FROM dns_zones WHERE deleted = 0",
	[Q_RECORD_COUNT] = "SELECT COUNT(*) FROM dns_records r JOIN dns_zones z ON z.id = r.zone_id"
			   " WHERE z.deleted = 0",
	[Q_RECORD_COUNT_ZONE] = "SELECT COUNT(*) FROM dns_records WHERE zone_id = ?",

	[Q_RECORD_INSERT] = "INSERT INTO dns_records (zone_id, name, type, content, ttl, priority,"
			    " created_at, disabled) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	[Q_RECORD_UPDATE] = "UPDATE dns_records SET name = ?, type = ?, content = ?, ttl = ?,"
			    " priority = ?, disabled = ? WHERE id = ?",
	[Q_RECORD_GET] = "SELECT " RECORD_COLS " FROM dns_records WHERE id = ?",
	[Q_RECORD_DELETE] = "DELETE FROM dns_records WHERE id = ?",
	[Q_RECORD_DELETE_ZONE] = "DELETE FROM dns_records WHERE zone_id = ?",
	[Q_META_PUT] = "INSERT INTO dns_zone_meta (zone_id, kind, content) VALUES (?, ?, ?)"
		       " {UPSERT:zone_id, kind} content = {NEW:content}",
	[Q_META_GET] = "SELECT content FROM dns_zone_meta WHERE zone_id = ? AND kind = ?",
	[Q_META_LIST] = "SELECT kind, content FROM dns_zone_meta WHERE zone_id = ? ORDER BY kind",
	[Q_META_DELETE] = "DELETE FROM dns_zone_meta WHERE zone_id = ? AND kind = ?",
	[Q_META_DELETE_ZONE] = "DELETE FROM dns_zone_meta WHERE zone_id = ?",
	[Q_COMMENT_PUT] =
	    "INSERT INTO dns_rrset_comments (zone_id, name, type, content)"
	    " VALUES (?, ?, ?, ?) {UPSERT:zone_id, name, type} content = {NEW:content}",
	[Q_COMMENT_LIST] = "SELECT name, type, content FROM dns_rrset_comments WHERE zone_id = ?"
			   " ORDER BY name, type",
	[Q_COMMENT_LIST_ALL] = "SELECT c.zone_id, c.name, c.type, c.content"
			       " FROM dns_rrset_comments c JOIN dns_zones z ON z.id = c.zone_id"
			       " WHERE z.deleted = 0 ORDER BY c.zone_id, c.name, c.type",
	[Q_COMMENT_DELETE] = "DELETE FROM dns_rrset_comments WHERE zone_id = ? AND name = ?"
			     " AND type = ?",
	[Q_COMMENT_DELETE_ZONE] = "DELETE FROM dns_rrset_comments WHERE zone_id = ?",
	[Q_XFR_PUT] =
	    "INSERT INTO dns_zone_transfers (zone_id, allow_from, also_notify, updated_at)"
	    " VALUES (?, ?, ?, ?) {UPSERT:zone_id} allow_from = {NEW:allow_from},"
	    " also_notify = {NEW:also_notify}, updated_at = {NEW:updated_at}",
	[Q_XFR_GET] = "SELECT allow_from, also_notify FROM dns_zone_transfers WHERE zone_id = ?",
	[Q_XFR_DELETE] = "DELETE FROM dns_zone_transfers WHERE zone_id = ?",
	/* Live zones that follow the cluster's default (no row of their own). */
	[Q_XFR_ZONES] =
	    "SELECT z.id FROM dns_zones z WHERE z.deleted = 0 AND NOT EXISTS"
	    " (SELECT 1 FROM dns_zone_transfers t WHERE t.zone_id = z.id) ORDER BY z.id",
	[Q_XFR_ROWS] = "SELECT zone_id, allow_from FROM dns_zone_transfers WHERE zone_id > 0"
		       " ORDER BY zone_id",
	[Q_POLICY_PUT] = "INSERT INTO dns_rrset_policies (zone_id, name, type, per_record, policy)"
			 " VALUES (?, ?, ?, ?, ?) {UPSERT:zone_id, name, type}"
			 " per_record = {NEW:per_record}, policy = {NEW:policy}",
	[Q_POLICY_LIST] = "SELECT name, type, per_record, policy FROM dns_rrset_policies"
			  " WHERE zone_id = ? ORDER BY name, type",
	[Q_POLICY_DELETE] = "DELETE FROM dns_rrset_policies WHERE zone_id = ? AND name = ?"
			    " AND type = ?",
	[Q_POLICY_DELETE_ZONE] = "DELETE FROM dns_rrset_policies WHERE zone_id = ?",
	[Q_RECORD_PAGE] = "SELECT " RECORD_COLS " FROM dns_records"
			  " WHERE zone_id = ? AND id > ? ORDER BY id LIMIT ?",
	/* A range on the primary key: every record, a page at a time. */
	[Q_RECORD_PAGE_ALL] = "SELECT " RECORD_COLS " FROM dns_records"
			      " WHERE id > ? ORDER BY id LIMIT ?",

	[Q_SYNC_WANT_ALL] = SYNC_INSERT "SELECT id, ?, ?, 0, ?, 0, 0, NULL, ? FROM servers"
					" WHERE in_cluster = 1" SYNC_UPSERT,
	[Q_SYNC_WANT_SERVER] = SYNC_INSERT
	"SELECT ?, id, version, 0, CASE WHEN version > 0 THEN 1 ELSE 0 END, 0, 0, NULL, ?"
	" FROM dns_zones WHERE id > 0" SYNC_UPSERT,
	[Q_SYNC_ACK] = "UPDATE node_zone_state SET"
		       " pending = CASE WHEN desired > {GREATEST}(applied, ?) THEN 1 ELSE 0 END,"
		       " applied = {GREATEST}(applied, ?), attempts = 0, next_attempt_ms = 0,"
		       " last_error = NULL, updated_at = ? WHERE server_id = ? AND zone_id = ?",
	[Q_SYNC_FAIL] = "UPDATE node_zone_state SET last_error = ?, attempts = ?,"
			" next_attempt_ms = ?, updated_at = ? WHERE server_id = ? AND zone_id = ?",
	/* applied = what the node reports, even lower; desired catches up
	 * with the zone; due at once (the node just answered). Same ordering
	 * rule as SYNC_UPSERT: every expression reads the old row only. */
	[Q_SYNC_RESET] =
	    SYNC_INSERT "SELECT ?, id, version, ?, CASE WHEN version > ? THEN 1 ELSE 0"
			" END, 0, 0, NULL, ? FROM dns_zones WHERE id = ?"
			" {UPSERT:server_id, zone_id}"
			" updated_at = CASE WHEN node_zone_state.pending = 1"
			" OR {GREATEST}(node_zone_state.desired, {NEW:desired})"
			" <= {NEW:applied}"
			" THEN node_zone_state.updated_at ELSE {NEW:updated_at} END,"
			" pending = CASE WHEN {GREATEST}(node_zone_state.desired,"
			" {NEW:desired}) > {NEW:applied} THEN 1 ELSE 0 END,"
			" next_attempt_ms = 0, applied = {NEW:applied},"
			" desired = {GREATEST}(node_zone_state.desired, {NEW:desired})",
	[Q_SYNC_RESET_SERVER] = "UPDATE node_zone_state SET"
				" updated_at = CASE WHEN pending = 1 OR desired = 0 THEN updated_at"
				" ELSE ? END,"
				" pending = CASE WHEN desired > 0 THEN 1 ELSE 0 END,"
				" next_attempt_ms = 0, applied = 0 WHERE server_id = ?",
	[Q_SYNC_NODE_APPLIED] = "SELECT applied FROM node_zone_state"
				" WHERE server_id = ? AND zone_id = ?",
	[Q_SYNC_PENDING] = "SELECT " SYNC_COLS " FROM node_zone_state"
			   " WHERE pending = 1" SYNC_PENDING_TAIL,
	[Q_SYNC_PENDING_SERVER] = "SELECT " SYNC_COLS " FROM node_zone_state"
				  " WHERE pending = 1 AND server_id = ?" SYNC_PENDING_TAIL,
	[Q_SYNC_SUMMARY] = SYNC_SUMMARY_COLS,
	[Q_SYNC_SUMMARY_SERVER] = SYNC_SUMMARY_COLS " WHERE n.server_id = ?",
	/* The rows behind only (idx_nzs_server_pending), in the columns of
	 * SYNC_SUMMARY_COLS; the first (rows of live zones) is the caller's. */
	[Q_SYNC_SUMMARY_BEHIND] =
	    "SELECT 0, COALESCE(SUM(CASE WHEN z.deleted = 0 THEN 1 ELSE 0 END), 0),"
	    " COALESCE(SUM(CASE WHEN z.deleted = 0 AND n.attempts > 0 THEN 1 ELSE 0 END), 0),"
	    " COALESCE(MIN(n.updated_at), 0),"
	    " COALESCE(SUM(CASE WHEN z.deleted = 1 THEN 1 ELSE 0 END), 0)"
	    " FROM node_zone_state n {INDEXED_BY:idx_nzs_server_pending}"
	    " JOIN dns_zones z ON z.id = n.zone_id"
	    " WHERE n.server_id = ? AND n.pending = 1",
	[Q_SYNC_LAST_ERROR] = "SELECT last_error FROM node_zone_state WHERE last_error IS NOT NULL"
			      " ORDER BY updated_at DESC, server_id DESC, zone_id DESC LIMIT 1",
	/* An acknowledgement clears the error: only rows behind have one. */
	[Q_SYNC_LAST_ERROR_SERVER] =
	    "SELECT last_error FROM node_zone_state"
	    " WHERE server_id = ? AND pending = 1 AND last_error IS NOT NULL"
	    " ORDER BY updated_at DESC, zone_id DESC LIMIT 1",
	[Q_SYNC_NOT_ACKED] = "SELECT COUNT(*) FROM servers s LEFT JOIN node_zone_state n"
			     " ON n.server_id = s.id AND n.zone_id = ?"
			     " WHERE s.in_cluster = 1 AND (n.applied IS NULL OR n.applied < ?)",

	/* What the node may still serve: a live zone it acknowledged, or a
	 * deleted one whose delete it did not. */
	[Q_SYNC_HELD] =
	    "SELECT COUNT(*) FROM node_zone_state n JOIN dns_zones z ON z.id = n.zone_id"
	    " WHERE n.server_id = ? AND n.applied > 0"
	    " AND (z.deleted = 0 OR n.applied < z.version)",

	[Q_TOKEN_INSERT] = "INSERT INTO api_tokens (name, hash, role, created_at, revoked)"
			   " VALUES (?, ?, ?, ?, 0)",
	[Q_TOKEN_FIND] = "SELECT id, role, name FROM api_tokens WHERE hash = ? AND revoked = 0",
	[Q_TOKEN_REVOKE] = "UPDATE api_tokens SET"
			   " revoked_at = CASE WHEN revoked = 1 THEN revoked_at ELSE ? END,"
			   " revoked = 1 WHERE id = ?",
	[Q_TOKEN_PAGE] = "SELECT id, name, role, created_at, revoked FROM api_tokens"
			 " WHERE id > ? ORDER BY id LIMIT ?",
	[Q_TOKEN_GET] = "SELECT role, revoked FROM api_tokens WHERE id = ?{FOR_UPDATE}",
	/* Locking reads: two admins revoking each other at once must not
	 * both see the other one still there (InnoDB; SQLite has one writer). */
	[Q_TOKEN_LIVE_ROLE] = "SELECT COUNT(*) FROM api_tokens WHERE role = ? AND revoked = 0"
			      "{FOR_UPDATE}",
	[Q_TOKEN_LIVE_NAME] = "SELECT COUNT(*) FROM api_tokens WHERE name = ? AND revoked = 0"
			      "{FOR_UPDATE}",

	[Q_TSIG_INSERT] = "INSERT INTO tsig_keys (name, algorithm, secret, created_at, updated_at)"
			  " VALUES (?, ?, ?, ?, ?)",
	[Q_TSIG_GET] = "SELECT " TSIG_COLS " FROM tsig_keys WHERE name = ?",
	[Q_TSIG_UPDATE] = "UPDATE tsig_keys SET name = ?, algorithm = ?, secret = ?, updated_at = ?"
			  " WHERE id = ?",
	[Q_TSIG_DELETE] = "DELETE FROM tsig_keys WHERE id = ?",
	[Q_TSIG_PAGE] = "SELECT " TSIG_COLS " FROM tsig_keys WHERE id > ? ORDER BY id LIMIT ?",

	[Q_VERSION_INSERT] =
	    "INSERT INTO dns_zone_versions (zone_id, version, serial, records,"
	    " actor, created_at, action, summary, rdigest, deleted, record_count, soa)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[Q_VERSION_GET] = "SELECT " VERSION_COLS ", records FROM dns_zone_versions"
			  " WHERE zone_id = ? AND version = ? ORDER BY id DESC LIMIT 1",
	[Q_VERSION_PAGE] = "SELECT " VERSION_COLS " FROM dns_zone_versions"
			   " WHERE zone_id = ? AND version < ? ORDER BY version DESC LIMIT ?",
	/* Retention: the oldest version of the newest N (OFFSET N - 1), and
	 * the version that bounds one pruning step to at most M rows (OFFSET
	 * M - 1 among those that may go), both through idx_versions_zone. */
	[Q_VERSION_NTH] = "SELECT version FROM dns_zone_versions WHERE zone_id = ?"
			  " ORDER BY version DESC LIMIT 1 OFFSET ?",
	[Q_VERSION_PRUNE_BOUND] = "SELECT version FROM dns_zone_versions WHERE zone_id = ?"
				  " AND version < ? AND created_at < ?"
				  " ORDER BY version LIMIT 1 OFFSET ?",
	[Q_VERSION_PRUNE] = "DELETE FROM dns_zone_versions WHERE zone_id = ? AND version < ?"
			    " AND version <= ? AND created_at < ?",
	/* A zone can hold more than N versions only if its version is above N. */
	[Q_VERSION_CANDIDATES] = "SELECT id FROM dns_zones WHERE id > ? AND version > ?"
				 " ORDER BY id LIMIT ?",
	[Q_AUDIT_INSERT] = "INSERT INTO audit_log (created_at, actor, action, zone_id, detail,"
			   " zone, version) VALUES (?, ?, ?, ?, ?, ?, ?)",
	/* One page of the audit log, newest first, driven by the index of
	 * the first filter given (zone, actor, action), else by the id. */
	[Q_AUDIT_PAGE] = "SELECT " AUDIT_COLS " FROM audit_log WHERE" AUDIT_TAIL,
	[Q_AUDIT_PAGE_ZONE] = "SELECT " AUDIT_COLS " FROM audit_log WHERE zone = ? AND" AUDIT_TAIL,
	[Q_AUDIT_PAGE_ACTOR] =
	    "SELECT " AUDIT_COLS " FROM audit_log WHERE actor = ? AND" AUDIT_TAIL,
	[Q_AUDIT_PAGE_ACTION] =
	    "SELECT " AUDIT_COLS " FROM audit_log WHERE action = ? AND" AUDIT_TAIL,
	/* The ids that bound a time range (idx_audit_created): rows are
	 * written with the time of their transaction, so ids follow times. */
	[Q_AUDIT_ID_SINCE] = "SELECT id FROM audit_log WHERE created_at >= ?"
			     " ORDER BY created_at, id LIMIT 1",
	[Q_AUDIT_ID_UNTIL] = "SELECT id FROM audit_log WHERE created_at <= ?"
			     " ORDER BY created_at DESC, id DESC LIMIT 1",
	[Q_AUDIT_PRUNE_BOUND] = "SELECT id FROM audit_log ORDER BY id LIMIT 1 OFFSET ?",
	[Q_AUDIT_PRUNE] = "DELETE FROM audit_log WHERE id <= ? AND created_at < ?",
	[Q_DNSSEC_GET] = "SELECT " DNSSEC_COLS " FROM dnssec_zones WHERE zone_id = ?",
	[Q_DNSSEC_DELETE] = "DELETE FROM dnssec_zones WHERE zone_id = ?",
	[Q_DNSSEC_INSERT] = "INSERT INTO dnssec_zones (" DNSSEC_COLS
			    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[Q_KEY_INSERT] =
	    "INSERT INTO dnssec_keys (zone_id, keytype, algorithm, flags, keytag, dnskey,"
	    " private_key, active, published, created_at)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[Q_DNSSEC_ROLLING] = "SELECT zone_id FROM dnssec_zones WHERE enabled = 1"
			     " AND (roll_kind <> '' OR scheme = 'kskzsk') ORDER BY zone_id",
	[Q_KEY_DELETE] = "DELETE FROM dnssec_keys WHERE id = ? AND zone_id = ?",
	[Q_KEY_SET_FLAGS] =
	    "UPDATE dnssec_keys SET active = ?, published = ? WHERE id = ? AND zone_id = ?",
	[Q_KEY_DELETE_ZONE] = "DELETE FROM dnssec_keys WHERE zone_id = ?",
	[Q_KEY_LIST] = "SELECT " KEY_COLS " FROM dnssec_keys WHERE zone_id = ? ORDER BY id",
	/* One page of the keys of every signed live zone, by key id (the
	 * primary key drives it); never the private part. */
	[Q_KEY_PAGE] = "SELECT k.id, k.zone_id, k.keytype, k.algorithm, k.flags, k.keytag,"
		       " k.active, k.published, k.created_at, z.domain, d.roll_kind, d.roll_step"
		       " FROM dnssec_keys k JOIN dnssec_zones d ON d.zone_id = k.zone_id"
		       " JOIN dns_zones z ON z.id = k.zone_id"
		       " WHERE d.enabled = 1 AND z.deleted = 0 AND k.id > ? ORDER BY k.id LIMIT ?",
	[Q_UPOLICY_PUT] =
	    "INSERT INTO update_policies (key_name, rules, updated_at) VALUES (?, ?, ?)"
	    " {UPSERT:key_name} rules = {NEW:rules}, updated_at = {NEW:updated_at}",
	[Q_UPOLICY_GET] = "SELECT rules FROM update_policies WHERE key_name = ?",
	[Q_UPOLICY_LIST] = "SELECT key_name, rules FROM update_policies ORDER BY key_name",
	[Q_UPOLICY_DELETE] = "DELETE FROM update_policies WHERE key_name = ?",
	[Q_SECONDARY_PUT] =
	    "INSERT INTO dns_secondary_zones (zone_id, primaries, tsig_key, refreshed_at)"
	    " VALUES (?, ?, ?, 0) {UPSERT:zone_id} primaries = {NEW:primaries},"
	    " tsig_key = {NEW:tsig_key}, refreshed_at = 0",
	[Q_SECONDARY_GET] =
	    "SELECT s.zone_id, z.domain, s.primaries, s.tsig_key, s.refreshed_at,"
	    " z.life FROM dns_secondary_zones s JOIN dns_zones z ON z.id = s.zone_id"
	    " WHERE s.zone_id = ? AND z.deleted = 0",
	[Q_SECONDARY_DELETE] = "DELETE FROM dns_secondary_zones WHERE zone_id = ?",
	[Q_SECONDARY_REFRESHED] =
	    "UPDATE dns_secondary_zones SET refreshed_at = ? WHERE zone_id = ? AND zone_id IN"
	    " (SELECT id FROM dns_zones WHERE id = ? AND life = ? AND deleted = 0)",
	[Q_SECONDARY_LIST] = "SELECT s.zone_id, z.domain, s.primaries, s.tsig_key, s.refreshed_at,"
			     " z.life, z.deleted FROM dns_secondary_zones s JOIN dns_zones z"
			     " ON z.id = s.zone_id ORDER BY s.zone_id",
	[Q_SECONDARY_HELD] = "SELECT zone_id FROM dns_secondary_zones WHERE zone_id = ?",
};
