// A small dense matrix product used by the hot loops, computed by register-blocked SIMD kernels:
//   R[m * NP + n] = sum_{j < J} rows[j * rs + n] * Y[m * S + j]   for m < M and n < NP,
// where NP is a multiple of kLanes (8). `rows` may be read up to NP values past n = nMax.
#pragma once

namespace soapix {

void contractRows(const double* rows, long rs, const double* Y, long S, int J, int M, int NP, double* R);

}  // namespace soapix
