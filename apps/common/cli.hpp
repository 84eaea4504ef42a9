#pragma once

// What the three binaries share on the command line: CLI11 set-up, one-line errors, exit codes.

#include <CLI/CLI.hpp>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "exit_code.hpp"
#include "output.hpp"
#include "ntpkit/report/format.hpp"
#include "ntpkit/version.hpp"

namespace ntpkit::apps {

/// Columns for --help: the terminal's width when stdout is one, else 80.
inline std::size_t help_width() {
  winsize w{};
  if (::isatty(STDOUT_FILENO) && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col >= 40) {
    return w.ws_col;
  }
  return 80;
}

/// `text` broken into lines of at most `width` columns at spaces ("\n" between them).
inline std::string wrap(const std::string& text, std::size_t width) {
  std::istringstream words(text);
  std::string out, line, word;
  while (words >> word) {
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  return out + line;
}

/// CLI11's help, for people: each option group (CLI::App::add_option_group) shown as a section
/// of its own ("Keys:") instead of a nested sub-help; descriptions wrapped to the terminal (80
/// columns when not a terminal); no "Excludes:" notes among the option names (the
/// descriptions and the man page say which options go together).
class sectioned_formatter : public CLI::Formatter {
 public:
  sectioned_formatter() = default;
  std::string make_expanded(const CLI::App* group) const override {
    return make_group(group->get_group(), false,
                      group->get_options([](const CLI::Option* o) { return o->nonpositional(); }));
  }
  std::string make_option_opts(const CLI::Option* opt) const override {
    std::string out;
    if (opt->get_type_size() == 0) return out;
    if (!opt->get_type_name().empty()) out += " " + opt->get_type_name();
    if (!opt->get_default_str().empty()) out += "=" + opt->get_default_str();
    if (opt->get_expected_max() == CLI::detail::expected_max_vector_size) out += " ...";
    return out;
  }
  std::string make_option_desc(const CLI::Option* opt) const override {
    const auto column = get_column_width();
    return wrap(opt->get_description(), width() > column + 20 ? width() - column : 20);
  }
  std::string make_description(const CLI::App* app) const override {
    return wrap(app->get_description(), width()) + "\n";
  }

 private:
  // Asked only when help is written: a run that prints no help makes no terminal calls.
  std::size_t width() const {
    if (width_ == 0) width_ = help_width();
    return width_;
  }
  mutable std::size_t width_ = 0;
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
    std::fprintf(stderr, "%s: %s (see --help)\n", app.get_name().c_str(),
                 report::terminal_safe(e.what()).c_str());
    return exit_code::usage;
  }
  return std::nullopt;
}

/// True when the command line asks for plugin mode (--nagios anywhere): a usage error is then
/// reported as the plugin's UNKNOWN.
inline bool asks_for_plugin_mode(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--nagios") return true;
  }
  return false;
}

/// Prints "NAME: MESSAGE" on stderr and returns exit_code::usage.
inline int usage_error(const CLI::App& app, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", app.get_name().c_str(),
               report::terminal_safe(message).c_str());
  return exit_code::usage;
}

/// A usage problem: one line on stderr and exit 2, or in plugin mode the line
/// "SERVICE UNKNOWN: MESSAGE" on stdout and exit 3.
inline int usage_problem(const CLI::App& app, bool plugin, const std::string& message,
                         const std::string& service) {
  if (!plugin) return usage_error(app, message);
  out().write(service + " UNKNOWN: " + report::terminal_safe(message) + "\n");
  return finish_output(app.get_name().c_str(), exit_code::plugin_unknown, true);
}

}  // namespace ntpkit::apps
