/* Per-node target health of routing policies (steer_health.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent.h"
#include "dns/dns.h"
#include "steer_health.h"
#include "sync.h"
#include "zones_steer.h"

/* Append 'target' (an address of a checked policy) to 'out' in the form
 * the node reports it (inet_ntop), once. */
static int add_target(json_t *out, const json_t *target)
{
	unsigned char bin[sizeof(struct in6_addr)];
	char canon[INET6_ADDRSTRLEN];
	const char *s = json_string_value(target);
	json_t *v;
	size_t i;

	if (s == NULL)
		return 0;
	int af = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(af, s, bin) != 1 || inet_ntop(af, bin, canon, sizeof(canon)) == NULL)
		return 0;
	json_array_foreach(out, i, v) {
		if (strcmp(json_string_value(v), canon) == 0)
			return 0;
	}
	return json_array_append_new(out, json_string(canon)) == 0 ? 0 : -ENOMEM;
}

static int add_targets(json_t *out, const json_t *arr)
{
	json_t *v;
	size_t i;
	int r = 0;

	json_array_foreach(arr, i, v) {
		if (r == 0)
			r = add_target(out, v);
	}
	return r;
}

/* The targets a policy's health checks watch (as steer_health_compile
 * lists them), or an empty array for a policy without checks. */
static json_t *checked_targets(const json_t *pol)
{
	const char *kind = json_string_value(json_object_get(pol, "type"));
	json_t *out = json_array(), *reg;
	size_t i;
	int r = out != NULL ? 0 : -ENOMEM;

	if (r < 0 || kind == NULL || json_object_get(pol, "check") == NULL)
		return out;
	if (strcmp(kind, "failover") == 0)
		r = add_targets(out, json_object_get(pol, "targets"));
	if (strcmp(kind, "geo") == 0) {
		json_array_foreach(json_object_get(pol, "regions"), i, reg) {
			if (r == 0)
				r = add_targets(out, json_object_get(reg, "targets"));
		}
		if (r == 0)
			r = add_targets(out, json_object_get(pol, "default"));
	}
	if (r < 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* What node answer 'a' (the agent's, or {"error"}) says of RRset
 * 'owner' (absolute) 'type' with checked 'targets'. */
static json_t *node_view(const json_t *a, const char *owner, const char *type,
			 const json_t *targets)
{
	const char *error = json_string_value(json_object_get(a, "error"));
	const json_t *found = NULL, *o, *t;
	size_t i;

	json_array_foreach(json_object_get(a, "rrsets"), i, o) {
		const char *n = json_string_value(json_object_get(o, "name"));
		const char *ty = json_string_value(json_object_get(o, "type"));
		if (n == NULL || strcasecmp(n, owner) != 0)
			continue;
		/* an entry without a type is the owner's record, unread */
		bool unread = ty == NULL && json_object_get(o, "error") != NULL;
		if ((unread && found == NULL) || (ty != NULL && strcmp(ty, type) == 0))
			found = o;
	}
	if (error == NULL && found != NULL)
		error = json_string_value(json_object_get(found, "error"));
	if (error == NULL && found == NULL)
		error = "the node serves no health record for this RRset (not pushed yet?)";
	json_t *view = json_object(), *states = json_object();
	if (view == NULL || states == NULL) {
		json_decref(view);
		json_decref(states);
		return NULL;
	}
	const json_t *reported = json_object_get(found, "targets");
	json_array_foreach(targets, i, t) {
		const char *addr = json_string_value(t);
		const char *s = json_string_value(json_object_get(reported, addr));
		if (error != NULL || s == NULL)
			s = "unknown";
		json_object_set_new(states, addr, json_string(s));
	}
	json_object_set_new(view, "state", json_string(error != NULL ? "unknown" : "read"));
	if (error != NULL)
		json_object_set_new(view, "error", json_string(error));
	else
		json_object_set(view, "read_at", json_object_get(a, "read_at"));
	json_object_set_new(view, "targets", states);
	return view;
}

struct walk {
	const json_t *answers; /* sync_agents_call()'s, by node id */
	json_t *nodes;	       /* the output's "nodes" */
	json_t *named;	       /* node name -> its answer */
};

static int node_answer(const struct store_server *srv, void *ctx)
{
	struct walk *w = ctx;
	char key[24];

	snprintf(key, sizeof(key), "%lld", (long long)srv->id);
	json_t *a = json_object_get(w->answers, key);
	if (a == NULL)
		return 0; /* joined since the agents were asked */
	const char *error = json_string_value(json_object_get(a, "error"));
	json_t *o = json_pack("{s:I,s:s,s:b}", "nodeId", (json_int_t)srv->id, "name", srv->name,
			      "reachable", error == NULL);
	if (o != NULL && error != NULL)
		json_object_set_new(o, "error", json_string(error));
	else if (o != NULL)
		json_object_set(o, "read_at", json_object_get(a, "read_at"));
	if (o == NULL || json_array_append_new(w->nodes, o) < 0 ||
	    json_object_set(w->named, srv->name, a) < 0)
		return -ENOMEM;
	return 0;
}

/* One output RRset for stored 'key' ("name\ttype") with stored policy
 * entry 'entry' (zones_steer_load). */
static int add_rrset(json_t *rrsets, const char *key, const json_t *entry, const char *origin,
		     const json_t *named)
{
	char name[DNAME_TEXT_MAX], owner[DNAME_TEXT_MAX];
	struct errmsg derr;
	const json_t *pol = json_object_get(entry, "policy");
	const char *node, *type;
	json_t *a;

	if (zones_steer_key_split(key, name, &type) < 0)
		return 0;
	if (dname_owner_normalize(name, origin, owner, &derr) < 0)
		return 0;
	json_t *targets = checked_targets(pol);
	json_t *health = json_object();
	json_t *o =
	    json_pack("{s:s,s:s,s:s?,s:b,s:O,s:o}", "name", name, "type", type, "policy_type",
		      json_string_value(json_object_get(pol, "type")), "checked",
		      json_array_size(targets) > 0, "targets", targets, "health", health);
	if (o == NULL) {
		json_decref(targets);
		return -ENOMEM;
	}
	json_object_foreach((json_t *)named, node, a) {
		json_t *v =
		    json_array_size(targets) > 0 ? node_view(a, owner, type, targets) : json_null();
		if (v == NULL || json_object_set_new(health, node, v) < 0) {
			json_decref(targets);
			json_decref(o);
			return -ENOMEM;
		}
	}
	json_decref(targets);
	return json_array_append_new(rrsets, o) == 0 ? 0 : -ENOMEM;
}

int steer_health_get(struct whm *w, struct store *st, const struct store_zone *z, json_t **ret,
		     struct errmsg *err)
{
	char tail[DNAME_TEXT_MAX + 16];
	json_t *policies = NULL, *answers = NULL, *v;
	struct walk wk = { .nodes = json_array(), .named = json_object() };
	json_t *rrsets = json_array();
	const char *key;

	int r = wk.nodes != NULL && wk.named != NULL && rrsets != NULL ? 0 : -ENOMEM;
	if (r == 0)
		r = zones_steer_load(st, z->id, &policies);
	snprintf(tail, sizeof(tail), "%s/steer-health", z->domain);
	/* only a zone with policies is worth asking every node about */
	if (r == 0 && json_object_size(policies) > 0)
		r = sync_agents_call(w->sync, AGENT_STEER_HEALTH, tail,
				     (long)w->conf.agent_timeout_ms, &answers);
	wk.answers = answers;
	if (r == 0 && answers != NULL)
		r = store_server_foreach(st, true, node_answer, &wk);
	json_object_foreach(policies, key, v) {
		if (r == 0)
			r = add_rrset(rrsets, key, v, z->domain, wk.named);
	}
	json_decref(answers);
	json_decref(policies);
	json_decref(wk.named);
	if (r < 0) {
		json_decref(wk.nodes);
		json_decref(rrsets);
		return errmsg_set(err, r, "cannot read the policies' health: %s", err_str(r));
	}
	*ret = json_pack("{s:I,s:s,s:o,s:o}", "zoneId", (json_int_t)z->id, "zone", z->domain,
			 "nodes", wk.nodes, "rrsets", rrsets);
	return *ret != NULL ? 0 : errmsg_set(err, -ENOMEM, "out of memory");
}
