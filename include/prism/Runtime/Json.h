//===- Json.h - A small JSON value, parser and writer -----------*- C++ -*-===//
//
// The runtime reads manifest.json without LLVM (llvm::json is not available
// to it), so it carries this small implementation: objects keep their key
// order, numbers are int64 when they are integers and double otherwise.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_RUNTIME_JSON_H
#define PRISM_RUNTIME_JSON_H

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace prism::runtime {

class Json {
public:
  enum class Kind { Null, Bool, Integer, Number, String, Array, Object };

  Json() = default;
  Json(bool value) : kind(Kind::Bool), boolean(value) {}
  Json(int value) : kind(Kind::Integer), integer(value) {}
  Json(int64_t value) : kind(Kind::Integer), integer(value) {}
  Json(double value) : kind(Kind::Number), number(value) {}
  Json(const char *value) : kind(Kind::String), string(value) {}
  Json(std::string value) : kind(Kind::String), string(std::move(value)) {}
  static Json array() { Json j; j.kind = Kind::Array; return j; }
  static Json object() { Json j; j.kind = Kind::Object; return j; }

  Kind getKind() const { return kind; }
  bool isObject() const { return kind == Kind::Object; }
  bool isArray() const { return kind == Kind::Array; }
  bool isString() const { return kind == Kind::String; }
  bool isInteger() const { return kind == Kind::Integer; }
  bool isNumber() const { return kind == Kind::Integer || kind == Kind::Number; }

  int64_t asInteger() const { return integer; }
  double asNumber() const { return kind == Kind::Integer ? integer : number; }
  bool asBool() const { return boolean; }
  const std::string &asString() const { return string; }
  const std::vector<Json> &items() const { return elements; }
  const std::vector<std::pair<std::string, Json>> &fields() const {
    return members;
  }

  /// Appends to an array.
  Json &push(Json value);
  /// Sets a field of an object (replacing an existing one).
  Json &set(const std::string &key, Json value);
  /// The field `key` of an object, or nullptr.
  const Json *find(const std::string &key) const;

  std::string dump(int indent = 2) const;
  /// Parses `text`; on failure returns false and sets `error` (with the
  /// offset of the problem).
  static bool parse(const std::string &text, Json &result, std::string &error);

private:
  void dumpTo(std::string &out, int indent, int depth) const;

  Kind kind = Kind::Null;
  bool boolean = false;
  int64_t integer = 0;
  double number = 0;
  std::string string;
  std::vector<Json> elements;
  std::vector<std::pair<std::string, Json>> members;
};

} // namespace prism::runtime

#endif // PRISM_RUNTIME_JSON_H
