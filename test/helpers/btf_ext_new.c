/*
 * Test oracle: asks libbpf whether it accepts a .BTF.ext section, through btf_ext__new.
 *
 *   btf_ext_new FILE...
 *
 * For each file (the raw contents of a .BTF.ext section) prints one line: "ok" when libbpf
 * accepts it, "error <errno>" when it refuses it. libbpf does not look at string offsets
 * there (they are checked later, against .BTF), and libbpf 1.1 refuses big-endian sections.
 * Exits 2 for usage or I/O problems.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level; (void)fmt; (void)args;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: btf_ext_new FILE...\n");
		return 2;
	}
	libbpf_set_print(quiet);
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			perror(argv[i]);
			return 2;
		}
		static unsigned char buf[1 << 20];
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		/* A private copy per call: libbpf keeps a pointer into what it is given. */
		unsigned char *data = malloc(n ? n : 1);
		memcpy(data, buf, n);
		struct btf_ext *ext = btf_ext__new(data, (__u32)n);
		int err = libbpf_get_error(ext);
		if (err) {
			printf("error %d\n", -err);
		} else {
			printf("ok\n");
			btf_ext__free(ext);
		}
		free(data);
	}
	return 0;
}
