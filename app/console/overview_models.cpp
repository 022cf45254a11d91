#include "overview_models.h"

#include <QDateTime>
#include <QFont>
#include <QLocale>
#include <QSet>

using namespace Qt::StringLiterals;

namespace coupon::console {

namespace {

QString number(qint64 n)
{
    return QLocale().toString(n);
}

QVariant numberAlignment()
{
    return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
}

QString shortTime(const QDateTime &t)
{
    return t.toLocalTime().toString(u"MM-dd HH:mm"_s);
}

QString windowText(const Campaign &c)
{
    if (!c.startsAt.isValid() && !c.endsAt.isValid())
        return QObject::tr("always");
    return u"%1 → %2"_s.arg(c.startsAt.isValid() ? shortTime(c.startsAt) : QString(),
                            c.endsAt.isValid() ? shortTime(c.endsAt) : QString());
}

} // namespace

QString durationText(qint64 ms)
{
    ms = std::max<qint64>(0, ms);
    if (ms < 1000)
        return QObject::tr("%1 ms").arg(ms);
    if (ms < 60'000)
        return QObject::tr("%1 s").arg(double(ms) / 1000.0, 0, 'f', 1);
    const qint64 s = ms / 1000;
    if (s < 3600)
        return QObject::tr("%1 min %2 s").arg(s / 60).arg(s % 60, 2, 10, QChar(u'0'));
    return QObject::tr("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QChar(u'0'));
}

QString toString(CampaignHealth::Verdict verdict)
{
    switch (verdict) {
    case CampaignHealth::Error: return QObject::tr("error");
    case CampaignHealth::Attention: return QObject::tr("attention");
    case CampaignHealth::Reconciling: return QObject::tr("reconciling");
    case CampaignHealth::NotLoaded: return QObject::tr("not loaded");
    case CampaignHealth::Draining: return QObject::tr("draining");
    case CampaignHealth::SoldOut: return QObject::tr("sold out");
    case CampaignHealth::Ok: return QObject::tr("ok");
    case CampaignHealth::Closed: return QObject::tr("closed");
    }
    return {};
}

QColor healthColor(CampaignHealth::Verdict verdict)
{
    // The service bar's and the lag badge's colours, blue for work under way.
    switch (verdict) {
    case CampaignHealth::Error: return {0xc6, 0x28, 0x28};
    case CampaignHealth::Attention: return {0xef, 0x8f, 0x00};
    case CampaignHealth::Reconciling: return {0x6a, 0x1b, 0x9a};
    case CampaignHealth::Draining: return {0x15, 0x65, 0xc0};
    case CampaignHealth::SoldOut:
    case CampaignHealth::Ok: return {0x2e, 0x7d, 0x32};
    case CampaignHealth::NotLoaded:
    case CampaignHealth::Closed: break;
    }
    return {0x75, 0x75, 0x75};
}

qint64 inFlight(const CampaignOverview &c)
{
    if (!c.redisLoaded || c.redisCount < 0)
        return 0;
    return std::max<qint64>(0, c.redisCount - c.campaign.issued);
}

QString reconcileText(const CampaignOverview &c, qint64 redisNowMs, qint64 deliveryTimeoutMs)
{
    if (c.maintenance)
        return QObject::tr("an operator's reset or rebuild runs (couponctl or the console's Reset)");
    const bool reconciling = (c.redisLoaded && !c.redisCurrent) || (!c.redisLoaded && c.campaign.state == u"open"_s);
    if (!reconciling)
        return {};
    const ReconcileProgress &p = c.reconcile;
    if (p.step.isEmpty())
        return QObject::tr("not stamped by the Redis answering now; no reconciler has published progress yet "
                           "(is a coupon-worker running?)");
    const qint64 since = p.sinceMs >= 0 ? redisNowMs - p.sinceMs : -1;
    const QString forHow = since >= 0 ? QObject::tr(", for %1").arg(durationText(since)) : QString();
    if (p.step == QLatin1StringView(kReconcileStepDelivery))
        return QObject::tr("step 1 of 3: waiting out the delivery timeout (%1 of %2)")
            .arg(durationText(since), durationText(deliveryTimeoutMs));
    if (p.step == QLatin1StringView(kReconcileStepBarrier))
        return QObject::tr("step 2 of 3: writing a barrier on every partition%1").arg(forHow);
    if (p.step == QLatin1StringView(kReconcileStepDrain))
        return QObject::tr("step 2 of 3: waiting for the worker group to commit past the barrier: %1%2")
            .arg(p.behind >= 0 ? QObject::tr("%n message(s) to go", nullptr, int(std::min<qint64>(p.behind, INT_MAX)))
                               : QObject::tr("lag unknown"),
                 forHow);
    if (p.step == QLatin1StringView(kReconcileStepReload))
        return QObject::tr("step 3 of 3: reloading holders and count from MySQL%1").arg(forHow);
    return QObject::tr("%1%2").arg(p.step, forHow);
}

CampaignHealth campaignHealth(const CampaignOverview &c, qint64 redisNowMs, qint64 deliveryTimeoutMs)
{
    const QString reconciling = reconcileText(c, redisNowMs, deliveryTimeoutMs);
    if (!reconciling.isEmpty())
        return {CampaignHealth::Reconciling,
                QObject::tr("Applies answer reconciling until it is rebuilt from MySQL: %1.").arg(reconciling)};
    if (!c.redisLoaded)
        return {CampaignHealth::NotLoaded,
                QObject::tr("Redis holds nothing of this closed campaign: applies answer "
                            "not_loaded. Opening it rebuilds it from MySQL first.")};
    QStringList attention;
    if (c.unresolvedFailedEvents > 0)
        attention << QObject::tr("%n unresolved failed event(s): see the Failed events tab.", nullptr,
                                 int(std::min<qint64>(c.unresolvedFailedEvents, INT_MAX)));
    if (c.oldestPendingMs >= 0 && redisNowMs - c.oldestPendingMs > deliveryTimeoutMs)
        attention << QObject::tr("The oldest pending reservation is %1 old, past the delivery timeout (%2): its "
                                 "gateway may have died. The reconciler settles it once the group drained past it; "
                                 "Settle now does at once.")
                         .arg(durationText(redisNowMs - c.oldestPendingMs), durationText(deliveryTimeoutMs));
    if (!attention.isEmpty())
        return {CampaignHealth::Attention, attention.join(u' ')};
    const qint64 flying = inFlight(c);
    if (flying > 0 || c.pending > 0)
        return {CampaignHealth::Draining,
                QObject::tr("%1 reserved in Redis and not issued in MySQL yet, %2 pending: the worker group is "
                            "writing them.")
                    .arg(number(flying), number(std::max<qint64>(0, c.pending)))};
    if (c.redisLimit >= 0 && c.redisCount >= c.redisLimit)
        return {CampaignHealth::SoldOut, QObject::tr("All %1 coupons issued.").arg(number(c.campaign.limit))};
    if (c.campaign.state != u"open"_s)
        return {CampaignHealth::Closed, QObject::tr("Closed; everything reserved is issued.")};
    return {CampaignHealth::Ok, QObject::tr("Open; everything reserved is issued.")};
}

// --- CampaignOverviewModel -----------------------------------------------------------

void CampaignOverviewModel::setOverview(const CampaignsOverview &overview)
{
    m_error.clear();
    QSet<QString> listed;
    for (const CampaignOverview &c : overview.campaigns)
        listed.insert(c.campaign.id);
    // Gone campaigns out first (from the end, so the rows before stay put).
    for (qsizetype row = m_overview.campaigns.size() - 1; row >= 0; --row) {
        if (!listed.contains(m_overview.campaigns.at(row).campaign.id)) {
            beginRemoveRows({}, int(row), int(row));
            m_overview.campaigns.removeAt(row);
            endRemoveRows();
        }
    }
    m_rowOf.clear();
    for (qsizetype row = 0; row < m_overview.campaigns.size(); ++row)
        m_rowOf.insert(m_overview.campaigns.at(row).campaign.id, int(row));
    // The kept ones in place, the new ones appended.
    QList<CampaignOverview> added;
    for (const CampaignOverview &c : overview.campaigns) {
        if (const int row = rowOf(c.campaign.id); row >= 0)
            m_overview.campaigns[row] = c;
        else
            added.append(c);
    }
    QList<CampaignOverview> rows = std::move(m_overview.campaigns);
    m_overview = overview;
    m_overview.campaigns = std::move(rows);
    if (!m_overview.campaigns.isEmpty())
        emit dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
    if (!added.isEmpty()) {
        const int first = rowCount();
        beginInsertRows({}, first, first + int(added.size()) - 1);
        for (const CampaignOverview &c : std::as_const(added)) {
            m_rowOf.insert(c.campaign.id, int(m_overview.campaigns.size()));
            m_overview.campaigns.append(c);
        }
        endInsertRows();
    }
    m_inFlightTotal = 0;
    for (const CampaignOverview &c : std::as_const(m_overview.campaigns))
        m_inFlightTotal += inFlight(c);
    emit headerDataChanged(Qt::Horizontal, 0, ColumnCount - 1);
}

void CampaignOverviewModel::setError(const QString &error)
{
    m_error = error;
    if (rowCount() > 0)
        emit dataChanged(index(0, Health), index(rowCount() - 1, Health));
}

void CampaignOverviewModel::setFocusedCampaign(const QString &id)
{
    m_focused = id;
    if (rowCount() > 0)
        emit dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1), {Qt::FontRole});
}

CampaignHealth CampaignOverviewModel::health(int row) const
{
    if (!m_error.isEmpty())
        return {CampaignHealth::Error,
                QObject::tr("The last reading failed (%1); these figures are older.").arg(m_error)};
    return campaignHealth(campaign(row), m_overview.redisNowMs, m_overview.deliveryTimeoutMs);
}

double CampaignOverviewModel::lagShare(int row) const
{
    return m_inFlightTotal > 0 ? double(inFlight(campaign(row))) / double(m_inFlightTotal) : 0.0;
}

int CampaignOverviewModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_overview.campaigns.size());
}

int CampaignOverviewModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant CampaignOverviewModel::display(const CampaignOverview &c, int row, int column) const
{
    switch (column) {
    case Campaign: return c.campaign.id;
    case State:
        return c.redisLoaded && !c.redisState.isEmpty() && c.redisState != c.campaign.state
            ? QObject::tr("%1 (Redis: %2)").arg(c.campaign.state, c.redisState)
            : c.campaign.state;
    case Window: return windowText(c.campaign);
    case Limit: return number(c.campaign.limit);
    case Reserved: return c.redisLoaded ? number(c.redisCount) : u"—"_s;
    case Issued: return number(c.campaign.issued);
    case Pending:
        return c.oldestPendingMs >= 0
            ? QObject::tr("%1 · oldest %2")
                  .arg(number(c.pending), durationText(m_overview.redisNowMs - c.oldestPendingMs))
            : number(std::max<qint64>(0, c.pending));
    case FailedEvents: return number(std::max<qint64>(0, c.unresolvedFailedEvents));
    case InFlight: return number(inFlight(c));
    case LagShare: return m_overview.topicLag < 0 ? u"?"_s : QObject::tr("%1 %").arg(lagShare(row) * 100.0, 0, 'f', 0);
    case Health: return toString(health(row).verdict);
    }
    return {};
}

QVariant CampaignOverviewModel::sortKey(const CampaignOverview &c, int row, int column) const
{
    switch (column) {
    case Campaign: return c.campaign.id;
    case State: return c.campaign.state;
    case Window: return c.campaign.startsAt.isValid() ? c.campaign.startsAt.toMSecsSinceEpoch() : qint64(0);
    case Limit: return c.campaign.limit;
    case Reserved: return c.redisLoaded ? c.redisCount : qint64(-1);
    case Issued: return c.campaign.issued;
    case Pending: return c.pending;
    case FailedEvents: return c.unresolvedFailedEvents;
    case InFlight: return inFlight(c);
    case LagShare: return lagShare(row);
    case Health: return int(health(row).verdict);
    }
    return {};
}

QString CampaignOverviewModel::toolTip(const CampaignOverview &c, int row, int column) const
{
    switch (column) {
    case Campaign: return c.campaign.name;
    case State:
        return QObject::tr("MySQL: %1 · Redis: %2")
            .arg(c.campaign.state,
                 c.redisLoaded ? c.redisState + (c.redisCurrent ? QString() : QObject::tr(", not current"))
                               : QObject::tr("not loaded"));
    case Window:
        return QObject::tr("from %1 to %2")
            .arg(c.campaign.startsAt.isValid() ? c.campaign.startsAt.toString(Qt::ISODate) : QObject::tr("any time"),
                 c.campaign.endsAt.isValid() ? c.campaign.endsAt.toString(Qt::ISODate) : QObject::tr("any time"));
    case LagShare:
        if (m_overview.topicLag < 0)
            return QObject::tr("Kafka did not answer: %1").arg(m_overview.lagError);
        return QObject::tr("%1 of every campaign's %2 in flight; ≈ %3 of the group's %4 message(s) of lag")
            .arg(number(inFlight(c)), number(m_inFlightTotal),
                 number(qint64(std::llround(lagShare(row) * double(m_overview.topicLag)))),
                 number(m_overview.topicLag));
    case Health: return health(row).reason;
    }
    return {};
}

QVariant CampaignOverviewModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const CampaignOverview &c = campaign(index.row());
    switch (role) {
    case Qt::DisplayRole: return display(c, index.row(), index.column());
    case SortRole: return sortKey(c, index.row(), index.column());
    case IdRole: return c.campaign.id;
    case Qt::ToolTipRole: {
        const QString tip = toolTip(c, index.row(), index.column());
        return tip.isEmpty() ? QVariant() : tip;
    }
    case Qt::TextAlignmentRole:
        if (index.column() == Health)
            return Qt::AlignCenter;
        return index.column() >= Limit && index.column() < Health ? numberAlignment() : QVariant();
    case Qt::BackgroundRole:
        return index.column() == Health ? QVariant(healthColor(health(index.row()).verdict)) : QVariant();
    case Qt::ForegroundRole: return index.column() == Health ? QVariant(QColor(Qt::white)) : QVariant();
    case Qt::FontRole:
        if (index.column() == Health || c.campaign.id == m_focused) {
            QFont bold;
            bold.setBold(true);
            return bold;
        }
        return {};
    }
    return {};
}

QVariant CampaignOverviewModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::DisplayRole) {
        switch (section) {
        case Campaign: return QObject::tr("Campaign");
        case State: return QObject::tr("State");
        case Window: return QObject::tr("Window");
        case Limit: return QObject::tr("Limit");
        case Reserved: return QObject::tr("Reserved");
        case Issued: return QObject::tr("Issued");
        case Pending: return QObject::tr("Pending");
        case FailedEvents: return QObject::tr("Failed");
        case InFlight: return QObject::tr("In flight");
        case LagShare: return QObject::tr("Lag share");
        case Health: return QObject::tr("Health");
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case State: return QObject::tr("The campaign's state in MySQL (and Redis', when it differs).");
        case Reserved: return QObject::tr("Reservations made: Redis' ticket counter.");
        case Issued:
            return QObject::tr("Coupons issued: MySQL's campaign.issued, advanced in the transaction "
                               "that inserts them.");
        case Pending:
            return QObject::tr("Reservations not yet confirmed durable (Redis' pending set), and the oldest's age.");
        case FailedEvents: return QObject::tr("Unresolved failed events (poison) of the campaign.");
        case InFlight:
            return QObject::tr("Reserved − issued: messages on their way through the topic, or reservations "
                               "settlement will still confirm or release.");
        case LagShare:
            return QObject::tr("The group's lag is counted on the whole topic (now %1): a campaign's share is its "
                               "in flight over every campaign's in flight.")
                .arg(m_overview.topicLag < 0 ? QObject::tr("unknown") : number(m_overview.topicLag));
        case Health: return QObject::tr("ok, closed, sold out, draining, not loaded, reconciling, attention, error");
        }
    }
    return {};
}

// --- ReservationTableModel -----------------------------------------------------------

void ReservationTableModel::setCampaign(const QString &campaign)
{
    if (campaign == m_campaign)
        return;
    beginResetModel();
    m_campaign = campaign;
    m_page = {};
    m_window = kPage;
    endResetModel();
}

void ReservationTableModel::setPage(const QString &campaign, const PendingPage &page, qint64 deliveryTimeoutMs,
                                    bool reconciling)
{
    if (campaign != m_campaign)
        return;
    // A reading replaces the rows: the oldest are settled, new ones join.
    beginResetModel();
    m_page = page;
    m_deliveryTimeoutMs = deliveryTimeoutMs;
    m_reconciling = reconciling;
    endResetModel();
}

void ReservationTableModel::setDeliveryTimeout(qint64 deliveryTimeoutMs, bool reconciling)
{
    if (deliveryTimeoutMs == m_deliveryTimeoutMs && reconciling == m_reconciling)
        return;
    m_deliveryTimeoutMs = deliveryTimeoutMs;
    m_reconciling = reconciling;
    if (rowCount() > 0)
        emit dataChanged(index(0, WaitingFor), index(rowCount() - 1, WaitingFor));
}

qint64 ReservationTableModel::ageMs(int row) const
{
    return std::max<qint64>(0, m_page.redisNowMs - m_page.reservations.at(row).atMs);
}

QString ReservationTableModel::waitingFor(qint64 ageMs, qint64 deliveryTimeoutMs, bool reconciling)
{
    if (reconciling)
        return QObject::tr("the rebuild: pending empties when the campaign is reloaded from MySQL");
    if (ageMs < deliveryTimeoutMs)
        return QObject::tr("its delivery: the message may still be on its way (%1 left of the delivery timeout)")
            .arg(durationText(deliveryTimeoutMs - ageMs));
    return QObject::tr("settlement: past the delivery timeout; once the group drained past it, confirmed if "
                       "MySQL has its coupon, else released (the reconciler, or Settle now)");
}

bool ReservationTableModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && m_page.total > m_page.reservations.size() && m_window <= m_page.reservations.size();
}

void ReservationTableModel::fetchMore(const QModelIndex &parent)
{
    if (!canFetchMore(parent))
        return;
    m_window += kPage;
    emit windowRequested(m_window);
}

int ReservationTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_page.reservations.size());
}

int ReservationTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ReservationTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const PendingReservation &r = m_page.reservations.at(index.row());
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case User: return QString::number(r.userId);
        case ReservedAt:
            return QDateTime::fromMSecsSinceEpoch(r.atMs).toLocalTime().toString(u"yyyy-MM-dd HH:mm:ss.zzz"_s);
        case Age: return durationText(ageMs(index.row()));
        case WaitingFor: return waitingFor(ageMs(index.row()), m_deliveryTimeoutMs, m_reconciling);
        }
    }
    if (role == Qt::TextAlignmentRole && (index.column() == User || index.column() == Age))
        return numberAlignment();
    if (role == Qt::ToolTipRole && index.column() == WaitingFor)
        return waitingFor(ageMs(index.row()), m_deliveryTimeoutMs, m_reconciling);
    if (role == Qt::ForegroundRole && index.column() == Age && !m_reconciling
        && ageMs(index.row()) >= m_deliveryTimeoutMs)
        return QColor(0xef, 0x8f, 0x00);
    return {};
}

QVariant ReservationTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case User: return QObject::tr("User");
    case ReservedAt: return QObject::tr("Reserved at");
    case Age: return QObject::tr("Age");
    case WaitingFor: return QObject::tr("Waiting for");
    }
    return {};
}

} // namespace coupon::console
