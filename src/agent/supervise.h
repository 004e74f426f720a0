/* Managed mode: the agent supervises the pdns_server it runs. A
 * pdns_server that exits or dies, or whose API stops answering (a hung or
 * stopped process), is killed if need be and started again with a capped,
 * doubling delay; afterwards the agent purges what was left dirty and
 * counts its zones again. External mode has no supervisor: the operator's
 * PowerDNS is never started or killed. */
#ifndef YUMNA_AGENT_SUPERVISE_H
#define YUMNA_AGENT_SUPERVISE_H

#include <stddef.h>

#include "agent.h"

struct supervise;

/* Start the supervisor thread for 'a' (managed mode, after init_prepare;
 * 'a' must outlive it). Restarts are counted in a->stats.pdns_restarts.
 * The caller frees *ret with supervise_stop(). */
int supervise_start(struct agent *a, struct supervise **ret);

/* Whether the pdns_server the agent runs can take a change, asked of the
 * process itself (one read of /proc, no request to PowerDNS): 1 if it runs,
 * 0 if it is gone, killed but not yet reaped, or stopped ('why' says
 * which), -1 if no pdns_server is known (external mode, or not started). */
int supervise_pdns_state(struct agent *a, char *why, size_t len);

/* Stop the thread and free; pdns_server keeps running. Accepts NULL. */
void supervise_stop(struct supervise *s);

#endif
