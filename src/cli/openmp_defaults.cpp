// OpenMP defaults for convfix's executables (the CLI and the benchmark).
//
// convfix's kernels and oneDNN share one OpenMP team (thread_pool.h). By
// default libgomp keeps idle team threads spinning; when the machine is
// busy (other processes, another runtime's pool, CI jobs) a spinning
// thread holds a core the other team thread needs, and a 2-thread run
// becomes slower than a 1-thread run (MobileNetV2: up to 7x slower, see
// docs/PERFORMANCE.md). With OMP_WAIT_POLICY=PASSIVE idle threads sleep.
//
// libgomp reads its environment once, when it is loaded, before main(). A
// function in the executable's .preinit_array runs before any shared
// library's initialiser, so setting the variable there takes effect. A
// value the user set is kept (setenv with overwrite = 0).
#include <cstdlib>

namespace {
void convfix_openmp_defaults(int, char**, char**) { setenv("OMP_WAIT_POLICY", "PASSIVE", 0); }
}  // namespace

__attribute__((section(".preinit_array"), used)) static void (*const convfix_preinit)(int, char**, char**) =
    &convfix_openmp_defaults;
