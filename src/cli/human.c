#include <stdio.h>
#include <string.h>
#include <time.h>

#include "human.h"

int human_parse_duration(const char *text, int64_t max_ms, int64_t *ret_ms)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = { { "", 1000 },	{ "ms", 1 },	  { "s", 1000 },     { "m", 60000 },
		      { "min", 60000 }, { "h", 3600000 }, { "d", 86400000 }, { "w", 604800000 } };
	int64_t v = 0;
	const char *p = text;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > max_ms)
			return -1;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].unit) != 0)
			continue;
		if (v > max_ms / units[i].ms)
			return -1;
		*ret_ms = v * units[i].ms;
		return 0;
	}
	return -1;
}

void human_duration(int64_t seconds, char *out, size_t len)
{
	static const struct {
		int64_t size;
		const char *name;
	} units[] = { { 86400, "d" }, { 3600, "h" }, { 60, "min" }, { 1, "s" } };
	int64_t left = seconds > 0 ? seconds : 0;
	size_t n = sizeof(units) / sizeof(units[0]);

	for (size_t i = 0; i < n; i++) {
		int64_t big = left / units[i].size;
		if (big == 0 && units[i].size > 1)
			continue;
		int64_t small = i + 1 < n ? (left % units[i].size) / units[i + 1].size : 0;
		if (small > 0)
			snprintf(out, len, "%lld %s %lld %s", (long long)big, units[i].name,
				 (long long)small, units[i + 1].name);
		else
			snprintf(out, len, "%lld %s", (long long)big, units[i].name);
		return;
	}
}

void human_utc(int64_t t, char *out, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL || strftime(out, len, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(out, len, "%lld", (long long)t);
}

void human_when(int64_t at, int64_t now, char *out, size_t len)
{
	char utc[40], in[40];
	human_utc(at, utc, sizeof(utc));
	if (at <= now) {
		snprintf(out, len, "now (since %s)", utc);
		return;
	}
	human_duration(at - now, in, sizeof(in));
	snprintf(out, len, "%s, in %s", utc, in);
}
