#include "coupon/base/cli.h"

#include "coupon/version.h"

#include <QTextStream>

#include <cstdio>

using namespace Qt::StringLiterals;

namespace coupon {

CommonCommandLine::CommonCommandLine(const QString &description)
    : m_configOption(u"config"_s, u"INI settings file (default: $COUPON_CONFIG)."_s, u"file"_s)
    , m_setOption(u"set"_s, u"Override one setting, e.g. --set redis.port=6380. Repeatable."_s, u"key=value"_s)
    , m_printConfigOption(u"print-config"_s, u"Print the effective settings (secrets masked) and exit."_s)
{
    m_parser.setApplicationDescription(description);
    m_parser.addHelpOption();
    m_parser.addVersionOption();
    m_parser.addOption(m_configOption);
    m_parser.addOption(m_setOption);
    m_parser.addOption(m_printConfigOption);
}

std::optional<Settings> CommonCommandLine::process(const QCoreApplication &app, int *exitCode)
{
    QTextStream err(stderr);
    const QString name = QCoreApplication::applicationName();
    // parse() rather than process(): a usage error must exit 2, not 1.
    if (!m_parser.parse(app.arguments())) {
        err << name << ": " << m_parser.errorText() << " (see --help)\n";
        *exitCode = ExitUsage;
        return std::nullopt;
    }
    if (m_parser.isSet(u"help"_s)) {
        QTextStream(stdout) << m_parser.helpText();
        *exitCode = ExitOk;
        return std::nullopt;
    }
    if (m_parser.isSet(u"version"_s)) {
        QTextStream(stdout) << name << ' ' << QString::fromLatin1(kVersion) << '\n';
        *exitCode = ExitOk;
        return std::nullopt;
    }

    SettingsSources sources;
    sources.environment = QProcessEnvironment::systemEnvironment();
    sources.iniPath = m_parser.isSet(m_configOption) ? m_parser.value(m_configOption)
                                                     : sources.environment.value(u"COUPON_CONFIG"_s);
    const QStringList sets = m_parser.values(m_setOption);
    for (const QString &assignment : sets) {
        const qsizetype eq = assignment.indexOf(u'=');
        if (eq <= 0) {
            err << name << ": --set expects key=value, got \"" << assignment << "\"\n";
            *exitCode = ExitUsage;
            return std::nullopt;
        }
        sources.overrides.emplace_back(assignment.left(eq).trimmed(), assignment.mid(eq + 1));
    }

    Result<Settings> settings = Settings::load(sources);
    if (!settings) {
        err << name << ": " << settings.error().message << '\n';
        *exitCode = ExitUsage;
        return std::nullopt;
    }
    if (m_parser.isSet(m_printConfigOption)) {
        QTextStream out(stdout);
        const QStringList lines = settings->describe();
        for (const QString &line : lines)
            out << line << '\n';
        *exitCode = ExitOk;
        return std::nullopt;
    }
    *exitCode = ExitOk;
    return std::move(settings).value();
}

} // namespace coupon
