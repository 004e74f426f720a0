/* A second cache purge of every published zone, shortly after the first.
 *
 * PowerDNS answers a query by reading the backend and then storing the
 * answer in its packet and query caches. A query that read the zone just
 * before a change committed can store its (old) answer after the agent's
 * purge, and PowerDNS then serves it for cache-ttl (20 s). With queries in
 * flight this hit about 2.5 % of pushes. Purging the zone again a few
 * milliseconds later removes such an answer: by then every lookup that
 * started before the commit has finished. The second purge runs on its own
 * thread and its own PowerDNS connection, so a push never waits for it.
 * Whoever must not act before it (the NOTIFYs to a zone's secondaries:
 * one told at once could be answered the old SOA from a cache and stay
 * behind) takes a mark and waits until the purges up to it are done.
 *
 * A second purge that fails (PowerDNS's control socket and API refuse or
 * time out, or PowerDNS is restarting) is tried again 10 ms later, then at
 * twice the interval each time up to once a second, until it succeeds,
 * until a later purge of its zone or of everything does, or until the
 * agent stops. The zones being retried are each kept once, at most 16 of
 * them; past that they become one purge of everything, so a PowerDNS down
 * for long costs one try a second and no memory beyond that set. A mark
 * does not pass while a purge it covers is failing, but for no longer than
 * 20 s from the start of that purge's first failed try (plus the try
 * running then, bounded by pdns.h's timeouts). 20 s is PowerDNS's
 * cache-ttl and query-cache-ttl: an answer the purge was to remove has
 * expired by then anyway, so a NOTIFY sent then is not answered the old
 * SOA from a cache; waiting longer would gain nothing, and a PowerDNS that
 * keeps failing delays the NOTIFYs by that much, never for good. The purge
 * is still retried after that. */
#ifndef YUMNA_AGENT_REPURGE_H
#define YUMNA_AGENT_REPURGE_H

#include <stdbool.h>
#include <stdint.h>

struct repurge;

/* Start the thread; 'api_url' and 'key' as for pdns_new(), 'control' as
 * for pdns_set_control() or NULL. */
int repurge_start(const char *api_url, const char *key, const char *control, struct repurge **ret);
/* Purge 'zone' ("." for everything) again in REPURGE_DELAY_MS. Never
 * blocks on PowerDNS; a NULL 'rp' does nothing. */
void repurge_add(struct repurge *rp, const char *zone);
/* A mark for the second purges asked so far ... */
uint64_t repurge_mark(struct repurge *rp);
/* ... and whether they are all done (or failed 20 s ago, above); true
 * for a NULL 'rp'. */
bool repurge_passed(struct repurge *rp, uint64_t mark);
/* Call 'fn(arg)' after each second purge (and each retry, and when a
 * failed one stops holding the marks), with the thread's lock held
 * ('fn' may call repurge_passed and repurge_mark, nothing else here); NULL
 * stops it, and once this returns 'fn' is not running. */
void repurge_watch(struct repurge *rp, void (*fn)(void *), void *arg);
void repurge_stop(struct repurge *rp);

#endif
