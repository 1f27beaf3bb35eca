/*
 * Test oracle for extern resolution: opens a BPF object with libbpf and loads it into the
 * running kernel (root), printing libbpf's debug log, where bpf_object__load says how each
 * extern was resolved ("extern (func ksym) 'X': resolved to kernel [id]", "extern (var ksym)
 * 'X': resolved to [id] var X", "extern (kcfg) 'X': set to V", and the first failure). After
 * the externs are resolved libbpf has laid out the .kconfig map; its bytes and each extern's
 * place in it follow the log:
 *
 *   kcfg-var NAME OFFSET SIZE      (from the object's BTF, as libbpf rewrote its .kconfig DATASEC)
 *   kcfg-data HEX                  (the map's contents, when the load got that far)
 *   load OK | load ERR -ERRNO
 *
 *   externs_oracle OBJ [KCONFIG_FILE]
 *
 * KCONFIG_FILE's text goes to libbpf as bpf_object_open_opts.kconfig: libbpf reads it before
 * the system's config and falls back to the system's only for CONFIG_ externs it leaves unset.
 * Exits 0 when it could run libbpf (whatever the load's outcome), 1 when the object did not
 * open, 2 on usage or I/O errors.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

static int print_all(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level;
	return vfprintf(stdout, fmt, args);
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, len = 0, n;
	char *buf = malloc(cap + 1);
	while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
	}
	fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

static void print_kconfig(struct bpf_object *obj, int loaded)
{
	struct btf *btf = bpf_object__btf(obj);
	int sec = btf ? btf__find_by_name_kind(btf, ".kconfig", BTF_KIND_DATASEC) : -1;
	if (sec > 0) {
		const struct btf_type *t = btf__type_by_id(btf, sec);
		const struct btf_var_secinfo *vs = btf_var_secinfos(t);
		for (int i = 0; i < btf_vlen(t); i++, vs++) {
			const struct btf_type *v = btf__type_by_id(btf, vs->type);
			printf("kcfg-var %s %u %u\n", btf__name_by_offset(btf, v->name_off), vs->offset, vs->size);
		}
	}
	struct bpf_map *map = bpf_object__find_map_by_name(obj, ".kconfig");
	size_t size = 0;
	const unsigned char *data = map && loaded ? bpf_map__initial_value(map, &size) : NULL;
	if (data) {
		printf("kcfg-data ");
		for (size_t i = 0; i < size; i++)
			printf("%02x", data[i]);
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: externs_oracle OBJ [KCONFIG_FILE]\n");
		return 2;
	}
	char *kconfig = NULL;
	if (argc == 3 && !(kconfig = read_text(argv[2]))) {
		perror(argv[2]);
		return 2;
	}
	libbpf_set_print(print_all);
	LIBBPF_OPTS(bpf_object_open_opts, opts, .kconfig = kconfig);
	struct bpf_object *obj = bpf_object__open_file(argv[1], &opts);
	if (libbpf_get_error(obj))
		return 1;
	int err = bpf_object__load(obj);
	fflush(stdout);
	print_kconfig(obj, !err);
	if (err)
		printf("load ERR %d\n", err);
	else
		printf("load OK\n");
	bpf_object__close(obj);
	free(kconfig);
	return 0;
}
