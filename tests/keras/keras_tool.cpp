// keras_tool — test driver for the Keras / TF.js writers.
//   keras_tool write IN OUT [--scale NAME FACTOR]
// Reads IN (any format load_model reads), optionally multiplies initializer
// NAME by FACTOR, writes OUT in IN's flavour: a .h5/.keras file for Keras
// inputs, a folder (model.json + shard) for TF.js inputs. Prints the
// initializer names on --list. Exit 2 with one line on errors.
#include <cstdio>
#include <cstring>
#include <string>

#include "convfix/keras_format.h"
#include "convfix/model_io.h"
#include "convfix/tfjs_format.h"

using namespace convfix;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: keras_tool write IN OUT [--scale NAME FACTOR] | keras_tool list IN\n");
    return 2;
  }
  const std::string cmd = argv[1], in = argv[2];
  auto g = load_model(in);
  if (!g.ok()) {
    std::fprintf(stderr, "keras_tool: %s\n", g.status().message().c_str());
    return 2;
  }
  if (cmd == "list") {
    for (const auto& [n, t] : g->initializers) std::printf("%s\n", n.c_str());
    return 0;
  }
  if (argc < 4) return 2;
  const std::string out = argv[3];
  if (argc >= 7 && std::strcmp(argv[4], "--scale") == 0) {
    auto it = g->initializers.find(argv[5]);
    if (it == g->initializers.end()) {
      std::fprintf(stderr, "keras_tool: no initializer '%s'\n", argv[5]);
      return 2;
    }
    Tensor t = Tensor::uninitialized(DType::kF32, it->second.dims());
    const float f = std::stof(argv[6]);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = it->second.data<float>()[i] * f;
    it->second = t;
  }
  const std::string fmt = detect_format(in);
  Status st = fmt == "tfjs" ? write_tfjs(*g, in, out) : write_keras(*g, in, out);
  if (!st.ok()) {
    std::fprintf(stderr, "keras_tool: %s\n", st.message().c_str());
    return 2;
  }
  return 0;
}
