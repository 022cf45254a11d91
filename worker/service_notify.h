#pragma once

#include <QObject>
#include <QString>
#include <QTimer>

#include <functional>

namespace coupon {

// What systemd is told about a service (sd_notify(3); nothing when it does
// not run under systemd, i.e. NOTIFY_SOCKET is unset): READY=1 once the
// process really serves, STATUS= lines as its state changes, STOPPING=1,
// and WATCHDOG=1 every half of WatchdogSec from this thread's event loop,
// only while `healthy` says so, so a hung loop (or whatever `healthy`
// watches) gets the process restarted.
class ServiceNotifier : public QObject
{
public:
    explicit ServiceNotifier(QObject *parent = nullptr);

    // READY=1 the first time, with the status; later calls update STATUS only.
    void ready(const QString &status);
    // STATUS=, when it differs from the last one sent.
    void status(const QString &status);
    void stopping(const QString &status);
    // Starts the pings when systemd asked for them (WATCHDOG_USEC).
    void startWatchdog(std::function<bool()> healthy);
    bool isReady() const { return m_ready; }

private:
    void send(const QString &state);

    QTimer m_watchdog;
    QString m_status;
    bool m_ready = false;
};

} // namespace coupon
