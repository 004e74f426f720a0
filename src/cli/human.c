#include <stdio.h>
#include <time.h>

#include "human.h"

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
