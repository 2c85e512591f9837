// Real spherical harmonics of unit vectors in float32 (spherical_harmonics.h, computeUnitF32): the
// recursion of harmonics_recursion.h with r^2 = 1 and float lanes, 8 per ymm (AVX2) or 16 per zmm
// (AVX-512) register, two register groups at a time; the portable path runs the array form.
#include "harmonics_recursion.h"
#include "simd.h"
#include "spherical_harmonics.h"

namespace soapix {
namespace {

using HarmonicsFnF = void (*)(const HarmonicsCoefficients&, const float*, const float*, const float*, const float*, int,
                              int, float*, float*);

#if defined(__x86_64__) && defined(__GNUC__)
SOAPIX_TARGET_AVX512 void harmonicsAvx512(const HarmonicsCoefficients& k, const float* x, const float* y,
                                          const float* z, const float* r2, int count, int stride, float* out, float*) {
  harmonicsChunks<Avx512OpsF, 2, true>(k, x, y, z, r2, count, stride, out);
}
SOAPIX_TARGET_AVX2 void harmonicsAvx2(const HarmonicsCoefficients& k, const float* x, const float* y, const float* z,
                                      const float* r2, int count, int stride, float* out, float*) {
  harmonicsChunks<Avx2OpsF, 2, true>(k, x, y, z, r2, count, stride, out);
}
#endif
void harmonicsBaseline(const HarmonicsCoefficients& k, const float* x, const float* y, const float* z, const float* r2,
                       int count, int stride, float* out, float* scratch) {
  harmonicsArrays<float>(k, x, y, z, r2, count, stride, out, scratch);
}
const HarmonicsFnF kHarmonicsF =
#if defined(__x86_64__) && defined(__GNUC__)
    cpuHasAvx512() ? harmonicsAvx512
    : cpuHasAvx2() ? harmonicsAvx2
                   :
#endif
                   harmonicsBaseline;

}  // namespace

void SolidHarmonics::computeUnitF32(const float* x, const float* y, const float* z, int count, int stride, float* out,
                                    float* scratch) const {
  const HarmonicsCoefficients k{lMax_, start_.data(), next_.data(), a_.data(), b_.data()};
  // r^2 = 1 for every point: the array form reads it from scratch, the register forms not at all.
  float* ones = scratch + 4 * static_cast<long>(stride);
  if (kHarmonicsF == harmonicsBaseline)
    for (int j = 0; j < count; ++j) ones[j] = 1.0f;
  kHarmonicsF(k, x, y, z, ones, count, stride, out, scratch);
}

}  // namespace soapix
