/*
 * Test oracle: libbpf's btf_dump__dump_type, called on one dumper for each type id given.
 *
 *   btf_dump_type FILE ID...
 *
 * FILE holds raw BTF or an ELF object with a .BTF section. For each ID in turn the helper calls
 * btf_dump__dump_type on the same dumper (which remembers what it wrote) and prints what libbpf
 * wrote, then a line "/" "* end of ID *" "/". Exits 1 when libbpf refuses the file or a type, 2 on
 * usage errors.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <bpf/btf.h>

static void print(void *ctx, const char *fmt, va_list args)
{
	(void)ctx;
	vprintf(fmt, args);
}

int main(int argc, char **argv)
{
	struct btf_dump *d;
	struct btf *btf;
	int i, err;

	if (argc < 3) {
		fprintf(stderr, "usage: %s FILE ID...\n", argv[0]);
		return 2;
	}
	btf = btf__parse(argv[1], NULL);
	if (!btf) {
		fprintf(stderr, "btf__parse(%s): %d\n", argv[1], -errno);
		return 1;
	}
	d = btf_dump__new(btf, print, NULL, NULL);
	if (!d) {
		fprintf(stderr, "btf_dump__new: %d\n", -errno);
		return 1;
	}
	for (i = 2; i < argc; i++) {
		char *end;
		long id = strtol(argv[i], &end, 0);

		if (*end || id < 0) {
			fprintf(stderr, "not a type id: %s\n", argv[i]);
			return 2;
		}
		err = btf_dump__dump_type(d, (__u32)id);
		if (err) {
			fprintf(stderr, "btf_dump__dump_type(%ld): %d\n", id, err);
			return 1;
		}
		printf("/* end of %ld */\n", id);
	}
	btf_dump__free(d);
	btf__free(btf);
	return 0;
}
