//! `rename_all` rules for method names.

/// How `rename_all` transforms a Rust method name (snake_case) into the route's method part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RenameRule {
    /// `send_message` -> `sendmessage` (nano's `strings.ToLower` of Go's `SendMessage`).
    Lowercase,
    /// `send_message` -> `sendMessage`.
    CamelCase,
    /// `send_message` -> `SendMessage`.
    PascalCase,
    /// `send_message` -> `send_message`.
    SnakeCase,
}

impl RenameRule {
    pub(crate) const VALID: &'static str =
        r#""lowercase", "camelCase", "PascalCase", "snake_case""#;

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name {
            "lowercase" => Some(Self::Lowercase),
            "camelCase" => Some(Self::CamelCase),
            "PascalCase" => Some(Self::PascalCase),
            "snake_case" => Some(Self::SnakeCase),
            _ => None,
        }
    }

    pub(crate) fn apply(self, method: &str) -> String {
        let method = method.strip_prefix("r#").unwrap_or(method);
        match self {
            Self::Lowercase => method
                .chars()
                .filter(|c| *c != '_')
                .flat_map(char::to_lowercase)
                .collect(),
            Self::SnakeCase => method.to_lowercase(),
            Self::CamelCase | Self::PascalCase => {
                let mut out = String::with_capacity(method.len());
                let mut upper = self == Self::PascalCase;
                for c in method.chars() {
                    if c == '_' {
                        upper = upper || !out.is_empty();
                    } else if upper {
                        out.extend(c.to_uppercase());
                        upper = false;
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RenameRule;

    #[test]
    fn rules() {
        let cases = [
            (
                "send_message",
                "sendmessage",
                "sendMessage",
                "SendMessage",
                "send_message",
            ),
            ("join", "join", "join", "Join", "join"),
            (
                "get_http_url",
                "gethttpurl",
                "getHttpUrl",
                "GetHttpUrl",
                "get_http_url",
            ),
            ("_private", "private", "private", "Private", "_private"),
        ];
        for (input, lower, camel, pascal, snake) in cases {
            assert_eq!(RenameRule::Lowercase.apply(input), lower);
            assert_eq!(RenameRule::CamelCase.apply(input), camel);
            assert_eq!(RenameRule::PascalCase.apply(input), pascal);
            assert_eq!(RenameRule::SnakeCase.apply(input), snake);
        }
    }
}
