/* yumna-whm: the controller. Owns every zone and keeps every node serving it.
 *
 *   yumna-whm -c FILE                        run
 *   yumna-whm -n -c FILE                     check the configuration
 *   yumna-whm -c FILE token create NAME ROLE  print a new API token (role admin or read)
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"
#include "conf/conf.h"
#include "config.h"
#include "history.h"
#include "tokens.h"
#include "whm.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	stopping = 1;
}

/* `token create NAME ROLE`: the token is printed once and stored hashed. */
static int token_create(struct whm *w, const char *name, const char *role)
{
	char token[TOKENS_TEXT_MAX];
	struct errmsg err;
	int64_t id;

	if (strcmp(role, "admin") != 0 && strcmp(role, "read") != 0) {
		fprintf(stderr, "yumna-whm: role must be admin or read\n");
		return 2;
	}
	/* The API's rule: the name is what the history and the audit log show. */
	size_t n = strlen(name);
	bool printable = n >= 1 && n <= 63 && strpbrk(name, "'\"") == NULL;
	for (size_t i = 0; printable && i < n; i++)
		printable = (unsigned char)name[i] >= 0x20 && (unsigned char)name[i] <= 0x7e;
	if (!printable) {
		fprintf(
		    stderr,
		    "yumna-whm: the name must be 1 to 63 printable ASCII characters, no quotes\n");
		return 2;
	}
	struct store *st = whm_store(w);
	if (st == NULL)
		return 1;
	int r = tokens_create(st, name, role, HISTORY_LOCAL, &id, token, &err);
	if (r < 0) {
		fprintf(stderr, "yumna-whm: cannot store the token: %s\n", err.text);
		return 1;
	}
	printf("%s\n", token);
	explicit_bzero(token, sizeof(token));
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: yumna-whm [-n] [-s] -c FILE [token create NAME admin|read]\n"
		   "  -c FILE        configuration file (key = value; see etc/whm.conf.sample)\n"
		   "  -n             check the configuration and exit\n"
		   "  -s             log to syslog instead of stderr\n"
		   "  -h, --help     this text\n"
		   "  -V, --version  the version\n"
		   "  token create NAME admin|read\n"
		   "                 print a new API token (stored hashed, shown once)\n");
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	bool check_only = false, use_syslog = false;
	struct errmsg err;
	int oi, c = conf_daemon_options(argc, argv, usage, &path, &check_only, &use_syslog, &oi);

	if (c == CONF_DAEMON_VERSION) {
		printf("yumna-whm %s\n", YUMNA_VERSION);
		return 0;
	}
	if (c >= 0)
		return c;
	bool token_cmd =
	    oi + 4 == argc && strcmp(argv[oi], "token") == 0 && strcmp(argv[oi + 1], "create") == 0;
	if (path == NULL || (oi != argc && !token_cmd)) {
		usage(stderr);
		return 2;
	}

	static struct whm w;
	int r = whm_conf_load(path, &w.conf, &err);
	if (r == 0 && !check_only) {
		enum log_level level = LOG_LVL_INFO;
		log_level_parse(w.conf.log_level, &level);
		log_init("yumna-whm", use_syslog, level);
	}
	if (r == 0) {
		enum whm_mode mode = check_only ? WHM_CHECK : token_cmd ? WHM_TOOL : WHM_SERVE;
		if (mode == WHM_SERVE) {
			struct sigaction sa = { .sa_handler = on_signal };
			sigaction(SIGTERM, &sa, NULL);
			sigaction(SIGINT, &sa, NULL);
			signal(SIGPIPE, SIG_IGN);
		}
		r = whm_init(&w, mode, &err);
	}
	if (r < 0) {
		if (err.text[0] != '\0')
			fprintf(stderr, "yumna-whm: %s\n", err.text);
		whm_deinit(&w);
		return 1;
	}
	if (check_only)
		printf("%s: ok\n", path);
	else if (token_cmd)
		r = token_create(&w, argv[oi + 2], argv[oi + 3]);
	else
		while (!stopping)
			pause();
	whm_deinit(&w);
	return r;
}
