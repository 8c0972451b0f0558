//! Given/when/then for connectors.

use chrono::{DateTime, Utc};

use super::*;
use crate::aggregate::testing::Scenario;

type ConnectorTest = Scenario<Connector>;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T06:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn connect(name: ConnectorName) -> ConnectorCommand {
    ConnectorCommand::RecordConnected {
        name,
        kind: CredentialKind::Oauth,
        account: Some("casey@example.com".into()),
        scopes: vec!["https://www.googleapis.com/auth/gmail.send".into()],
        by: Actor::user("admin"),
        at: t0(),
    }
}

fn connected() -> ConnectorEvent {
    ConnectorEvent::ConnectorConnected(ConnectorConnected {
        name: ConnectorName::Gmail,
        kind: CredentialKind::Oauth,
        account: Some("casey@example.com".into()),
        scopes: vec!["https://www.googleapis.com/auth/gmail.send".into()],
        by: Actor::user("admin"),
        at: t0(),
    })
}

fn disconnect() -> ConnectorCommand {
    ConnectorCommand::RecordDisconnected {
        revoked: false,
        reason: Some("Google answered 503".into()),
        by: Actor::user("admin"),
        at: t0(),
    }
}

fn disconnected() -> ConnectorEvent {
    ConnectorEvent::ConnectorDisconnected(ConnectorDisconnected {
        revoked: false,
        reason: Some("Google answered 503".into()),
        by: Actor::user("admin"),
        at: t0(),
    })
}

#[test]
fn connecting_records_the_account_and_scopes_never_a_secret() {
    ConnectorTest::given_no_previous_events()
        .when(connect(ConnectorName::Gmail))
        .then_expect_events(vec![connected()]);
}

#[test]
fn connecting_again_records_the_new_grant() {
    ConnectorTest::given(vec![connected()])
        .when(connect(ConnectorName::Gmail))
        .then_expect_events(vec![connected()]);
}

#[test]
fn a_connector_id_names_one_connector() {
    ConnectorTest::given(vec![connected()])
        .when(connect(ConnectorName::Hubspot))
        .then_expect_error(ConnectorError::WrongName);
}

#[test]
fn disconnecting_records_whether_the_provider_revoked_and_why_not() {
    let state = ConnectorTest::given(vec![connected()])
        .when(disconnect())
        .state_after();
    let view = state.connector.unwrap();
    assert!(!view.connected);
    assert_eq!(view.revoked, Some(false));
    assert_eq!(view.revoke_failure.as_deref(), Some("Google answered 503"));
    assert_eq!(view.version, 2);
    ConnectorTest::given(vec![connected()])
        .when(disconnect())
        .then_expect_events(vec![disconnected()]);
}

#[test]
fn disconnecting_what_is_not_connected_is_refused() {
    ConnectorTest::given_no_previous_events()
        .when(disconnect())
        .then_expect_error_message("the connector is not connected");
    ConnectorTest::given(vec![connected(), disconnected()])
        .when(disconnect())
        .then_expect_error(ConnectorError::NotConnected);
}

#[test]
fn names_read_back() {
    for name in ConnectorName::ALL {
        assert_eq!(ConnectorName::parse(name.as_str()), Some(*name));
        assert_eq!(
            serde_json::to_value(name).unwrap(),
            serde_json::Value::String(name.as_str().into())
        );
    }
    for kind in CredentialKind::ALL {
        assert_eq!(CredentialKind::parse(kind.as_str()), Some(*kind));
        assert_eq!(
            serde_json::to_value(kind).unwrap(),
            serde_json::Value::String(kind.as_str().into())
        );
    }
    assert_eq!(ConnectorName::parse("slack"), None);
}
