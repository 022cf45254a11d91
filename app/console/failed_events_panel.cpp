#include "failed_events_panel.h"

#include "models.h"
#include "panel_parts.h"

#include <QLabel>
#include <QTableView>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace coupon::console {

FailedEventsPanel::FailedEventsPanel(QWidget *parent)
    : QWidget(parent)
    , m_model(new FailedEventTableModel(this))
    , m_total(new QLabel)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_total);
    QTableView *view = makeTableView(m_model, u"failedView"_s);
    view->setColumnWidth(FailedEventTableModel::Reason, 260);
    view->setColumnWidth(FailedEventTableModel::Key, 160);
    view->setColumnWidth(FailedEventTableModel::Value, 260);
    layout->addWidget(view);
}

void FailedEventsPanel::setCampaign(const QString &campaign)
{
    m_total->clear();
    m_model->setQuery(campaign);
}

void FailedEventsPanel::setCount(const QString &campaign, qint64 count)
{
    if (campaign == m_model->campaign())
        m_total->setText(tr("%1 poison message(s) recorded for this campaign").arg(QLocale().toString(count)));
}

void FailedEventsPanel::fetchNewer()
{
    m_model->fetchNewer();
}

} // namespace coupon::console
