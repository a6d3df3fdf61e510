// Generated-list entry point: CMake writes ops_registry.gen.cpp, which calls
// register_ops_<stem>(registry) for every src/ops/*.cpp file (stems listed in
// the build folder's ops_list.txt). Nothing here is hand-kept.
#pragma once

namespace convfix {
class OpRegistry;
void register_all_builtin_ops(OpRegistry& r);
}  // namespace convfix
