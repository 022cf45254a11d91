#pragma once

#include "types.h"

#include <QWidget>

class QAction;
class QLabel;
class QLineEdit;
class QTableView;

namespace coupon::console {

class CouponTableModel;

// The "Coupons" tab: the issued coupons of the current campaign, paged in
// as the table scrolls, optionally of one user only, with their total and
// the export action.
class CouponBrowser final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CouponBrowser)

public:
    explicit CouponBrowser(QAction *exportAction, QWidget *parent = nullptr);

    // Lists the coupons of `campaign` (none: empty), keeping the user filter.
    void setCampaign(const QString &campaign);
    // The count the backend answered; ignored unless it is for the table's campaign.
    void setCount(const QString &campaign, qint64 count);
    // Asks for the rows issued since the last one loaded.
    void fetchNewer();
    void focusFilter();

    QByteArray columnState() const;
    void restoreColumnState(const QByteArray &state);

    CouponTableModel *model() const { return m_model; }
    QLineEdit *userFilter() const { return m_userFilter; }
    QLabel *totalLabel() const { return m_total; }
    // -1 until the count for the current campaign and filter is in.
    qint64 total() const { return m_count; }

signals:
    // The filter changed: the total of `campaign` for `filter` is wanted.
    void countRequested(const QString &campaign, const UserFilter &filter);

private:
    void applyUserFilter();

    CouponTableModel *m_model;
    QLineEdit *m_userFilter;
    QLabel *m_total;
    QTableView *m_view;
    qint64 m_count = -1;
};

} // namespace coupon::console
