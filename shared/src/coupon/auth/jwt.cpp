#include "coupon/auth/jwt.h"

#include "coupon/base/validation.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <atomic>
#include <unordered_map>

using namespace Qt::StringLiterals;

namespace coupon::auth {

namespace {

constexpr auto kBase64Url = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;
constexpr qsizetype kMaxToken = 4096;
constexpr int kMinRsaBits = 2048;
constexpr qsizetype kMinSecretBytes = 32; // RFC 7518 3.2: at least the hash's size

// unique_ptr deleters for OpenSSL's objects.
template <auto Free>
struct Deleter
{
    template <typename T>
    void operator()(T *p) const
    {
        Free(p);
    }
};
using Bio = std::unique_ptr<BIO, Deleter<BIO_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using EcdsaSig = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG_free>>;
using ParamBuilder = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM_free>>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using Certificate = std::unique_ptr<X509, Deleter<X509_free>>;
using Pkey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using Bn = std::unique_ptr<BIGNUM, Deleter<BN_free>>;

// SHA-256, fetched once: EVP_sha256() makes OpenSSL 3 look it up per use.
const EVP_MD *sha256()
{
    static EVP_MD *md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return md;
}

Error invalid(const QString &why)
{
    return Error(Errc::AuthInvalid, why);
}

Error keyError(const QString &why)
{
    return Error(Errc::AuthKeys, why);
}

std::optional<QByteArray> fromBase64Url(QByteArrayView text)
{
    // Only the URL alphabet, no padding (RFC 7515 2).
    for (const char c : text) {
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return std::nullopt;
    }
    if (text.size() % 4 == 1)
        return std::nullopt;
    auto decoded = QByteArray::fromBase64Encoding(
        text.toByteArray(), QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return std::nullopt;
    return std::move(decoded.decoded);
}

std::optional<QJsonObject> jsonObject(const QByteArray &bytes)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return std::nullopt;
    return doc.object();
}

QByteArray b64(const QByteArray &bytes)
{
    return bytes.toBase64(kBase64Url);
}

} // namespace

struct KeySet::Key
{
    QByteArray kid;
    Algorithm algorithm = Algorithm::HS256;
    Pkey pkey;         // RS256, ES256
    QByteArray secret; // HS256
    bool privateKey = false;
    // Names this key for the verify contexts each thread keeps (below).
    quint64 id = nextKeyId();

    static quint64 nextKeyId()
    {
        static std::atomic<quint64> next{1};
        return next++;
    }
};

namespace {

// A verify operation set up once per key and thread (EVP_PKEY_verify_init,
// padding, digest) and reused for every token: setting it up per token cost
// more than the ES256 check itself (measured: 158 against 127 us a token).
// Keyed by Key::id, never by address: a key freed by a reload cannot lend
// its context to a new key at the same address.
EVP_PKEY_CTX *verifyContext(const KeySet::Key &key)
{
    thread_local std::unordered_map<quint64, PkeyCtx> contexts;
    if (auto it = contexts.find(key.id); it != contexts.end())
        return it->second.get();
    PkeyCtx context(EVP_PKEY_CTX_new_from_pkey(nullptr, key.pkey.get(), nullptr));
    if (!context || EVP_PKEY_verify_init(context.get()) != 1
        || EVP_PKEY_CTX_set_signature_md(context.get(), sha256()) != 1
        || (key.algorithm == Algorithm::RS256 && EVP_PKEY_CTX_set_rsa_padding(context.get(), RSA_PKCS1_PADDING) != 1))
        return nullptr;
    if (contexts.size() >= 64) // keys of reloads long past
        contexts.clear();
    return contexts.emplace(key.id, std::move(context)).first->second.get();
}

} // namespace

QString algorithmName(Algorithm algorithm)
{
    switch (algorithm) {
    case Algorithm::HS256: return u"HS256"_s;
    case Algorithm::RS256: return u"RS256"_s;
    case Algorithm::ES256: return u"ES256"_s;
    }
    return {};
}

KeySet::KeySet() = default;
KeySet::~KeySet() = default;

const KeySet::Key *KeySet::find(QByteArrayView kid) const
{
    // One key without a kid of its own (a PEM file) is the key for every
    // token, whatever kid the issuer writes into it.
    if (m_keys.size() == 1 && (kid.isEmpty() || m_keys.front()->kid.isEmpty()))
        return m_keys.front().get();
    if (kid.isEmpty())
        return nullptr;
    for (const auto &key : m_keys) {
        if (key->kid == kid)
            return key.get();
    }
    return nullptr;
}

Algorithm KeySet::algorithmOf(const Key &key)
{
    return key.algorithm;
}

bool KeySet::canSign(const Key &key)
{
    return key.algorithm == Algorithm::HS256 || key.privateKey;
}

namespace {

// The algorithm an asymmetric key verifies, or an error saying why it cannot be used.
Result<Algorithm> algorithmForPkey(EVP_PKEY *pkey)
{
    switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
        if (EVP_PKEY_get_bits(pkey) < kMinRsaBits)
            return keyError(
                u"an RSA key of %1 bits: at least %2 are needed"_s.arg(EVP_PKEY_get_bits(pkey)).arg(kMinRsaBits));
        return Algorithm::RS256;
    case EVP_PKEY_EC: {
        char group[64] = {};
        size_t length = 0;
        if (EVP_PKEY_get_group_name(pkey, group, sizeof group, &length) != 1
            || (qstrcmp(group, "prime256v1") != 0 && qstrcmp(group, "P-256") != 0))
            return keyError(u"an EC key on curve %1: only P-256 (ES256) is supported"_s.arg(QLatin1String(group)));
        return Algorithm::ES256;
    }
    default: return keyError(u"a key that is neither RSA nor EC P-256"_s);
    }
}

Result<std::unique_ptr<KeySet::Key>> pemKey(const QByteArray &content)
{
    Bio bio(BIO_new_mem_buf(content.constData(), int(content.size())));
    auto key = std::make_unique<KeySet::Key>();
    if (content.contains("PRIVATE KEY-----")) {
        // An encrypted key is refused, never asked about on a terminal.
        pem_password_cb *noPassphrase = [](char *, int, int, void *) { return 0; };
        key->pkey.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassphrase, nullptr));
        key->privateKey = true;
    } else if (content.contains("BEGIN CERTIFICATE-----")) {
        Certificate certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
        if (certificate)
            key->pkey.reset(X509_get_pubkey(certificate.get()));
    } else {
        key->pkey.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    }
    if (!key->pkey)
        return keyError(u"not a PEM public key, certificate or private key OpenSSL can read"_s);
    Result<Algorithm> algorithm = algorithmForPkey(key->pkey.get());
    if (!algorithm)
        return algorithm.error();
    key->algorithm = *algorithm;
    return key;
}

Bn bignum(const QJsonObject &jwk, const char *member)
{
    const std::optional<QByteArray> bytes = fromBase64Url(jwk.value(QLatin1String(member)).toString().toLatin1());
    if (!bytes || bytes->isEmpty())
        return nullptr;
    return Bn(BN_bin2bn(reinterpret_cast<const unsigned char *>(bytes->constData()), int(bytes->size()), nullptr));
}

Result<Pkey> pkeyFromParams(const char *type, OSSL_PARAM_BLD *builder, bool privateKey)
{
    Params params(OSSL_PARAM_BLD_to_param(builder));
    PkeyCtx context(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY *pkey = nullptr;
    if (!params || !context || EVP_PKEY_fromdata_init(context.get()) != 1
        || EVP_PKEY_fromdata(context.get(), &pkey, privateKey ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params.get())
            != 1)
        return keyError(u"OpenSSL refused the key's parameters"_s);
    return Pkey(pkey);
}

// One JWKS entry; nullptr for a key of another use or algorithm (skipped).
Result<std::unique_ptr<KeySet::Key>> jwkKey(const QJsonObject &jwk)
{
    const QString kty = jwk.value(u"kty"_s).toString();
    const QString alg = jwk.value(u"alg"_s).toString();
    const QString use = jwk.value(u"use"_s).toString();
    if (!use.isEmpty() && use != u"sig"_s)
        return std::unique_ptr<KeySet::Key>();
    auto key = std::make_unique<KeySet::Key>();
    key->kid = jwk.value(u"kid"_s).toString().toUtf8();
    ParamBuilder builder(OSSL_PARAM_BLD_new());
    if (kty == u"oct"_s) {
        if (!alg.isEmpty() && alg != u"HS256"_s)
            return std::unique_ptr<KeySet::Key>();
        const std::optional<QByteArray> secret = fromBase64Url(jwk.value(u"k"_s).toString().toLatin1());
        if (!secret || secret->size() < kMinSecretBytes)
            return keyError(u"an oct key needs k, base64url, of at least %1 bytes"_s.arg(kMinSecretBytes));
        key->algorithm = Algorithm::HS256;
        key->secret = *secret;
        return key;
    }
    if (kty == u"RSA"_s) {
        if (!alg.isEmpty() && alg != u"RS256"_s)
            return std::unique_ptr<KeySet::Key>();
        Bn n = bignum(jwk, "n"), e = bignum(jwk, "e"), d = bignum(jwk, "d");
        if (!n || !e)
            return keyError(u"an RSA key needs n and e"_s);
        OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get());
        OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get());
        if (d)
            OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_D, d.get());
        Result<Pkey> pkey = pkeyFromParams("RSA", builder.get(), bool(d));
        if (!pkey)
            return pkey.error();
        key->pkey = std::move(pkey).value();
        key->privateKey = bool(d);
    } else if (kty == u"EC"_s) {
        if ((!alg.isEmpty() && alg != u"ES256"_s) || jwk.value(u"crv"_s).toString() != u"P-256"_s)
            return std::unique_ptr<KeySet::Key>();
        const std::optional<QByteArray> x = fromBase64Url(jwk.value(u"x"_s).toString().toLatin1());
        const std::optional<QByteArray> y = fromBase64Url(jwk.value(u"y"_s).toString().toLatin1());
        if (!x || !y || x->size() != 32 || y->size() != 32)
            return keyError(u"a P-256 key needs x and y of 32 bytes each"_s);
        const QByteArray point = QByteArray(1, '\x04') + *x + *y;
        Bn d = bignum(jwk, "d");
        OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
        OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.constData(),
                                         size_t(point.size()));
        if (d)
            OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get());
        Result<Pkey> pkey = pkeyFromParams("EC", builder.get(), bool(d));
        if (!pkey)
            return pkey.error();
        key->pkey = std::move(pkey).value();
        key->privateKey = bool(d);
    } else {
        return std::unique_ptr<KeySet::Key>();
    }
    Result<Algorithm> algorithm = algorithmForPkey(key->pkey.get());
    if (!algorithm)
        return algorithm.error();
    key->algorithm = *algorithm;
    return key;
}

} // namespace

Result<std::shared_ptr<const KeySet>> KeySet::parse(const QByteArray &content)
{
    auto set = std::make_shared<KeySet>();
    if (content.trimmed().startsWith('{')) {
        const std::optional<QJsonObject> jwks = jsonObject(content);
        if (!jwks || !jwks->value(u"keys"_s).isArray())
            return keyError(u"a JWKS file must be a JSON object with a \"keys\" array"_s);
        const QJsonArray keys = jwks->value(u"keys"_s).toArray();
        for (qsizetype i = 0; i < keys.size(); ++i) {
            Result<std::unique_ptr<Key>> key = jwkKey(keys[i].toObject());
            if (!key)
                return keyError(u"key %1 of the JWKS: %2"_s.arg(i).arg(key.error().message));
            if (*key) {
                if (set->find((*key)->kid) && !(*key)->kid.isEmpty())
                    return keyError(u"two keys of the JWKS have kid \"%1\""_s.arg(QString::fromUtf8((*key)->kid)));
                set->m_keys.push_back(std::move(key).value());
            }
        }
        if (set->m_keys.size() > 1) {
            for (const auto &key : set->m_keys) {
                if (key->kid.isEmpty())
                    return keyError(u"a JWKS of several keys needs a kid on each"_s);
            }
        }
    } else if (content.contains("-----BEGIN ")) {
        Result<std::unique_ptr<Key>> key = pemKey(content);
        if (!key)
            return key.error();
        set->m_keys.push_back(std::move(key).value());
    } else {
        return keyError(u"neither PEM nor a JWKS (JSON)"_s);
    }
    if (set->m_keys.empty())
        return keyError(u"no key for HS256, RS256 or ES256 signatures"_s);
    return std::shared_ptr<const KeySet>(std::move(set));
}

Result<std::shared_ptr<const KeySet>> KeySet::fromFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return keyError(u"cannot read %1: %2"_s.arg(path, file.errorString()));
    Result<std::shared_ptr<const KeySet>> set = parse(file.read(1 << 20));
    if (!set)
        return keyError(u"%1: %2"_s.arg(path, set.error().message));
    return set;
}

Verifier::Verifier(Expectations expectations)
    : m_expectations(std::move(expectations))
{ }

namespace {

bool verifySignature(const KeySet::Key &key, QByteArrayView signingInput, const QByteArray &signature)
{
    if (key.algorithm == Algorithm::HS256) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int length = 0;
        if (!HMAC(sha256(), key.secret.constData(), int(key.secret.size()),
                  reinterpret_cast<const unsigned char *>(signingInput.data()), size_t(signingInput.size()), mac,
                  &length))
            return false;
        return signature.size() == qsizetype(length) && CRYPTO_memcmp(mac, signature.constData(), length) == 0;
    }
    QByteArray der;
    const QByteArray *checked = &signature;
    if (key.algorithm == Algorithm::ES256) {
        // JWS carries r || s (RFC 7518 3.4); OpenSSL wants DER.
        if (signature.size() != 64)
            return false;
        const auto *raw = reinterpret_cast<const unsigned char *>(signature.constData());
        EcdsaSig sig(ECDSA_SIG_new());
        BIGNUM *r = BN_bin2bn(raw, 32, nullptr);
        BIGNUM *s = BN_bin2bn(raw + 32, 32, nullptr);
        if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
            BN_free(r);
            BN_free(s);
            return false;
        }
        const int size = i2d_ECDSA_SIG(sig.get(), nullptr);
        if (size <= 0)
            return false;
        der.resize(size);
        auto *out = reinterpret_cast<unsigned char *>(der.data());
        i2d_ECDSA_SIG(sig.get(), &out);
        checked = &der;
    }
    EVP_PKEY_CTX *verifier = verifyContext(key);
    if (!verifier)
        return false;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digestLength = 0;
    if (EVP_Digest(signingInput.data(), size_t(signingInput.size()), digest, &digestLength, sha256(), nullptr) != 1)
        return false;
    return EVP_PKEY_verify(verifier, reinterpret_cast<const unsigned char *>(checked->constData()),
                           size_t(checked->size()), digest, digestLength)
        == 1;
}

std::optional<qint64> userFrom(const QJsonValue &value)
{
    if (value.isString())
        return parseUserId(QStringView(value.toString()));
    // A JSON integer as parsed (Qt keeps integers that fit in 64 bits
    // exact): never through a double, which would round 2^53 + 1 to 2^53.
    if (value.isDouble()) {
        const qint64 number = value.toInteger(0);
        if (number >= 1)
            return number;
    }
    return std::nullopt;
}

} // namespace

void Verifier::setKeys(std::shared_ptr<const KeySet> keys)
{
    m_keys = std::move(keys);
    m_verified.clear(); // a key taken away takes its tokens with it
}

namespace {

QByteArray digestOf(QByteArrayView token)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(token.data(), size_t(token.size()), digest, &length, sha256(), nullptr) != 1)
        return {};
    return QByteArray(reinterpret_cast<const char *>(digest), qsizetype(length));
}

} // namespace

std::optional<qint64> Verifier::remembered(QByteArrayView token, qint64 nowS) const
{
    if (m_verified.isEmpty() || token.size() > kMaxToken)
        return std::nullopt;
    const auto it = m_verified.constFind(digestOf(token));
    if (it == m_verified.cend())
        return std::nullopt;
    if (double(nowS) <= it->exp + m_expectations.skewS)
        return it->user;
    m_verified.erase(it); // expired: the full check says so
    return std::nullopt;
}

void Verifier::remember(QByteArrayView token, qint64 user, double exp) const
{
    if (m_verified.size() >= kRemembered)
        m_verified.clear();
    m_verified.insert(digestOf(token), Verified{user, exp});
}

bool Verifier::symmetricOnly() const
{
    if (!m_keys)
        return true;
    for (int i = 0; i < m_keys->size(); ++i) {
        if (KeySet::algorithmOf(*m_keys->at(i)) != Algorithm::HS256)
            return false;
    }
    return true;
}

Result<qint64> Verifier::verify(QByteArrayView token, qint64 nowS) const
{
    if (!hasKeys())
        return invalid(u"no verification key is loaded"_s);
    if (const std::optional<qint64> user = remembered(token, nowS))
        return *user;
    double exp = 0;
    Result<qint64> user = check(*m_keys, m_expectations, token, nowS, &exp);
    if (user)
        remember(token, *user, exp);
    return user;
}

Result<qint64> Verifier::check(const KeySet &keys, const Expectations &expectations, QByteArrayView token, qint64 nowS,
                               double *expOut)
{
    if (keys.size() == 0)
        return invalid(u"no verification key is loaded"_s);
    if (token.isEmpty() || token.size() > kMaxToken)
        return invalid(u"a token is 1 to %1 bytes"_s.arg(kMaxToken));

    const qsizetype dot1 = token.indexOf('.');
    const qsizetype dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
    if (dot1 <= 0 || dot2 < 0 || token.indexOf('.', dot2 + 1) >= 0)
        return invalid(u"a token is three base64url parts separated by dots"_s);
    const std::optional<QByteArray> headerBytes = fromBase64Url(token.first(dot1));
    const std::optional<QByteArray> payloadBytes = fromBase64Url(token.sliced(dot1 + 1, dot2 - dot1 - 1));
    const std::optional<QByteArray> signature = fromBase64Url(token.sliced(dot2 + 1));
    if (!headerBytes || !payloadBytes || !signature || signature->isEmpty())
        return invalid(u"a token is three base64url parts separated by dots"_s);
    const std::optional<QJsonObject> header = jsonObject(*headerBytes);
    if (!header)
        return invalid(u"the token's header is not a JSON object"_s);
    if (header->contains(u"crit"_s))
        return invalid(u"the token names critical extensions (crit) this gateway does not implement"_s);
    const QString alg = header->value(u"alg"_s).toString();
    const QByteArray kid = header->value(u"kid"_s).toString().toUtf8();
    const KeySet::Key *key = keys.find(kid);
    if (!key)
        return invalid(kid.isEmpty() ? u"the token names no key (kid) and there are several"_s
                                     : u"the token's key (kid) is not one of ours"_s);
    // The key decides the algorithm, never the token.
    if (alg != algorithmName(key->algorithm))
        return invalid(u"the token's alg is not the one its key is for"_s);
    if (!verifySignature(*key, token.first(dot2), *signature))
        return invalid(u"the token's signature does not verify"_s);

    const std::optional<QJsonObject> claims = jsonObject(*payloadBytes);
    if (!claims)
        return invalid(u"the token's claims are not a JSON object"_s);
    const QJsonValue exp = claims->value(u"exp"_s);
    if (!exp.isDouble())
        return invalid(u"the token has no exp"_s);
    if (double(nowS) > exp.toDouble() + expectations.skewS)
        return invalid(u"the token has expired"_s);
    *expOut = exp.toDouble();
    const QJsonValue nbf = claims->value(u"nbf"_s);
    if (!nbf.isUndefined() && (!nbf.isDouble() || double(nowS) + expectations.skewS < nbf.toDouble()))
        return invalid(u"the token is not valid yet (nbf)"_s);
    if (!expectations.issuer.isEmpty() && claims->value(u"iss"_s).toString() != expectations.issuer)
        return invalid(u"the token's issuer (iss) is not the one expected"_s);
    if (!expectations.audience.isEmpty()) {
        const QJsonValue aud = claims->value(u"aud"_s);
        const bool ours = aud.isArray() ? aud.toArray().contains(expectations.audience)
                                        : aud.toString() == expectations.audience;
        if (!ours)
            return invalid(u"the token is not for this audience (aud)"_s);
    }
    const std::optional<qint64> user = userFrom(claims->value(expectations.userClaim));
    if (!user)
        return invalid(u"the token's %1 claim is not a user id (1..9223372036854775807)"_s.arg(expectations.userClaim));
    return *user;
}

Result<Signer> Signer::fromFile(const QString &path)
{
    Result<std::shared_ptr<const KeySet>> keys = KeySet::fromFile(path);
    if (!keys)
        return keys.error();
    Signer signer;
    for (int i = 0; i < (*keys)->size() && !signer.m_key; ++i) {
        if (KeySet::canSign(*(*keys)->at(i)))
            signer.m_key = (*keys)->at(i);
    }
    if (!signer.m_key)
        return keyError(u"%1: no private key or secret in it: nothing to sign with"_s.arg(path));
    signer.m_keys = std::move(keys).value();
    return signer;
}

Algorithm Signer::algorithm() const
{
    return m_key->algorithm;
}

QByteArray Signer::mint(const Claims &claims) const
{
    QJsonObject header{{u"alg"_s, algorithmName(m_key->algorithm)}, {u"typ"_s, u"JWT"_s}};
    if (!m_key->kid.isEmpty())
        header[u"kid"_s] = QString::fromUtf8(m_key->kid);
    QJsonObject payload{
        {u"sub"_s, QString::number(claims.user)}, {u"iat"_s, claims.nowS}, {u"exp"_s, claims.nowS + claims.ttlS}};
    if (!claims.issuer.isEmpty())
        payload[u"iss"_s] = claims.issuer;
    if (!claims.audience.isEmpty())
        payload[u"aud"_s] = claims.audience;
    if (claims.notBeforeS)
        payload[u"nbf"_s] = claims.notBeforeS;
    const QByteArray input = b64(QJsonDocument(header).toJson(QJsonDocument::Compact)) + '.'
        + b64(QJsonDocument(payload).toJson(QJsonDocument::Compact));
    const auto *data = reinterpret_cast<const unsigned char *>(input.constData());
    QByteArray signature;
    if (m_key->algorithm == Algorithm::HS256) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int length = 0;
        HMAC(sha256(), m_key->secret.constData(), int(m_key->secret.size()), data, size_t(input.size()), mac, &length);
        signature = QByteArray(reinterpret_cast<const char *>(mac), length);
    } else {
        MdCtx context(EVP_MD_CTX_new());
        size_t length = 0;
        if (!context || EVP_DigestSignInit(context.get(), nullptr, sha256(), nullptr, m_key->pkey.get()) != 1
            || EVP_DigestSign(context.get(), nullptr, &length, data, size_t(input.size())) != 1)
            return {};
        signature.resize(qsizetype(length));
        if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char *>(signature.data()), &length, data,
                           size_t(input.size()))
            != 1)
            return {};
        signature.resize(qsizetype(length));
        if (m_key->algorithm == Algorithm::ES256) {
            // DER -> r || s, 32 bytes each (RFC 7518 3.4).
            const auto *der = reinterpret_cast<const unsigned char *>(signature.constData());
            EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &der, long(signature.size())));
            if (!sig)
                return {};
            QByteArray raw(64, '\0');
            auto *out = reinterpret_cast<unsigned char *>(raw.data());
            BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, 32);
            BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + 32, 32);
            signature = raw;
        }
    }
    return input + '.' + b64(signature);
}

} // namespace coupon::auth
