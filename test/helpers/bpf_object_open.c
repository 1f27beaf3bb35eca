/*
 * Test oracle: opens a BPF object with libbpf (bpf_object__open_file, no load, no kernel
 * needed) and prints libbpf's debug log, which names every program it found (section, name,
 * offset, size) and every relocation it collected (section, instruction, symbol, and whether
 * it is a map, global data or an extern).
 *
 *   bpf_object_open FILE
 *
 * Exits 0 when libbpf opened the object, 1 when it refused it (its log says why), 2 on usage.
 */
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>

static int print_all(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level;
	return vfprintf(stdout, fmt, args);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: bpf_object_open FILE\n");
		return 2;
	}
	libbpf_set_print(print_all);
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (libbpf_get_error(obj))
		return 1;
	bpf_object__close(obj);
	return 0;
}
