/* yumnactl policy: the routing policies of a zone's RRsets (traffic
 * steering; GET and PUT /api/dns/:id/policies). */
#include <stdio.h>
#include <stdlib.h>

#include "base/buf.h"
#include "ctl.h"

#define CMD(i) (&ctl_policy_cmds[i])

/* GET /api/dns/ID/policies'tail' of the zone in the command's one
 * argument: --json prints the answer, else 'print' each item of the array
 * at 'key' (NULL: the answer); an answer without that array is not the
 * controller's. */
static int policy_get(struct ctl *c, const struct ctl_cmd *cmd, int argc, char **argv,
		      const char *tail, const char *key, void (*print)(const json_t *))
{
	struct ctl_answer ans;
	char path[96];
	int64_t id;
	int oi, r = ctl_no_opts(cmd, argc, argv, 1, 1, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_zone_id(c, argv[oi], &id)) != CTL_OK)
		return r;
	snprintf(path, sizeof(path), "/api/dns/%lld/policies%s", (long long)id, tail);
	if ((r = ctl_call(c, "GET", path, NULL, &ans)) != CTL_OK)
		return r;
	r = key != NULL ? ctl_answer_need(c, &ans, key, JSON_ARRAY, NULL)
			: ctl_answer_array(c, &ans);
	if (r != CTL_OK)
		return r;
	if (c->json) {
		ctl_print_json(ans.json);
	} else {
		size_t i;
		json_t *item;
		json_array_foreach(key ? json_object_get(ans.json, key) : ans.json, i, item)
			print(item);
	}
	ctl_answer_clear(&ans);
	return CTL_OK;
}

/* NAME TYPE per-record|rrset POLICY */
static void print_policy(const json_t *p)
{
	char *text = json_dumps(json_object_get(p, "policy"), JSON_COMPACT | JSON_SORT_KEYS);
	printf("%s %s %s %s\n", cell(json_object_get(p, "name")), cell(json_object_get(p, "type")),
	       json_is_true(json_object_get(p, "per_record")) ? "per-record" : "rrset",
	       text ? text : "-");
	free(text);
}

static int policy_list(struct ctl *c, int argc, char **argv)
{
	return policy_get(c, CMD(0), argc, argv, "", NULL, print_policy);
}

/* One RRset of GET /api/dns/:id/policies/health as lines NAME TYPE NODE
 * TARGET STATE, with the reason a node's states are unknown. */
static void print_health(const json_t *rr)
{
	const char *name = cell(json_object_get(rr, "name"));
	const char *type = cell(json_object_get(rr, "type"));
	const char *node, *target;
	json_t *v, *state;

	if (!json_is_true(json_object_get(rr, "checked"))) {
		printf("%s %s - - unchecked\n", name, type);
		return;
	}
	json_object_foreach(json_object_get(rr, "health"), node, v) {
		const char *error = json_string_value(json_object_get(v, "error"));
		json_object_foreach(json_object_get(v, "targets"), target, state) {
			printf("%s %s %s %s %s", name, type, node, target, cell(state));
			if (error != NULL)
				printf(" (%s)", error);
			printf("\n");
		}
	}
}

static int policy_health(struct ctl *c, int argc, char **argv)
{
	return policy_get(c, CMD(3), argc, argv, "/health", "rrsets", print_health);
}

/* PUT the policy of NAME TYPE: 'policy' is stolen (JSON null removes). */
static int put_policy(struct ctl *c, const char *zone, const char *name, const char *type,
		      json_t *policy, const char *what)
{
	char path[96];
	int64_t id;
	int r = ctl_zone_id(c, zone, &id);
	if (r != CTL_OK) {
		json_decref(policy);
		return r;
	}
	json_t *body = json_pack("{s:s, s:s, s:o}", "name", name, "type", type, "policy", policy);
	snprintf(path, sizeof(path), "/api/dns/%lld/policies%s", (long long)id, ctl_wait_query(c));
	return ctl_send_change(c, "PUT", path, body, what);
}

static int policy_set(struct ctl *c, int argc, char **argv)
{
	struct buf file;
	int oi, r = ctl_no_opts(CMD(1), argc, argv, 4, 4, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_read_file(argv[oi + 3], &file)) != CTL_OK)
		return r;
	json_error_t jerr;
	json_t *doc = json_loadb(file.data, file.len, JSON_REJECT_DUPLICATES, &jerr);
	buf_free(&file);
	if (!json_is_object(doc)) {
		fprintf(stderr, "yumnactl: %s:%d: %s\n", argv[oi + 3], jerr.line,
			doc == NULL ? jerr.text : "a policy is a JSON object");
		json_decref(doc);
		return CTL_USAGE;
	}
	return put_policy(c, argv[oi], argv[oi + 1], argv[oi + 2], doc, "routing policy set");
}

static int policy_delete(struct ctl *c, int argc, char **argv)
{
	int oi, r = ctl_no_opts(CMD(2), argc, argv, 3, 3, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	return put_policy(c, argv[oi], argv[oi + 1], argv[oi + 2], json_null(),
			  "routing policy removed");
}

const struct ctl_cmd ctl_policy_cmds[] = {
	{ "policy", "list", policy_list, "ZONE",
	  "List the zone's routing policies: NAME TYPE, 'per-record' when the records'\n"
	  "routing_policy made it or 'rrset' for an RRset-level one, and the policy." },
	{ "policy", "set", policy_set, "ZONE NAME TYPE FILE",
	  "Give the A, AAAA or CNAME RRset NAME TYPE (which has no records) the routing\n"
	  "policy in FILE ('-' is stdin), as one version: weighted, failover, geo or\n"
	  "closest, as docs/whm-api.md describes. Every node then answers by it. Bad\n"
	  "policies are refused (exit 7) and change nothing." },
	{ "policy", "delete", policy_delete, "ZONE NAME TYPE",
	  "Remove the RRset-level routing policy of NAME TYPE, as one version." },
	{ "policy", "health", policy_health, "ZONE",
	  "Show, for every steered RRset, which targets each node's PowerDNS considers\n"
	  "up now: NAME TYPE NODE TARGET up|down|unknown, with the reason after an\n"
	  "unknown (a node that does not answer); 'NAME TYPE - - unchecked' for a policy\n"
	  "without health checks. --json prints the controller's answer." },
	{ 0 },
};
