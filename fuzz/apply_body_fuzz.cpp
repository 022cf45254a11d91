// Fuzz target for the apply body's JSON reader (coupon/protocol/apply_request.h).
//
// Whatever the bytes: no crash, and either a user id in 1..2^63-1 or a
// refusal with a stable code (bad_json, bad_user_id) and a message. And the
// reader must read what another JSON reader reads: when it accepts, Qt's own
// parser must find a top-level object whose "userId" (keys unescaped, the
// last duplicate winning, as Python, JS and Go do) is that number (compared
// where a double is exact), and the input must be valid UTF-8. Built with
// libFuzzer under -DCOUPON_FUZZ=ON (scripts/fuzz); otherwise with a main()
// that replays the files given (the seed corpus, as a unit test).

#include "coupon/base/error.h"
#include "coupon/protocol/apply_request.h"

#include "fuzz_check.h"

#include <QByteArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QString>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

bool isValidUtf8(const QByteArray &bytes)
{
    // Qt replaces what is not UTF-8 (and encoded surrogates) with U+FFFD;
    // a round trip gives the same bytes back only for valid UTF-8 without
    // U+FFFD in it (which the corpus has no reason to contain).
    return !bytes.contains("\xEF\xBF\xBD") && QString::fromUtf8(bytes).toUtf8() == bytes;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    const coupon::Result<qint64> parsed = coupon::parseApplyBody(input);
    if (!parsed) {
        const coupon::Error &e = parsed.error();
        FUZZ_CHECK(e.is(coupon::Errc::BadJson) || e.is(coupon::Errc::BadUserId));
        FUZZ_CHECK(!e.message.isEmpty());
        return 0;
    }
    const qint64 id = *parsed;
    FUZZ_CHECK(id >= 1);
    FUZZ_CHECK(isValidUtf8(input));
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(input, &error);
    if (error.error == QJsonParseError::NoError) {
        FUZZ_CHECK(doc.isObject());
        const QJsonValue value = doc.object().value(QStringLiteral("userId"));
        FUZZ_CHECK(value.isDouble());
        if (id <= (qint64(1) << 53))
            FUZZ_CHECK(value.toDouble() == double(id));
    }
    return 0;
}

#ifndef COUPON_LIBFUZZER
#include "replay_main.h"
#endif
