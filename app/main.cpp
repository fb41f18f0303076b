#include <csignal>
#include <cstdio>
#include <iostream>

#include "app/config.h"
#include "app/process_shell.h"

extern char** environ;

int main(int argc, char** argv) {
  // A closed log pipe or peer must be an error on that write, never the end of the daemon.
  std::signal(SIGPIPE, SIG_IGN);
  auto parsed = mesim::app::parseConfig(argc, argv, environ);
  switch (parsed.action) {
    case mesim::app::ParseResult::Action::Help:
    case mesim::app::ParseResult::Action::Version:
      std::cout << parsed.message;
      return 0;
    case mesim::app::ParseResult::Action::Error:
      std::cerr << "mesim: " << parsed.message << "\n(see mesim --help)\n";
      return 2;
    case mesim::app::ParseResult::Action::Run: break;
  }
  mesim::app::ProcessShell shell(std::move(parsed.config));
  return shell.run();
}
