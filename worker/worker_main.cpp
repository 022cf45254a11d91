#include "coupon/cli.h"
#include "coupon/version.h"

#include <QCoreApplication>
#include <QTextStream>

using namespace Qt::StringLiterals;

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"coupon-worker"_s);
    QCoreApplication::setApplicationVersion(QString::fromLatin1(coupon::kVersion));

    coupon::CommonCommandLine cli(
        u"Consumes topic coupon_create (consumer group group_1) into MySQL."_s);
    int exitCode = 0;
    const auto settings = cli.process(app, &exitCode);
    if (!settings)
        return exitCode;

    // The consumer loop arrives with the issuing pipeline (issue #3); until
    // then the worker validates its configuration and says so.
    QTextStream(stderr) << "coupon-worker: configuration valid (topic " << settings->kafka.topic
                        << ", group " << settings->worker.group
                        << "); the consumer is not built yet\n";
    return coupon::ExitOk;
}
