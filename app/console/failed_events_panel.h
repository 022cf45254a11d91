#pragma once

#include <QWidget>

class QLabel;

namespace coupon::console {

class FailedEventTableModel;

// The "Failed events" tab: the poison messages the worker recorded for the
// current campaign, paged in as the table scrolls, and how many there are.
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

    FailedEventTableModel *model() const { return m_model; }

private:
    FailedEventTableModel *m_model;
    QLabel *m_total;
};

} // namespace coupon::console
