#pragma once

#include "coupon/auth/jwt.h"
#include "coupon/base/result.h"
#include "coupon/base/settings.h"

#include <QByteArray>

#include <memory>

namespace coupon {

// Mints the bearer tokens a simulated user (or couponctl token) sends: signed
// with auth.signing.key, iss/aud from gateway.auth.issuer/audience, so a
// gateway with the same configuration accepts them. Safe from any thread.
class TokenMinter
{
public:
    // nullptr when auth.signing.key is empty (requests go without a token).
    static Result<std::shared_ptr<const TokenMinter>> fromSettings(const Settings &settings);

    QByteArray token(qint64 user, int ttlS = 300) const;
    // "Authorization: Bearer <token>\r\n"
    QByteArray headerLine(qint64 user) const;

private:
    TokenMinter(auth::Signer signer, QString issuer, QString audience);

    auth::Signer m_signer;
    QString m_issuer;
    QString m_audience;
};

} // namespace coupon
