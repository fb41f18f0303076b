// Micro-benchmarks of the HBM codec hot paths (Google Benchmark). The reference row is a plain
// memcpy of the same bytes, so the ratio shows what framing costs over moving the data.
#include <benchmark/benchmark.h>

#include <cstring>

#include "hostif/link/hbm_wire.h"

namespace {

void BM_ReferenceMemcpy(benchmark::State& state) {
  mesim::hbm::Bytes in(static_cast<std::size_t>(state.range(0)), 0x5a), out(in.size());
  for (auto _ : state) {
    std::memcpy(out.data(), in.data(), in.size());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void BM_FragmentAndReassemble(benchmark::State& state) {
  mesim::hbm::Bytes message(static_cast<std::size_t>(state.range(0)), 0x5a);
  mesim::hbm::Reassembler reassembler;
  mesim::hbm::Bytes out;
  for (auto _ : state) {
    for (auto& frame : mesim::hbm::fragment(1, 2, message, 128)) reassembler.add(frame, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void BM_HeaderPackUnpack(benchmark::State& state) {
  std::uint32_t raw = 0x81ab3412u;
  for (auto _ : state) {
    auto h = mesim::hbm::MsgHeader::unpack(raw);
    raw = h.pack() ^ 1u;
    benchmark::DoNotOptimize(raw);
  }
}

BENCHMARK(BM_ReferenceMemcpy)->Arg(12)->Arg(4096);
BENCHMARK(BM_FragmentAndReassemble)->Arg(12)->Arg(4096);
BENCHMARK(BM_HeaderPackUnpack);

}  // namespace

BENCHMARK_MAIN();
