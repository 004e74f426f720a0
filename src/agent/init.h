/* Bringing the node up: PowerDNS's configuration, database and process
 * (managed mode), or checks of an existing PowerDNS (external mode). */
#ifndef YUMNA_AGENT_INIT_H
#define YUMNA_AGENT_INIT_H

#include "agent.h"
#include "base/err.h"
#include "model/model.h"

/* Prepare paths, keys and the database; open a->db and a->pdns. Run once at
 * start-up. Fills 'err' on failure. */
int init_prepare(struct agent *a, struct errmsg *err);

/* Make sure PowerDNS answers: in managed mode rewrite pdns.conf and start
 * pdns_server if it is not running. Safe to call again (POST initialize),
 * from any thread: starts are serialised under a->pdns_lock. */
int init_powerdns(struct agent *a, struct errmsg *err);

/* The same; *ret_started tells whether a pdns_server was spawned (its pid
 * is then in a->pdns_pid, even if it failed to answer in time). */
int init_ensure_powerdns(struct agent *a, bool *ret_started, struct errmsg *err);

/* The SOA fields the agent adds to zones pushed without one. */
void agent_soa_defaults(const struct agent *a, struct soa_defaults *ret);

#endif
