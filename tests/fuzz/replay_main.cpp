// Runs a libFuzzer harness without libFuzzer: every file in the seed directories, then a fixed
// number of deterministic pseudo-random mutations of them. Lets ordinary (and sanitizer) builds
// exercise each harness in ctest; the fuzz preset links the real libFuzzer instead.
// Usage: harness [-mutations=N] SEED_DIR... (N defaults to 20000; harnesses whose every input writes the state
// file take fewer, since the sanitizer build runs them in ctest too).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  std::vector<std::vector<std::uint8_t>> seeds;
  long mutations = 20000;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("-mutations=")) {
      mutations = std::strtol(argv[i] + arg.find('=') + 1, nullptr, 10);
      continue;
    }
    std::error_code ec;
    for (auto& entry : std::filesystem::directory_iterator(argv[i], ec)) {
      std::ifstream in(entry.path(), std::ios::binary);
      seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  if (seeds.empty()) seeds.push_back({});
  for (auto& seed : seeds) LLVMFuzzerTestOneInput(seed.data(), seed.size());
  std::mt19937 rng(1234);
  for (long round = 0; round < mutations; ++round) {
    auto input = seeds[rng() % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 4) {
        case 0: if (!input.empty()) input[rng() % input.size()] = static_cast<std::uint8_t>(rng()); break;
        case 1: input.insert(input.begin() + (input.empty() ? 0 : rng() % input.size()), static_cast<std::uint8_t>(rng())); break;
        case 2: if (!input.empty()) input.erase(input.begin() + rng() % input.size()); break;
        case 3: if (!input.empty()) input.resize(rng() % input.size()); break;
      }
    }
    LLVMFuzzerTestOneInput(input.data(), input.size());
  }
  std::printf("replayed %zu seeds and %ld mutations\n", seeds.size(), mutations);
  return 0;
}
