/* The differential tests' shared parts (tests/integ/parse_kit.h). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include "tests/integ/parse_kit.h"
#include "tests/test.h"

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct corpus_file *)a)->name, ((const struct corpus_file *)b)->name);
}

static int read_all(const char *path, struct corpus_file *f)
{
	FILE *fp = fopen(path, "rb");
	long n;

	if (!fp)
		return -1;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	f->data = malloc(n + 1);
	f->len = n;
	if (!f->data || fread(f->data, 1, n, fp) != (size_t)n) {
		fclose(fp);
		return -1;
	}
	f->data[n] = 0;
	fclose(fp);
	return 0;
}

int corpus_load(const char *proto, struct corpus_file **files)
{
	char dir[600], path[900];
	struct corpus_file *v = NULL;
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/../tests/corpus/%s", test_build_dir(), proto);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		v = realloc(v, (n + 1) * sizeof(*v));
		memset(&v[n], 0, sizeof(v[n]));
		snprintf(v[n].name, sizeof(v[n].name), "%s", e->d_name);
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (read_all(path, &v[n++])) {
			closedir(d);
			corpus_free(v, n);
			return -1;
		}
	}
	closedir(d);
	qsort(v, n, sizeof(*v), by_name);
	*files = v;
	return n;
}

void corpus_free(struct corpus_file *files, int n)
{
	for (int i = 0; i < n; i++)
		free(files[i].data);
	free(files);
}

int parse_run(int prog_fd, int map_fd, const void *msg, size_t len,
	      void *out, size_t out_len, __u32 *xdp)
{
	unsigned char frame[PARSE_MSG_OFF + 4096] = { 0 };
	__u32 key = 0;
	int err;

	if (len > sizeof(frame) - PARSE_MSG_OFF)
		return -E2BIG;
	memset(frame, 0x02, 12);                /* MACs */
	frame[12] = 0x08;                       /* IPv4 */
	frame[14] = 0x45;
	frame[16] = (20 + 8 + len) >> 8;
	frame[17] = (20 + 8 + len) & 0xff;
	frame[22] = 64;
	frame[23] = 17;                         /* UDP */
	frame[34] = 0x30;                       /* ports 12345 -> 80 */
	frame[35] = 0x39;
	frame[37] = 80;
	frame[38] = (8 + len) >> 8;
	frame[39] = (8 + len) & 0xff;
	memcpy(frame + PARSE_MSG_OFF, msg, len);
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = frame,
		.data_size_in = PARSE_MSG_OFF + len,
		.repeat = 1);
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	if (err)
		return err;
	*xdp = opts.retval;
	return bpf_map_lookup_elem(map_fd, &key, out) ? -errno : 0;
	(void)out_len;
}

const char *parse_status_name(__u32 status)
{
	static const char *names[] = { "UNSET", "OK", "MALFORMED", "TOO_BIG", "INCOMPLETE" };

	return status < 5 ? names[status] : "?";
}

const struct parse_allow *parse_allowed(const struct parse_allow *list, size_t n,
					const struct corpus_file *f)
{
	const char *dash = strchr(f->name, '-');

	for (size_t i = 0; i < n; i++)
		if (dash && !strcmp(dash + 1, list[i].input))
			return &list[i];
	return NULL;
}

bool parse_check_status(const struct corpus_file *f, __u32 got, __u32 xdp, __u32 want,
			const struct parse_allow *allow)
{
	bool ok = true;

	if (!ASSERT_EQ(xdp, got == PARSE_OK ? XDP_PASS : XDP_DROP, f->name))
		ok = false;
	if (allow) {
		/* A listed difference must still be one (else the list is stale). */
		if (!ASSERT_NE(got, want, allow->why))
			ok = false;
		return false;
	}
	if (got != want) {
		test_fail(__FILE__, __LINE__, "%s: eBPF says %s, the reference parser %s",
			  f->name, parse_status_name(got), parse_status_name(want));
		ok = false;
	}
	return ok;
}

void parse_tally_add(struct parse_tally *t, __u32 status)
{
	if (status <= PARSE_INCOMPLETE)
		t->n[status]++;
}

void parse_tally_check(const struct parse_tally *t, const char *proto)
{
	printf("    %s: %d OK, %d MALFORMED, %d TOO_BIG, %d INCOMPLETE\n", proto, t->n[PARSE_OK],
	       t->n[PARSE_MALFORMED], t->n[PARSE_TOO_BIG], t->n[PARSE_INCOMPLETE]);
	for (__u32 s = PARSE_OK; s <= PARSE_INCOMPLETE; s++)
		ASSERT_GE(t->n[s], 3, parse_status_name(s));
}
