#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "base/err.h"
#include "base/log.h"
#include "init.h"
#include "pdns.h"
#include "supervise.h"

#define TICK_MS 100 /* how soon an exit is noticed */
#define PROBE_INTERVAL_MS 1000
/* A pdns_server under load still answers its API well within a second (its
 * web server has its own thread); three misses in a row is a hang, not a
 * slow answer. Refused connections count too: a process that is alive but
 * not listening serves nothing. */
#define PROBE_TIMEOUT_MS 1000
#define PROBE_MISSES 3
/* Up this long, the next restart waits pdns-restart-delay-min again. */
#define STABLE_MS 10000
#define KILL_WAIT_MS 5000

struct supervise {
	struct agent *a;
	struct pdns *probe; /* its own client: short timeout, own connections */
	pthread_t thread;
	atomic_bool stopping;
	long delay_ms;	       /* before the next restart */
	long long up_since_ms; /* when pdns_server last came (back) up */
	char why[ERRMSG_MAX];  /* why the current restart happens */
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep 'ms' in ticks; false once the supervisor is asked to stop. With
 * 'until_up', return early once PowerDNS answers again (POST initialize
 * started it, or the health loop saw it back). */
static bool nap(struct supervise *s, long ms, bool until_up)
{
	while (ms > 0 && !atomic_load(&s->stopping)) {
		if (until_up && atomic_load(&s->a->pdns_up))
			break;
		long step = ms < TICK_MS ? ms : TICK_MS;
		struct timespec ts = { 0, step * 1000000L };
		nanosleep(&ts, NULL);
		ms -= step;
	}
	return !atomic_load(&s->stopping);
}

static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = '\0';
	return n;
}

/* True while 'pid' is a live (not zombie) pdns_server of our data-dir. A pid
 * from the pid file may be stale and reused by an unrelated process, which
 * must never be signalled. */
static bool pid_is_ours(const struct agent *a, pid_t pid)
{
	char path[64], buf[8192], want[4200];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return false;
	const char *paren = strrchr(buf, ')');
	if (paren == NULL || paren[1] == '\0' || paren[2] == 'Z' || paren[2] == 'X')
		return false;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	ssize_t n = read_small(path, buf, sizeof(buf));
	if (n <= 0)
		return false;
	snprintf(want, sizeof(want), "--config-dir=%s", a->conf.data_dir);
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
		if (strcmp(buf + i, want) == 0)
			return true;
	return false;
}

int supervise_pdns_state(struct agent *a, char *why, size_t len)
{
	char path[64], buf[8192];

	pthread_mutex_lock(&a->pdns_lock);
	pid_t pid = a->pdns_pid;
	pthread_mutex_unlock(&a->pdns_lock);
	if (pid == 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	const char *paren = read_small(path, buf, sizeof(buf)) > 0 ? strrchr(buf, ')') : NULL;
	int state = paren != NULL && paren[1] == ' ' ? paren[2] : 'X';
	switch (state) {
	case 'T': /* stopped (SIGSTOP) */
	case 't': /* stopped by a debugger */
		snprintf(why, len, "pdns_server (pid %d) is stopped", (int)pid);
		return 0;
	case 'Z': /* killed or exited, not reaped yet */
	case 'X':
		snprintf(why, len, "pdns_server (pid %d) is gone", (int)pid);
		return 0;
	default:
		return 1;
	}
}

/* The pid in run/pdns.pid if it is a pdns_server of ours, else 0. */
static pid_t pid_file_ours(const struct agent *a)
{
	char path[4200], text[32];
	snprintf(path, sizeof(path), "%s/run/pdns.pid", a->conf.data_dir);
	if (read_small(path, text, sizeof(text)) <= 0)
		return 0;
	long pid = strtol(text, NULL, 10);
	return pid > 0 && pid_is_ours(a, (pid_t)pid) ? (pid_t)pid : 0;
}

/* Reap children; true (and 'why' filled) if the pdns_server we know of is
 * gone. Without one, adopt the pdns_server of the pid file (started by an
 * earlier run of the agent). Called with pdns_lock held. */
static bool check_gone(struct supervise *s)
{
	struct agent *a = s->a;
	pid_t pid = a->pdns_pid, p;
	int st;

	while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
		if (p != pid || pid == 0)
			continue;
		a->pdns_pid = 0;
		if (WIFSIGNALED(st))
			snprintf(s->why, sizeof(s->why), "pdns_server (pid %d) killed by signal %d",
				 (int)pid, WTERMSIG(st));
		else
			snprintf(s->why, sizeof(s->why),
				 "pdns_server (pid %d) exited with status %d", (int)pid,
				 WEXITSTATUS(st));
		return true;
	}
	if (pid != 0 && !pid_is_ours(a, pid)) {
		a->pdns_pid = 0;
		snprintf(s->why, sizeof(s->why), "pdns_server (pid %d) is gone", (int)pid);
		return true;
	}
	if (pid == 0)
		a->pdns_pid = pid_file_ours(a);
	return false;
}

/* SIGKILL the pdns_server we know of (or the pid file's, a hung one we
 * never knew) and wait until it is gone. Called with pdns_lock held. */
static void kill_pdns(struct agent *a)
{
	pid_t pid = a->pdns_pid ? a->pdns_pid : pid_file_ours(a);
	if (pid == 0)
		return;
	if (kill(pid, SIGKILL) == 0)
		log_notice("killed pdns_server (pid %d)", (int)pid);
	for (long t = 0; t < KILL_WAIT_MS; t += 10) {
		if (waitpid(pid, NULL, WNOHANG) == pid || !pid_is_ours(a, pid))
			break;
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	a->pdns_pid = 0;
}

/* Wait until pdns_server dies or hangs (true, s->why says which) or the
 * supervisor is stopped (false). */
static bool watch(struct supervise *s)
{
	struct agent *a = s->a;
	long long last_probe = now_ms();
	unsigned misses = 0;

	for (;;) {
		if (!nap(s, TICK_MS, false))
			return false;
		pthread_mutex_lock(&a->pdns_lock);
		bool gone = check_gone(s);
		pthread_mutex_unlock(&a->pdns_lock);
		if (gone)
			return true;
		if (s->delay_ms != (long)a->conf.pdns_restart_delay_min &&
		    now_ms() - s->up_since_ms >= STABLE_MS)
			s->delay_ms = (long)a->conf.pdns_restart_delay_min;
		if (now_ms() - last_probe < PROBE_INTERVAL_MS)
			continue;
		last_probe = now_ms();
		char version[64];
		if (pdns_ping(s->probe, version, sizeof(version)) != ERR_UNAVAILABLE) {
			misses = 0;
			continue;
		}
		if (++misses >= PROBE_MISSES) {
			char e[256];
			pdns_last_error(e, sizeof(e));
			snprintf(s->why, sizeof(s->why),
				 "powerdns api did not answer %d checks in a row (%s)",
				 PROBE_MISSES, e);
			return true;
		}
	}
}

static void mark_down(struct agent *a, const char *why)
{
	pthread_mutex_lock(&a->state_lock);
	snprintf(a->pdns_error, sizeof(a->pdns_error), "%.*s", (int)sizeof(a->pdns_error) - 1, why);
	pthread_mutex_unlock(&a->state_lock);
	atomic_store(&a->pdns_up, false);
}

/* Kill what is left, then start pdns_server again until it answers, each
 * attempt after the current delay, which doubles up to the cap. */
static void restart(struct supervise *s)
{
	struct agent *a = s->a;
	long long t0 = now_ms();
	struct errmsg last = { "" };
	struct errmsg err;

	mark_down(a, s->why);
	log_warn("%s; restarting it in %ld ms", s->why, s->delay_ms);
	pthread_mutex_lock(&a->pdns_lock);
	kill_pdns(a);
	pthread_mutex_unlock(&a->pdns_lock);
	for (;;) {
		if (!nap(s, s->delay_ms, true))
			return;
		long cap = (long)a->conf.pdns_restart_delay_max;
		s->delay_ms = s->delay_ms * 2 < cap ? s->delay_ms * 2 : cap;
		if (s->delay_ms < (long)a->conf.pdns_restart_delay_min)
			s->delay_ms = (long)a->conf.pdns_restart_delay_min;

		bool started = false;
		int r = init_ensure_powerdns(a, &started, &err);
		if (started)
			atomic_fetch_add(&a->stats.pdns_restarts, 1);
		if (r == 0)
			break;
		if (strcmp(err.text, last.text) != 0)
			log_warn("cannot restart pdns_server: %s; retrying every %ld ms at most",
				 err.text, cap);
		last = err;
		mark_down(a, err.text);
		/* One that started but never answered holds the ports. */
		pthread_mutex_lock(&a->pdns_lock);
		kill_pdns(a);
		pthread_mutex_unlock(&a->pdns_lock);
	}
	s->up_since_ms = now_ms();
	log_notice("powerdns back after %lld ms (%llu restarts)", s->up_since_ms - t0,
		   (unsigned long long)atomic_load(&a->stats.pdns_restarts));
	/* A fresh pdns_server has empty caches, but zones committed while it
	 * was down are still marked dirty; and the database may have changed
	 * behind the count while pushes were refused. */
	apply_count_zones(a);
	atomic_store(&a->dirty, true);
	apply_flush_dirty(a);
}

static void *run(void *arg)
{
	struct supervise *s = arg;
	while (watch(s))
		restart(s);
	return NULL;
}

int supervise_start(struct agent *a, struct supervise **ret)
{
	struct supervise *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->a = a;
	s->delay_ms = (long)a->conf.pdns_restart_delay_min;
	s->up_since_ms = now_ms();
	atomic_init(&s->stopping, false);
	int r = pdns_new_timeout(a->api_url, a->api_key, PROBE_TIMEOUT_MS, &s->probe);
	if (r == 0) {
		r = -pthread_create(&s->thread, NULL, run, s);
		if (r < 0)
			pdns_free(s->probe);
	}
	if (r < 0) {
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void supervise_stop(struct supervise *s)
{
	if (s == NULL)
		return;
	atomic_store(&s->stopping, true);
	pthread_join(s->thread, NULL);
	pdns_free(s->probe);
	free(s);
}
