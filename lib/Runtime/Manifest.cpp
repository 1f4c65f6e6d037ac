//===- Manifest.cpp - manifest.json to and from C++ -----------------------===//

#include "prism/Runtime/Bundle.h"

#include <algorithm>

namespace prism::runtime {

int64_t elementSize(const std::string &dtype) {
  if (dtype == "f32" || dtype == "i32")
    return 4;
  if (dtype == "f16" || dtype == "bf16")
    return 2;
  if (dtype == "i8" || dtype == "f8E4M3FN")
    return 1;
  if (dtype == "i64" || dtype == "f64")
    return 8;
  return 0;
}

static Json dimToJson(const DimExpr &d) {
  Json j = Json::object();
  j.set("constant", d.constant);
  if (d.divisor != 1)
    j.set("divisor", d.divisor);
  if (!d.factors.empty()) {
    Json factors = Json::array();
    for (auto [input, dim] : d.factors) {
      Json f = Json::array();
      f.push(input);
      f.push(dim);
      factors.push(std::move(f));
    }
    j.set("input_dims", std::move(factors));
  }
  return j;
}

static Json shapeToJson(const std::vector<DimExpr> &shape) {
  Json j = Json::array();
  for (const DimExpr &d : shape)
    j.push(dimToJson(d));
  return j;
}

static Json intsToJson(const std::vector<int64_t> &values) {
  Json j = Json::array();
  for (int64_t v : values)
    j.push(v);
  return j;
}

static Json signatureToJson(const TensorSignature &s) {
  Json j = Json::object();
  j.set("dtype", s.dtype);
  j.set("shape", intsToJson(s.shape));
  return j;
}

Json Manifest::toJson() const {
  Json root = Json::object();
  root.set("format", format);
  root.set("target", target);
  root.set("library", library);
  if (libraryBytes >= 0)
    root.set("library_bytes", libraryBytes);
  root.set("toolchain", toolchain);
  root.set("source_hash", sourceHash);
  root.set("pipeline", pipeline);
  if (!kernels.empty()) {
    Json kernelsJson = Json::object();
    for (const auto &[name, config] : kernels) {
      Json kj = Json::object();
      kj.set("threads", config.threads);
      kj.set("shared_bytes", config.sharedBytes);
      kj.set("stages", config.stages);
      if (config.dynamicShared)
        kj.set("dynamic_shared", true);
      if (!config.tensorMaps.empty()) {
        Json maps = Json::array();
        for (const TensorMapSpec &spec : config.tensorMaps) {
          Json mj = Json::object();
          mj.set("argument", spec.argument);
          mj.set("element_bytes", spec.elementBytes);
          Json box = Json::array();
          for (int64_t d : spec.box)
            box.push(d);
          mj.set("box", std::move(box));
          mj.set("swizzle_bytes", spec.swizzleBytes);
          maps.push(std::move(mj));
        }
        kj.set("tensor_maps", std::move(maps));
      }
      kernelsJson.set(name, std::move(kj));
    }
    root.set("kernels", std::move(kernelsJson));
  }
  Json functionsJson = Json::array();
  for (const FunctionPlan &f : functions) {
    Json fj = Json::object();
    fj.set("name", f.name);
    Json inputs = Json::array(), outputs = Json::array();
    for (const auto &s : f.inputs)
      inputs.push(signatureToJson(s));
    for (const auto &s : f.outputs)
      outputs.push(signatureToJson(s));
    fj.set("inputs", std::move(inputs));
    fj.set("outputs", std::move(outputs));
    Json buffers = Json::array();
    for (const BufferPlan &b : f.buffers) {
      Json bj = Json::object();
      bj.set("kind", b.kind);
      bj.set("dtype", b.dtype);
      bj.set("shape", shapeToJson(b.shape));
      bj.set("unit_innermost", b.unitInnermost);
      if (b.kind == "input")
        bj.set("index", b.index);
      if (b.kind == "view") {
        bj.set("source", b.source);
        bj.set("view", b.view);
        if (!b.permutation.empty())
          bj.set("permutation", intsToJson(b.permutation));
      }
      buffers.push(std::move(bj));
    }
    fj.set("buffers", std::move(buffers));
    if (!f.checks.empty()) {
      Json checks = Json::array();
      for (const ShapeCheck &c : f.checks) {
        Json cj = Json::object();
        cj.set("kind", c.kind);
        cj.set("lhs", shapeToJson({c.lhs}));
        cj.set("rhs", shapeToJson({c.rhs}));
        cj.set("what", c.what);
        checks.push(std::move(cj));
      }
      fj.set("checks", std::move(checks));
    }
    Json launches = Json::array();
    for (const LaunchPlan &l : f.launches) {
      Json lj = Json::object();
      lj.set("kernel", l.kernel);
      Json grid = Json::array();
      for (const GridAxis &axis : l.grid) {
        Json aj = Json::object();
        aj.set("product", shapeToJson(axis.product));
        aj.set("tile", axis.tile);
        if (!axis.outer.empty())
          aj.set("outer", shapeToJson(axis.outer));
        grid.push(std::move(aj));
      }
      lj.set("grid", std::move(grid));
      lj.set("args", intsToJson(l.args));
      if (l.when) {
        Json when = Json::object();
        when.set("group", l.when->group);
        when.set("size", dimToJson(l.when->size));
        when.set("min", l.when->min);
        if (l.when->max != std::numeric_limits<int64_t>::max()) // absent: no bound
          when.set("max", l.when->max);
        lj.set("when", std::move(when));
      }
      launches.push(std::move(lj));
    }
    fj.set("launches", std::move(launches));
    fj.set("output_buffers", intsToJson(f.outputBuffers));
    functionsJson.push(std::move(fj));
  }
  root.set("functions", std::move(functionsJson));
  if (!kernelArguments.empty()) {
    Json arguments = Json::object();
    for (const auto &[name, ranks] : kernelArguments)
      arguments.set(name, intsToJson(ranks));
    root.set("kernel_arguments", std::move(arguments));
  }
  return root;
}

namespace {
/// Field access that records the first error with its path.
struct Reader {
  std::string &error;

  const Json *field(const Json &object, const char *key, const std::string &path) {
    const Json *value = object.isObject() ? object.find(key) : nullptr;
    if (!value && error.empty())
      error = "manifest: missing '" + path + "." + key + "'";
    return value;
  }
  bool string(const Json &object, const char *key, const std::string &path,
              std::string &out) {
    const Json *v = field(object, key, path);
    if (!v)
      return false;
    if (!v->isString())
      return fail(path + "." + key + " must be a string");
    out = v->asString();
    return true;
  }
  bool integer(const Json &object, const char *key, const std::string &path,
               int64_t &out) {
    const Json *v = field(object, key, path);
    if (!v)
      return false;
    if (!v->isInteger())
      return fail(path + "." + key + " must be an integer");
    out = v->asInteger();
    return true;
  }
  bool integers(const Json *v, const std::string &path,
                std::vector<int64_t> &out) {
    if (!v || !v->isArray())
      return fail(path + " must be an array of integers");
    for (const Json &e : v->items()) {
      if (!e.isInteger())
        return fail(path + " must be an array of integers");
      out.push_back(e.asInteger());
    }
    return true;
  }
  bool dim(const Json &j, const std::string &path, DimExpr &out) {
    if (!integer(j, "constant", path, out.constant))
      return false;
    if (out.constant < 0)
      return fail(path + ".constant must not be negative");
    if (const Json *d = j.find("divisor")) {
      if (!d->isInteger() || d->asInteger() <= 0)
        return fail(path + ".divisor must be a positive integer");
      out.divisor = d->asInteger();
    }
    if (const Json *f = j.find("input_dims")) {
      if (!f->isArray())
        return fail(path + ".input_dims must be an array");
      for (const Json &pair : f->items()) {
        std::vector<int64_t> p;
        if (!integers(&pair, path + ".input_dims[]", p) || p.size() != 2)
          return fail(path + ".input_dims entries must be [input, dim]");
        out.factors.emplace_back(p[0], p[1]);
      }
    }
    return true;
  }
  bool shape(const Json *j, const std::string &path, std::vector<DimExpr> &out) {
    if (!j || !j->isArray())
      return fail(path + " must be an array");
    for (size_t i = 0; i < j->items().size(); ++i) {
      DimExpr d;
      if (!dim(j->items()[i], path + "[" + std::to_string(i) + "]", d))
        return false;
      out.push_back(d);
    }
    return true;
  }
  bool signature(const Json &j, const std::string &path, TensorSignature &s) {
    return string(j, "dtype", path, s.dtype) &&
           integers(field(j, "shape", path), path + ".shape", s.shape);
  }
  bool fail(const std::string &message) {
    if (error.empty())
      error = "manifest: " + message;
    return false;
  }
};
} // namespace

std::vector<LaunchChoice> launchChoices(const FunctionPlan &f) {
  std::vector<LaunchChoice> choices;
  for (size_t i = 0; i < f.launches.size(); ++i) {
    const std::optional<LaunchCondition> &c = f.launches[i].when;
    if (!c)
      continue;
    if (i == 0 || !f.launches[i - 1].when ||
        f.launches[i - 1].when->group != c->group)
      choices.push_back(LaunchChoice{c->size, {}});
    std::vector<LaunchAlternative> &alternatives = choices.back().alternatives;
    if (alternatives.empty() || alternatives.back().min != c->min ||
        alternatives.back().max != c->max)
      alternatives.push_back(LaunchAlternative{c->min, c->max, {}});
    alternatives.back().launches.push_back(i);
  }
  return choices;
}

bool Manifest::fromJson(const Json &json, Manifest &m, std::string &error) {
  Reader r{error};
  if (!json.isObject())
    return r.fail("the top level must be an object");
  if (!r.string(json, "format", "", m.format))
    return false;
  if (m.format != kBundleFormat)
    return r.fail("format '" + m.format + "' is not " + kBundleFormat +
                  " (a bundle from another Prism version?)");
  if (!r.string(json, "target", "", m.target) ||
      !r.string(json, "library", "", m.library) ||
      !r.string(json, "source_hash", "", m.sourceHash) ||
      !r.string(json, "pipeline", "", m.pipeline))
    return false;
  if (const Json *bytes = json.find("library_bytes")) {
    if (!bytes->isInteger() || bytes->asInteger() < 0)
      return r.fail("library_bytes must be a non-negative integer");
    m.libraryBytes = bytes->asInteger();
  }
  if (m.library.empty() || m.library.find('/') != std::string::npos)
    return r.fail("library must name a file of the bundle directory, not '" + m.library + "'");
  if (const Json *t = json.find("toolchain"))
    m.toolchain = *t;
  if (const Json *kernels = json.find("kernels")) {
    if (!kernels->isObject())
      return r.fail("kernels must be an object");
    for (const auto &[name, kj] : kernels->fields()) {
      KernelConfig config;
      if (!r.integer(kj, "threads", "kernels." + name, config.threads) ||
          !r.integer(kj, "shared_bytes", "kernels." + name, config.sharedBytes))
        return false;
      // Older bundles have no stages (no pipelines then).
      if (kj.find("stages") &&
          !r.integer(kj, "stages", "kernels." + name, config.stages))
        return false;
      if (const Json *dynamic = kj.find("dynamic_shared")) {
        if (dynamic->getKind() != Json::Kind::Bool)
          return r.fail("kernels." + name + ".dynamic_shared must be true or false");
        config.dynamicShared = dynamic->asBool();
      }
      if (const Json *maps = kj.find("tensor_maps")) {
        if (!maps->isArray())
          return r.fail("kernels." + name + ".tensor_maps must be an array");
        for (const Json &mj : maps->items()) {
          std::string path =
              "kernels." + name + ".tensor_maps[" + std::to_string(config.tensorMaps.size()) + "]";
          TensorMapSpec spec;
          if (!r.integer(mj, "argument", path, spec.argument) ||
              !r.integer(mj, "element_bytes", path, spec.elementBytes) ||
              !r.integers(r.field(mj, "box", path), path + ".box", spec.box) ||
              !r.integer(mj, "swizzle_bytes", path, spec.swizzleBytes))
            return false;
          bool boxFits = !spec.box.empty() && spec.box.size() <= 5;
          for (int64_t d : spec.box)
            boxFits = boxFits && d >= 1 && d <= 256;
          if (spec.argument < 0 || !boxFits ||
              (spec.elementBytes != 1 && spec.elementBytes != 2 && spec.elementBytes != 4) ||
              (spec.swizzleBytes != 0 && spec.swizzleBytes != 32 && spec.swizzleBytes != 64 &&
               spec.swizzleBytes != 128))
            return r.fail(path + " is not a tensor map a GPU can use");
          config.tensorMaps.push_back(spec);
        }
      }
      if (config.threads <= 0 || config.threads > 1024 || config.sharedBytes < 0 ||
          config.stages < 1)
        return r.fail("kernels." + name + " has an impossible launch configuration");
      m.kernels[name] = config;
    }
  }
  if (const Json *arguments = json.find("kernel_arguments")) {
    if (!arguments->isObject())
      return r.fail("kernel_arguments must be an object");
    for (const auto &[name, ranks] : arguments->fields())
      if (!r.integers(&ranks, "kernel_arguments." + name, m.kernelArguments[name]))
        return false;
  }
  const Json *functions = r.field(json, "functions", "");
  if (!functions || !functions->isArray())
    return r.fail("functions must be an array");
  for (const Json &fj : functions->items()) {
    FunctionPlan f;
    std::string path = "functions[" + std::to_string(m.functions.size()) + "]";
    if (!r.string(fj, "name", path, f.name))
      return false;
    path = "function '" + f.name + "'";
    for (const char *key : {"inputs", "outputs"}) {
      const Json *list = r.field(fj, key, path);
      if (!list || !list->isArray())
        return r.fail(path + "." + key + " must be an array");
      for (const Json &sj : list->items()) {
        TensorSignature s;
        if (!r.signature(sj, path + "." + key, s))
          return false;
        (std::string(key) == "inputs" ? f.inputs : f.outputs).push_back(s);
      }
    }
    const Json *buffers = r.field(fj, "buffers", path);
    if (!buffers || !buffers->isArray())
      return r.fail(path + ".buffers must be an array");
    for (const Json &bj : buffers->items()) {
      BufferPlan b;
      std::string bpath = path + ".buffers[" + std::to_string(f.buffers.size()) + "]";
      if (!r.string(bj, "kind", bpath, b.kind) ||
          !r.string(bj, "dtype", bpath, b.dtype) ||
          !r.shape(r.field(bj, "shape", bpath), bpath + ".shape", b.shape))
        return false;
      if (const Json *unit = bj.find("unit_innermost"))
        b.unitInnermost = unit->getKind() == Json::Kind::Bool && unit->asBool();
      if (elementSize(b.dtype) == 0)
        return r.fail(bpath + ".dtype '" + b.dtype + "' is unknown");
      if (b.kind == "input") {
        if (!r.integer(bj, "index", bpath, b.index))
          return false;
        if (b.index < 0 || b.index >= static_cast<int64_t>(f.inputs.size()))
          return r.fail(bpath + ".index names input " + std::to_string(b.index) + " of " +
                        std::to_string(f.inputs.size()));
        if (b.shape.size() != f.inputs[b.index].shape.size())
          return r.fail(bpath + " has rank " + std::to_string(b.shape.size()) + " but input " +
                        std::to_string(b.index) + " has rank " +
                        std::to_string(f.inputs[b.index].shape.size()));
      } else if (b.kind == "view") {
        if (!r.integer(bj, "source", bpath, b.source) ||
            !r.string(bj, "view", bpath, b.view))
          return false;
        if (b.source < 0 || b.source >= static_cast<int64_t>(f.buffers.size()))
          return r.fail(bpath + ".source must name an earlier buffer");
        if (b.view == "transpose" &&
            !r.integers(r.field(bj, "permutation", bpath),
                        bpath + ".permutation", b.permutation))
          return false;
        size_t sourceRank = f.buffers[b.source].shape.size();
        if (b.view == "transpose") {
          std::vector<int64_t> sorted = b.permutation;
          std::sort(sorted.begin(), sorted.end());
          bool isPermutation = sorted.size() == sourceRank && b.shape.size() == sourceRank;
          for (size_t i = 0; isPermutation && i < sorted.size(); ++i)
            isPermutation = sorted[i] == static_cast<int64_t>(i);
          if (!isPermutation)
            return r.fail(bpath + ".permutation is not a permutation of the source's " +
                          std::to_string(sourceRank) + " dimensions");
        }
        if (b.view == "broadcast" && b.shape.size() < sourceRank)
          return r.fail(bpath + " broadcasts a rank-" + std::to_string(sourceRank) +
                        " buffer to a lower rank");
        if (b.view != "transpose" && b.view != "reshape" && b.view != "broadcast")
          return r.fail(bpath + ".view '" + b.view + "' is unknown");
      } else if (b.kind != "temporary") {
        return r.fail(bpath + ".kind '" + b.kind + "' is unknown");
      }
      f.buffers.push_back(std::move(b));
    }
    if (const Json *checks = fj.find("checks")) {
      if (!checks->isArray())
        return r.fail(path + ".checks must be an array");
      for (const Json &cj : checks->items()) {
        ShapeCheck c;
        std::string cpath = path + ".checks[" + std::to_string(f.checks.size()) + "]";
        std::vector<DimExpr> lhs, rhs;
        if (!r.string(cj, "kind", cpath, c.kind) || !r.string(cj, "what", cpath, c.what) ||
            !r.shape(r.field(cj, "lhs", cpath), cpath + ".lhs", lhs) ||
            !r.shape(r.field(cj, "rhs", cpath), cpath + ".rhs", rhs))
          return false;
        if (c.kind != "equal" && c.kind != "multiple" && c.kind != "positive")
          return r.fail(cpath + ".kind '" + c.kind + "' is unknown");
        if (lhs.size() != 1 || rhs.size() != 1)
          return r.fail(cpath + ": lhs and rhs must be one size each");
        c.lhs = lhs[0];
        c.rhs = rhs[0];
        f.checks.push_back(std::move(c));
      }
    }
    int64_t numBuffers = static_cast<int64_t>(f.buffers.size());
    const Json *launches = r.field(fj, "launches", path);
    if (!launches || !launches->isArray())
      return r.fail(path + ".launches must be an array");
    for (const Json &lj : launches->items()) {
      LaunchPlan l;
      std::string lpath = path + ".launches[" + std::to_string(f.launches.size()) + "]";
      if (!r.string(lj, "kernel", lpath, l.kernel))
        return false;
      const Json *grid = r.field(lj, "grid", lpath);
      if (!grid || !grid->isArray() || grid->items().size() != 3)
        return r.fail(lpath + ".grid must have 3 axes");
      for (int axis = 0; axis < 3; ++axis) {
        const Json &aj = grid->items()[axis];
        if (!r.shape(r.field(aj, "product", lpath), lpath + ".grid", l.grid[axis].product) ||
            !r.integer(aj, "tile", lpath + ".grid", l.grid[axis].tile) ||
            (aj.find("outer") &&
             !r.shape(aj.find("outer"), lpath + ".grid.outer", l.grid[axis].outer)))
          return false;
        if (l.grid[axis].tile <= 0)
          return r.fail(lpath + ".grid tile must be positive");
      }
      if (!r.integers(r.field(lj, "args", lpath), lpath + ".args", l.args))
        return false;
      for (int64_t a : l.args)
        if (a < 0 || a >= numBuffers)
          return r.fail(lpath + ".args names buffer " + std::to_string(a) +
                        " of " + std::to_string(numBuffers));
      if (const Json *when = lj.find("when")) {
        LaunchCondition c;
        const Json *size = r.field(*when, "size", lpath + ".when");
        if (!r.integer(*when, "group", lpath + ".when", c.group) || !size ||
            !r.dim(*size, lpath + ".when.size", c.size) ||
            !r.integer(*when, "min", lpath + ".when", c.min) ||
            (when->find("max") && !r.integer(*when, "max", lpath + ".when", c.max)))
          return false;
        if (c.min < 0 || c.max < c.min)
          return r.fail(lpath + ".when must be a range 0 <= min <= max, not [" +
                        std::to_string(c.min) + ", " + std::to_string(c.max) + "]");
        l.when = std::move(c);
      }
      if (!m.kernelArguments.empty()) {
        auto kernel = m.kernelArguments.find(l.kernel);
        if (kernel == m.kernelArguments.end())
          return r.fail(lpath + " launches '" + l.kernel + "', which the bundle does not have");
        const std::vector<int64_t> &ranks = kernel->second;
        if (l.args.size() != ranks.size())
          return r.fail(lpath + " passes " + std::to_string(l.args.size()) +
                        " buffers to '" + l.kernel + "', which takes " +
                        std::to_string(ranks.size()));
        for (size_t i = 0; i < ranks.size(); ++i)
          if (static_cast<int64_t>(f.buffers[l.args[i]].shape.size()) != ranks[i])
            return r.fail(lpath + " passes a rank-" +
                          std::to_string(f.buffers[l.args[i]].shape.size()) +
                          " buffer as argument " + std::to_string(i) + " of '" + l.kernel +
                          "', which takes rank " + std::to_string(ranks[i]));
      }
      f.launches.push_back(std::move(l));
    }
    // Alternatives: each group's launches follow its first, on one size,
    // and their ranges cover every size from 0 in order (exactly one
    // alternative runs). An alternative may be several consecutive
    // launches with the same range (split-K's products and their sum).
    for (size_t i = 0; i < f.launches.size(); ++i) {
      const std::optional<LaunchCondition> &c = f.launches[i].when;
      if (!c)
        continue;
      std::string lpath = path + ".launches[" + std::to_string(i) + "].when";
      bool first = c->group == static_cast<int64_t>(i);
      const std::optional<LaunchCondition> &before =
          i ? f.launches[i - 1].when : std::optional<LaunchCondition>();
      if (!first && !(before && before->group == c->group))
        return r.fail(lpath + ".group " + std::to_string(c->group) +
                      " is not this launch's index or its predecessor's group");
      bool sameSize = !first && c->size.constant == before->size.constant &&
                      c->size.divisor == before->size.divisor &&
                      c->size.factors == before->size.factors;
      bool sameAlternative = sameSize && c->min == before->min && c->max == before->max;
      if (first ? c->min != 0
                : !sameSize || (!sameAlternative &&
                                (before->max == std::numeric_limits<int64_t>::max() ||
                                 c->min != before->max + 1)))
        return r.fail(lpath + ": the launches of group " + std::to_string(c->group) +
                      " must cover every size of one dimension from 0, in order, " +
                      "without gaps or overlaps");
      bool last = i + 1 == f.launches.size() || !f.launches[i + 1].when ||
                  f.launches[i + 1].when->group != c->group;
      if (last && c->max != std::numeric_limits<int64_t>::max())
        return r.fail(lpath + ": the last launch of group " + std::to_string(c->group) +
                      " must have no max (sizes above " + std::to_string(c->max) +
                      " would launch nothing)");
    }
    if (!r.integers(r.field(fj, "output_buffers", path), path + ".output_buffers",
                    f.outputBuffers))
      return false;
    for (int64_t o : f.outputBuffers)
      if (o < 0 || o >= numBuffers || f.buffers[o].kind != "temporary")
        return r.fail(path + ".output_buffers must name temporary buffers");
    if (f.outputBuffers.size() != f.outputs.size())
      return r.fail(path + " has " + std::to_string(f.outputs.size()) +
                    " outputs but " + std::to_string(f.outputBuffers.size()) +
                    " output buffers");
    m.functions.push_back(std::move(f));
  }
  return true;
}

} // namespace prism::runtime
