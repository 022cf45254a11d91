#pragma once

#include "types.h"

#include <QDialog>

class QCheckBox;
class QDateTimeEdit;
class QDialogButtonBox;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;

namespace coupon::console {

// Endpoints and credentials. Passwords are typed blind and never saved by
// the console (put them in the INI file or COUPON_* variables).
class SettingsDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SettingsDialog)

public:
    SettingsDialog(const Settings &settings, const QStringList &gatewayUrls, QWidget *parent = nullptr);

    Settings settings() const;
    QStringList gatewayUrls() const;
    bool remember() const;

private:
    Settings m_base;
    QLineEdit *m_redisHost, *m_redisPassword, *m_mysqlHost, *m_mysqlDatabase, *m_mysqlUser, *m_mysqlPassword,
        *m_kafkaServers, *m_kafkaTopic, *m_group;
    QSpinBox *m_redisPort, *m_redisDb, *m_mysqlPort;
    QPlainTextEdit *m_gateways;
    QCheckBox *m_remember;
};

// A new campaign: id, name, limit, optional window, open at once.
class CampaignDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CampaignDialog)

public:
    explicit CampaignDialog(QWidget *parent = nullptr);
    Campaign campaign() const;
    bool openNow() const;

private:
    void validate();

    QLineEdit *m_id, *m_name;
    QSpinBox *m_limit;
    QCheckBox *m_window, *m_open;
    QDateTimeEdit *m_starts, *m_ends;
    QDialogButtonBox *m_buttons;
};

// Reset asks for the campaign id typed out.
class ResetDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ResetDialog)

public:
    ResetDialog(const QString &campaign, QWidget *parent = nullptr);

private:
    QLineEdit *m_confirm;
};

// Settings saved from the dialog apply when the console starts without an
// explicit configuration (no --config, no COUPON_CONFIG).
void saveEndpoints(const Settings &settings, const QStringList &gatewayUrls);
void applySavedEndpoints(Settings &settings);
QStringList savedGatewayUrls(const Settings &settings); // default: "<gateway.listen> <gateway.admin.listen>"

} // namespace coupon::console
