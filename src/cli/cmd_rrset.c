/* yumnactl rrset (changes of one RRset, as pdnsutil and knotc make them),
 * zones increase-serial and zones notify. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "human.h"
#include "model/model.h"

#define CMD(i) (&ctl_rrset_cmds[i])

/* A TTL as every time in yumnactl: seconds, or with a unit (1h, 30m). */
static int parse_ttl(const char *arg, long long *ret)
{
	int64_t ms;
	if (human_parse_duration(arg, (int64_t)DNS_TTL_MAX * 1000, &ms) < 0 || ms % 1000 != 0) {
		fprintf(stderr,
			"yumnactl: a TTL is seconds, 0 to %u, or with a unit (300, 5m, 1h, 1d); "
			"not '%s'\n",
			DNS_TTL_MAX, arg);
		return -1;
	}
	*ret = ms / 1000;
	return 0;
}

struct rrset_opts {
	long long ttl, priority; /* -1: not given */
};

static int rrset_opt(int opt, const char *arg, void *ctx)
{
	struct rrset_opts *o = ctx;
	char *end;
	if (opt == 't')
		return parse_ttl(arg, &o->ttl);
	o->priority = strtoll(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || *end != '\0' || o->priority > 65535) {
		fprintf(stderr, "yumnactl: --priority is 0 to 65535, not '%s'\n", arg);
		return -1;
	}
	return 0;
}

/* PATCH the zone's RRsets with one change and report it as 'what'. */
static int send_rrset(struct ctl *c, int64_t zone, json_t *set, uint64_t if_version,
		      const char *what)
{
	char path[96];
	json_t *body = json_pack("{s:[o]}", "rrsets", set);
	if (body != NULL && if_version > 0)
		json_object_set_new(body, "ifVersion", json_integer((json_int_t)if_version));
	snprintf(path, sizeof(path), "/api/dns/%lld/rrsets%s", (long long)zone, ctl_wait_query(c));
	return ctl_send_change(c, "PATCH", path, body, what);
}

static int rrset_replace(struct ctl *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "ttl", required_argument, NULL, 't' },
		{ "priority", required_argument, NULL, 'p' },
		{ 0 },
	};
	struct rrset_opts o = { -1, -1 };
	int64_t id;
	int oi, r = ctl_getopt(CMD(0), argc, argv, "", lo, rrset_opt, &o, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_args(CMD(0), argc - oi, 4, 10000)) != CTL_OK ||
	    (r = ctl_zone_id(c, argv[oi], &id)) != CTL_OK)
		return r;
	json_t *records = json_array();
	for (int i = oi + 3; i < argc; i++) {
		json_t *rec = json_pack("{s:s}", "content", argv[i]);
		if (rec != NULL && o.priority >= 0)
			json_object_set_new(rec, "priority", json_integer(o.priority));
		json_array_append_new(records, rec);
	}
	json_t *set = json_pack("{s:s,s:s,s:s,s:o}", "name", argv[oi + 1], "type", argv[oi + 2],
				"changetype", "REPLACE", "records", records);
	if (set != NULL && o.ttl >= 0)
		json_object_set_new(set, "ttl", json_integer(o.ttl));
	return send_rrset(c, id, set, 0, "rrset replaced");
}

static int rrset_delete(struct ctl *c, int argc, char **argv)
{
	int64_t id;
	int oi, r = ctl_no_opts(CMD(1), argc, argv, 3, 3, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_zone_id(c, argv[oi], &id)) != CTL_OK)
		return r;
	json_t *set = json_pack("{s:s,s:s,s:s}", "name", argv[oi + 1], "type", argv[oi + 2],
				"changetype", "DELETE");
	return send_rrset(c, id, set, 0, "rrset deleted");
}

/* The records of RRset 'name' 'type' in 'records' (a listing of zone
 * 'domain'), as an RRset change's records; NULL when it has none. The
 * RRset is found by its stored form, whatever form NAME was given in. */
static json_t *rrset_records(const json_t *records, const char *domain, const char *name,
			     const char *type)
{
	char origin[DNAME_TEXT_MAX], want[DNAME_TEXT_MAX], wtype[16];
	struct errmsg err;
	if (dname_zone_normalize(domain, origin, &err) < 0 ||
	    model_rrset_parse(name, type, origin, want, wtype, &err) < 0) {
		fprintf(stderr, "yumnactl: %s %s: %s\n", name, type, err.text);
		return NULL;
	}
	json_t *out = json_array(), *rec;
	size_t i;
	json_array_foreach(records, i, rec) {
		const char *n = json_string_value(json_object_get(rec, "name"));
		const char *t = json_string_value(json_object_get(rec, "type"));
		if (n == NULL || t == NULL || strcmp(n, want) != 0 || strcmp(t, wtype) != 0)
			continue;
		json_t *o = json_pack("{s:O}", "content", json_object_get(rec, "content"));
		if (o != NULL && (strcmp(t, "MX") == 0 || strcmp(t, "SRV") == 0))
			json_object_set(o, "priority", json_object_get(rec, "priority"));
		json_array_append_new(out, o);
	}
	if (json_array_size(out) == 0) {
		fprintf(stderr, "yumnactl: zone %s has no RRset %s %s\n", domain, want, wtype);
		json_decref(out);
		return NULL;
	}
	return out;
}

/* The TTL is the RRset's: its records are read and put back with the new
 * one, on condition that the zone is still at the version read first (a
 * change meanwhile makes it 409, nothing lost). */
static int rrset_set_ttl(struct ctl *c, int argc, char **argv)
{
	struct ctl_answer zone, recs;
	long long ttl;
	int64_t id;
	int oi, r = ctl_no_opts(CMD(2), argc, argv, 4, 4, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if (parse_ttl(argv[oi + 3], &ttl) < 0)
		return CTL_USAGE;
	if ((r = ctl_zone_id(c, argv[oi], &id)) != CTL_OK ||
	    (r = ctl_zone_read(c, id, &zone, &recs)) != CTL_OK)
		return r;
	const char *domain = json_string_value(json_object_get(zone.json, "domain"));
	uint64_t version = (uint64_t)json_integer_value(json_object_get(zone.json, "version"));
	json_t *records =
	    rrset_records(recs.json, domain ? domain : "", argv[oi + 1], argv[oi + 2]);
	ctl_answer_clear(&zone);
	ctl_answer_clear(&recs);
	if (records == NULL)
		return CTL_NOT_FOUND;
	json_t *set =
	    json_pack("{s:s,s:s,s:s,s:I,s:o}", "name", argv[oi + 1], "type", argv[oi + 2],
		      "changetype", "REPLACE", "ttl", (json_int_t)ttl, "records", records);
	return send_rrset(c, id, set, version, "rrset TTL set");
}

static int zones_increase_serial(struct ctl *c, int argc, char **argv)
{
	char path[96];
	int64_t id;
	int oi, r = ctl_no_opts(CMD(3), argc, argv, 1, 1, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_zone_id(c, argv[oi], &id)) != CTL_OK)
		return r;
	snprintf(path, sizeof(path), "/api/dns/%lld/increase-serial%s", (long long)id,
		 ctl_wait_query(c));
	return ctl_send_change(c, "POST", path, NULL, "serial increased");
}

static int zones_notify(struct ctl *c, int argc, char **argv)
{
	struct ctl_answer ans;
	char path[96];
	int64_t id;
	int oi, r = ctl_no_opts(CMD(4), argc, argv, 1, 1, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_zone_id(c, argv[oi], &id)) != CTL_OK)
		return r;
	snprintf(path, sizeof(path), "/api/dns/%lld/notify", (long long)id);
	if ((r = ctl_call_raw(c, "POST", path, NULL, &ans)) != CTL_OK)
		return r;
	json_t *nodes = json_object_get(ans.json, "nodes");
	/* Anything but a per-node report is an error like any other, and a
	 * 2xx without one is not the controller's. */
	if (!json_is_array(nodes) && (r = ctl_answer_check(c, &ans)) != CTL_OK)
		return r;
	if ((r = ctl_answer_need(c, &ans, "nodes", JSON_ARRAY, "successCount", JSON_INTEGER,
				 NULL)) != CTL_OK)
		return r;
	json_int_t ok = json_integer_value(json_object_get(ans.json, "successCount"));
	/* No node: none sent it (the controller counts 0 of 0 as all). */
	bool none = json_array_size(nodes) == 0;
	if (ans.status == 200 && !none)
		r = CTL_OK;
	else
		r = ok > 0 ? CTL_PARTIAL : CTL_FAILED;
	if (c->json) {
		ctl_print_json(ans.json);
	} else {
		printf("NOTIFY for zone %s: %lld of %zu nodes sent it\n",
		       cell(json_object_get(ans.json, "zone")), (long long)ok,
		       json_array_size(nodes));
		size_t i;
		json_t *n;
		json_array_foreach(nodes, i, n) {
			bool sent = json_is_true(json_object_get(n, "success"));
			printf("  node %-12s %s%s%s\n", cell(json_object_get(n, "name")),
			       sent ? "sent" : "NOT sent", sent ? "" : ": ",
			       sent ? "" : cell(json_object_get(n, "error")));
		}
	}
	if (none)
		fprintf(stderr, "yumnactl: no cluster nodes: none sent the NOTIFY\n");
	else if (r != CTL_OK)
		fprintf(stderr, "yumnactl: not every node sent the NOTIFY\n");
	ctl_answer_clear(&ans);
	return r;
}

const struct ctl_cmd ctl_rrset_cmds[] = {
	{ "rrset", "replace", rrset_replace, "[--ttl N] [--priority N] ZONE NAME TYPE CONTENT...",
	  "Give the RRset NAME TYPE exactly the records CONTENT... (one argument each),\n"
	  "as one version; records that stay keep their ids. NAME is '@', relative to the\n"
	  "zone ('www') or absolute with a final dot. An MX or SRV priority is --priority\n"
	  "(for every record) or the start of each CONTENT ('10 mx1'). Without --ttl an\n"
	  "existing RRset keeps its TTL (a new one gets the controller's default-ttl);\n"
	  "TTLs are seconds or with a unit (5m, 1h, 1d). Like pdnsutil replace-rrset." },
	{ "rrset", "delete", rrset_delete, "ZONE NAME TYPE",
	  "Delete every record of the RRset NAME TYPE, as one version." },
	{ "rrset", "set-ttl", rrset_set_ttl, "ZONE NAME TYPE TTL",
	  "Give the RRset NAME TYPE a new TTL (seconds, or with a unit: 5m, 1h, 1d) and\n"
	  "keep its records, as one version. Refused (exit 7) if the zone changed between\n"
	  "the read of the RRset and the change; exit 6 if the zone has no such RRset." },
	{ "zones", "increase-serial", zones_increase_serial, "ZONE",
	  "Give the zone a new version with the next SOA serial and the same records,\n"
	  "pushed to every node (secondaries that follow a node see the zone move).\n"
	  "Like pdnsutil increase-serial." },
	{ "zones", "notify", zones_notify, "ZONE",
	  "Make every node send a DNS NOTIFY for the zone to its secondaries (its\n"
	  "also-notify), and print what each node answered. Exit 0 when every node sent\n"
	  "it, 8 when some did, 1 when none did (a node without also-notify refuses).\n"
	  "Like knotc zone-notify." },
	{ 0 },
};
