/* Oracle for btfkit's distill: runs libbpf's btf__distill_base (libbpf >= 1.5) on modules'
 * split BTF and writes each distilled base and new split BTF as raw blobs.
 *   distill_base BASE OUTDIR MODULE...
 * For the Nth MODULE (from 0): OUTDIR/N.base and OUTDIR/N.split, or OUTDIR/N.err holding
 * libbpf's error. BASE is parsed once. Exit 1 when BASE cannot be read. */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int write_file(const char *dir, int n, const char *ext, const void *data, size_t size)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d.%s", dir, n, ext);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size) {
		fprintf(stderr, "cannot write %s\n", path);
		return 1;
	}
	return fclose(f) ? 1 : 0;
}

static int write_blob(const char *dir, int n, const char *ext, const struct btf *btf)
{
	__u32 size;
	const void *data = btf__raw_data(btf, &size);

	return data ? write_file(dir, n, ext, data, size) : 1;
}

int main(int argc, char **argv)
{
	struct btf *base;
	int i, rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: %s BASE OUTDIR MODULE...\n", argv[0]);
		return 2;
	}
	base = btf__parse(argv[1], NULL);
	if (!base) {
		fprintf(stderr, "cannot read base %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (i = 3; i < argc; i++) {
		struct btf *mod, *new_base = NULL, *new_split = NULL;
		int n = i - 3, err;
		char msg[256];

		mod = btf__parse_split(argv[i], base);
		if (!mod) {
			snprintf(msg, sizeof(msg), "btf__parse_split: %s\n", strerror(errno));
			rc |= write_file(argv[2], n, "err", msg, strlen(msg));
			continue;
		}
		err = btf__distill_base(mod, &new_base, &new_split);
		if (err) {
			snprintf(msg, sizeof(msg), "btf__distill_base: %s\n", strerror(-err));
			rc |= write_file(argv[2], n, "err", msg, strlen(msg));
		} else {
			rc |= write_blob(argv[2], n, "base", new_base) || write_blob(argv[2], n, "split", new_split);
		}
		btf__free(new_base);
		btf__free(new_split);
		btf__free(mod);
	}
	return rc;
}
