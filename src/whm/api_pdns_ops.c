/* PowerDNS's API (4.7) over the cluster, the operations on a zone and on
 * the server: a zone's settings (PUT), notify, rectify, export, cache
 * flush, statistics and search. Each is the cluster's own operation in
 * PowerDNS's shape: a NOTIFY from every node, a purge on every node, the
 * nodes' counters summed. docs/powerdns-api.md says where they differ. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "api_pdns.h"
#include "base/buf.h"
#include "base/err.h"
#include "dns/dns.h"
#include "dnssec.h"
#include "http/client.h"
#include "json/jsonx.h"
#include "nodes.h"
#include "pdns_shape.h"
#include "secondary.h"
#include "sync.h"
#include "transfer.h"

#define EXPORT_MAX (256u << 20)

static void reply_result(struct http_reply *rep, const char *result)
{
	http_reply_json(rep, 200, json_pack("{s:s}", "result", result));
}

/* --- a zone's settings ---------------------------------------------------- */

/* The settings of a PUT of a zone: 's' are 'body''s kind, account and
 * soa_edit_api over 'stored' (the zone's settings as stored); ERR_INVALID
 * as pdns_settings_apply(), and for a kind changed to or from Slave. */
static int put_settings_read(const json_t *body, const char *stored, struct pdns_settings *s,
			     struct errmsg *err)
{
	pdns_settings_read(stored, s);
	bool was_slave = strcmp(s->kind, "Slave") == 0;
	int r = pdns_settings_apply(body, s, err);
	if (r == 0 && was_slave != (strcmp(s->kind, "Slave") == 0))
		r = errmsg_set(err, ERR_INVALID,
			       "kind: a zone is made Slave (with its masters) when it is created, "
			       "and stays so");
	return r;
}

/* What a PUT asks of a zone's settings. */
struct put_ctx {
	const json_t *body;	/* kind, account, soa_edit_api */
	struct pdns_masters m;	/* masters and their key, checked */
	bool secondary_changed; /* out: the masters or their key changed */
};

/* Whether the masters of 'm' fit a zone that is a secondary zone or not
 * ('secondary'). Only a secondary zone has masters: PowerDNS keeps them
 * for a zone of any kind, with no effect but on a Slave zone, which the
 * cluster cannot keep; an empty list is no masters, which such a zone
 * has already. A secondary zone has 1 to 8. */
static int masters_fit(const struct pdns_masters *m, bool secondary, struct errmsg *err)
{
	if (!secondary && (m->primaries[0] != '\0' || m->key[0] != '\0'))
		return errmsg_set(err, ERR_INVALID,
				  "%s: only a Slave zone has masters, and a zone is made Slave "
				  "(with its masters) when it is created",
				  m->primaries[0] != '\0' ? "masters" : "master_tsig_key_ids");
	if (secondary && m->masters && m->primaries[0] == '\0')
		return errmsg_set(err, ERR_INVALID, "masters: a Slave zone has 1 to %d masters",
				  SECONDARY_PRIMARIES_MAX);
	return 0;
}

/* Whether zone 'zone_id' is a secondary zone (secondary.h): 0 with
 * *ret set, or a negative code. */
static int is_secondary(struct store *st, int64_t zone_id, bool *ret)
{
	int r = store_secondary_held(st, zone_id);

	if (r == 0 || r == -ENOENT)
		*ret = r == 0;
	return r == -ENOENT ? 0 : r;
}

/* zones_settings_change() step of a PUT: the body applied to the
 * settings as they are in the transaction, so that PUTs of different
 * settings at once each change only their own; a secondary zone's masters
 * and key too. */
static int put_settings(struct store *st, struct store_zone *z, char *summary, size_t len,
			void *ctx, struct errmsg *err)
{
	struct put_ctx *p = ctx;
	struct pdns_settings set;
	char stored[STORE_ZONE_PDNS_MAX];
	bool secondary = false;
	int r = put_settings_read(p->body, z->pdns, &set, err);

	if (r == 0 && (p->m.masters || p->m.keys)) {
		r = is_secondary(st, z->id, &secondary);
		if (r < 0)
			return errmsg_set(err, r, "reading the zone's masters: %s", err_str(r));
		r = masters_fit(&p->m, secondary, err);
	}
	if (r == 0 && secondary)
		r = secondary_set(st, z->id, p->m.masters ? p->m.primaries : NULL,
				  p->m.keys ? p->m.key : NULL, &p->secondary_changed);
	if (r < 0)
		return err->text[0] != '\0'
			   ? r
			   : errmsg_set(err, r, "storing the zone's masters: %s", err_str(r));
	pdns_settings_write(&set, stored);
	if (strcmp(stored, z->pdns) == 0 && !p->secondary_changed)
		return 1;
	snprintf(z->pdns, sizeof(z->pdns), "%s", stored);
	int n =
	    snprintf(summary, len, "PowerDNS API settings: kind %s, soa_edit_api %s, account '%s'",
		     set.kind, set.soa_edit_api, set.account);
	if (p->secondary_changed && n >= 0 && (size_t)n < len)
		snprintf(summary + n, len - (size_t)n, "%s%s%s%s", p->m.masters ? ", masters " : "",
			 p->m.masters ? p->m.primaries : "", p->m.keys ? ", master key " : "",
			 p->m.keys ? (p->m.key[0] != '\0' ? p->m.key : "none") : "");
	return 0;
}

/* PUT /api/v1/servers/localhost/zones/:zone: the zone's kind, account,
 * soa_edit_api and signing, a Slave zone's masters and their key; 204.
 * Signing and unsigning are zone versions (the nodes serve the keys); the
 * other settings are only the controller's (zones_settings_change()), and
 * new masters are asked for the zone at once. Other keys are ignored, as
 * in PowerDNS. */
void api_pdns_zone_put(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct store *st;
	struct store_zone z;
	struct pdns_settings set;
	struct errmsg err = { "" };
	struct zone_result res;
	struct put_ctx p = { 0 };
	bool secondary = false;
	int sign;
	json_t *b, *how = NULL;

	if (!api_pdns_our_server(req, rep) || !api_may_write(req, rep) ||
	    (st = api_store(w, rep)) == NULL || api_body_object(req, rep, &b) < 0)
		return;
	if (api_pdns_path_zone(req, rep, st, &z) < 0) {
		json_decref(b);
		return;
	}
	p.body = b;
	/* Checked before signing; applied in the transaction below. */
	int r = put_settings_read(b, z.pdns, &set, &err);
	bool slave = strcmp(set.kind, "Slave") == 0;
	if (r == 0 && slave && json_is_true(json_object_get(b, "dnssec")))
		r = errmsg_set(&err, ERR_INVALID,
			       "dnssec: a Slave zone is served as its masters sign it");
	if (r == 0)
		r = api_pdns_masters_read(w, b, &p.m, &err);
	if (r == 0 && (p.m.masters || p.m.keys) && is_secondary(st, z.id, &secondary) == 0)
		r = masters_fit(&p.m, secondary, &err);
	if (r == 0)
		r = pdns_dnssec_wanted(b, &sign, &how, &err);
	if (r == 0 && how != NULL && sign == -1 && !z.dnssec)
		r = errmsg_set(&err, ERR_INVALID, "nsec3param: the zone is not signed");
	/* Sign, or on a signed zone change the NSEC choice. */
	if (r == 0 && (sign == 1 || how != NULL) && (!z.dnssec || how != NULL)) {
		json_t *view = NULL;
		r = signing_sign(w, z.id, how, api_actor(req), &res, &view, &err);
		json_decref(view);
	} else if (r == 0 && sign == 0 && z.dnssec) {
		/* PowerDNS unsigns when asked; the DS at the parent is the
		 * client's business here as there. */
		r = signing_unsign(w, z.id, true, api_actor(req), &res, &err);
	}
	json_decref(how);
	if (r == 0)
		r = zones_settings_change(w, z.id, put_settings, &p, api_actor(req), &err);
	/* The refresh threads read the new masters and ask them now. */
	if (r >= 0 && p.secondary_changed)
		(void)secondary_retrieve(w, z.id, &err);
	json_decref(b);
	store_zone_clear(&z);
	if (r < 0)
		api_reply_error(rep, r, err.text);
	else
		http_reply_text(rep, 204, NULL, "", 0);
}

/* --- notify, rectify, export --------------------------------------------- */

/* PUT /api/v1/servers/localhost/zones/:zone/axfr-retrieve: a Slave zone
 * is refreshed from its masters now (in the background, as PowerDNS). */
void api_pdns_zone_retrieve(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct store *st;
	struct store_zone z;
	struct errmsg err;
	char msg[DNAME_TEXT_MAX + 64];

	if (!api_pdns_our_server(req, rep) || !api_may_write(req, rep) ||
	    (st = api_store(w, rep)) == NULL || api_pdns_path_zone(req, rep, st, &z) < 0)
		return;
	int r = secondary_retrieve(w, z.id, &err);
	snprintf(msg, sizeof(msg), "Added retrieval request for '%s' from primary", z.domain);
	store_zone_clear(&z);
	if (r == ERR_NOT_FOUND)
		api_reply_error(rep, ERR_INVALID, err.text);
	else if (r < 0)
		api_reply_error(rep, r, err.text);
	else
		http_reply_json(rep, 200, json_pack("{s:s}", "result", msg));
}

/* Whether a node's answer to the NOTIFY request counts as done: it sent
 * it, or it has no secondaries to send it to (the agent's 409), as a
 * pdns_server without any answers "Notification queued". */
static bool notify_done(const json_t *node)
{
	return json_is_true(json_object_get(node, "success")) ||
	       json_integer_value(json_object_get(node, "status")) == 409;
}

/* PUT /api/v1/servers/localhost/zones/:zone/notify: every node sends a
 * NOTIFY to its secondaries (nodes_notify_zone); 200 {"result":
 * "Notification queued"} when every node did or had none to send to,
 * else 502 naming the nodes that failed. */
void api_pdns_zone_notify(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct store *st;
	struct store_zone z, notified;
	struct errmsg err;
	struct buf failed;
	size_t ok = 0, i, done = 0;
	json_t *nodes = NULL, *node;

	if (!api_pdns_our_server(req, rep) || !api_may_write(req, rep) ||
	    (st = api_store(w, rep)) == NULL || api_pdns_path_zone(req, rep, st, &z) < 0)
		return;
	int r = nodes_notify_zone(w, st, z.id, api_actor(req), &notified, &nodes, &ok, &err);
	store_zone_clear(&z);
	if (r < 0) {
		api_reply_error(rep, r, err.text);
		return;
	}
	store_zone_clear(&notified);
	buf_init(&failed, 16384);
	json_array_foreach(nodes, i, node) {
		if (notify_done(node)) {
			done++;
			continue;
		}
		buf_printf(&failed, "%snode '%s': %s", failed.len > 0 ? "; " : "",
			   json_string_value(json_object_get(node, "name")),
			   json_string_value(json_object_get(node, "error")));
	}
	if (done == json_array_size(nodes))
		reply_result(rep, "Notification queued");
	else
		http_reply_error(rep, ERR_UPSTREAM, failed.data);
	buf_free(&failed);
	json_decref(nodes);
}

/* PUT /api/v1/servers/localhost/zones/:zone/rectify: every node rectifies
 * a signed zone itself when it is pushed; nothing is left to do. */
void api_pdns_zone_rectify(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st;
	struct store_zone z;

	if (!api_pdns_our_server(req, rep) || !api_may_write(req, rep) ||
	    (st = api_store(ctx, rep)) == NULL || api_pdns_path_zone(req, rep, st, &z) < 0)
		return;
	store_zone_clear(&z);
	reply_result(rep, "Rectified");
}

/* Whether the request's Accept names JSON, as PowerDNS reads it. */
static bool accepts_json(struct http_request *req)
{
	const char *accept = http_request_header(req, "Accept");
	return accept != NULL && strstr(accept, "application/json") != NULL;
}

/* GET /api/v1/servers/localhost/zones/:zone/export: the zone file as the
 * panel's export writes it (transfer.h), as text/plain, or {"zone": text}
 * for a client that accepts JSON. */
void api_pdns_zone_export(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st;
	struct store_zone z;
	struct errmsg err;
	struct buf out;

	if (!api_pdns_our_server(req, rep) || (st = api_store(ctx, rep)) == NULL ||
	    api_pdns_path_zone(req, rep, st, &z) < 0)
		return;
	buf_init(&out, EXPORT_MAX);
	int r = transfer_export(ctx, z.id, &out, &err);
	store_zone_clear(&z);
	if (r < 0)
		http_reply_error(rep, r, err.text);
	else if (accepts_json(req))
		http_reply_json(
		    rep, 200,
		    json_pack("{s:s%}", "zone", out.data != NULL ? out.data : "", out.len));
	else
		api_reply_buf(rep, "text/plain; charset=us-ascii", &out);
	buf_free(&out);
}

/* --- the server: cache flush, statistics --------------------------------- */

/* The nodes whose answer in 'answers' (sync_agents_call()'s, by node id)
 * is an error, as "node 'NAME': error; ...", into 'out'; how many. */
static size_t failures(struct store *st, const json_t *answers, struct buf *out)
{
	const char *id;
	json_t *a;
	size_t n = 0;

	json_object_foreach((json_t *)answers, id, a) {
		const char *error = json_string_value(json_object_get(a, "error"));
		struct store_server srv;
		if (error == NULL)
			continue;
		if (st != NULL && store_server_get(st, strtoll(id, NULL, 10), &srv) == 0) {
			buf_printf(out, "%snode '%s': %s", n > 0 ? "; " : "", srv.name, error);
			store_server_clear(&srv);
		} else {
			buf_printf(out, "%snode %s: %s", n > 0 ? "; " : "", id, error);
		}
		n++;
	}
	return n;
}

/* PUT /api/v1/servers/localhost/cache/flush?domain=NAME: every node purges
 * NAME and everything below it from its PowerDNS's caches (and refreshes
 * its zone cache entry); "count" is the sum of the nodes' counts. 502 when
 * a node could not, naming it. */
void api_pdns_cache_flush(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	char text[DNAME_TEXT_MAX] = "", name[DNAME_TEXT_MAX], segment[3 * DNAME_TEXT_MAX + 1];
	struct errmsg err;
	json_t *answers = NULL, *a;
	const char *id;
	json_int_t count = 0;

	if (!api_pdns_our_server(req, rep) || !api_may_write(req, rep))
		return;
	int r = http_request_query(req, "domain", text, sizeof(text));
	if (r == 0 && strcmp(text, ".") == 0) /* everything, as in PowerDNS */
		snprintf(name, sizeof(name), ".");
	else if (r < 0 || text[0] == '\0' || text[strlen(text) - 1] != '.' ||
		 dname_owner_normalize(text, ".", name, &err) < 0) /* any name */
		r = ERR_INVALID;
	if (r < 0) {
		http_reply_error(rep, ERR_INVALID,
				 "domain: must be a name with its trailing dot (canonical)");
		return;
	}
	/* The agent decodes its path: "." and names with '?' or '#' too. */
	r = http_pct_encode(name, segment, sizeof(segment));
	if (r == 0)
		r = sync_agents_call(w->sync, AGENT_CACHE_FLUSH, segment,
				     (long)w->conf.agent_timeout_ms, &answers);
	if (r < 0) {
		http_reply_error(rep, r, "cannot ask the nodes");
		return;
	}
	struct buf failed;
	buf_init(&failed, 16384);
	if (failures(whm_store(w), answers, &failed) > 0) {
		http_reply_error(rep, ERR_UPSTREAM, failed.data);
	} else {
		json_object_foreach(answers, id, a)
			count += json_integer_value(json_object_get(a, "count"));
		http_reply_json(rep, 200,
				json_pack("{s:I,s:s}", "count", count, "result", "Flushed cache."));
	}
	buf_free(&failed);
	json_decref(answers);
}

/* How a counter of every node makes the cluster's: latencies are averaged,
 * the uptime is the shortest (the cluster is as old as its youngest
 * node), the security status the worst; everything else (queries,
 * answers, cache hits and misses, sizes) adds up. */
enum stat_merge { STAT_SUM, STAT_MEAN, STAT_MIN, STAT_MAX };

static enum stat_merge stat_merge_of(const char *name)
{
	size_t len = strlen(name);
	if (len >= 7 && strcmp(name + len - 7, "latency") == 0)
		return STAT_MEAN;
	if (strcmp(name, "uptime") == 0)
		return STAT_MIN;
	if (strcmp(name, "security-status") == 0)
		return STAT_MAX;
	return STAT_SUM;
}

/* The nodes' PowerDNS counters ("pdns" of each agent's statistics) merged
 * into 'out' {name: value}; nodes that did not answer are left out. */
static int stats_merge(const json_t *answers, json_t *out)
{
	json_t *seen = json_object(), *a, *v;
	const char *id, *name;

	if (seen == NULL)
		return -ENOMEM;
	json_object_foreach((json_t *)answers, id, a) {
		json_object_foreach(json_object_get(a, "pdns"), name, v) {
			json_int_t x = json_integer_value(v);
			json_t *have = json_object_get(out, name);
			json_int_t y = json_integer_value(have);
			json_int_t n = json_integer_value(json_object_get(seen, name));
			switch (stat_merge_of(name)) {
			case STAT_MIN:
				x = have == NULL || x < y ? x : y;
				break;
			case STAT_MAX:
				x = have == NULL || x > y ? x : y;
				break;
			default: /* a mean is a sum until the end */
				x += y;
			}
			if (json_object_set_new(out, name, json_integer(x)) < 0 ||
			    json_object_set_new(seen, name, json_integer(n + 1)) < 0) {
				json_decref(seen);
				return -ENOMEM;
			}
		}
	}
	json_object_foreach(out, name, v) {
		json_int_t n = json_integer_value(json_object_get(seen, name));
		if (stat_merge_of(name) == STAT_MEAN && n > 0)
			json_integer_set(v, json_integer_value(v) / n);
	}
	json_decref(seen);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* GET /api/v1/servers/localhost/statistics[?statistic=NAME]
 * [&includerings=BOOL]: PowerDNS's counters over the cluster's nodes
 * (stat_merge_of), as PowerDNS lists them: [{"name", "type":
 * "StatisticItem", "value": text}] sorted by name. No rings (there is no
 * cluster's "top queries"): includerings changes nothing. */
void api_pdns_statistics(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	char only[128];
	bool rings;
	json_t *answers = NULL, *stats = json_object();

	if (!api_pdns_our_server(req, rep) ||
	    api_query_bool(req, rep, "includerings", &rings) == ERR_INVALID) {
		json_decref(stats);
		return;
	}
	int q = http_request_query(req, "statistic", only, sizeof(only));
	int r =
	    stats != NULL ? sync_agents_get(w->sync, AGENT_STATISTICS, 1500, &answers) : -ENOMEM;
	if (r == 0)
		r = stats_merge(answers, stats);
	json_decref(answers);
	size_t n = json_object_size(stats), i = 0;
	const char **names = calloc(n + 1, sizeof(*names));
	const char *name;
	json_t *v, *list = json_array();
	if (r == 0 && (names == NULL || list == NULL))
		r = -ENOMEM;
	if (r == 0) {
		json_object_foreach(stats, name, v)
			names[i++] = name;
	}
	if (r == 0)
		qsort(names, n, sizeof(*names), by_name);
	for (i = 0; r == 0 && i < n; i++) {
		char value[24];
		if (q != -ENOENT && (q < 0 || strcmp(names[i], only) != 0))
			continue;
		snprintf(value, sizeof(value), "%lld",
			 (long long)json_integer_value(json_object_get(stats, names[i])));
		if (json_array_append_new(list, json_pack("{s:s,s:s,s:s}", "name", names[i], "type",
							  "StatisticItem", "value", value)) < 0)
			r = -ENOMEM;
	}
	free(names);
	json_decref(stats);
	if (r == 0 && q != -ENOENT && json_array_size(list) == 0) {
		json_decref(list);
		http_reply_error(rep, ERR_INVALID, "Unknown statistic name");
		return;
	}
	api_reply_list(rep, r, list, "cannot read the statistics");
}

/* --- search-data ------------------------------------------------------------ */

#define SEARCH_MAX_DEFAULT 100 /* PowerDNS's default */
#define SEARCH_MAX_LIMIT 10000
/* The longest pattern, as the longest name PowerDNS takes: 255 bytes. */
#define SEARCH_QUERY_MAX 255
/* 64-bit words for the states of a pattern, 0 to SEARCH_QUERY_MAX. */
#define GLOB_WORDS ((SEARCH_QUERY_MAX + 64) / 64)

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* A pattern of PowerDNS's SimpleMatch ('*' any run of bytes, '?' one
 * byte, ASCII case ignored) as an automaton whose states are the pattern
 * positions matched so far, all of them followed at once as bits: matching
 * costs a few word operations a byte of text, however the pattern is made
 * (backtracking would cost text length times pattern length). */
struct glob {
	uint64_t step[256][GLOB_WORDS]; /* positions a byte steps past */
	uint64_t star[GLOB_WORDS];	/* positions of a '*' */
	unsigned end;			/* the state of a whole match */
};

/* 'pattern' (at most SEARCH_QUERY_MAX bytes) into 'g'; runs of '*' are one. */
static void glob_compile(const char *pattern, struct glob *g)
{
	unsigned i = 0;

	memset(g, 0, sizeof(*g));
	for (const char *p = pattern; *p != '\0' && i < SEARCH_QUERY_MAX; p++) {
		uint64_t bit = UINT64_C(1) << (i % 64);
		unsigned char c = (unsigned char)*p;
		if (c == '*' && p > pattern && p[-1] == '*')
			continue;
		if (c == '*') {
			g->star[i / 64] |= bit;
		} else if (c == '?') {
			for (unsigned b = 0; b < 256; b++)
				g->step[b][i / 64] |= bit;
		} else {
			g->step[lower(c)][i / 64] |= bit;
			g->step[c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c][i / 64] |= bit;
		}
		i++;
	}
	g->end = i;
}

/* 'set' = ('a' & 'b') shifted up one state, or-ed with 'keep'. */
static void glob_advance(uint64_t set[GLOB_WORDS], const uint64_t a[GLOB_WORDS],
			 const uint64_t b[GLOB_WORDS], const uint64_t keep[GLOB_WORDS])
{
	uint64_t carry = 0;

	for (unsigned w = 0; w < GLOB_WORDS; w++) {
		uint64_t v = a[w] & b[w];
		set[w] = (v << 1) | carry | keep[w];
		carry = v >> 63;
	}
}

/* Whether 'text' matches the pattern of 'g' whole. A '*' matches the empty
 * run too: reaching one reaches the position after it (the next is not a
 * '*'). */
static bool glob_match(const struct glob *g, const char *text)
{
	uint64_t set[GLOB_WORDS] = { 1 }, next[GLOB_WORDS];
	bool any = true;

	glob_advance(next, set, g->star, set);
	memcpy(set, next, sizeof(set));
	for (const unsigned char *t = (const unsigned char *)text; *t != '\0' && any; t++) {
		uint64_t kept[GLOB_WORDS];
		for (unsigned w = 0; w < GLOB_WORDS; w++)
			kept[w] = set[w] & g->star[w];
		glob_advance(next, set, g->step[*t], kept);
		glob_advance(set, next, g->star, next);
		any = false;
		for (unsigned w = 0; w < GLOB_WORDS; w++)
			any = any || set[w] != 0;
	}
	return (set[g->end / 64] >> (g->end % 64) & 1) != 0;
}

struct search {
	struct store *st;
	const char *q;	      /* the pattern as given */
	const struct glob *g; /* q compiled */
	uint64_t max;	      /* per kind of object, as in PowerDNS */
	uint64_t found;
	json_t *out;
	json_t *zones; /* zone id -> its name, for the records */
};

/* A name as PowerDNS matches it: without its final dot. */
static bool name_matches(const struct glob *g, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s", name);
	size_t n = strlen(buf);
	if (n > 1 && buf[n - 1] == '.')
		buf[n - 1] = '\0';
	return glob_match(g, buf);
}

static int search_zone(const struct store_zone *z, void *ctx)
{
	struct search *s = ctx;
	char text[DNAME_TEXT_MAX], id[DNAME_PDNS_ID_MAX];

	if (!name_matches(s->g, z->domain, text, sizeof(text)))
		return 0;
	dname_pdns_id(z->domain, id);
	if (json_array_append_new(s->out, json_pack("{s:s,s:s,s:s}", "name", z->domain,
						    "object_type", "zone", "zone_id", id)) < 0)
		return -ENOMEM;
	return ++s->found >= s->max ? 1 : 0;
}

/* The name of zone 'id' (from the cache, else the store), or NULL. */
static const char *zone_name(struct search *s, int64_t id)
{
	char key[24];
	struct store_zone z;

	snprintf(key, sizeof(key), "%lld", (long long)id);
	json_t *name = json_object_get(s->zones, key);
	if (name == NULL && store_zone_get(s->st, id, &z) == 0) {
		if (!z.deleted)
			json_object_set_new(s->zones, key, json_string(z.domain));
		store_zone_clear(&z);
		name = json_object_get(s->zones, key);
	}
	return json_string_value(name);
}

/* Whether a record's content matches 'q' as PowerDNS's SQL backends keep
 * it: names without their final dot (outside TXT and SPF strings, a '.'
 * before a space or at the end goes), the MX and SRV priority apart. */
static bool content_matches(const struct glob *g, const struct store_record *rec)
{
	size_t len = strlen(rec->content);
	char *text = malloc(len + 1);
	size_t o = 0;

	if (text == NULL)
		return false;
	bool strings = strcmp(rec->type, "TXT") == 0 || strcmp(rec->type, "SPF") == 0;
	for (size_t i = 0; i < len; i++)
		if (strings || rec->content[i] != '.' ||
		    (rec->content[i + 1] != ' ' && rec->content[i + 1] != '\0') || i == 0)
			text[o++] = rec->content[i];
	text[o] = '\0';
	bool m = glob_match(g, text);
	free(text);
	return m;
}

/* A record matches by its absolute name or by its content
 * (content_matches); it is shown as PowerDNS shows it, the priority in
 * front. */
static int search_record(const struct store_record *rec, void *ctx)
{
	struct search *s = ctx;
	char owner[2 * DNAME_TEXT_MAX], text[2 * DNAME_TEXT_MAX], id[DNAME_PDNS_ID_MAX];
	const char *zone = zone_name(s, rec->zone_id);

	if (zone == NULL)
		return 0;
	if (strcmp(rec->name, "@") == 0)
		snprintf(owner, sizeof(owner), "%s", zone);
	else if (rec->name[strlen(rec->name) - 1] == '.') /* stored absolute (model.h) */
		snprintf(owner, sizeof(owner), "%s", rec->name);
	else
		snprintf(owner, sizeof(owner), "%s.%s", rec->name, zone);
	if (!name_matches(s->g, owner, text, sizeof(text)) && !content_matches(s->g, rec))
		return 0;
	bool prio = strcmp(rec->type, "MX") == 0 || strcmp(rec->type, "SRV") == 0;
	size_t len = strlen(rec->content) + 16;
	char *content = malloc(len);
	if (content == NULL)
		return -ENOMEM;
	if (prio)
		snprintf(content, len, "%u %s", rec->priority, rec->content);
	else
		snprintf(content, len, "%s", rec->content);
	dname_pdns_id(zone, id);
	int r = json_array_append_new(
	    s->out,
	    json_pack("{s:s,s:b,s:s,s:s,s:I,s:s,s:s,s:s}", "content", content, "disabled",
		      rec->disabled, "name", owner, "object_type", "record", "ttl",
		      (json_int_t)rec->ttl, "type", rec->type, "zone", zone, "zone_id", id));
	free(content);
	if (r < 0)
		return -ENOMEM;
	return ++s->found >= s->max ? 1 : 0;
}

/* The comments of one RRset that match by the RRset's absolute name or
 * by their text, as PowerDNS's SQL backends match them. */
static int search_comment(int64_t zone_id, const char *name, const char *type, const char *content,
			  void *ctx)
{
	struct search *s = ctx;
	char owner[2 * DNAME_TEXT_MAX], text[2 * DNAME_TEXT_MAX], id[DNAME_PDNS_ID_MAX];
	const char *zone = zone_name(s, zone_id);
	json_t *list, *c;
	size_t i;
	int r = 0;

	if (zone == NULL)
		return 0;
	if (strcmp(name, "@") == 0)
		snprintf(owner, sizeof(owner), "%s", zone);
	else if (name[0] != '\0' && name[strlen(name) - 1] == '.')
		snprintf(owner, sizeof(owner), "%s", name);
	else
		snprintf(owner, sizeof(owner), "%s.%s", name, zone);
	bool by_name = name_matches(s->g, owner, text, sizeof(text));
	list = json_loads(content, 0, NULL);
	dname_pdns_id(zone, id);
	json_array_foreach(list, i, c) {
		const char *says = json_string_value(json_object_get(c, "content"));
		if (says == NULL || (!by_name && !glob_match(s->g, says)))
			continue;
		if (json_array_append_new(s->out,
					  json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "content", says,
						    "name", owner, "object_type", "comment", "type",
						    type, "zone", zone, "zone_id", id)) < 0) {
			r = -ENOMEM;
			break;
		}
		if (++s->found >= s->max) {
			r = 1;
			break;
		}
	}
	json_decref(list);
	return r;
}

/* The zones 'q' can match: those whose name starts with the part of 'q'
 * before its first wildcard (a range on the name index), or every zone
 * when it starts with one. */
static int search_zones(struct search *s)
{
	char prefix[STORE_PREFIX_MAX + 1];
	size_t n = 0;

	for (const char *p = s->q; *p != '\0' && *p != '*' && *p != '?' && n < STORE_PREFIX_MAX;
	     p++)
		prefix[n++] = (char)lower((unsigned char)*p);
	prefix[n] = '\0';
	if (n == 0)
		return store_zone_foreach(s->st, false, search_zone, s);
	int r = store_zone_foreach_prefix(s->st, prefix, 0, search_zone, s);
	return r == -EINVAL ? 0 : r; /* a byte no stored name has: no zone */
}

/* GET /api/v1/servers/localhost/search-data?q=PATTERN[&max=N]
 * [&object_type=all|zone|record|comment]: zones whose name, and records
 * whose name or content, match PATTERN ('*' and '?', case ignored), at
 * most N of each (100 unless given), zones first, as PowerDNS answers.
 * Zones are found through the name index when PATTERN starts with a
 * literal part; records by a walk of every record in id order that stops
 * at the Nth match (PowerDNS's SQL backends scan their records with LIKE
 * too); comments whose RRset's name or text matches, by a walk of the
 * RRsets that have comments. */
void api_pdns_search(struct http_request *req, struct http_reply *rep, void *ctx)
{
	static const char *const kinds[] = { "all", "zone", "record", "comment", NULL };
	char q[SEARCH_QUERY_MAX + 1], kind[16] = "all";
	struct search s = { 0 };
	unsigned k = 0;

	if (!api_pdns_our_server(req, rep) || (s.st = api_store(ctx, rep)) == NULL)
		return;
	int r = http_request_query(req, "q", q, sizeof(q));
	if (r < 0 || q[0] == '\0') {
		http_reply_error(rep, ERR_INVALID,
				 r == -ENOENT || r == 0 ? "Query q can't be blank"
							: "q: longer than 255 bytes or not text");
		return;
	}
	s.max = SEARCH_MAX_DEFAULT;
	r = api_query_uint(req, rep, "max", 1, SEARCH_MAX_LIMIT, &s.max);
	if (r < 0 && r != -ENOENT)
		return;
	r = http_request_query(req, "object_type", kind, sizeof(kind));
	while (r == 0 && kinds[k] != NULL && strcmp(kind, kinds[k]) != 0)
		k++;
	if ((r < 0 && r != -ENOENT) || kinds[k] == NULL) {
		http_reply_error(rep, ERR_INVALID,
				 "object_type must be one of the following options: all, zone, "
				 "record, comment");
		return;
	}
	s.q = q;
	struct glob *g = malloc(sizeof(*g));
	if (g != NULL)
		glob_compile(q, g);
	s.g = g;
	s.out = json_array();
	s.zones = json_object();
	r = g != NULL && s.out != NULL && s.zones != NULL ? 0 : -ENOMEM;
	if (r == 0 && (k == 0 || k == 1))
		r = search_zones(&s);
	s.found = 0;
	if (r >= 0 && (k == 0 || k == 2))
		r = store_record_foreach_after(s.st, 0, search_record, &s);
	s.found = 0;
	if (r >= 0 && (k == 0 || k == 3))
		r = store_comment_foreach_all(s.st, search_comment, &s);
	json_decref(s.zones);
	free(g);
	api_reply_list(rep, r < 0 ? r : 0, s.out, "cannot search");
}
