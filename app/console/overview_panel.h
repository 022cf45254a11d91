#pragma once

#include "types.h"

#include <QWidget>

class QLabel;
class QLineEdit;
class QPushButton;
class QSettings;
class QSortFilterProxyModel;
class QTableView;

namespace coupon::console {

class CampaignOverviewModel;
class ReservationTableModel;

// Every campaign at a glance (the "Campaigns" dock): state, window, limit,
// reserved, issued, pending, unresolved failed events, in flight, lag share
// and a health verdict; sortable by any column, filtered by id, live.
// Double-click (or Enter) focuses a campaign.
class OverviewPanel final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OverviewPanel)

public:
    explicit OverviewPanel(QWidget *parent = nullptr);

    void setOverview(const CampaignsOverview &overview);
    void setError(const QString &error);
    void setFocusedCampaign(const QString &id);

    CampaignOverviewModel *model() const { return m_model; }
    QSortFilterProxyModel *proxy() const { return m_proxy; }
    QTableView *view() const { return m_view; }
    QLabel *summaryLabel() const { return m_summary; }

    void saveSettings(QSettings &prefs) const;
    void restoreSettings(QSettings &prefs);

signals:
    void campaignActivated(const QString &id);

private:
    void updateSummary();

    CampaignOverviewModel *m_model;
    QSortFilterProxyModel *m_proxy;
    QLineEdit *m_filter;
    QLabel *m_summary;
    QTableView *m_view;
    qint64 m_readAtMs = 0;
};

// The "Reservations" tab: the focused campaign's pending reservations,
// oldest first, with their age (Redis' clock) and what each waits for;
// Settle now (couponctl settle's rules) and what it did; and, while the
// campaign is not current, the reconciler's step and since when.
class ReservationsPanel final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ReservationsPanel)

public:
    explicit ReservationsPanel(QWidget *parent = nullptr);

    void setCampaign(const QString &campaign);
    QString campaign() const { return m_campaign; }
    // The focused campaign's row of an overview reading (others are ignored).
    void setOverview(const CampaignsOverview &overview);
    void setSample(const ReservationsSample &sample);
    void showSettleReport(const QString &campaign, const SettleReport &report, const QString &error);

    ReservationTableModel *model() const { return m_model; }
    QTableView *view() const { return m_view; }
    QPushButton *settleButton() const { return m_settle; }
    QLabel *summaryLabel() const { return m_summary; }
    QLabel *reconcileLabel() const { return m_reconcile; }
    QLabel *settleLabel() const { return m_result; }

    // What `couponctl settle` prints.
    static QString settleText(const SettleReport &report);

signals:
    void settleRequested(const QString &campaign);
    void windowRequested(const QString &campaign, int rows);

private:
    void updateSummary();

    QString m_campaign;
    std::optional<CampaignOverview> m_row;
    qint64 m_redisNowMs = 0;
    qint64 m_deliveryTimeoutMs = 0;
    QString m_error;
    ReservationTableModel *m_model;
    QLabel *m_summary;
    QLabel *m_reconcile;
    QPushButton *m_settle;
    QLabel *m_result;
    QTableView *m_view;
};

} // namespace coupon::console
