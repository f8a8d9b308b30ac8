// JSON that came from a file (safetensors and .lqm headers, hardware and quantization configs,
// model configs): parsed in one linear pass with the nesting depth bounded (kMaxJsonDepth, so
// neither the parser nor a later copy or dump of the document can overflow the stack) and a
// duplicate key at any depth an error naming the key (nlohmann would keep the last silently).
#pragma once
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "io/error.h"

namespace logq {

// What went wrong, for callers that word their own message.
struct JsonInputError : Error {
  JsonInputError(const std::string& msg, std::string detail_, std::string duplicate_key_, int key_depth_)
      : Error(msg), detail(std::move(detail_)), duplicate_key(std::move(duplicate_key_)), key_depth(key_depth_) {}
  std::string detail;         // e.g. "parse error at line 1, column 6: ..." or "key 'x' appears twice in one object"
  std::string duplicate_key;  // set for a duplicate key (raw, not escaped)
  int key_depth = 0;          // its object's depth: 1 = a key of the top-level object
};

// Throws JsonInputError("<what>: not valid JSON (<detail>)") for invalid JSON, a duplicate key or
// nesting beyond the limit.
nlohmann::json parse_json_input(std::string_view text, const std::string& what);

// The same for a whole file (a regular file; size-checked before reading).
nlohmann::json read_json_file(const std::string& path, const std::string& what_for);

// o[key] as a string, `fallback` when absent; an Error naming `where` and the key when it holds
// anything else (nlohmann's value() would throw its own type_error, which no reader expects).
std::string json_string_or(const nlohmann::json& o, const char* key, const std::string& fallback, const std::string& where);

}  // namespace logq
