/* yumnactl transfers: who may transfer the zones (an address or prefix
 * with the TSIG key it signs with) and whom the nodes notify of changes;
 * the cluster's default, or one zone's own. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define CMD(i) (&ctl_transfers_cmds[i])
#define DEFAULT_ROUTE "/api/dns/transfers"

/* The route of zone 'arg' (an id or a name), or the default's for NULL. */
static int route_of(struct ctl *c, const char *arg, char *path, size_t len)
{
	int64_t id;
	if (arg == NULL) {
		snprintf(path, len, "%s", DEFAULT_ROUTE);
		return CTL_OK;
	}
	int r = ctl_zone_id(c, arg, &id);
	if (r == CTL_OK)
		snprintf(path, len, "/api/dns/%lld/transfers", (long long)id);
	return r;
}

/* Print the settings the controller answered with ({"allow", "notify"})
 * and clear 'ans'. */
static int print_settings(struct ctl *c, struct ctl_answer *ans)
{
	size_t i;
	json_t *v;
	int r = ctl_answer_need(c, ans, "allow", JSON_ARRAY, "notify", JSON_ARRAY, NULL);

	if (r != CTL_OK)
		return r;
	const json_t *j = ans->json;
	if (c->json) {
		ctl_print_json(j);
		ctl_answer_clear(ans);
		return CTL_OK;
	}
	if (json_object_get(j, "default") != NULL)
		printf("settings: %s\n", json_is_true(json_object_get(j, "default"))
					     ? "the cluster's default"
					     : "the zone's own");
	json_array_foreach(json_object_get(j, "allow"), i, v)
		printf("allow %s key %s\n", cell(json_object_get(v, "from")),
		       cell(json_object_get(v, "key")));
	json_array_foreach(json_object_get(j, "notify"), i, v)
		printf("notify %s\n", cell(v));
	ctl_answer_clear(ans);
	return CTL_OK;
}

static int show(struct ctl *c, int argc, char **argv)
{
	struct ctl_answer ans;
	char path[128];
	int oi, r = ctl_no_opts(CMD(0), argc, argv, 0, 1, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = route_of(c, oi < argc ? argv[oi] : NULL, path, sizeof(path))) != CTL_OK)
		return r;
	if ((r = ctl_call(c, "GET", path, NULL, &ans)) != CTL_OK)
		return r;
	return print_settings(c, &ans);
}

struct set_opts {
	json_t *allow, *notify;
	bool bad;
};

/* --allow FROM=KEY, --notify ADDRESS[:PORT]; the controller checks them. */
static int set_opt(int opt, const char *arg, void *ctx)
{
	struct set_opts *o = ctx;
	const char *eq = strchr(arg, '=');

	if (opt == 'n')
		return json_array_append_new(o->notify, json_string(arg)) == 0 ? 0 : CTL_USAGE;
	if (eq == NULL || eq == arg || eq[1] == '\0') {
		fprintf(stderr, "yumnactl: --allow takes FROM=KEY (192.0.2.0/24=key1.example.)\n");
		o->bad = true;
		return CTL_USAGE;
	}
	char *from = strndup(arg, (size_t)(eq - arg));
	json_t *e = from != NULL ? json_pack("{s:s,s:s}", "from", from, "key", eq + 1) : NULL;
	free(from);
	return e != NULL && json_array_append_new(o->allow, e) == 0 ? 0 : CTL_USAGE;
}

static const struct option set_longopts[] = { { "allow", required_argument, NULL, 'a' },
					      { "notify", required_argument, NULL, 'n' },
					      { 0 } };

static int set(struct ctl *c, int argc, char **argv)
{
	struct set_opts o = { json_array(), json_array(), false };
	struct ctl_answer ans;
	char path[160];
	int oi, r = ctl_getopt(CMD(1), argc, argv, "", set_longopts, set_opt, &o, &oi);
	if (r == 0)
		r = ctl_args(CMD(1), argc - oi, 0, 1);
	if (r == 0)
		r = route_of(c, oi < argc ? argv[oi] : NULL, path, sizeof(path));
	json_t *b = json_pack("{s:o,s:o}", "allow", o.allow, "notify", o.notify);
	if (r == 0 && oi < argc)
		strncat(path, ctl_wait_query(c), sizeof(path) - strlen(path) - 1);
	if (r == 0)
		r = ctl_call(c, "PUT", path, b, &ans);
	json_decref(b);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	return print_settings(c, &ans);
}

static int follow_default(struct ctl *c, int argc, char **argv)
{
	char path[160];
	int oi, r = ctl_no_opts(CMD(2), argc, argv, 1, 1, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = route_of(c, argv[oi], path, sizeof(path))) != CTL_OK)
		return r;
	strncat(path, ctl_wait_query(c), sizeof(path) - strlen(path) - 1);
	return ctl_send_change(c, "DELETE", path, NULL, "transfer settings: the cluster's default");
}

const struct ctl_cmd ctl_transfers_cmds[] = {
	{ "transfers", "show", show, "[ZONE]",
	  "Show who may transfer ZONE (an address or prefix and the TSIG key it must sign with)\n"
	  "and whom the nodes notify of its changes; without ZONE, the cluster's default, which\n"
	  "every zone without settings of its own follows." },
	{ "transfers", "set", set, "[--allow FROM=KEY]... [--notify ADDRESS[:PORT]]... [ZONE]",
	  "Replace ZONE's settings (without ZONE: the cluster's default) with these: each\n"
	  "--allow lets FROM (192.0.2.1, 2001:db8::/32) transfer with key KEY (yumnactl tsig);\n"
	  "each --notify is told of every change (192.0.2.1, 192.0.2.1:5300, [2001:db8::1]:53).\n"
	  "None of either: nobody. Every node is a primary for them. Admin only." },
	{ "transfers", "default", follow_default, "ZONE",
	  "ZONE drops its own settings and follows the cluster's default again. Admin only." },
	{ 0 },
};
