//! CSRF tokens: one per session, carried by every state-changing form and compared in
//! constant time. Before sign-in, a double-submit cookie plays the same part.

use subtle::ConstantTimeEq;

use super::error::ConsoleError;
use super::form::Form;

/// The form field every console POST carries.
pub const FIELD: &str = "csrf_token";

/// Passes when the form's token equals `expected`.
pub fn check(form: &Form, expected: &str) -> Result<(), ConsoleError> {
    let sent = form.raw(FIELD).unwrap_or_default();
    if !expected.is_empty() && bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(ConsoleError::Csrf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_token_passes() {
        assert!(check(&Form::parse(b"csrf_token=abc"), "abc").is_ok());
        assert!(check(&Form::parse(b"csrf_token=abd"), "abc").is_err());
        assert!(check(&Form::parse(b""), "abc").is_err());
        assert!(check(&Form::parse(b"csrf_token="), "").is_err());
    }
}
