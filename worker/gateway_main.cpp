#include "coupon/cli.h"
#include "coupon/version.h"

#include <QCoreApplication>
#include <QTextStream>

using namespace Qt::StringLiterals;

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"coupon-gateway"_s);
    QCoreApplication::setApplicationVersion(QString::fromLatin1(coupon::kVersion));

    coupon::CommonCommandLine cli(u"HTTP apply API for coupon campaigns."_s);
    int exitCode = 0;
    const auto settings = cli.process(app, &exitCode);
    if (!settings)
        return exitCode;

    // The HTTP API arrives with the gateway issue (#4).
    QTextStream(stderr) << "coupon-gateway: configuration valid; the HTTP API is not built yet\n";
    return coupon::ExitOk;
}
