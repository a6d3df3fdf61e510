// report/html.h — small pieces the diagnose report is built from: type-safe
// access to a JSON document that may miss any field (nothing here throws on
// a type mismatch), HTML escaping with UTF-8 repair, number formatting.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace convfix::report {

using Json = nlohmann::json;

// The member `key` of `j` when `j` is an object that has it, else nullptr.
const Json* member(const Json* j, std::string_view key);
// Element i of `j` when `j` is an array that long, else nullptr.
const Json* element(const Json* j, size_t i);
// Number of elements when `j` is an array, else 0.
size_t array_size(const Json* j);
bool is_array(const Json* j);
bool is_object(const Json* j);

// A finite number (bool is not a number), else nullopt.
std::optional<double> number(const Json* j);
// An integer, or a float with an integral value in range, else nullopt.
std::optional<int64_t> integer(const Json* j);
std::optional<bool> boolean(const Json* j);
// The string when `j` is one, else nullopt.
std::optional<std::string> string_of(const Json* j);

// Any JSON value as short plain text (not escaped): strings as they are,
// numbers with fmt_num, bools as yes/no, null/missing as "", arrays as
// "a, b, c", objects as "k: v; k: v"; nested at most `depth` levels and cut
// at about `max_chars` characters with "…".
std::string plain(const Json* j, int depth = 3, size_t max_chars = 400);

// HTML text/attribute escaping (& < > " '), with invalid UTF-8 bytes and
// control characters other than tab/newline replaced by U+FFFD.
std::string escape(std::string_view s);
// escape(plain(j)), or `missing` (already HTML) when the value is absent/null.
std::string cell(const Json* j, const char* missing = "—");
// cell(), with an array in brackets ("[1, 1, 1, 1]"): for values such as shapes and pads.
std::string value_html(const Json* j, const char* missing = "—");

// Numbers: 4 significant digits in [1e-3, 1e4), integers in full up to
// 1e15, otherwise scientific with 3 significant digits ("1.23e-5");
// "0" for zero, "NaN"/"∞" for non-finite.
std::string fmt_num(double v);
// A rate in [0, 1] as a percentage with one decimal ("12.5%").
std::string fmt_pct(double v);
// The last path component of a file name ("a/b/c.onnx" -> "c.onnx").
std::string base_name(const std::string& path);

}  // namespace convfix::report
