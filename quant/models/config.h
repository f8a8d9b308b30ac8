// Reading a family's arguments from its JSON config (each model file lists its own keys; the
// registry has already rejected unknown ones).
#pragma once
#include <type_traits>

#include <nlohmann/json.hpp>

namespace logq {

// v = cfg[key] when the key is present (a type mismatch throws nlohmann's error, which the
// registry turns into an Error naming the model).
template <class T>
void config_get(const nlohmann::json& cfg, const char* key, T& v) {
  if (cfg.contains(key)) v = cfg.at(key).get<T>();
}

}  // namespace logq
