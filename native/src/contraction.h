// The small dense matrix product of the hot loops, in float64 and float32:
//   R[m * NP + n] = sum_{j < J} row_j[n] * Y[m * ysm + j * ysj]      (m < M, n < NP)
// row_j = base + (idx ? idx[j] : j) * rs: rows can be gathered straight from a table (idx) instead
// of being copied first. NP is a multiple of kLanes (8); a row is read up to NP values from its
// start. Register-blocked micro-kernels per instruction set, chosen at run time (simd.h).
#pragma once
#include <cstdint>

namespace soapix {

template <class T>
struct Rows {
  const T* base;
  long rs;                       // distance between rows (index units of T)
  const int32_t* idx = nullptr;  // row numbers; nullptr: rows 0, 1, 2, ...
};

void contract(const Rows<double>& rows, int J, const double* Y, long ysm, long ysj, int M, int NP, double* R);
void contract(const Rows<float>& rows, int J, const float* Y, long ysm, long ysj, int M, int NP, float* R);

}  // namespace soapix
