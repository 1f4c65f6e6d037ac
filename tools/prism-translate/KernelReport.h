//===- KernelReport.h - What the GPU assembler made of each kernel -*- C++ -*-===//

#ifndef PRISM_TOOLS_PRISM_TRANSLATE_KERNELREPORT_H
#define PRISM_TOOLS_PRISM_TRANSLATE_KERNELREPORT_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <map>
#include <string>

namespace prism {

/// One kernel of an NVIDIA bundle, from ptxas -v, the PTX and (when
/// cuobjdump is available) the SASS.
struct KernelReport {
  int registers = -1;
  int spillStores = 0, spillLoads = 0;
  int sharedBytes = 0;
  int stackBytes = 0;
  std::map<std::string, int> ptxInstructions;  // mma.sync, wgmma, cp.async, ...
  std::map<std::string, int> sassInstructions; // HMMA, HGMMA, ...
};

/// Reads ptxas.log, kernels.ptx and, with cuobjdump, kernels.cubin of the
/// bundle in `directory`. `sassAvailable` tells whether SASS was read.
llvm::Expected<std::map<std::string, KernelReport>>
readNvidiaReport(llvm::StringRef directory, bool &sassAvailable);

} // namespace prism

#endif // PRISM_TOOLS_PRISM_TRANSLATE_KERNELREPORT_H
