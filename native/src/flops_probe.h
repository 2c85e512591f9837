// Single-thread peak floating-point rate of this core: an FMA loop on the widest vector unit the
// CPU offers (dispatched at run time like simd.h), used by the benchmark to report the SOAP
// kernel's arithmetic rate as a fraction of what the hardware can do. No N-API here.
#pragma once
#include <string>

namespace soapix {

// Runs a double-precision FMA loop on the calling thread for about `seconds` (clamped to
// 0.01..10) and returns the best rate seen, in GFLOP/s (one FMA = 2 flops per lane).
// If `isa` is not null it receives the loop used: "avx512", "avx2" or "baseline" (SSE2 mul+add).
double measurePeakFmaGflops(double seconds, std::string* isa);

}  // namespace soapix
