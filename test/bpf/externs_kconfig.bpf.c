// SPDX-License-Identifier: MIT
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* One kconfig extern of each storage libbpf 1.1 fills from a config (bool, char, signed and
 * unsigned integers of each size, tristate, a char array), for value-by-value comparison with
 * libbpf: the program loads, so libbpf's .kconfig map can be read back. Names are made up so
 * the system's config never supplies them; the weak ones may be left out of a config. */
extern _Bool CONFIG_BTFKIT_BOOL __kconfig;
extern char CONFIG_BTFKIT_CHAR __kconfig;
extern signed char CONFIG_BTFKIT_S8 __kconfig __weak;
extern __s16 CONFIG_BTFKIT_S16 __kconfig __weak;
extern __u16 CONFIG_BTFKIT_U16 __kconfig __weak;
extern int CONFIG_BTFKIT_INT __kconfig;
extern unsigned int CONFIG_BTFKIT_UINT __kconfig __weak;
extern __s64 CONFIG_BTFKIT_S64 __kconfig __weak;
extern __u64 CONFIG_BTFKIT_U64 __kconfig __weak;
extern enum libbpf_tristate CONFIG_BTFKIT_TRI __kconfig __weak;
extern char CONFIG_BTFKIT_STR[8] __kconfig __weak;
__u64 sink;

SEC("syscall")
int read_all(void *ctx)
{
	sink = CONFIG_BTFKIT_BOOL + CONFIG_BTFKIT_CHAR + CONFIG_BTFKIT_S8 + CONFIG_BTFKIT_S16 + CONFIG_BTFKIT_U16;
	sink += CONFIG_BTFKIT_INT + CONFIG_BTFKIT_UINT + CONFIG_BTFKIT_S64 + CONFIG_BTFKIT_U64;
	sink += CONFIG_BTFKIT_TRI + CONFIG_BTFKIT_STR[0];
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
