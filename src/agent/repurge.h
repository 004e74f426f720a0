/* A second cache purge of every published zone, shortly after the first.
 *
 * PowerDNS answers a query by reading the backend and then storing the
 * answer in its packet and query caches. A query that read the zone just
 * before a change committed can store its (old) answer after the agent's
 * purge, and PowerDNS then serves it for cache-ttl (20 s). With queries in
 * flight this hit about 2.5 % of pushes. Purging the zone again a few
 * milliseconds later removes such an answer: by then every lookup that
 * started before the commit has finished. The second purge runs on its own
 * thread and its own PowerDNS connection, so a push never waits for it. */
#ifndef YUMNA_AGENT_REPURGE_H
#define YUMNA_AGENT_REPURGE_H

struct repurge;

/* Start the thread; 'api_url' and 'key' as for pdns_new(), 'control' as
 * for pdns_set_control() or NULL. */
int repurge_start(const char *api_url, const char *key, const char *control, struct repurge **ret);
/* Purge 'zone' ("." for everything) again in REPURGE_DELAY_MS. Never
 * blocks on PowerDNS; a NULL 'rp' does nothing. */
void repurge_add(struct repurge *rp, const char *zone);
void repurge_stop(struct repurge *rp);

#endif
