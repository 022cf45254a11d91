#include "campaign_bar.h"

#include "panel_parts.h"

#include <QComboBox>
#include <QLabel>

using namespace Qt::StringLiterals;

namespace coupon::console {

CampaignBar::CampaignBar(const QList<QAction *> &campaignActions, const QList<QAction *> &trailingActions,
                         QWidget *parent)
    : QToolBar(tr("Campaign"), parent)
    , m_box(new QComboBox)
    , m_info(new QLabel)
{
    setObjectName(u"campaignToolBar"_s);
    setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    setIconSize({20, 20});
    addWidget(new QLabel(tr("  Campaign ")));
    m_box->setObjectName(u"campaignBox"_s);
    m_box->setMinimumWidth(220);
    m_box->setPlaceholderText(tr("(none yet: Simulate creates one)"));
    addWidget(m_box);
    addActions(campaignActions);
    addSeparator();
    m_info->setObjectName(u"campaignInfo"_s);
    addWidget(m_info);
    auto *spacer = new QWidget;
    spacer->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    addWidget(spacer);
    addActions(trailingActions);

    connect(m_box, &QComboBox::currentIndexChanged, this, [this] {
        showInfo();
        emit currentCampaignChanged();
    });
    showInfo();
}

void CampaignBar::setCampaigns(const CampaignList &campaigns)
{
    QStringList before, after;
    for (int i = 0; i < m_box->count(); ++i)
        before << m_box->itemData(i).toString();
    m_campaigns.clear();
    for (const Campaign &c : campaigns) {
        m_campaigns.insert(c.id, c);
        after << c.id;
    }
    if (before != after) {
        const QString current = currentCampaign();
        QSignalBlocker block(m_box);
        m_box->clear();
        for (const Campaign &c : campaigns)
            m_box->addItem(c.id == c.name || c.name.isEmpty() ? c.id : u"%1 — %2"_s.arg(c.id, c.name), c.id);
        m_box->setCurrentIndex(m_box->findData(current));
    }
    for (int i = 0; i < m_box->count(); ++i) {
        const Campaign &c = m_campaigns[m_box->itemData(i).toString()];
        m_box->setItemIcon(i, consoleIcon(c.state == u"open"_s ? u"open"_s : u"close"_s));
        m_box->setItemData(i, tr("%1: limit %2, issued %3, %4").arg(c.id).arg(c.limit).arg(c.issued).arg(c.state),
                           Qt::ToolTipRole);
    }
    if (!m_pendingSelection.isEmpty() && m_campaigns.contains(m_pendingSelection))
        setCurrentCampaign(std::exchange(m_pendingSelection, {}));
    else if (m_box->currentIndex() < 0 && m_box->count() > 0 && m_pendingSelection.isEmpty())
        m_box->setCurrentIndex(m_box->count() - 1);
    showInfo();
}

QString CampaignBar::currentCampaign() const
{
    return m_box->currentData().toString();
}

bool CampaignBar::select(const QString &id)
{
    if (m_box->findData(id) < 0) {
        m_pendingSelection = id;
        return false;
    }
    m_pendingSelection.clear();
    setCurrentCampaign(id);
    return true;
}

void CampaignBar::setCurrentCampaign(const QString &id)
{
    m_box->setCurrentIndex(m_box->findData(id));
}

void CampaignBar::showInfo()
{
    const QString id = currentCampaign();
    if (!m_campaigns.contains(id)) {
        m_info->setText(tr("no campaign selected"));
        return;
    }
    const Campaign c = m_campaigns.value(id);
    QString window;
    if (c.startsAt.isValid() || c.endsAt.isValid())
        window = tr(" · window %1 – %2")
                     .arg(c.startsAt.isValid() ? c.startsAt.toLocalTime().toString(u"MM-dd HH:mm"_s) : u"…"_s,
                          c.endsAt.isValid() ? c.endsAt.toLocalTime().toString(u"MM-dd HH:mm"_s) : u"…"_s);
    m_info->setText(tr("<b>%1</b> · limit %2 · issued %3%4")
                        .arg(c.state == u"open"_s ? tr("open") : tr("closed"))
                        .arg(c.limit)
                        .arg(c.issued)
                        .arg(window));
}

} // namespace coupon::console
