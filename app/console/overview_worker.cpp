#include "overview_worker.h"

#include "coupon/service/campaigns.h"

#include <QTimer>

using namespace Qt::StringLiterals;

namespace coupon::console {

OverviewWorker::OverviewWorker(const Settings &settings, QObject *parent)
    : QObject(parent)
    , m_ops(settings, u"coupon-console-overview"_s)
{ }

OverviewWorker::~OverviewWorker() = default;

void OverviewWorker::start(int intervalMs)
{
    m_started = true;
    // Single shot, restarted after each reading: a slow one never piles up.
    m_timer = new QTimer(this);
    m_timer->setSingleShot(true);
    m_timer->setInterval(intervalMs);
    connect(m_timer, &QTimer::timeout, this, &OverviewWorker::refresh);
    refresh();
}

void OverviewWorker::refresh()
{
    Status st = m_ops.ensureConnected();
    if (st) {
        Result<CampaignsOverview> overview = m_ops->overview();
        if (overview)
            emit sampled(*overview);
        else
            st = overview.error();
    }
    if (!st) {
        m_ops.noteError(st.error());
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
    if (m_focus.isEmpty() || !m_started)
        return;
    ReservationsSample sample;
    sample.campaign = m_focus;
    Status st = m_ops.ensureConnected();
    if (st) {
        Result<PendingPage> page = m_ops->pendingReservations(m_focus, 0, std::max(1, m_window));
        if (page)
            sample.page = *page;
        else
            st = page.error();
    }
    if (!st) {
        m_ops.noteError(st.error());
        sample.error = st.error().message;
    }
    emit reservationsSampled(sample);
}

} // namespace coupon::console
