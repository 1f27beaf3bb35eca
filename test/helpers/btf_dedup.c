/*
 * Test oracle: libbpf's btf__dedup over one BTF file, for src/dedup to be compared against.
 *
 *   btf_dedup IN OUT [BASE]
 *   btf_dedup --merge OUT BASE MODULE...
 *
 * IN is raw BTF (or an ELF file with a .BTF section); with BASE it is read as split BTF on it
 * and deduplicated against it, as btf__dedup does for a module. OUT receives btf__raw_data
 * after the dedup (for split input: the split part only). Prints "types N" (the type count
 * after dedup, base included), the milliseconds the dedup itself took, "dedup_ms X", and
 * those before it (reading BASE and IN or the modules, merging them), "read_ms Y", so a
 * benchmark can tell the algorithm from reading and writing. Exits 2 when libbpf cannot read
 * IN or BASE, 1 when btf__dedup fails (its error on stderr).
 *
 * --merge first appends every MODULE's split BTF (a .ko or raw split BTF on BASE), in the order
 * given, to one split BTF on BASE, as a user of libbpf 1.1 must (btf__add_btf refuses split
 * sources there): btf__add_type for each type, then its ids past the base shifted to where the
 * module's types landed. That is `btfkit merge --dedup` done with libbpf, for the benchmark.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Where a module's type ids land in the merged BTF: base ids stay, the module's own move. */
static void shift_ids(struct btf_type *t, __u32 first, __u32 shift)
{
	__u32 *ids[2] = { NULL, NULL };
	int i, vlen = btf_vlen(t);

#define SHIFT(p) do { if (*(p) >= first) *(p) += shift; } while (0)
	switch (btf_kind(t)) {
	case BTF_KIND_PTR: case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT: case BTF_KIND_FUNC: case BTF_KIND_VAR: case BTF_KIND_DECL_TAG:
	case BTF_KIND_TYPE_TAG:
		ids[0] = &t->type;
		break;
	case BTF_KIND_ARRAY:
		ids[0] = &btf_array(t)->type;
		ids[1] = &btf_array(t)->index_type;
		break;
	case BTF_KIND_STRUCT: case BTF_KIND_UNION:
		for (i = 0; i < vlen; i++)
			SHIFT(&btf_members(t)[i].type);
		break;
	case BTF_KIND_FUNC_PROTO:
		ids[0] = &t->type;
		for (i = 0; i < vlen; i++)
			SHIFT(&btf_params(t)[i].type);
		break;
	case BTF_KIND_DATASEC:
		for (i = 0; i < vlen; i++)
			SHIFT(&btf_var_secinfos(t)[i].type);
		break;
	}
	for (i = 0; i < 2; i++)
		if (ids[i])
			SHIFT(ids[i]);
#undef SHIFT
}

static struct btf *merge(struct btf *base, char **modules, int count)
{
	struct btf *merged = btf__new_empty_split(base), *mod;
	__u32 first, id, end, shift, at;
	int i;

	for (i = 0; i < count; i++) {
		mod = btf__parse_split(modules[i], base);
		if (!mod) {
			fprintf(stderr, "libbpf cannot read %s: %s\n", modules[i], strerror(errno));
			exit(2);
		}
		first = btf__type_cnt(base);
		end = btf__type_cnt(mod);
		shift = btf__type_cnt(merged) - first;
		for (id = first; id < end; id++) {
			at = btf__add_type(merged, mod, btf__type_by_id(mod, id));
			if ((int)at < 0) {
				fprintf(stderr, "btf__add_type failed on %s: %s\n", modules[i], strerror(-(int)at));
				exit(2);
			}
			shift_ids((struct btf_type *)btf__type_by_id(merged, at), first, shift);
		}
		btf__free(mod);
	}
	return merged;
}

int main(int argc, char **argv)
{
	struct btf *base = NULL, *btf;
	const void *raw;
	__u32 size;
	double start, begin = now_ms();
	FILE *out;
	int err;

	const char *out_path = argv[2], *base_path = argc == 4 ? argv[3] : NULL;

	if (argc >= 4 && strcmp(argv[1], "--merge") == 0) {
		out_path = argv[2];
		base_path = argv[3];
	} else if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s IN OUT [BASE] | --merge OUT BASE MODULE...\n", argv[0]);
		return 2;
	}
	if (base_path) {
		base = btf__parse(base_path, NULL);
		if (!base) {
			fprintf(stderr, "libbpf cannot read %s: %s\n", base_path, strerror(errno));
			return 2;
		}
	}
	if (strcmp(argv[1], "--merge") == 0)
		btf = merge(base, argv + 4, argc - 4);
	else
		btf = base ? btf__parse_split(argv[1], base) : btf__parse(argv[1], NULL);
	if (!btf) {
		fprintf(stderr, "libbpf cannot read %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	start = now_ms();
	err = btf__dedup(btf, NULL);
	if (err) {
		fprintf(stderr, "btf__dedup failed: %s\n", strerror(-err));
		return 1;
	}
	printf("types %u\ndedup_ms %.1f\nread_ms %.1f\n", btf__type_cnt(btf) - 1, now_ms() - start, start - begin);
	raw = btf__raw_data(btf, &size);
	out = fopen(out_path, "wb");
	if (!raw || !out || fwrite(raw, 1, size, out) != size || fclose(out)) {
		fprintf(stderr, "cannot write %s: %s\n", out_path, strerror(errno));
		return 2;
	}
	btf__free(btf);
	btf__free(base);
	return 0;
}
