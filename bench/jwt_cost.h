#pragma once

#include <QString>
#include <QTextStream>

namespace coupon::bench {

// Mints `tokens` tokens with the signing key file and verifies each with the
// verifying key file, on this thread; prints the algorithm and microseconds
// per token for both. Returns an error text, empty on success.
QString jwtCost(const QString &signingKey, const QString &verifyingKey, int tokens, QTextStream &out);

} // namespace coupon::bench
