// GTO expansion coefficients in float32 (gto_kernel.h):
//   c[g][lm][n] = sum_{j in g} (G_nl(r_j^2) r_j^l) w_j Y_lm(d_j / r_j),
// the float64 formula with r^l moved from the harmonics into the radial table, so that both float32
// factors are of order one (r^l alone reaches 1e18 at the paper's rCut 63 and l = 10, and overflows
// float32 for larger cutoffs). The table is computed in float64 (the basis and the beta matrices
// stay exact) and rounded once; the sum over neighbours runs in float32 (error ~ sqrt(J) * 6e-8 of
// the sum of magnitudes). Centres with a non-integer squared distance have no float32 form here.
#include <algorithm>
#include <cmath>

#include "contraction.h"
#include "gto_kernel.h"
#include "simd.h"

namespace soapix {
namespace {

// u = d / |d| in float32 and the table row of each neighbour (r2 is an integer here, exact in
// float32). The loop is compiled per instruction set so that the compiler vectorises it with the
// widest one; the results are the same on every path (IEEE division and square root).
SOAPIX_INLINE void unitVectorsImpl(const double* dx, const double* dy, const double* dz, const double* r2, int J,
                                   float* ux, float* uy, float* uz, int32_t* idx) {
#pragma omp simd
  for (int j = 0; j < J; ++j) {
    const float r2f = static_cast<float>(r2[j]);
    const float inv = r2f > 0.0f ? 1.0f / std::sqrt(r2f) : 0.0f;
    ux[j] = static_cast<float>(dx[j]) * inv;
    uy[j] = static_cast<float>(dy[j]) * inv;
    uz[j] = static_cast<float>(dz[j]) * inv;
    idx[j] = static_cast<int32_t>(r2[j]);
  }
}
using UnitVectorsFn = void (*)(const double*, const double*, const double*, const double*, int, float*, float*, float*,
                               int32_t*);
#if defined(__x86_64__) && defined(__GNUC__)
SOAPIX_TARGET_AVX512 void unitVectorsAvx512(const double* dx, const double* dy, const double* dz, const double* r2,
                                            int J, float* ux, float* uy, float* uz, int32_t* idx) {
  unitVectorsImpl(dx, dy, dz, r2, J, ux, uy, uz, idx);
}
SOAPIX_TARGET_AVX2 void unitVectorsAvx2(const double* dx, const double* dy, const double* dz, const double* r2, int J,
                                        float* ux, float* uy, float* uz, int32_t* idx) {
  unitVectorsImpl(dx, dy, dz, r2, J, ux, uy, uz, idx);
}
#endif
void unitVectorsBaseline(const double* dx, const double* dy, const double* dz, const double* r2, int J, float* ux,
                         float* uy, float* uz, int32_t* idx) {
  unitVectorsImpl(dx, dy, dz, r2, J, ux, uy, uz, idx);
}
const UnitVectorsFn kUnitVectors =
#if defined(__x86_64__) && defined(__GNUC__)
    cpuHasAvx512() ? unitVectorsAvx512
    : cpuHasAvx2() ? unitVectorsAvx2
                   :
#endif
                   unitVectorsBaseline;

}  // namespace

const float* GtoKernel::radialTableF32() const {
  std::call_once(tableF32Once_, [this] {
    const double* table = radialTable();
    const int L = lMax_ + 1;
    const long long T = tableMax_ + 1;
    tableF32_.assign(static_cast<size_t>(T) * L * NP_, 0.0f);
    for (long long r = 0; r < T; ++r) {
      const double rr = std::sqrt(static_cast<double>(r));
      double rl = 1.0;  // r^l (0^0 = 1: an atom on the centre contributes to l = 0 only)
      for (int l = 0; l < L; ++l, rl *= rr) {
        const long row = (r * L + l) * NP_;
        for (int n = 0; n < nMax_; ++n) tableF32_[row + n] = static_cast<float>(table[row + n] * rl);
      }
    }
  });
  return tableF32_.data();
}

bool GtoKernel::computeF32(const NeighbourList& nb, float* out, Workspace& ws) const {
  const int G = nb.numGroups();
  const int L = lMax_ + 1, LL = L * L, NP = NP_;
  if (!onTable(nb)) return false;
  const int J = nb.count();
  const int S = std::max(padVec(J), kVecPad);
  // Unit vectors (the zero vector for a neighbour on the centre), zero-padded, and table rows.
  ws.fa.resize(static_cast<size_t>(3) * S);
  float* ux = ws.fa.data();
  float* uy = ux + S;
  float* uz = uy + S;
  ws.idx.resize(S);
  int32_t* idx = ws.idx.data();
  kUnitVectors(nb.dx.data(), nb.dy.data(), nb.dz.data(), nb.r2.data(), J, ux, uy, uz, idx);
  for (int j = J; j < S; ++j) ux[j] = uy[j] = uz[j] = 0.0f, idx[j] = 0;
  ws.fb.resize(static_cast<size_t>(LL + 5) * S);
  float* Y = ws.fb.data();
  harmonics_.computeUnitF32(ux, uy, uz, J, S, Y, Y + static_cast<size_t>(LL) * S);
  if (!nb.unitWeights)
    for (int lm = 0; lm < LL; ++lm)
      for (int j = 0; j < J; ++j) Y[static_cast<long>(lm) * S + j] *= static_cast<float>(nb.w[j]);
  const float* table = radialTableF32();
  const long rs = static_cast<long>(L) * NP;
  for (int g = 0; g < G; ++g) {
    float* cg = out + static_cast<long>(g) * LL * NP;
    const int b = nb.begin[g], Jg = nb.begin[g + 1] - b;
    if (Jg == 0) {
      std::fill(cg, cg + static_cast<long>(LL) * NP, 0.0f);
      continue;
    }
    for (int l = 0; l < L; ++l)
      contract(Rows<float>{table + l * NP, rs, idx + b}, Jg, Y + static_cast<long>(l * l) * S + b, S, 1, 2 * l + 1, NP,
               cg + static_cast<long>(l * l) * NP);
  }
  return true;
}

}  // namespace soapix
