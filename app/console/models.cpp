#include "models.h"

#include <QColor>
#include <QFont>

using namespace Qt::StringLiterals;

namespace coupon::console {

namespace {

QString timeText(const QDateTime &t)
{
    return t.isValid() ? t.toLocalTime().toString(u"yyyy-MM-dd HH:mm:ss.zzz"_s) : QString();
}

QVariant numberAlignment()
{
    return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
}

} // namespace

QString hexBytes(const QByteArray &bytes)
{
    if (bytes.isNull())
        return u"(null)"_s;
    return QString::fromLatin1(bytes.toHex(' '));
}

QString csvRecord(const QStringList &fields)
{
    QStringList quoted;
    quoted.reserve(fields.size());
    for (const QString &field : fields) {
        if (field.contains(u',') || field.contains(u'"') || field.contains(u'\n') || field.contains(u'\r')) {
            QString escaped = field;
            escaped.replace(u"\""_s, u"\"\""_s);
            quoted << u'"' + escaped + u'"';
        } else {
            quoted << field;
        }
    }
    return quoted.join(u',');
}

QStringList couponCsvHeader()
{
    return {u"id"_s, u"campaign"_s, u"user_id"_s, u"ticket"_s, u"issued_at"_s, u"kafka_partition"_s, u"kafka_offset"_s};
}

QStringList couponCsvFields(const CouponRow &r)
{
    return {QString::number(r.id),
            r.campaign,
            QString::number(r.userId),
            r.ticket > 0 ? QString::number(r.ticket) : QString(),
            r.issuedAt.toUTC().toString(Qt::ISODateWithMs),
            QString::number(r.partition),
            QString::number(r.offset)};
}

// --- PagedTableModel ---------------------------------------------------------

bool PagedTableModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && m_active && !m_atEnd;
}

void PagedTableModel::fetchMore(const QModelIndex &parent)
{
    if (parent.isValid() || !m_active || m_atEnd || m_inFlight)
        return;
    m_inFlight = true;
    emit pageRequested(m_generation, lastKey(), m_pageSize);
}

void PagedTableModel::fetchNewer()
{
    if (!m_active || !m_atEnd || m_inFlight)
        return;
    m_atEnd = false;
    fetchMore({});
}

void PagedTableModel::restart(bool active)
{
    beginResetModel();
    clearRows();
    ++m_generation;
    m_active = active;
    m_atEnd = !active;
    m_inFlight = false;
    m_lastError.clear();
    endResetModel();
}

bool PagedTableModel::acceptPage(quint64 generation, qsizetype rows, const QString &error)
{
    if (generation != m_generation)
        return false;
    m_inFlight = false;
    m_lastError = error;
    // A short page is the end for now; an error too (fetchNewer retries).
    m_atEnd = !error.isEmpty() || rows < m_pageSize;
    return true;
}

// --- CouponTableModel ---------------------------------------------------------

void CouponTableModel::setQuery(const QString &campaign, UserFilter user)
{
    m_campaign = campaign;
    m_user = user;
    restart(!campaign.isEmpty());
}

int CouponTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int CouponTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant CouponTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const CouponRow &r = m_rows.at(index.row());
    if (role == Qt::TextAlignmentRole)
        return index.column() == IssuedAt ? QVariant() : numberAlignment();
    if (role != Qt::DisplayRole && role != SortRole)
        return {};
    switch (Column(index.column())) {
    case Id: return r.id;
    case User: return r.userId;
    case Ticket: // 0: the message carried none (another producer); nothing to show
        return role == SortRole || r.ticket > 0 ? QVariant(r.ticket) : QVariant(QString());
    case IssuedAt: return role == SortRole ? QVariant(r.issuedAt) : QVariant(timeText(r.issuedAt));
    case Partition: return r.partition;
    case Offset: return r.offset;
    case ColumnCount: break;
    }
    return {};
}

QVariant CouponTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (Column(section)) {
    case Id: return tr("Coupon");
    case User: return tr("User");
    case Ticket: return tr("Ticket");
    case IssuedAt: return tr("Issued at");
    case Partition: return tr("Partition");
    case Offset: return tr("Offset");
    case ColumnCount: break;
    }
    return {};
}

void CouponTableModel::appendPage(quint64 generation, const CouponRows &rows, const QString &error)
{
    appendAccepted(generation, m_rows, rows, error);
}

// --- FailedEventTableModel ------------------------------------------------------

void FailedEventTableModel::setQuery(const QString &campaign)
{
    m_campaign = campaign;
    restart(true);
}

int FailedEventTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int FailedEventTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant FailedEventTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const FailedEventRow &r = m_rows.at(index.row());
    if (role == Qt::TextAlignmentRole) {
        const int c = index.column();
        return (c == Id || c == Partition || c == Offset) ? numberAlignment() : QVariant();
    }
    if (role == Qt::ToolTipRole && (index.column() == Key || index.column() == Value)) {
        const QByteArray &bytes = index.column() == Key ? r.key : r.value;
        return tr("%n byte(s)", nullptr, int(bytes.size()));
    }
    if (role == Qt::FontRole && (index.column() == Key || index.column() == Value))
        return QVariant::fromValue(QFont(u"monospace"_s));
    if (role != Qt::DisplayRole)
        return {};
    switch (Column(index.column())) {
    case Id: return r.id;
    case Partition: return r.partition;
    case Offset: return r.offset;
    case Reason: return r.reason;
    case Key: return hexBytes(r.key);
    case Value: return hexBytes(r.value);
    case CreatedAt: return timeText(r.createdAt);
    case State: return stateText(r);
    case ColumnCount: break;
    }
    return {};
}

QString FailedEventTableModel::stateText(const FailedEventRow &r)
{
    if (r.resolved())
        return tr("resolved by %1: %2").arg(r.resolvedBy, r.resolution);
    if (r.retries > 0)
        return tr("unresolved · last retry: %1").arg(r.lastRetryOutcome);
    return tr("unresolved");
}

QVariant FailedEventTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (Column(section)) {
    case Id: return tr("Id");
    case Partition: return tr("Partition");
    case Offset: return tr("Offset");
    case Reason: return tr("Reason");
    case Key: return tr("Key (hex)");
    case Value: return tr("Value (hex)");
    case CreatedAt: return tr("Recorded at");
    case State: return tr("State");
    case ColumnCount: break;
    }
    return {};
}

void FailedEventTableModel::appendPage(quint64 generation, const FailedEventRows &rows, const QString &error)
{
    appendAccepted(generation, m_rows, rows, error);
}

// --- LagTableModel ------------------------------------------------------------

void LagTableModel::setSnapshot(const QList<PartitionLag> &partitions, const QList<GroupMember> &members)
{
    QList<int32_t> before, after;
    for (const Row &r : std::as_const(m_rows))
        before << r.lag.partition;
    for (const PartitionLag &p : partitions)
        after << p.partition;
    const bool sameShape = before == after;
    if (!sameShape)
        beginResetModel();
    m_members = members;
    m_rows.clear();
    for (const PartitionLag &p : partitions) {
        Row row{p, -1};
        for (qsizetype m = 0; m < m_members.size(); ++m) {
            if (m_members.at(m).partitions.contains(p.partition))
                row.member = int(m);
        }
        m_rows << row;
    }
    if (!sameShape)
        endResetModel();
    else if (!m_rows.isEmpty())
        emit dataChanged(index(0, 0), index(int(m_rows.size()) - 1, ColumnCount - 1));
}

qint64 LagTableModel::totalLag() const
{
    qint64 sum = 0;
    for (const Row &r : m_rows)
        sum += r.lag.lag();
    return sum;
}

int LagTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int LagTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant LagTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const Row &r = m_rows.at(index.row());
    if (role == Qt::TextAlignmentRole)
        return index.column() <= Lag ? numberAlignment() : QVariant();
    if (role == Qt::ForegroundRole && index.column() == Lag && r.lag.lag() > 0)
        return QVariant::fromValue(QColor(0xb3, 0x5c, 0x00));
    if (role != Qt::DisplayRole)
        return {};
    const QString none = u"-"_s;
    const GroupMember *member = r.member >= 0 ? &m_members.at(r.member) : nullptr;
    switch (Column(index.column())) {
    case Partition: return r.lag.partition;
    case CurrentOffset: return r.lag.committed < 0 ? QVariant(none) : QVariant(qint64(r.lag.committed));
    case LogEndOffset: return qint64(r.lag.logEnd);
    case Lag: return qint64(r.lag.lag());
    case ConsumerId: return member ? member->memberId : none;
    case Host: return member ? member->host : none;
    case ClientId: return member ? member->clientId : none;
    case ColumnCount: break;
    }
    return {};
}

QVariant LagTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (Column(section)) {
    case Partition: return tr("Partition");
    case CurrentOffset: return tr("Current offset");
    case LogEndOffset: return tr("Log-end offset");
    case Lag: return tr("Lag");
    case ConsumerId: return tr("Consumer id");
    case Host: return tr("Host");
    case ClientId: return tr("Client id");
    case ColumnCount: break;
    }
    return {};
}

} // namespace coupon::console
