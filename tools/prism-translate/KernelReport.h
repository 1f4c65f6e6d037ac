//===- KernelReport.h - What the GPU assembler made of each kernel -*- C++ -*-===//

#ifndef PRISM_TOOLS_PRISM_TRANSLATE_KERNELREPORT_H
#define PRISM_TOOLS_PRISM_TRANSLATE_KERNELREPORT_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <map>
#include <string>
#include <vector>

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
  /// ptxas's coded notes on the kernel ("(C7512) Potential Performance
  /// Loss: wgmma.mma_async instructions are serialized due to ..."), as
  /// ptxas -v prints them, without the kernel's name.
  std::vector<std::string> notes;
};

/// Reads ptxas.log, kernels.ptx and, with cuobjdump, kernels.cubin of the
/// bundle in `directory`. `sassAvailable` tells whether SASS was read.
llvm::Expected<std::map<std::string, KernelReport>>
readNvidiaReport(llvm::StringRef directory, bool &sassAvailable);

/// One kernel of an AMD bundle, from the code object's metadata notes
/// (llvm-readobj) and the GCN assembly.
struct AmdKernelReport {
  int vgprs = -1, sgprs = -1, agprs = 0;
  int vgprSpills = 0, sgprSpills = 0;
  int ldsBytes = 0;
  int wavefrontSize = 64;
  /// Waves per SIMD that the VGPRs allow (gfx9: 512 VGPRs per lane shared
  /// with AGPRs, granule 8, at most 8 waves; gfx11: 1536, granule 16, at
  /// most 16); LDS and the rest of the CU are not modelled.
  int vgprLimitedWaves = 0;
  std::map<std::string, int> instructions; // v_mfma, v_wmma, ds_read, ...
};

llvm::Expected<std::map<std::string, AmdKernelReport>>
readAmdReport(llvm::StringRef directory, llvm::StringRef chip);

} // namespace prism

#endif // PRISM_TOOLS_PRISM_TRANSLATE_KERNELREPORT_H
