//! The settings of browser apps, read once into checked values: which origins may call keyward
//! from a page (CORS), and how the refresh token travels (`token_transport`): in the JSON body,
//! as simplejwt sends it, or in an HttpOnly cookie. Each problem is one line naming the setting.

use std::time::Duration;

use actix_web::cookie::SameSite;
use actix_web::http::Method;
use actix_web::http::header::HeaderName;
use actix_web::http::uri::Authority;

use super::Settings;

/// The origins allowed to call keyward from a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// `["*"]`: any origin, without credentials.
    Any,
    /// Exact `scheme://host[:port]` origins, as browsers send them; empty: none.
    Listed(Vec<String>),
}

impl AllowedOrigins {
    /// Whether `origin` (an `Origin` header's value) is allowed.
    pub fn allows(&self, origin: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Listed(origins) => origins.iter().any(|o| o == origin),
        }
    }

    /// No origin is allowed: CORS is off.
    pub fn is_empty(&self) -> bool {
        matches!(self, Self::Listed(origins) if origins.is_empty())
    }
}

/// What the CORS layer answers.
#[derive(Debug, Clone)]
pub struct CorsPolicy {
    pub origins: AllowedOrigins,
    pub methods: Vec<Method>,
    pub headers: Vec<HeaderName>,
    pub max_age: Duration,
    /// `Access-Control-Allow-Credentials: true` (cookie transport only).
    pub credentials: bool,
}

/// The refresh cookie's name and attributes (it is always HttpOnly and limited to the paths
/// that read it).
#[derive(Debug, Clone)]
pub struct RefreshCookie {
    pub name: String,
    pub secure: bool,
    pub same_site: SameSite,
}

/// How the refresh token travels between keyward and its client.
#[derive(Debug, Clone)]
pub enum TokenTransport {
    /// In the JSON bodies, as simplejwt (the default).
    Body,
    /// In an HttpOnly cookie; the access token stays in the body.
    Cookie(RefreshCookie),
}

/// The browser-facing settings, checked.
#[derive(Debug, Clone)]
pub struct BrowserSettings {
    pub cors: CorsPolicy,
    pub transport: TokenTransport,
}

/// Reads and checks the CORS and cookie settings.
pub fn read(settings: &Settings) -> Result<BrowserSettings, String> {
    let origins = origins(&settings.cors_allowed_origins)?;
    let transport = transport(settings)?;
    let cookie = matches!(transport, TokenTransport::Cookie(_));
    if cookie && origins == AllowedOrigins::Any {
        return Err(
            "cors_allowed_origins = [\"*\"] cannot be used with token_transport = \"cookie\": \
             a request with credentials needs its exact origin listed"
                .into(),
        );
    }
    if let TokenTransport::Cookie(refresh) = &transport
        && !refresh.secure
    {
        development_only(settings, &origins)?;
    }
    let methods = settings
        .cors_allowed_methods
        .iter()
        .map(|m| {
            Method::from_bytes(m.as_bytes())
                .ok()
                .filter(|_| !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase()))
                .ok_or_else(|| {
                    format!("cors_allowed_methods: {m:?} is not an HTTP method such as \"GET\"")
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut headers: Vec<HeaderName> = Vec::new();
    for name in settings
        .cors_allowed_headers
        .iter()
        .chain(std::iter::once(&settings.auth_header_name))
    {
        let header = HeaderName::try_from(name.as_str())
            .map_err(|_| format!("cors_allowed_headers: {name:?} is not a header name"))?;
        if !headers.contains(&header) {
            headers.push(header);
        }
    }
    Ok(BrowserSettings {
        cors: CorsPolicy {
            origins,
            methods,
            headers,
            max_age: settings.cors_max_age,
            credentials: cookie,
        },
        transport,
    })
}

fn origins(entries: &[String]) -> Result<AllowedOrigins, String> {
    if entries.iter().any(|e| e == "*") {
        if entries.len() > 1 {
            return Err("cors_allowed_origins: \"*\" must be the only entry".into());
        }
        return Ok(AllowedOrigins::Any);
    }
    entries
        .iter()
        .map(|entry| {
            exact_origin(entry).map_err(|why| format!("cors_allowed_origins: {entry:?} {why}"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(AllowedOrigins::Listed)
}

/// Checks that `entry` is an origin exactly as a browser sends it in `Origin`.
pub fn exact_origin(entry: &str) -> Result<String, &'static str> {
    let (scheme, rest) = entry
        .split_once("://")
        .ok_or("is not an origin: write scheme://host[:port], e.g. https://app.example.com")?;
    if !matches!(scheme, "http" | "https") {
        return Err("is not an origin: the scheme must be http or https");
    }
    if rest.contains('*') {
        return Err("has a wildcard: list each origin (only [\"*\"] alone means any origin)");
    }
    if rest.ends_with('/') {
        return Err("ends with a slash: an origin has no path (https://app.example.com)");
    }
    if rest.contains(['/', '?', '#', '@']) || rest.chars().any(char::is_whitespace) {
        return Err("is not an origin: it must be scheme://host[:port] only, with no path");
    }
    let authority: Authority = rest
        .parse()
        .map_err(|_| "is not an origin: its host or port is not valid")?;
    if authority.host().is_empty() {
        return Err("is not an origin: it has no host");
    }
    if entry.chars().any(|c| c.is_ascii_uppercase()) {
        return Err("has capitals: browsers send origins in lower case");
    }
    let default_port = if scheme == "https" { 443 } else { 80 };
    if authority.port_u16() == Some(default_port) {
        return Err("names the scheme's default port: browsers send the origin without it");
    }
    if rest.contains(':') && authority.port_u16().is_none() && !rest.ends_with(']') {
        return Err("is not an origin: its port is not valid");
    }
    Ok(entry.to_owned())
}

fn transport(settings: &Settings) -> Result<TokenTransport, String> {
    match settings.token_transport.as_str() {
        "body" => Ok(TokenTransport::Body),
        "cookie" => Ok(TokenTransport::Cookie(refresh_cookie(settings)?)),
        other => Err(format!(
            "token_transport must be \"body\" or \"cookie\", got {other:?}"
        )),
    }
}

fn refresh_cookie(settings: &Settings) -> Result<RefreshCookie, String> {
    let name = &settings.refresh_cookie_name;
    let token_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token_char) {
        return Err(format!(
            "refresh_cookie_name {name:?} is not a cookie name (letters, digits, - and _)"
        ));
    }
    if name.starts_with("__Host-") {
        return Err(
            "refresh_cookie_name: the __Host- prefix needs Path=/, but the refresh cookie is \
             limited to the refresh and logout paths; use __Secure- or no prefix"
                .into(),
        );
    }
    let same_site = match settings.refresh_cookie_samesite.as_str() {
        "Strict" => SameSite::Strict,
        "Lax" => SameSite::Lax,
        "None" => SameSite::None,
        other => {
            return Err(format!(
                "refresh_cookie_samesite must be \"Strict\", \"Lax\" or \"None\", got {other:?}"
            ));
        }
    };
    let secure = settings.refresh_cookie_secure;
    if !secure && same_site == SameSite::None {
        return Err(
            "refresh_cookie_samesite = \"None\" needs refresh_cookie_secure = true (browsers \
             drop such cookies otherwise)"
                .into(),
        );
    }
    if !secure && name.starts_with("__Secure-") {
        return Err(
            "refresh_cookie_name: the __Secure- prefix needs refresh_cookie_secure = true".into(),
        );
    }
    Ok(RefreshCookie {
        name: name.clone(),
        secure,
        same_site,
    })
}

/// `refresh_cookie_secure = false` is for development on one machine: keyward listens on a
/// loopback address and every allowed origin is `http://localhost`, `127.0.0.1` or `[::1]`.
fn development_only(settings: &Settings, origins: &AllowedOrigins) -> Result<(), String> {
    let loopback_host = |host: &str| {
        host == "localhost"
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    };
    let bind_host = settings
        .bind
        .rsplit_once(':')
        .map_or(settings.bind.as_str(), |(host, _)| host);
    if !loopback_host(bind_host) {
        return Err(format!(
            "refresh_cookie_secure = false is only for development on this machine: bind must \
             be a loopback address (127.0.0.1, [::1] or localhost), got {:?}",
            settings.bind
        ));
    }
    let AllowedOrigins::Listed(listed) = origins else {
        return Ok(());
    };
    for origin in listed {
        let host = origin
            .strip_prefix("http://")
            .and_then(|rest| rest.parse::<Authority>().ok())
            .map(|a| a.host().to_owned());
        if !host.as_deref().is_some_and(loopback_host) {
            return Err(format!(
                "refresh_cookie_secure = false is only for development on this machine: every \
                 entry of cors_allowed_origins must be http://localhost, http://127.0.0.1 or \
                 http://[::1] (any port), got {origin:?}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_origins_are_accepted_as_browsers_send_them() {
        for origin in [
            "https://app.example.com",
            "http://localhost:5173",
            "http://127.0.0.1:8080",
            "http://[::1]:3000",
            "https://xn--bcher-kva.example",
        ] {
            assert_eq!(exact_origin(origin).as_deref(), Ok(origin), "{origin}");
        }
    }

    #[test]
    fn anything_but_an_exact_origin_is_refused_with_the_reason() {
        for (entry, reason) in [
            ("app.example.com", "scheme://host"),
            ("ftp://app.example.com", "http or https"),
            ("https://app.example.com/", "ends with a slash"),
            ("https://app.example.com/spa", "no path"),
            ("https://*.example.com", "wildcard"),
            ("https://App.example.com", "lower case"),
            ("https://app.example.com:443", "default port"),
            ("http://app.example.com:80", "default port"),
            ("http://localhost:99999", "not valid"),
            ("https://", "not valid"),
            ("https://user@app.example.com", "no path"),
        ] {
            let why = exact_origin(entry).err().unwrap_or_default();
            assert!(why.contains(reason), "{entry}: {why:?}");
        }
    }
}
