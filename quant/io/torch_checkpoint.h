// Checkpoint and safetensors files as torch tensors. Views keep their strides and offsets, and
// tensors that shared a storage in the file share one here.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

#include "io/checkpoint.h"

namespace logq {

using StateDict = std::vector<std::pair<std::string, at::Tensor>>;

at::ScalarType to_scalar_type(DType t);  // throws Error for dtypes LibTorch 1.13 lacks
StateDict to_torch(const Checkpoint& ck);
// Any checkpoint logq reads: torch.save zip or legacy pickle, or safetensors (by content).
StateDict load_state_dict(const std::string& path, const CheckpointLoadOptions& opts = {});

}  // namespace logq
