// SPDX-License-Identifier: MIT
/*
 * libbpf as the CO-RE oracle: opens a BPF object, has libbpf (Debian's 1.1) relocate it against
 * a target BTF in bpf_object__load, and reports every CO-RE decision libbpf took, as one JSON
 * line per relocation, read back from libbpf's debug log (the decisions are not exposed any
 * other way in 1.1), then each program's instructions as they stand after relocation.
 *
 *   core_oracle OBJ                      target: the running kernel (/sys/kernel/btf/vmlinux,
 *                                        module BTF through bpf())
 *   core_oracle OBJ VMLINUX              target: that vmlinux BTF (raw or ELF), btf_custom_path
 *   core_oracle OBJ VMLINUX MODULE.ko    target: vmlinux and one module, flattened into one
 *                                        standalone BTF (module ids unchanged) for
 *                                        btf_custom_path: libbpf 1.1 reads module BTF only from
 *                                        the running kernel. Candidates with ids past vmlinux's
 *                                        are reported as the module's.
 *
 * Output lines (stdout), in this order:
 *   {"event":"relo", ...}     one per CO-RE relocation libbpf reached, in .BTF.ext order
 *   {"event":"program", ...}  one per program: its section, where it starts in the section,
 *                             and its instructions (hex, as libbpf holds them after load)
 *   {"event":"summary", ...}  sections and relocation counts libbpf announced, and how far
 *                             libbpf got (core: ok | failed | not-run; load: ok | failed)
 * libbpf's whole log goes to stderr.
 *
 * CO-RE runs in bpf_object__relocate, for every program, before any program is loaded: a
 * program the verifier later rejects (these objects are not written to pass it) has been
 * relocated all the same, and bpf_program__insns still returns its relocated instructions
 * (bpf_object_unload closes descriptors, it does not free instructions). Each program's
 * instructions include the subprograms libbpf appended to it.
 *
 * Exit: 0 CO-RE ran over every relocation; 4 libbpf aborted CO-RE (a relocation failed: the
 * rest were not reached); 3 bpf() is unusable here; 2 usage; 1 anything else (open failed...).
 * Objects of the other byte order cannot be opened by libbpf ("elf: endianness mismatch").
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CANDS 16
#define MAX_PATCHES 8
#define MAX_LINES 64
#define MAX_RELOS 1024
#define MAX_LOCAL_TYPES 4096

struct cand {
	int id;
	char btf[64];
	char spec[1024];
	int matched; /* -1: found by the search but not examined by this relocation */
};

struct patch {
	const char *field;
	unsigned long long from, to;
};

struct relo {
	char section[256];
	char program[256];
	int index;
	int insn;
	char kind[32];
	int local_id;
	char local_spec[1024];
	struct cand cands[MAX_CANDS];
	int ncands;
	struct patch patches[MAX_PATCHES];
	int npatches;
	bool poisoned, no_match, error;
	char *lines[MAX_LINES]; /* every log line of this relocation, as libbpf wrote it */
	int nlines;
	char *warnings[MAX_LINES];
	int nwarnings;
};

/* libbpf's candidate cache: per local type, the list its relocations see (pruned as they go). */
struct cand_list {
	int local_id;
	int n;
	int ids[MAX_CANDS];
	char btf[MAX_CANDS][64];
};

static struct relo *relos;
static int nrelos;
static struct relo *cur;
static struct cand_list cand_lists[MAX_LOCAL_TYPES];
static int ncand_lists;
static char pending[MAX_LINES][1024]; /* "found target candidate" lines, before their relocation */
static int npending;
static char section[256];
static char sections_json[8192];
static int core_seen, core_failed, bpf_unusable;
static int module_base_count; /* ids from here on are the module's, in flattened mode */
static const char *module_name;

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static struct cand_list *cand_list_of(int local_id, bool create)
{
	for (int i = 0; i < ncand_lists; i++)
		if (cand_lists[i].local_id == local_id)
			return &cand_lists[i];
	if (!create || ncand_lists == MAX_LOCAL_TYPES)
		return NULL;
	cand_lists[ncand_lists].local_id = local_id;
	return &cand_lists[ncand_lists++];
}

/* After a relocation with matches, libbpf keeps only the matching candidates for the next. */
static void prune_cands(const struct relo *r)
{
	struct cand_list *list = cand_list_of(r->local_id, false);
	int kept = 0;

	if (!list)
		return;
	for (int i = 0; i < r->ncands; i++)
		if (r->cands[i].matched == 1)
			kept++;
	if (!kept)
		return;
	int j = 0;
	for (int i = 0; i < r->ncands && i < list->n; i++) {
		if (r->cands[i].matched != 1)
			continue;
		list->ids[j] = list->ids[i];
		memcpy(list->btf[j], list->btf[i], sizeof(list->btf[j]));
		j++;
	}
	list->n = j;
}

static void finish_relo(void)
{
	if (cur)
		prune_cands(cur);
	cur = NULL;
}

static struct relo *relo_for(const char *prog, int index)
{
	if (cur && cur->index == index && strcmp(cur->program, prog) == 0)
		return cur;
	finish_relo();
	if (nrelos == MAX_RELOS)
		return NULL;
	cur = &relos[nrelos++];
	memset(cur, 0, sizeof(*cur));
	snprintf(cur->section, sizeof(cur->section), "%s", section);
	snprintf(cur->program, sizeof(cur->program), "%s", prog);
	cur->index = index;
	cur->insn = -1;
	cur->local_id = -1;
	for (int i = 0; i < npending && cur->nlines < MAX_LINES; i++)
		cur->lines[cur->nlines++] = strdup(pending[i]);
	npending = 0;
	return cur;
}

static const char *btf_of(int local_id, int cand_index, int target_id)
{
	struct cand_list *list = cand_list_of(local_id, false);

	if (module_name && target_id >= module_base_count)
		return module_name;
	if (list && cand_index < list->n && list->ids[cand_index] == target_id)
		return list->btf[cand_index];
	return "vmlinux";
}

static void add_patch(struct relo *r, const char *field, unsigned long long from, unsigned long long to)
{
	if (r->npatches < MAX_PATCHES)
		r->patches[r->npatches++] = (struct patch){ field, from, to };
}

/* One line of libbpf's log, "libbpf: " removed. */
static void parse_line(const char *line, enum libbpf_print_level level)
{
	char name[256], text[1024], btf[64], kind[32];
	int n, idx, a, b, id;
	unsigned long long from, to;

	if (sscanf(line, "sec '%255[^']': found %d CO-RE relocations", section, &n) == 2) {
		finish_relo();
		core_seen = 1;
		size_t used = strlen(sections_json);
		snprintf(sections_json + used, sizeof(sections_json) - used, "%s{\"name\":\"%s\",\"count\":%d}",
			 used ? "," : "", section, n);
		return;
	}
	if (sscanf(line, "CO-RE relocating [%d] %*s %*s found target candidate [%d] %*s %*s in [%63[^]]]",
		   &a, &b, btf) == 3) {
		struct cand_list *list = cand_list_of(a, true);
		if (list && list->n < MAX_CANDS) {
			list->ids[list->n] = b;
			snprintf(list->btf[list->n], sizeof(list->btf[0]), "%s", btf);
			list->n++;
		}
		if (npending < MAX_LINES)
			snprintf(pending[npending++], sizeof(pending[0]), "%s", line);
		return;
	}
	if (strncmp(line, "failed to perform CO-RE relocations", 35) == 0) {
		core_failed = 1;
		finish_relo();
		return;
	}
	if (strstr(line, "Couldn't load trivial BPF program"))
		bpf_unusable = 1;
	if (!core_seen || core_failed)
		return;
	if (sscanf(line, "prog '%255[^']': relo #%d: %1023[^\n]", name, &idx, text) != 3) {
		/* the end of the CO-RE pass: whatever comes next belongs to later steps */
		if (strncmp(line, "sec '", 5) != 0)
			finish_relo();
		return;
	}
	struct relo *r = relo_for(name, idx);
	if (!r)
		return;
	if (r->nlines < MAX_LINES)
		r->lines[r->nlines++] = strdup(line);

	if (text[0] == '<') {
		if (sscanf(text, "<%31[^>]> [%d]", kind, &id) == 2) {
			snprintf(r->kind, sizeof(r->kind), "%s", kind);
			r->local_id = id;
			snprintf(r->local_spec, sizeof(r->local_spec), "%s", text);
		}
	} else if (sscanf(text, "matching candidate #%d %n", &n, &a) == 1 ||
		   sscanf(text, "non-matching candidate #%d %n", &n, &a) == 1) {
		if (r->ncands < MAX_CANDS) {
			struct cand *c = &r->cands[r->ncands++];
			const char *spec = text + a;
			c->matched = text[0] == 'm';
			c->id = -1;
			sscanf(spec, "<%*[^>]> [%d]", &c->id);
			snprintf(c->spec, sizeof(c->spec), "%s", spec);
			snprintf(c->btf, sizeof(c->btf), "%s", btf_of(r->local_id, n, c->id));
		}
	} else if (strcmp(text, "no matching targets found") == 0) {
		r->no_match = true;
	} else if (sscanf(text, "patched insn #%d (ALU/ALU64) imm %llu -> %llu", &r->insn, &from, &to) == 3) {
		add_patch(r, "imm", from, to);
	} else if (sscanf(text, "patched insn #%d (LDX/ST/STX) off %llu -> %llu", &r->insn, &from, &to) == 3) {
		add_patch(r, "off", from, to);
	} else if (sscanf(text, "patched insn #%d (LDX/ST/STX) mem_sz %llu -> %llu", &r->insn, &from, &to) == 3) {
		add_patch(r, "size", from, to);
	} else if (sscanf(text, "patched insn #%d (LDIMM64) imm64 %llu -> %llu", &r->insn, &from, &to) == 3) {
		add_patch(r, "imm64", from, to);
	} else if (sscanf(text, "substituting insn #%d w/ invalid insn", &n) == 1) {
		/* an ld_imm64's second half is poisoned first: the relocation's insn is the lower */
		if (r->insn < 0 || n < r->insn)
			r->insn = n;
		r->poisoned = true;
	} else if (strncmp(text, "failed to relocate", 18) == 0 || strncmp(text, "failed to patch insn", 20) == 0 ||
		   strncmp(text, "failed to record relocation", 27) == 0) {
		r->error = true;
		if (r->nwarnings < MAX_LINES)
			r->warnings[r->nwarnings++] = strdup(text);
	} else if (level == LIBBPF_WARN) {
		if (r->nwarnings < MAX_LINES)
			r->warnings[r->nwarnings++] = strdup(text);
	}
}

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char buf[8192];
	char *line, *save = NULL;

	vsnprintf(buf, sizeof(buf), fmt, args);
	fputs(buf, stderr);
	/* one call can hold several lines (and "error matching candidate" ends in "\n ") */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "libbpf: ", 8) == 0)
			line += 8;
		if (*line && strcmp(line, " ") != 0)
			parse_line(line, level);
	}
	return 0;
}

/* Where each function symbol starts in its section (insn index), read from the ELF symtab. */
struct func_start {
	char name[128];
	char section[128];
	long insn;
};
static struct func_start *funcs;
static int nfuncs;

static void read_function_starts(const char *path)
{
	int fd = open(path, O_RDONLY);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		if (fd >= 0)
			close(fd);
		return;
	}
	unsigned char *img = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (img == MAP_FAILED)
		return;
	const Elf64_Ehdr *eh = (const void *)img;
	size_t size = st.st_size;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_shoff + (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > size)
		goto out;
	const Elf64_Shdr *sh = (const void *)(img + eh->e_shoff);
	const Elf64_Shdr *shstr = &sh[eh->e_shstrndx];
	for (int i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum)
			continue;
		const Elf64_Shdr *strs = &sh[sh[i].sh_link];
		if (sh[i].sh_offset + sh[i].sh_size > size || strs->sh_offset + strs->sh_size > size)
			goto out;
		const Elf64_Sym *syms = (const void *)(img + sh[i].sh_offset);
		size_t count = sh[i].sh_size / sizeof(Elf64_Sym);
		funcs = calloc(count, sizeof(*funcs));
		for (size_t k = 0; k < count; k++) {
			if (ELF64_ST_TYPE(syms[k].st_info) != STT_FUNC || syms[k].st_shndx >= eh->e_shnum ||
			    syms[k].st_name >= strs->sh_size)
				continue;
			const Elf64_Shdr *owner = &sh[syms[k].st_shndx];
			if (owner->sh_name >= shstr->sh_size)
				continue;
			struct func_start *f = &funcs[nfuncs++];
			snprintf(f->name, sizeof(f->name), "%s", (const char *)img + strs->sh_offset + syms[k].st_name);
			snprintf(f->section, sizeof(f->section), "%s", (const char *)img + shstr->sh_offset + owner->sh_name);
			f->insn = (long)(syms[k].st_value / 8);
		}
	}
out:
	munmap(img, size);
}

static const struct func_start *func_start(const char *name)
{
	for (int i = 0; i < nfuncs; i++)
		if (strcmp(funcs[i].name, name) == 0)
			return &funcs[i];
	return NULL;
}

/* vmlinux and one module as one standalone BTF, ids kept: the module's split ids follow vmlinux's. */
static char *flatten(const char *vmlinux_path, const char *module_path)
{
	static char path[] = "/tmp/core-oracle-XXXXXX";
	struct btf *base = btf__parse(vmlinux_path, NULL);
	struct btf *mod, *flat;
	const void *raw;
	__u32 size;
	int fd, id, n;

	if (!base) {
		fprintf(stderr, "core_oracle: cannot read %s: %s\n", vmlinux_path, strerror(errno));
		return NULL;
	}
	mod = btf__parse_split(module_path, base);
	if (!mod) {
		fprintf(stderr, "core_oracle: cannot read %s on %s: %s\n", module_path, vmlinux_path, strerror(errno));
		return NULL;
	}
	flat = btf__new_empty();
	n = btf__type_cnt(mod);
	module_base_count = btf__type_cnt(base);
	for (id = 1; id < n; id++) {
		int added = btf__add_type(flat, mod, btf__type_by_id(mod, id));
		if (added != id) {
			fprintf(stderr, "core_oracle: flattening: type %d became %d\n", id, added);
			return NULL;
		}
	}
	raw = btf__raw_data(flat, &size);
	fd = mkstemp(path);
	if (fd < 0 || write(fd, raw, size) != (ssize_t)size) {
		fprintf(stderr, "core_oracle: cannot write %s: %s\n", path, strerror(errno));
		return NULL;
	}
	close(fd);
	btf__free(flat);
	btf__free(mod);
	btf__free(base);
	return path;
}

static void print_relo(const struct relo *r)
{
	const struct func_start *f = func_start(r->program);
	const struct cand *target = NULL;

	/* an error decides nothing: no target, even when candidates matched before it */
	for (int i = 0; i < r->ncands && !r->error; i++)
		if (r->cands[i].matched == 1) {
			target = &r->cands[i];
			break;
		}
	printf("{\"event\":\"relo\",\"section\":");
	json_string(stdout, r->section);
	printf(",\"program\":");
	json_string(stdout, r->program);
	printf(",\"index\":%d,\"insn\":%d", r->index, r->insn);
	if (f && r->insn >= 0)
		printf(",\"insnOffset\":%ld", (f->insn + r->insn) * 8);
	printf(",\"kind\":");
	json_string(stdout, r->kind);
	printf(",\"local\":{\"id\":%d,\"spec\":", r->local_id);
	json_string(stdout, r->local_spec);
	printf("},\"candidates\":[");
	for (int i = 0; i < r->ncands; i++) {
		printf("%s{\"btf\":", i ? "," : "");
		json_string(stdout, r->cands[i].btf);
		printf(",\"id\":%d,\"matched\":%s,\"spec\":", r->cands[i].id, r->cands[i].matched == 1 ? "true" : "false");
		json_string(stdout, r->cands[i].spec);
		printf("}");
	}
	printf("],\"target\":");
	if (target) {
		printf("{\"btf\":");
		json_string(stdout, target->btf);
		printf(",\"id\":%d,\"spec\":", target->id);
		json_string(stdout, target->spec);
		printf("}");
	} else {
		printf("null");
	}
	printf(",\"result\":\"%s\",\"patches\":[", r->error ? "error" : r->poisoned ? "poisoned" : "patched");
	for (int i = 0; i < r->npatches; i++)
		printf("%s{\"field\":\"%s\",\"from\":\"%llu\",\"to\":\"%llu\"}", i ? "," : "", r->patches[i].field,
		       r->patches[i].from, r->patches[i].to);
	printf("],\"warnings\":[");
	for (int i = 0; i < r->nwarnings; i++) {
		if (i)
			putchar(',');
		json_string(stdout, r->warnings[i]);
	}
	printf("],\"log\":[");
	for (int i = 0; i < r->nlines; i++) {
		if (i)
			putchar(',');
		json_string(stdout, r->lines[i]);
	}
	printf("]}\n");
}

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct bpf_object *obj;
	struct bpf_program *prog;
	char *custom = NULL;
	int err;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: core_oracle OBJ [VMLINUX_BTF [MODULE]]\n");
		return 2;
	}
	relos = calloc(MAX_RELOS, sizeof(*relos));
	libbpf_set_print(print_fn);
	if (argc >= 3)
		custom = argv[2];
	if (argc == 4) {
		const char *slash = strrchr(argv[3], '/');
		static char name[64];
		snprintf(name, sizeof(name), "%s", slash ? slash + 1 : argv[3]);
		char *dot = strstr(name, ".ko");
		if (dot)
			*dot = 0;
		module_name = name;
		custom = flatten(argv[2], argv[3]);
		if (!custom)
			return 1;
	}
	opts.btf_custom_path = custom;
	read_function_starts(argv[1]);
	obj = bpf_object__open_file(argv[1], &opts);
	if (!obj) {
		fprintf(stderr, "core_oracle: cannot open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	err = bpf_object__load(obj);
	finish_relo();
	if (argc == 4)
		unlink(custom);

	for (int i = 0; i < nrelos; i++)
		print_relo(&relos[i]);
	bpf_object__for_each_program(prog, obj) {
		const struct bpf_insn *insns = bpf_program__insns(prog);
		size_t cnt = bpf_program__insn_cnt(prog);
		const struct func_start *f = func_start(bpf_program__name(prog));
		const unsigned char *bytes = (const void *)insns;

		printf("{\"event\":\"program\",\"name\":");
		json_string(stdout, bpf_program__name(prog));
		printf(",\"section\":");
		json_string(stdout, bpf_program__section_name(prog));
		printf(",\"sectionInsn\":%ld,\"insns\":\"", f ? f->insn : -1L);
		for (size_t k = 0; insns && k < cnt * sizeof(*insns); k++)
			printf("%02x", bytes[k]);
		printf("\"}\n");
	}
	printf("{\"event\":\"summary\",\"sections\":[%s],\"core\":\"%s\",\"load\":\"%s\"}\n", sections_json,
	       core_failed ? "failed" : core_seen ? "ok" : "not-run", err ? "failed" : "ok");
	bpf_object__close(obj);
	if (bpf_unusable && !core_seen)
		return 3;
	if (core_failed)
		return 4;
	return core_seen || nrelos == 0 ? 0 : 1;
}
