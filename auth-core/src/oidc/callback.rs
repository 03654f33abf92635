//! The provider's redirect back to `redirect_uri` (OpenID Connect Core 1.0, 3.1.2.5 and
//! 3.1.2.6), checked against the login it answers and RFC 9207's `iss`.

use subtle::ConstantTimeEq;
use thiserror::Error;

use super::login::Login;
use crate::http::form::Params;
use crate::shown::printable;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CallbackError {
    #[error("the provider answered \"{error}\"{}", description.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    Provider {
        error: String,
        description: Option<String>,
    },
    #[error("malformed query")]
    Malformed,
    #[error("no state")]
    NoState,
    #[error("no code")]
    NoCode,
    #[error("no login in progress for this state")]
    UnknownState,
    #[error("\"iss\" is not the provider's")]
    WrongIssuer,
    #[error("no \"iss\", which the provider promises")]
    NoIssuer,
}

impl CallbackError {
    /// The word `$oidc_error` shows.
    pub fn code(&self) -> &'static str {
        match self {
            CallbackError::Provider { .. } => "provider_error",
            CallbackError::Malformed | CallbackError::NoState | CallbackError::NoCode => {
                "bad_callback"
            }
            CallbackError::UnknownState => "bad_state",
            CallbackError::WrongIssuer | CallbackError::NoIssuer => "bad_issuer",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    pub state: String,
    pub code: String,
    pub iss: Option<String>,
}

impl Callback {
    /// The `state` of a callback query, to find the login it belongs to, whatever else the
    /// query says.
    pub fn state(query: &str) -> Option<String> {
        Params::parse(query)?.get("state").map(str::to_owned)
    }

    pub fn parse(query: &str) -> Result<Callback, CallbackError> {
        let params = Params::parse(query).ok_or(CallbackError::Malformed)?;
        if let Some(error) = params.get("error") {
            return Err(CallbackError::Provider {
                error: printable(error, 64),
                description: params.get("error_description").map(|d| printable(d, 64)),
            });
        }
        Ok(Callback {
            state: params
                .get("state")
                .ok_or(CallbackError::NoState)?
                .to_owned(),
            code: params.get("code").ok_or(CallbackError::NoCode)?.to_owned(),
            iss: params.get("iss").map(str::to_owned),
        })
    }

    /// The callback answers `login` and comes from `issuer`. `iss_promised`: the metadata says
    /// `authorization_response_iss_parameter_supported`.
    pub fn check(
        &self,
        login: &Login,
        issuer: &str,
        iss_promised: bool,
    ) -> Result<(), CallbackError> {
        if !bool::from(self.state.as_bytes().ct_eq(login.state.as_bytes())) {
            return Err(CallbackError::UnknownState);
        }
        match &self.iss {
            Some(iss) if iss != issuer => Err(CallbackError::WrongIssuer),
            None if iss_promised => Err(CallbackError::NoIssuer),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://idp.example";

    #[test]
    fn a_good_callback_matches_its_login() {
        let login = Login::start("/", None, true, 0).unwrap();
        let query = format!(
            "code=c1&state={}&iss=https%3A%2F%2Fidp.example&session_state=x",
            login.state
        );
        let cb = Callback::parse(&query).unwrap();
        assert_eq!(
            Callback::state(&query).as_deref(),
            Some(login.state.as_str())
        );
        assert_eq!(cb.code, "c1");
        assert_eq!(cb.check(&login, ISSUER, true), Ok(()));
        let other = Login::start("/", None, true, 0).unwrap();
        assert_eq!(
            cb.check(&other, ISSUER, true),
            Err(CallbackError::UnknownState)
        );
        assert_eq!(
            cb.check(&login, "https://evil.example", false),
            Err(CallbackError::WrongIssuer)
        );
    }

    #[test]
    fn iss_is_required_when_promised() {
        let login = Login::start("/", None, true, 0).unwrap();
        let cb = Callback::parse(&format!("code=c&state={}", login.state)).unwrap();
        assert_eq!(cb.check(&login, ISSUER, false), Ok(()));
        assert_eq!(cb.check(&login, ISSUER, true), Err(CallbackError::NoIssuer));
    }

    #[test]
    fn errors_of_the_provider_and_of_the_query() {
        let e = Callback::parse("error=access_denied&error_description=User+said+no%0A&state=s")
            .unwrap_err();
        assert_eq!(
            e,
            CallbackError::Provider {
                error: "access_denied".into(),
                description: Some("User said no?".into())
            }
        );
        assert_eq!(
            e.to_string(),
            "the provider answered \"access_denied\": User said no?"
        );
        assert_eq!(e.code(), "provider_error");
        assert_eq!(Callback::parse("state=s"), Err(CallbackError::NoCode));
        assert_eq!(Callback::parse("code=c"), Err(CallbackError::NoState));
        assert_eq!(
            Callback::parse("code=c&code=d&state=s"),
            Err(CallbackError::Malformed)
        );
    }
}
