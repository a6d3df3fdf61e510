// repair_models(): the pipeline (contract in convfix/repair.h).
#include "convfix/repair.h"

namespace convfix {

Expected<nlohmann::json> repair_models(const RepairOptions& o, const RepairProgress& progress) {
  (void)o;
  (void)progress;
  return not_implemented("repair: not built yet");
}

}  // namespace convfix
