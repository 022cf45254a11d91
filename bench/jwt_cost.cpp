#include "jwt_cost.h"

#include "coupon/auth/jwt.h"

#include <QElapsedTimer>

#include <vector>

using namespace Qt::StringLiterals;

namespace coupon::bench {

QString jwtCost(const QString &signingKey, const QString &verifyingKey, int tokens, QTextStream &out)
{
    Result<auth::Signer> signer = auth::Signer::fromFile(signingKey);
    if (!signer)
        return signer.error().message;
    Result<std::shared_ptr<const auth::KeySet>> keys = auth::KeySet::fromFile(verifyingKey);
    if (!keys)
        return keys.error().message;
    auth::Verifier verifier({});
    verifier.setKeys(*keys);
    constexpr qint64 kNow = 1'900'000'000;
    std::vector<QByteArray> minted;
    minted.reserve(size_t(tokens));
    QElapsedTimer clock;
    clock.start();
    for (int i = 0; i < tokens; ++i)
        minted.push_back(signer->mint({.user = i + 1, .nowS = kNow, .ttlS = 300}));
    const double signUs = double(clock.nsecsElapsed()) / 1e3 / tokens;
    clock.restart();
    int verified = 0;
    for (const QByteArray &token : minted)
        verified += verifier.verify(token, kNow).ok() ? 1 : 0;
    const double verifyUs = double(clock.nsecsElapsed()) / 1e3 / tokens;
    if (verified != tokens)
        return u"%1 of %2 tokens did not verify"_s.arg(tokens - verified).arg(tokens);
    out << auth::algorithmName(signer->algorithm()) << ": mint " << QString::number(signUs, 'f', 1) << " us, verify "
        << QString::number(verifyUs, 'f', 1) << " us per token (" << tokens << " tokens)\n";
    out.flush();
    return {};
}

} // namespace coupon::bench
