// SPDX-License-Identifier: MIT
/*
 * The libbpf side of the bench's CO-RE rows: Debian's libbpf 1.1 relocating BPF objects against
 * a vmlinux BTF, stopped right after relocation, before the kernel sees any program.
 *
 *   core_relocate [--check] [--runs N] VMLINUX OBJ...
 *
 * For each object: bpf_object__open_file with btf_custom_path = VMLINUX, then bpf_object__load,
 * then bpf_object__close. libbpf 1.1's bpf_object_load relocates every program
 * (bpf_object__relocate: CO-RE first) before it loads any (bpf_object__load_progs). Each program
 * section of the objects gets a custom SEC() handler (libbpf_register_prog_handler, exact
 * section name; custom handlers are looked up before libbpf's own in find_sec_def) whose
 * prog_prepare_load_fn fails with -ECANCELED: the first program's load stops there, after
 * relocation and before bpf(BPF_PROG_LOAD).
 *
 * What the load still does besides CO-RE, per object, in libbpf's order: a trivial program load
 * (bpf_object__probe_loading), kernel feature probes (once per process: libbpf caches them),
 * loading the object's BTF into the kernel, creating its maps, parsing VMLINUX
 * (btf__parse in bpf_object__relocate_core), the other relocations (maps, global data,
 * subprogram calls), then closing maps and BTF. Opening parses the ELF, .BTF and .BTF.ext.
 *
 * Without --runs: one pass over the objects, nothing printed (the whole-process row).
 * With --runs N: one untimed warm-up pass, then N passes, each timed with clock_gettime
 * (CLOCK_MONOTONIC) around the open + load + close loop; prints one line per pass: `ms X`.
 * With --check: the warm-up pass (or the one pass) keeps libbpf's debug log and verifies, per
 * object, that every CO-RE relocation the object announced ("found N CO-RE relocations") was
 * applied (patched or poisoned, each a distinct `prog 'P': relo #I`) and that the load stopped
 * in this harness's handler; prints `OBJ: N/N CO-RE relocations applied` per object.
 *
 * CORE_RELOCATE_VERBOSE=1 copies libbpf's log (with --check, its debug lines too) to stderr.
 *
 * Exit: 0 ok; 1 an object did not open, did not stop where expected, or (--check) left a
 * relocation unapplied; 2 usage; 3 no bpf() here (libbpf needs it for maps and BTF: root).
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STOP_ERR ECANCELED
#define MAX_SECTIONS 256
#define MAX_APPLIED 8192

static bool keep_log;
static int announced;                 /* sum of "found N CO-RE relocations" */
static char applied[MAX_APPLIED][160]; /* distinct "prog 'P': relo #I" with an outcome */
static int napplied;
static bool stopped_here, core_failed, no_bpf;
static char last_warning[2048]; /* why libbpf stopped, when it was not this harness's handler */

static void note_applied(const char *line)
{
	/* "prog 'NAME': relo #I: patched insn ..." or "...: substituting insn ..." */
	const char *relo = strstr(line, "': relo #");
	const char *end;
	char key[160];

	if (!relo || strncmp(line, "prog '", 6) != 0)
		return;
	end = strchr(relo + 9, ':');
	if (!end || (size_t)(end - line) >= sizeof(key))
		return;
	memcpy(key, line, end - line);
	key[end - line] = '\0';
	for (int i = 0; i < napplied; i++)
		if (strcmp(applied[i], key) == 0)
			return;
	if (napplied < MAX_APPLIED)
		strcpy(applied[napplied++], key);
}

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char line[2048];
	const char *s;
	int n;

	if (!keep_log)
		return 0; /* timed passes: no formatting, as btfkit's side prints nothing */
	vsnprintf(line, sizeof(line), fmt, args);
	s = strncmp(line, "libbpf: ", 8) == 0 ? line + 8 : line;
	if (strstr(s, ": found ") && sscanf(strstr(s, ": found ") + 8, "%d CO-RE relocations", &n) == 1 &&
	    strstr(s, "CO-RE relocations"))
		announced += n;
	if (strstr(s, "patched insn #") || strstr(s, "substituting insn #"))
		note_applied(s);
	if (strstr(s, "failed to prepare load attributes: -125"))
		stopped_here = true;
	if (strstr(s, "failed to relocate") || strstr(s, "relocation decision ambiguity") || strstr(s, "field offset ambiguity"))
		core_failed = true;
	if (strstr(s, "Couldn't load trivial BPF program") || strstr(s, "Operation not permitted"))
		no_bpf = true;
	if (level == LIBBPF_WARN && !strstr(s, "failed to load object"))
		snprintf(last_warning, sizeof(last_warning), "%s", s);
	if (getenv("CORE_RELOCATE_VERBOSE"))
		fputs(line, stderr);
	return 0;
}

static int stop_before_load(struct bpf_program *prog, struct bpf_prog_load_opts *opts, long cookie)
{
	(void)prog, (void)opts, (void)cookie;
	return -STOP_ERR;
}

/* Registers the stopping handler for every program section of `path` not yet registered. */
static int register_sections(const char *path, char names[][256], int *nnames)
{
	LIBBPF_OPTS(libbpf_prog_handler_opts, hopts, .prog_prepare_load_fn = stop_before_load);
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *prog;

	if (!obj) {
		fprintf(stderr, "core_relocate: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	bpf_object__for_each_program(prog, obj) {
		const char *sec = bpf_program__section_name(prog);
		bool known = false;

		for (int i = 0; i < *nnames; i++)
			known = known || strcmp(names[i], sec) == 0;
		if (known)
			continue;
		if (*nnames == MAX_SECTIONS || strlen(sec) >= 256) {
			fprintf(stderr, "core_relocate: too many or too long section names\n");
			bpf_object__close(obj);
			return -1;
		}
		/* The program type is never used: the load stops before it matters. */
		if (libbpf_register_prog_handler(sec, BPF_PROG_TYPE_KPROBE, 0, &hopts) < 0) {
			fprintf(stderr, "core_relocate: cannot register a handler for %s\n", sec);
			bpf_object__close(obj);
			return -1;
		}
		strcpy(names[(*nnames)++], sec);
	}
	bpf_object__close(obj);
	return 0;
}

/* Opens, loads (stopping after relocation) and closes one object: 0 when it stopped as expected, 3 without bpf(), else 1. */
static int relocate_one(const char *vmlinux, const char *path)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts, .btf_custom_path = vmlinux);
	struct bpf_object *obj = bpf_object__open_file(path, &oopts);
	int err;

	if (!obj) {
		fprintf(stderr, "core_relocate: cannot open %s: %s\n", path, strerror(errno));
		return 1;
	}
	err = bpf_object__load(obj);
	bpf_object__close(obj);
	if (err != -STOP_ERR) {
		fprintf(stderr, "core_relocate: %s: load ended in %d, not in the stop (-%d)%s\n", path, err, STOP_ERR,
			err == -EPERM ? ": bpf() not permitted (root needed)" : "");
		return err == -EPERM ? 3 : 1;
	}
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	static char names[MAX_SECTIONS][256];
	int nnames = 0, runs = 0, argi = 1, err;
	bool check = false;

	for (; argi < argc && argv[argi][0] == '-'; argi++) {
		if (strcmp(argv[argi], "--check") == 0)
			check = true;
		else if (strcmp(argv[argi], "--runs") == 0 && argi + 1 < argc)
			runs = atoi(argv[++argi]);
		else
			break;
	}
	if (argc - argi < 2 || runs < 0) {
		fprintf(stderr, "usage: core_relocate [--check] [--runs N] VMLINUX OBJ...\n");
		return 2;
	}
	const char *vmlinux = argv[argi++];
	libbpf_set_print(print_fn);
	for (int i = argi; i < argc; i++)
		if (register_sections(argv[i], names, &nnames))
			return 1;

	/* The one pass (whole process) or the warm-up (--runs), checked with --check. */
	for (int i = argi; i < argc; i++) {
		keep_log = check;
		announced = napplied = 0;
		stopped_here = core_failed = no_bpf = false;
		last_warning[0] = '\0';
		err = relocate_one(vmlinux, argv[i]);
		keep_log = false;
		if (err == 3 || no_bpf) {
			fprintf(stderr, "core_relocate: bpf() is unusable here (root needed for maps and BTF)\n");
			return 3;
		}
		if (err) {
			if (check && last_warning[0])
				fprintf(stderr, "core_relocate: %s: libbpf stopped before this harness's handler: %s", argv[i], last_warning);
			return 1;
		}
		if (check) {
			printf("%s: %d/%d CO-RE relocations applied%s\n", argv[i], napplied, announced,
			       stopped_here ? ", stopped before any program load" : "");
			if (napplied != announced || core_failed || !stopped_here || announced == 0) {
				fprintf(stderr, "core_relocate: %s: %s\n", argv[i],
					core_failed ? "libbpf failed a CO-RE relocation" :
					!stopped_here ? "the load did not stop in this harness's handler" :
					"not every CO-RE relocation was applied");
				return 1;
			}
		}
	}
	for (int r = 0; r < runs; r++) {
		double t0 = now_ms();

		for (int i = argi; i < argc; i++)
			if ((err = relocate_one(vmlinux, argv[i])))
				return err;
		printf("ms %.3f\n", now_ms() - t0);
	}
	return 0;
}
