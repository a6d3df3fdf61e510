// Internal to the TFLite reader and writer: the binary schema (reflection)
// used to map builtin operator codes to names and builtin options tables to
// node attributes and back, generically by field name; dtype mapping; the
// node attributes that are not option fields.
#pragma once

#include <flatbuffers/flatbuffers.h>
#include <flatbuffers/reflection_generated.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "convfix/graph.h"
#include "convfix/status.h"
#include "tflite_schema_generated.h"

namespace convfix::tflitefmt {

// Operator codes. Names are the schema's ("CONV_2D"); a code the schema does
// not know reads as "BUILTIN_<n>" and maps back to <n>.
std::string builtin_op_name(int32_t code);
std::optional<int32_t> builtin_op_code(const std::string& name);
constexpr int32_t kCustomCode = 32;                 // BuiltinOperator CUSTOM
constexpr int32_t kPlaceholderForGreaterCodes = 127;

// One member of the BuiltinOptions (which = 1) or BuiltinOptions2 (which = 2)
// union; which = 0 means "no options table".
struct OptionsKind {
  int which = 0;
  uint8_t type = 0;                     // the union type code
  const reflection::Object* obj = nullptr;
  std::string name;                     // "Conv2DOptions"; "NONE" when which == 0
  bool has_fields() const;              // the table has non-deprecated fields
  bool has_scalar_fields() const;       // ... of which some are scalars (they have defaults)
};
// nullopt when the file's type code is not a member of the union.
std::optional<OptionsKind> options_kind_by_code(int which, uint8_t type);
// "Conv2DOptions" or "NONE".
std::optional<OptionsKind> options_kind_by_name(const std::string& name);
// The options table TFLite's converter writes for a builtin op (CONV_2D ->
// Conv2DOptions, MEAN -> ReducerOptions, RELU -> none).
OptionsKind standard_options_for_op(const std::string& op);

// Reads every (non-deprecated) field of an options table into attributes:
// scalars always (schema default when absent), vectors and strings only when
// present. Enum values become their names.
void read_options(const OptionsKind& kind, const flatbuffers::Table* table, Attributes& out);
// Builds an options table from the attributes named like its fields; adds
// the names it used to `used`. Errors name the attribute.
Expected<flatbuffers::uoffset_t> write_options(flatbuffers::FlatBufferBuilder& b, const OptionsKind& kind,
                                               const Attributes& attrs, std::set<std::string>& used);
// True for option fields holding subgraph indices.
bool is_subgraph_field(const std::string& field);

// Element types. INT4 reads as i8 (unpacked); complex, resource and variant
// have no IR dtype.
std::optional<DType> dtype_from_tflite(tflite::TensorType t);
std::optional<tflite::TensorType> dtype_to_tflite(DType d);
std::string tensor_type_name(tflite::TensorType t);
std::optional<tflite::TensorType> tensor_type_from_name(const std::string& name);

// Node attributes that are not options fields: version, data_layout,
// weight_layout, builtin_options_type, custom_options,
// custom_options_format, mutating_variable_inputs, intermediates.
const std::set<std::string>& meta_attributes();
// data_layout / weight_layout for the ops whose data has a layout.
void add_layout_attributes(const std::string& op, Attributes& a);

// Notes kept in ValueInfo::doc (separated by "; ") for what the IR has no
// field for; the writer reads them back.
constexpr const char* kNoteInt4 = "tflite INT4 (unpacked to i8)";
constexpr const char* kNoteSparse = "tflite sparse (densified)";
constexpr const char* kNoteVariable = "tflite variable";
constexpr const char* kNoteVariableNoData = "tflite variable without initial data";
constexpr const char* kNoteTypePrefix = "tflite type ";    // + RESOURCE, VARIANT, COMPLEX64...
constexpr const char* kNoteNamePrefix = "tflite name ";    // + 'original name'
constexpr const char* kNoteShapePrefix = "tflite shape ";  // + "[2, 3, 4]": sizes the file gives unknown dims
constexpr const char* kNoteAxisPrefix = "tflite quantized_dimension ";  // + "3 out of range for rank 1, read as 0"
bool has_note(const std::string& doc, const std::string& note);
std::string note_value(const std::string& doc, const std::string& prefix);  // "" when absent
void add_note(std::string& doc, const std::string& note);

}  // namespace convfix::tflitefmt
