//! [`CodeToRoute`]: the route dictionary keyed by code, as pomelo's handshake carries it.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::RouteDict;

/// A [`RouteDict`] serialized the other way round: code -> route, pomelo's `sys.codeToRoute`.
///
/// In JSON the codes are string keys: `{"1":"room.join","2":"onMessage"}`, in code order.
///
/// # Examples
///
/// ```
/// use nano_core::protocol::{CodeToRoute, RouteDict};
///
/// let dict = RouteDict::from_routes(["room.join", "onMessage"])?;
/// let json = serde_json::to_string(&CodeToRoute(dict.clone()))?;
/// assert_eq!(json, r#"{"1":"room.join","2":"onMessage"}"#);
/// assert_eq!(serde_json::from_str::<CodeToRoute>(&json)?.0, dict);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CodeToRoute(pub RouteDict);

impl Serialize for CodeToRoute {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (route, code) in self.0.iter() {
            // serde_json writes an integer map key as a string: `"1"`.
            map.serialize_entry(&code, route.as_str())?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for CodeToRoute {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CodesVisitor;

        impl<'de> Visitor<'de> for CodesVisitor {
            type Value = CodeToRoute;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map from codes 0..=65535 to route names")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CodeToRoute, A::Error> {
                let mut dict = RouteDict::new();
                while let Some((code, route)) = map.next_entry::<u16, String>()? {
                    dict.insert(route, code).map_err(serde::de::Error::custom)?;
                }
                Ok(CodeToRoute(dict))
            }
        }

        deserializer.deserialize_map(CodesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::CodeToRoute;

    #[test]
    fn keys_that_are_not_codes_and_repeated_routes_are_errors() {
        for json in [
            r#"{"x":"room.join"}"#,
            r#"{"65536":"room.join"}"#,
            r#"{"-1":"room.join"}"#,
            r#"{"1":"room.join","2":"room.join"}"#,
            r#"{"1":""}"#,
            r#"{"1":2}"#,
        ] {
            let parsed = serde_json::from_str::<CodeToRoute>(json);
            assert!(parsed.is_err(), "{json} parsed as {parsed:?}");
        }
    }
}
