/*
 * Test oracle: libbpf's btf__dedup over one BTF file, for src/dedup to be compared against.
 *
 *   btf_dedup IN OUT [BASE]
 *
 * IN is raw BTF (or an ELF file with a .BTF section); with BASE it is read as split BTF on it
 * and deduplicated against it, as btf__dedup does for a module. OUT receives btf__raw_data
 * after the dedup (for split input: the split part only). Prints "types N" (the type count
 * after dedup, base included) and the milliseconds the dedup itself took, "dedup_ms X", so a
 * benchmark can tell the algorithm from reading and writing. Exits 2 when libbpf cannot read
 * IN or BASE, 1 when btf__dedup fails (its error on stderr).
 */
#include <errno.h>
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

int main(int argc, char **argv)
{
	struct btf *base = NULL, *btf;
	const void *raw;
	__u32 size;
	double start;
	FILE *out;
	int err;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s IN OUT [BASE]\n", argv[0]);
		return 2;
	}
	if (argc == 4) {
		base = btf__parse(argv[3], NULL);
		if (!base) {
			fprintf(stderr, "libbpf cannot read %s: %s\n", argv[3], strerror(errno));
			return 2;
		}
	}
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
	printf("types %u\ndedup_ms %.1f\n", btf__type_cnt(btf) - 1, now_ms() - start);
	raw = btf__raw_data(btf, &size);
	out = fopen(argv[2], "wb");
	if (!raw || !out || fwrite(raw, 1, size, out) != size || fclose(out)) {
		fprintf(stderr, "cannot write %s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	btf__free(btf);
	btf__free(base);
	return 0;
}
