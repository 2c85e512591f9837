// The power spectrum of one pair of density groups when nMax <= 8 (power_spectrum_n8.cpp): every l
// of the block in one call, accumulators in registers. c1, c2: [lm][8]; writes (for each l, n, n')
// the block's features to out and returns the position after them, or returns nullptr (writing
// nothing) where this form does not pay (then the general kernel runs).
#pragma once

namespace soapix {

double* powerBlockN8(int nMax, int lMax, const double* pref, const double* c1, const double* c2, bool triangle,
                     double* out);
float* powerBlockN8(int nMax, int lMax, const double* pref, const float* c1, const float* c2, bool triangle,
                    float* out);

}  // namespace soapix
