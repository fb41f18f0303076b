// mesimctl: the command line over mesim's control API (docs/control-api.md).
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "tools/mesimctl/commands.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const char* url = std::getenv("MESIMCTL_URL");
  return mesim::ctl::runMesimctl(args, url ? url : "", std::cout, std::cerr);
}
