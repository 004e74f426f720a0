/* Background verification of what the backend holds.
 *
 * Every zone the node should serve is read back from PowerDNS's backend and
 * digested (dns/digest.h) once per 'verify-interval', spread evenly over
 * that period so the cost is a steady trickle. A zone whose records no
 * longer give the digest the agent recorded when it wrote them — an edit
 * or a delete behind the agent's back — gets what it holds recorded
 * instead, is logged and counted as drift (yumna_agent_drift_total, and
 * "drift" in /health). The controller, seeing the count rise, compares the
 * node's digests with its own and pushes the zone again; the agent writes
 * a push at the version it holds when the content differs (apply.c).
 * After each pass the agent's zone tree is checked against the versions
 * the database holds (backend_tree_check_*), for a database copied back
 * under the running agent. */
#ifndef YUMNA_AGENT_VERIFY_H
#define YUMNA_AGENT_VERIFY_H

#include "agent.h"

struct verify;

/* Start the verifier thread ('interval_s' seconds per pass over all zones). */
int verify_start(struct agent *a, unsigned interval_s, struct verify **ret);
/* Stop it and free; accepts NULL. */
void verify_stop(struct verify *v);

#endif
