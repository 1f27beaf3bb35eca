// SPDX-License-Identifier: MIT
/*
 * CO-RE corpus: a type only a module defines. Debian builds xfs as a module (fs/xfs/xfs.ko):
 * struct xfs_inode is not in their vmlinux, so libbpf finds it in the module's BTF (a kernel
 * built with xfs inside has it in vmlinux: the same relocations resolve there).
 */
#include "core_kernel.h"

struct xfs_inode {
	void *i_mount;
	unsigned long long i_ino;
} __kernel_view;

char LICENSE[] SEC("license") = "GPL";

SEC("kprobe/xfs_iget")
int module_type(void *ctx)
{
	struct xfs_inode *ip = (void *)bpf_get_current_task();
	unsigned long long acc = 0;

	acc += BPF_CORE_READ(ip, i_ino);
	acc += bpf_core_type_exists(struct xfs_inode);
	acc += bpf_core_type_size(struct xfs_inode);
	acc += bpf_core_type_id_kernel(struct xfs_inode);
	return acc;
}
