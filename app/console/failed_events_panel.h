#pragma once

#include "coupon/mysql/store.h"

#include <QWidget>

#include <optional>

class QLabel;
class QPushButton;
class QTableView;

namespace coupon::console {

class FailedEventTableModel;

// The "Failed events" tab: the poison messages the worker recorded for the
// current campaign, paged in as the table scrolls, how many there are, and
// Retry… / Resolve… for the selected one (the window asks the dialogs and
// the backend; the panel only says which row).
class FailedEventsPanel final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FailedEventsPanel)

public:
    explicit FailedEventsPanel(QWidget *parent = nullptr);

    // Lists the failed events of `campaign` (none: empty).
    void setCampaign(const QString &campaign);
    // The count the backend answered; ignored unless it is for the table's campaign.
    void setCount(const QString &campaign, qint64 count);
    // Asks for the rows recorded since the last one loaded.
    void fetchNewer();
    // Reads the rows again (after a retry or resolve changed one).
    void reload();

    FailedEventTableModel *model() const { return m_model; }
    QTableView *view() const { return m_view; }
    QPushButton *retryButton() const { return m_retry; }
    QPushButton *resolveButton() const { return m_resolve; }
    // The selected row, if one is.
    std::optional<FailedEventRow> selected() const;

signals:
    void retryRequested(const coupon::FailedEventRow &row);
    void resolveRequested(const coupon::FailedEventRow &row);

private:
    void updateButtons();

    FailedEventTableModel *m_model;
    QTableView *m_view;
    QLabel *m_total;
    QPushButton *m_retry, *m_resolve;
};

} // namespace coupon::console
