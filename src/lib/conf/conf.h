/* Configuration files: `key = value` lines read through one schema table.
 *
 * Each program describes its settings once, as an array of conf_item ending
 * with a zeroed entry; conf_load() checks every line against it (unknown
 * keys, types, limits, duplicates) and writes the values into the program's
 * own struct at the given offsets. Errors come back as "file:line: message".
 * A '#' that starts a line (after white space) or follows white space starts
 * a comment; a '#' inside a value ("secret = abc#def") is part of it. */
#ifndef YUMNA_CONF_H
#define YUMNA_CONF_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

enum conf_type {
	CONF_STR,   /* char *, owned by the struct, freed by conf_free() */
	CONF_UINT,  /* uint64_t within [min, max] */
	CONF_BOOL,  /* int: yes/no, true/false, on/off, 1/0 */
	CONF_ENUM,  /* char * (owned), one of 'choices' */
	CONF_ADDRS, /* char * (owned): a list addrlist_parse() accepts, kept as text */
};

#define CONF_REQUIRED 0x1 /* a non-empty value must be given */
#define CONF_SECRET 0x2	  /* never echoed in messages */

struct conf_item {
	const char *key;
	enum conf_type type;
	size_t offset;		    /* offsetof(struct your_conf, field) */
	const char *def;	    /* default in text form, or NULL for none */
	uint64_t min, max;	    /* CONF_UINT range; CONF_STR: max = max length (0: 4096) */
	const char *const *choices; /* CONF_ENUM: NULL-terminated */
	unsigned flags;
	const char *help;
};

/* Apply the defaults of 'schema' to 'target', then read 'path' into it.
 * On error fills 'err' and returns ERR_CONFIG or a
 * negative errno; 'target' then still needs conf_free(). */
int conf_load(const char *path, const struct conf_item *schema, void *target, struct errmsg *err);

/* The same over an open stream (a memory buffer, for tests), named 'name'
 * in messages; 'f' is read to its end or to the first error and stays
 * open. */
int conf_load_stream(FILE *f, const char *name, const struct conf_item *schema, void *target,
		     struct errmsg *err);

/* Set one item from text, as if read from a file (used for defaults and by
 * tests). 'where' prefixes error messages. */
int conf_set(const struct conf_item *item, void *target, const char *value, const char *where,
	     struct errmsg *err);

/* Read a secret kept in its own file (the first line, without its line
 * end). The file must be private like the configuration: readable by
 * neither group nor others. An empty first line, one longer than
 * CONF_SECRET_FILE_MAX characters or a NUL byte in it is refused. The
 * caller frees *ret (after explicit_bzero). */
#define CONF_SECRET_FILE_MAX 1024
#define CONF_SECRET_FILE_MAX_TEXT "1024"
int conf_read_secret_file(const char *path, char **ret, struct errmsg *err);

/* Read a whole text file (a PEM certificate or key) of at most 'max'
 * bytes, NUL-terminated; with 'private' it must be readable by neither group
 * nor others. A file with a NUL byte, empty or too large is refused. The
 * caller frees *ret (after explicit_bzero for a key). */
int conf_read_text_file(const char *path, bool private, size_t max, char **ret, struct errmsg *err);

/* The TLS settings of a server: both files or neither ('cert_file' and
 * 'key_file' may be NULL). Reads the PEM texts into *ret_cert and *ret_key
 * (NULL when TLS is off); the key file must be private. The caller frees
 * both with conf_tls_free(). */
int conf_read_tls(const char *cert_file, const char *key_file, char **ret_cert, char **ret_key,
		  struct errmsg *err);
void conf_tls_free(char **cert, char **key);

/* Free every string 'schema' stored in 'target'. */
void conf_free(const struct conf_item *schema, void *target);

/* The daemons' command line: -c FILE, -n (check the configuration only),
 * -s (log to syslog), -h or --help (usage on stdout), -V or --version.
 * Returns -1 to go on, with *oi the index of the first operand;
 * CONF_DAEMON_VERSION after --version (the caller prints its version on
 * stdout and exits with 0); or the exit status to leave with (0 after
 * --help, 2 after 'usage(stderr)' for an unknown option). */
#define CONF_DAEMON_VERSION (-2)
int conf_daemon_options(int argc, char **argv, void (*usage)(FILE *f), const char **path,
			bool *check_only, bool *use_syslog, int *oi);

#endif
