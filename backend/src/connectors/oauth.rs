//! OAuth 2.0 with the providers: the consent URL (authorization code with PKCE, S256), the
//! code exchange, refreshes, the account a token acts as, and revocation. Every endpoint
//! comes from `config.rs`; the client is authenticated by `client_id` and `client_secret`
//! in the form body (`client_secret_post`, which Google and HubSpot both document).
//!
//! - **Google** (Gmail, Calendar): consent at `google_authorize_url` with
//!   `access_type=offline&prompt=consent` (so a refresh token comes back every time); code
//!   and refresh at `google_token_url`; the account's email from `google_userinfo_url`
//!   (`GET`, bearer, `{email}`); revocation `POST google_revoke_url` with `token=`.
//! - **HubSpot**: consent at `hubspot_authorize_url`; `POST /oauth/v1/token` (code and
//!   refresh); the hub and user from `GET /oauth/v1/access-tokens/{token}` (`hub_id`,
//!   `user`, `scopes`); revocation `DELETE /oauth/v1/refresh-tokens/{token}` — all under
//!   `hubspot_base_url`. The scopes are HubSpot's CRM object scopes; tasks and notes need
//!   the contacts scopes (HubSpot's tasks guide lists `crm.objects.contacts.read|write`).
//!
//! Errors carry the endpoint, the status and the OAuth `error` code, never a token or a
//! description the provider wrote.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use caseyos_domain::connectors::ConnectorName;
use reqwest::Url;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::ConnectorError;
use crate::config::Config;

/// The scopes asked for, per connector.
pub fn scopes_of(name: ConnectorName) -> &'static [&'static str] {
    match name {
        ConnectorName::Gmail => &[
            "openid",
            "email",
            "https://www.googleapis.com/auth/gmail.send",
            "https://www.googleapis.com/auth/gmail.compose",
            "https://www.googleapis.com/auth/gmail.readonly",
        ],
        ConnectorName::GoogleCalendar => &[
            "openid",
            "email",
            "https://www.googleapis.com/auth/calendar.events",
            "https://www.googleapis.com/auth/calendar.readonly",
        ],
        ConnectorName::Hubspot => &[
            "oauth",
            "crm.objects.contacts.read",
            "crm.objects.contacts.write",
            "crm.objects.deals.read",
            "crm.objects.deals.write",
            "crm.objects.owners.read",
        ],
        ConnectorName::Llm => &[],
    }
}

/// The name people know a connector by, for messages.
pub fn display_name(name: ConnectorName) -> &'static str {
    match name {
        ConnectorName::Gmail => "Gmail",
        ConnectorName::GoogleCalendar => "Google Calendar",
        ConnectorName::Hubspot => "HubSpot",
        ConnectorName::Llm => "The language model",
    }
}

/// PKCE's S256 challenge of a verifier: base64url(SHA-256(verifier)), unpadded.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// What a token endpoint granted. Never printed.
pub struct TokenGrant {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: Option<i64>,
    /// Empty when the answer did not say.
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenGrant")
            .field("expires_in", &self.expires_in)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// Who a token acts as.
#[derive(Clone, Debug, Default)]
pub struct Account {
    /// An email address (Google) or HubSpot's user.
    pub account: Option<String>,
    pub hub_id: Option<String>,
    /// The scopes the provider says the token has, when it says.
    pub scopes: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(alias = "accessToken")]
    access_token: String,
    #[serde(default, alias = "refreshToken")]
    refresh_token: Option<String>,
    #[serde(default, alias = "expiresIn")]
    expires_in: Option<i64>,
    /// Google: space-separated.
    #[serde(default)]
    scope: Option<String>,
    /// HubSpot's newer answers: a list.
    #[serde(default)]
    scopes: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    /// RFC 6749's `error`.
    #[serde(default)]
    error: Option<String>,
    /// HubSpot's `status` (`BAD_REFRESH_TOKEN`, …).
    #[serde(default)]
    status: Option<String>,
}

/// The OAuth client of every provider.
#[derive(Clone)]
pub struct OAuth {
    http: reqwest::Client,
    google_client: Option<(String, String)>,
    hubspot_client: Option<(String, String)>,
    google_authorize_url: String,
    google_token_url: String,
    google_revoke_url: String,
    google_userinfo_url: String,
    hubspot_authorize_url: String,
    hubspot_base_url: String,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("google", &self.google_client.as_ref().map(|(id, _)| id))
            .field("hubspot", &self.hubspot_client.as_ref().map(|(id, _)| id))
            .finish_non_exhaustive()
    }
}

fn present(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

impl OAuth {
    /// Connect 5 s, whole request 15 s: a refresh holds a transaction-scoped lock, which
    /// PostgreSQL ends after 30 s idle.
    pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
    pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

    pub fn from_config(config: &Config) -> Result<OAuth, ConnectorError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("caseyos/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Self::CONNECT_TIMEOUT)
            .timeout(Self::REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConnectorError::Misconfigured {
                connector: "OAuth",
                reason: e.without_url().to_string(),
            })?;
        let pair = |id: &Option<String>, secret: &Option<String>| present(id).zip(present(secret));
        Ok(OAuth {
            http,
            google_client: pair(&config.google_client_id, &config.google_client_secret),
            hubspot_client: pair(&config.hubspot_client_id, &config.hubspot_client_secret),
            google_authorize_url: config.google_authorize_url.trim().to_string(),
            google_token_url: config.google_token_url.trim().to_string(),
            google_revoke_url: config.google_revoke_url.trim().to_string(),
            google_userinfo_url: config.google_userinfo_url.trim().to_string(),
            hubspot_authorize_url: config.hubspot_authorize_url.trim().to_string(),
            hubspot_base_url: config
                .hubspot_base_url
                .trim()
                .trim_end_matches('/')
                .to_string(),
        })
    }

    /// The client id and secret of the connector's provider, or why it cannot use OAuth.
    fn client(&self, name: ConnectorName) -> Result<&(String, String), ConnectorError> {
        let (client, keys) = match name {
            ConnectorName::Gmail | ConnectorName::GoogleCalendar => (
                self.google_client.as_ref(),
                "google_client_id and google_client_secret",
            ),
            ConnectorName::Hubspot => (
                self.hubspot_client.as_ref(),
                "hubspot_client_id and hubspot_client_secret",
            ),
            ConnectorName::Llm => (
                None,
                "an OAuth client (the LLM is configured, not connected)",
            ),
        };
        client.ok_or_else(|| ConnectorError::Misconfigured {
            connector: display_name(name),
            reason: format!("OAuth needs {keys} in the configuration"),
        })
    }

    /// Whether the connector's provider has an OAuth client configured.
    pub fn configured(&self, name: ConnectorName) -> bool {
        self.client(name).is_ok()
    }

    /// The consent page to send the person to.
    pub fn authorize_url(
        &self,
        name: ConnectorName,
        state: &str,
        verifier: &str,
        redirect_uri: &str,
    ) -> Result<String, ConnectorError> {
        let (client_id, _) = self.client(name)?;
        let scope = scopes_of(name).join(" ");
        let challenge = pkce_challenge(verifier);
        let mut params: Vec<(&str, &str)> = vec![
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("scope", &scope),
            ("state", state),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ];
        let base = match name {
            ConnectorName::Hubspot => &self.hubspot_authorize_url,
            _ => {
                params.extend([("access_type", "offline"), ("prompt", "consent")]);
                &self.google_authorize_url
            }
        };
        Url::parse_with_params(base, &params)
            .map(String::from)
            .map_err(|e| ConnectorError::Misconfigured {
                connector: display_name(name),
                reason: format!("the authorize URL: {e}"),
            })
    }

    fn token_url(&self, name: ConnectorName) -> String {
        match name {
            ConnectorName::Hubspot => format!("{}/oauth/v1/token", self.hubspot_base_url),
            _ => self.google_token_url.clone(),
        }
    }

    /// Exchanges an authorization code (with its PKCE verifier).
    pub async fn exchange_code(
        &self,
        name: ConnectorName,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
    ) -> Result<TokenGrant, ConnectorError> {
        let (client_id, client_secret) = self.client(name)?;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", client_id.as_str()),
            ("client_secret", client_secret.as_str()),
            ("code_verifier", verifier),
        ];
        self.token_call(name, &form, false).await
    }

    /// A new access token from a refresh token (`grant_type=refresh_token`).
    pub async fn refresh(
        &self,
        name: ConnectorName,
        refresh_token: &str,
    ) -> Result<TokenGrant, ConnectorError> {
        let (client_id, client_secret) = self.client(name)?;
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", client_id.as_str()),
            ("client_secret", client_secret.as_str()),
        ];
        self.token_call(name, &form, true).await
    }

    async fn token_call(
        &self,
        name: ConnectorName,
        form: &[(&str, &str)],
        refreshing: bool,
    ) -> Result<TokenGrant, ConnectorError> {
        let connector = display_name(name);
        let failed = |status: u16, error: Option<String>| ConnectorError::OAuth {
            connector,
            endpoint: "token",
            status,
            error,
        };
        let response = self
            .http
            .post(self.token_url(name))
            .form(form)
            .send()
            .await
            .map_err(|_| failed(0, None))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|_| failed(status, None))?;
        if !(200..300).contains(&status) {
            let answer: Option<ErrorAnswer> = serde_json::from_slice(&bytes).ok();
            let error = answer
                .as_ref()
                .and_then(|a| a.error.clone().or_else(|| a.status.clone()))
                .map(|e| e.chars().take(64).collect::<String>());
            if refreshing
                && matches!(
                    error.as_deref(),
                    Some("invalid_grant") | Some("BAD_REFRESH_TOKEN")
                )
            {
                return Err(ConnectorError::InvalidGrant { connector });
            }
            return Err(failed(status, error));
        }
        let answer: TokenAnswer =
            serde_json::from_slice(&bytes).map_err(|_| ConnectorError::OAuth {
                connector,
                endpoint: "token",
                status,
                error: Some("no access_token in the answer".into()),
            })?;
        let scopes = match (answer.scopes, answer.scope) {
            (Some(list), _) => list,
            (None, Some(spaced)) => spaced.split_whitespace().map(str::to_string).collect(),
            (None, None) => Vec::new(),
        };
        Ok(TokenGrant {
            access_token: answer.access_token,
            refresh_token: answer.refresh_token.filter(|t| !t.is_empty()),
            expires_in: answer.expires_in,
            scopes,
        })
    }

    /// Who the token acts as: Google's userinfo email; HubSpot's hub and user.
    pub async fn account(
        &self,
        name: ConnectorName,
        access_token: &str,
    ) -> Result<Account, ConnectorError> {
        let connector = display_name(name);
        let (endpoint, request) = match name {
            ConnectorName::Hubspot => (
                "token info",
                self.http.get(format!(
                    "{}/oauth/v1/access-tokens/{access_token}",
                    self.hubspot_base_url
                )),
            ),
            _ => (
                "userinfo",
                self.http
                    .get(&self.google_userinfo_url)
                    .bearer_auth(access_token),
            ),
        };
        let failed = |status: u16| ConnectorError::OAuth {
            connector,
            endpoint,
            status,
            error: None,
        };
        let response = request.send().await.map_err(|_| failed(0))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(failed(status));
        }
        let body: serde_json::Value = response.json().await.map_err(|_| failed(status))?;
        let text = |key: &str| match &body[key] {
            serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        Ok(match name {
            ConnectorName::Hubspot => Account {
                hub_id: text("hub_id"),
                account: match (text("hub_id"), text("user")) {
                    (Some(hub), Some(user)) => Some(format!("hub {hub} ({user})")),
                    (Some(hub), None) => Some(format!("hub {hub}")),
                    (None, user) => user,
                },
                scopes: body["scopes"].as_array().map(|list| {
                    list.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                }),
            },
            _ => Account {
                account: text("email"),
                hub_id: None,
                scopes: None,
            },
        })
    }

    /// Revokes the grant at the provider: Google takes the refresh token (or the access
    /// token) at its revocation endpoint; HubSpot deletes the refresh token. `Err` says
    /// why it was not revoked.
    pub async fn revoke(
        &self,
        name: ConnectorName,
        access_token: &str,
        refresh_token: Option<&str>,
    ) -> Result<(), String> {
        let connector = display_name(name);
        let request = match name {
            ConnectorName::Hubspot => {
                let Some(refresh) = refresh_token else {
                    return Err("HubSpot has no refresh token to revoke".into());
                };
                self.http.delete(format!(
                    "{}/oauth/v1/refresh-tokens/{refresh}",
                    self.hubspot_base_url
                ))
            }
            _ => self
                .http
                .post(&self.google_revoke_url)
                .form(&[("token", refresh_token.unwrap_or(access_token))]),
        };
        match request.send().await {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => Err(format!(
                "{connector}'s revocation endpoint answered {}",
                response.status().as_u16()
            )),
            Err(e) if e.is_timeout() => Err(format!(
                "{connector}'s revocation endpoint did not answer in time"
            )),
            Err(_) => Err(format!(
                "{connector}'s revocation endpoint could not be reached"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_s256_challenge_is_rfc_7636s() {
        // RFC 7636, appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn the_consent_url_asks_for_offline_access_with_pkce() {
        let config = Config {
            google_client_id: Some("client-1".into()),
            google_client_secret: Some("secret".into()),
            hubspot_client_id: Some("hub-client".into()),
            hubspot_client_secret: Some("hub-secret".into()),
            ..Config::default()
        };
        let oauth = OAuth::from_config(&config).unwrap();
        let url = oauth
            .authorize_url(ConnectorName::Gmail, "st", "verifier", "http://x/cb")
            .unwrap();
        let url = Url::parse(&url).unwrap();
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(query["access_type"], "offline");
        assert_eq!(query["prompt"], "consent");
        assert_eq!(query["code_challenge_method"], "S256");
        assert_eq!(query["code_challenge"], pkce_challenge("verifier"));
        assert!(query["scope"].contains("https://www.googleapis.com/auth/gmail.send"));
        assert!(!url.as_str().contains("secret"));
        let hubspot = oauth
            .authorize_url(ConnectorName::Hubspot, "st", "verifier", "http://x/cb")
            .unwrap();
        assert!(hubspot.starts_with("https://app.hubspot.com/oauth/authorize?"));
        assert!(!hubspot.contains("access_type"));
        assert!(OAuth::from_config(&Config::default())
            .unwrap()
            .authorize_url(ConnectorName::Gmail, "s", "v", "http://x")
            .is_err());
    }
}
