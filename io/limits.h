// The one place that bounds what a file may make logq do: the caps on memory and work that a
// hostile (or merely broken) file could otherwise blow up, and checked arithmetic for every size
// product computed from file data. Readers check each size a file claims against the file and
// against these caps *before* allocating, and name the file, the entry and the claimed size.
//
// The defaults are far above any real checkpoint, model or dataset logq reads (see each field);
// `logq --no-limits` (or LOGQ_NO_LIMITS=1) lifts the caps for a user who means it. Limits that
// guard the process itself (recursion depth, which would overflow the stack) are never lifted.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace logq {

struct InputLimits {
  // Pickle: bytes of objects an unpickler may build (values, item slots, strings). A real state
  // dict of 10,000 tensors builds about 10 MB; a 20 MB pickle of 20 M pushes would build 3.4 GB.
  uint64_t pickle_object_bytes = uint64_t{512} << 20;
  // Deflate (zip entries, gzip datasets): inflated bytes per compressed byte. Float weights and
  // images compress 1-5x; deflate itself allows ~1032x, which a bomb uses.
  uint64_t inflate_ratio = 64;
  uint64_t inflate_slack_bytes = uint64_t{1} << 20;  // small entries may compress better
  // Decoded image size (JPEG header): ImageNet's largest image is ~12 Mpx.
  uint64_t image_pixels = uint64_t{1} << 26;
  // Elements a statistics pass may visit per file beyond the storage it reads (overlapping or
  // broadcast views revisit elements).
  uint64_t view_elements = uint64_t{1} << 28;
  // .lqm work per image: multiply-accumulates of one layer (ViT-L/16's largest is 0.8 G), and
  // elements of one value (a [C, H, W] feature map or [N, D] token sequence).
  uint64_t layer_macs = uint64_t{1} << 34;
  uint64_t value_elements = uint64_t{1} << 28;
};

// The caps in force (process-wide; set once by the CLI before any file is read).
const InputLimits& input_limits();
void lift_input_limits();             // --no-limits: every cap above becomes UINT64_MAX
void set_input_limits(const InputLimits& l);  // tighter caps (fuzz targets, tests)
bool input_limits_lifted();
// The hint every cap error ends with.
inline constexpr const char* kNoLimitsHint = "(logq --no-limits lifts this cap)";

// Limits that protect the process, never lifted: nesting depth of JSON documents and of
// nested pickle calls.
inline constexpr int kMaxJsonDepth = 64;
inline constexpr int kMaxPickleNesting = 256;

// Checked size arithmetic on values that came from a file. Each throws Error("<what>: ...")
// instead of wrapping (signed overflow is undefined behaviour; unsigned wrap hides a bomb).
int64_t checked_mul(int64_t a, int64_t b, const std::string& what);
int64_t checked_add(int64_t a, int64_t b, const std::string& what);
// The element count of a shape: every dimension >= 0, the product < 2^62.
int64_t checked_numel(const std::vector<int64_t>& shape, const std::string& what);
// The same without throwing: false on a negative dimension or overflow.
bool try_numel(const std::vector<int64_t>& shape, int64_t* out);

// Text from a file echoed in a message: control characters and invalid UTF-8 escaped (\n, \x1b,
// \xff), so an error can neither forge terminal output nor break a JSON report.
std::string printable(const std::string& s);

}  // namespace logq
