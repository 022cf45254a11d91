#include "service_notify.h"

#include <systemd/sd-daemon.h>

namespace coupon {

ServiceNotifier::ServiceNotifier(QObject *parent)
    : QObject(parent)
{ }

void ServiceNotifier::send(const QString &state)
{
    sd_notify(0, state.toUtf8().constData());
}

namespace {
// A newline would start a field of its own: a status is one line.
QString oneLine(const QString &status)
{
    return QString(status).replace(u'\n', u' ');
}
} // namespace

void ServiceNotifier::ready(const QString &status)
{
    if (m_ready)
        return this->status(status);
    m_ready = true;
    m_status = status;
    send(QStringLiteral("READY=1\nSTATUS=") + oneLine(status));
}

void ServiceNotifier::status(const QString &status)
{
    if (status == m_status)
        return;
    m_status = status;
    send(QStringLiteral("STATUS=") + oneLine(status));
}

void ServiceNotifier::stopping(const QString &status)
{
    m_status = status;
    send(QStringLiteral("STOPPING=1\nSTATUS=") + oneLine(status));
}

void ServiceNotifier::startWatchdog(std::function<bool()> healthy)
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return;
    m_watchdog.setInterval(int(std::max<uint64_t>(usec / 2000, 1)));
    connect(&m_watchdog, &QTimer::timeout, this, [this, healthy = std::move(healthy)] {
        if (healthy())
            sd_notify(0, "WATCHDOG=1");
    });
    m_watchdog.start();
}

} // namespace coupon
