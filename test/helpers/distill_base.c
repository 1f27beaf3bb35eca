/* Oracle for btfkit's distill: runs libbpf's btf__distill_base (libbpf >= 1.5) on a module's
 * split BTF and writes the distilled base and the new split BTF as raw blobs.
 *   distill_base BASE MODULE OUT_BASE OUT_SPLIT
 * MODULE is raw split BTF or an ELF file with .BTF. Exit 1 with libbpf's error on stderr. */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int write_blob(const char *path, const struct btf *btf)
{
	__u32 size;
	const void *data = btf__raw_data(btf, &size);
	FILE *f = fopen(path, "wb");

	if (!data || !f || fwrite(data, 1, size, f) != size) {
		fprintf(stderr, "cannot write %s\n", path);
		return 1;
	}
	return fclose(f) ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct btf *base, *mod, *new_base = NULL, *new_split = NULL;
	int err;

	if (argc != 5) {
		fprintf(stderr, "usage: %s BASE MODULE OUT_BASE OUT_SPLIT\n", argv[0]);
		return 2;
	}
	base = btf__parse(argv[1], NULL);
	if (!base) {
		fprintf(stderr, "cannot read base %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	mod = btf__parse_split(argv[2], base);
	if (!mod) {
		fprintf(stderr, "cannot read module %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	err = btf__distill_base(mod, &new_base, &new_split);
	if (err) {
		fprintf(stderr, "btf__distill_base: %s\n", strerror(-err));
		return 1;
	}
	return write_blob(argv[3], new_base) || write_blob(argv[4], new_split);
}
