/* The catalog zone (RFC 9432, version 2) that the configuration names
 * (catalog-zone; none by default): the controller keeps it itself, as a
 * zone like any other that every node serves with the same serial and
 * that third-party secondaries transfer under the cluster's default
 * transfer settings. It holds
 *   version        IN TXT "2"
 *   <unique-id>.zones IN PTR <member zone>.
 * for every live zone that its secondaries may transfer (a zone whose own
 * transfer settings shut out some of the default's is left out:
 * xfrout_closed_to_default()), the unique id being the SHA-1 of the
 * member's name in hex (as PowerDNS's producer makes it), or for a zone
 * created again after a delete, of its name, '#' and its store_zone.life,
 * so that consumers reset it (RFC 9432 section 5.5); the same after a
 * restore of the store. Members are
 * added and removed by one thread that compares the catalog with the live
 * zones after every zone is created or deleted, after a change of transfer
 * settings (and once a minute), so a burst of changes
 * makes one new version. Nobody else may change the catalog zone. */
#ifndef YUMNA_WHM_CATALOG_H
#define YUMNA_WHM_CATALOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "whm.h"

/* Normalise the name 'text' given for the catalog zone into 'ret';
 * ERR_CONFIG with a message when it is not a zone name, or too long for
 * its members' owner names. */
int catalog_name_check(const char *text, char ret[DNAME_TEXT_MAX], struct errmsg *err);
/* Create the catalog zone if it is missing, and start the thread. 0 when
 * no catalog is configured. */
int catalog_start(struct whm *w);
/* Stop the thread; catalog_free() once nothing commits any more. */
void catalog_stop(struct whm *w);
void catalog_free(struct whm *w);

/* ERR_FORBIDDEN with a message in 'err' when zone 'zone_id' is the catalog
 * zone and the caller is not the catalog's thread; else 0. */
int catalog_guard(const struct whm *w, int64_t zone_id, struct errmsg *err);
/* Let this thread change the catalog zone ('on') or not any more, for a
 * change the controller makes itself (a new version that carries new
 * transfer settings); returns what was set before. */
bool catalog_internal(bool on);
/* {"zone", "state": "ok"|"failing", "members", "lastError"?, "since"?}:
 * how the last pass went ("since": when it started failing, Unix seconds);
 * JSON null without a catalog. */
json_t *catalog_status_json(struct whm *w);
/* Something the members depend on besides the zones' lives changed (a
 * zone's transfer settings, the cluster's default): compare again soon. */
void catalog_changed(struct whm *w);
/* Whether zone 'zone_id' is the catalog zone (false without one). */
bool catalog_is(const struct whm *w, int64_t zone_id);
/* The same for a zone about to be created under 'origin' (normalised). */
int catalog_guard_name(const struct whm *w, const char *origin, struct errmsg *err);

#endif
