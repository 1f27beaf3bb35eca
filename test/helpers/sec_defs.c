// Oracle for src/load/sections.ts: for each section name on stdin (one per line), what
// Debian's libbpf says through its public API (libbpf_prog_type_by_name): the program type and
// expected attach type as libbpf names them, or "none" when no entry of its table matches.
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args) { return 0; }

int main(void) {
  char line[4096];
  libbpf_set_print(quiet);
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    enum bpf_prog_type type;
    enum bpf_attach_type attach;
    if (libbpf_prog_type_by_name(line, &type, &attach) != 0) { printf("%s\tnone\n", line); continue; }
    const char *t = libbpf_bpf_prog_type_str(type);
    const char *a = libbpf_bpf_attach_type_str(attach);
    // Attach type 0 is BPF_CGROUP_INET_INGRESS, which is also what "none" is stored as.
    printf("%s\t%s\t%s\n", line, t ? t : "?", a ? a : "?");
  }
  return 0;
}
