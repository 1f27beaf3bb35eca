/*
 * Test oracle: the sorted C header of bpftool v7.8 (`bpftool btf dump file FILE format c`, its
 * default order), computed here and written by the system's libbpf instead of by btfkit.
 *
 *   sorted_header [--order-to ORDER] [-B BASE] FILE
 *
 * FILE is raw BTF or an ELF object with a .BTF section (a kernel module); with -B it is split
 * BTF on BASE, and the header holds the base's types too, as bpftool's does. Prints the type
 * definitions followed by the kfunc section, without bpftool's prelude and epilogue (constant
 * text the caller strips from btfkit's header). Exits 0 on success, 1 when libbpf fails to dump
 * a type, 2 for usage, I/O or unreadable BTF.
 *
 * The ordering was learned by reading bpftool v7.8.0's src/btf.c (libbpf/bpftool at 0ffb9862:
 * btf_type_rank, btf_type_sort_name, btf_type_disambig_hash, btf_type_compare, sort_btf_c,
 * dump_btf_c, dump_btf_kfuncs) and is written anew here. The text of each type is libbpf's
 * (btf_dump__dump_type and btf_dump__emit_type_decl), so whatever libbpf version is installed
 * (Debian 12: 1.1) writes it; the caller normalises what that version predates.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>

/* bpftool's rank for everything that is not an enum, a scalar, a named record or prototype. */
#define RANK_LAST 10
/* Longest chain of references followed while ranking or naming (libbpf resolves 32 deep). */
#define MAX_CHAIN 32

struct sort_key {
	uint32_t id;
	int rank;
	const char *sort_name;
	const char *own_name;
	uint64_t hash;
};

static const char *program = "sorted_header";

static void die(int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static const char *name_at(const struct btf *btf, uint32_t off)
{
	const char *s = btf__name_by_offset(btf, off);

	if (!s)
		die(2, "name offset %u is outside the string section", off);
	return s;
}

static bool is_reference(const struct btf_type *t)
{
	switch (btf_kind(t)) {
	case BTF_KIND_PTR:
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_TYPE_TAG:
	case BTF_KIND_DECL_TAG:
		return true;
	default:
		return false;
	}
}

/*
 * Rank, the first sort key. Enums come first (anonymous ones before named ones), then ints and
 * floats, named records, named prototypes, then everything else. A name anywhere on the way
 * (a typedef's, usually) makes arrays and references rank as the type they lead to; without
 * one they rank last. (bpftool v7.8: btf_type_rank.)
 */
static int rank_of(const struct btf *btf, uint32_t id)
{
	bool named = false;

	for (int step = 0; step < MAX_CHAIN; step++) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		if (t->name_off)
			named = true;
		switch (btf_kind(t)) {
		case BTF_KIND_ENUM:
		case BTF_KIND_ENUM64:
			return named ? 1 : 0;
		case BTF_KIND_INT:
		case BTF_KIND_FLOAT:
			return 2;
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
			return named ? 3 : RANK_LAST;
		case BTF_KIND_FUNC_PROTO:
			return named ? 4 : RANK_LAST;
		case BTF_KIND_ARRAY:
			if (!named)
				return RANK_LAST;
			id = btf_array(t)->type;
			break;
		default:
			if (!is_reference(t) || !named)
				return RANK_LAST;
			id = t->type;
			break;
		}
	}
	die(2, "reference chain longer than %d at type %u", MAX_CHAIN, id);
	return RANK_LAST;
}

/*
 * Second key: the name of the type an array or reference ends at (a typedef sorts by its
 * target's name, not its own); an anonymous enum looked at directly sorts by its first
 * enumerator. (bpftool v7.8: btf_type_sort_name.)
 */
static const char *sort_name_of(const struct btf *btf, uint32_t id)
{
	bool through_reference = false;

	for (int step = 0; step < MAX_CHAIN; step++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		uint32_t name_off = t->name_off;

		switch (btf_kind(t)) {
		case BTF_KIND_ENUM:
			if (!through_reference && !name_off && btf_vlen(t))
				name_off = btf_enum(t)->name_off;
			return name_at(btf, name_off);
		case BTF_KIND_ENUM64:
			if (!through_reference && !name_off && btf_vlen(t))
				name_off = btf_enum64(t)->name_off;
			return name_at(btf, name_off);
		case BTF_KIND_ARRAY:
			id = btf_array(t)->type;
			through_reference = true;
			break;
		default:
			if (!is_reference(t))
				return name_at(btf, name_off);
			id = t->type;
			through_reference = true;
			break;
		}
	}
	die(2, "reference chain longer than %d at type %u", MAX_CHAIN, id);
	return "";
}

/*
 * The hash bpftool combines with: h * 31 + v over 64 bits. Names are hashed with libbpf's
 * str_hash (hashmap.h), the same recurrence over the name's chars; char is signed on the x86-64
 * build the goldens come from, so bytes >= 0x80 count as negative.
 */
static uint64_t mix(uint64_t h, uint64_t v)
{
	return h * 31 + v;
}

static uint64_t mix_name(uint64_t h, const struct btf *btf, uint32_t name_off)
{
	uint64_t sh = 0;

	if (!name_off)
		return h; /* an empty name leaves the hash alone (not even a * 31) */
	for (const signed char *p = (const signed char *)name_at(btf, name_off); *p; p++)
		sh = sh * 31 + (uint64_t)(int64_t)*p;
	return mix(h, sh);
}

/*
 * Last key before the id: a hash of the type's name, its enumerators' names, its members'
 * names with a shallow hash of each member's type (members of members are not visited), and,
 * for arrays and references, what they lead to (array lengths included).
 * (bpftool v7.8: btf_type_disambig_hash.)
 */
static uint64_t disambiguation_hash(const struct btf *btf, uint32_t id, bool with_members, int depth)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	uint64_t h = mix_name(0, btf, t->name_off);
	uint32_t n = btf_vlen(t);

	if (depth > MAX_CHAIN)
		die(2, "reference chain longer than %d at type %u", MAX_CHAIN, id);
	switch (btf_kind(t)) {
	case BTF_KIND_ENUM:
		for (uint32_t i = 0; i < n; i++)
			h = mix_name(h, btf, btf_enum(t)[i].name_off);
		break;
	case BTF_KIND_ENUM64:
		for (uint32_t i = 0; i < n; i++)
			h = mix_name(h, btf, btf_enum64(t)[i].name_off);
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		if (!with_members)
			break;
		for (uint32_t i = 0; i < n; i++) {
			const struct btf_member *m = btf_members(t) + i;

			h = mix_name(h, btf, m->name_off);
			h = mix(h, disambiguation_hash(btf, m->type, false, depth + 1));
		}
		break;
	case BTF_KIND_ARRAY:
		h = mix(h, btf_array(t)->nelems);
		h = mix(h, disambiguation_hash(btf, btf_array(t)->type, with_members, depth + 1));
		break;
	default:
		if (is_reference(t))
			h = mix(h, disambiguation_hash(btf, t->type, with_members, depth + 1));
		break;
	}
	return h;
}

/*
 * bpftool v7.8 (btf_type_compare) orders by rank, sort name, own name (strcmp: bytes as
 * unsigned), hash, and finally id, so the order is total: qsort's instability cannot show, and
 * ties the hash does not break go to the lower id.
 */
static int compare_keys(const void *a, const void *b)
{
	const struct sort_key *x = a, *y = b;
	int r;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	r = strcmp(x->sort_name, y->sort_name);
	if (r)
		return r;
	r = strcmp(x->own_name, y->own_name);
	if (r)
		return r;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Every id from 0 (void) up, base types included for split BTF, in bpftool's order. */
static struct sort_key *sorted_ids(const struct btf *btf, uint32_t count)
{
	struct sort_key *keys = calloc(count, sizeof(*keys));

	if (!keys)
		die(2, "out of memory for %u sort keys", count);
	for (uint32_t id = 0; id < count; id++) {
		struct sort_key *k = &keys[id];

		k->id = id;
		k->rank = rank_of(btf, id);
		k->sort_name = sort_name_of(btf, id);
		k->own_name = name_at(btf, btf__type_by_id(btf, id)->name_off);
		k->hash = disambiguation_hash(btf, id, true, 0);
	}
	qsort(keys, count, sizeof(*keys), compare_keys);
	return keys;
}

struct kfunc {
	uint32_t func_id;
	uint32_t seen; /* order of its bpf_kfunc tag, to keep ties as a stable sort does */
	const char *name;
};

static int compare_kfuncs(const void *a, const void *b)
{
	const struct kfunc *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	if (r)
		return r;
	return x->seen < y->seen ? -1 : x->seen > y->seen;
}

/*
 * The kfunc section: every FUNC carrying a `bpf_kfunc` declaration tag on the function itself
 * (component_idx -1), one entry per such tag, sorted by name; `__bpf_fastcall` before those
 * that also carry `bpf_fastcall`. bpftool v7.8 (dump_btf_kfuncs) sorts with glibc's qsort_r,
 * a merge sort where memory allows, so equal names keep the order of their tags; that is done
 * explicitly here.
 */
static void dump_kfuncs(struct btf_dump *d, const struct btf *btf, uint32_t count)
{
	struct kfunc *kfuncs = calloc(count, sizeof(*kfuncs));
	unsigned char *fastcall = calloc(count, 1);
	uint32_t n = 0;

	if (!kfuncs || !fastcall)
		die(2, "out of memory for the kfunc list");
	for (uint32_t id = 1; id < count; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *tag;

		if (!btf_is_decl_tag(t) || btf_decl_tag(t)->component_idx != -1)
			continue;
		if (t->type >= count || !btf_is_func(btf__type_by_id(btf, t->type)))
			continue;
		tag = name_at(btf, t->name_off);
		if (strcmp(tag, "bpf_kfunc") == 0) {
			kfuncs[n].func_id = t->type;
			kfuncs[n].seen = n;
			kfuncs[n].name = name_at(btf, btf__type_by_id(btf, t->type)->name_off);
			n++;
		} else if (strcmp(tag, "bpf_fastcall") == 0) {
			fastcall[t->type] = 1;
		}
	}
	qsort(kfuncs, n, sizeof(*kfuncs), compare_kfuncs);

	printf("\n/* BPF kfuncs */\n#ifndef BPF_NO_KFUNC_PROTOTYPES\n");
	for (uint32_t i = 0; i < n; i++) {
		LIBBPF_OPTS(btf_dump_emit_type_decl_opts, opts, .field_name = kfuncs[i].name);
		const struct btf_type *fn = btf__type_by_id(btf, kfuncs[i].func_id);
		int err;

		printf("extern %s", fastcall[kfuncs[i].func_id] ? "__bpf_fastcall " : "");
		err = btf_dump__emit_type_decl(d, fn->type, &opts);
		if (err)
			die(1, "libbpf cannot declare kfunc %s (type %u): %s", kfuncs[i].name,
			    kfuncs[i].func_id, strerror(-err));
		printf(" __weak __ksym;\n");
	}
	printf("#endif\n\n");
	free(fastcall);
	free(kfuncs);
}

/* Names of the type tags newer libbpf (since cc278ff7, "Check the kflag of type tags") writes as
 * plain attributes; see the head of this file. */
static void report_attribute_type_tags(const struct btf *btf, uint32_t count)
{
	for (uint32_t id = 1; id < count; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		if (btf_is_type_tag(t) && btf_kflag(t))
			fprintf(stderr, "attribute type tag: %s\n", name_at(btf, t->name_off));
	}
}

static void write_order(const char *path, const struct sort_key *keys, uint32_t count)
{
	FILE *f = fopen(path, "w");

	if (!f)
		die(2, "%s: %s", path, strerror(errno));
	for (uint32_t i = 0; i < count; i++)
		fprintf(f, "%u\n", keys[i].id);
	if (fclose(f) != 0)
		die(2, "writing %s: %s", path, strerror(errno));
}

static void print_to_stdout(void *ctx, const char *fmt, va_list args)
{
	(void)ctx;
	vprintf(fmt, args);
}

int main(int argc, char **argv)
{
	const char *base_path = NULL, *path;
	const char *order_path = NULL;
	int argi;
	struct btf *base = NULL, *btf;
	struct btf_dump *d;
	struct sort_key *keys;
	uint32_t count;
	static char out_buf[1 << 20];

	for (argi = 1; argi < argc && argv[argi][0] == '-'; argi++) {
		if (strcmp(argv[argi], "--order-to") == 0 && argi + 1 < argc)
			order_path = argv[++argi];
		else if (strcmp(argv[argi], "-B") == 0 && argi + 1 < argc)
			base_path = argv[++argi];
		else
			break;
	}
	if (argi != argc - 1) {
		fprintf(stderr, "usage: %s [--order-to ORDER] [-B BASE] FILE\n", program);
		return 2;
	}
	path = argv[argi];
	setvbuf(stdout, out_buf, _IOFBF, sizeof(out_buf));

	if (base_path) {
		base = btf__parse(base_path, NULL);
		if (!base)
			die(2, "cannot read BTF from %s: %s", base_path, strerror(errno));
	}
	btf = base ? btf__parse_split(path, base) : btf__parse(path, NULL);
	if (!btf)
		die(2, "cannot read BTF from %s: %s", path, strerror(errno));

	count = btf__type_cnt(btf);
	keys = sorted_ids(btf, count);
	if (order_path)
		write_order(order_path, keys, count);
	d = btf_dump__new(btf, print_to_stdout, NULL, NULL);
	if (!d)
		die(2, "btf_dump__new: %s", strerror(errno));
	/* The first entry is left out whatever it is (bpftool assumes void sorts first). */
	for (uint32_t i = 1; i < count; i++) {
		int err = btf_dump__dump_type(d, keys[i].id);

		if (err)
			die(1, "libbpf cannot dump type %u: %s", keys[i].id, strerror(-err));
	}
	dump_kfuncs(d, btf, count);
	report_attribute_type_tags(btf, count);

	if (fflush(stdout) != 0)
		die(2, "writing the header: %s", strerror(errno));
	btf_dump__free(d);
	free(keys);
	btf__free(btf);
	btf__free(base);
	return 0;
}
