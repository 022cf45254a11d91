#pragma once

#include "types.h"

#include <QWidget>

class QAction;
class QCheckBox;
class QLabel;
class QLineEdit;
class QTableView;

namespace coupon::console {

class CouponTableModel;

// The "Coupons" tab: the issued coupons of the current campaign at any size
// (the scroll bar spans them all; rows are read around what is shown),
// oldest or newest first, optionally of one user only, with a jump to a
// coupon id, a user or a time, their total and the export action.
class CouponBrowser final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CouponBrowser)

public:
    explicit CouponBrowser(QAction *exportAction, QWidget *parent = nullptr);

    // Lists the coupons of `campaign` (none: empty), keeping the user filter.
    void setCampaign(const QString &campaign);
    // Asks for the coupons issued since the last count.
    void fetchNewer();
    void focusFilter();
    void focusJump();
    // Jumps to what `text` names (see parseCouponJump()); false: not understood.
    bool jumpTo(const QString &text);

    bool newestFirst() const;
    void setNewestFirst(bool newestFirst);
    QByteArray columnState() const;
    void restoreColumnState(const QByteArray &state);

    CouponTableModel *model() const { return m_model; }
    QTableView *view() const { return m_view; }
    QLineEdit *userFilter() const { return m_userFilter; }
    QLineEdit *jumpBox() const { return m_jump; }
    QCheckBox *newestFirstBox() const { return m_newestFirst; }
    QLabel *totalLabel() const { return m_total; }
    QLabel *jumpStatus() const { return m_jumpStatus; }
    // -1 until the count for the current campaign and filter is in.
    qint64 total() const;

signals:
    // A jump landed on `row` (selected), or did not (`row` -1, the reason shown).
    void jumped(int row);

private:
    void applyUserFilter();
    void showTotal(qint64 total);
    void onLocated(int row, qint64 id);
    void keepViewOnInsert(int first, int last);

    CouponTableModel *m_model;
    QLineEdit *m_userFilter;
    QLineEdit *m_jump;
    QCheckBox *m_newestFirst;
    QLabel *m_total;
    QLabel *m_jumpStatus;
    QTableView *m_view;
    CouponJump m_pendingJump;
};

} // namespace coupon::console
