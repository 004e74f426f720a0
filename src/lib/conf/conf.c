#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/addrlist.h"
#include "base/err.h"
#include "base/log.h"
#include "base/secret.h"
#include "conf/conf.h"

#define LINE_MAX_LEN 4096

static char **str_slot(void *target, const struct conf_item *item)
{
	return (char **)((char *)target + item->offset);
}

static int fail(struct errmsg *err, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct errmsg *err, const char *where, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err->text, sizeof(err->text), "%s: ", where);
	/* A 'where' that fills the buffer leaves no room for the message. */
	if (n < 0 || (size_t)n >= sizeof(err->text))
		return ERR_CONFIG;
	va_start(ap, fmt);
	vsnprintf(err->text + n, sizeof(err->text) - (size_t)n, fmt, ap);
	va_end(ap);
	return ERR_CONFIG;
}

static int parse_bool(const char *v, int *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	for (unsigned i = 0; i < 4; i++) {
		if (strcmp(v, yes[i]) == 0) {
			*ret = 1;
			return 0;
		}
		if (strcmp(v, no[i]) == 0) {
			*ret = 0;
			return 0;
		}
	}
	return -EINVAL;
}

/* Store a copy of a checked string value ('shown' is its printable form). */
static int set_str(const struct conf_item *item, void *target, const char *value, const char *where,
		   const char *shown, struct errmsg *err)
{
	size_t max = item->max ? item->max : 4096;
	if (strlen(value) > max)
		return fail(err, where, "'%s': value '%s' is too long (at most %zu characters)",
			    item->key, shown, max);
	char *copy = strdup(value);
	if (copy == NULL)
		return -ENOMEM;
	char **slot = str_slot(target, item);
	if (*slot != NULL && (item->flags & CONF_SECRET))
		explicit_bzero(*slot, strlen(*slot));
	free(*slot);
	*slot = copy;
	return 0;
}

/* An address list: the error names the entry at fault, not the whole line. */
static int check_addrs(const struct conf_item *item, const char *value, const char *where,
		       struct errmsg *err)
{
	const char *msg;
	size_t at, len;
	char entry[80], shown[128];

	if (addrlist_parse(value, NULL, &msg, &at, &len) == 0)
		return 0;
	if (len == 0)
		return fail(err, where, "'%s': the list %s", item->key, msg);
	if (len >= sizeof(entry))
		len = sizeof(entry) - 1;
	memcpy(entry, value + at, len);
	entry[len] = '\0';
	log_sanitize(entry, shown, sizeof(shown));
	return fail(err, where, "'%s': '%s' %s", item->key, shown, msg);
}

int conf_set(const struct conf_item *item, void *target, const char *value, const char *where,
	     struct errmsg *err)
{
	char shown[128];

	log_sanitize((item->flags & CONF_SECRET) ? "(secret)" : value, shown, sizeof(shown));

	switch (item->type) {
	case CONF_UINT: {
		char *end;
		if (!isdigit((unsigned char)value[0]))
			return fail(err, where, "'%s': '%s' is not a non-negative integer",
				    item->key, shown);
		errno = 0;
		unsigned long long v = strtoull(value, &end, 10);
		if (errno != 0 || *end != '\0')
			return fail(err, where, "'%s': '%s' is not a non-negative integer",
				    item->key, shown);
		if (v < item->min || v > item->max)
			return fail(err, where, "'%s': '%s' is out of range %" PRIu64 "..%" PRIu64,
				    item->key, shown, item->min, item->max);
		*(uint64_t *)((char *)target + item->offset) = v;
		return 0;
	}
	case CONF_BOOL: {
		int b;
		if (parse_bool(value, &b) < 0)
			return fail(err, where, "'%s': '%s' is not yes or no", item->key, shown);
		*(int *)((char *)target + item->offset) = b;
		return 0;
	}
	case CONF_ENUM: {
		bool ok = false;
		for (const char *const *c = item->choices; *c != NULL; c++)
			ok = ok || strcmp(*c, value) == 0;
		if (!ok)
			return fail(err, where, "'%s': '%s' is not one of the allowed values",
				    item->key, shown);
		return set_str(item, target, value, where, shown, err);
	}
	case CONF_ADDRS: {
		int r = check_addrs(item, value, where, err);
		if (r < 0)
			return r;
		return set_str(item, target, value, where, shown, err);
	}
	case CONF_STR:
		return set_str(item, target, value, where, shown, err);
	}
	return -EINVAL;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* A '#' at the start of the line (after white space) or after white space
 * starts a comment. One inside a value is part of it: secrets and tokens
 * (base64, generated passwords) may hold a '#', and cutting them there
 * would leave a shorter, weaker secret without a word. */
static void cut_comment(char *line)
{
	for (char *p = line; *p != '\0'; p++) {
		if (*p == '#' && (p == line || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			return;
		}
	}
}

static const struct conf_item *find(const struct conf_item *schema, const char *key)
{
	for (const struct conf_item *it = schema; it->key != NULL; it++)
		if (strcmp(it->key, key) == 0)
			return it;
	return NULL;
}

static int apply_defaults(const struct conf_item *schema, void *target, struct errmsg *err)
{
	err->text[0] = '\0';
	for (const struct conf_item *it = schema; it->key != NULL; it++) {
		if (it->def == NULL)
			continue;
		int r = conf_set(it, target, it->def, "(default)", err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* One line of 'f' as fgets() reads it (at most size - 1 bytes, up to and
 * with its newline, NUL-terminated), but also telling how many bytes were
 * read, NUL bytes included; -1 at the end of the file. */
static long read_line(FILE *f, char *line, size_t size)
{
	size_t n = 0;
	int c = EOF;

	while (n + 1 < size && (c = getc(f)) != EOF) {
		line[n++] = (char)c;
		if (c == '\n')
			break;
	}
	line[n] = '\0';
	return n == 0 && c == EOF ? -1 : (long)n;
}

/* The lines of 'f', then the check that every required item is set. */
static int read_lines(FILE *f, const char *path, const struct conf_item *schema, void *target,
		      struct errmsg *err)
{
	unsigned nitems = 0;
	int r = 0;

	for (const struct conf_item *it = schema; it->key != NULL; it++)
		nitems++;
	unsigned char *seen = calloc(nitems ? nitems : 1, 1);
	if (seen == NULL)
		return -ENOMEM;

	/* Zeroed for the static analyzer, which loses read_line()'s NUL. */
	char line[LINE_MAX_LEN + 2] = "";
	char where[300];
	unsigned lineno = 0;
	long got;
	while (r == 0 && (got = read_line(f, line, sizeof(line))) >= 0) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		/* The buffer holds LINE_MAX_LEN characters and the newline; a line
		 * without its newline is either the last one or too long. */
		size_t len = (size_t)got;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > LINE_MAX_LEN) {
			errmsg_set(err, 0, "%s: line too long", where);
			r = ERR_CONFIG;
			break;
		}
		/* C strings would end the line there, unseen. */
		if (memchr(line, '\0', len) != NULL) {
			r = fail(err, where, "a NUL byte: not a text file");
			break;
		}
		cut_comment(line);
		char *s = trim(line);
		if (*s == '\0')
			continue;
		char *eq = strchr(s, '=');
		if (eq == NULL) {
			r = fail(err, where, "expected 'key = value'");
			break;
		}
		*eq = '\0';
		char *key = trim(s);
		char *value = trim(eq + 1);
		const struct conf_item *it = find(schema, key);
		if (it == NULL) {
			char k[96];
			log_sanitize(key, k, sizeof(k));
			r = fail(err, where, "unknown setting '%s'", k);
			break;
		}
		unsigned idx = (unsigned)(it - schema);
		if (seen[idx]) {
			r = fail(err, where, "'%s' is set twice", it->key);
			break;
		}
		seen[idx] = 1;
		if (*value == '\0')
			continue; /* empty means unset: keep the default */
		r = conf_set(it, target, value, where, err);
	}
	explicit_bzero(line, sizeof(line));

	for (const struct conf_item *it = schema; r == 0 && it->key != NULL; it++) {
		if (!(it->flags & CONF_REQUIRED))
			continue;
		if ((it->type == CONF_STR || it->type == CONF_ENUM || it->type == CONF_ADDRS) &&
		    *str_slot(target, it) == NULL) {
			errmsg_set(err, 0, "%s: '%s' must be set", path, it->key);
			r = ERR_CONFIG;
		}
	}
	free(seen);
	return r;
}

int conf_load(const char *path, const struct conf_item *schema, void *target, struct errmsg *err)
{
	int r = apply_defaults(schema, target, err);
	if (r < 0)
		return r;
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		int e = errno;
		errmsg_set(err, 0, "%s: cannot open: %s", path, strerror(e));
		return -e;
	}
	r = read_lines(f, path, schema, target, err);
	fclose(f);
	return r;
}

int conf_load_stream(FILE *f, const char *name, const struct conf_item *schema, void *target,
		     struct errmsg *err)
{
	int r = apply_defaults(schema, target, err);
	return r < 0 ? r : read_lines(f, name, schema, target, err);
}

void conf_free(const struct conf_item *schema, void *target)
{
	for (const struct conf_item *it = schema; it->key != NULL; it++) {
		if (it->type != CONF_STR && it->type != CONF_ENUM && it->type != CONF_ADDRS)
			continue;
		char **slot = str_slot(target, it);
		if (*slot != NULL && (it->flags & CONF_SECRET))
			explicit_bzero(*slot, strlen(*slot));
		free(*slot);
		*slot = NULL;
	}
}

int conf_read_secret_file(const char *path, char **ret, struct errmsg *err)
{
	/* The line, its line end and one byte more: a longer line is refused,
	 * never cut to a secret that matches nothing. */
	char buf[CONF_SECRET_FILE_MAX + 3];
	int r = secret_file_is_private(path);
	if (r < 0)
		return errmsg_set(err, ERR_CONFIG, "%.300s: %s", path,
				  r == -EACCES ? "readable by group or others (chmod 600)"
					       : strerror(-r));
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return errmsg_set(err, ERR_CONFIG, "%.300s: %s", path, strerror(errno));
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	bool failed = ferror(f) != 0;
	fclose(f);
	buf[n] = '\0';
	size_t len = strcspn(buf, "\r\n");
	const char *why = failed			? "cannot read it"
			  : len < n && buf[len] == '\0' ? "not a text file"
			  : len == 0			? "the first line is empty"
			  : len > CONF_SECRET_FILE_MAX	? "the first line is longer than "
							  "the " CONF_SECRET_FILE_MAX_TEXT
							 " characters a secret may have"
						       : NULL;
	buf[len] = '\0';
	*ret = why == NULL ? strdup(buf) : NULL;
	explicit_bzero(buf, sizeof(buf));
	if (why != NULL)
		return errmsg_set(err, ERR_CONFIG, "%.300s: %s", path, why);
	return *ret ? 0 : -ENOMEM;
}

int conf_read_text_file(const char *path, bool private, size_t max, char **ret, struct errmsg *err)
{
	if (private) {
		int r = secret_file_is_private(path);
		if (r < 0)
			return errmsg_set(err, ERR_CONFIG, "%.300s: %s", path,
					  r == -EACCES ? "readable by group or others (chmod 600)"
						       : strerror(-r));
	}
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return errmsg_set(err, ERR_CONFIG, "%.300s: %s", path, strerror(errno));
	char *text = malloc(max + 1);
	if (text == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	size_t n = fread(text, 1, max + 1, f);
	bool failed = ferror(f) != 0;
	fclose(f);
	const char *why = failed			  ? "cannot read it"
			  : n == 0			  ? "empty"
			  : n > max			  ? "too large"
			  : memchr(text, '\0', n) != NULL ? "not a text file"
							  : NULL;
	if (why != NULL) {
		explicit_bzero(text, n < max + 1 ? n : max + 1);
		free(text);
		return errmsg_set(err, ERR_CONFIG, "%.300s: %s", path, why);
	}
	text[n] = '\0';
	*ret = text;
	return 0;
}

#define PEM_MAX (1u << 20)

int conf_read_tls(const char *cert_file, const char *key_file, char **ret_cert, char **ret_key,
		  struct errmsg *err)
{
	*ret_cert = *ret_key = NULL;
	if (cert_file == NULL && key_file == NULL)
		return 0;
	if (cert_file == NULL || key_file == NULL)
		return errmsg_set(err, ERR_CONFIG,
				  "'tls-cert-file' and 'tls-key-file' go together");
	int r = conf_read_text_file(cert_file, false, PEM_MAX, ret_cert, err);
	if (r == 0)
		r = conf_read_text_file(key_file, true, PEM_MAX, ret_key, err);
	if (r < 0)
		conf_tls_free(ret_cert, ret_key);
	return r;
}

void conf_tls_free(char **cert, char **key)
{
	free(*cert);
	*cert = NULL;
	if (*key != NULL)
		explicit_bzero(*key, strlen(*key));
	free(*key);
	*key = NULL;
}

int conf_daemon_options(int argc, char **argv, void (*usage)(FILE *f), const char **path,
			bool *check_only, bool *use_syslog, int *oi)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:nshV", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			*path = optarg;
			break;
		case 'n':
			*check_only = true;
			break;
		case 's':
			*use_syslog = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			return CONF_DAEMON_VERSION;
		default:
			usage(stderr);
			return 2;
		}
	}
	*oi = optind;
	return -1;
}
