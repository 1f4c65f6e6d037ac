//===- Json.cpp - A small JSON value, parser and writer -------------------===//

#include "prism/Runtime/Json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace prism::runtime {

Json &Json::push(Json value) {
  elements.push_back(std::move(value));
  return elements.back();
}

Json &Json::set(const std::string &key, Json value) {
  for (auto &member : members)
    if (member.first == key)
      return member.second = std::move(value);
  members.emplace_back(key, std::move(value));
  return members.back().second;
}

const Json *Json::find(const std::string &key) const {
  for (const auto &member : members)
    if (member.first == key)
      return &member.second;
  return nullptr;
}

static void escapeInto(std::string &out, const std::string &text) {
  out += '"';
  for (char c : text) {
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\t': out += "\\t"; break;
    case '\r': out += "\\r"; break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        char buffer[8];
        std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
        out += buffer;
      } else {
        out += c;
      }
    }
  }
  out += '"';
}

void Json::dumpTo(std::string &out, int indent, int depth) const {
  auto newline = [&](int level) {
    if (indent <= 0)
      return;
    out += '\n';
    out.append(static_cast<size_t>(indent * level), ' ');
  };
  switch (kind) {
  case Kind::Null: out += "null"; break;
  case Kind::Bool: out += boolean ? "true" : "false"; break;
  case Kind::Integer: out += std::to_string(integer); break;
  case Kind::Number: {
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%.17g", number);
    out += std::isfinite(number) ? buffer : "null";
    break;
  }
  case Kind::String: escapeInto(out, string); break;
  case Kind::Array: {
    // Arrays of scalars stay on one line: shapes read as [1, 37, 64].
    bool flat = true;
    for (const Json &e : elements)
      flat &= e.kind != Kind::Array && e.kind != Kind::Object;
    out += '[';
    for (size_t i = 0; i < elements.size(); ++i) {
      if (i)
        out += flat ? ", " : ",";
      if (!flat)
        newline(depth + 1);
      elements[i].dumpTo(out, indent, depth + 1);
    }
    if (!flat && !elements.empty())
      newline(depth);
    out += ']';
    break;
  }
  case Kind::Object: {
    out += '{';
    for (size_t i = 0; i < members.size(); ++i) {
      if (i)
        out += ',';
      newline(depth + 1);
      escapeInto(out, members[i].first);
      out += indent > 0 ? ": " : ":";
      members[i].second.dumpTo(out, indent, depth + 1);
    }
    if (!members.empty())
      newline(depth);
    out += '}';
    break;
  }
  }
}

std::string Json::dump(int indent) const {
  std::string out;
  dumpTo(out, indent, 0);
  return out;
}

namespace {
class Parser {
public:
  Parser(const std::string &text) : text(text) {}

  bool parseDocument(Json &result, std::string &error) {
    if (!parseValue(result, 0) || (skipSpace(), pos != text.size())) {
      error = message.empty() ? "unexpected trailing characters" : message;
      error += " at offset " + std::to_string(pos);
      return false;
    }
    return true;
  }

private:
  void skipSpace() {
    while (pos < text.size() &&
           (text[pos] == ' ' || text[pos] == '\n' || text[pos] == '\t' ||
            text[pos] == '\r'))
      ++pos;
  }
  bool fail(const char *what) {
    if (message.empty())
      message = what;
    return false;
  }
  bool literal(const char *word) {
    size_t n = std::char_traits<char>::length(word);
    if (text.compare(pos, n, word) != 0)
      return fail("invalid literal");
    pos += n;
    return true;
  }
  bool parseString(std::string &out) {
    if (text[pos] != '"')
      return fail("expected a string");
    ++pos;
    while (pos < text.size() && text[pos] != '"') {
      char c = text[pos++];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos >= text.size())
        return fail("unterminated escape");
      char e = text[pos++];
      switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        if (pos + 4 > text.size())
          return fail("truncated \\u escape");
        unsigned code = std::strtoul(text.substr(pos, 4).c_str(), nullptr, 16);
        pos += 4;
        if (code < 0x80) {
          out += static_cast<char>(code);
        } else if (code < 0x800) {
          out += static_cast<char>(0xC0 | (code >> 6));
          out += static_cast<char>(0x80 | (code & 0x3F));
        } else {
          out += static_cast<char>(0xE0 | (code >> 12));
          out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (code & 0x3F));
        }
        break;
      }
      default: out += e;
      }
    }
    if (pos >= text.size())
      return fail("unterminated string");
    ++pos;
    return true;
  }
  bool parseValue(Json &result, int depth) {
    if (depth > 64)
      return fail("nesting too deep");
    skipSpace();
    if (pos >= text.size())
      return fail("unexpected end of input");
    char c = text[pos];
    if (c == '{') {
      ++pos;
      result = Json::object();
      skipSpace();
      if (pos < text.size() && text[pos] == '}') {
        ++pos;
        return true;
      }
      while (true) {
        skipSpace();
        std::string key;
        if (pos >= text.size() || !parseString(key))
          return fail("expected an object key");
        skipSpace();
        if (pos >= text.size() || text[pos] != ':')
          return fail("expected ':'");
        ++pos;
        Json value;
        if (!parseValue(value, depth + 1))
          return false;
        result.set(key, std::move(value));
        skipSpace();
        if (pos < text.size() && text[pos] == ',') {
          ++pos;
          continue;
        }
        if (pos < text.size() && text[pos] == '}') {
          ++pos;
          return true;
        }
        return fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      ++pos;
      result = Json::array();
      skipSpace();
      if (pos < text.size() && text[pos] == ']') {
        ++pos;
        return true;
      }
      while (true) {
        Json value;
        if (!parseValue(value, depth + 1))
          return false;
        result.push(std::move(value));
        skipSpace();
        if (pos < text.size() && text[pos] == ',') {
          ++pos;
          continue;
        }
        if (pos < text.size() && text[pos] == ']') {
          ++pos;
          return true;
        }
        return fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      std::string s;
      if (!parseString(s))
        return false;
      result = Json(std::move(s));
      return true;
    }
    if (c == 't')
      return literal("true") && (result = Json(true), true);
    if (c == 'f')
      return literal("false") && (result = Json(false), true);
    if (c == 'n')
      return literal("null") && (result = Json(), true);
    size_t start = pos;
    bool integral = true;
    if (text[pos] == '-')
      ++pos;
    while (pos < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[pos])) ||
            text[pos] == '.' || text[pos] == 'e' || text[pos] == 'E' ||
            text[pos] == '+' || text[pos] == '-')) {
      if (!std::isdigit(static_cast<unsigned char>(text[pos])))
        integral = false;
      ++pos;
    }
    std::string number = text.substr(start, pos - start);
    if (number.empty() || number == "-")
      return fail("expected a value");
    char *end = nullptr;
    if (integral) {
      long long v = std::strtoll(number.c_str(), &end, 10);
      result = Json(static_cast<int64_t>(v));
    } else {
      double v = std::strtod(number.c_str(), &end);
      result = Json(v);
    }
    if (end != number.c_str() + number.size())
      return fail("malformed number");
    return true;
  }

  const std::string &text;
  size_t pos = 0;
  std::string message;
};
} // namespace

bool Json::parse(const std::string &text, Json &result, std::string &error) {
  Parser parser(text);
  return parser.parseDocument(result, error);
}

} // namespace prism::runtime
