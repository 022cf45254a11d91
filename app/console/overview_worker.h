#pragma once

#include "types.h"
#include "workers.h"

#include <QObject>

#include <memory>

class QTimer;

namespace coupon::console {

// Every campaign at a glance (CampaignOps::overview: one MySQL query for the
// campaigns, one grouped for their unresolved failed events, one Redis
// pipeline for all their keys, one look at the lag) every interval, and the
// focused campaign's oldest pending reservations with it. Its own
// CampaignOps: a slow audit or settle on the ops thread never holds it up.
class OverviewWorker final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OverviewWorker)

public:
    explicit OverviewWorker(const Settings &settings, QObject *parent = nullptr);
    ~OverviewWorker() override;

public slots:
    void start(int intervalMs);
    // Reads now (and restarts the interval).
    void refresh();
    // The campaign whose oldest `window` pending reservations are read with
    // each overview; read at once. Empty: none.
    void setFocus(const QString &campaign, int window);

signals:
    void sampled(const coupon::CampaignsOverview &overview);
    void failed(const QString &error);
    void reservationsSampled(const coupon::console::ReservationsSample &sample);

private:
    void readReservations();

    WorkerCampaignOps m_ops;
    bool m_started = false;
    QTimer *m_timer = nullptr;
    QString m_focus;
    int m_window = 0;
};

} // namespace coupon::console
