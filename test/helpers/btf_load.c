/*
 * Test oracle: hands a raw BTF file to the running kernel with bpf(BPF_BTF_LOAD) and reports
 * what the kernel's BTF verifier said.
 *
 *   btf_load FILE
 *
 * Prints "ok" and exits 0 when the kernel accepts the blob. On rejection prints the errno
 * name and the verifier log and exits 1. Exits 2 for usage or I/O problems, 3 when bpf() is not
 * available to this process (EPERM, ENOSYS), so the caller can skip rather than fail.
 *
 * The attribute struct is declared here rather than taken from <linux/bpf.h>, so the helper
 * builds against old uapi headers too; the kernel accepts a shorter attr as long as the fields
 * it knows line up, and these have been stable since BTF_LOAD was added.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_bpf
#error "this platform has no bpf() system call number"
#endif

enum { CMD_BTF_LOAD = 18 };

struct btf_load_attr {
	uint64_t btf;
	uint64_t btf_log_buf;
	uint32_t btf_size;
	uint32_t btf_log_size;
	uint32_t btf_log_level;
};

#define LOG_SIZE (16u << 20)

static const char *errno_name(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOSYS: return "ENOSYS";
	case EINVAL: return "EINVAL";
	case E2BIG: return "E2BIG";
	case ENOSPC: return "ENOSPC";
	case EFAULT: return "EFAULT";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case ENOTSUP: return "ENOTSUP";
	default: return "errno";
	}
}

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, used = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (used == cap) {
			size_t ncap = cap ? cap * 2 : 1u << 20;
			unsigned char *n = realloc(buf, ncap);
			if (!n) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = n;
			cap = ncap;
		}
		size_t got = fread(buf + used, 1, cap - used, f);
		used += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = used;
	return buf;
}

int main(int argc, char **argv)
{
	struct btf_load_attr attr;
	unsigned char *blob;
	char *log;
	size_t len;
	long fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s BTF-FILE\n", argv[0]);
		return 2;
	}
	blob = read_file(argv[1], &len);
	if (!blob) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	if (len > UINT32_MAX) {
		fprintf(stderr, "%s: %zu bytes is more than bpf() can take\n", argv[1], len);
		return 2;
	}
	log = calloc(1, LOG_SIZE);
	if (!log) {
		fprintf(stderr, "out of memory for the log buffer\n");
		return 2;
	}

	memset(&attr, 0, sizeof(attr));
	attr.btf = (uint64_t)(uintptr_t)blob;
	attr.btf_size = (uint32_t)len;
	attr.btf_log_buf = (uint64_t)(uintptr_t)log;
	attr.btf_log_size = LOG_SIZE;
	attr.btf_log_level = 1;

	fd = syscall(__NR_bpf, CMD_BTF_LOAD, &attr, sizeof(attr));
	if (fd >= 0) {
		close((int)fd);
		printf("ok\n");
		return 0;
	}
	if (errno == EPERM || errno == ENOSYS) {
		printf("unavailable: %s (%s)\n", errno_name(errno), strerror(errno));
		return 3;
	}
	printf("rejected: %s %d (%s)\n", errno_name(errno), errno, strerror(errno));
	log[LOG_SIZE - 1] = '\0';
	fputs(log, stdout);
	return 1;
}
