#include "io/process.h"

#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <thread>
#include <vector>

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

// The kernels OpenBLAS would pick from the CPU's features (0.3.25's rule for Intel models it does
// not know: AVX-512 → SkylakeX, AVX2 + FMA → Haswell); null when the features give nothing better
// than its fallback.
const char* kernels_for_this_cpu() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512cd"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  return nullptr;
}

// OpenBLAS 0.3.21 (Debian 12) chooses its kernels by CPU model number and falls back to Prescott
// (SSE3) on any Intel model it has not seen (OpenBLAS issue #4267, fixed in 0.3.25). The CI and
// study machines are such a model (Xeon family 6 model 207): sgemm was half of AdaLog's
// calibration time, and the SkylakeX kernels made that calibration 2.6x faster (docs/results.md).
// OpenBLAS reads OPENBLAS_CORETYPE only when it loads, so logq restarts itself once with it set.
// A user's OPENBLAS_CORETYPE wins (Prescott reproduces the floats of runs made before this rule).
void use_this_cpus_blas_kernels(char** argv) {
  if (!argv || std::getenv("OPENBLAS_CORETYPE")) return;
  const char* now = blas_core();
  if (!now || std::strcmp(now, "Prescott") != 0) return;
  const char* better = kernels_for_this_cpu();
  if (!better) return;
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return;
  self[n] = 0;  // the file itself, not /proc/self/exe: ps and top then show "logq", not "exe"
  setenv("OPENBLAS_CORETYPE", better, 1);
  execv(self, argv);
  unsetenv("OPENBLAS_CORETYPE");  // exec failed: run on with the fallback kernels
}

}  // namespace

const char* blas_core() {
  using CoreName = char* (*)();
  if (auto name = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"))) return name();
  return nullptr;
}

void use_one_openmp_thread_here() {
  using SetThreads = void (*)(int);
  static const auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  if (set) set(1);
}

void run_in_threads(int threads, const std::function<void(int)>& body) {
  if (threads <= 1) {
    body(0);
    return;
  }
  std::vector<std::exception_ptr> errors(static_cast<size_t>(threads));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      try {
        use_one_openmp_thread_here();
        body(t);
      } catch (...) {
        errors[static_cast<size_t>(t)] = std::current_exception();
      }
    });
  for (auto& th : pool) th.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
}

void set_up_process(char** argv) {
  use_this_cpus_blas_kernels(argv);
  keep_freed_memory();
  one_blas_thread();
}

}  // namespace logq
