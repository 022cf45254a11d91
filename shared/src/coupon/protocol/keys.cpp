#include "coupon/protocol/keys.h"

namespace coupon {

CampaignKeys::CampaignKeys(const QString &campaign)
{
    const QByteArray prefix = "coupon:{" + campaign.toLatin1() + "}:";
    meta = prefix + "meta";
    users = prefix + "users";
    count = prefix + "count";
    pending = prefix + "pending";
    maintenance = prefix + "maintenance";
    reconcile = prefix + "reconcile";
}

} // namespace coupon
