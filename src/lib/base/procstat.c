#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/err.h"
#include "base/procstat.h"

/* Fields of /proc/<pid>/stat (proc(5)), counted from 1 as there; the text
 * is read from the last ')' on, after which field 3 comes. */
#define F_FIRST 3
#define F_UTIME 14
#define F_STIME 15
#define F_STARTTIME 22
#define F_VSIZE 23
#define F_RSS 24

int procstat_parse_stat(const char *text, long ticks, long page_size, uint64_t boot_time,
			struct procstat *ret)
{
	unsigned long long v[F_RSS + 1] = { 0 };
	const char *p = strrchr(text, ')');

	if (p == NULL || ticks <= 0 || page_size <= 0)
		return ERR_MALFORMED;
	p++;
	for (unsigned f = F_FIRST; f <= F_RSS; f++) {
		char *end;
		while (*p == ' ')
			p++;
		if (f == F_FIRST) { /* the state, one letter */
			if (*p == '\0' || *p == ' ')
				return ERR_MALFORMED;
			p++;
			continue;
		}
		/* Some fields are signed (rss may be -1 early or late in a
		 * process's life); none we read is negative in practice. */
		errno = 0;
		long long n = strtoll(p, &end, 10);
		if (end == p || errno != 0 || (*end != ' ' && *end != '\n' && *end != '\0'))
			return ERR_MALFORMED;
		v[f] = n < 0 ? 0 : (unsigned long long)n;
		p = end;
	}
	ret->cpu_seconds = (double)(v[F_UTIME] + v[F_STIME]) / (double)ticks;
	ret->start_time = (double)boot_time + (double)v[F_STARTTIME] / (double)ticks;
	ret->virtual_bytes = v[F_VSIZE];
	ret->resident_bytes = v[F_RSS] * (unsigned long long)page_size;
	return 0;
}

int procstat_read_boot_time(FILE *f, uint64_t *ret)
{
	char line[256];
	bool at_start = true;

	/* fgets splits a long line (the "intr" line runs to kilobytes); only
	 * a piece that starts a line can be the one we want. */
	while (fgets(line, sizeof(line), f) != NULL) {
		bool was_start = at_start;
		at_start = strchr(line, '\n') != NULL;
		if (!was_start || strncmp(line, "btime ", 6) != 0)
			continue;
		char *end;
		errno = 0;
		unsigned long long t = strtoull(line + 6, &end, 10);
		if (end == line + 6 || errno != 0)
			return ERR_MALFORMED;
		*ret = t;
		return 0;
	}
	return -ENOENT;
}

static int read_small(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return -errno;
	size_t n = fread(out, 1, len - 1, f);
	int r = ferror(f) ? -EIO : 0;
	fclose(f);
	out[n] = '\0';
	return r;
}

static int count_fds(uint64_t *ret)
{
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return -errno;
	uint64_t n = 0;
	const struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	*ret = n > 0 ? n - 1 : 0; /* the directory's own descriptor */
	return 0;
}

int procstat_read(struct procstat *ret)
{
	/* pid, a command name of at most 64 bytes and 50 numbers. */
	char stat[1024];
	uint64_t boot_time = 0;
	struct procstat p = { 0 };
	struct rlimit rl;

	FILE *f = fopen("/proc/stat", "re");
	if (f == NULL)
		return -errno;
	int r = procstat_read_boot_time(f, &boot_time);
	fclose(f);
	if (r < 0)
		return r;
	r = read_small("/proc/self/stat", stat, sizeof(stat));
	if (r < 0)
		return r;
	r = procstat_parse_stat(stat, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE), boot_time, &p);
	if (r < 0)
		return r;
	r = count_fds(&p.open_fds);
	if (r < 0)
		return r;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	p.max_fds = (uint64_t)rl.rlim_cur;
	*ret = p;
	return 0;
}

int procstat_render(const struct procstat *p, struct buf *out)
{
	return buf_printf(
	    out,
	    "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
	    "# TYPE process_cpu_seconds_total counter\n"
	    "process_cpu_seconds_total %.2f\n"
	    "# HELP process_open_fds Number of open file descriptors.\n"
	    "# TYPE process_open_fds gauge\n"
	    "process_open_fds %llu\n"
	    "# HELP process_max_fds Maximum number of open file descriptors.\n"
	    "# TYPE process_max_fds gauge\n"
	    "process_max_fds %llu\n"
	    "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
	    "# TYPE process_virtual_memory_bytes gauge\n"
	    "process_virtual_memory_bytes %llu\n"
	    "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
	    "# TYPE process_resident_memory_bytes gauge\n"
	    "process_resident_memory_bytes %llu\n"
	    "# HELP process_start_time_seconds Start time of the process since unix epoch in "
	    "seconds.\n"
	    "# TYPE process_start_time_seconds gauge\n"
	    "process_start_time_seconds %.2f\n",
	    p->cpu_seconds, (unsigned long long)p->open_fds, (unsigned long long)p->max_fds,
	    (unsigned long long)p->virtual_bytes, (unsigned long long)p->resident_bytes,
	    p->start_time);
}
