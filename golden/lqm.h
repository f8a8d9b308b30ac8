// The .lqm logq model file: a safetensors file whose __metadata__ carries a format tag, a
// version and a JSON layer graph, and whose tensors hold integer codes and quantizer
// parameters. docs/lqm.md is the schema; validate_lqm() enforces it, so every consumer
// (golden/, testbenches/, sim/) can trust a file it has opened.
#pragma once
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "golden/graph_shapes.h"
#include "io/safetensors.h"

namespace logq {

inline constexpr const char* kLqmFormat = "logq.lqm";
inline constexpr int kLqmMajor = 1;
inline constexpr int kLqmMinor = 0;

class LqmFile {
 public:
  static LqmFile open(const std::string& path);
  static LqmFile parse(std::shared_ptr<const Bytes> bytes, std::string name);
  // True when a safetensors file declares itself an .lqm (format tag present).
  static bool is_lqm(const SafetensorsFile& f);

  const SafetensorsFile& file() const { return file_; }
  const nlohmann::json& graph() const { return graph_; }
  int version_major() const { return major_; }
  int version_minor() const { return minor_; }
  // The layer of this name in graph()["layers"], or nullptr.
  const nlohmann::json* layer(const std::string& name) const;
  // The typed model (graph_shapes.h): parsed and checked once, when the file is read; shapes and
  // formats without decoding a weight.
  const LqmModel& model() const { return model_; }

 private:
  explicit LqmFile(SafetensorsFile f) : file_(std::move(f)) {}
  SafetensorsFile file_;
  nlohmann::json graph_;
  std::unordered_map<std::string, size_t> layer_index_;
  LqmModel model_;
  int major_ = 0, minor_ = 0;
};

// Throws Error naming the file, the layer and the rule when `graph` + tensors break the schema.
void validate_lqm(const SafetensorsFile& file, const nlohmann::json& graph);

// Validates, then writes atomically: an invalid model is never written.
void write_lqm(const std::string& path, const nlohmann::json& graph, SafetensorsWriter tensors,
               const std::string& producer);

}  // namespace logq
