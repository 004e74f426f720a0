/* yumnactl update-policy: which zones, names and types each TSIG key may
 * change by RFC 2136 UPDATE (the controller's update policies). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "ctl.h"

#define CMD(i) (&ctl_upolicy_cmds[i])
#define ROUTE "/api/dns/update-policies"

static void print_rules(const char *key, const json_t *rules)
{
	size_t i;
	json_t *r;

	json_array_foreach(rules, i, r) {
		const json_t *types = json_object_get(r, "types");
		const json_t *name = json_object_get(r, "name");
		size_t k;
		json_t *t;
		printf("%s\tzone %s %s%s%s types", key, cell(json_object_get(r, "zone")),
		       cell(json_object_get(r, "match")), name ? " " : "",
		       name ? json_string_value(name) : "");
		json_array_foreach(types, k, t)
			printf(" %s", json_string_value(t));
		printf("\n");
	}
}

static int upolicy_list(struct ctl *c, int argc, char **argv)
{
	struct ctl_answer ans;
	int oi, r = ctl_no_opts(CMD(0), argc, argv, 0, 0, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_get_list(c, ROUTE, &ans)) != CTL_OK)
		return r;
	if (c->json) {
		ctl_print_json(ans.json);
	} else {
		size_t i;
		json_t *p;
		json_array_foreach(ans.json, i, p) {
			print_rules(cell(json_object_get(p, "key")), json_object_get(p, "rules"));
		}
	}
	ctl_answer_clear(&ans);
	return CTL_OK;
}

/* A key's policy as the controller answers it: {"key", "rules"}. */
static int print_answer(struct ctl *c, int r, struct ctl_answer *ans)
{
	if (r != CTL_OK ||
	    (r = ctl_answer_need(c, ans, "key", JSON_STRING, "rules", JSON_ARRAY, NULL)) != CTL_OK)
		return r;
	if (c->json)
		ctl_print_json(ans->json);
	else
		print_rules(cell(json_object_get(ans->json, "key")),
			    json_object_get(ans->json, "rules"));
	ctl_answer_clear(ans);
	return CTL_OK;
}

static int upolicy_show(struct ctl *c, int argc, char **argv)
{
	struct ctl_answer ans;
	char path[1024];
	int oi, r = ctl_no_opts(CMD(1), argc, argv, 1, 1, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if (!ctl_name_path(ROUTE, argv[oi], path, sizeof(path)))
		return ctl_args(CMD(1), 0, 1, 1);
	return print_answer(c, ctl_call(c, "GET", path, NULL, &ans), &ans);
}

/* PUT the rules file: {"rules": [...]} or the array alone. */
static int upolicy_set(struct ctl *c, int argc, char **argv)
{
	struct ctl_answer ans;
	struct buf file;
	char path[1024];
	int oi, r = ctl_no_opts(CMD(2), argc, argv, 2, 2, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if (!ctl_name_path(ROUTE, argv[oi], path, sizeof(path)))
		return ctl_args(CMD(2), 0, 2, 2);
	if ((r = ctl_read_file(argv[oi + 1], &file)) != CTL_OK)
		return r;
	json_error_t jerr;
	json_t *doc = json_loadb(file.data ? file.data : "", file.len, 0, &jerr);
	buf_free(&file);
	if (doc == NULL) {
		fprintf(stderr, "yumnactl: %s: line %d: %s\n", argv[oi + 1], jerr.line, jerr.text);
		return CTL_USAGE;
	}
	json_t *body = json_is_array(doc) ? json_pack("{s:o}", "rules", doc) : doc;
	r = ctl_call(c, "PUT", path, body, &ans);
	json_decref(body);
	return print_answer(c, r, &ans);
}

/* One more rule: the key's rules as they are (none without a policy),
 * this one added. */
static int upolicy_grant(struct ctl *c, int argc, char **argv)
{
	struct ctl_answer ans;
	char path[1024];
	int oi, r = ctl_no_opts(CMD(3), argc, argv, 4, 5, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	int n = argc - oi;
	const char *key = argv[oi], *zone = argv[oi + 1], *match = argv[oi + 2];
	const char *name = n == 5 ? argv[oi + 3] : NULL, *types = argv[oi + n - 1];
	if (!ctl_name_path(ROUTE, key, path, sizeof(path)))
		return ctl_args(CMD(3), 0, 4, 5);
	json_t *rules = NULL;
	r = ctl_call_raw(c, "GET", path, NULL, &ans);
	if (r != CTL_OK)
		return r;
	/* 404: the key has no policy yet; any other answer holds its rules,
	 * which the PUT below must keep. */
	if (ans.status != 404 && (r = ctl_answer_check(c, &ans)) == CTL_OK &&
	    (r = ctl_answer_need(c, &ans, "rules", JSON_ARRAY, NULL)) == CTL_OK)
		rules = json_incref(json_object_get(ans.json, "rules"));
	ctl_answer_clear(&ans);
	if (r != CTL_OK)
		return r;
	if (rules == NULL)
		rules = json_array();
	json_t *rule = json_pack("{s:s,s:s,s:[]}", "zone", zone, "match", match, "types");
	if (name != NULL)
		json_object_set_new(rule, "name", json_string(name));
	char *list = strdup(types), *save = NULL;
	for (char *t = strtok_r(list, ", ", &save); t != NULL; t = strtok_r(NULL, ", ", &save))
		json_array_append_new(json_object_get(rule, "types"), json_string(t));
	free(list);
	json_array_append_new(rules, rule);
	json_t *body = json_pack("{s:o}", "rules", rules);
	r = ctl_call(c, "PUT", path, body, &ans);
	json_decref(body);
	return print_answer(c, r, &ans);
}

static int upolicy_delete(struct ctl *c, int argc, char **argv)
{
	return ctl_delete_by_name(c, CMD(4), argc, argv, ROUTE, "update policy of",
				  "deleted: the key may update nothing");
}

const struct ctl_cmd ctl_upolicy_cmds[] = {
	{ "update-policy", "list", upolicy_list, "",
	  "List every TSIG key's RFC 2136 update rules, one line a rule. Admin only." },
	{ "update-policy", "show", upolicy_show, "KEY", "Print key KEY's rules. Admin only." },
	{ "update-policy", "set", upolicy_set, "KEY FILE",
	  "Replace key KEY's rules with those in FILE ('-': stdin), JSON: {\"rules\": [...]} or\n"
	  "the array alone; each rule {\"zone\", \"match\": zone|name|subdomain|wildcard, "
	  "\"name\",\n"
	  "\"types\": [...]}. An empty array leaves the key a policy that allows nothing. Admin\n"
	  "only." },
	{ "update-policy", "grant", upolicy_grant, "KEY ZONE MATCH [NAME] TYPES",
	  "Add one rule to key KEY's rules: updates of ZONE at the names MATCH selects (zone:\n"
	  "every name; name: NAME itself; subdomain: NAME and below; wildcard: below NAME's\n"
	  "'*.' part) and of the TYPES (comma-separated, or ANY; the apex NS only by naming NS).\n"
	  "Example: update-policy grant acme.example.com example.com subdomain _acme-challenge\n"
	  "TXT. Admin only." },
	{ "update-policy", "delete", upolicy_delete, "KEY",
	  "Remove key KEY's rules: it may update nothing. Admin only." },
	{ 0 },
};
