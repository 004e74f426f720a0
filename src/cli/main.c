/* yumnactl: the operator's command line over yumna-whm's API.
 *
 *   yumnactl [--url URL] [--token-file FILE] [--demo[=FILE]] [--json] [--wait]
 *            [--timeout SECONDS] COMMAND [SUBCOMMAND] [ARGS]
 *
 * The global options may come after the command too (take_globals()).
 *
 * See docs/yumnactl.md for every command and the exit codes. */
#include <getopt.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/err.h"
#include "base/secret.h"
#include "conf/conf.h"
#include "config.h"
#include "ctl.h"
#include "human.h"

#define DEFAULT_TIMEOUT_MS 30000

struct ctl_source {
	const char *url;	/* --url */
	const char *token;	/* --token */
	const char *token_file; /* --token-file */
	const char *config;	/* --config */
	const char *demo;	/* --demo[=FILE] */
	const char *ca_file;	/* --ca-file */
	long timeout_ms;	/* --timeout in ms, 0: unset */
};

struct file_conf {
	char *url;
	char *ca_file;
	char *token;
	char *token_file;
	uint64_t timeout_ms;
};

#define O(f) offsetof(struct file_conf, f)
static const struct conf_item file_schema[] = {
	{ "url", CONF_STR, O(url), NULL, 0, 255, NULL, 0,
	  "the controller, http://ADDRESS:PORT or https://ADDRESS:PORT" },
	{ "ca-file", CONF_STR, O(ca_file), NULL, 0, 4096, NULL, 0,
	  "the certificates to trust for https (PEM)" },
	{ "token", CONF_STR, O(token), NULL, 0, 200, NULL, CONF_SECRET, "an API token" },
	{ "token-file", CONF_STR, O(token_file), NULL, 0, 4096, NULL, 0,
	  "a private file holding the token" },
	{ "timeout-ms", CONF_UINT, O(timeout_ms), "0", 0, 86400000, NULL, 0,
	  "request timeout (at most a day, as --timeout)" },
	{ 0 },
};

static const struct ctl_cmd *const tables[] = {
	ctl_zone_cmds,	ctl_check_cmds,	  ctl_edit_cmds,      ctl_soa_cmds,
	ctl_rrset_cmds, ctl_history_cmds, ctl_cluster_cmds,   ctl_admin_cmds,
	ctl_tsig_cmds,	ctl_upolicy_cmds, ctl_transfers_cmds, ctl_policy_cmds
};

static void usage(FILE *f)
{
	fprintf(f, "usage: yumnactl [global options] COMMAND [SUBCOMMAND] [ARGS]\n\n"
		   "global options (anywhere on the line; '--' ends them):\n"
		   "  --url URL           the controller (http[s]://ADDRESS:PORT); or YUMNA_URL\n"
		   "  --ca-file FILE      the CA certificates (PEM) to trust for https; or\n"
		   "                      YUMNA_CA_FILE\n"
		   "  --token-file FILE   a private file holding the API token; or YUMNA_TOKEN\n"
		   "  --token TOKEN       the token itself (visible to other users in ps: avoid)\n"
		   "  --config FILE       a private config file (url, token, token-file, ca-file,\n"
		   "                      timeout-ms); default $YUMNA_CONFIG,\n"
		   "                      ~/.config/yumna/yumnactl.conf, /etc/yumna/yumnactl.conf\n"
		   "  --demo[=FILE]       use the demo cluster's controller (demo/cluster.json)\n"
		   "  --json              print the controller's JSON instead of tables\n"
		   "  --wait              changes wait until every node has them (?wait=all)\n"
		   "  --timeout SECONDS   how long to wait for the controller: each request\n"
		   "                      (default 30) and a whole sync-all (default 600);\n"
		   "                      or with a unit: 500ms, 30s, 10m, 2h\n"
		   "  --version, --help\n\ncommands:\n");
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct ctl_cmd *c = tables[t]; c->group != NULL; c++)
			fprintf(f, "  %s%s%-*s %s\n", c->group, c->name ? " " : "",
				(int)(22 - strlen(c->group) - (c->name ? 1 : 0)),
				c->name ? c->name : "", c->args);
	fprintf(f,
		"\n'yumnactl COMMAND [SUBCOMMAND] --help' explains one command.\n"
		"Exit codes: 0 ok, 1 failed, 2 usage, 3 configuration, 4 controller unreachable\n"
		"(or what answered is not the controller), 5 denied, 6 not found, 7 refused as\n"
		"invalid, 8 not on every node (yet) or no node serves the zones, 9 not supported\n"
		"by this controller.\n");
}

/* --- where the URL and token come from ------------------------------------------- */

static int check_private(const char *path, const char *what)
{
	int r = secret_file_is_private(path);
	if (r == -EACCES) {
		fprintf(stderr,
			"yumnactl: %s '%s' holds a token and is readable by others; "
			"chmod 600 it\n",
			what, path);
		return CTL_CONFIG;
	}
	if (r < 0) {
		fprintf(stderr, "yumnactl: %s '%s': %s\n", what, path, strerror(-r));
		return CTL_CONFIG;
	}
	return CTL_OK;
}

static int read_token_file(const char *path, char **ret)
{
	struct errmsg err;
	if (conf_read_secret_file(path, ret, &err) < 0) {
		fprintf(stderr, "yumnactl: %s\n", err.text);
		return CTL_CONFIG;
	}
	return CTL_OK;
}

static int load_demo(const char *path, char **url, char **token)
{
	json_error_t jerr;
	int r = check_private(path, "demo file");
	if (r != CTL_OK)
		return r;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	json_t *w = json_object_get(doc, "whm");
	const char *u = json_string_value(json_object_get(w, "url"));
	const char *t = json_string_value(json_object_get(w, "token"));
	if (u == NULL || t == NULL) {
		fprintf(stderr,
			"yumnactl: '%s' has no controller (whm.url, whm.token); is 'make demo' "
			"running?\n",
			path);
		json_decref(doc);
		return CTL_CONFIG;
	}
	if (*url == NULL)
		*url = strdup(u);
	if (*token == NULL)
		*token = strdup(t);
	json_decref(doc);
	return CTL_OK;
}

static const char *default_config(char *buf, size_t len)
{
	const char *env = getenv("YUMNA_CONFIG");
	if (env != NULL && env[0] != '\0')
		return env;
	const char *home = getenv("HOME");
	if (home != NULL) {
		snprintf(buf, len, "%s/.config/yumna/yumnactl.conf", home);
		if (access(buf, F_OK) == 0)
			return buf;
	}
	if (access("/etc/yumna/yumnactl.conf", F_OK) == 0)
		return "/etc/yumna/yumnactl.conf";
	return NULL;
}

static int load_config(const char *path, char **url, char **token, char **ca_file, long *timeout_ms)
{
	struct file_conf fc = { 0 };
	struct errmsg err;
	int r = check_private(path, "config file");
	if (r != CTL_OK)
		return r;
	if (conf_load(path, file_schema, &fc, &err) < 0) {
		fprintf(stderr, "yumnactl: %s\n", err.text);
		conf_free(file_schema, &fc);
		return CTL_CONFIG;
	}
	if (fc.token != NULL && fc.token_file != NULL) {
		fprintf(stderr, "yumnactl: %s: token and token-file exclude each other\n", path);
		r = CTL_CONFIG;
	}
	if (r == CTL_OK && *url == NULL && fc.url != NULL)
		*url = strdup(fc.url);
	if (r == CTL_OK && *token == NULL && fc.token != NULL)
		*token = strdup(fc.token);
	if (r == CTL_OK && *ca_file == NULL && fc.ca_file != NULL)
		*ca_file = strdup(fc.ca_file);
	if (r == CTL_OK && *token == NULL && fc.token_file != NULL)
		r = read_token_file(fc.token_file, token);
	if (*timeout_ms == 0)
		*timeout_ms = (long)fc.timeout_ms;
	if (fc.token != NULL)
		explicit_bzero(fc.token, strlen(fc.token));
	conf_free(file_schema, &fc);
	return r;
}

/* "http[s]://HOST:PORT[/]" to a numeric base URL the HTTP client takes. */
static int base_url(const char *url, char *out, size_t len)
{
	char host[256];
	const char *p, *port, *scheme;

	if (strncmp(url, "https://", 8) == 0) {
		scheme = "https";
		p = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		scheme = "http";
		p = url + 7;
	} else {
		fprintf(stderr,
			"yumnactl: the URL must look like http[s]://ADDRESS:PORT, not '%s'\n", url);
		return CTL_CONFIG;
	}
	size_t hl;
	if (*p == '[') {
		const char *e = strchr(p, ']');
		if (e == NULL)
			goto bad;
		hl = (size_t)(e - p + 1);
		port = e + 1;
	} else {
		port = strrchr(p, ':');
		if (port == NULL)
			goto bad;
		hl = (size_t)(port - p);
	}
	if (hl == 0 || hl >= sizeof(host) || *port != ':')
		goto bad;
	memcpy(host, p, hl);
	host[hl] = '\0';
	port++;
	size_t pl = strcspn(port, "/");
	if (pl == 0 || pl > 5 || strspn(port, "0123456789") != pl ||
	    (port[pl] != '\0' && strcmp(port + pl, "/") != 0))
		goto bad;
	if (host[0] != '[') {
		/* A name: its first address (the client connects to numbers). */
		struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
		struct addrinfo *ai;
		char num[NI_MAXHOST];
		if (getaddrinfo(host, NULL, &hints, &ai) != 0) {
			fprintf(stderr, "yumnactl: cannot resolve '%s'\n", host);
			return CTL_UNREACHABLE;
		}
		int r = getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof(num), NULL, 0,
				    NI_NUMERICHOST);
		bool v6 = ai->ai_family == AF_INET6;
		freeaddrinfo(ai);
		if (r != 0)
			return CTL_UNREACHABLE;
		snprintf(out, len, "%s://%s%s%s:%.*s", scheme, v6 ? "[" : "", num, v6 ? "]" : "",
			 (int)pl, port);
	} else {
		snprintf(out, len, "%s://%s:%.*s", scheme, host, (int)pl, port);
	}
	return CTL_OK;
bad:
	fprintf(stderr, "yumnactl: the URL must look like http[s]://ADDRESS:PORT, not '%s'\n", url);
	return CTL_CONFIG;
}

/* The HTTP client for 'base': over https, trusting the CAs in 'ca_file'. */
static int make_client(struct ctl *c, const char *base, const char *bearer, const char *ca_file)
{
	struct errmsg err;
	char *pem = NULL;
	bool https = strncmp(base, "https://", 8) == 0;

	if (https && ca_file == NULL) {
		fprintf(stderr, "yumnactl: https needs the CA certificates to trust: --ca-file, "
				"YUMNA_CA_FILE or ca-file in the config file\n");
		return CTL_CONFIG;
	}
	if (https && conf_read_text_file(ca_file, false, 1u << 20, &pem, &err) < 0) {
		fprintf(stderr, "yumnactl: %s\n", err.text);
		return CTL_CONFIG;
	}
	int r =
	    https ? http_client_new_tls(base, "Authorization", bearer, c->timeout_ms, pem, &c->http)
		  : http_client_new(base, "Authorization", bearer, c->timeout_ms, &c->http);
	free(pem);
	if (r < 0) {
		fprintf(stderr, "yumnactl: cannot use '%s'%s\n", c->url,
			https ? " (is there a certificate in the CA file?)" : "");
		return CTL_CONFIG;
	}
	return CTL_OK;
}

int ctl_connect(struct ctl *c)
{
	const struct ctl_source *s = c->src;
	char *url = s->url ? strdup(s->url) : NULL, *token = s->token ? strdup(s->token) : NULL;
	char *ca_file = s->ca_file ? strdup(s->ca_file) : NULL;
	char cfgbuf[4096], base[1200];
	long timeout_ms = s->timeout_ms;
	int r = CTL_OK;

	if (token == NULL && s->token_file != NULL)
		r = read_token_file(s->token_file, &token);
	if (r == CTL_OK && s->demo != NULL)
		r = load_demo(s->demo, &url, &token);
	const char *env_url = getenv("YUMNA_URL"), *env_token = getenv("YUMNA_TOKEN");
	const char *env_ca_file = getenv("YUMNA_CA_FILE");
	if (r == CTL_OK && url == NULL && env_url && env_url[0])
		url = strdup(env_url);
	if (r == CTL_OK && token == NULL && env_token && env_token[0])
		token = strdup(env_token);
	if (r == CTL_OK && ca_file == NULL && env_ca_file && env_ca_file[0])
		ca_file = strdup(env_ca_file);
	if (r == CTL_OK && (url == NULL || token == NULL || timeout_ms == 0)) {
		const char *path = s->config ? s->config : default_config(cfgbuf, sizeof(cfgbuf));
		if (path != NULL)
			r = load_config(path, &url, &token, &ca_file, &timeout_ms);
	}
	if (r == CTL_OK && (url == NULL || token == NULL)) {
		fprintf(stderr,
			"yumnactl: no controller %s: give --url/--token-file, YUMNA_URL/"
			"YUMNA_TOKEN, a config file, or --demo\n",
			url == NULL ? "URL" : "token");
		r = CTL_CONFIG;
	}
	if (r == CTL_OK)
		r = base_url(url, base, sizeof(base));
	if (r == CTL_OK) {
		char bearer[256];
		if (strlen(token) > 200 || strpbrk(token, "\r\n ") != NULL) {
			fprintf(stderr, "yumnactl: the token is not a valid token\n");
			r = CTL_CONFIG;
		} else {
			snprintf(bearer, sizeof(bearer), "Bearer %s", token);
			snprintf(c->url, sizeof(c->url), "%s", url);
			c->timeout_ms = timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS;
			r = make_client(c, base, bearer, ca_file);
			explicit_bzero(bearer, sizeof(bearer));
		}
	}
	if (token != NULL)
		explicit_bzero(token, strlen(token));
	free(token);
	free(url);
	free(ca_file);
	return r;
}

/* --- dispatch ------------------------------------------------------------------ */

static void group_usage(const char *group, FILE *f)
{
	fprintf(f, "usage: yumnactl [global options] %s SUBCOMMAND [ARGS]\n\n", group);
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct ctl_cmd *c = tables[t]; c->group != NULL; c++)
			if (strcmp(c->group, group) == 0)
				fprintf(f, "  %s %s %s\n", group, c->name, c->args);
	fprintf(f, "\n'yumnactl %s SUBCOMMAND --help' explains one.\n", group);
}

static const struct ctl_cmd *find(const char *group, const char *name, bool *group_known)
{
	*group_known = false;
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct ctl_cmd *c = tables[t]; c->group != NULL; c++) {
			if (strcmp(c->group, group) != 0)
				continue;
			*group_known = true;
			if (c->name == NULL || (name != NULL && strcmp(c->name, name) == 0))
				return c;
		}
	return NULL;
}

/* The global options: before the command, as always, and (since any
 * place should do) after it too, where take_globals() takes them out of
 * the command's arguments. --help and --version count only before it:
 * after it, --help is the command's. */
static const struct option global_lo[] = {
	{ "url", required_argument, NULL, 'u' },
	{ "token", required_argument, NULL, 't' },
	{ "token-file", required_argument, NULL, 'T' },
	{ "config", required_argument, NULL, 'c' },
	{ "demo", optional_argument, NULL, 'd' },
	{ "ca-file", required_argument, NULL, 'C' },
	{ "json", no_argument, NULL, 'j' },
	{ "wait", no_argument, NULL, 'w' },
	{ "timeout", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

#define TIMEOUT_MAX_MS 86400000 /* a day */

/* One global option: CTL_OK, or the exit code to leave with. */
static int global_opt(int opt, const char *arg, struct ctl *c, struct ctl_source *src)
{
	int64_t ms;
	switch (opt) {
	case 'u':
		src->url = arg;
		return CTL_OK;
	case 't':
		src->token = arg;
		return CTL_OK;
	case 'T':
		src->token_file = arg;
		return CTL_OK;
	case 'c':
		src->config = arg;
		return CTL_OK;
	case 'd':
		src->demo = arg ? arg : "demo/cluster.json";
		return CTL_OK;
	case 'C':
		src->ca_file = arg;
		return CTL_OK;
	case 'j':
		c->json = true;
		return CTL_OK;
	case 'w':
		c->wait = true;
		return CTL_OK;
	case 'o':
		/* Seconds, as everywhere in yumnactl, or with a unit. */
		if (arg == NULL || human_parse_duration(arg, TIMEOUT_MAX_MS, &ms) < 0 || ms == 0) {
			fprintf(stderr,
				"yumnactl: --timeout is in seconds, 1 to 86400, or with a unit "
				"(500ms, 30s, 10m, 2h); not '%s'\n",
				arg);
			return CTL_USAGE;
		}
		/* Until 0.2 the global --timeout took milliseconds. */
		if (strspn(arg, "0123456789") == strlen(arg) && ms >= 1000000)
			fprintf(stderr,
				"yumnactl: note: --timeout %s is %s seconds; write %sms for "
				"milliseconds\n",
				arg, arg, arg);
		src->timeout_ms = (long)ms;
		c->timeout_flag_ms = (long)ms;
		return CTL_OK;
	case 'h':
		usage(stdout);
		return -1;
	case 'V':
		printf("yumnactl %s\n", YUMNA_VERSION);
		return -1;
	default:
		usage(stderr);
		return CTL_USAGE;
	}
}

/* The global options among argv[from..argc-1] (the command's words), taken
 * out in place; *argc shrinks. Only exact names (--json, --url=URL, --url
 * URL, -c FILE); "--" ends them, and stays for the command. */
static int take_globals(int *argc, char **argv, int from, struct ctl *c, struct ctl_source *src)
{
	int out = from;
	bool done = false;
	for (int i = from; i < *argc; i++) {
		const char *a = argv[i];
		const struct option *o = NULL;
		const char *val = NULL;
		if (!done && strcmp(a, "--") == 0)
			done = true;
		if (!done && strncmp(a, "--", 2) == 0) {
			size_t n = strcspn(a + 2, "=");
			for (const struct option *g = global_lo; g->name != NULL; g++)
				if (g->val != 'h' && g->val != 'V' && strlen(g->name) == n &&
				    strncmp(a + 2, g->name, n) == 0)
					o = g;
			if (o != NULL && a[2 + n] == '=')
				val = a + 3 + n;
			if (o != NULL && a[2 + n] == '=' && o->has_arg == no_argument) {
				fprintf(stderr, "yumnactl: --%s takes no value\n", o->name);
				return CTL_USAGE;
			}
		} else if (!done && strncmp(a, "-c", 2) == 0) {
			o = &global_lo[3];
			val = a[2] != '\0' ? a + 2 : NULL;
		}
		if (o == NULL) {
			argv[out++] = argv[i];
			continue;
		}
		if (val == NULL && o->has_arg == required_argument) {
			if (i + 1 >= *argc) {
				fprintf(stderr, "yumnactl: --%s needs a value\n", o->name);
				return CTL_USAGE;
			}
			val = argv[++i];
		}
		int r = global_opt(o->val, val, c, src);
		if (r != CTL_OK)
			return r;
	}
	*argc = out;
	argv[out] = NULL;
	return CTL_OK;
}

int main(int argc, char **argv)
{
	struct ctl_source src = { 0 };
	struct ctl c = { 0 };
	int opt, r;

	c.src = &src;
	while ((opt = getopt_long(argc, argv, "+hc:", global_lo, NULL)) != -1) {
		r = global_opt(opt, optarg, &c, &src);
		if (r != CTL_OK)
			return r < 0 ? CTL_OK : r;
	}
	if (optind < argc && (r = take_globals(&argc, argv, optind + 1, &c, &src)) != CTL_OK)
		return r;
	if (src.token != NULL && src.token_file != NULL) {
		fprintf(stderr, "yumnactl: --token and --token-file exclude each other\n");
		return CTL_USAGE;
	}
	if (optind >= argc || strcmp(argv[optind], "help") == 0) {
		usage(optind >= argc ? stderr : stdout);
		return optind >= argc ? CTL_USAGE : CTL_OK;
	}
	const char *group = argv[optind];
	const char *name = optind + 1 < argc ? argv[optind + 1] : NULL;
	bool known;
	const struct ctl_cmd *cmd = find(group, name, &known);
	if (cmd == NULL) {
		if (!known) {
			fprintf(stderr, "yumnactl: unknown command '%s'\n", group);
			usage(stderr);
			return CTL_USAGE;
		}
		bool help =
		    name != NULL && (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0);
		if (!help && name != NULL)
			fprintf(stderr, "yumnactl: unknown %s subcommand '%s'\n", group, name);
		group_usage(group, help ? stdout : stderr);
		return help ? CTL_OK : CTL_USAGE;
	}
	c.progress_tty = isatty(STDERR_FILENO) == 1;
	int first = cmd->name ? optind + 1 : optind;
	r = cmd->run(&c, argc - first, argv + first);
	http_client_free(c.http);
	fflush(stdout);
	return r;
}
