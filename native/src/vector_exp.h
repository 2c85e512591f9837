// exp() over arrays, vectorised: rows[j * rs + i] = exp(a[i] * r2[j]) for i < width (width a multiple
// of 8). Used for the primitive Gaussians of off-grid points, where a scalar exp per (neighbour,
// l, k) would dominate. Accurate to ~2 ulp for arguments in [-708, 0]; smaller arguments give
// exp(-708) ~ 3e-308 instead of an underflow to 0, which is 1e-300 below any value that matters.
#pragma once

namespace soapix {

void expRows(const double* a, int width, const double* r2, int J, long rs, double* rows);

}  // namespace soapix
