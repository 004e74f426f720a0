/* Logging: one line per event, lowercase, user input in single quotes.
 * Lines go to stderr in the foreground, to syslog otherwise. Library code
 * does not log errors it returns; the programs decide. Never pass a secret. */
#ifndef YUMNA_LOG_H
#define YUMNA_LOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOG_LVL_ERR = 3,
	LOG_LVL_WARN = 4,
	LOG_LVL_NOTICE = 5,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7
};

/* Set up logging for program 'ident'. With 'use_syslog' false, lines go to
 * stderr with a timestamp. Messages above 'level' are dropped. */
void log_init(const char *ident, bool use_syslog, enum log_level level);

/* Parse "err", "warn", "notice", "info" or "debug"; -EINVAL otherwise. */
int log_level_parse(const char *text, enum log_level *ret_level);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* A line that may come at every request while something stays wrong (a
 * store that is down, under load): the first is logged at once, then at
 * most one every 'interval_ms', which says how many events it stands for,
 * so that an outage does not flood the log. Thread-safe; a static one is
 * initialised with LOG_LIMIT_INIT(interval_ms). */
struct log_limit {
	pthread_mutex_t lock;
	int64_t interval_ms;
	bool logged;	 /* a line was let through */
	int64_t last_ms; /* when */
	uint64_t held;	 /* events since then whose line was not */
};

#define LOG_LIMIT_INIT(interval_ms)                                   \
	{                                                             \
		PTHREAD_MUTEX_INITIALIZER, (interval_ms), false, 0, 0 \
	}

/* Count one event at 'now_ms' (a monotonic clock in milliseconds) and tell
 * whether its line is to be logged: the first event's, then the first one
 * 'interval_ms' or more after the last line let through. When true,
 * *ret_count is how many events the line stands for: this one and those
 * held back since the last line. */
bool log_limit_pass(struct log_limit *l, int64_t now_ms, uint64_t *ret_count);

/* Copy 'text' into 'out' (size 'len') for quoting in a log line or an error
 * message: control characters, quotes, backslashes and bytes over 0x7e become
 * \xNN, and input that does not fit whole is cut with "..." (as much of
 * the "..." as fits when 'len' is under 4). Always NUL-terminates. */
void log_sanitize(const char *text, char *out, unsigned len);

#endif
