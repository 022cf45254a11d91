#pragma once

// JSON Web Tokens (RFC 7519, JWS compact form, RFC 7515) for the gateway's
// identity: verification with keys loaded once from a PEM or JWKS file, and
// minting for couponctl token, simulate and the console.
//
// Every signature is OpenSSL's (HMAC, EVP_DigestVerify / EVP_DigestSign);
// what is ours is the framing around it: base64url, the two JSON objects,
// the choice of key and the claim checks. Debian 12's libjwt (1.10) was the
// other candidate: it has no JWKS and no key ids, and parses the PEM key
// again for every token it checks.
//
// The rules a token must meet:
// - three base64url parts; the header names `alg` (HS256, RS256 or ES256)
//   and no `crit` extension;
// - the key: the one whose JWKS `kid` the header names, or the only key
//   when it names none; its algorithm is fixed by the key (an RSA key
//   verifies RS256 only, a P-256 key ES256 only, a secret HS256 only), so a
//   token cannot choose `none`, nor turn a public key into an HMAC secret;
// - `exp` present and not past, `nbf` (when present) reached, both with
//   the configured leeway; `iss` and `aud` equal to the configured ones when
//   those are set;
// - the user claim (`sub` by default) a user id: 1..2^63-1, as a decimal
//   string or a JSON integer.

#include "coupon/base/result.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QHash>
#include <QString>

#include <memory>
#include <optional>
#include <vector>

namespace coupon::auth {

enum class Algorithm { HS256, RS256, ES256 };
QString algorithmName(Algorithm algorithm);

class KeySet
{
public:
    struct Key;

    // A PEM file (one public key, certificate or private key) or a JWKS
    // file ({"keys": [...]}, RFC 7517: kty RSA, EC with crv P-256, oct).
    // JWKS entries for another use (use = enc) or algorithm are skipped; a
    // file with no usable key is an error.
    static Result<std::shared_ptr<const KeySet>> fromFile(const QString &path);
    static Result<std::shared_ptr<const KeySet>> parse(const QByteArray &content);

    KeySet();
    ~KeySet();
    KeySet(const KeySet &) = delete;
    KeySet &operator=(const KeySet &) = delete;

    int size() const { return int(m_keys.size()); }
    // The key a token's header names (kid may be empty), or nullptr. A set
    // of one key without a kid (a PEM file) answers for any kid.
    const Key *find(QByteArrayView kid) const;
    const Key *at(int i) const { return m_keys[size_t(i)].get(); }
    static Algorithm algorithmOf(const Key &key);
    static bool canSign(const Key &key);

private:
    std::vector<std::unique_ptr<Key>> m_keys;
};

struct Expectations
{
    QString userClaim = QStringLiteral("sub");
    QString issuer;   // empty: not checked
    QString audience; // empty: not checked
    int skewS = 30;
};

// Errors are Errc::AuthInvalid ("invalid_token") with a message safe to
// give the client (it names the rule broken, never the key).
//
// Tokens that verified are remembered (by their SHA-256, at most
// kRemembered, forgotten all at once when full and on setKeys) until they
// expire: a client that retries, or polls its status, with the same token
// costs a hash instead of a signature check (ES256: ~1 against ~110 us
// here). A Verifier is used from one thread; check() from any.
class Verifier
{
public:
    static constexpr qsizetype kRemembered = 16384;

    explicit Verifier(Expectations expectations);

    void setKeys(std::shared_ptr<const KeySet> keys);
    bool hasKeys() const { return m_keys && m_keys->size() > 0; }

    // The user a valid token names (remembered, or checked and remembered).
    Result<qint64> verify(QByteArrayView token, qint64 nowS) const;

    // The parts of verify(), for a caller that checks on other threads:
    // check() is safe from any thread (no memory of tokens; `exp` is set
    // when the token verified); remembered() and remember() are this
    // verifier's thread's.
    static Result<qint64> check(const KeySet &keys, const Expectations &expectations, QByteArrayView token, qint64 nowS,
                                double *exp);
    std::optional<qint64> remembered(QByteArrayView token, qint64 nowS) const;
    void remember(QByteArrayView token, qint64 user, double exp) const;
    const std::shared_ptr<const KeySet> &keys() const { return m_keys; }
    const Expectations &expectations() const { return m_expectations; }
    // Every key an HS256 secret: a check costs less than handing it to a thread.
    bool symmetricOnly() const;

private:
    struct Verified
    {
        qint64 user = 0;
        double exp = 0;
    };

    Expectations m_expectations;
    std::shared_ptr<const KeySet> m_keys;
    mutable QHash<QByteArray, Verified> m_verified;
};

// Mints tokens with the first key of a set that can sign (a private key, or
// a JWKS oct secret). Safe to use from several threads at once.
class Signer
{
public:
    static Result<Signer> fromFile(const QString &path);

    struct Claims
    {
        qint64 user = 0;
        qint64 nowS = 0;
        int ttlS = 300;
        QString issuer;        // empty: no iss
        QString audience;      // empty: no aud
        qint64 notBeforeS = 0; // 0: no nbf
    };
    QByteArray mint(const Claims &claims) const;
    Algorithm algorithm() const;

private:
    std::shared_ptr<const KeySet> m_keys;
    const KeySet::Key *m_key = nullptr;
};

} // namespace coupon::auth
