// Process-wide settings every logq process (the CLI, the test binaries) starts with: the
// allocator keeps freed memory, and BLAS runs one thread. logq is one thread per process and
// parallelizes with processes; both defaults cost it a third of its time in the kernel.
#pragma once

namespace logq {

// Call first thing in main(). A user's GLIBC_TUNABLES (malloc) and OPENBLAS_NUM_THREADS win.
void set_up_process();

}  // namespace logq
