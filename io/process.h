// Process-wide settings every logq process (the CLI, the test binaries) starts with: the
// allocator keeps freed memory, and BLAS runs one thread with its CPU's kernels. logq is one thread per process and
// parallelizes with processes; both defaults cost it a third of its time in the kernel.
#pragma once

#include <functional>

namespace logq {

// Call first thing in main(). A user's GLIBC_TUNABLES (malloc), OPENBLAS_NUM_THREADS and
// OPENBLAS_CORETYPE win. `argv` (main's, null-terminated): a process whose OpenBLAS fell back to
// its Prescott kernels on a CPU with AVX2 or AVX-512 restarts itself once with the kernels of
// its CPU (io/process.cpp); null: never restart.
void set_up_process(char** argv = nullptr);

// A worker thread of logq's own (AdaLog's layer workers, LogART's DBS candidates) runs its
// LibTorch ops on itself alone: OpenMP's thread count is per thread, and a new thread starts
// from OMP_NUM_THREADS or the core count, which would put 2 × 2 threads on 2 cores.
void use_one_openmp_thread_here();

// Runs body(0) .. body(threads - 1). One thread (or fewer): body(0) on the caller. More: each in a
// new thread that runs its LibTorch ops on itself alone (above); the caller's own OpenMP thread
// count stays as it is. Returns when all are done and rethrows the lowest-numbered one's exception.
// Per-thread LibTorch state (grad mode) is the body's to set.
void run_in_threads(int threads, const std::function<void(int)>& body);

// The kernels OpenBLAS runs ("SkylakeX", "Haswell", "Prescott", ...), for run records; null when
// the process has no OpenBLAS.
const char* blas_core();

}  // namespace logq
