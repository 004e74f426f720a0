/* yumnactl edit: the zone as a zone file in an editor, checked here, its
 * record changes shown and, once confirmed, applied as one version that
 * lands only on the version exported (the import's "ifVersion"). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "ctl.h"
#include "model/zdiff.h"

#define EDITOR_WORDS_MAX 32

struct edit_opts {
	bool yes;
	bool keep_soa;
};

struct edit {
	struct ctl *c;
	const struct edit_opts *o;
	const char *zone;	     /* as the user named it */
	int64_t id;		     /* the zone's id */
	uint64_t version;	     /* the version exported */
	char origin[DNAME_TEXT_MAX]; /* the zone's name */
	char path[512];		     /* the private file */
	struct buf before;	     /* the export */
	struct import_result old;    /* the export, read */
	FILE *out;		     /* people's output: stdout, stderr with --json */
};

static int write_file(const char *path, const struct buf *b)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -errno;
	size_t n = fwrite(b->data, 1, b->len, f);
	int r = n == b->len ? 0 : -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	return r;
}

/* Run the editor on 'path': $VISUAL, else $EDITOR, else vi, split on
 * blanks into its words (no shell: a variable is a command and its
 * options, nothing more), and wait for it. */
static int run_editor(const char *path)
{
	const char *env = getenv("VISUAL");
	if (env == NULL || env[strspn(env, " \t")] == '\0')
		env = getenv("EDITOR");
	if (env == NULL || env[strspn(env, " \t")] == '\0')
		env = "vi";
	char *words = strdup(env), *save = NULL;
	char *argv[EDITOR_WORDS_MAX + 2];
	size_t n = 0;
	if (words == NULL)
		return CTL_FAILED;
	for (char *w = strtok_r(words, " \t", &save); w != NULL && n < EDITOR_WORDS_MAX;
	     w = strtok_r(NULL, " \t", &save))
		argv[n++] = w;
	argv[n++] = (char *)path;
	argv[n] = NULL;
	/* While the editor runs, the terminal's ^C and ^\ are its own, not ours. */
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_quit;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		execvp(argv[0], argv);
		fprintf(stderr, "yumnactl: cannot run the editor '%s': %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	int status = 0, r = CTL_OK;
	if (pid < 0) {
		fprintf(stderr, "yumnactl: cannot start the editor: %s\n", strerror(errno));
		r = CTL_FAILED;
	}
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	if (r == CTL_OK && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		if (!(WIFEXITED(status) && WEXITSTATUS(status) == 127))
			fprintf(stderr, "yumnactl: the editor '%s' failed (%s %d)\n", argv[0],
				WIFEXITED(status) ? "exit code" : "signal",
				WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		r = CTL_FAILED;
	}
	free(words);
	return r;
}

/* One answer on the terminal: its first letter, lower case; 0 at EOF. */
static int ask(const char *question)
{
	char line[64];
	fprintf(stderr, "%s ", question);
	fflush(stderr);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return 0;
	return line[0] >= 'A' && line[0] <= 'Z' ? line[0] - 'A' + 'a' : line[0];
}

/* The SOA fields of canonical SOA text without its serial, into 'out'. */
static void soa_fields(const char *soa, char *out, size_t len)
{
	struct check_soa f;
	out[0] = '\0';
	if (soa != NULL && check_soa_parse(soa, &f) == 0)
		snprintf(out, len, "%s %s %u %u %u %u", f.mname, f.rname, f.refresh, f.retry,
			 f.expire, f.minimum);
}

/* --json when nothing is applied: the zone stays at the version exported;
 * 'errors' (borrowed, may be NULL) are an invalid edit's. */
static void no_change_json(const struct edit *e, json_t *errors)
{
	if (!e->c->json)
		return;
	json_t *j = json_pack("{s:b,s:I,s:I}", "changed", 0, "zoneId", (json_int_t)e->id, "version",
			      (json_int_t)e->version);
	if (j != NULL && errors != NULL)
		json_object_set(j, "errors", errors);
	ctl_print_json(j);
	json_decref(j);
}

/* Send the edit as one version, onto the version exported. */
static int apply(struct edit *e, const struct buf *text, json_t *diff)
{
	struct ctl *c = e->c;
	struct ctl_answer ans;
	char path[96];

	json_t *b = json_pack("{s:s%,s:s,s:s,s:I}", "content", text->data, text->len, "format",
			      "bind", "mode", "replace", "ifVersion", (json_int_t)e->version);
	if (b != NULL && e->o->keep_soa)
		json_object_set_new(b, "keepSoa", json_true());
	if (b == NULL) {
		fprintf(stderr, "yumnactl: the edited file is not UTF-8 text; nothing applied\n");
		return CTL_REFUSED;
	}
	snprintf(path, sizeof(path), "/api/dns/%lld/import%s", (long long)e->id, ctl_wait_query(c));
	int r = ctl_call_raw(c, "POST", path, b, &ans);
	json_decref(b);
	long status = ans.status;
	if (r == CTL_OK)
		r = ctl_answer_check(c, &ans);
	if (r != CTL_OK && status == 409)
		fprintf(stderr,
			"yumnactl: zone %s changed since version %llu was exported; nothing was "
			"applied: run yumnactl edit again\n",
			e->zone, (unsigned long long)e->version);
	else if (r != CTL_OK)
		fprintf(stderr, "yumnactl: nothing was applied to %s\n", e->zone);
	if (r != CTL_OK)
		return r;
	if (c->json)
		json_object_set(ans.json, "diff", diff);
	r = ctl_print_change(c, &ans, "zone edited");
	ctl_answer_clear(&ans);
	return r;
}

enum { EDIT_AGAIN = -1 };

/* After an invalid edit: edit again, or give up (nothing applied). */
static int invalid(struct edit *e, const struct import_result *now)
{
	check_print_errors(e->path, now);
	if (e->o->yes) {
		fprintf(stderr, "yumnactl: the edit of %s is invalid; nothing was applied\n",
			e->zone);
		no_change_json(e, now->errors);
		return CTL_REFUSED;
	}
	if (ask("The edit is invalid. (e)dit again or (a)bort? [e]") != 'a')
		return EDIT_AGAIN;
	fprintf(stderr, "yumnactl: aborted; nothing was applied to %s\n", e->zone);
	return CTL_REFUSED;
}

/* One pass: edit, check, show, confirm, apply. EDIT_AGAIN to go round. */
static int edit_once(struct edit *e)
{
	struct import_result now;
	struct buf after;
	json_t *diff = NULL;
	char was[1024], is[1024];

	int r = run_editor(e->path);
	if (r != CTL_OK) {
		fprintf(stderr, "yumnactl: nothing was applied to %s\n", e->zone);
		return r;
	}
	if ((r = ctl_read_file(e->path, &after)) != CTL_OK)
		return r;
	if (after.len == e->before.len && memcmp(after.data, e->before.data, after.len) == 0) {
		fprintf(e->out, "zone %s: the file is unchanged; nothing to apply\n", e->zone);
		buf_free(&after);
		no_change_json(e, NULL);
		return CTL_OK;
	}
	if (check_text(IMPORT_BIND, after.data, after.len, e->origin, &now) < 0) {
		buf_free(&after);
		return CTL_FAILED;
	}
	if (json_array_size(now.errors) == 0 && e->o->keep_soa && !now.soa_seen)
		json_array_append_new(now.errors,
				      json_pack("{s:n,s:s}", "line", "message",
						"--keep-soa: the file must keep its SOA record"));
	if (json_array_size(now.errors) > 0) {
		r = invalid(e, &now);
		goto out;
	}
	if (zdiff_rrsets(e->old.records, now.records, &diff) < 0) {
		r = CTL_FAILED;
		goto out;
	}
	soa_fields(e->old.soa_rdata, was, sizeof(was));
	soa_fields(now.soa_rdata, is, sizeof(is));
	bool soa_changed = now.soa_seen && strcmp(was, is) != 0;
	if (soa_changed && !e->o->keep_soa)
		fprintf(stderr,
			"yumnactl: the SOA fields of the edit are not applied: the controller "
			"keeps its own (edit --keep-soa takes them; or yumnactl zones set-soa)\n");
	size_t n = json_array_size(json_object_get(diff, "added")) +
		   json_array_size(json_object_get(diff, "removed")) +
		   json_array_size(json_object_get(diff, "changed"));
	if (n == 0 && !(soa_changed && e->o->keep_soa)) {
		fprintf(e->out, "zone %s: no record changed; nothing to apply\n", e->zone);
		no_change_json(e, NULL);
		r = CTL_OK;
		goto out;
	}
	fprintf(e->out, "--- %s version %llu\n+++ %s edited\n", e->origin,
		(unsigned long long)e->version, e->origin);
	ctl_print_rrset_diff(e->out, diff);
	if (soa_changed && e->o->keep_soa)
		fprintf(e->out, "- @ SOA %s\n+ @ SOA %s\n", was, is);
	fflush(e->out);
	int a = e->o->yes ? 'y'
			  : ask("Apply these changes as one new version? (y)es, (e)dit "
				"again or (n)o [n]");
	if (a == 'e') {
		r = EDIT_AGAIN;
	} else if (a != 'y') {
		fprintf(stderr, "yumnactl: nothing was applied to %s\n", e->zone);
		r = CTL_OK;
	} else {
		r = apply(e, &after, diff);
	}
out:
	json_decref(diff);
	import_result_clear(&now);
	buf_free(&after);
	return r;
}

/* The zone exported into the private file, and read. */
static int start(struct edit *e)
{
	struct ctl_answer ans;
	struct errmsg err;

	int r = ctl_export(e->c, e->id, &ans, &e->version);
	if (r != CTL_OK)
		return r;
	e->before = ans.body;
	buf_init(&ans.body, 0);
	ctl_answer_clear(&ans);
	if (check_find_origin(IMPORT_BIND, e->before.data, e->before.len, e->origin, &err) < 0) {
		fprintf(stderr,
			"yumnactl: the controller's export of %s does not say its version "
			"and zone; is the controller older than yumnactl?\n",
			e->zone);
		return CTL_FAILED;
	}
	if (check_text(IMPORT_BIND, e->before.data, e->before.len, e->origin, &e->old) < 0)
		return CTL_FAILED;
	const char *tmp = getenv("TMPDIR");
	snprintf(e->path, sizeof(e->path), "%s/yumnactl-edit-XXXXXX.zone",
		 tmp != NULL && tmp[0] == '/' && strlen(tmp) < 400 ? tmp : "/tmp");
	int fd = mkstemps(e->path, 5); /* mode 0600 */
	if (fd < 0) {
		fprintf(stderr, "yumnactl: cannot make a private file in %s: %s\n", e->path,
			strerror(errno));
		e->path[0] = '\0';
		return CTL_FAILED;
	}
	close(fd);
	if ((r = write_file(e->path, &e->before)) < 0) {
		fprintf(stderr, "yumnactl: cannot write '%s': %s\n", e->path, strerror(-r));
		return CTL_FAILED;
	}
	return CTL_OK;
}

static int edit_opt(int opt, const char *arg, void *ctx)
{
	struct edit_opts *o = ctx;
	(void)arg;
	if (opt == 'y')
		o->yes = true;
	else
		o->keep_soa = true;
	return 0;
}

static int edit(struct ctl *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ "keep-soa", no_argument, NULL, 'k' },
		{ 0 },
	};
	struct edit_opts o = { false, false };
	struct edit e = { .c = c, .o = &o, .out = c->json ? stderr : stdout };
	int oi, r = ctl_getopt(&ctl_edit_cmds[0], argc, argv, "y", lo, edit_opt, &o, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_args(&ctl_edit_cmds[0], argc - oi, 1, 1)) != CTL_OK)
		return r;
	if (!o.yes && isatty(STDIN_FILENO) != 1) {
		fprintf(stderr, "yumnactl: edit asks for confirmation on a terminal; stdin is "
				"not one: give --yes to apply without asking\n");
		return CTL_USAGE;
	}
	e.zone = argv[oi];
	if ((r = ctl_zone_id(c, e.zone, &e.id)) != CTL_OK)
		return r;
	r = start(&e);
	while (r == CTL_OK && (r = edit_once(&e)) == EDIT_AGAIN)
		r = CTL_OK;
	if (e.path[0] != '\0')
		unlink(e.path);
	import_result_clear(&e.old);
	buf_free(&e.before);
	return r;
}

const struct ctl_cmd ctl_edit_cmds[] = {
	{ "edit", NULL, edit, "[--yes] [--keep-soa] ZONE",
	  "Edit the zone as a zone file: it is exported into a private file (mode 0600, removed\n"
	  "afterwards) and opened in $VISUAL, else $EDITOR, else vi (the variable is split on\n"
	  "blanks into the command and its options; no shell runs it). When the editor exits,\n"
	  "the file is checked here as 'yumnactl check' does; if it is invalid, every error is\n"
	  "shown and you may edit again or abort. The records that change are shown ('-' and\n"
	  "'+' lines) and, once you confirm, applied as one new version (an import in replace\n"
	  "mode), only if the zone is still at the version exported: if it changed meanwhile,\n"
	  "nothing is applied and the exit code is 7. An unchanged file applies nothing.\n"
	  "--yes applies without asking (needed when stdin is not a terminal; an invalid edit\n"
	  "then exits 7). The SOA is the controller's, as in 'yumnactl import': changes to its\n"
	  "fields are ignored (with a warning) unless --keep-soa, which makes the edited MNAME,\n"
	  "RNAME and timers the zone's; the serial always moves on by itself. With --json the\n"
	  "answer (and the diff, as \"diff\") is printed on stdout, the rest on stderr." },
	{ 0 },
};
