#include "coupon/loadgen/tokens.h"

#include <QDateTime>

using namespace Qt::StringLiterals;

namespace coupon {

TokenMinter::TokenMinter(auth::Signer signer, QString issuer, QString audience)
    : m_signer(std::move(signer))
    , m_issuer(std::move(issuer))
    , m_audience(std::move(audience))
{ }

Result<std::shared_ptr<const TokenMinter>> TokenMinter::fromSettings(const Settings &settings)
{
    if (settings.signingKeyPath.isEmpty())
        return std::shared_ptr<const TokenMinter>();
    Result<auth::Signer> signer = auth::Signer::fromFile(settings.signingKeyPath);
    if (!signer)
        return Error(Errc::ConfigInvalid, u"auth.signing.key: %1"_s.arg(signer.error().message));
    return std::shared_ptr<const TokenMinter>(
        new TokenMinter(std::move(signer).value(), settings.gateway.auth.issuer, settings.gateway.auth.audience));
}

QByteArray TokenMinter::token(qint64 user, int ttlS) const
{
    return m_signer.mint({.user = user,
                          .nowS = QDateTime::currentSecsSinceEpoch(),
                          .ttlS = ttlS,
                          .issuer = m_issuer,
                          .audience = m_audience});
}

QByteArray TokenMinter::headerLine(qint64 user) const
{
    return "Authorization: Bearer " + token(user) + "\r\n";
}

} // namespace coupon
