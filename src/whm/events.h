/* Recent cluster events (a node going down or coming back, sync failures and
 * recoveries, nodes joining and leaving), kept in memory in a ring of the
 * last EVENTS_MAX for the dashboard and GET /api/dns/cluster/events. They
 * are not stored: the log has the same lines, and a restart starts an empty
 * ring (with a new 'boot' id, so a reader can tell). */
#ifndef YUMNA_WHM_EVENTS_H
#define YUMNA_WHM_EVENTS_H

#include <jansson.h>
#include <stdint.h>

#define EVENTS_MAX 256

struct events;
struct whm;

int events_new(struct events **ret);
/* Accepts NULL. */
void events_free(struct events *e);

/* Append one event; 'kind' is a static string ("node.down", ...), 'node' and
 * 'zone' may be NULL. Thread-safe; truncates long texts. */
void events_add(struct events *e, const char *kind, const char *node, const char *zone,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Count one change of what the dashboard lists (a zone committed, created,
 * deleted, signed...). Thread-safe and cheap: called on every commit. */
void events_touch(struct events *e);

/* Make every zone commit count as a change (events_touch); once, at
 * start-up, like the other commit observers (zones_on_commit). */
int events_watch_zones(struct whm *w);

/* {"boot", "last", "changes", "events": [{"seq", "time" (Unix ms), "kind",
 * "node"?, "zone"?, "message"}]}: the events after sequence number 'since'
 * (0 for all kept), oldest first, at most 'limit' (the newest ones).
 * 'changes' counts the changes since the start (events_touch): a reader
 * that sees it unchanged (with the same 'boot') knows no zone moved. */
json_t *events_json(struct events *e, uint64_t since, unsigned limit);

#endif
