/*
 * Test oracle: the BTF that libbpf (Debian's libbpf-dev, 1.1) hands to the kernel for a BPF
 * object, on the running kernel or on an older release it is made to believe it runs on.
 *
 *   libbpf_object_btf OBJ OUT [MAJOR.MINOR]
 *
 * Opens OBJ with libbpf, turns autoload off for every program (only the BTF and the maps are
 * loaded), loads it, and writes the BTF the kernel holds for it (read back through the BTF's
 * fd) to OUT. Exits 0 on success, 1 when libbpf could not load the object's BTF, 2 for usage
 * or I/O problems, 3 when bpf() is not available to this process.
 *
 * With MAJOR.MINOR, every BPF_BTF_LOAD libbpf makes (its feature probes and the object's BTF)
 * is first judged here by what that release lacks, a table written for this helper from the
 * kernel history (the kind each release added, global FUNCs in 5.6, signed enums in 6.0), and
 * refused with EINVAL when it holds something newer: libbpf then sanitizes as it would on that
 * release. libbpf calls syscall() through the PLT, so this program's syscall() stands in front
 * of libc's.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

static int emulated; /* major * 1000 + minor; 0: the running kernel as it is */

/* The release each kind arrived in, by kind number (0: none). */
static const int kind_since[] = {
	0, 4018, 4018, 4018, 4018, 4018, 4018, 4018, 4018, 4018, 4018, 4018,
	5000 /* FUNC */, 5000 /* FUNC_PROTO */, 5002 /* VAR */, 5002 /* DATASEC */,
	5013 /* FLOAT */, 5016 /* DECL_TAG */, 5017 /* TYPE_TAG */, 6000 /* ENUM64 */,
};

/* Bytes after the 12-byte header, by kind, and per element. */
static const int extra[] = { 0, 4, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 4, 0, 0 };
static const int elem[] = { 0, 0, 0, 0, 12, 12, 8, 0, 0, 0, 0, 0, 0, 8, 0, 12, 0, 0, 0, 12 };

/* 0 when the emulated release takes every record of the blob, else EINVAL. */
static int emulated_verdict(const uint8_t *data, uint32_t size)
{
	uint32_t hdr_len, type_off, type_len, p, end;

	if (size < 24)
		return EINVAL;
	memcpy(&hdr_len, data + 4, 4);
	memcpy(&type_off, data + 8, 4);
	memcpy(&type_len, data + 12, 4);
	p = hdr_len + type_off;
	end = p + type_len;
	if (end > size)
		return EINVAL;
	while (p + 12 <= end) {
		uint32_t info, kind, vlen, kflag;

		memcpy(&info, data + p + 4, 4);
		kind = (info >> 24) & 0x1f;
		vlen = info & 0xffff;
		kflag = info >> 31;
		if (kind == 0 || kind > 19 || kind_since[kind] > emulated)
			return EINVAL;
		if (kind == 12 && vlen == 1 && emulated < 5006)
			return EINVAL;
		if (kind == 6 && kflag && emulated < 6000)
			return EINVAL;
		p += 12 + extra[kind] + vlen * elem[kind];
	}
	return 0;
}

long syscall(long number, ...)
{
	static long (*real)(long, ...);
	long a[6];
	va_list ap;
	int i;

	va_start(ap, number);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (!real)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	if (emulated && number == __NR_bpf && a[0] == BPF_BTF_LOAD) {
		const union bpf_attr *attr = (const union bpf_attr *)a[1];
		int err = emulated_verdict((const uint8_t *)(uintptr_t)attr->btf, attr->btf_size);

		if (err) {
			errno = err;
			return -1;
		}
	}
	return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, args);
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_btf_info info;
	uint32_t len = sizeof(info);
	void *buf;
	FILE *out;
	int fd, major, minor;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: libbpf_object_btf OBJ OUT [MAJOR.MINOR]\n");
		return 2;
	}
	if (argc == 4) {
		if (sscanf(argv[3], "%d.%d", &major, &minor) != 2)
			return 2;
		emulated = major * 1000 + minor;
	}
	libbpf_set_print(quiet);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "cannot open %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	bpf_object__for_each_program(prog, obj)
		bpf_program__set_autoload(prog, false);
	if (bpf_object__load(obj)) {
		int e = errno;

		fprintf(stderr, "load: %s\n", strerror(e));
		return e == EPERM || e == ENOSYS ? 3 : 1;
	}
	fd = bpf_object__btf_fd(obj);
	if (fd < 0) {
		fprintf(stderr, "libbpf loaded no BTF for %s\n", argv[1]);
		return 1;
	}
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 2;
	buf = calloc(1, info.btf_size);
	len = sizeof(info);
	info.btf = (uintptr_t)buf;
	if (!buf || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 2;
	out = fopen(argv[2], "wb");
	if (!out || fwrite(buf, 1, info.btf_size, out) != info.btf_size || fclose(out))
		return 2;
	return 0;
}
