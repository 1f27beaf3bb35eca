// SPDX-License-Identifier: MIT
/*
 * Instruction variety for the decoder's oracle test (test/insn.test.ts): compiled for several
 * -mcpu levels so that the objects hold 32-bit ALU and JMP32 (v3), atomics with fetch,
 * exchange and compare-exchange, sign-extending loads and moves, signed division, byte swaps
 * and long jumps (v4), legacy packet loads, subprogram calls, a callback's address (ld_imm64
 * of a function), map and global-variable references, and kfunc calls.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

__u64 total = 0;
__u32 hits = 0;
__s32 signed_word = -5;
volatile __s8 small_signed = -3;
volatile __s16 half_signed = -300;
const volatile __u32 limit = 1000;

extern struct task_struct *bpf_task_from_pid(__s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

static __attribute__((noinline)) __u32 mix32(__u32 a, __u32 b)
{
	__u32 x = a * 2654435761u;
	x ^= b >> 7;
	x -= b << 3;
	x = (x % 97) + (x / 13);
	if (x > limit)
		x &= 0xffff;
	return x | (a & 1);
}

static __attribute__((noinline)) __s64 signed_ops(__s64 a, __s32 b)
{
#if defined(__BPF_CPU_VERSION__) && __BPF_CPU_VERSION__ >= 4
	/* BPF_SDIV and BPF_SMOD exist from cpu v4 on; older targets refuse signed division. */
	__s64 q = b ? a / b : 0;
	__s64 r = b ? a % b : 0;
#else
	__s64 q = a >> 3, r = a & 7;
#endif
	__s64 s = (__s64)small_signed + (__s64)half_signed + (__s64)signed_word;
	return q - r + (s >> 2) + (__s64)(__s8)a;
}

/* LLVM's intrinsics for the legacy packet loads (BPF_LD | BPF_ABS/BPF_IND), as the kernel's samples declare them. */
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

static int loop_cb(__u32 index, void *ctx)
{
	__u64 *sum = ctx;
	*sum += index;
	return index > 10;
}

SEC("socket")
int packet_loads(struct __sk_buff *skb)
{
	__u64 proto = load_byte(skb, 23);
	__u64 half = load_half(skb, 12);
	__u64 word = load_word(skb, skb->len & 0xff);
	return (proto + half + word) & 0xffff;
}

SEC("tc")
int atomics(struct __sk_buff *skb)
{
	__u32 key = skb->mark & 3;
	__u64 *slot = bpf_map_lookup_elem(&counters, &key);
	__u64 old;

	if (!slot)
		return 0;
	__sync_fetch_and_add(slot, 1);
	old = __sync_fetch_and_add(&total, skb->len);
	__sync_fetch_and_or(slot, old);
	__sync_fetch_and_and(slot, 0xffffff);
	__sync_fetch_and_xor(slot, skb->hash);
	old = __sync_lock_test_and_set(&total, old + 1);
	old = __sync_val_compare_and_swap(slot, old, 7);
#if defined(__BPF_CPU_VERSION__) && __BPF_CPU_VERSION__ >= 3
	/* 32-bit atomics with fetch, exchange and compare-exchange need cpu v3. */
	__sync_fetch_and_add(&hits, 1);
	old += __sync_fetch_and_add(&hits, skb->len);
	old += __sync_fetch_and_or(&hits, skb->mark);
	old += __sync_lock_test_and_set(&hits, (__u32)old);
	old += __sync_val_compare_and_swap(&hits, (__u32)old, 9);
#endif
	return old == 7 ? bpf_htons(skb->protocol) : (int)bpf_ntohl(skb->hash);
}

SEC("tp/syscalls/sys_enter_getpid")
int calls(void *ctx)
{
	__u64 sum = 0;
	struct task_struct *t;
	__u32 pid = bpf_get_current_pid_tgid() >> 32;

	bpf_loop(16, loop_cb, &sum, 0);
	sum += mix32(pid, (__u32)sum);
	sum += signed_ops((__s64)sum - 1000, signed_word);
	t = bpf_task_from_pid(pid);
	if (t)
		bpf_task_release(t);
	total = sum + __builtin_bswap64(sum) + __builtin_bswap32((__u32)sum) + __builtin_bswap16((__u16)sum);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
