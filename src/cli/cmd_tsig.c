/* yumnactl tsig: the controller's TSIG keys. A key that is made, shown or
 * rotated is printed as a BIND key clause, which `nsupdate -k FILE`,
 * named.conf and knotc's import read as it is. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

#define CMD(i) (&ctl_tsig_cmds[i])
#define ROUTE "/api/dns/tsig-keys"

/* The key as a BIND key clause on stdout, or the answer with --json. An
 * answer without a secret (a read token's) prints the key's fields. */
static void print_key(const struct ctl *c, const json_t *k)
{
	const char *secret = json_string_value(json_object_get(k, "secret"));

	if (c->json) {
		ctl_print_json(k);
		return;
	}
	if (secret == NULL) {
		printf("%s %s%s\n", cell(json_object_get(k, "name")),
		       cell(json_object_get(k, "algorithm")),
		       json_is_true(json_object_get(k, "legacy")) ? " (legacy)" : "");
		return;
	}
	printf("key \"%s\" {\n\talgorithm %s;\n\tsecret \"%s\";\n};\n",
	       cell(json_object_get(k, "name")), cell(json_object_get(k, "algorithm")), secret);
}

static int tsig_list(struct ctl *c, int argc, char **argv)
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
		static const char *const h[] = { "NAME", "ALGORITHM", "LEGACY", "UPDATED" };
		struct table *t = table_new(4, h);
		size_t i;
		json_t *k;
		json_array_foreach(ans.json, i, k) {
			char when[32] = "-";
			time_t at = (time_t)json_integer_value(json_object_get(k, "updated_at"));
			struct tm tm;
			if (at > 0 && gmtime_r(&at, &tm) != NULL)
				strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
			const char *row[4] = { cell(json_object_get(k, "name")),
					       cell(json_object_get(k, "algorithm")),
					       cell(json_object_get(k, "legacy")), when };
			table_add(t, row);
		}
		table_print_free(t);
	}
	ctl_answer_clear(&ans);
	return CTL_OK;
}

struct key_opts {
	const char *algorithm;
	const char *secret_file;
	char secret[128];
};

static int key_opt(int opt, const char *arg, void *ctx)
{
	struct key_opts *o = ctx;

	if (opt == 'a')
		o->algorithm = arg;
	else
		o->secret_file = arg;
	return 0;
}

/* The secret from --secret-file (its first line), never from the command
 * line, where other users could read it. */
static int read_secret(struct key_opts *o)
{
	FILE *f = fopen(o->secret_file, "r");

	if (f == NULL || fgets(o->secret, sizeof(o->secret), f) == NULL) {
		fprintf(stderr, "yumnactl: cannot read a secret from %s\n", o->secret_file);
		if (f != NULL)
			fclose(f);
		return CTL_USAGE;
	}
	fclose(f);
	o->secret[strcspn(o->secret, "\r\n")] = '\0';
	return CTL_OK;
}

/* POST (create) or PUT (rotate) of one key, printed as it comes back. */
static int send_key(struct ctl *c, const char *method, const char *path, json_t *b)
{
	struct ctl_answer ans;
	int r = ctl_call(c, method, path, b, &ans);

	json_decref(b);
	if (r != CTL_OK)
		return r;
	print_key(c, ans.json);
	ctl_answer_clear(&ans);
	return CTL_OK;
}

static const struct option key_longopts[] = { { "algorithm", required_argument, NULL, 'a' },
					      { "secret-file", required_argument, NULL, 's' },
					      { 0 } };

static int tsig_create(struct ctl *c, int argc, char **argv)
{
	struct key_opts o = { 0 };
	int oi, r = ctl_getopt(CMD(1), argc, argv, "", key_longopts, key_opt, &o, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_args(CMD(1), argc - oi, 1, 1)) != CTL_OK)
		return r;
	if (o.secret_file != NULL && (r = read_secret(&o)) != CTL_OK)
		return r;
	json_t *b = json_pack("{s:s}", "name", argv[oi]);
	if (o.algorithm != NULL)
		json_object_set_new(b, "algorithm", json_string(o.algorithm));
	if (o.secret_file != NULL)
		json_object_set_new(b, "secret", json_string(o.secret));
	explicit_bzero(o.secret, sizeof(o.secret));
	return send_key(c, "POST", ROUTE, b);
}

static int tsig_show(struct ctl *c, int argc, char **argv)
{
	struct ctl_answer ans;
	char path[1024];
	int oi, r = ctl_no_opts(CMD(2), argc, argv, 1, 1, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if (!ctl_name_path(ROUTE, argv[oi], path, sizeof(path)))
		return ctl_args(CMD(2), 0, 1, 1);
	if ((r = ctl_call(c, "GET", path, NULL, &ans)) != CTL_OK)
		return r;
	print_key(c, ans.json);
	ctl_answer_clear(&ans);
	return CTL_OK;
}

static int tsig_rotate(struct ctl *c, int argc, char **argv)
{
	struct key_opts o = { 0 };
	char path[1024];
	int oi, r = ctl_getopt(CMD(3), argc, argv, "", key_longopts + 1, key_opt, &o, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_args(CMD(3), argc - oi, 1, 1)) != CTL_OK)
		return r;
	if (!ctl_name_path(ROUTE, argv[oi], path, sizeof(path)))
		return ctl_args(CMD(3), 0, 1, 1);
	if (o.secret_file != NULL && (r = read_secret(&o)) != CTL_OK)
		return r;
	json_t *b = o.secret_file != NULL ? json_pack("{s:s}", "secret", o.secret)
					  : json_pack("{s:b}", "rotate", 1);
	explicit_bzero(o.secret, sizeof(o.secret));
	return send_key(c, "PUT", path, b);
}

static int tsig_delete(struct ctl *c, int argc, char **argv)
{
	return ctl_delete_by_name(c, CMD(4), argc, argv, ROUTE, "TSIG key", "deleted");
}

const struct ctl_cmd ctl_tsig_cmds[] = {
	{ "tsig", "list", tsig_list, "",
	  "List the TSIG keys: name, algorithm, whether it is a legacy (HMAC-MD5) key. Never a\n"
	  "secret." },
	{ "tsig", "create", tsig_create,
	  "[--algorithm hmac-sha256|hmac-sha384|hmac-sha512|hmac-md5] [--secret-file FILE] NAME",
	  "Create a TSIG key (hmac-sha256 unless --algorithm; HMAC-MD5 only for old peers) with\n"
	  "a random secret, or the one in FILE (base64, 16 to 64 bytes). Prints the key as a BIND\n"
	  "key clause, for `nsupdate -k` and the other side's configuration. Admin only." },
	{ "tsig", "show", tsig_show, "NAME",
	  "Print one key as a BIND key clause (admin tokens), or its name and algorithm (read\n"
	  "tokens, which never see a secret)." },
	{ "tsig", "rotate", tsig_rotate, "[--secret-file FILE] NAME",
	  "Give the key a new random secret (or the one in FILE) and print it. Peers that use\n"
	  "the key need the new secret. Admin only." },
	{ "tsig", "delete", tsig_delete, "NAME", "Delete a TSIG key. Admin only." },
	{ 0 },
};
