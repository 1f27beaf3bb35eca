// SPDX-License-Identifier: MIT
/*
 * A small flow-accounting program, written to give the BTF of a typical libbpf-style object:
 * BTF-defined maps of many map types (including map-in-map), global variables in .data,
 * .bss, .rodata and custom .data.* sections (each becomes a DATASEC with VARs), kconfig and
 * ksym externs, static and global subprograms, several program sections.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MAX_FLOWS 4096

struct flow_key {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct flow_stats {
	__u64 packets;
	__u64 bytes;
	__u64 first_seen_ns;
	__u64 last_seen_ns;
	__u32 flags;
	__s32 last_error;
};

struct event {
	struct flow_key key;
	__u64 ts;
	char comm[16];
	__u32 kind;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_FLOWS);
	__type(key, struct flow_key);
	__type(value, struct flow_stats);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} per_cpu_hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, int);
	__type(value, struct flow_stats);
} totals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(int));
	__uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, int);
	__type(value, __u64);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, int);
	__array(values, struct inner_map);
} outer SEC(".maps") = {
	.values = { &inner_a, &inner_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} jump_table SEC(".maps");

/* .rodata: constants the loader may rewrite before load. */
const volatile __u32 sample_rate = 1;
const volatile __u64 start_ns = 0;
const volatile char target_comm[16] = "nginx";
const volatile int verbosity = -1;

/* .data and .bss */
__u64 packets_seen = 7;
int last_cpu = -1;
__u64 drops;
struct flow_stats aggregate;
static __u32 private_counter;

/* Custom sections: libbpf maps each to its own map, and each gets its own DATASEC. */
__u32 hist[32] SEC(".data.histogram");
__u64 tunables[4] SEC(".data.tunables") = { 1, 2, 3, 4 };

/* kconfig and ksym externs */
extern int LINUX_KERNEL_VERSION __kconfig;
extern _Bool CONFIG_BPF_JIT __kconfig __weak;
extern const void bpf_prog_active __ksym;

char LICENSE[] SEC("license") = "Dual MIT/GPL";

static __always_inline __u32 hash_key(const struct flow_key *k)
{
	return k->saddr ^ k->daddr ^ ((__u32)k->sport << 16 | k->dport) ^ k->proto;
}

static __noinline int bump(struct flow_stats *st, __u64 len, __u64 now)
{
	if (!st)
		return -1;
	__sync_fetch_and_add(&st->packets, 1);
	__sync_fetch_and_add(&st->bytes, len);
	st->last_seen_ns = now;
	return 0;
}

/* A global (non-static) subprogram: verified on its own, gets BTF FUNC linkage=global. */
__noinline int account(struct flow_key *key, __u64 len, __u64 now, __u32 flags, int cpu)
{
	struct flow_stats *st, fresh = {};

	if (!key)
		return 0;
	st = bpf_map_lookup_elem(&flows, key);
	if (!st) {
		fresh.first_seen_ns = now;
		fresh.flags = flags;
		bpf_map_update_elem(&flows, key, &fresh, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&flows, key);
	}
	last_cpu = cpu;
	return bump(st, len, now);
}

SEC("xdp")
int count_packets(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct flow_key key = {};
	__u32 zero = 0, slot;
	__u64 *hits;

	if (data + sizeof(key) > end)
		return XDP_PASS;
	__builtin_memcpy(&key, data, sizeof(key));
	slot = hash_key(&key) % 32;
	if (slot < 32)
		hist[slot]++;
	packets_seen++;
	private_counter += sample_rate;
	hits = bpf_map_lookup_elem(&per_cpu_hits, &zero);
	if (hits)
		(*hits)++;
	if (account(&key, end - data, bpf_ktime_get_ns(), tunables[0], bpf_get_smp_processor_id()) < 0)
		drops++;
	bpf_tail_call(ctx, &jump_table, 0);
	return XDP_PASS;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int on_exec(void *ctx)
{
	struct event *e;

	if (verbosity < 0 && LINUX_KERNEL_VERSION < 0x050800)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->ts = bpf_ktime_get_ns() - start_ns;
	e->kind = CONFIG_BPF_JIT ? 1 : 2;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (e->comm[0] == target_comm[0])
		aggregate.packets++;
	bpf_ringbuf_submit(e, 0);
	bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &packets_seen, sizeof(packets_seen));
	return 0;
}
