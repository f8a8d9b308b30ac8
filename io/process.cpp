#include "io/process.h"

#include <dlfcn.h>
#include <malloc.h>

#include <climits>
#include <cstdlib>
#include <cstring>

namespace logq {

namespace {

// glibc returns every block above 128 KiB to the kernel on free and trims the heap eagerly; the
// search and evaluation loops free and re-allocate the same few-MB tensors thousands of times, so
// the default turned most of their time into mmap/munmap and page faults (LogART DBS: 2.4 s of
// system time per 32 s; up to 100 s of 283 s on ResNet-44, at random). Blocks up to 32 MiB stay in
// the heap and the heap is kept: the process reuses its own memory. A user's GLIBC_TUNABLES win.
void keep_freed_memory() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables && std::strstr(tunables, "glibc.malloc.")) return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
}

// OpenBLAS (LibTorch's BLAS here) starts one spinning thread per core and ignores
// at::set_num_threads: every small GEMM then ends in sched_yield storms (AdaLog calibration of
// the embedded ViT: 36 s of system time in 89 s; 0.1 s in 54 s with one thread, same results).
// logq runs one thread per process and parallelizes with processes; OPENBLAS_NUM_THREADS wins.
void one_blas_thread() {
  if (std::getenv("OPENBLAS_NUM_THREADS")) return;
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(1);
}

}  // namespace

void set_up_process() {
  keep_freed_memory();
  one_blas_thread();
}

}  // namespace logq
