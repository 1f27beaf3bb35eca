// SPDX-License-Identifier: MIT
/*
 * libbpf (Debian's 1.1) and the running kernel's verifier as the oracle of "will it load":
 * loads each program of a BPF object on its own (every other program's autoload off, a fresh
 * bpf_object per program, so one program's failure cannot hide another's verdict) and reports
 * what happened, one JSON line per program:
 *
 *   {"program":"name","section":"sec","loaded":true|false,"error":-errno,
 *    "attach":{"btf":"vmlinux","id":N}|null,"kernel":{"btf":..,"id":N}|null,
 *    "libbpf":"...","verifier":"..."}
 *
 * attach: the BTF object and type id libbpf resolved and passed to BPF_PROG_LOAD
 * (attach_btf_obj_fd, 0 for vmlinux, and attach_btf_id), caught by interposing syscall(2):
 * libbpf 1.1 has no getter for them, and a kernel that cannot run trampolines refuses fentry
 * programs after libbpf resolved their target. null when libbpf passed no target.
 * kernel: where the kernel accepted the program, what it recorded (bpf_prog_info's
 * attach_btf_obj_id/attach_btf_id, the BTF object's name read back), else null.
 * libbpf: libbpf's own warnings during the load (why an attach target was not found...).
 * verifier: the kernel's verifier log (log level 1), only for a program that failed.
 *
 *   prog_load OBJ [PROGRAM]
 *   prog_load --raw kprobe|socket HEX    loads the instructions HEX (8 bytes each, host order)
 *                                        as one program of that type, without libbpf's
 *                                        relocation or log rewriting: {"loaded":..,"error":..,"verifier":".."}
 *
 * Exit: 0 every program was tried; 1 open failed; 2 usage.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <dlfcn.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_SIZE (16u << 20)

static char libbpf_log[1 << 16];
static size_t libbpf_len;

static int capture(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	if (libbpf_len < sizeof(libbpf_log) - 1) {
		int n = vsnprintf(libbpf_log + libbpf_len, sizeof(libbpf_log) - libbpf_len, fmt, ap);
		if (n > 0)
			libbpf_len += (size_t)n < sizeof(libbpf_log) - libbpf_len ? (size_t)n : sizeof(libbpf_log) - 1 - libbpf_len;
	}
	return 0;
}

static char btf_name_of(int fd, char *name, size_t size);

/* What libbpf asked BPF_PROG_LOAD to attach to, for the last program it loaded. */
static int seen_load;
static __u32 seen_btf_id;
static char seen_btf[64];

/* Interposes glibc's syscall(), which libbpf's sys_bpf calls, to read BPF_PROG_LOAD's attributes. */
long syscall(long number, ...)
{
	static long (*real)(long, ...);
	va_list ap;
	va_start(ap, number);
	long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
	long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
	va_end(ap);
	if (!real)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	if (number == __NR_bpf && a == BPF_PROG_LOAD) {
		const union bpf_attr *attr = (const union bpf_attr *)(uintptr_t)b;
		seen_load = 1;
		seen_btf_id = attr->attach_btf_id;
		strcpy(seen_btf, "vmlinux");
		if (attr->attach_btf_obj_fd)
			btf_name_of(attr->attach_btf_obj_fd, seen_btf, sizeof(seen_btf));
	}
	return real(number, a, b, c, d, e, f);
}

static char btf_name_of(int fd, char *name, size_t size)
{
	struct bpf_btf_info binfo = {};
	__u32 blen = sizeof(binfo);
	name[0] = 0;
	binfo.name = (__u64)(unsigned long)name;
	binfo.name_len = size;
	return bpf_obj_get_info_by_fd(fd, &binfo, &blen) == 0;
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void print_attach(int prog_fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) || !info.attach_btf_id) {
		fputs("null", stdout);
		return;
	}
	char name[64] = "";
	int btf_fd = bpf_btf_get_fd_by_id(info.attach_btf_obj_id);
	if (btf_fd >= 0) {
		btf_name_of(btf_fd, name, sizeof(name));
		close(btf_fd);
	}
	printf("{\"btf\":");
	json_string(name);
	printf(",\"id\":%u}", info.attach_btf_id);
}

/* Loads program number `which` of `path` alone; returns -1 when the object cannot be opened. */
static int load_one(const char *path, int which, const char *only, char *log)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	if (!obj)
		return -1;
	struct bpf_program *prog, *mine = NULL;
	int i = 0;
	bpf_object__for_each_program(prog, obj) {
		bool me = i++ == which;
		bpf_program__set_autoload(prog, me);
		if (me)
			mine = prog;
	}
	if (!mine) {
		bpf_object__close(obj);
		return 0;
	}
	if (only && strcmp(only, bpf_program__name(mine))) {
		bpf_object__close(obj);
		return 1;
	}
	log[0] = 0;
	bpf_program__set_log_buf(mine, log, LOG_SIZE);
	bpf_program__set_log_level(mine, 1);
	libbpf_len = 0;
	libbpf_log[0] = 0;
	seen_load = 0;
	seen_btf_id = 0;
	int err = bpf_object__load(obj);
	printf("{\"program\":");
	json_string(bpf_program__name(mine));
	printf(",\"section\":");
	json_string(bpf_program__section_name(mine));
	printf(",\"loaded\":%s,\"error\":%d,\"attach\":", err ? "false" : "true", err);
	if (seen_load && seen_btf_id) {
		printf("{\"btf\":");
		json_string(seen_btf);
		printf(",\"id\":%u}", seen_btf_id);
	} else {
		fputs("null", stdout);
	}
	printf(",\"kernel\":");
	if (err)
		fputs("null", stdout);
	else
		print_attach(bpf_program__fd(mine));
	printf(",\"libbpf\":");
	json_string(libbpf_log);
	printf(",\"verifier\":");
	json_string(err ? log : "");
	printf("}\n");
	bpf_object__close(obj);
	return 1;
}

static int load_raw(const char *type, const char *hex, char *log)
{
	size_t len = strlen(hex);
	if (len % 16)
		return 2;
	size_t count = len / 16;
	struct bpf_insn *insns = calloc(count ? count : 1, sizeof(*insns));
	unsigned char *bytes = (unsigned char *)insns;
	for (size_t i = 0; i < len / 2; i++) {
		unsigned int b;
		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return 2;
		bytes[i] = (unsigned char)b;
	}
	enum bpf_prog_type prog_type = !strcmp(type, "socket") ? BPF_PROG_TYPE_SOCKET_FILTER : BPF_PROG_TYPE_KPROBE;
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = LOG_SIZE, .log_level = 1);
	log[0] = 0;
	int fd = bpf_prog_load(prog_type, "raw", "GPL", insns, count, &opts);
	printf("{\"loaded\":%s,\"error\":%d,\"verifier\":", fd >= 0 ? "true" : "false", fd >= 0 ? 0 : fd);
	json_string(log);
	printf("}\n");
	if (fd >= 0)
		close(fd);
	free(insns);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--raw")) {
		char *log = malloc(LOG_SIZE);
		return log ? load_raw(argv[2], argv[3], log) : 1;
	}
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: prog_load OBJ [PROGRAM]\n");
		return 2;
	}
	libbpf_set_print(capture);
	char *log = malloc(LOG_SIZE);
	if (!log)
		return 1;
	for (int which = 0;; which++) {
		int r = load_one(argv[1], which, argc == 3 ? argv[2] : NULL, log);
		if (r < 0) {
			fprintf(stderr, "prog_load: cannot open %s: %s\n", argv[1], libbpf_log);
			return 1;
		}
		if (r == 0)
			break;
	}
	fflush(stdout);
	return 0;
}
