#pragma once

#include "types.h"

#include <QAbstractTableModel>
#include <QColor>
#include <QHash>

namespace coupon::console {

// A campaign's health in a word, and why, from one overview reading.
struct CampaignHealth
{
    // Worst first: the order a sort by health puts them in.
    enum Verdict { Error, Attention, Reconciling, NotLoaded, Draining, SoldOut, Ok, Closed };
    Verdict verdict = Ok;
    QString reason;
};
QString toString(CampaignHealth::Verdict verdict); // "attention", "sold out", ...
QColor healthColor(CampaignHealth::Verdict verdict);

// Decides the verdict: reconciling (an operator's rebuild, or not stamped
// by the Redis answering now: applies answer reconciling), not loaded (a
// closed campaign Redis holds nothing of), attention (unresolved failed
// events, or a pending reservation older than the delivery timeout),
// draining (reserved in Redis, not issued in MySQL yet), sold out, closed, ok.
CampaignHealth campaignHealth(const CampaignOverview &c, qint64 redisNowMs, qint64 deliveryTimeoutMs);

// Reserved in Redis (the ticket counter) and not issued in MySQL yet: the
// campaign's messages on their way through the topic, or reservations
// settlement will still confirm or release. 0 when Redis holds nothing.
qint64 inFlight(const CampaignOverview &c);

// "waiting out the delivery timeout, 4 s of 10 s" for a campaign that is not
// current; empty when it is.
QString reconcileText(const CampaignOverview &c, qint64 redisNowMs, qint64 deliveryTimeoutMs);

// "850 ms", "4.2 s", "3 min 05 s", "2 h 10 min".
QString durationText(qint64 ms);

// Every campaign at once: the overview's table. Rows are kept by campaign
// across readings (a sort or selection survives them); a failed reading
// keeps the last figures and turns every verdict to error.
class CampaignOverviewModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CampaignOverviewModel)

public:
    enum Column {
        Campaign,
        State,
        Window,
        Limit,
        Reserved,
        Issued,
        Pending,
        FailedEvents,
        InFlight,
        LagShare,
        Health,
        ColumnCount
    };
    enum Role { SortRole = Qt::UserRole, IdRole };

    explicit CampaignOverviewModel(QObject *parent = nullptr)
        : QAbstractTableModel(parent)
    { }

    void setOverview(const CampaignsOverview &overview);
    void setError(const QString &error);
    // Shown in bold.
    void setFocusedCampaign(const QString &id);

    const CampaignsOverview &overview() const { return m_overview; }
    QString error() const { return m_error; }
    // -1 when not listed.
    int rowOf(const QString &id) const { return m_rowOf.value(id, -1); }
    const CampaignOverview &campaign(int row) const { return m_overview.campaigns.at(row); }
    CampaignHealth health(int row) const;
    // This campaign's part of every campaign's in flight (0..1): what share
    // of the group's lag on the topic is its, as far as Redis and MySQL tell.
    double lagShare(int row) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    QVariant display(const CampaignOverview &c, int row, int column) const;
    QVariant sortKey(const CampaignOverview &c, int row, int column) const;
    QString toolTip(const CampaignOverview &c, int row, int column) const;

    CampaignsOverview m_overview;
    QHash<QString, int> m_rowOf;
    qint64 m_inFlightTotal = 0;
    QString m_error;
    QString m_focused;
};

// The focused campaign's pending reservations, oldest first: who, since
// when, and what each waits for. The window grows as the view scrolls
// (windowRequested); each reading replaces the rows.
class ReservationTableModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ReservationTableModel)

public:
    enum Column { User, ReservedAt, Age, WaitingFor, ColumnCount };
    static constexpr int kPage = 500;

    explicit ReservationTableModel(QObject *parent = nullptr)
        : QAbstractTableModel(parent)
    { }

    // A new campaign: empty until its first reading.
    void setCampaign(const QString &campaign);
    QString campaign() const { return m_campaign; }
    // A reading of `campaign` (others are dropped); `reconciling`: the
    // campaign is not current, pending empties when it is rebuilt.
    void setPage(const QString &campaign, const PendingPage &page, qint64 deliveryTimeoutMs, bool reconciling);
    void setDeliveryTimeout(qint64 deliveryTimeoutMs, bool reconciling);
    const PendingPage &page() const { return m_page; }
    int window() const { return m_window; }
    qint64 ageMs(int row) const;
    // What a reservation of that age waits for.
    static QString waitingFor(qint64 ageMs, qint64 deliveryTimeoutMs, bool reconciling);

    bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

signals:
    // Read the oldest `rows` from now on.
    void windowRequested(int rows);

private:
    QString m_campaign;
    PendingPage m_page;
    qint64 m_deliveryTimeoutMs = 0;
    bool m_reconciling = false;
    int m_window = kPage;
};

} // namespace coupon::console
