#include "flops_probe.h"

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "simd.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace soapix {
namespace {

// 12 independent accumulators: enough to cover FMA latency (4-5 cycles) times the number of FMA
// ports (2) on current x86 cores, and few enough to stay in registers (12 + 2 of 16 ymm).
constexpr int kAcc = 12;
// Each accumulator runs acc = acc * a + b with 0 < a < 1: it converges to b / (1 - a), so values
// stay normal (no overflow, no denormals) however long the loop runs.

// The inputs come through volatile reads and the result leaves through a volatile store, so the
// compiler can neither precompute nor drop the loop (and without -ffast-math it may not
// reassociate the chain of FMAs).
volatile double g_seed = 0.5;
volatile double g_mul = 0.999999;
volatile double g_add = 1e-6;
volatile double g_sink = 0.0;

#if defined(__x86_64__) && defined(__GNUC__)
SOAPIX_TARGET_AVX512 double loopAvx512(long iters) {
  const __m512d a = _mm512_set1_pd(g_mul), b = _mm512_set1_pd(g_add);
  __m512d acc[kAcc];
  for (int k = 0; k < kAcc; ++k) acc[k] = _mm512_set1_pd(g_seed + k);
  for (long i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int k = 0; k < kAcc; ++k) acc[k] = _mm512_fmadd_pd(acc[k], a, b);
  }
  __m512d s = acc[0];
  for (int k = 1; k < kAcc; ++k) s = _mm512_add_pd(s, acc[k]);
  alignas(64) double t[8];
  _mm512_store_pd(t, s);
  return ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
}

SOAPIX_TARGET_AVX2 double loopAvx2(long iters) {
  const __m256d a = _mm256_set1_pd(g_mul), b = _mm256_set1_pd(g_add);
  __m256d acc[kAcc];
  for (int k = 0; k < kAcc; ++k) acc[k] = _mm256_set1_pd(g_seed + k);
  for (long i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int k = 0; k < kAcc; ++k) acc[k] = _mm256_fmadd_pd(acc[k], a, b);
  }
  __m256d s = acc[0];
  for (int k = 1; k < kAcc; ++k) s = _mm256_add_pd(s, acc[k]);
  alignas(32) double t[4];
  _mm256_store_pd(t, s);
  return t[0] + t[1] + t[2] + t[3];
}
#endif

// Baseline: 2-lane vectors (SSE2 on x86-64), a multiply and an add per step (2 flops per lane,
// the same count as an FMA). Compiled without an FMA target, so they stay separate instructions.
__attribute__((optimize("fp-contract=off"))) double loopBaseline(long iters) {
  const double am = g_mul, ad = g_add;
  v2d a, b;
  a[0] = a[1] = am;
  b[0] = b[1] = ad;
  v2d acc[kAcc];
  for (int k = 0; k < kAcc; ++k) acc[k][0] = acc[k][1] = g_seed + k;
  for (long i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int k = 0; k < kAcc; ++k) acc[k] = acc[k] * a + b;
  }
  v2d s = acc[0];
  for (int k = 1; k < kAcc; ++k) s += acc[k];
  return s[0] + s[1];
}

}  // namespace

double measurePeakFmaGflops(double seconds, std::string* isa) {
  if (!(seconds >= 0.01)) seconds = 0.01;
  if (seconds > 10) seconds = 10;
  double (*loop)(long) = loopBaseline;
  int lanes = 2;
  const char* name = "baseline";
#if defined(__x86_64__) && defined(__GNUC__)
  if (cpuHasAvx512()) {
    loop = loopAvx512;
    lanes = 8;
    name = "avx512";
  } else if (cpuHasAvx2()) {
    loop = loopAvx2;
    lanes = 4;
    name = "avx2";
  }
#endif
  if (isa) *isa = name;
  using clock = std::chrono::steady_clock;
  const double flopsPerIter = 2.0 * lanes * kAcc;
  // Calibrate a block of ~2 ms, then run blocks until the time is up and keep the best block:
  // the first blocks warm up the vector unit (clock ramp, AVX-512 license), and on a shared
  // machine the best block is the one least disturbed by other work.
  long block = 1024;
  for (;;) {
    const auto t0 = clock::now();
    g_sink = g_sink + loop(block);
    const double dt = std::chrono::duration<double>(clock::now() - t0).count();
    if (dt >= 2e-3 || block >= (1L << 40)) break;
    block *= dt > 0 ? std::clamp(static_cast<long>(2.5e-3 / dt), 2L, 16L) : 16L;
  }
  double best = 0.0;
  const auto start = clock::now();
  do {
    const auto t0 = clock::now();
    g_sink = g_sink + loop(block);
    const double dt = std::chrono::duration<double>(clock::now() - t0).count();
    if (dt > 0) best = std::max(best, flopsPerIter * static_cast<double>(block) / dt);
  } while (std::chrono::duration<double>(clock::now() - start).count() < seconds);
  return best * 1e-9;
}

}  // namespace soapix
