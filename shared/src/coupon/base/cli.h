#pragma once

#include "coupon/base/settings.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <optional>

namespace coupon {

// Exit codes shared by every binary.
enum ExitCode : int {
    ExitOk = 0,
    ExitCheckFailed = 1,
    ExitUsage = 2, // bad usage or configuration
};

// The options every binary understands: --help, --version, --config FILE,
// --set key=value (repeatable), --print-config.
class CommonCommandLine
{
public:
    CommonCommandLine(const QString &description);

    QCommandLineParser &parser() { return m_parser; }

    // Parses the arguments, handles --help/--version/--print-config, loads the
    // settings. On std::nullopt the caller exits with *exitCode; a message has
    // already been printed (one clear line on stderr for errors).
    std::optional<Settings> process(const QCoreApplication &app, int *exitCode);

private:
    QCommandLineParser m_parser;
    QCommandLineOption m_configOption;
    QCommandLineOption m_setOption;
    QCommandLineOption m_printConfigOption;
};

} // namespace coupon
