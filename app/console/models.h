#pragma once

#include "types.h"

#include <QAbstractTableModel>

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

class CouponTableModel final : public PagedTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CouponTableModel)

public:
    enum Column { Id, User, Ticket, IssuedAt, Partition, Offset, ColumnCount };
    enum Role { SortRole = Qt::UserRole };

    explicit CouponTableModel(QObject *parent = nullptr)
        : PagedTableModel(parent)
    { }

    // Empty campaign: an empty table.
    void setQuery(const QString &campaign, UserFilter user = std::nullopt);
    QString campaign() const { return m_campaign; }
    UserFilter userFilter() const { return m_user; }
    const CouponRow &row(int index) const { return m_rows.at(index); }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

public slots:
    void appendPage(quint64 generation, const coupon::console::CouponRows &rows, const QString &error);

protected:
    qint64 lastKey() const override { return m_rows.isEmpty() ? 0 : m_rows.constLast().id; }
    void clearRows() override { m_rows.clear(); }

private:
    QString m_campaign;
    UserFilter m_user;
    QList<CouponRow> m_rows;
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

// "00 00 00 00 00 00 00 2a"; "(null)" for a missing key or value.
QString hexBytes(const QByteArray &bytes);
// One CSV record (RFC 4180 quoting), no line end.
QString csvRecord(const QStringList &fields);
// The coupon export's columns, and one coupon's fields in that order.
QStringList couponCsvHeader();
QStringList couponCsvFields(const CouponRow &row);

} // namespace coupon::console
