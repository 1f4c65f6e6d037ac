//===- KernelReport.cpp - What the GPU assembler made of each kernel ------===//

#include "KernelReport.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include <cstdlib>
#include <regex>
#include <sstream>

namespace prism {
namespace {

/// Instructions worth counting: tensor cores and asynchronous copies.
const char *const kPtxInstructions[] = {"mma.sync", "wgmma.mma_async", "ldmatrix",
                                        "cp.async.bulk.tensor", "cp.async",
                                        "bar.sync"};
const char *const kSassInstructions[] = {"HMMA", "HGMMA", "LDSM", "UTMALDG", "LDGSTS"};

std::string findCuobjdump() {
  for (const char *variable : {"CUDA_HOME", "CUDA_PATH", "CUDA_ROOT"})
    if (const char *root = std::getenv(variable)) {
      llvm::SmallString<256> path(root);
      llvm::sys::path::append(path, "bin", "cuobjdump");
      if (llvm::sys::fs::can_execute(path))
        return std::string(path);
    }
  if (auto found = llvm::sys::findProgramByName("cuobjdump"))
    return *found;
  if (llvm::sys::fs::can_execute("/usr/local/cuda/bin/cuobjdump"))
    return "/usr/local/cuda/bin/cuobjdump";
  return "";
}

/// Splits an assembly listing into per-function bodies: a line that matches
/// `header` starts the function its first group names.
std::map<std::string, std::string> splitByFunction(const std::string &text,
                                                   const std::regex &header) {
  std::map<std::string, std::string> bodies;
  std::string current;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::smatch match;
    if (std::regex_search(line, match, header))
      current = match[1];
    else if (!current.empty())
      bodies[current] += line + "\n";
  }
  return bodies;
}

int countOccurrences(const std::string &text, const std::string &word) {
  int count = 0;
  for (size_t at = text.find(word); at != std::string::npos;
       at = text.find(word, at + word.size()))
    ++count;
  return count;
}

} // namespace

llvm::Expected<std::map<std::string, KernelReport>>
readNvidiaReport(llvm::StringRef directory, bool &sassAvailable) {
  std::map<std::string, KernelReport> reports;
  auto read = [&](llvm::StringRef name) -> std::string {
    llvm::SmallString<256> path(directory);
    llvm::sys::path::append(path, name);
    auto buffer = llvm::MemoryBuffer::getFile(path);
    return buffer ? (*buffer)->getBuffer().str() : std::string();
  };

  std::string log = read("ptxas.log");
  if (log.empty())
    return llvm::createStringError(
        "the bundle has no ptxas.log: it was compiled without ptxas (no CUDA "
        "toolkit), so there are no register or spill counts");
  std::regex entry(R"(Compiling entry function '([^']+)')");
  std::regex frame(R"((\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads)");
  std::regex used(R"(Used (\d+) registers(?:.*?(\d+) bytes smem)?)");
  // Coded notes name their kernel at the end, and may come before its
  // "Compiling entry function" line.
  std::regex note(R"(\((C\d+)\) (.*?) (?:for|in) (?:the )?function '([^']+)')");
  std::string current;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    std::smatch match;
    if (std::regex_search(line, match, note)) {
      reports[match[3]].notes.push_back("(" + match[1].str() + ") " + match[2].str());
    } else if (std::regex_search(line, match, entry)) {
      current = match[1];
      reports[current];
    } else if (!current.empty() && std::regex_search(line, match, frame)) {
      KernelReport &r = reports[current];
      r.stackBytes = std::stoi(match[1]);
      r.spillStores = std::stoi(match[2]);
      r.spillLoads = std::stoi(match[3]);
    } else if (!current.empty() && std::regex_search(line, match, used)) {
      KernelReport &r = reports[current];
      r.registers = std::stoi(match[1]);
      if (match[2].matched)
        r.sharedBytes = std::stoi(match[2]);
    }
  }

  std::string ptx = read("kernels.ptx");
  for (auto &[name, body] :
       splitByFunction(ptx, std::regex(R"(\.entry\s+([A-Za-z0-9_]+))")))
    for (const char *instruction : kPtxInstructions)
      if (int n = countOccurrences(body, instruction))
        reports[name].ptxInstructions[instruction] = n;
  // "cp.async" also counts the bulk tensor copies; keep the plain ones.
  for (auto &[name, r] : reports)
    if (r.ptxInstructions.count("cp.async.bulk.tensor"))
      r.ptxInstructions["cp.async"] -= r.ptxInstructions["cp.async.bulk.tensor"];

  sassAvailable = false;
  std::string cuobjdump = findCuobjdump();
  llvm::SmallString<256> cubin(directory);
  llvm::sys::path::append(cubin, "kernels.cubin");
  if (cuobjdump.empty() || !llvm::sys::fs::exists(cubin))
    return reports;
  llvm::SmallString<256> sassPath;
  if (llvm::sys::fs::createTemporaryFile("prism-sass", "txt", sassPath))
    return reports;
  llvm::StringRef args[] = {cuobjdump, "--dump-sass", cubin};
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, sassPath.str(),
                                                sassPath.str()};
  if (llvm::sys::ExecuteAndWait(cuobjdump, args, std::nullopt, redirects) == 0) {
    auto buffer = llvm::MemoryBuffer::getFile(sassPath);
    if (buffer) {
      sassAvailable = true;
      for (auto &[name, body] : splitByFunction(
               (*buffer)->getBuffer().str(), std::regex(R"(Function : ([A-Za-z0-9_]+))")))
        for (const char *instruction : kSassInstructions)
          if (int n = countOccurrences(body, std::string(instruction) + "."))
            reports[name].sassInstructions[instruction] = n;
    }
  }
  llvm::sys::fs::remove(sassPath);
  return reports;
}

llvm::Expected<std::map<std::string, AmdKernelReport>>
readAmdReport(llvm::StringRef directory, llvm::StringRef chip) {
  llvm::SmallString<256> hsaco(directory), assembly(directory);
  llvm::sys::path::append(hsaco, "kernels.hsaco");
  llvm::sys::path::append(assembly, "kernels.s");
  llvm::SmallString<256> readobj(PRISM_LLVM_TOOLS_DIR);
  llvm::sys::path::append(readobj, "llvm-readobj");
  llvm::SmallString<256> notesPath;
  if (llvm::sys::fs::createTemporaryFile("prism-notes", "txt", notesPath))
    return llvm::createStringError("cannot create a temporary file");
  llvm::StringRef args[] = {readobj, "--notes", hsaco};
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, notesPath.str(),
                                                notesPath.str()};
  int status = llvm::sys::ExecuteAndWait(readobj, args, std::nullopt, redirects);
  auto notes = llvm::MemoryBuffer::getFile(notesPath);
  llvm::sys::fs::remove(notesPath);
  if (status != 0 || !notes)
    return llvm::createStringError("cannot read the code object notes of " + hsaco);

  // Each kernel's metadata map lists its fields alphabetically and ends
  // with .wavefront_size.
  std::map<std::string, AmdKernelReport> reports;
  std::regex field(R"(^\s+-?\s*\.([a-z_]+):\s+(\S+))");
  AmdKernelReport current;
  std::string name;
  std::istringstream lines((*notes)->getBuffer().str());
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, field))
      continue;
    std::string key = m[1], value = m[2];
    auto number = [&] { return std::atoi(value.c_str()); };
    if (key == "name") name = value;
    else if (key == "vgpr_count") current.vgprs = number();
    else if (key == "sgpr_count") current.sgprs = number();
    else if (key == "agpr_count") current.agprs = number();
    else if (key == "vgpr_spill_count") current.vgprSpills = number();
    else if (key == "sgpr_spill_count") current.sgprSpills = number();
    else if (key == "group_segment_fixed_size") current.ldsBytes = number();
    else if (key == "wavefront_size") {
      current.wavefrontSize = number();
      if (!name.empty() && current.vgprs >= 0)
        reports[name] = current;
      current = AmdKernelReport();
      name.clear();
    }
  }
  bool gfx11 = chip.starts_with("gfx11");
  for (auto &[kernel, r] : reports) {
    int granule = gfx11 ? 16 : 8, budget = gfx11 ? 1536 : 512,
        cap = gfx11 ? 16 : 8;
    int used = std::max(1, r.vgprs + r.agprs);
    used = (used + granule - 1) / granule * granule;
    r.vgprLimitedWaves = std::min(cap, budget / used);
  }

  auto text = llvm::MemoryBuffer::getFile(assembly);
  if (text)
    for (auto &[kernel, body] : splitByFunction(
             (*text)->getBuffer().str(), std::regex(R"(^([A-Za-z0-9_]+):\s*$)")))
      if (reports.count(kernel))
        // gfx11 spells the LDS accesses ds_load/ds_store; both count as
        // ds_read/ds_write.
        for (auto [column, spellings] :
             std::initializer_list<std::pair<const char *, std::vector<const char *>>>{
                 {"v_mfma", {"v_mfma"}},
                 {"v_wmma", {"v_wmma"}},
                 {"ds_read", {"ds_read", "ds_load"}},
                 {"ds_write", {"ds_write", "ds_store"}},
                 {"global_load", {"global_load"}},
                 {"s_barrier", {"s_barrier"}}}) {
          int n = 0;
          for (const char *spelling : spellings)
            n += countOccurrences(body, spelling);
          if (n)
            reports[kernel].instructions[column] = n;
        }
  return reports;
}

} // namespace prism
