#include <cstdio>

#include "io/error.h"
#include "golden/lqm.h"
#include "test_util.h"

using namespace logq;
using Catch::Matchers::Contains;
using json = nlohmann::json;

namespace {

// A small but complete model: a U(4)xU(8) linear, an A(4)xU(4) attention matmul and an
// L(4)xU(8) conv, with a float op between them.
struct Model {
  json graph;
  SafetensorsWriter tensors;
};

Model make_model() {
  Model m;
  auto& t = m.tensors;
  t.add("fc.w.codes", DType::U8, {3, 4}, std::vector<uint8_t>{0, 1, 2, 15, 3, 4, 5, 6, 7, 8, 9, 10});
  t.add("fc.w.scale", DType::F32, {3}, std::vector<float>{0.1f, 0.2f, 0.3f});
  t.add("fc.w.zero_point", DType::I32, {3}, std::vector<int32_t>{8, 7, 8});
  t.add("fc.x.scale", DType::F32, {1}, std::vector<float>{0.05f});
  t.add("fc.x.zero_point", DType::I32, {1}, std::vector<int32_t>{128});
  t.add("fc.bias", DType::F32, {3}, std::vector<float>{0.0f, 1.0f, -1.0f});
  t.add("mm.a.scale", DType::F32, {1}, std::vector<float>{1.0f});
  t.add("mm.b.scale", DType::F32, {2}, std::vector<float>{0.1f, 0.2f});
  t.add("mm.b.zero_point", DType::I32, {2}, std::vector<int32_t>{8, 8});
  t.add("conv.w.sign", DType::I8, {2, 1, 1, 2}, std::vector<int8_t>{1, -1, 0, 1});
  t.add("conv.w.exp", DType::I16, {2, 1, 1, 2}, std::vector<int16_t>{-3, -5, 0, -2});
  t.add("conv.w.scale", DType::F32, {2}, std::vector<float>{0.5f, 0.25f});
  t.add("conv.x.scale", DType::F32, {1}, std::vector<float>{0.02f});
  t.add("conv.x.zero_point", DType::I32, {1}, std::vector<int32_t>{0});
  t.add("samples/image.0", DType::F32, {4}, std::vector<float>{0, 1, 2, 3});
  m.graph = json::parse(R"({
    "model": {"name": "toy", "family": "vit", "method": "adalog"},
    "inputs": ["image"],
    "outputs": ["y"],
    "layers": [
      {"name": "fc", "op": "linear", "inputs": ["image"], "outputs": ["h"],
       "operands": {"w": {"format": "U", "bits": 4, "granularity": "row", "codes": "fc.w.codes", "scale": "fc.w.scale", "zero_point": "fc.w.zero_point"},
                    "x": {"format": "U", "bits": 8, "granularity": "tensor", "scale": "fc.x.scale", "zero_point": "fc.x.zero_point"}},
       "tensors": {"bias": "fc.bias"}},
      {"name": "act", "op": "gelu", "inputs": ["h"], "outputs": ["g"]},
      {"name": "mm", "op": "matmul", "inputs": ["g", "h"], "outputs": ["m"], "attrs": {"heads": 2, "k": 3, "n": 3},
       "operands": {"a": {"format": "A", "bits": 4, "q": 37, "scale": "mm.a.scale"},
                    "b": {"format": "U", "bits": 4, "granularity": "head", "scale": "mm.b.scale", "zero_point": "mm.b.zero_point"}}},
      {"name": "conv", "op": "conv2d", "inputs": ["m"], "outputs": ["y"], "attrs": {"stride": 1, "in_channels": 1, "input_hw": [2, 3], "kernel": [1, 2]},
       "operands": {"w": {"format": "L", "bits": 4, "granularity": "row", "sign": "conv.w.sign", "exp": "conv.w.exp", "scale": "conv.w.scale", "mantissa": "approx"},
                    "x": {"format": "U", "bits": 8, "scale": "conv.x.scale", "zero_point": "conv.x.zero_point"}}}
    ]})");
  return m;
}

std::vector<uint8_t> serialize(Model m, const std::map<std::string, std::string>& meta_override = {}) {
  m.tensors.set_metadata("format", kLqmFormat);
  m.tensors.set_metadata("lqm_version", "1.0");
  m.tensors.set_metadata("graph", m.graph.dump());
  for (const auto& [k, v] : meta_override) m.tensors.set_metadata(k, v);
  return m.tensors.serialize();
}

void expect_invalid(const Model& m, const std::string& fragment) {
  try {
    LqmFile::parse(Bytes::from_vector(serialize(m)), "m.lqm");
    FAIL("accepted a model that should fail with: " << fragment);
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Contains("m.lqm") && Contains(fragment));
  }
}

// The same model with one tensor's bytes changed by `mutate`.
template <typename F>
Model with_tensor(const Model& m, const std::string& name, F mutate) {
  const auto f = SafetensorsFile::parse(Bytes::from_vector(serialize(m)), "x");
  Model out;
  out.graph = m.graph;
  for (const auto& t : f.tensors()) {
    std::vector<uint8_t> data(f.data(t), f.data(t) + t.nbytes);
    if (t.name == name) mutate(data);
    out.tensors.add(t.name, t.dtype, t.shape, data.data(), data.size());
  }
  return out;
}

}  // namespace

TEST_CASE("a valid .lqm model is written atomically, re-opened and validated", "[lqm]") {
  const std::string path = test::temp_path("toy.lqm");
  Model m = make_model();
  write_lqm(path, m.graph, m.tensors, "logq test");
  const LqmFile f = LqmFile::open(path);
  CHECK(f.version_major() == 1);
  CHECK(f.version_minor() == 0);
  CHECK(f.file().metadata().at("producer") == "logq test");
  CHECK(f.graph() == m.graph);
  CHECK(f.file().read<uint8_t>("fc.w.codes", DType::U8)[3] == 15);
  std::remove(path.c_str());
}

TEST_CASE("write_lqm refuses an invalid model and writes nothing", "[lqm][bad-input]") {
  const std::string path = test::temp_path("invalid.lqm");
  Model m = make_model();
  m.graph["layers"][0]["op"] = "frobnicate";
  CHECK_THROWS_WITH(write_lqm(path, m.graph, m.tensors, "t"), Contains("unknown op 'frobnicate'"));
  CHECK_FALSE(test::exists(path));
}

TEST_CASE("invalid .lqm files are rejected naming the layer and the rule", "[lqm][bad-input]") {
  SECTION("not tagged as lqm") {
    SafetensorsWriter w;
    w.add("x", DType::F32, {1}, std::vector<float>{1});
    CHECK_THROWS_WITH(LqmFile::parse(Bytes::from_vector(w.serialize()), "m.lqm"), Contains("not an lqm file"));
  }
  SECTION("future major version") {
    CHECK_THROWS_WITH(LqmFile::parse(Bytes::from_vector(serialize(make_model(), {{"lqm_version", "2.0"}})), "m.lqm"),
                      Contains("lqm_version 2.0 is not supported"));
  }
  SECTION("garbled version") {
    CHECK_THROWS_WITH(LqmFile::parse(Bytes::from_vector(serialize(make_model(), {{"lqm_version", "one"}})), "m.lqm"),
                      Contains("is not MAJOR.MINOR"));
  }
  SECTION("graph is not JSON") {
    CHECK_THROWS_WITH(LqmFile::parse(Bytes::from_vector(serialize(make_model(), {{"graph", "{oops"}})), "m.lqm"),
                      Contains("metadata 'graph' is not valid JSON"));
  }
  Model m = make_model();
  auto& layers = m.graph["layers"];
  SECTION("missing tensor") {
    layers[0]["operands"]["w"]["scale"] = "fc.w.nope";
    expect_invalid(m, "layer 'fc'.operands.w.scale: refers to tensor 'fc.w.nope' which is not in the file");
  }
  SECTION("code above 2^bits - 1") {
    layers[0]["operands"]["w"]["bits"] = 3;
    expect_invalid(m, "'fc.w.codes' element 3 = 15 is outside [0, 7]");
  }
  SECTION("per-row scale of the wrong size") {
    layers[0]["operands"]["w"]["scale"] = "mm.b.scale";
    expect_invalid(m, "per-row scale 'mm.b.scale' has 2 elements for 3 rows");
  }
  SECTION("scale of the wrong dtype") {
    layers[0]["operands"]["x"]["scale"] = "fc.x.zero_point";
    expect_invalid(m, "scale 'fc.x.zero_point' must be F32");
  }
  SECTION("a format that is not a string (found by fuzz_lqm: nlohmann's type_error escaped the reader)") {
    layers[0]["operands"]["w"]["format"] = 7;
    expect_invalid(m, "layer 'fc'.operands.w: 'format' must be a string, not number");
  }
  SECTION("an op that is not a string") {
    layers[0]["op"] = nlohmann::json::array();
    CHECK_THROWS_AS(LqmFile::parse(Bytes::from_vector(serialize(m)), "m.lqm"), Error);
  }
  SECTION("unknown format") {
    layers[2]["operands"]["a"]["format"] = "Q";
    expect_invalid(m, "unknown operand format 'Q'");
  }
  SECTION("AdaLog q out of range") {
    layers[2]["operands"]["a"]["q"] = 0;
    expect_invalid(m, "'q' = 0 is outside [1, 1000]");
  }
  SECTION("LogART exact mantissa needs frac_bits") {
    layers[3]["operands"]["w"]["mantissa"] = "exact";
    expect_invalid(m, "'frac_bits' must be an integer");
  }
  SECTION("input that nothing produced") {
    layers[1]["inputs"] = json::array({"later"});
    expect_invalid(m, "layer 'act': input \"later\" is not a graph input or an earlier layer's output");
  }
  SECTION("duplicate layer name") {
    layers[1]["name"] = "fc";
    expect_invalid(m, "layer 'fc': name appears twice");
  }
  SECTION("value produced twice") {
    layers[1]["outputs"] = json::array({"h"});
    expect_invalid(m, "output 'h' is produced twice");
  }
  SECTION("GEMM without operands") {
    layers[0].erase("operands");
    expect_invalid(m, "linear needs operands 'w' and 'x'");
  }
  SECTION("float op with operands") {
    layers[1]["operands"] = layers[0]["operands"];
    expect_invalid(m, "float op 'gelu' cannot have quantized operands");
  }
  SECTION("orphan tensor") {
    m.tensors.add("stray", DType::F32, {1}, std::vector<float>{0});
    expect_invalid(m, "tensor 'stray' is not referenced by the graph");
  }
  SECTION("graph output not produced") {
    m.graph["outputs"] = json::array({"z"});
    expect_invalid(m, "graph.outputs: \"z\" is not produced by any layer");
  }
}

TEST_CASE("out-of-range values inside tensors are rejected", "[lqm][bad-input]") {
  SECTION("LogART sign code 2") {
    expect_invalid(with_tensor(make_model(), "conv.w.sign", [](std::vector<uint8_t>& d) { d[0] = 2; }),
                   "'conv.w.sign' element 0 = 2 is outside [-1, 1]");
  }
  SECTION("zero scale") {
    expect_invalid(with_tensor(make_model(), "fc.x.scale", [](std::vector<uint8_t>& d) { std::fill(d.begin(), d.end(), 0); }),
                   "scale 'fc.x.scale' holds 0 (must be finite and > 0)");
  }
  SECTION("NaN scale") {
    expect_invalid(with_tensor(make_model(), "fc.w.scale", [](std::vector<uint8_t>& d) { std::fill(d.begin(), d.begin() + 4, 0xFF); }),
                   "scale 'fc.w.scale' holds -nan (must be finite and > 0)");
  }
}
