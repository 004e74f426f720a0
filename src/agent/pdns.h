/* PowerDNS's HTTP API on loopback: the only module that knows its URLs.
 * Used for what the database alone cannot do: purge caches, rectify, send
 * NOTIFY, generate a DNSSEC key for a node that runs alone, read statistics.
 * A push's keys and DNSSEC metadata go into the database (dnssec.h). */
#ifndef YUMNA_AGENT_PDNS_H
#define YUMNA_AGENT_PDNS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct pdns;

/* 'api_url' like "http://127.0.0.1:8081"; 'key' is copied. */
int pdns_new(const char *api_url, const char *key, struct pdns **ret);
/* The same with its own timeout per step (pdns_new: 5 s), for probes that
 * must tell a hung PowerDNS from a slow answer quickly. */
int pdns_new_timeout(const char *api_url, const char *key, long timeout_ms, struct pdns **ret);
void pdns_free(struct pdns *p);
/* Purge caches through PowerDNS's control socket at 'socket_path' (a
 * pdns_server the agent started knows where it is), and through the API
 * only when the socket does not answer. */
int pdns_set_control(struct pdns *p, const char *socket_path);

/* Ask the server for its version ("4.7.3"). ERR_UNAVAILABLE if it does not
 * answer; ERR_UPSTREAM if it answers with an error (a wrong key). */
int pdns_ping(struct pdns *p, char *version, size_t len);

/* Purge the packet and query caches for 'zone' and everything below it,
 * and refresh the zone cache entry. "." purges everything. */
int pdns_flush(struct pdns *p, const char *zone);
/* The same, with how many cache entries PowerDNS purged in *ret_count. */
int pdns_flush_count(struct pdns *p, const char *zone, uint64_t *ret_count);

/* Delete a zone with everything PowerDNS keeps for it (-ENOENT if none). */
int pdns_zone_delete(struct pdns *p, const char *zone);

/* Recompute ordername/auth for a signed zone. */
int pdns_rectify(struct pdns *p, const char *zone);

/* Queue NOTIFY to the zone's secondaries. */
int pdns_notify(struct pdns *p, const char *zone);

/* GET the statistics list; the caller owns *ret. */
int pdns_statistics(struct pdns *p, json_t **ret);

/* The zone's cryptokeys (list as PowerDNS returns it); caller owns *ret. */
int pdns_keys_list(struct pdns *p, const char *zone, json_t **ret);
/* Add a key: 'key' is a cryptokey object (privatekey import, or keytype +
 * algorithm to generate). */
int pdns_key_add(struct pdns *p, const char *zone, json_t *key);
/* One key with its private part; caller owns *ret. */
int pdns_key_get(struct pdns *p, const char *zone, long long id, json_t **ret);
int pdns_key_delete(struct pdns *p, const char *zone, long long id);

/* Make PowerDNS read the zone's keys and DNSSEC metadata from its database
 * again. PowerDNS 4.7 caches both (dnssec-key-cache-ttl,
 * zone-metadata-cache-ttl) and neither cache/flush nor rectify clears those
 * caches: listing the keys reads them afresh and replaces the cached set, and
 * any change of metadata drops the cached metadata (the deletion of a kind
 * nobody stores changes nothing else). */
int pdns_dnssec_refresh(struct pdns *p, const char *zone);

/* PUT zone settings (only 'nsec3param', 'dnssec', 'api_rectify' are used). */
int pdns_zone_put(struct pdns *p, const char *zone, json_t *settings);

/* Copy the error text of the last failed call on this thread into 'out'. */
void pdns_last_error(char *out, size_t len);

#endif
