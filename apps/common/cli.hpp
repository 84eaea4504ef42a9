#pragma once

// What the three binaries share on the command line: CLI11 set-up, one-line errors, exit codes.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "exit_code.hpp"
#include "ntpkit/version.hpp"

namespace ntpkit::apps {

/// CLI11's help, with each option group (CLI::App::add_option_group) shown as a section of
/// its own ("Keys:"), indented like the other options, instead of as a nested sub-help.
class sectioned_formatter : public CLI::Formatter {
 public:
  std::string make_expanded(const CLI::App* group) const override {
    return make_group(group->get_group(), false,
                      group->get_options([](const CLI::Option* o) { return o->nonpositional(); }));
  }
};

/// Common CLI11 set-up: -h/--help, -V/--version, options shown with their long names.
inline void configure(CLI::App& app) {
  app.formatter(std::make_shared<sectioned_formatter>());
  app.set_help_flag("-h,--help", "print this help and exit");
  app.set_version_flag("-V,--version", std::string(app.get_name()) + " " + version_string,
                       "print the version and exit");
  app.get_formatter()->column_width(34);
}

/// Parses argv. Returns an exit code when the program should stop now: 0 after --help or
/// --version, exit_code::usage after one line on stderr naming the problem.
inline std::optional<int> parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s: %s (see --help)\n", app.get_name().c_str(), e.what());
    return exit_code::usage;
  }
  return std::nullopt;
}

/// Prints "NAME: MESSAGE" on stderr and returns exit_code::usage.
inline int usage_error(const CLI::App& app, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", app.get_name().c_str(), message.c_str());
  return exit_code::usage;
}

}  // namespace ntpkit::apps
