#include "coupon/cli.h"
#include "coupon/version.h"

#include <QCoreApplication>
#include <QTextStream>

using namespace Qt::StringLiterals;

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"couponctl"_s);
    QCoreApplication::setApplicationVersion(QString::fromLatin1(coupon::kVersion));

    coupon::CommonCommandLine cli(u"Operate coupon campaigns from a shell."_s);
    cli.parser().addPositionalArgument(u"command"_s, u"What to do (see --help)."_s);
    int exitCode = 0;
    const auto settings = cli.process(app, &exitCode);
    if (!settings)
        return exitCode;

    const QStringList args = cli.parser().positionalArguments();
    if (args.isEmpty()) {
        QTextStream(stderr) << "couponctl: a command is required (see --help)\n";
        return coupon::ExitUsage;
    }
    QTextStream(stderr) << "couponctl: unknown command \"" << args.first() << "\" (see --help)\n";
    return coupon::ExitUsage;
}
