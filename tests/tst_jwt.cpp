// auth/jwt: the gateway's token rules, with keys made here by OpenSSL and the
// RFC 7515 examples as tokens minted elsewhere.

#include "coupon/auth/jwt.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

using namespace Qt::StringLiterals;
using namespace coupon;
using namespace coupon::auth;

namespace {

constexpr qint64 kNow = 1'900'000'000;

QByteArray pem(EVP_PKEY *key, bool privatePart)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (privatePart)
        PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    else
        PEM_write_bio_PUBKEY(bio, key);
    char *data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    QByteArray out(data, size);
    BIO_free(bio);
    return out;
}

struct KeyPair
{
    QByteArray privatePem, publicPem;
};

KeyPair generate(const char *type)
{
    EVP_PKEY *key = qstrcmp(type, "RSA") == 0 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(2048))
                                              : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    KeyPair pair{pem(key, true), pem(key, false)};
    EVP_PKEY_free(key);
    return pair;
}

QString write(QTemporaryDir &dir, const QString &name, const QByteArray &content)
{
    const QString path = dir.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size())
        qFatal("cannot write %s", qPrintable(path));
    return path;
}

QByteArray b64(const QByteArray &bytes)
{
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QByteArray json(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

const QByteArray kSecretJwks = R"({"keys":[{"kty":"oct","kid":"s1","alg":"HS256",
    "k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}]})";

} // namespace

class TestJwt : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    KeyPair m_rsa, m_ec;

    Verifier verifierFor(const QByteArray &keys, Expectations expectations = {})
    {
        Verifier verifier(std::move(expectations));
        auto set = KeySet::parse(keys);
        if (!set)
            qFatal("%s", qPrintable(set.error().message));
        verifier.setKeys(*set);
        return verifier;
    }

    Signer signerFor(const QString &name, const QByteArray &keys)
    {
        auto signer = Signer::fromFile(write(m_dir, name, keys));
        if (!signer)
            qFatal("%s", qPrintable(signer.error().message));
        return *signer;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_rsa = generate("RSA");
        m_ec = generate("EC");
    }

    void roundTrip_data()
    {
        QTest::addColumn<QByteArray>("signing");
        QTest::addColumn<QByteArray>("verifying");
        QTest::addColumn<QString>("alg");
        QTest::newRow("HS256") << kSecretJwks << kSecretJwks << u"HS256"_s;
        QTest::newRow("RS256") << m_rsa.privatePem << m_rsa.publicPem << u"RS256"_s;
        QTest::newRow("ES256") << m_ec.privatePem << m_ec.publicPem << u"ES256"_s;
    }
    void roundTrip()
    {
        QFETCH(QByteArray, signing);
        QFETCH(QByteArray, verifying);
        QFETCH(QString, alg);
        const Signer signer = signerFor(u"sign-"_s + alg, signing);
        QCOMPARE(algorithmName(signer.algorithm()), alg);
        const Verifier verifier = verifierFor(verifying);
        const QByteArray token = signer.mint({.user = 4242, .nowS = kNow, .ttlS = 60});
        const Result<qint64> user = verifier.verify(token, kNow);
        QVERIFY2(user.ok(), qPrintable(user ? QString() : user.error().message));
        QCOMPARE(*user, 4242);

        // One flipped bit anywhere in the signed part or the signature: refused.
        for (const qsizetype at : {qsizetype(5), token.indexOf('.') + 3, token.size() - 3}) {
            QByteArray tampered = token;
            tampered[at] = tampered[at] == 'A' ? 'B' : 'A';
            QVERIFY(!verifier.verify(tampered, kNow).ok());
        }
        // The verify context is reused: a failure leaves it fit for the next token.
        QCOMPARE(*verifier.verify(signer.mint({.user = 4243, .nowS = kNow, .ttlS = 60}), kNow), 4243);
    }

    // RFC 7515 A.1 and A.3: tokens signed by someone else's implementation.
    // Their only integer claim is exp, so it stands in for the user.
    void rfc7515Examples()
    {
        const QByteArray hs256 = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
                                 ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19"
                                 "yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        Expectations e;
        e.userClaim = u"exp"_s;
        e.issuer = u"joe"_s;
        const QByteArray secretNoKid = R"({"keys":[{"kty":"oct",
            "k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}]})";
        const Result<qint64> a1 = verifierFor(secretNoKid, e).verify(hs256, 1300819000);
        QVERIFY2(a1.ok(), qPrintable(a1 ? QString() : a1.error().message));
        QCOMPARE(*a1, 1300819380);

        const QByteArray es256 = "eyJhbGciOiJFUzI1NiJ9"
                                 ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19"
                                 "yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSAp"
                                 "mWQxfKTUJqPP3-Kg6NU1Q";
        const QByteArray ecJwks = R"({"keys":[{"kty":"EC","crv":"P-256",
            "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]})";
        const Result<qint64> a3 = verifierFor(ecJwks, e).verify(es256, 1300819000);
        QVERIFY2(a3.ok(), qPrintable(a3 ? QString() : a3.error().message));
        QCOMPARE(*a3, 1300819380);
        // ... and only before it expires (exp + the 30 s leeway).
        QCOMPARE(verifierFor(ecJwks, e).verify(es256, 1300819380 + 31).error().message, u"the token has expired"_s);
    }

    // The classic attacks on JWT verifiers.
    void algorithmIsTheKeys()
    {
        const Verifier rsa = verifierFor(m_rsa.publicPem);
        const QJsonObject claims{{u"sub"_s, u"7"_s}, {u"exp"_s, kNow + 60}};
        const QByteArray input = b64(json({{u"alg"_s, u"HS256"_s}})) + '.' + b64(json(claims));
        // HS256 "signed" with the public key's PEM as the HMAC secret.
        unsigned char mac[32];
        unsigned int length = 0;
        HMAC(EVP_sha256(), m_rsa.publicPem.constData(), int(m_rsa.publicPem.size()),
             reinterpret_cast<const unsigned char *>(input.constData()), size_t(input.size()), mac, &length);
        const QByteArray confused = input + '.' + b64(QByteArray(reinterpret_cast<const char *>(mac), length));
        QCOMPARE(rsa.verify(confused, kNow).error().message, u"the token's alg is not the one its key is for"_s);
        // alg none, with or without a signature.
        const QByteArray none = b64(json({{u"alg"_s, u"none"_s}})) + '.' + b64(json(claims));
        QVERIFY(!rsa.verify(QByteArray(none + '.'), kNow).ok());
        QCOMPARE(rsa.verify(QByteArray(none + ".AAAA"), kNow).error().message,
                 u"the token's alg is not the one its key is for"_s);
        // An RS256 token verified by an ES256 key.
        const QByteArray rs = signerFor(u"rs"_s, m_rsa.privatePem).mint({.user = 7, .nowS = kNow});
        QVERIFY(!verifierFor(m_ec.publicPem).verify(rs, kNow).ok());
    }

    // A token seen before is remembered, but never past its exp, nor past
    // the key it was signed with.
    void rememberedTokensStillExpireAndGoWithTheirKey()
    {
        Verifier verifier = verifierFor(m_ec.publicPem, {.skewS = 0});
        const QByteArray token
            = signerFor(u"ec-remember"_s, m_ec.privatePem).mint({.user = 5, .nowS = kNow, .ttlS = 60});
        QCOMPARE(*verifier.verify(token, kNow), 5);
        QCOMPARE(*verifier.verify(token, kNow + 1), 5); // remembered
        QCOMPARE(verifier.verify(token, kNow + 61).error().message, u"the token has expired"_s);
        QCOMPARE(*verifier.verify(token, kNow + 2), 5);
        verifier.setKeys(*KeySet::parse(m_rsa.publicPem));
        QVERIFY(!verifier.verify(token, kNow + 3).ok());
    }

    void claimsChecked()
    {
        Expectations e;
        e.issuer = u"https://id.example"_s;
        e.audience = u"coupons"_s;
        e.skewS = 10;
        const Verifier verifier = verifierFor(m_ec.publicPem, e);
        const Signer signer = signerFor(u"ec"_s, m_ec.privatePem);
        auto mint = [&](Signer::Claims c) { return signer.mint(c); };
        const Signer::Claims good{.user = 9, .nowS = kNow, .ttlS = 60, .issuer = e.issuer, .audience = e.audience};
        QVERIFY(verifier.verify(mint(good), kNow).ok());
        QVERIFY(verifier.verify(mint(good), kNow + 70).ok()); // within the leeway
        QCOMPARE(verifier.verify(mint(good), kNow + 71).error().message, u"the token has expired"_s);
        Signer::Claims later = good;
        later.notBeforeS = kNow + 100;
        later.ttlS = 200;
        QCOMPARE(verifier.verify(mint(later), kNow).error().message, u"the token is not valid yet (nbf)"_s);
        QVERIFY(verifier.verify(mint(later), kNow + 95).ok());
        Signer::Claims otherIssuer = good;
        otherIssuer.issuer = u"https://evil.example"_s;
        QCOMPARE(verifier.verify(mint(otherIssuer), kNow).error().message,
                 u"the token's issuer (iss) is not the one expected"_s);
        Signer::Claims otherAudience = good;
        otherAudience.audience = u"payments"_s;
        QCOMPARE(verifier.verify(mint(otherAudience), kNow).error().message,
                 u"the token is not for this audience (aud)"_s);
    }

    void malformedTokens_data()
    {
        QTest::addColumn<QByteArray>("token");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("two parts") << QByteArray("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0");
        QTest::newRow("four parts") << QByteArray("a.b.c.d");
        QTest::newRow("padding") << QByteArray("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0=.AAAA");
        QTest::newRow("standard alphabet") << QByteArray("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0+.AAAA");
        QTest::newRow("header not json") << QByteArray("bm90IGpzb24.eyJzdWIiOiIxIn0.AAAA");
        QTest::newRow("huge") << QByteArray(5000, 'a');
    }
    // Tokens signed correctly over parts that are not base64url as JWS
    // writes it: refused for the encoding, not by luck of the signature.
    void encodingIsStrict_data()
    {
        QTest::addColumn<QByteArray>("header");
        QTest::addColumn<QByteArray>("claims");
        const QByteArray header = b64(json({{u"alg"_s, u"HS256"_s}, {u"kid"_s, u"s1"_s}}));
        const QByteArray claims = b64(json({{u"sub"_s, u"5"_s}, {u"exp"_s, kNow}}));
        QTest::newRow("padding") << header << claims + "==";
        QTest::newRow("standard alphabet") << QByteArray(header).replace('-', '+').replace('_', '/') + "+" << claims;
        QTest::newRow("whitespace") << header << claims.left(4) + ' ' + claims.mid(4);
    }
    void encodingIsStrict()
    {
        QFETCH(QByteArray, header);
        QFETCH(QByteArray, claims);
        const QByteArray secret = QByteArray::fromBase64(
            "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
            QByteArray::Base64UrlEncoding);
        const QByteArray input = header + '.' + claims;
        unsigned char mac[32];
        unsigned int length = 0;
        HMAC(EVP_sha256(), secret.constData(), int(secret.size()),
             reinterpret_cast<const unsigned char *>(input.constData()), size_t(input.size()), mac, &length);
        const QByteArray token = input + '.' + b64(QByteArray(reinterpret_cast<const char *>(mac), length));
        QCOMPARE(verifierFor(kSecretJwks).verify(token, kNow).error().message,
                 u"a token is three base64url parts separated by dots"_s);
    }

    // A PEM key has no kid; issuers often write one anyway.
    void aPemKeyTakesTokensWithAnyKid()
    {
        Result<Signer> signer = Signer::fromFile(write(m_dir, u"ec-kid.jwks"_s,
                                                       R"({"keys":[{"kty":"EC","crv":"P-256","kid":"idp-2026",
                "x":"QKhS2Wx8gzyXM67fd1M6j_I-7epq0-sVtWwNhV_OQEU","y":"aOH0nW2id63MmJJtBfVaUkaAFpkJjJaawDh2IMgA0PY",
                "d":"lbbZGCVeBz15wBMbAqnXY7s7WN1Ark2xaaBVHGytnUY"}]})"));
        QVERIFY2(signer.ok(), qPrintable(signer ? QString() : signer.error().message));
        const QByteArray token = signer->mint({.user = 77, .nowS = kNow});
        QVERIFY(
            QByteArray::fromBase64(token.left(token.indexOf('.')), QByteArray::Base64UrlEncoding).contains("idp-2026"));
        // The same public key as PEM (made with Python's cryptography).
        const QByteArray pem = "-----BEGIN PUBLIC KEY-----\n"
                               "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEQKhS2Wx8gzyXM67fd1M6j/I+7epq\n"
                               "0+sVtWwNhV/OQEVo4fSdbaJ3rcyYkm0F9VpSRoAWmQmMlprAOHYgyADQ9g==\n"
                               "-----END PUBLIC KEY-----\n";
        const Result<qint64> user = verifierFor(pem).verify(token, kNow);
        QVERIFY2(user.ok(), qPrintable(user ? QString() : user.error().message));
        QCOMPARE(*user, 77);
    }

    void malformedTokens()
    {
        QFETCH(QByteArray, token);
        const Result<qint64> user = verifierFor(kSecretJwks).verify(token, kNow);
        QVERIFY(!user.ok());
        QCOMPARE(user.error().code, u"invalid_token"_s);
    }

    void userClaimMustBeAUserId()
    {
        const QByteArray secret = QByteArray::fromBase64(
            "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
            QByteArray::Base64UrlEncoding);
        const Verifier verifier = verifierFor(kSecretJwks);
        auto token = [&](const QJsonObject &claims, const QJsonObject &header) {
            const QByteArray input = b64(json(header)) + '.' + b64(json(claims));
            unsigned char mac[32];
            unsigned int length = 0;
            HMAC(EVP_sha256(), secret.constData(), int(secret.size()),
                 reinterpret_cast<const unsigned char *>(input.constData()), size_t(input.size()), mac, &length);
            return QByteArray(input + '.' + b64(QByteArray(reinterpret_cast<const char *>(mac), length)));
        };
        const QJsonObject header{{u"alg"_s, u"HS256"_s}, {u"kid"_s, u"s1"_s}};
        QCOMPARE(*verifier.verify(token({{u"sub"_s, 12}, {u"exp"_s, kNow}}, header), kNow), 12);
        // A JSON integer past 2^53 stays exact (a double would make 2^53 + 1 into 2^53).
        QCOMPARE(*verifier.verify(token({{u"sub"_s, qint64(9007199254740993)}, {u"exp"_s, kNow}}, header), kNow),
                 qint64(9007199254740993));
        for (const QJsonValue sub : {QJsonValue(u"0"_s), QJsonValue(u"-3"_s), QJsonValue(u"12a"_s), QJsonValue(1.5),
                                     QJsonValue(u"9223372036854775808"_s), QJsonValue()}) {
            QJsonObject claims{{u"exp"_s, kNow}};
            if (!sub.isNull())
                claims[u"sub"_s] = sub;
            QVERIFY(!verifier.verify(token(claims, header), kNow).ok());
        }
        QCOMPARE(verifier.verify(token({{u"sub"_s, u"5"_s}}, header), kNow).error().message, u"the token has no exp"_s);
        QCOMPARE(
            verifier
                .verify(token({{u"sub"_s, u"5"_s}, {u"exp"_s, kNow}}, {{u"alg"_s, u"HS256"_s}, {u"kid"_s, u"s2"_s}}),
                        kNow)
                .error()
                .message,
            u"the token's key (kid) is not one of ours"_s);
        QCOMPARE(verifier
                     .verify(token({{u"sub"_s, u"5"_s}, {u"exp"_s, kNow}},
                                   {{u"alg"_s, u"HS256"_s}, {u"crit"_s, QJsonArray{u"b64"_s}}}),
                             kNow)
                     .error()
                     .code,
                 u"invalid_token"_s);
    }

    void keyFiles_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("message");
        QTest::newRow("text") << QByteArray("hunter2") << u"neither PEM nor a JWKS (JSON)"_s;
        QTest::newRow("no keys array") << QByteArray("{}")
                                       << u"a JWKS file must be a JSON object with a \"keys\" array"_s;
        QTest::newRow("short secret") << QByteArray(R"({"keys":[{"kty":"oct","k":"c2hvcnQ"}]})")
                                      << u"key 0 of the JWKS: an oct key needs k, base64url, of at least 32 bytes"_s;
        QTest::newRow("only enc keys") << QByteArray(R"({"keys":[{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}]})")
                                       << u"no key for HS256, RS256 or ES256 signatures"_s;
        QTest::newRow("bad pem") << QByteArray("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
                                 << u"not a PEM public key, certificate or private key OpenSSL can read"_s;
    }
    void keyFiles()
    {
        QFETCH(QByteArray, content);
        QFETCH(QString, message);
        const auto set = KeySet::parse(content);
        QVERIFY(!set.ok());
        QCOMPARE(set.error().code, u"auth.keys"_s);
        QCOMPARE(set.error().message, message);
        QVERIFY(!content.contains("hunter2") || !set.error().message.contains(u"hunter2"_s));
    }

    void jwksPicksByKid()
    {
        const QByteArray two = R"({"keys":[
            {"kty":"oct","kid":"old","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"},
            {"kty":"oct","kid":"new","k":"bmV3LXNlY3JldC1uZXctc2VjcmV0LW5ldy1zZWNyZXQtbmV3LXNlY3JldA"}]})";
        const Signer oldSigner = signerFor(u"old"_s, kSecretJwks); // kid s1, the same secret as "old"
        const Verifier verifier = verifierFor(two);
        // kid s1 is not in the set, even though its secret is.
        QVERIFY(!verifier.verify(oldSigner.mint({.user = 3, .nowS = kNow}), kNow).ok());
        const Signer newSigner = signerFor(
            u"new"_s,
            R"({"keys":[{"kty":"oct","kid":"new","k":"bmV3LXNlY3JldC1uZXctc2VjcmV0LW5ldy1zZWNyZXQtbmV3LXNlY3JldA"}]})");
        QCOMPARE(*verifier.verify(newSigner.mint({.user = 3, .nowS = kNow}), kNow), 3);
    }
};

QTEST_GUILESS_MAIN(TestJwt)
#include "tst_jwt.moc"
