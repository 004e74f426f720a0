/* The configuration reader (src/lib/conf): the input is a configuration
 * file, read from memory by conf_load_stream() through a schema with an
 * item of every type, limits, a secret and a required item, as the
 * daemons' schemas have. Oracles: a refusal is one printable line naming
 * the file and line; what is accepted is within the schema's limits, and
 * holds no NUL byte (which would cut a line short unseen). */
#include <stdbool.h>
#include <stddef.h>

#include "base/addrlist.h"
#include "conf/conf.h"
#include "fuzz.h"

#define NAME "fuzz.conf"

/* Keys of the agent's schema (src/agent/conf.c), so that its sample
 * configuration's lines make seeds, plus a boolean. */
struct fconf {
	char *secret;
	char *listen_address;
	uint64_t listen_port;
	char *allow_from;
	char *mode;
	char *data_dir;
	char *backend;
	char *soa_mname;
	uint64_t max_zone_records;
	uint64_t max_batch_size;
	int syslog;
	char *log_level;
};

static const char *const modes[] = { "managed", "external", NULL };
static const char *const backends[] = { "gsqlite3", "gmysql", NULL };
static const char *const levels[] = { "err", "warn", "notice", "info", "debug", NULL };

#define O(f) offsetof(struct fconf, f)
static const struct conf_item schema[] = {
	{ "secret", CONF_STR, O(secret), NULL, 0, 1024, NULL, CONF_SECRET, NULL },
	{ "listen-address", CONF_STR, O(listen_address), "127.0.0.1", 0, 64, NULL, 0, NULL },
	{ "listen-port", CONF_UINT, O(listen_port), "8053", 1, 65535, NULL, 0, NULL },
	{ "allow-from", CONF_ADDRS, O(allow_from), "127.0.0.1, ::1", 0, 4096, NULL, 0, NULL },
	{ "mode", CONF_ENUM, O(mode), "managed", 0, 0, modes, 0, NULL },
	{ "data-dir", CONF_STR, O(data_dir), NULL, 0, 64, NULL, CONF_REQUIRED, NULL },
	{ "backend", CONF_ENUM, O(backend), "gsqlite3", 0, 0, backends, 0, NULL },
	{ "soa-mname", CONF_STR, O(soa_mname), "ns1.example.net.", 0, 0, NULL, 0, NULL },
	{ "max-zone-records", CONF_UINT, O(max_zone_records), "100000", 2, 10000000, NULL, 0,
	  NULL },
	{ "max-batch-size", CONF_UINT, O(max_batch_size), NULL, 0, UINT64_MAX, NULL, 0, NULL },
	{ "syslog", CONF_BOOL, O(syslog), "no", 0, 0, NULL, 0, NULL },
	{ "log-level", CONF_ENUM, O(log_level), "info", 0, 0, levels, 0, NULL },
	{ 0 },
};

static void check_accepted(const struct fconf *c)
{
	const char *msg;
	size_t at, len;

	if (c->data_dir == NULL || c->listen_address == NULL || c->mode == NULL ||
	    c->allow_from == NULL || c->backend == NULL || c->soa_mname == NULL ||
	    c->log_level == NULL)
		fuzz_fail("a configuration was accepted without a required or default value");
	if (c->listen_port < 1 || c->listen_port > 65535 || c->max_zone_records < 2 ||
	    c->max_zone_records > 10000000 || (c->syslog != 0 && c->syslog != 1))
		fuzz_fail("a number out of its range was accepted");
	if (strlen(c->data_dir) > 64 || strlen(c->listen_address) > 64 ||
	    strlen(c->soa_mname) > 4096 || (c->secret != NULL && strlen(c->secret) > 1024))
		fuzz_fail("a value over its length was accepted");
	if (strcmp(c->mode, "managed") != 0 && strcmp(c->mode, "external") != 0)
		fuzz_fail("mode '%s' accepted", c->mode);
	if (addrlist_parse(c->allow_from, NULL, &msg, &at, &len) < 0)
		fuzz_fail("allow-from '%s' accepted: %s", c->allow_from, msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fconf c = { 0 };
	struct errmsg err = { "" };

	char *text = fuzz_str(data, size);
	if (text == NULL)
		return 0;
	/* glibc's fmemopen() refuses a zero size: an empty file reads as one
	 * empty line. */
	FILE *f = fmemopen(text, size ? size : 1, "r");
	if (f == NULL) {
		free(text);
		return 0;
	}
	int r = conf_load_stream(f, NAME, schema, &c, &err);
	fclose(f);
	free(text);
	if (r < 0) {
		fuzz_check_message("conf_load_stream", r, err.text);
		if (strncmp(err.text, NAME ":", strlen(NAME ":")) != 0 && r != -ENOMEM)
			fuzz_fail("message '%s' does not name the file", err.text);
	} else {
		check_accepted(&c);
		if (size > 0 && memchr(data, '\0', size) != NULL)
			fuzz_fail("a configuration with a NUL byte was accepted");
	}
	conf_free(schema, &c);
	return 0;
}
