// SPDX-License-Identifier: MIT
/*
 * A catalogue of C type shapes, each reachable from a global so that clang puts it in .BTF:
 * bitfields (kind_flag structs), nested and anonymous unions/structs, enums of every width
 * and sign, 64-bit enums, function pointers with many parameters, forward declarations,
 * typedef chains, qualifiers, multi-dimensional and flexible arrays, float/double/long
 * double, _Bool and char types, packed and over-aligned structs, btf_decl_tag on every kind
 * of declaration it applies to, and btf_type_tag on pointees.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __user __attribute__((btf_type_tag("user")))
#define __rcu __attribute__((btf_type_tag("rcu")))
#define __percpu __attribute__((btf_type_tag("percpu")))

/* Enums: unsigned, signed (negative values), byte-sized, and ones that need 64 bits. */
enum colour { RED, GREEN = 5, BLUE };
enum signed_levels { LVL_MIN = -2147483647 - 1, LVL_NEG = -7, LVL_ZERO = 0, LVL_MAX = 2147483647 };
enum __attribute__((packed)) tiny_enum { TINY_A = 1, TINY_B = 200 };
enum wide_flags : unsigned long long {
	WIDE_LOW = 1ULL,
	WIDE_BIT40 = 1ULL << 40,
	WIDE_TOP = 0xfedcba9876543210ULL,
	WIDE_ALL = ~0ULL,
};
enum wide_signed : long long {
	WS_MOST_NEGATIVE = -9223372036854775807LL - 1,
	WS_MINUS_BIG = -5000000000LL,
	WS_MINUS_ONE = -1,
	WS_BIG = 5000000000LL,
};
enum { ANON_ENUM_A = 3, ANON_ENUM_B = -3 };

/* Bitfields, including ones that straddle storage units and a zero-width separator. */
struct packet_bits {
	__u32 version : 4;
	__u32 ihl : 4;
	__u32 tos : 8;
	__u32 : 0;
	__u64 seq : 40;
	__u64 ack : 24;
	__s8 sign : 3;
	_Bool more : 1;
	enum colour hue : 3;
	enum signed_levels level : 5;
	__u16 tail;
};

/* Unions, anonymous members, nested records. */
union value {
	__u64 u;
	__s64 s;
	double d;
	float f[2];
	char bytes[8];
	struct {
		__u32 lo;
		__u32 hi;
	} halves;
};

struct tagged_value {
	enum { TV_INT, TV_FLOAT, TV_PTR } type;
	union {
		long l;
		double d;
		void *p;
		struct {
			__u16 a, b;
		};
	};
	union value raw;
};

/* Forward-only declarations stay FWD in BTF. */
struct opaque_handle;
union opaque_union;

/* Function pointers, one with more parameters than a BPF call may take. */
typedef int (*compare_fn)(const void *a, const void *b);
typedef void (*many_params_fn)(char c, short s, int i, long l, long long ll, unsigned char uc,
			       unsigned short us, unsigned int ui, unsigned long ul, float f, double d,
			       struct opaque_handle *h, union opaque_union *u, const char *name,
			       enum colour col, _Bool flag);
typedef long double ldouble_t;

struct ops {
	compare_fn cmp;
	many_params_fn many;
	int (*open)(struct opaque_handle *h, __u32 flags);
	void (*release)(void);
	long (*ioctl)(struct opaque_handle *, unsigned int cmd, unsigned long arg);
	struct ops *(*next)(struct ops *self);
	const char *(*describe)(const union value *v);
	ldouble_t (*precise)(ldouble_t x);
};

/* Typedef chains and qualifiers. */
typedef __u64 cookie_t;
typedef cookie_t cookie_alias_t;
typedef const volatile cookie_alias_t cv_cookie_t;
typedef struct packet_bits packet_bits_t;
typedef union value value_t;

struct qualified {
	const int c;
	volatile __u32 v;
	const volatile cookie_t cv;
	char *restrict rp;
	const char *const cp;
	cv_cookie_t cookie;
	void *const volatile *cvpp;
};

/* Arrays of several shapes. */
struct arrays {
	int grid[3][4][5];
	char name[0];
};

struct flexible {
	__u32 len;
	__u8 data[];
};

struct __attribute__((packed)) packed_rec {
	__u8 tag;
	__u64 value;
	__u16 n;
};

struct aligned_rec {
	__u8 x;
	__u64 y __attribute__((aligned(32)));
} __attribute__((aligned(64)));

/* Floating point, bool, the char types, 128-bit ints. */
struct numbers {
	float f;
	double d;
	long double ld;
	_Bool b;
	char c;
	signed char sc;
	unsigned char uc;
	__int128 i128;
	unsigned __int128 u128;
	short sh;
	unsigned long long ull;
};

/* btf_decl_tag on a struct, its members, a union, a typedef, a variable, a function and its parameters. */
struct __tag("kernel-visible") __tag("stable-abi") annotated {
	int plain;
	int tagged_member __tag("counter");
	char *name __tag("string") __tag("nul-terminated");
};

union __tag("variant") annotated_union {
	int i __tag("int-arm");
	float f;
};

typedef struct annotated annotated_t __tag("typedef-tag");

/* btf_type_tag on pointees: user/rcu/percpu pointers, and a pointer to a tagged pointer. */
struct pointer_tags {
	char __user *ubuf;
	struct ops __rcu *ops;
	__u64 __percpu *counters;
	int __user *__rcu *nested;
	const char __user *const cubuf;
};

/* Every type above reaches BTF through one of these globals. */
struct catalogue {
	struct packet_bits bits;
	packet_bits_t bits_alias;
	union value val;
	value_t val_alias;
	struct tagged_value tv;
	struct opaque_handle *handle;
	union opaque_union *ou;
	struct ops ops;
	struct qualified q;
	struct arrays arr;
	struct packed_rec packed;
	struct aligned_rec aligned;
	struct numbers nums;
	struct annotated ann;
	union annotated_union au;
	annotated_t ann_alias;
	struct pointer_tags ptrs;
	enum colour col;
	enum signed_levels lvl;
	enum tiny_enum tiny;
	enum wide_flags wf;
	enum wide_signed ws;
	cv_cookie_t cookie;
};

struct catalogue catalogue __tag("global-catalogue");
struct flexible *flex_ptr;
int anon_enum_user = ANON_ENUM_B;
static const char greeting[] = "hello, btf";
double ratio = 0.5;
float ratios[4] = { 1.0f, 0.5f, 0.25f, 0.125f };

char LICENSE[] SEC("license") = "Dual MIT/GPL";

static __noinline int __tag("static-helper") scale(int value __tag("input"), int shift)
{
	return value << (shift & 7);
}

__noinline long __tag("global-helper") combine(long a __tag("lhs"), long b __tag("rhs"), __u32 c,
					       __u16 d, __u8 e)
{
	return a * 31 + b * 7 + c + d + e + scale((int)a, (int)b);
}

SEC("raw_tp/sys_enter")
int use_types(void *ctx)
{
	struct packet_bits *bits = &catalogue.bits;
	long r;

	bits->ihl = 5;
	bits->seq++;
	catalogue.ws = WS_MINUS_BIG;
	catalogue.wf = WIDE_TOP;
	/* BPF has no FPU: floats are only moved, never computed with. */
	catalogue.val.u = *(__u64 *)&ratio ^ *(__u32 *)&ratios[1];
	r = combine(bits->version, catalogue.lvl, catalogue.tiny, greeting[anon_enum_user & 3], sizeof(*flex_ptr));
	return (int)r;
}
