#pragma once

#include "types.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QSet>

namespace coupon::console {

// A table paged by key (WHERE id > last ORDER BY id LIMIT n) as the view
// scrolls: canFetchMore/fetchMore ask for the next page with
// pageRequested(), whoever serves it answers through the subclass' append
// slot with the same generation. A new query bumps the generation, so late
// pages of an old one are dropped. Nothing here touches a database.
class PagedTableModel : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PagedTableModel)

public:
    explicit PagedTableModel(QObject *parent = nullptr)
        : QAbstractTableModel(parent)
    { }

    bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;

    // Asks for rows that arrived after the last one loaded (for a table
    // that is live). Does nothing while more old pages wait to be read.
    void fetchNewer();

    int pageSize() const { return m_pageSize; }
    void setPageSize(int rows) { m_pageSize = rows; }
    quint64 generation() const { return m_generation; }
    bool isLoading() const { return m_inFlight; }
    bool atEnd() const { return m_atEnd; }
    QString lastError() const { return m_lastError; }

signals:
    void pageRequested(quint64 generation, qint64 afterId, int limit);
    void pageLoaded(); // rows were appended (or the end was reached)

protected:
    virtual qint64 lastKey() const = 0;
    virtual void clearRows() = 0;
    // Resets to an empty table; `active` false: nothing to fetch.
    void restart(bool active);
    // Whether a page of `rows` rows for `generation` is current; updates
    // the paging state either way it is current.
    bool acceptPage(quint64 generation, qsizetype rows, const QString &error);
    // Appends an accepted page to `store` and announces it.
    template <typename Rows>
    void appendAccepted(quint64 generation, Rows &store, const Rows &rows, const QString &error)
    {
        if (!acceptPage(generation, rows.size(), error))
            return;
        if (!rows.isEmpty()) {
            beginInsertRows({}, int(store.size()), int(store.size() + rows.size() - 1));
            store.append(rows);
            endInsertRows();
        }
        emit pageLoaded();
    }

private:
    int m_pageSize = 500;
    quint64 m_generation = 0;
    bool m_active = false;
    bool m_atEnd = true;
    bool m_inFlight = false;
    QString m_lastError;
};

// A campaign's coupons (of one user, or all) at any size: rowCount() is the
// whole count, so the scroll bar means the whole campaign, and rows are read
// in blocks around what the view shows. data() for a row not loaded yet
// answers a placeholder ("…") and asks for its block (windowRequested, on
// the next turn of the event loop); the block is read by key from a loaded
// neighbour, else by position (OFFSET from the nearer end). Positions count
// in id order among the coupons up to a snapshot's highest id, so rows that
// arrive later (refresh()) only add positions at the newest end and nothing
// loaded moves. Newest first shows the same positions from the other end.
// A new query bumps the generation: answers of an old one are dropped.
// Nothing here touches a database.
class CouponTableModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CouponTableModel)

public:
    enum Column { Id, User, Ticket, IssuedAt, Partition, Offset, ColumnCount };
    enum Role { SortRole = Qt::UserRole };
    static constexpr int kDefaultBlockRows = 200;
    static constexpr int kMaxBlocks = 64;  // kept in memory; the farthest from the newest goes
    static constexpr int kMaxInFlight = 2; // window requests at a time

    explicit CouponTableModel(QObject *parent = nullptr);

    // Empty campaign: an empty table. Asks for the count (spanRequested).
    void setQuery(const QString &campaign, UserFilter user = std::nullopt);
    QString campaign() const { return m_campaign; }
    UserFilter userFilter() const { return m_user; }
    void setNewestFirst(bool newestFirst);
    bool newestFirst() const { return m_newestFirst; }
    // Asks how many coupons arrived since the snapshot (live drops).
    void refresh();
    // Asks where `jump` lands; answered by located() or locateFailed().
    void locate(const CouponJump &jump);

    // -1 until the count is in.
    qint64 total() const { return m_total; }
    qint64 maxId() const { return m_maxId; }
    int blockRows() const { return m_blockRows; }
    void setBlockRows(int rows) { m_blockRows = rows; }
    quint64 generation() const { return m_generation; }
    QString lastError() const { return m_lastError; }
    bool isLoaded(int row) const;
    // The coupon at `row`; an empty one (id 0) while it is not loaded.
    CouponRow row(int row) const;
    // The view row of ascending position `position`, and back.
    int rowOfPosition(qint64 position) const;
    qint64 positionOfRow(int row) const;
    // Asks now for the blocks of rows first..last that are not loaded.
    void ensureLoaded(int first, int last);
    int loadedBlocks() const { return int(m_blocks.size()); }
    int requestsInFlight() const { return int(m_inFlight.size()); }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

public slots:
    void setSpan(quint64 generation, qint64 afterId, qint64 count, qint64 maxId, const QString &error);
    void setWindow(quint64 generation, qint64 position, const coupon::console::CouponRows &rows, const QString &error);
    void setLocated(quint64 generation, qint64 position, qint64 id, const QString &error);

signals:
    void spanRequested(quint64 generation, const QString &campaign, coupon::console::UserFilter user, qint64 afterId);
    void windowRequested(quint64 generation, const coupon::console::CouponWindowRequest &request);
    void locateRequested(quint64 generation, const QString &campaign, coupon::console::UserFilter user,
                         const coupon::CouponJump &jump, qint64 maxId);
    void totalChanged(qint64 total);
    void windowLoaded(int firstRow, int lastRow);
    void located(int row, qint64 id);
    void locateFailed(const QString &why);

private:
    qint64 blockOf(int row) const { return positionOfRow(row) / m_blockRows; }
    qint64 blockSize(qint64 block) const;
    bool blockComplete(qint64 block) const;
    void want(qint64 block) const;
    void scheduleDispatch() const;
    void dispatch();
    void evictFarFrom(qint64 block);

    QString m_campaign;
    UserFilter m_user;
    bool m_newestFirst = false;
    int m_blockRows = kDefaultBlockRows;
    quint64 m_generation = 0;
    qint64 m_total = -1;
    qint64 m_maxId = 0;
    bool m_spanInFlight = false;
    QString m_lastError;
    QHash<qint64, QList<CouponRow>> m_blocks; // by block: positions block * m_blockRows ...
    QSet<qint64> m_inFlight;
    // Blocks data() was asked for, by how recently: the newest go first and
    // those the view has long scrolled past are dropped (mutable: data() is const).
    mutable QHash<qint64, quint64> m_wanted;
    mutable quint64 m_wantSerial = 0;
    mutable qint64 m_lastWanted = -1;
    mutable bool m_dispatchQueued = false;
};

class FailedEventTableModel final : public PagedTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FailedEventTableModel)

public:
    enum Column { Id, Partition, Offset, Reason, Key, Value, CreatedAt, State, ColumnCount };

    explicit FailedEventTableModel(QObject *parent = nullptr)
        : PagedTableModel(parent)
    { }

    // Empty campaign: every failed event of the topic.
    void setQuery(const QString &campaign);
    QString campaign() const { return m_campaign; }
    const FailedEventRow &row(int index) const { return m_rows.at(index); }
    // "unresolved", "unresolved · last retry: duplicate …", "resolved by alice: why".
    static QString stateText(const FailedEventRow &row);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

public slots:
    void appendPage(quint64 generation, const coupon::console::FailedEventRows &rows, const QString &error);

protected:
    qint64 lastKey() const override { return m_rows.isEmpty() ? 0 : m_rows.constLast().id; }
    void clearRows() override { m_rows.clear(); }

private:
    QString m_campaign;
    QList<FailedEventRow> m_rows;
};

// The group's offsets per partition, in the shape of
// `kafka-consumer-groups --describe`.
class LagTableModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LagTableModel)

public:
    enum Column { Partition, CurrentOffset, LogEndOffset, Lag, ConsumerId, Host, ClientId, ColumnCount };

    explicit LagTableModel(QObject *parent = nullptr)
        : QAbstractTableModel(parent)
    { }

    void setSnapshot(const QList<PartitionLag> &partitions, const QList<GroupMember> &members);
    qint64 totalLag() const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    struct Row
    {
        PartitionLag lag;
        int member = -1; // into m_members
    };
    QList<GroupMember> m_members;
    QList<Row> m_rows;
};

// The coupon browser's jump box: "1234" (a coupon id), "user 42" (also
// "u42", "user:42"), or a time: ISO 8601 ("2026-11-30T10:15:00Z", with an
// offset, or local without one) or "2026-11-30 10:15[:00[.123]]" local.
// Anything else: none, and `error` says what is taken.
std::optional<CouponJump> parseCouponJump(const QString &text, QString *error);

// "00 00 00 00 00 00 00 2a"; "(null)" for a missing key or value.
QString hexBytes(const QByteArray &bytes);
// One CSV record (RFC 4180 quoting), no line end.
QString csvRecord(const QStringList &fields);
// The coupon export's columns, and one coupon's fields in that order.
QStringList couponCsvHeader();
QStringList couponCsvFields(const CouponRow &row);

} // namespace coupon::console
