# Sourced by the run scripts: one thread per process (in-process threading is slow on these
# machines; logq parallelises by process), and no forced OpenBLAS core type (logq picks its CPU's
# kernels itself where OpenBLAS falls back to Prescott, io/process.cpp).
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
unset OPENBLAS_CORETYPE
