#pragma once

#include "types.h"

#include <QHash>
#include <QToolBar>

class QComboBox;
class QLabel;

namespace coupon::console {

// The "Campaign" toolbar: which campaign the window shows (a list of those
// the database has), its state in one line, and the actions on it. It keeps
// the last list it was given, so the window can look a campaign up.
class CampaignBar final : public QToolBar
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CampaignBar)

public:
    // `campaignActions` follow the selector, `trailingActions` sit at the far end.
    CampaignBar(const QList<QAction *> &campaignActions, const QList<QAction *> &trailingActions,
                QWidget *parent = nullptr);

    // Shows `campaigns`: keeps the current one if it is still there, else
    // takes the one waiting to be selected, else the newest.
    void setCampaigns(const CampaignList &campaigns);
    QString currentCampaign() const;
    bool contains(const QString &id) const { return m_campaigns.contains(id); }
    Campaign campaign(const QString &id) const { return m_campaigns.value(id); }

    // Selects `id` if it is listed and returns true; otherwise remembers it
    // for the next list and returns false.
    bool select(const QString &id);
    // Selects `id` once a list has it (the next one, usually).
    void selectWhenListed(const QString &id) { m_pendingSelection = id; }
    // Makes `id`, which must be listed, the current campaign.
    void setCurrentCampaign(const QString &id);

signals:
    void currentCampaignChanged();

private:
    void showInfo();

    QComboBox *m_box;
    QLabel *m_info;
    QHash<QString, Campaign> m_campaigns;
    QString m_pendingSelection;
};

} // namespace coupon::console
