#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "base/log.h"

static const char *log_ident = "yumna";
static bool log_syslog;
static enum log_level log_max = LOG_LVL_INFO;

static const char *const level_names[] = {
	[LOG_LVL_ERR] = "err",	 [LOG_LVL_WARN] = "warn",   [LOG_LVL_NOTICE] = "notice",
	[LOG_LVL_INFO] = "info", [LOG_LVL_DEBUG] = "debug",
};

void log_init(const char *ident, bool use_syslog, enum log_level level)
{
	log_ident = ident;
	log_syslog = use_syslog;
	log_max = level;
	if (use_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

int log_level_parse(const char *text, enum log_level *ret_level)
{
	for (unsigned i = LOG_LVL_ERR; i <= LOG_LVL_DEBUG; i++) {
		if (strcmp(text, level_names[i]) == 0) {
			*ret_level = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);

	if (log_syslog) {
		syslog((int)level, "%s", line);
		return;
	}
	struct timespec ts;
	struct tm tm;
	char stamp[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s %s: %s\n", stamp, ts.tv_nsec / 1000000, log_ident,
		level_names[level], line);
}

bool log_limit_pass(struct log_limit *l, int64_t now_ms, uint64_t *ret_count)
{
	pthread_mutex_lock(&l->lock);
	l->held++;
	bool pass = !l->logged || now_ms - l->last_ms >= l->interval_ms;
	if (pass) {
		*ret_count = l->held;
		l->held = 0;
		l->logged = true;
		l->last_ms = now_ms;
	}
	pthread_mutex_unlock(&l->lock);
	return pass;
}

void log_sanitize(const char *text, char *out, unsigned len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned o = 0, cut = 0;

	if (len == 0)
		return;
	if (text == NULL)
		text = "(null)";
	/* 'cut' is the last point where "..." and the NUL still fit: text
	 * that fits whole is copied whole, longer text is cut back there. */
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		bool plain = *p >= 0x20 && *p < 0x7f && *p != '\'' && *p != '"' && *p != '\\';
		unsigned need = plain ? 1 : 4;
		if (o + need + 1 > len) {
			unsigned dots = len - 1 - cut < 3 ? len - 1 - cut : 3;
			memcpy(out + cut, "...", dots);
			o = cut + dots;
			break;
		}
		if (plain) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
		if (o + 4 <= len)
			cut = o;
	}
	out[o] = '\0';
}
