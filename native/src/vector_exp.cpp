#include "vector_exp.h"

#include <cmath>

#include "simd.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace soapix {
namespace {

#if defined(__x86_64__) && defined(__GNUC__)
// e^x = 2^n e^r with n = round(x / ln 2), |r| <= ln(2)/2; e^r by a degree-13 Taylor polynomial
// (truncation error < 1e-17 there); 2^n built directly in the exponent bits.
SOAPIX_TARGET_AVX2 inline __m256d exp4(__m256d x) {
  const __m256d lo = _mm256_set1_pd(-708.0), hi = _mm256_set1_pd(709.0);
  x = _mm256_min_pd(_mm256_max_pd(x, lo), hi);
  const __m256d n = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(1.4426950408889634)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(6.93147180369123816490e-01), x);
  r = _mm256_fnmadd_pd(n, _mm256_set1_pd(1.90821492927058770002e-10), r);
  static const double c[] = {1.0 / 6227020800.0,
                             1.0 / 479001600.0,
                             1.0 / 39916800.0,
                             1.0 / 3628800.0,
                             1.0 / 362880.0,
                             1.0 / 40320.0,
                             1.0 / 5040.0,
                             1.0 / 720.0,
                             1.0 / 120.0,
                             1.0 / 24.0,
                             1.0 / 6.0,
                             0.5,
                             1.0,
                             1.0};
  __m256d p = _mm256_set1_pd(c[0]);
  for (int i = 1; i < 14; ++i) p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(c[i]));
  // 2^n: (n + 1023) << 52 as the bits of a double; n is an exact integer in [-1022, 1023].
  const __m256d magic = _mm256_set1_pd(6755399441055744.0);  // 2^52 + 2^51
  const __m256i ni = _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(n, magic)), _mm256_castpd_si256(magic));
  const __m256i bits = _mm256_slli_epi64(_mm256_add_epi64(ni, _mm256_set1_epi64x(1023)), 52);
  return _mm256_mul_pd(p, _mm256_castsi256_pd(bits));
}

// The same with 8 lanes and the AVX-512 rounding instruction; the same bits as exp4.
SOAPIX_TARGET_AVX512 inline __m512d exp8(__m512d x) {
  const __m512d lo = _mm512_set1_pd(-708.0), hi = _mm512_set1_pd(709.0);
  x = _mm512_min_pd(_mm512_max_pd(x, lo), hi);
  const __m512d n = _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(1.4426950408889634)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(6.93147180369123816490e-01), x);
  r = _mm512_fnmadd_pd(n, _mm512_set1_pd(1.90821492927058770002e-10), r);
  static const double c[] = {1.0 / 6227020800.0,
                             1.0 / 479001600.0,
                             1.0 / 39916800.0,
                             1.0 / 3628800.0,
                             1.0 / 362880.0,
                             1.0 / 40320.0,
                             1.0 / 5040.0,
                             1.0 / 720.0,
                             1.0 / 120.0,
                             1.0 / 24.0,
                             1.0 / 6.0,
                             0.5,
                             1.0,
                             1.0};
  __m512d p = _mm512_set1_pd(c[0]);
  for (int i = 1; i < 14; ++i) p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(c[i]));
  const __m512d magic = _mm512_set1_pd(6755399441055744.0);  // 2^52 + 2^51
  const __m512i ni = _mm512_sub_epi64(_mm512_castpd_si512(_mm512_add_pd(n, magic)), _mm512_castpd_si512(magic));
  const __m512i bits = _mm512_slli_epi64(_mm512_add_epi64(ni, _mm512_set1_epi64(1023)), 52);
  return _mm512_mul_pd(p, _mm512_castsi512_pd(bits));
}

SOAPIX_TARGET_AVX2 void expRowsAvx2(const double* a, int width, const double* r2, int J, long rs, double* rows) {
  for (int j = 0; j < J; ++j) {
    const __m256d r = _mm256_set1_pd(r2[j]);
    double* row = rows + j * rs;
    for (int i = 0; i < width; i += 4) _mm256_storeu_pd(row + i, exp4(_mm256_mul_pd(_mm256_loadu_pd(a + i), r)));
  }
}

SOAPIX_TARGET_AVX512 void expRowsAvx512(const double* a, int width, const double* r2, int J, long rs, double* rows) {
  for (int j = 0; j < J; ++j) {
    const __m512d r = _mm512_set1_pd(r2[j]);
    double* row = rows + j * rs;
    for (int i = 0; i < width; i += 8) _mm512_storeu_pd(row + i, exp8(_mm512_mul_pd(_mm512_loadu_pd(a + i), r)));
  }
}
#endif

void expRowsBaseline(const double* a, int width, const double* r2, int J, long rs, double* rows) {
  for (int j = 0; j < J; ++j)
    for (int i = 0; i < width; ++i) rows[j * rs + i] = std::exp(a[i] * r2[j]);
}

}  // namespace

void expRows(const double* a, int width, const double* r2, int J, long rs, double* rows) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const int path = cpuHasAvx512() ? 2 : cpuHasAvx2() ? 1 : 0;
  if (path == 2) return expRowsAvx512(a, width, r2, J, rs, rows);
  if (path == 1) return expRowsAvx2(a, width, r2, J, rs, rows);
#endif
  expRowsBaseline(a, width, r2, J, rs, rows);
}

}  // namespace soapix
