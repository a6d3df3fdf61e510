// onnx_roundtrip IN.onnx OUT.onnx — reads a model with convfix's ONNX reader
// and writes it back with the ONNX writer, unchanged. Used by the oracle
// round-trip test (tests/oracles/run_oracles.py roundtrip), which checks with
// ONNX Runtime that OUT loads and computes the same outputs as IN.
// Exit code 0 on success, 2 on any error (message on stderr).
#include <iostream>
#include <string>

#include "convfix/onnx_format.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: onnx_roundtrip IN.onnx OUT.onnx\n";
    return 2;
  }
  const std::string in = argv[1], out = argv[2];
  if (in == out) {
    std::cerr << "onnx_roundtrip: refusing to overwrite the input " << in << "\n";
    return 2;
  }
  auto g = convfix::read_onnx(in);
  if (!g.ok()) {
    std::cerr << "onnx_roundtrip: " << g.status().message() << "\n";
    return 2;
  }
  convfix::Status st = g.value().verify();
  if (!st.ok()) {
    std::cerr << "onnx_roundtrip: " << in << ": " << st.message() << "\n";
    return 2;
  }
  st = convfix::write_onnx(g.value(), out);
  if (!st.ok()) {
    std::cerr << "onnx_roundtrip: " << st.message() << "\n";
    return 2;
  }
  return 0;
}
