// The process-wide rounding mode of the tflite-domain integer kernels
// (include/convfix/tflite_format.h).
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "convfix/tflite_format.h"

namespace convfix {
namespace {

std::atomic<int>& mode() {
  static std::atomic<int> m([] {
    const char* e = std::getenv("CONVFIX_TFLITE_ROUNDING");
    return e && std::strcmp(e, "reference") == 0 ? static_cast<int>(TfliteRounding::kReference)
                                                 : static_cast<int>(TfliteRounding::kRuntime);
  }());
  return m;
}

}  // namespace

void set_tflite_rounding(TfliteRounding r) { mode().store(static_cast<int>(r)); }
TfliteRounding tflite_rounding() { return static_cast<TfliteRounding>(mode().load()); }

}  // namespace convfix
