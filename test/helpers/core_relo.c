// SPDX-License-Identifier: MIT
/*
 * libbpf as the CO-RE oracle: opens a BPF object with a custom target BTF
 * (btf_custom_path), loads it (CO-RE is applied inside bpf_object__load; the
 * programs themselves may then fail to load, which does not matter here) and
 * prints libbpf's debug lines about CO-RE relocations, one per line, prefixed
 * "LOG ". Usage: core_relo OBJ TARGET_BTF
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

static int print_line(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char buf[1024];

	(void)level;
	vsnprintf(buf, sizeof(buf), fmt, args);
	/* only what CO-RE decides: spec lines, candidates, patches, failures */
	if (strstr(buf, "relo #") || strstr(buf, "CO-RE relocating") || strstr(buf, "CO-RE relocations"))
		printf("LOG %s", buf[strlen(buf) - 1] == '\n' ? buf : strcat(buf, "\n"));
	return 0;
}

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct bpf_object *obj;
	int err;

	if (argc != 3) {
		fprintf(stderr, "usage: %s OBJ TARGET_BTF\n", argv[0]);
		return 2;
	}
	libbpf_set_print(print_line);
	opts.btf_custom_path = argv[2];
	obj = bpf_object__open_file(argv[1], &opts);
	if (!obj) {
		printf("OPEN-FAILED\n");
		return 1;
	}
	err = bpf_object__load(obj);
	printf("LOAD %d\n", err);
	bpf_object__close(obj);
	return 0;
}
