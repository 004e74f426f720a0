/* yumnactl zones set-soa, and the SOA as zones show prints it. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "human.h"

#define CMD(i) (&ctl_soa_cmds[i])

static const char *const soa_fields[] = {
	"mname", "rname", "refresh", "retry", "expire", "minimum"
};

/* Whether the zone sets 'field' itself (the answer's "own" list). */
static bool own(const json_t *soa, const char *field)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(soa, "own"), i, f)
		if (strcmp(json_string_value(f) ? json_string_value(f) : "", field) == 0)
			return true;
	return false;
}

void ctl_print_soa(const json_t *soa)
{
	if (!json_is_object(soa))
		return;
	printf("soa      mname %s%s, rname %s%s, serial %s\n", cell(json_object_get(soa, "mname")),
	       own(soa, "mname") ? "*" : "", cell(json_object_get(soa, "rname")),
	       own(soa, "rname") ? "*" : "", cell(json_object_get(soa, "serial")));
	printf("         refresh %s%s, retry %s%s, expire %s%s, minimum %s%s, ttl %s\n",
	       cell(json_object_get(soa, "refresh")), own(soa, "refresh") ? "*" : "",
	       cell(json_object_get(soa, "retry")), own(soa, "retry") ? "*" : "",
	       cell(json_object_get(soa, "expire")), own(soa, "expire") ? "*" : "",
	       cell(json_object_get(soa, "minimum")), own(soa, "minimum") ? "*" : "",
	       cell(json_object_get(soa, "ttl")));
	printf("         (%s)\n",
	       json_array_size(json_object_get(soa, "own")) > 0
		   ? "* this zone's own; the rest are the cluster's soa-* settings"
		   : "the cluster's soa-* settings");
}

static int soa_opt(int opt, const char *arg, void *ctx)
{
	json_t *soa = ctx;
	const char *field = soa_fields[opt - '0'];
	int64_t ms;

	/* "default": give the field back to the cluster. */
	if (strcmp(arg, "default") == 0)
		return json_object_set_new(soa, field, json_null());
	if (opt <= '1')
		return json_object_set_new(soa, field, json_string(arg));
	/* Seconds, as every time in yumnactl, or as zone files write them. */
	if (human_parse_duration(arg, 0x7fffffffLL * 1000, &ms) < 0 || ms % 1000 != 0) {
		fprintf(stderr,
			"yumnactl: --%s takes seconds (7200, or with a unit: 2h, 30m, 1d, 1w), or "
			"'default'\n",
			field);
		return -1;
	}
	return json_object_set_new(soa, field, json_integer(ms / 1000));
}

static int zones_set_soa(struct ctl *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "mname", required_argument, NULL, '0' },
		{ "rname", required_argument, NULL, '1' },
		{ "refresh", required_argument, NULL, '2' },
		{ "retry", required_argument, NULL, '3' },
		{ "expire", required_argument, NULL, '4' },
		{ "minimum", required_argument, NULL, '5' },
		{ 0 },
	};
	struct ctl_answer ans;
	json_t *soa = json_object();
	char path[96];
	int64_t id;
	int oi, r = ctl_getopt(CMD(0), argc, argv, "", lo, soa_opt, soa, &oi);
	if (r == 0)
		r = ctl_args(CMD(0), argc - oi, 1, 1);
	if (r == 0 && json_object_size(soa) == 0) {
		fprintf(stderr, "yumnactl: zones set-soa: nothing to set (give --mname, --rname, "
				"--refresh, --retry, --expire or --minimum)\n");
		r = CTL_USAGE;
	}
	if (r == 0)
		r = ctl_zone_id(c, argv[oi], &id);
	if (r != 0) {
		json_decref(soa);
		return r < 0 ? CTL_OK : r;
	}
	json_t *body = json_pack("{s:o}", "soa", soa);
	snprintf(path, sizeof(path), "/api/dns/%lld%s", (long long)id, ctl_wait_query(c));
	r = ctl_call_ok(c, "PUT", path, body, &ans);
	json_decref(body);
	if (r != CTL_OK)
		return r;
	/* A new version (an unchanged SOA makes none) that no node serves, as
	 * ctl_print_change() judges it. */
	json_t *nodes = json_object_get(ans.json, "nodes");
	bool nowhere = c->wait && json_is_array(nodes) && json_array_size(nodes) == 0;
	bool partial = nowhere || (c->wait && json_is_false(json_object_get(ans.json, "synced")));
	if (nowhere)
		fprintf(stderr, "yumnactl: no cluster nodes: the change is stored, but nothing "
				"serves the zone\n");
	if (c->json) {
		ctl_print_json(ans.json);
	} else {
		if (json_is_true(json_object_get(ans.json, "changed")))
			printf("SOA of zone %s set: version %s, serial %s\n", argv[oi],
			       cell(json_object_get(ans.json, "version")),
			       cell(json_object_get(ans.json, "serial")));
		else
			printf("zone %s: the SOA is already so; nothing changed\n", argv[oi]);
		ctl_print_soa(json_object_get(ans.json, "soa"));
	}
	ctl_answer_clear(&ans);
	return partial ? CTL_PARTIAL : CTL_OK;
}

const struct ctl_cmd ctl_soa_cmds[] = {
	{ "zones", "set-soa", zones_set_soa,
	  "[--mname NAME] [--rname NAME|MAIL] [--refresh S] [--retry S] [--expire S] [--minimum "
	  "S] ZONE",
	  "Set the zone's own SOA fields; the others stay the cluster's (soa-* settings), and\n"
	  "'default' gives one back. Times are seconds, or with a unit: 2h, 30m, 1d, 1w.\n"
	  "Refresh and retry 60 s to 4 weeks, retry at most refresh, expire 1 hour to a year\n"
	  "and at least refresh + retry, minimum (negative caching) 0 to 1 day. The serial\n"
	  "stays the controller's. One new version of the zone; the same values again change\n"
	  "nothing." },
	{ 0 },
};
