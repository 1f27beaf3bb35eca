/*
 * Test oracle: what libbpf answers about every type of a BTF file, for the query module
 * (src/btf/query.ts) to be compared against.
 *
 *   btf_query FILE [BASE]
 *
 * FILE is raw BTF or an ELF file with a .BTF section; with BASE it is read as split BTF on it.
 * Prints "pointer_size N" (btf__pointer_size: 0 when the BTF does not tell), then one line per
 * type id from 1 on: "ID SIZE ALIGN", where SIZE is btf__resolve_size (a negative errno when
 * there is none) and ALIGN is btf__align_of (0 when there is none). Exits 2 when libbpf cannot
 * read the file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

/* btf__align_of warns about every kind without an alignment; the answer is what matters. */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level;
	(void)fmt;
	(void)args;
	return 0;
}

int main(int argc, char **argv)
{
	struct btf *base = NULL, *btf;
	unsigned int id, count;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: %s FILE [BASE]\n", argv[0]);
		return 2;
	}
	libbpf_set_print(quiet);
	if (argc == 3) {
		base = btf__parse(argv[2], NULL);
		if (!base) {
			fprintf(stderr, "libbpf cannot read %s: %d\n", argv[2], errno);
			return 2;
		}
	}
	btf = base ? btf__parse_split(argv[1], base) : btf__parse(argv[1], NULL);
	if (!btf) {
		fprintf(stderr, "libbpf cannot read %s: %d\n", argv[1], errno);
		return 2;
	}
	printf("pointer_size %zu\n", btf__pointer_size(btf));
	count = btf__type_cnt(btf);
	for (id = 1; id < count; id++)
		printf("%u %lld %d\n", id, (long long)btf__resolve_size(btf, id), btf__align_of(btf, id));
	btf__free(btf);
	btf__free(base);
	return 0;
}
