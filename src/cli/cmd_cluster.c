/* yumnactl servers, nodes, status, health, sync and sync-all. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "ctl.h"
#include "human.h"

#define CMD(i) (&ctl_cluster_cmds[i])

/* --- servers ------------------------------------------------------------------ */

static void servers_table(const json_t *list)
{
	static const char *const h[] = { "ID",	       "NAME",	 "ADDRESS", "AGENT PORT",
					 "IN CLUSTER", "STATUS", "POWERDNS" };
	struct table *t = table_new(7, h);
	size_t i;
	json_t *s;
	json_array_foreach(list, i, s) {
		const char *row[7] = { cell(json_object_get(s, "id")),
				       cell(json_object_get(s, "name")),
				       cell(json_object_get(s, "ip")),
				       cell(json_object_get(s, "agent_port")),
				       cell(json_object_get(s, "in_cluster")),
				       cell(json_object_get(s, "status")),
				       cell(json_object_get(s, "pdns_version")) };
		table_add(t, row);
	}
	table_print_free(t);
}

static int servers_list(struct ctl *c, int argc, char **argv)
{
	struct ctl_answer ans;
	int oi, r = ctl_no_opts(CMD(0), argc, argv, 0, 0, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_get_list(c, "/api/dns/servers", &ans)) != CTL_OK)
		return r;
	if (c->json)
		ctl_print_json(ans.json);
	else
		servers_table(ans.json);
	ctl_answer_clear(&ans);
	return CTL_OK;
}

struct server_opts {
	const char *hostname;
	const char *secret_file;
	const char *name;    /* update */
	const char *address; /* update */
	long port;
	bool join;
	bool no_check;
};

static int server_opt(int opt, const char *arg, void *ctx)
{
	struct server_opts *o = ctx;
	char *end;
	switch (opt) {
	case 'H':
		o->hostname = arg;
		return 0;
	case 'n':
		o->name = arg;
		return 0;
	case 'a':
		o->address = arg;
		return 0;
	case 'N':
		o->no_check = true;
		return 0;
	case 's':
		o->secret_file = arg;
		return 0;
	case 'j':
		o->join = true;
		return 0;
	case 'p':
		errno = 0;
		o->port = strtol(arg, &end, 10);
		if (*end != '\0' || errno != 0 || o->port < 1 || o->port > 65535) {
			fprintf(stderr, "yumnactl: --agent-port is 1 to 65535\n");
			return -1;
		}
		return 0;
	}
	return -1;
}

/* The agent secret comes from a private file or stdin, never from the
 * command line, where every user of the host could read it in ps. */
static int read_secret(const char *path, char **ret)
{
	struct errmsg err;
	if (strcmp(path, "-") == 0) {
		char line[1100];
		if (fgets(line, sizeof(line), stdin) == NULL) {
			fprintf(stderr, "yumnactl: no agent secret on stdin\n");
			return CTL_USAGE;
		}
		line[strcspn(line, "\r\n")] = '\0';
		*ret = strdup(line);
		explicit_bzero(line, sizeof(line));
		return *ret ? CTL_OK : CTL_FAILED;
	}
	if (conf_read_secret_file(path, ret, &err) < 0) {
		fprintf(stderr, "yumnactl: %s\n", err.text);
		return CTL_CONFIG;
	}
	return CTL_OK;
}

/* "" or "?check=false" (--no-check: the agent is not asked first). */
static const char *check_query(const struct server_opts *o)
{
	return o->no_check ? "?check=false" : "";
}

static int servers_add(struct ctl *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "hostname", required_argument, NULL, 'H' },
		{ "agent-port", required_argument, NULL, 'p' },
		{ "secret-file", required_argument, NULL, 's' },
		{ "join", no_argument, NULL, 'j' },
		{ "no-check", no_argument, NULL, 'N' },
		{ 0 },
	};
	struct server_opts o = { 0 };
	char path[64];
	struct ctl_answer ans;
	char *secret = NULL;
	int oi, r = ctl_getopt(CMD(1), argc, argv, "", lo, server_opt, &o, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_args(CMD(1), argc - oi, 2, 2)) != CTL_OK)
		return r;
	if (o.port == 0 || o.secret_file == NULL) {
		fprintf(stderr, "yumnactl: servers add needs --agent-port and --secret-file\n");
		return CTL_USAGE;
	}
	if ((r = read_secret(o.secret_file, &secret)) != CTL_OK)
		return r;
	json_t *b = json_pack("{s:s,s:s,s:I,s:s}", "name", argv[oi], "ip", argv[oi + 1],
			      "agent_port", (json_int_t)o.port, "agent_secret", secret);
	explicit_bzero(secret, strlen(secret));
	free(secret);
	if (o.hostname != NULL)
		json_object_set_new(b, "hostname", json_string(o.hostname));
	snprintf(path, sizeof(path), "/api/dns/servers%s", check_query(&o));
	r = ctl_call(c, "POST", path, b, &ans);
	json_decref(b);
	if (r != CTL_OK || (r = ctl_answer_need(c, &ans, "id", JSON_INTEGER, NULL)) != CTL_OK)
		return r;
	int64_t id = json_integer_value(json_object_get(ans.json, "id"));
	if (c->json && !o.join)
		ctl_print_json(ans.json);
	else if (!c->json)
		printf("server '%s' registered with id %lld\n", argv[oi], (long long)id);
	ctl_answer_clear(&ans);
	if (o.join) {
		snprintf(path, sizeof(path), "/api/dns/cluster/nodes/%lld", (long long)id);
		if ((r = ctl_call_ok(c, "POST", path, NULL, &ans)) != CTL_OK)
			return r;
		if (c->json)
			ctl_print_json(ans.json);
		else
			printf("%s\n", cell(json_object_get(ans.json, "message")));
		ctl_answer_clear(&ans);
	}
	return CTL_OK;
}

/* Only what is given changes; the secret, as for add, from a file or stdin. */
static int servers_update(struct ctl *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "address", required_argument, NULL, 'a' },
		{ "hostname", required_argument, NULL, 'H' },
		{ "agent-port", required_argument, NULL, 'p' },
		{ "secret-file", required_argument, NULL, 's' },
		{ "no-check", no_argument, NULL, 'N' },
		{ 0 },
	};
	struct server_opts o = { 0 };
	struct ctl_answer ans;
	char path[96];
	int64_t id;
	int oi, r = ctl_getopt(CMD(2), argc, argv, "", lo, server_opt, &o, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_args(CMD(2), argc - oi, 1, 1)) != CTL_OK ||
	    (r = ctl_parse_id("the server id", argv[oi], &id)) != CTL_OK)
		return r;
	json_t *b = json_object();
	if (o.name != NULL)
		json_object_set_new(b, "name", json_string(o.name));
	if (o.address != NULL)
		json_object_set_new(b, "ip", json_string(o.address));
	if (o.hostname != NULL)
		json_object_set_new(b, "hostname", json_string(o.hostname));
	if (o.port != 0)
		json_object_set_new(b, "agent_port", json_integer(o.port));
	if (o.secret_file != NULL) {
		char *secret = NULL;
		if ((r = read_secret(o.secret_file, &secret)) != CTL_OK) {
			json_decref(b);
			return r;
		}
		json_object_set_new(b, "agent_secret", json_string(secret));
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
	if (json_object_size(b) == 0) {
		json_decref(b);
		fprintf(stderr, "yumnactl: servers update: nothing to change (give --name, "
				"--address, --hostname, --agent-port or --secret-file)\n");
		return CTL_USAGE;
	}
	snprintf(path, sizeof(path), "/api/dns/servers/%lld%s", (long long)id, check_query(&o));
	r = ctl_call(c, "PUT", path, b, &ans);
	json_decref(b);
	if (r != CTL_OK || (r = ctl_answer_need(c, &ans, "id", JSON_INTEGER, NULL)) != CTL_OK)
		return r;
	if (c->json)
		ctl_print_json(ans.json);
	else
		printf("server %lld updated\n", (long long)id);
	ctl_answer_clear(&ans);
	return CTL_OK;
}

struct removal_opts {
	bool purge, keep, force;
};

static int removal_opt(int opt, const char *arg, void *ctx)
{
	struct removal_opts *o = ctx;
	(void)arg;
	if (opt == 'P')
		o->purge = true;
	else if (opt == 'K')
		o->keep = true;
	else
		o->force = true;
	return 0;
}

/* servers remove (unregister: its zones are purged unless --keep-zones) and
 * nodes remove (it leaves the cluster: zones kept unless --purge). */
static int removal(struct ctl *c, const struct ctl_cmd *cmd, int argc, char **argv, bool unregister)
{
	static const struct option lo_server[] = {
		{ "keep-zones", no_argument, NULL, 'K' },
		{ "force", no_argument, NULL, 'f' },
		{ 0 },
	};
	static const struct option lo_node[] = {
		{ "purge", no_argument, NULL, 'P' },
		{ "force", no_argument, NULL, 'f' },
		{ 0 },
	};
	struct removal_opts o = { 0 };
	struct ctl_answer ans;
	char path[128];
	int64_t id;
	int oi, r = ctl_getopt(cmd, argc, argv, "", unregister ? lo_server : lo_node, removal_opt,
			       &o, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_args(cmd, argc - oi, 1, 1)) != CTL_OK ||
	    (r = ctl_parse_id("the server id", argv[oi], &id)) != CTL_OK)
		return r;
	bool purge = unregister ? !o.keep : o.purge;
	snprintf(path, sizeof(path), "/api/dns/%s/%lld?purge=%s%s",
		 unregister ? "servers" : "cluster/nodes", (long long)id, purge ? "true" : "false",
		 o.force ? "&force=true" : "");
	r = ctl_call_ok(c, "DELETE", path, NULL, &ans);
	if (r == CTL_REFUSED && purge && !o.force)
		fprintf(stderr, "yumnactl: to remove it anyway: yumnactl %s remove %s %s\n",
			cmd->group, unregister ? "--keep-zones or --force" : "--force", argv[oi]);
	if (r != CTL_OK)
		return r;
	const char *warning = json_string_value(json_object_get(ans.json, "warning"));
	bool purged = json_is_true(json_object_get(ans.json, "purged"));
	if (c->json) {
		ctl_print_json(ans.json);
	} else {
		if (unregister)
			printf("server %lld removed\n", (long long)id);
		else
			printf("%s\n", cell(json_object_get(ans.json, "message")));
		if (purged)
			printf("zones deleted from the node: %s\n",
			       cell(json_object_get(ans.json, "zonesDeleted")));
	}
	if (warning != NULL)
		fprintf(stderr, "yumnactl: warning: %s\n", warning);
	ctl_answer_clear(&ans);
	/* Asked to purge, forced past a failure: done, not everywhere. */
	return purge && warning != NULL ? CTL_PARTIAL : CTL_OK;
}

static int servers_remove(struct ctl *c, int argc, char **argv)
{
	return removal(c, CMD(3), argc, argv, true);
}

/* --- nodes and status ------------------------------------------------------------ */

static void status_table(const json_t *st)
{
	static const char *const h[] = { "ID",	     "HOST",	"ADDRESS",   "STATUS",
					 "POWERDNS", "IN SYNC", "BEHIND",    "FAILING",
					 "DELETING", "LAG",	"LAST ERROR" };
	struct table *t = table_new(11, h);
	size_t i;
	json_t *n;
	json_array_foreach(json_object_get(st, "nodes"), i, n) {
		json_t *z = json_object_get(n, "zones"), *d = json_object_get(n, "dnsStatus");
		char lag[32];
		snprintf(lag, sizeof(lag), "%ss", cell(json_object_get(n, "lag_seconds")));
		const char *err = json_string_value(json_object_get(n, "lastError"));
		const char *row[11] = { cell(json_object_get(n, "nodeId")),
					cell(json_object_get(n, "hostname")),
					cell(json_object_get(n, "ip")),
					cell(json_object_get(n, "status")),
					cell(json_object_get(d, "version")),
					cell(json_object_get(z, "in_sync")),
					cell(json_object_get(z, "behind")),
					cell(json_object_get(z, "failing")),
					cell(json_object_get(z, "deleting")),
					lag,
					err && err[0] ? err : "-" };
		table_add(t, row);
	}
	table_print_free(t);
}

/* What the answer of GET /api/dns/cluster/status lacks for a verdict, or
 * NULL: each node's status and its counts of zones behind, deleting and
 * failing, which a missing field must not make 0. */
static const char *status_missing(const json_t *st)
{
	size_t i;
	json_t *n;
	json_array_foreach(json_object_get(st, "nodes"), i, n) {
		json_t *z = json_object_get(n, "zones");
		if (!json_is_string(json_object_get(n, "status")))
			return "a node without a \"status\" string";
		if (!json_is_integer(json_object_get(z, "behind")) ||
		    !json_is_integer(json_object_get(z, "deleting")) ||
		    !json_is_integer(json_object_get(z, "failing")))
			return "a node without its \"zones\" counts";
	}
	return NULL;
}

enum cluster_state {
	CLUSTER_OK,	   /* every node online and nothing behind or failing */
	CLUSTER_NOT_OK,	   /* a node down, or zones behind or failing */
	CLUSTER_NO_ONLINE, /* nodes, none online */
	CLUSTER_NO_NODES,  /* no node at all */
};

static enum cluster_state cluster_state(const json_t *st)
{
	json_t *nodes = json_object_get(st, "nodes");
	bool ok = true, online = false;
	size_t i;
	json_t *n;
	json_array_foreach(nodes, i, n) {
		json_t *z = json_object_get(n, "zones");
		bool up = strcmp(json_string_value(json_object_get(n, "status")), "online") == 0;
		online |= up;
		if (!up || json_integer_value(json_object_get(z, "behind")) != 0 ||
		    json_integer_value(json_object_get(z, "deleting")) != 0 ||
		    json_integer_value(json_object_get(z, "failing")) != 0)
			ok = false;
	}
	if (json_array_size(nodes) == 0)
		return CLUSTER_NO_NODES;
	if (!online)
		return CLUSTER_NO_ONLINE;
	return ok ? CLUSTER_OK : CLUSTER_NOT_OK;
}

static const char *const cluster_verdict[] = {
	[CLUSTER_OK] = "every node online and in sync",
	[CLUSTER_NOT_OK] = "NOT all in sync",
	[CLUSTER_NO_ONLINE] = "no node online: nothing serves the zones",
	[CLUSTER_NO_NODES] = "no cluster nodes: nothing serves the zones",
};

static int cluster_status(struct ctl *c, const struct ctl_cmd *cmd, int argc, char **argv,
			  bool summary)
{
	struct ctl_answer ans;
	int oi, r = ctl_no_opts(cmd, argc, argv, 0, 0, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_call(c, "GET", "/api/dns/cluster/status", NULL, &ans)) != CTL_OK ||
	    (r = ctl_answer_need(c, &ans, "nodes", JSON_ARRAY, "totalNodes", JSON_INTEGER,
				 "onlineNodes", JSON_INTEGER, "offlineNodes", JSON_INTEGER,
				 NULL)) != CTL_OK)
		return r;
	const char *missing = status_missing(ans.json);
	if (missing != NULL)
		return ctl_answer_foreign(c, &ans, missing);
	enum cluster_state state = cluster_state(ans.json);
	if (c->json) {
		ctl_print_json(ans.json);
		if (summary && state >= CLUSTER_NO_ONLINE)
			fprintf(stderr, "yumnactl: %s\n", cluster_verdict[state]);
	} else {
		if (summary)
			printf("cluster: %s nodes, %s online, %s offline — %s\n\n",
			       cell(json_object_get(ans.json, "totalNodes")),
			       cell(json_object_get(ans.json, "onlineNodes")),
			       cell(json_object_get(ans.json, "offlineNodes")),
			       cluster_verdict[state]);
		status_table(ans.json);
	}
	ctl_answer_clear(&ans);
	return summary && state != CLUSTER_OK ? CTL_PARTIAL : CTL_OK;
}

static int nodes_list(struct ctl *c, int argc, char **argv)
{
	return cluster_status(c, CMD(4), argc, argv, false);
}

static int nodes_add(struct ctl *c, int argc, char **argv)
{
	struct ctl_answer ans;
	char path[80];
	int64_t id;
	int oi, r = ctl_no_opts(CMD(5), argc, argv, 1, 1, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_parse_id("the server id", argv[oi], &id)) != CTL_OK)
		return r;
	snprintf(path, sizeof(path), "/api/dns/cluster/nodes/%lld", (long long)id);
	if ((r = ctl_call_ok(c, "POST", path, NULL, &ans)) != CTL_OK)
		return r;
	if (c->json)
		ctl_print_json(ans.json);
	else
		printf("%s\n", cell(json_object_get(ans.json, "message")));
	ctl_answer_clear(&ans);
	return CTL_OK;
}

static int nodes_remove(struct ctl *c, int argc, char **argv)
{
	return removal(c, CMD(6), argc, argv, false);
}

static int status(struct ctl *c, int argc, char **argv)
{
	return cluster_status(c, CMD(7), argc, argv, true);
}

static int health(struct ctl *c, int argc, char **argv)
{
	struct ctl_answer ans;
	int oi, r = ctl_no_opts(CMD(8), argc, argv, 0, 0, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_call(c, "GET", "/api/dns/cluster/health", NULL, &ans)) != CTL_OK ||
	    (r = ctl_answer_need(c, &ans, "totalNodes", JSON_INTEGER, "healthyNodes", JSON_INTEGER,
				 "results", JSON_ARRAY, NULL)) != CTL_OK)
		return r;
	json_int_t total = json_integer_value(json_object_get(ans.json, "totalNodes"));
	json_int_t healthy = json_integer_value(json_object_get(ans.json, "healthyNodes"));
	if (c->json) {
		ctl_print_json(ans.json);
	} else {
		static const char *const h[] = { "ID", "HOST", "HEALTHY", "RESPONSE", "DETAILS" };
		struct table *t = table_new(5, h);
		size_t i;
		json_t *n;
		printf("%lld of %lld nodes healthy\n\n", (long long)healthy, (long long)total);
		json_array_foreach(json_object_get(ans.json, "results"), i, n) {
			char ms[32];
			json_t *e = json_object_get(n, "error");
			json_t *d = json_object_get(n, "details");
			e = json_is_string(e) ? e : NULL;
			char *dt = e ? NULL : json_dumps(d, JSON_COMPACT | JSON_ENCODE_ANY);
			snprintf(ms, sizeof(ms), "%s ms", cell(json_object_get(n, "responseTime")));
			const char *row[5] = { cell(json_object_get(n, "nodeId")),
					       cell(json_object_get(n, "hostname")),
					       cell(json_object_get(n, "healthy")), ms,
					       e ? cell(e) : dt };
			table_add(t, row);
			free(dt);
		}
		table_print_free(t);
	}
	ctl_answer_clear(&ans);
	if (total == 0)
		fprintf(stderr, "yumnactl: %s\n", cluster_verdict[CLUSTER_NO_NODES]);
	else if (healthy == 0)
		fprintf(stderr, "yumnactl: no node healthy: nothing serves the zones\n");
	return total > 0 && healthy == total ? CTL_OK : CTL_PARTIAL;
}

/* --- sync ---------------------------------------------------------------------- */

static int sync_zone(struct ctl *c, int argc, char **argv)
{
	struct ctl_answer ans;
	char path[80];
	int64_t id;
	int oi, r = ctl_no_opts(CMD(9), argc, argv, 1, 1, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_zone_id(c, argv[oi], &id)) != CTL_OK)
		return r;
	snprintf(path, sizeof(path), "/api/dns/cluster/sync/%lld", (long long)id);
	if ((r = ctl_call(c, "POST", path, NULL, &ans)) != CTL_OK ||
	    (r = ctl_answer_need(c, &ans, "success", JSON_TRUE, "totalNodes", JSON_INTEGER,
				 "successCount", JSON_INTEGER, "results", JSON_ARRAY, NULL)) !=
		CTL_OK)
		return r;
	json_int_t total = json_integer_value(json_object_get(ans.json, "totalNodes"));
	json_int_t ok = json_integer_value(json_object_get(ans.json, "successCount"));
	if (c->json) {
		ctl_print_json(ans.json);
	} else {
		printf("zone %s pushed to %lld of %lld nodes\n",
		       cell(json_object_get(ans.json, "zone")), (long long)ok, (long long)total);
		size_t i;
		json_t *n;
		json_array_foreach(json_object_get(ans.json, "results"), i, n) {
			json_t *e = json_object_get(n, "error");
			printf("  node %-12s %s%s%s\n", cell(json_object_get(n, "hostname")),
			       json_is_true(json_object_get(n, "success")) ? "applied"
									   : "NOT applied",
			       json_is_string(e) ? ": " : "", json_is_string(e) ? cell(e) : "");
		}
	}
	ctl_answer_clear(&ans);
	if (total == 0)
		fprintf(stderr, "yumnactl: %s\n", cluster_verdict[CLUSTER_NO_NODES]);
	return total > 0 && ok == total ? CTL_OK : CTL_PARTIAL;
}

/* --interval-ms; the follow's bound is the global --timeout. */
static int sync_all_opt(int opt, const char *arg, void *ctx)
{
	char *end;
	(void)opt;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (*end != '\0' || errno != 0 || v < 1 || v > 86400000) {
		fprintf(stderr, "yumnactl: '%s' is not a positive number\n", arg);
		return -1;
	}
	*(long *)ctx = v;
	return 0;
}

static void progress_bar(json_int_t done, json_int_t total, json_int_t failing)
{
	int width = 40, fill = total > 0 ? (int)(done * width / total) : width;
	fprintf(stderr, "\r[");
	for (int i = 0; i < width; i++)
		fputc(i < fill ? '#' : ' ', stderr);
	fprintf(stderr, "] %lld/%lld zones in sync", (long long)done, (long long)total);
	if (failing > 0)
		fprintf(stderr, ", %lld failing", (long long)failing);
	fprintf(stderr, "  ");
	fflush(stderr);
}

/* The follow ends on "done": true, so a progress answer without the
 * boolean would be followed to the timeout. */
static int done_check(struct ctl *c, struct ctl_answer *ans)
{
	if (json_is_boolean(json_object_get(ans->json, "done")))
		return CTL_OK;
	return ctl_answer_foreign(c, ans, "no \"done\" boolean");
}

static int sync_all(struct ctl *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "interval-ms", required_argument, NULL, 'i' },
		{ 0 },
	};
	long interval_ms = 200;
	long follow_ms = c->timeout_flag_ms > 0 ? c->timeout_flag_ms : 600000;
	struct ctl_answer ans;
	char path[80];
	int64_t id;
	int oi, r = ctl_getopt(CMD(10), argc, argv, "", lo, sync_all_opt, &interval_ms, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_args(CMD(10), argc - oi, 1, 1)) != CTL_OK ||
	    (r = ctl_parse_id("the server id", argv[oi], &id)) != CTL_OK)
		return r;
	snprintf(path, sizeof(path), "/api/dns/cluster/sync-all/%lld", (long long)id);
	if ((r = ctl_call_ok(c, "POST", path, NULL, &ans)) != CTL_OK)
		return r;
	if (!c->json)
		printf("full sync of node %s started: %s zones\n",
		       cell(json_object_get(json_object_get(ans.json, "node"), "name")),
		       cell(json_object_get(ans.json, "totalZones")));
	ctl_answer_clear(&ans);

	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	json_int_t last_done = -1, last_failing = -1;
	bool done = false, timed_out = false;
	json_t *final = NULL;
	while (!done) {
		if ((r = ctl_call(c, "GET", path, NULL, &ans)) != CTL_OK ||
		    (r = ctl_answer_need(c, &ans, "totalZones", JSON_INTEGER, "inSync",
					 JSON_INTEGER, "failing", JSON_INTEGER, NULL)) != CTL_OK ||
		    (r = done_check(c, &ans)) != CTL_OK) {
			if (c->progress_tty && !c->json)
				fputc('\n', stderr);
			json_decref(final);
			return r;
		}
		json_int_t total = json_integer_value(json_object_get(ans.json, "totalZones"));
		json_int_t in_sync = json_integer_value(json_object_get(ans.json, "inSync"));
		json_int_t failing = json_integer_value(json_object_get(ans.json, "failing"));
		done = json_is_true(json_object_get(ans.json, "done"));
		json_decref(final);
		final = json_incref(ans.json);
		if (!c->json && c->progress_tty) {
			progress_bar(in_sync, total, failing);
		} else if (!c->json && (in_sync != last_done || failing != last_failing || done)) {
			/* Not a terminal: one plain line per change of the figures. */
			printf("progress: %lld/%lld zones in sync, %lld failing%s\n",
			       (long long)in_sync, (long long)total, (long long)failing,
			       done ? ", done" : "");
			fflush(stdout);
		}
		last_done = in_sync;
		last_failing = failing;
		ctl_answer_clear(&ans);
		clock_gettime(CLOCK_MONOTONIC, &now);
		long elapsed_ms = (long)(now.tv_sec - start.tv_sec) * 1000 +
				  (now.tv_nsec - start.tv_nsec) / 1000000;
		if (!done && elapsed_ms >= follow_ms) {
			timed_out = true;
			break;
		}
		if (!done) {
			struct timespec ts = { interval_ms / 1000, (interval_ms % 1000) * 1000000 };
			nanosleep(&ts, NULL);
		}
	}
	if (!c->json && c->progress_tty)
		fputc('\n', stderr);
	if (c->json)
		ctl_print_json(final);
	json_decref(final);
	if (timed_out) {
		char took[48];
		human_duration(follow_ms / 1000, took, sizeof(took));
		fprintf(stderr,
			"yumnactl: the node is still behind after %s (--timeout); the controller "
			"keeps pushing\n",
			took);
		return CTL_PARTIAL;
	}
	if (last_failing > 0) {
		fprintf(stderr, "yumnactl: %lld zones failed on the node (see 'yumnactl status')\n",
			(long long)last_failing);
		return CTL_PARTIAL;
	}
	if (!c->json)
		printf("node %lld is in sync\n", (long long)id);
	return CTL_OK;
}

const struct ctl_cmd ctl_cluster_cmds[] = {
	{ "servers", "list", servers_list, "",
	  "List the registered DNS servers (never their secrets)." },
	{ "servers", "add", servers_add,
	  "--agent-port PORT --secret-file FILE [--hostname H] [--join] [--no-check] NAME ADDRESS",
	  "Register a DNS server's agent. The agent secret is read from FILE, which must be\n"
	  "private (mode 0600), or from stdin with '--secret-file -'; it is never returned.\n"
	  "The controller first asks the agent: it must answer, accept the secret and run\n"
	  "PowerDNS, else nothing is registered (exit 7 for a refused secret, 1 otherwise);\n"
	  "--no-check registers it without asking (an agent set up later).\n"
	  "--join also makes it a cluster node, which then receives every zone." },
	{ "servers", "update", servers_update,
	  "[--name NAME] [--address ADDRESS] [--hostname H] [--agent-port PORT] [--secret-file "
	  "FILE] [--no-check] SERVER_ID",
	  "Change a registered server: only what is given changes. The secret is read as for\n"
	  "'servers add'. A new address, port or secret is tried on the agent first (it must\n"
	  "answer, accept the secret and run PowerDNS) unless --no-check." },
	{ "servers", "remove", servers_remove, "[--keep-zones] [--force] SERVER_ID",
	  "Remove a server from the registry. If it may serve zones (it is a cluster node, or\n"
	  "kept zones when it left), they are deleted from it first, so that it cannot go on\n"
	  "answering with data no longer updated. --keep-zones leaves them there (a warning\n"
	  "says so). If its agent cannot be reached nothing is changed (exit code 7), unless\n"
	  "--force: then it is removed anyway and the warning says the zones stay (exit 8)." },
	{ "nodes", "list", nodes_list, "",
	  "List the cluster nodes: health, PowerDNS version, zones in sync / behind / failing." },
	{ "nodes", "add", nodes_add, "SERVER_ID",
	  "Make a registered server a cluster node; it receives every zone by itself." },
	{ "nodes", "remove", nodes_remove, "[--purge [--force]] SERVER_ID",
	  "The node stops receiving changes and stays registered. Its zones stay on it, no\n"
	  "longer updated (a warning says so), unless --purge: then they are deleted from it.\n"
	  "An agent that cannot be reached refuses --purge (exit code 7), unless --force." },
	{ "status", NULL, status, "",
	  "Cluster status: every node and its zones in sync, behind and failing.\n"
	  "Exit code 8 when a node is not online or not in sync, or there is no node\n"
	  "online (nothing serves the zones)." },
	{ "health", NULL, health, "",
	  "Check every node now, in parallel, with response times. Exit code 8 when one is "
	  "unhealthy\nor there is none." },
	{ "sync", NULL, sync_zone, "ZONE",
	  "Push one zone to every node now and report each node. Exit code 8 if one did not apply "
	  "it\nor there is none." },
	{ "sync-all", NULL, sync_all, "[--timeout SECONDS] [--interval-ms MS] SERVER_ID",
	  "Push every zone to one node again and follow it to the end: a progress bar on a\n"
	  "terminal, one line per change otherwise, the final figures with --json.\n"
	  "Exit code 8 if zones failed or the node is still behind after the global --timeout\n"
	  "(here the whole follow's; default 600 s)." },
	{ 0 },
};
