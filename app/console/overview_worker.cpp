#include "overview_worker.h"

#include "coupon/mysql/sql_errors.h"
#include "coupon/service/campaigns.h"

#include <QTimer>

using namespace Qt::StringLiterals;

namespace coupon::console {

OverviewWorker::OverviewWorker(const Settings &settings, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
{ }

OverviewWorker::~OverviewWorker() = default;

void OverviewWorker::start(int intervalMs)
{
    m_ops = std::make_unique<CampaignOps>(m_settings, u"coupon-console-overview"_s);
    // Single shot, restarted after each reading: a slow one never piles up.
    m_timer = new QTimer(this);
    m_timer->setSingleShot(true);
    m_timer->setInterval(intervalMs);
    connect(m_timer, &QTimer::timeout, this, &OverviewWorker::refresh);
    refresh();
}

Status OverviewWorker::ensureConnected()
{
    if (m_connected)
        return Ok{};
    if (Status st = m_ops->connect(); !st)
        return st;
    m_connected = true;
    return Ok{};
}

void OverviewWorker::refresh()
{
    Status st = ensureConnected();
    if (st) {
        Result<CampaignsOverview> overview = m_ops->overview();
        if (overview)
            emit sampled(*overview);
        else
            st = overview.error();
    }
    if (!st) {
        // Reconnect next time when the connection is what failed.
        if (errors::isConnectionError(st.error()) || st.error().is(Errc::RedisUnavailable))
            m_connected = false;
        emit failed(st.error().message);
    }
    readReservations();
    m_timer->start();
}

void OverviewWorker::setFocus(const QString &campaign, int window)
{
    m_focus = campaign;
    m_window = window;
    readReservations();
}

void OverviewWorker::readReservations()
{
    if (m_focus.isEmpty() || !m_ops)
        return;
    ReservationsSample sample;
    sample.campaign = m_focus;
    Status st = ensureConnected();
    if (st) {
        Result<PendingPage> page = m_ops->pendingReservations(m_focus, 0, std::max(1, m_window));
        if (page)
            sample.page = *page;
        else
            st = page.error();
    }
    if (!st)
        sample.error = st.error().message;
    emit reservationsSampled(sample);
}

} // namespace coupon::console
