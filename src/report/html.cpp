// JSON access, escaping and number formatting for the diagnose report
// (report/html.h).
#include "report/html.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace convfix::report {

const Json* member(const Json* j, std::string_view key) {
  if (!j || !j->is_object()) return nullptr;
  auto it = j->find(std::string(key));
  return it == j->end() ? nullptr : &*it;
}

const Json* element(const Json* j, size_t i) {
  if (!j || !j->is_array() || i >= j->size()) return nullptr;
  return &(*j)[i];
}

size_t array_size(const Json* j) { return j && j->is_array() ? j->size() : 0; }
bool is_array(const Json* j) { return j && j->is_array(); }
bool is_object(const Json* j) { return j && j->is_object(); }

std::optional<double> number(const Json* j) {
  if (!j || !j->is_number()) return std::nullopt;
  double v = 0;
  if (j->is_number_float()) v = j->get<double>();
  else if (j->is_number_unsigned()) v = static_cast<double>(j->get<uint64_t>());
  else v = static_cast<double>(j->get<int64_t>());
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<int64_t> integer(const Json* j) {
  if (!j || !j->is_number()) return std::nullopt;
  if (j->is_number_unsigned()) {
    const uint64_t u = j->get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (j->is_number_integer()) return j->get<int64_t>();
  const double v = j->get<double>();
  if (!std::isfinite(v) || v != std::floor(v) || std::fabs(v) > 9e15) return std::nullopt;
  return static_cast<int64_t>(v);
}

std::optional<bool> boolean(const Json* j) {
  if (!j || !j->is_boolean()) return std::nullopt;
  return j->get<bool>();
}

std::optional<std::string> string_of(const Json* j) {
  if (!j || !j->is_string()) return std::nullopt;
  return j->get_ref<const std::string&>();
}

namespace {

void plain_into(const Json* j, int depth, size_t max_chars, std::string& out) {
  if (out.size() > max_chars) return;
  if (!j || j->is_null()) return;
  if (j->is_string()) {
    out += j->get_ref<const std::string&>();
  } else if (j->is_boolean()) {
    out += j->get<bool>() ? "yes" : "no";
  } else if (j->is_number()) {
    if (j->is_number_float()) out += fmt_num(j->get<double>());
    else if (j->is_number_unsigned()) out += std::to_string(j->get<uint64_t>());
    else out += std::to_string(j->get<int64_t>());
  } else if (j->is_array()) {
    if (depth <= 0) { out += "[…]"; return; }
    bool first = true;
    for (const auto& e : *j) {
      if (out.size() > max_chars) break;
      if (!first) out += ", ";
      first = false;
      const bool nested = e.is_array() || e.is_object();
      if (nested) out += "[";
      plain_into(&e, depth - 1, max_chars, out);
      if (nested) out += "]";
    }
  } else if (j->is_object()) {
    if (depth <= 0) { out += "{…}"; return; }
    bool first = true;
    for (auto it = j->begin(); it != j->end(); ++it) {
      if (out.size() > max_chars) break;
      if (!first) out += "; ";
      first = false;
      out += it.key();
      out += ": ";
      plain_into(&it.value(), depth - 1, max_chars, out);
    }
  }
}

}  // namespace

std::string plain(const Json* j, int depth, size_t max_chars) {
  std::string out;
  plain_into(j, depth, max_chars, out);
  if (out.size() > max_chars) {
    // Cut on a UTF-8 character boundary.
    size_t n = max_chars;
    while (n > 0 && (static_cast<unsigned char>(out[n]) & 0xC0) == 0x80) --n;
    out.resize(n);
    out += "…";
  }
  return out;
}

std::string escape(std::string_view s) {
  static const char* kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  std::string out;
  out.reserve(s.size() + 16);
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        case '\t': case '\n': out += static_cast<char>(c); break;
        default:
          if (c < 0x20 || c == 0x7F) out += kReplacement;
          else out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // Multi-byte sequence: validate per RFC 3629 (no overlongs, no surrogates, <= U+10FFFF).
    size_t len = 0;
    uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) ok = false;
      else cp = (cp << 6) | (cc & 0x3F);
    }
    if (ok) {
      if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        ok = false;
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += kReplacement;
      ++i;
    }
  }
  return out;
}

std::string cell(const Json* j, const char* missing) {
  if (!j || j->is_null()) return missing;
  const std::string p = plain(j);
  if (p.empty()) return missing;
  return escape(p);
}

std::string value_html(const Json* j, const char* missing) {
  if (j && j->is_array()) return "[" + escape(plain(j)) + "]";
  return cell(j, missing);
}

std::string fmt_num(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "∞" : "−∞";
  if (v == 0) return "0";
  char buf[48];
  const double a = std::fabs(v);
  if (a >= 1e4 && a < 1e15 && v == std::floor(v)) {
    std::snprintf(buf, sizeof buf, "%.0f", v);  // counts: every digit
  } else if (a >= 1e-3 && a < 1e4) {
    std::snprintf(buf, sizeof buf, "%.4g", v);
  } else if (a >= 1e4 && a < 1e6) {
    std::snprintf(buf, sizeof buf, "%.1f", v);
  } else {
    // Scientific, 3 significant digits, short exponent: 1.23e-5.
    int e = static_cast<int>(std::floor(std::log10(a)));
    double m = v / std::pow(10.0, e);
    if (std::fabs(m) >= 9.995) { m /= 10; ++e; }
    std::snprintf(buf, sizeof buf, "%.3ge%d", m, e);
  }
  return buf;
}

std::string fmt_pct(double v) {
  if (!std::isfinite(v)) return fmt_num(v);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.1f%%", v * 100.0);
  return buf;
}

std::string base_name(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const size_t k = p.find_last_of('/');
  return k == std::string::npos ? p : p.substr(k + 1);
}

}  // namespace convfix::report
