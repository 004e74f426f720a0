/* Runs a fuzz target without libFuzzer: LLVMFuzzerTestOneInput() over every
 * file named on the command line and every file in the directories named
 * there (in name order, names starting with '.' skipped; a directory that
 * does not exist is skipped). The unit suite runs each target this way over
 * tests/fuzz/corpus/<target> and tests/fuzz/regressions/<target>, so an
 * input that once crashed keeps being tried in every build. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay_file(const char *path, unsigned *count)
{
	FILE *f = fopen(path, "rbe");
	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t alloc = 4096, len = 0;
	uint8_t *data = malloc(alloc);
	for (size_t n; data != NULL && (n = fread(data + len, 1, alloc - len, f)) > 0;) {
		len += n;
		if (len == alloc) {
			uint8_t *p = realloc(data, alloc *= 2);
			if (p == NULL)
				free(data);
			data = p;
		}
	}
	bool failed = ferror(f) != 0 || data == NULL;
	fclose(f);
	if (failed) {
		free(data);
		fprintf(stderr, "replay: %s: cannot read it\n", path);
		return -1;
	}
	/* Exactly 'len' bytes, as libFuzzer passes them: a read past the end
	 * is caught by AddressSanitizer where it runs. */
	uint8_t *exact = malloc(len ? len : 1);
	if (exact == NULL) {
		free(data);
		return -1;
	}
	memcpy(exact, data, len);
	free(data);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	(*count)++;
	return 0;
}

static int visible(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int replay_dir(const char *dir, unsigned *count)
{
	struct dirent **names;
	int n = scandir(dir, &names, visible, alphasort);
	int r = 0;

	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) >=
			sizeof(path) ||
		    replay_file(path, count) < 0)
			r = -1;
		free(names[i]);
	}
	free(names);
	return r;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int r = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) < 0)
			continue; /* no regressions yet */
		if (S_ISDIR(st.st_mode) ? replay_dir(argv[i], &count) < 0
					: replay_file(argv[i], &count) < 0)
			r = 1;
	}
	printf("replayed %u inputs\n", count);
	return r;
}
