#include "models.h"

#include <QColor>
#include <QCoreApplication>
#include <QRegularExpression>

#include <QFont>
#include <algorithm>
#include <cstdlib>
#include <limits>

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

// A view holds at most INT_MAX rows; a count beyond that shows its first ones.
int rowCountFor(qint64 total)
{
    return int(std::clamp<qint64>(total, 0, std::numeric_limits<int>::max()));
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

namespace {

const QString kPlaceholder = u"…"_s;

} // namespace

CouponTableModel::CouponTableModel(QObject *parent)
    : QAbstractTableModel(parent)
{ }

void CouponTableModel::setQuery(const QString &campaign, UserFilter user)
{
    beginResetModel();
    m_campaign = campaign;
    m_user = user;
    ++m_generation;
    m_total = -1;
    m_maxId = 0;
    m_spanInFlight = false;
    m_lastError.clear();
    m_blocks.clear();
    m_inFlight.clear();
    m_wanted.clear();
    m_lastWanted = -1;
    endResetModel();
    emit totalChanged(m_total);
    if (!campaign.isEmpty()) {
        m_spanInFlight = true;
        emit spanRequested(m_generation, m_campaign, m_user, 0);
    }
}

void CouponTableModel::setNewestFirst(bool newestFirst)
{
    if (newestFirst == m_newestFirst)
        return;
    // The loaded blocks stay: they are by position, the order only maps rows.
    beginResetModel();
    m_newestFirst = newestFirst;
    m_wanted.clear();
    m_lastWanted = -1;
    endResetModel();
}

void CouponTableModel::refresh()
{
    if (m_campaign.isEmpty() || m_spanInFlight)
        return;
    m_spanInFlight = true;
    emit spanRequested(m_generation, m_campaign, m_user, m_total < 0 ? 0 : m_maxId);
}

void CouponTableModel::locate(const CouponJump &jump)
{
    if (m_campaign.isEmpty() || m_total < 0) {
        emit locateFailed(tr("the coupons are not counted yet"));
        return;
    }
    emit locateRequested(m_generation, m_campaign, m_user, jump, m_maxId);
}

void CouponTableModel::setSpan(quint64 generation, qint64 afterId, qint64 count, qint64 maxId, const QString &error)
{
    if (generation != m_generation)
        return;
    m_spanInFlight = false;
    m_lastError = error;
    if (!error.isEmpty())
        return;
    if (m_total < 0) { // the first count
        if (afterId != 0)
            return;
        if (count > 0) {
            beginInsertRows({}, 0, rowCountFor(count) - 1);
            m_total = count;
            m_maxId = maxId;
            endInsertRows();
        } else {
            m_total = 0;
        }
        emit totalChanged(m_total);
        return;
    }
    if (afterId != m_maxId || count <= 0)
        return;
    // New coupons take the positions after the last one: nothing loaded
    // moves (a partial last block shows its rows and reads the rest when
    // shown). Newest first, they come in at the top and the view keeps the
    // selection on the same coupons.
    const int first = rowCountFor(m_total);
    const int added = rowCountFor(m_total + count) - first;
    if (added > 0)
        beginInsertRows({}, m_newestFirst ? 0 : first, m_newestFirst ? added - 1 : first + added - 1);
    m_total += count;
    m_maxId = maxId;
    if (added > 0)
        endInsertRows();
    emit totalChanged(m_total);
}

void CouponTableModel::setWindow(quint64 generation, qint64 position, const CouponRows &rows, const QString &error)
{
    if (generation != m_generation)
        return;
    const qint64 block = position / m_blockRows;
    m_inFlight.remove(block);
    m_lastError = error;
    if (error.isEmpty()) {
        m_blocks.insert(block, rows);
        evictFarFrom(block);
        if (!rows.isEmpty()) {
            const int a = rowOfPosition(position), b = rowOfPosition(position + rows.size() - 1);
            const int first = std::min(a, b), last = std::max(a, b);
            emit dataChanged(index(first, 0), index(last, ColumnCount - 1));
            emit windowLoaded(first, last);
        }
    }
    scheduleDispatch();
}

void CouponTableModel::setLocated(quint64 generation, qint64 position, qint64 id, const QString &error)
{
    if (generation != m_generation)
        return;
    if (!error.isEmpty()) {
        emit locateFailed(error);
        return;
    }
    if (position < 0 || position >= m_total) {
        emit locateFailed(tr("no such coupon in this list"));
        return;
    }
    emit located(rowOfPosition(position), id);
}

qint64 CouponTableModel::blockSize(qint64 block) const
{
    return std::clamp<qint64>(m_total - block * m_blockRows, 0, m_blockRows);
}

bool CouponTableModel::blockComplete(qint64 block) const
{
    const auto it = m_blocks.constFind(block);
    return it != m_blocks.cend() && it->size() >= blockSize(block);
}

bool CouponTableModel::isLoaded(int row) const
{
    if (row < 0 || row >= rowCount())
        return false;
    const qint64 position = positionOfRow(row);
    const auto it = m_blocks.constFind(position / m_blockRows);
    return it != m_blocks.cend() && position % m_blockRows < it->size();
}

CouponRow CouponTableModel::row(int row) const
{
    if (!isLoaded(row))
        return {};
    const qint64 position = positionOfRow(row);
    return m_blocks.value(position / m_blockRows).at(int(position % m_blockRows));
}

int CouponTableModel::rowOfPosition(qint64 position) const
{
    return int(m_newestFirst ? m_total - 1 - position : position);
}

qint64 CouponTableModel::positionOfRow(int row) const
{
    return m_newestFirst ? m_total - 1 - row : row;
}

void CouponTableModel::ensureLoaded(int first, int last)
{
    first = std::max(first, 0);
    last = std::min(last, rowCount() - 1);
    for (int r = first; r <= last; ++r) {
        if (!isLoaded(r))
            want(blockOf(r));
    }
    dispatch();
}

void CouponTableModel::want(qint64 block) const
{
    if (block == m_lastWanted && m_wanted.contains(block))
        return;
    m_lastWanted = block;
    m_wanted.insert(block, ++m_wantSerial);
    scheduleDispatch();
}

void CouponTableModel::scheduleDispatch() const
{
    if (m_dispatchQueued || m_wanted.isEmpty())
        return;
    m_dispatchQueued = true;
    QMetaObject::invokeMethod(const_cast<CouponTableModel *>(this), &CouponTableModel::dispatch, Qt::QueuedConnection);
}

void CouponTableModel::dispatch()
{
    m_dispatchQueued = false;
    // Blocks wanted more than this many wants before the newest were passed
    // on the way (dragging the thumb): a repaint asks again for what is shown.
    constexpr quint64 kStaleWants = 8;
    while (m_inFlight.size() < kMaxInFlight && !m_wanted.isEmpty()) {
        auto newest = m_wanted.begin();
        for (auto it = m_wanted.begin(); it != m_wanted.end(); ++it) {
            if (it.value() > newest.value())
                newest = it;
        }
        const qint64 block = newest.key();
        const quint64 serial = newest.value();
        m_wanted.erase(newest);
        m_wanted.removeIf([serial](QHash<qint64, quint64>::iterator it) { return it.value() + kStaleWants < serial; });
        if (m_inFlight.contains(block) || blockComplete(block) || blockSize(block) == 0)
            continue;
        CouponWindowRequest request;
        request.campaign = m_campaign;
        request.user = m_user;
        request.position = block * m_blockRows;
        request.limit = int(blockSize(block));
        request.total = m_total;
        request.maxId = m_maxId;
        // By key from a neighbour already read: an index range, no OFFSET.
        if (block > 0 && blockComplete(block - 1))
            request.afterId = m_blocks.value(block - 1).constLast().id;
        else if (const auto next = m_blocks.constFind(block + 1); next != m_blocks.cend() && !next->isEmpty())
            request.beforeId = next->constFirst().id;
        m_inFlight.insert(block);
        emit windowRequested(m_generation, request);
    }
}

void CouponTableModel::evictFarFrom(qint64 block)
{
    while (m_blocks.size() > kMaxBlocks) {
        auto farthest = m_blocks.begin();
        for (auto it = m_blocks.begin(); it != m_blocks.end(); ++it) {
            if (std::abs(it.key() - block) > std::abs(farthest.key() - block))
                farthest = it;
        }
        m_blocks.erase(farthest);
    }
}

int CouponTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : rowCountFor(m_total);
}

int CouponTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant CouponTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    if (role == Qt::TextAlignmentRole)
        return index.column() == IssuedAt ? QVariant() : numberAlignment();
    if (role != Qt::DisplayRole && role != SortRole)
        return {};
    if (!isLoaded(index.row())) {
        want(blockOf(index.row()));
        return role == Qt::DisplayRole && index.column() == Id ? QVariant(kPlaceholder) : QVariant();
    }
    const qint64 position = positionOfRow(index.row());
    const CouponRow &r = m_blocks.find(position / m_blockRows)->at(int(position % m_blockRows));
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

std::optional<CouponJump> parseCouponJump(const QString &input, QString *error)
{
    const QString text = input.trimmed();
    CouponJump jump;
    static const QRegularExpression number(u"^[0-9]{1,18}$"_s);
    static const QRegularExpression user(u"^(?:user|u)\\s*:?\\s*([0-9]{1,18})$"_s,
                                         QRegularExpression::CaseInsensitiveOption);
    if (number.match(text).hasMatch()) {
        jump.kind = CouponJump::Id;
        jump.value = text.toLongLong();
        return jump;
    }
    if (const QRegularExpressionMatch m = user.match(text); m.hasMatch()) {
        jump.kind = CouponJump::User;
        jump.value = m.captured(1).toLongLong();
        return jump;
    }
    // ISO 8601 (its zone, or local time without one), or the way the table
    // shows times, local.
    QDateTime time = QDateTime::fromString(text, Qt::ISODateWithMs);
    for (const QString &format : {u"yyyy-MM-dd HH:mm:ss.zzz"_s, u"yyyy-MM-dd HH:mm:ss"_s, u"yyyy-MM-dd HH:mm"_s}) {
        if (time.isValid())
            break;
        time = QDateTime::fromString(text, format);
    }
    if (!time.isValid()) {
        if (error)
            *error = QCoreApplication::translate("CouponBrowser",
                                                 "“%1” is not a coupon id, “user <id>” or a time (2026-11-30 10:15:00)")
                         .arg(text);
        return std::nullopt;
    }
    jump.kind = CouponJump::Time;
    jump.time = time;
    return jump;
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
