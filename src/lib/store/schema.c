/* The store's schema as numbered migrations, applied in order at open.
 *
 * Each migration has one text per dialect (column types, AUTO_INCREMENT,
 * inline keys and table options differ too much to generate well) and runs
 * in its own transaction together with its schema_migrations row. SQLite
 * DDL is transactional; MySQL commits implicitly around DDL, so the MySQL
 * texts use CREATE TABLE IF NOT EXISTS with every index inline, and a
 * migration interrupted half-way simply runs again. Never edit a
 * migration that has shipped: add the next number.
 *
 * The SQLite texts carry CHECK constraints for the lengths MySQL enforces
 * through VARCHAR(n), so both drivers refuse the same rows (ERR_INVALID).
 * node_zone_state.pending caches desired > applied so the sync engine's
 * pending scan is an index range instead of a scan of every node x zone
 * row; a CHECK keeps it honest on both engines. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "store/schema.h"

struct migration {
	unsigned version;
	const char *const *sqlite;
	const char *const *mysql;
};

#define MY_TABLE " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"

static const char *const m1_sqlite[] = {
	"CREATE TABLE servers ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 255),"
	" hostname TEXT NOT NULL DEFAULT '' CHECK (length(hostname) <= 255),"
	" ip TEXT NOT NULL DEFAULT '' CHECK (length(ip) <= 64),"
	" agent_port INTEGER NOT NULL DEFAULT 0,"
	" agent_secret TEXT NOT NULL DEFAULT '' CHECK (length(agent_secret) <= 512),"
	" in_cluster INTEGER NOT NULL DEFAULT 1,"
	" status TEXT NOT NULL DEFAULT 'unknown' CHECK (length(status) <= 64),"
	" pdns_version TEXT CHECK (length(pdns_version) <= 128),"
	" last_error TEXT,"
	" last_seen INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL DEFAULT 0)",

	"CREATE TABLE dns_zones ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" domain TEXT NOT NULL UNIQUE CHECK (length(domain) BETWEEN 1 AND 255),"
	" user_id INTEGER NOT NULL DEFAULT 0,"
	" server_id INTEGER NOT NULL DEFAULT 0,"
	" version INTEGER NOT NULL DEFAULT 0,"
	" serial INTEGER NOT NULL DEFAULT 0,"
	" deleted INTEGER NOT NULL DEFAULT 0,"
	" dnssec INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL DEFAULT 0,"
	" updated_at INTEGER NOT NULL DEFAULT 0)",

	"CREATE TABLE dns_records ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" zone_id INTEGER NOT NULL REFERENCES dns_zones(id) ON DELETE CASCADE,"
	" name TEXT NOT NULL CHECK (length(name) <= 255),"
	" type TEXT NOT NULL CHECK (length(type) BETWEEN 1 AND 32),"
	" content TEXT NOT NULL,"
	" ttl INTEGER NOT NULL DEFAULT 0,"
	" priority INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL DEFAULT 0)",
	"CREATE INDEX idx_records_zone ON dns_records(zone_id)",

	"CREATE TABLE dns_zone_versions ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" zone_id INTEGER NOT NULL REFERENCES dns_zones(id) ON DELETE CASCADE,"
	" version INTEGER NOT NULL,"
	" serial INTEGER NOT NULL DEFAULT 0,"
	" records TEXT NOT NULL,"
	" actor TEXT CHECK (length(actor) <= 255),"
	" comment TEXT,"
	" created_at INTEGER NOT NULL DEFAULT 0)",
	"CREATE INDEX idx_versions_zone ON dns_zone_versions(zone_id, version)",

	"CREATE TABLE node_zone_state ("
	" server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,"
	" zone_id INTEGER NOT NULL REFERENCES dns_zones(id) ON DELETE CASCADE,"
	" desired INTEGER NOT NULL DEFAULT 0,"
	" applied INTEGER NOT NULL DEFAULT 0,"
	" pending INTEGER NOT NULL DEFAULT 0 CHECK (pending = (desired > applied)),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt_ms INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT,"
	" updated_at INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (server_id, zone_id)) WITHOUT ROWID",
	"CREATE INDEX idx_nzs_zone ON node_zone_state(zone_id)",
	"CREATE INDEX idx_nzs_pending ON node_zone_state(pending, updated_at)",
	"CREATE INDEX idx_nzs_server_pending ON node_zone_state(server_id, pending, updated_at)",

	"CREATE TABLE api_tokens ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" name TEXT NOT NULL CHECK (length(name) <= 255),"
	" hash TEXT NOT NULL UNIQUE CHECK (length(hash) BETWEEN 1 AND 128),"
	" role TEXT NOT NULL CHECK (length(role) BETWEEN 1 AND 15),"
	" created_at INTEGER NOT NULL DEFAULT 0,"
	" revoked INTEGER NOT NULL DEFAULT 0,"
	" revoked_at INTEGER NOT NULL DEFAULT 0)",

	"CREATE TABLE audit_log ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" created_at INTEGER NOT NULL DEFAULT 0,"
	" actor TEXT CHECK (length(actor) <= 255),"
	" action TEXT NOT NULL CHECK (length(action) <= 64),"
	" zone_id INTEGER,"
	" detail TEXT)",
	"CREATE INDEX idx_audit_zone ON audit_log(zone_id)",
	NULL,
};

static const char *const m1_mysql[] = {
	"CREATE TABLE IF NOT EXISTS servers ("
	" id BIGINT NOT NULL AUTO_INCREMENT,"
	" name VARCHAR(255) NOT NULL CHECK (name <> ''),"
	" hostname VARCHAR(255) NOT NULL DEFAULT '',"
	" ip VARCHAR(64) NOT NULL DEFAULT '',"
	" agent_port INT NOT NULL DEFAULT 0,"
	" agent_secret VARCHAR(512) NOT NULL DEFAULT '',"
	" in_cluster TINYINT NOT NULL DEFAULT 1,"
	" status VARCHAR(64) NOT NULL DEFAULT 'unknown',"
	" pdns_version VARCHAR(128) NULL,"
	" last_error TEXT NULL,"
	" last_seen BIGINT NOT NULL DEFAULT 0,"
	" created_at BIGINT NOT NULL DEFAULT 0,"
	" PRIMARY KEY (id),"
	" UNIQUE KEY uq_servers_name (name))" MY_TABLE,

	"CREATE TABLE IF NOT EXISTS dns_zones ("
	" id BIGINT NOT NULL AUTO_INCREMENT,"
	" domain VARCHAR(255) NOT NULL CHECK (domain <> ''),"
	" user_id BIGINT NOT NULL DEFAULT 0,"
	" server_id BIGINT NOT NULL DEFAULT 0,"
	" version BIGINT NOT NULL DEFAULT 0,"
	" serial BIGINT NOT NULL DEFAULT 0,"
	" deleted TINYINT NOT NULL DEFAULT 0,"
	" dnssec TINYINT NOT NULL DEFAULT 0,"
	" created_at BIGINT NOT NULL DEFAULT 0,"
	" updated_at BIGINT NOT NULL DEFAULT 0,"
	" PRIMARY KEY (id),"
	" UNIQUE KEY uq_zones_domain (domain))" MY_TABLE,

	"CREATE TABLE IF NOT EXISTS dns_records ("
	" id BIGINT NOT NULL AUTO_INCREMENT,"
	" zone_id BIGINT NOT NULL,"
	" name VARCHAR(255) NOT NULL,"
	" type VARCHAR(32) NOT NULL CHECK (type <> ''),"
	" content MEDIUMTEXT NOT NULL,"
	" ttl BIGINT NOT NULL DEFAULT 0,"
	" priority BIGINT NOT NULL DEFAULT 0,"
	" created_at BIGINT NOT NULL DEFAULT 0,"
	" PRIMARY KEY (id),"
	" KEY idx_records_zone (zone_id),"
	" CONSTRAINT fk_records_zone FOREIGN KEY (zone_id) REFERENCES dns_zones (id)"
	" ON DELETE CASCADE)" MY_TABLE,

	"CREATE TABLE IF NOT EXISTS dns_zone_versions ("
	" id BIGINT NOT NULL AUTO_INCREMENT,"
	" zone_id BIGINT NOT NULL,"
	" version BIGINT NOT NULL,"
	" serial BIGINT NOT NULL DEFAULT 0,"
	" records LONGTEXT NOT NULL,"
	" actor VARCHAR(255) NULL,"
	" comment TEXT NULL,"
	" created_at BIGINT NOT NULL DEFAULT 0,"
	" PRIMARY KEY (id),"
	" KEY idx_versions_zone (zone_id, version),"
	" CONSTRAINT fk_versions_zone FOREIGN KEY (zone_id) REFERENCES dns_zones (id)"
	" ON DELETE CASCADE)" MY_TABLE,

	"CREATE TABLE IF NOT EXISTS node_zone_state ("
	" server_id BIGINT NOT NULL,"
	" zone_id BIGINT NOT NULL,"
	" desired BIGINT NOT NULL DEFAULT 0,"
	" applied BIGINT NOT NULL DEFAULT 0,"
	" pending TINYINT NOT NULL DEFAULT 0,"
	" attempts INT NOT NULL DEFAULT 0,"
	" next_attempt_ms BIGINT NOT NULL DEFAULT 0,"
	" last_error TEXT NULL,"
	" updated_at BIGINT NOT NULL DEFAULT 0,"
	" PRIMARY KEY (server_id, zone_id),"
	" KEY idx_nzs_zone (zone_id),"
	" KEY idx_nzs_pending (pending, updated_at),"
	" KEY idx_nzs_server_pending (server_id, pending, updated_at),"
	" CONSTRAINT ck_nzs_pending CHECK (pending = (desired > applied)),"
	" CONSTRAINT fk_nzs_server FOREIGN KEY (server_id) REFERENCES servers (id)"
	" ON DELETE CASCADE,"
	" CONSTRAINT fk_nzs_zone FOREIGN KEY (zone_id) REFERENCES dns_zones (id)"
	" ON DELETE CASCADE)" MY_TABLE,

	"CREATE TABLE IF NOT EXISTS api_tokens ("
	" id BIGINT NOT NULL AUTO_INCREMENT,"
	" name VARCHAR(255) NOT NULL,"
	" hash VARCHAR(128) NOT NULL CHECK (hash <> ''),"
	" role VARCHAR(15) NOT NULL CHECK (role <> ''),"
	" created_at BIGINT NOT NULL DEFAULT 0,"
	" revoked TINYINT NOT NULL DEFAULT 0,"
	" revoked_at BIGINT NOT NULL DEFAULT 0,"
	" PRIMARY KEY (id),"
	" UNIQUE KEY uq_tokens_hash (hash))" MY_TABLE,

	"CREATE TABLE IF NOT EXISTS audit_log ("
	" id BIGINT NOT NULL AUTO_INCREMENT,"
	" created_at BIGINT NOT NULL DEFAULT 0,"
	" actor VARCHAR(255) NULL,"
	" action VARCHAR(64) NOT NULL,"
	" zone_id BIGINT NULL,"
	" detail MEDIUMTEXT NULL,"
	" PRIMARY KEY (id),"
	" KEY idx_audit_zone (zone_id))" MY_TABLE,
	NULL,
};

/* 2: what a purged zone reached, so a zone created again under its name
 * continues its version and serial even after the tombstone is gone: a
 * node or a secondary that still holds the old zone must see the new one
 * as newer. */
static const char *const m2_sqlite[] = {
	"CREATE TABLE dns_purged_zones ("
	" domain TEXT NOT NULL PRIMARY KEY CHECK (length(domain) BETWEEN 1 AND 255),"
	" version INTEGER NOT NULL DEFAULT 0,"
	" serial INTEGER NOT NULL DEFAULT 0,"
	" purged_at INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID",
	NULL,
};

static const char *const m2_mysql[] = {
	"CREATE TABLE IF NOT EXISTS dns_purged_zones ("
	" domain VARCHAR(255) NOT NULL,"
	" version BIGINT NOT NULL DEFAULT 0,"
	" serial BIGINT NOT NULL DEFAULT 0,"
	" purged_at BIGINT NOT NULL DEFAULT 0,"
	" PRIMARY KEY (domain))" MY_TABLE,
	NULL,
};

/* 3: DNSSEC. The zone's signing settings and its keys, private parts
 * included (ISC text): the controller is the one place keys are made, and
 * every node imports these same keys. The private parts are as secret as
 * the agent secrets in servers: the SQLite file is created 0600; a MariaDB
 * deployment must restrict who may read the database (see docs). */
static const char *const m3_sqlite[] = {
	"CREATE TABLE dnssec_zones ("
	" zone_id INTEGER NOT NULL PRIMARY KEY REFERENCES dns_zones(id) ON DELETE CASCADE,"
	" enabled INTEGER NOT NULL DEFAULT 0,"
	" algorithm INTEGER NOT NULL DEFAULT 13,"
	" scheme TEXT NOT NULL DEFAULT 'csk' CHECK (length(scheme) BETWEEN 1 AND 15),"
	" nsec3 INTEGER NOT NULL DEFAULT 0,"
	" nsec3_optout INTEGER NOT NULL DEFAULT 0,"
	" signed_at INTEGER NOT NULL DEFAULT 0,"
	" updated_at INTEGER NOT NULL DEFAULT 0,"
	" roll_kind TEXT NOT NULL DEFAULT '' CHECK (length(roll_kind) <= 15),"
	" roll_step INTEGER NOT NULL DEFAULT 0,"
	" roll_next_at INTEGER NOT NULL DEFAULT 0,"
	" roll_version INTEGER NOT NULL DEFAULT 0,"
	" roll_ds_at INTEGER NOT NULL DEFAULT 0)",

	"CREATE TABLE dnssec_keys ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" zone_id INTEGER NOT NULL REFERENCES dns_zones(id) ON DELETE CASCADE,"
	" keytype TEXT NOT NULL CHECK (length(keytype) BETWEEN 1 AND 15),"
	" algorithm INTEGER NOT NULL,"
	" flags INTEGER NOT NULL,"
	" keytag INTEGER NOT NULL,"
	" dnskey TEXT NOT NULL CHECK (length(dnskey) BETWEEN 1 AND 4096),"
	" private_key TEXT NOT NULL CHECK (length(private_key) BETWEEN 1 AND 8192),"
	" active INTEGER NOT NULL DEFAULT 1,"
	" published INTEGER NOT NULL DEFAULT 1,"
	" created_at INTEGER NOT NULL DEFAULT 0)",
	"CREATE INDEX idx_dnssec_keys_zone ON dnssec_keys(zone_id)",
	"CREATE INDEX idx_dnssec_roll ON dnssec_zones(roll_kind)",
	NULL,
};

static const char *const m3_mysql[] = {
	"CREATE TABLE IF NOT EXISTS dnssec_zones ("
	" zone_id BIGINT NOT NULL,"
	" enabled TINYINT NOT NULL DEFAULT 0,"
	" algorithm INT NOT NULL DEFAULT 13,"
	" scheme VARCHAR(15) NOT NULL DEFAULT 'csk' CHECK (scheme <> ''),"
	" nsec3 TINYINT NOT NULL DEFAULT 0,"
	" nsec3_optout TINYINT NOT NULL DEFAULT 0,"
	" signed_at BIGINT NOT NULL DEFAULT 0,"
	" updated_at BIGINT NOT NULL DEFAULT 0,"
	" roll_kind VARCHAR(15) NOT NULL DEFAULT '',"
	" roll_step INT NOT NULL DEFAULT 0,"
	" roll_next_at BIGINT NOT NULL DEFAULT 0,"
	" roll_version BIGINT NOT NULL DEFAULT 0,"
	" roll_ds_at BIGINT NOT NULL DEFAULT 0,"
	" PRIMARY KEY (zone_id),"
	" KEY idx_dnssec_roll (roll_kind),"
	" CONSTRAINT fk_dnssec_zone FOREIGN KEY (zone_id) REFERENCES dns_zones (id)"
	" ON DELETE CASCADE)" MY_TABLE,

	"CREATE TABLE IF NOT EXISTS dnssec_keys ("
	" id BIGINT NOT NULL AUTO_INCREMENT,"
	" zone_id BIGINT NOT NULL,"
	" keytype VARCHAR(15) NOT NULL CHECK (keytype <> ''),"
	" algorithm INT NOT NULL,"
	" flags INT NOT NULL,"
	" keytag INT NOT NULL,"
	" dnskey VARCHAR(4096) NOT NULL CHECK (dnskey <> ''),"
	" private_key VARCHAR(8192) NOT NULL CHECK (private_key <> ''),"
	" active TINYINT NOT NULL DEFAULT 1,"
	" published TINYINT NOT NULL DEFAULT 1,"
	" created_at BIGINT NOT NULL DEFAULT 0,"
	" PRIMARY KEY (id),"
	" KEY idx_dnssec_keys_zone (zone_id),"
	" CONSTRAINT fk_dnssec_keys_zone FOREIGN KEY (zone_id) REFERENCES dns_zones (id)"
	" ON DELETE CASCADE)" MY_TABLE,
	NULL,
};

/* 4: the records digest of each zone's current version (dns/digest.h), so
 * the controller can check what nodes serve without reading records, and
 * the zone's bucket in the hash tree it compares nodes with
 * (model/ztree.h); -1 until the controller computes it. */
static const char *const m4_sqlite[] = {
	"ALTER TABLE dns_zones ADD COLUMN rdigest TEXT NOT NULL DEFAULT ''"
	" CHECK (length(rdigest) IN (0, 64))",
	"ALTER TABLE dns_zones ADD COLUMN bucket INTEGER NOT NULL DEFAULT -1",
	"CREATE INDEX idx_dns_zones_bucket ON dns_zones(bucket)",
	NULL,
};

static const char *const m4_mysql[] = {
	"ALTER TABLE dns_zones ADD COLUMN IF NOT EXISTS rdigest VARCHAR(64) NOT NULL DEFAULT ''",
	"ALTER TABLE dns_zones ADD COLUMN IF NOT EXISTS bucket INT NOT NULL DEFAULT -1",
	"CREATE INDEX IF NOT EXISTS idx_dns_zones_bucket ON dns_zones (bucket)",
	NULL,
};

/* 5: zone history and the audit log as the API serves them. Each version
 * row says who made it (actor), what it was (action, a short summary),
 * whether it deleted the zone, how many records it holds and their
 * digest; its records column is the canonical snapshot (model/zdiff.h).
 * Audit rows name their zone (kept after the zone is purged) and the
 * version they made; the indexes serve the API's filters, newest first.
 * Rows written before this migration get their zone's name if it still
 * exists. */
static const char *const m5_sqlite[] = {
	"ALTER TABLE dns_zone_versions ADD COLUMN action TEXT NOT NULL DEFAULT ''"
	" CHECK (length(action) <= 64)",
	"ALTER TABLE dns_zone_versions ADD COLUMN summary TEXT CHECK (length(summary) <= 1024)",
	"ALTER TABLE dns_zone_versions ADD COLUMN rdigest TEXT NOT NULL DEFAULT ''"
	" CHECK (length(rdigest) IN (0, 64))",
	"ALTER TABLE dns_zone_versions ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0",
	"ALTER TABLE dns_zone_versions ADD COLUMN record_count INTEGER NOT NULL DEFAULT 0",
	"ALTER TABLE audit_log ADD COLUMN zone TEXT CHECK (length(zone) <= 255)",
	"ALTER TABLE audit_log ADD COLUMN version INTEGER NOT NULL DEFAULT 0",
	"UPDATE audit_log SET zone = (SELECT domain FROM dns_zones"
	" WHERE dns_zones.id = audit_log.zone_id) WHERE zone_id IS NOT NULL",
	"CREATE INDEX idx_audit_zone_name ON audit_log(zone, id)",
	"CREATE INDEX idx_audit_actor ON audit_log(actor, id)",
	"CREATE INDEX idx_audit_action ON audit_log(action, id)",
	"CREATE INDEX idx_audit_created ON audit_log(created_at)",
	NULL,
};

static const char *const m5_mysql[] = {
	"ALTER TABLE dns_zone_versions"
	" ADD COLUMN IF NOT EXISTS action VARCHAR(64) NOT NULL DEFAULT '',"
	" ADD COLUMN IF NOT EXISTS summary VARCHAR(1024) NULL,"
	" ADD COLUMN IF NOT EXISTS rdigest VARCHAR(64) NOT NULL DEFAULT '',"
	" ADD COLUMN IF NOT EXISTS deleted TINYINT NOT NULL DEFAULT 0,"
	" ADD COLUMN IF NOT EXISTS record_count BIGINT NOT NULL DEFAULT 0",
	"ALTER TABLE audit_log"
	" ADD COLUMN IF NOT EXISTS zone VARCHAR(255) NULL,"
	" ADD COLUMN IF NOT EXISTS version BIGINT NOT NULL DEFAULT 0",
	"UPDATE audit_log SET zone = (SELECT domain FROM dns_zones"
	" WHERE dns_zones.id = audit_log.zone_id) WHERE zone_id IS NOT NULL AND zone IS NULL",
	"CREATE INDEX IF NOT EXISTS idx_audit_zone_name ON audit_log (zone, id)",
	"CREATE INDEX IF NOT EXISTS idx_audit_actor ON audit_log (actor, id)",
	"CREATE INDEX IF NOT EXISTS idx_audit_action ON audit_log (action, id)",
	"CREATE INDEX IF NOT EXISTS idx_audit_created ON audit_log (created_at)",
	NULL,
};

/* 6: a zone's own SOA fields (MNAME, RNAME, the timers), '' for the
 * cluster's (the soa-* settings). Written by the controller in one text
 * (whm/zones_soa.c), read with the zone. Number 5 is the zone history's. */
static const char *const m6_sqlite[] = {
	"ALTER TABLE dns_zones ADD COLUMN soa TEXT NOT NULL DEFAULT ''"
	" CHECK (length(soa) < 600)",
	NULL,
};

static const char *const m6_mysql[] = {
	"ALTER TABLE dns_zones ADD COLUMN IF NOT EXISTS soa VARCHAR(599) NOT NULL DEFAULT ''",
	NULL,
};

/* 7: the zone's own SOA fields (as in dns_zones.soa) that each version
 * had, so a rollback brings them back too; NULL in versions written
 * before, which a rollback leaves the SOA fields alone for. */
static const char *const m7_sqlite[] = {
	"ALTER TABLE dns_zone_versions ADD COLUMN soa TEXT CHECK (length(soa) < 600)",
	NULL,
};

static const char *const m7_mysql[] = {
	"ALTER TABLE dns_zone_versions ADD COLUMN IF NOT EXISTS soa VARCHAR(599) NULL",
	NULL,
};

/* 8: a zone's settings as PowerDNS's API shows them (kind, SOA-EDIT-API,
 * account), written and read by whm/pdns_shape.c as one text; '' for the
 * defaults (Native, DEFAULT, no account). */
static const char *const m8_sqlite[] = {
	"ALTER TABLE dns_zones ADD COLUMN pdns TEXT NOT NULL DEFAULT ''"
	" CHECK (length(pdns) < 300)",
	NULL,
};

static const char *const m8_mysql[] = {
	"ALTER TABLE dns_zones ADD COLUMN IF NOT EXISTS pdns VARCHAR(299) NOT NULL DEFAULT ''",
	NULL,
};

/* 9: a zone's metadata as PowerDNS's API keeps it (kinds the cluster gives
 * a meaning, and any X-* kind), each kind's values as one JSON array;
 * gone with the zone. */
static const char *const m9_sqlite[] = {
	"CREATE TABLE dns_zone_meta ("
	" zone_id INTEGER NOT NULL REFERENCES dns_zones(id) ON DELETE CASCADE,"
	" kind TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),"
	" content TEXT NOT NULL CHECK (length(content) <= 65536),"
	" PRIMARY KEY (zone_id, kind))",
	NULL,
};

static const char *const m9_mysql[] = {
	"CREATE TABLE IF NOT EXISTS dns_zone_meta ("
	" zone_id BIGINT NOT NULL,"
	" kind VARCHAR(64) NOT NULL CHECK (kind <> ''),"
	" content MEDIUMTEXT NOT NULL,"
	" PRIMARY KEY (zone_id, kind),"
	" CONSTRAINT fk_meta_zone FOREIGN KEY (zone_id) REFERENCES dns_zones (id)"
	" ON DELETE CASCADE)" MY_TABLE,
	NULL,
};

/* 10: records kept but not served (PowerDNS's "disabled": the API shows
 * them, no node gets them), and the comments PowerDNS's API keeps per
 * RRset: one row per (zone, owner as the records name it, type) with the
 * RRset's comments as one JSON array. Comments are not served either. */
static const char *const m10_sqlite[] = {
	"ALTER TABLE dns_records ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0",
	"CREATE TABLE dns_rrset_comments ("
	" zone_id INTEGER NOT NULL REFERENCES dns_zones(id) ON DELETE CASCADE,"
	" name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),"
	" type TEXT NOT NULL CHECK (length(type) BETWEEN 1 AND 32),"
	" content TEXT NOT NULL CHECK (length(content) <= 4194304),"
	" PRIMARY KEY (zone_id, name, type))",
	NULL,
};

static const char *const m10_mysql[] = {
	"ALTER TABLE dns_records ADD COLUMN IF NOT EXISTS disabled TINYINT NOT NULL DEFAULT 0",
	"CREATE TABLE IF NOT EXISTS dns_rrset_comments ("
	" zone_id BIGINT NOT NULL,"
	" name VARCHAR(255) NOT NULL CHECK (name <> ''),"
	" type VARCHAR(32) NOT NULL CHECK (type <> ''),"
	" content MEDIUMTEXT NOT NULL,"
	" PRIMARY KEY (zone_id, name, type),"
	" CONSTRAINT fk_comments_zone FOREIGN KEY (zone_id) REFERENCES dns_zones (id)"
	" ON DELETE CASCADE)" MY_TABLE,
	NULL,
};

/* 11: TSIG keys (whm/tsig.c): the name (lower case, trailing dot), the
 * algorithm's name and the secret in base64, which the controller needs in
 * the clear to sign and verify; it is never logged or listed. */
static const char *const m11_sqlite[] = {
	"CREATE TABLE tsig_keys ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 2 AND 255),"
	" algorithm TEXT NOT NULL CHECK (length(algorithm) BETWEEN 1 AND 15),"
	" secret TEXT NOT NULL CHECK (length(secret) BETWEEN 1 AND 127),"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL)",
	NULL,
};

static const char *const m11_mysql[] = {
	"CREATE TABLE IF NOT EXISTS tsig_keys ("
	" id BIGINT AUTO_INCREMENT PRIMARY KEY,"
	" name VARCHAR(255) NOT NULL UNIQUE,"
	" algorithm VARCHAR(15) NOT NULL,"
	" secret VARCHAR(127) NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL)" MY_TABLE,
	NULL,
};

/* 12: each TSIG key's RFC 2136 update policy (whm/upolicy.h): its rules
 * as one JSON text, by the key's name (lower case, trailing dot). A key
 * without a row may update nothing. */
static const char *const m12_sqlite[] = {
	"CREATE TABLE update_policies ("
	" key_name TEXT PRIMARY KEY CHECK (length(key_name) BETWEEN 1 AND 255),"
	" rules TEXT NOT NULL CHECK (length(rules) <= 65536),"
	" updated_at INTEGER NOT NULL)",
	NULL,
};

static const char *const m12_mysql[] = {
	"CREATE TABLE IF NOT EXISTS update_policies ("
	" key_name VARCHAR(255) NOT NULL CHECK (key_name <> ''),"
	" rules MEDIUMTEXT NOT NULL,"
	" updated_at BIGINT NOT NULL,"
	" PRIMARY KEY (key_name))" MY_TABLE,
	NULL,
};

/* 13: zone transfers to third-party secondaries: per zone (zone_id 0: the
 * cluster's default, so no foreign key) the secondaries that may transfer
 * it, as a JSON array of {"from": address or prefix, "key": TSIG key name},
 * and the addresses to NOTIFY, a JSON array of "address" or
 * "address:port"; a zone's row goes with the zone. */
static const char *const m13_sqlite[] = {
	"CREATE TABLE dns_zone_transfers ("
	" zone_id INTEGER PRIMARY KEY,"
	" allow_from TEXT NOT NULL DEFAULT '[]' CHECK (length(allow_from) <= 65536),"
	" also_notify TEXT NOT NULL DEFAULT '[]' CHECK (length(also_notify) <= 65536),"
	" updated_at INTEGER NOT NULL DEFAULT 0)",
	NULL,
};

static const char *const m13_mysql[] = {
	"CREATE TABLE IF NOT EXISTS dns_zone_transfers ("
	" zone_id BIGINT NOT NULL,"
	" allow_from MEDIUMTEXT NOT NULL,"
	" also_notify MEDIUMTEXT NOT NULL,"
	" updated_at BIGINT NOT NULL DEFAULT 0,"
	" PRIMARY KEY (zone_id))" MY_TABLE,
	NULL,
};

/* 14: zones of kind secondary: the primaries they are transferred from
 * ("address[:port]" comma-separated), the TSIG key that signs the
 * transfers ('' for none) and when a primary last answered for the data
 * held (Unix seconds; 0: never), which the expire timer counts from. Gone
 * with the zone's row. */
static const char *const m14_sqlite[] = {
	"CREATE TABLE dns_secondary_zones ("
	" zone_id INTEGER PRIMARY KEY REFERENCES dns_zones(id) ON DELETE CASCADE,"
	" primaries TEXT NOT NULL CHECK (length(primaries) BETWEEN 1 AND 1024),"
	" tsig_key TEXT NOT NULL DEFAULT '' CHECK (length(tsig_key) <= 255),"
	" refreshed_at INTEGER NOT NULL DEFAULT 0)",
	NULL,
};

static const char *const m14_mysql[] = {
	"CREATE TABLE IF NOT EXISTS dns_secondary_zones ("
	" zone_id BIGINT NOT NULL PRIMARY KEY,"
	" primaries VARCHAR(1024) NOT NULL CHECK (primaries <> ''),"
	" tsig_key VARCHAR(255) NOT NULL DEFAULT '',"
	" refreshed_at BIGINT NOT NULL DEFAULT 0,"
	" CONSTRAINT fk_secondary_zone FOREIGN KEY (zone_id) REFERENCES dns_zones (id)"
	" ON DELETE CASCADE)" MY_TABLE,
	NULL,
};

/* 15: routing policies per RRset (model/steer.h), beside the records: the
 * structured policy as JSON, and whether the panel's per-record
 * routing_policy made it (each record's policy is then read back from it). */
static const char *const m15_sqlite[] = {
	"CREATE TABLE dns_rrset_policies ("
	" zone_id INTEGER NOT NULL REFERENCES dns_zones(id) ON DELETE CASCADE,"
	" name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),"
	" type TEXT NOT NULL CHECK (length(type) BETWEEN 1 AND 15),"
	" per_record INTEGER NOT NULL,"
	" policy TEXT NOT NULL CHECK (length(policy) <= 65536),"
	" PRIMARY KEY (zone_id, name, type))",
	NULL,
};

static const char *const m15_mysql[] = {
	"CREATE TABLE IF NOT EXISTS dns_rrset_policies ("
	" zone_id BIGINT NOT NULL,"
	" name VARCHAR(255) NOT NULL,"
	" type VARCHAR(15) NOT NULL,"
	" per_record TINYINT NOT NULL,"
	" policy MEDIUMTEXT NOT NULL,"
	" PRIMARY KEY (zone_id, name, type),"
	" CONSTRAINT fk_policy_zone FOREIGN KEY (zone_id) REFERENCES dns_zones (id)"
	" ON DELETE CASCADE)" MY_TABLE,
	NULL,
};

/* Fewer pages written per change (SQLite; measured: 31 WAL pages per
 * change, its acknowledgements included, 11.6 of them these indexes):
 * - the pending queue as partial indexes: only the rows behind are in
 *   them, so a change adds an entry at the end of each and its
 *   acknowledgement removes it, instead of moving every node's entry
 *   across an index of every node x zone row. WITHOUT ROWID: the key
 *   (server_id, zone_id) follows the columns, so the queue's order is
 *   (updated_at, server_id, zone_id) and, per node, (server_id,
 *   updated_at, zone_id);
 * - audit_log's index on zone_id, which no query reads (they filter on
 *   the zone's name, idx_audit_zone_name), written at every change.
 * MySQL has no partial indexes; its indexes stay. */
static const char *const m16_sqlite[] = {
	"DROP INDEX idx_audit_zone",
	"DROP INDEX idx_nzs_pending",
	"CREATE INDEX idx_nzs_pending ON node_zone_state(updated_at)"
	" WHERE pending = 1",
	"DROP INDEX idx_nzs_server_pending",
	"CREATE INDEX idx_nzs_server_pending ON node_zone_state(server_id, updated_at)"
	" WHERE pending = 1",
	NULL,
};

static const char *const m16_mysql[] = {
	NULL,
};

/* 17: how many times a zone of the name was created before its present
 * life (a revived tombstone, or a zone made again after a purge): the
 * catalog zone gives a member of another life another unique id (RFC
 * 9432 section 5.5). Every zone stored before is at 0. */
static const char *const m17_sqlite[] = {
	"ALTER TABLE dns_zones ADD COLUMN life INTEGER NOT NULL DEFAULT 0",
	"ALTER TABLE dns_purged_zones ADD COLUMN life INTEGER NOT NULL DEFAULT 0",
	NULL,
};

static const char *const m17_mysql[] = {
	"ALTER TABLE dns_zones ADD COLUMN IF NOT EXISTS life BIGINT NOT NULL DEFAULT 0",
	"ALTER TABLE dns_purged_zones ADD COLUMN IF NOT EXISTS life BIGINT NOT NULL DEFAULT 0",
	NULL,
};

/* 18: the wait of a rollover step, kept apart from roll_next_at so that it
 * can be counted from the moment every node acknowledged the step (RFC
 * 7583's intervals run from when the last server publishes), not from the
 * step's start. A rollover in progress keeps the deadline it had; its wait
 * is what that deadline was counted with (its row was last written when
 * the step began). */
#define M18_WAIT_OF_ROLLING                                             \
	"UPDATE dnssec_zones SET roll_wait = roll_next_at - updated_at" \
	" WHERE roll_kind <> '' AND roll_wait = 0 AND roll_next_at > updated_at"

static const char *const m18_sqlite[] = {
	"ALTER TABLE dnssec_zones ADD COLUMN roll_wait INTEGER NOT NULL DEFAULT 0",
	M18_WAIT_OF_ROLLING,
	NULL,
};

static const char *const m18_mysql[] = {
	"ALTER TABLE dnssec_zones ADD COLUMN IF NOT EXISTS roll_wait BIGINT NOT NULL DEFAULT 0",
	M18_WAIT_OF_ROLLING,
	NULL,
};

static const struct migration migrations[] = {
	{ 1, m1_sqlite, m1_mysql },    { 2, m2_sqlite, m2_mysql },    { 3, m3_sqlite, m3_mysql },
	{ 4, m4_sqlite, m4_mysql },    { 5, m5_sqlite, m5_mysql },    { 6, m6_sqlite, m6_mysql },
	{ 7, m7_sqlite, m7_mysql },    { 8, m8_sqlite, m8_mysql },    { 9, m9_sqlite, m9_mysql },
	{ 10, m10_sqlite, m10_mysql }, { 11, m11_sqlite, m11_mysql }, { 12, m12_sqlite, m12_mysql },
	{ 13, m13_sqlite, m13_mysql }, { 14, m14_sqlite, m14_mysql }, { 15, m15_sqlite, m15_mysql },
	{ 16, m16_sqlite, m16_mysql }, { 17, m17_sqlite, m17_mysql }, { 18, m18_sqlite, m18_mysql },
};

#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

static const char sqlite_bootstrap[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
				       " version INTEGER PRIMARY KEY,"
				       " applied_at INTEGER NOT NULL)";
static const char mysql_bootstrap[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
				      " version BIGINT NOT NULL,"
				      " applied_at BIGINT NOT NULL,"
				      " PRIMARY KEY (version))" MY_TABLE;

/* The one integer 'sql' answers (0 when it answers no row); 'arg', when not
 * negative, is its one parameter. */
static int query_version(struct db *db, const char *sql, int64_t arg, int64_t *ret)
{
	struct db_stmt *s;
	int r;

	r = db_prepare(db, sql, &s);
	if (r < 0)
		return r;
	if (arg >= 0)
		r = db_bind_int64(s, 1, arg);
	if (r == 0)
		r = db_step(s);
	if (r == DB_ROW) {
		*ret = db_column_int64(s, 0);
		r = 0;
	} else if (r == DB_DONE) {
		*ret = 0;
	}
	db_reset(s);
	db_finalize(s);
	return r;
}

static int record(struct db *db, unsigned version)
{
	struct db_stmt *s;
	int r;

	r = db_prepare(db, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", &s);
	if (r < 0)
		return r;
	r = db_bind_int64(s, 1, version);
	if (r == 0)
		r = db_bind_int64(s, 2, (int64_t)time(NULL));
	if (r == 0)
		r = db_step(s);
	db_reset(s);
	db_finalize(s);
	return r < 0 ? r : 0;
}

static int apply(struct db *db, const struct migration *m)
{
	const char *const *sql = db->kind == DB_MYSQL ? m->mysql : m->sqlite;
	int64_t done = 0;
	int r;

	r = db_begin(db);
	if (r < 0)
		return r;
	/* Another process may have applied it since we looked. */
	r = query_version(db, "SELECT version FROM schema_migrations WHERE version = ?", m->version,
			  &done);
	if (r == 0 && done == 0) {
		for (; *sql != NULL && r == 0; sql++)
			r = db_exec(db, *sql);
		if (r == 0)
			r = record(db, m->version);
	}
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		db_rollback(db);
	return r;
}

int db_migrate(struct db *db, struct errmsg *err)
{
	const unsigned latest = migrations[N_MIGRATIONS - 1].version;
	int64_t current = 0;
	bool locked = false;
	size_t i;
	int r;

	r = db_exec(db, db->kind == DB_MYSQL ? mysql_bootstrap : sqlite_bootstrap);
	if (r < 0)
		return errmsg_set(err, r, "cannot create schema_migrations: %s", db->err);
	/* Two controllers starting at once against one MySQL database: the
	 * first migrates, the second waits. Best effort: Galera refuses
	 * GET_LOCK, and the idempotent DDL plus the re-check in apply()
	 * still hold there. (SQLite serialises on BEGIN IMMEDIATE.) */
	if (db->kind == DB_MYSQL)
		locked = db_exec(db, "SELECT GET_LOCK('yumna_store_migrate', 60)") == 0;
	r = query_version(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", -1,
			  &current);
	if (r < 0) {
		errmsg_set(err, 0, "cannot read schema_migrations: %s", db->err);
		goto out;
	}
	if (current > (int64_t)latest) {
		errmsg_set(err, 0,
			   "database schema version %" PRId64 " is newer than this program's (%u)",
			   current, latest);
		r = ERR_CONFIG;
		goto out;
	}
	for (i = 0; i < N_MIGRATIONS; i++) {
		/* Migrations are not always applied in order: a store made
		 * before 5 (the history) and 6 (the zone SOA) were merged may
		 * hold 6 without 5. Below the latest applied one, apply only
		 * what is not recorded. */
		if (migrations[i].version <= (unsigned)current) {
			int64_t done = 0;

			r = query_version(db,
					  "SELECT version FROM schema_migrations WHERE version = ?",
					  migrations[i].version, &done);
			if (r < 0) {
				errmsg_set(err, 0, "cannot read schema_migrations: %s", db->err);
				goto out;
			}
			if (done != 0)
				continue;
		}
		r = apply(db, &migrations[i]);
		if (r < 0) {
			errmsg_set(err, 0, "schema migration %u failed: %s", migrations[i].version,
				   db->err);
			goto out;
		}
	}
out:
	if (locked)
		(void)db_exec(db, "SELECT RELEASE_LOCK('yumna_store_migrate')");
	return r;
}

int store_db_open(const struct store_conf *conf, struct db **ret, struct errmsg *err)
{
	struct db_conf dc = {
		.driver = conf->driver,
		.path = conf->path,
		.private_file = true,
		.relaxed = conf->relaxed,
		.host = conf->host,
		.port = conf->port,
		.socket = conf->socket,
		.user = conf->user,
		.password = conf->password,
		.database = conf->database,
	};

	db_set_mysql_open(db_mysql_open);
	return db_open(&dc, ret, err);
}
