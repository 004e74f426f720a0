/* New versions for the zones whose transfer settings changed without a
 * change of their own: the zones that follow the cluster's default when it
 * changes, and the zones whose settings name a TSIG key that was rotated,
 * renamed or deleted (the nodes must hold the key as it is). One thread
 * does it off the request (a zone takes a few milliseconds, and a default
 * may be followed by every zone); requests that come while it works are
 * merged. Without the thread (a tool run), the work is done at once. */
#ifndef YUMNA_WHM_XFROUT_PUSH_H
#define YUMNA_WHM_XFROUT_PUSH_H

#include "whm.h"

int xfrout_push_start(struct whm *w);
void xfrout_push_stop(struct whm *w);

/* Every zone that follows the default gets a new version. */
void xfrout_push_default(struct whm *w);
/* Every zone whose settings (its own or the default) name key 'name'
 * (canonical: lower case, final dot) gets a new version. */
void xfrout_push_key(struct whm *w, const char *name);

#endif
