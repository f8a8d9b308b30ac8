// How the controller cuts one layer's GEMM into SRAM-sized blocks. A block is mb rows of the
// activation operand A [M, K] and nb rows of the weight operand W [N, K] (mb a multiple of R, nb
// of C) over the K columns [k0, k0 + kb), and it is one start/done job of rtl/logq_gemm_ctrl. Of
// all block sizes that fit the buffers (one half each when double-buffered), the plan moves the
// fewest DRAM bytes (ties: fewer blocks, then weights outer).
//
// A layer whose K fits a bank keeps the full K in every block (the array accumulates over K inside
// a tile). One whose K does not is K-split (golden/hw.h k_chunk_count): K is cut into the fewest
// equal chunks that fit, and each output block runs its chunks one after another, the output
// buffer adding each chunk's accumulators to the partial sums it holds (rtl/logq_gemm_top acc_i).
// The partial sums stay in the output SRAM at the accumulator's width (psum_bits); every chunk
// fetches its A and W columns (no operand stays in SRAM across output blocks), and a convolution's
// chunk is fetched as im2col rows.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/hw_config.h"
#include "sim/workload.h"

namespace logq::sim {

struct Block {
  int64_t m0 = 0, mb = 0, n0 = 0, nb = 0;  // mb, nb: rows actually present (edge blocks are smaller)
  bool load_a = false, load_w = false;     // the DMA fetches this operand block (else it is still in SRAM)
  int64_t k0 = 0, kb = 0;                  // K columns [k0, k0 + kb): all of K unless K-split
  bool first_k = true, last_k = true;      // first chunk: overwrites the outputs; last: they are final
};

struct LayerPlan {
  int a_bits = 8, w_bits = 8;        // word widths used
  int64_t Mb = 0, Nb = 0;            // block size (rows of A, rows of W)
  int64_t Kb = 0, k_chunks = 1;      // K columns per block: all of K, or K-split into k_chunks chunks
  int psum_bits = 32;                // width of a partial sum held in the output SRAM (K-split)
  bool weights_outer = true;         // loop order: for each W block, every A block (or the reverse)
  std::vector<Block> blocks;         // one GEMM instance; the layer runs it `count` times
  int64_t a_words = 0, w_words = 0;  // words fetched from DRAM per instance
  int64_t out_words = 0;             // words written back per instance (M·N)
  int64_t dram_bytes() const;        // per instance, incl. the write-back
  int out_bits = 16;
};

// Throws Error naming the layer when a bank cannot hold one column of K, or the output SRAM one
// R x C tile of outputs (of partial sums, when K-split).
LayerPlan plan_layer(const SimLayer& l, const AccelConfig& hw);

// Activation words the DMA fetches for rows [m0, m0 + mb) of A over kb columns: the im2col rows
// themselves, or, for a convolution with all of K, the whole ifmap rows they read (all channels of
// the group; an on-chip im2col unit expands them into the A banks), whichever is fewer.
int64_t a_fetch_words(const SimLayer& l, int64_t m0, int64_t mb, int64_t kb);

// Bits of a word count, rounded up to whole bytes (how the DMA moves them).
inline int64_t words_to_bytes(int64_t words, int bits) { return (words * bits + 7) / 8; }

}  // namespace logq::sim
