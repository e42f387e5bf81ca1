//! [`Manifest`]: every route of an app with its kind and types, and its push routes, built
//! from what `#[component]` generates; see [`App::manifest`](crate::App::manifest).
//!
//! [`typescript`](Manifest::typescript) turns it into TypeScript declarations for the
//! JavaScript client.

mod typescript;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::component::{ComponentMeta, Encoding, HandlerKind, TypeMeta};

/// An app's routes and push routes, with the Rust types behind them. Serializable (JSON, ...)
/// for tools that generate client code or documentation.
///
/// ```
/// use nano_core::prelude::*;
///
/// #[derive(serde::Serialize)]
/// struct Chat { text: String }
///
/// struct Room;
///
/// #[component(name = "room", pushes(onChat = Chat))]
/// impl Room {
///     #[handler]
///     fn say(&self, _session: &Session, text: String) {}
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let app = App::builder().register(Room).build()?;
/// let say = app.manifest().route("room.say")?;
/// assert_eq!(say.kind, nano_core::HandlerKind::Notify);
/// assert_eq!(say.payload.as_ref().map(|ty| ty.name.as_str()), Some("String"));
/// assert_eq!(app.manifest().pushes[0].route, "onChat");
/// assert!(app.manifest().typescript().contains("export interface Pushes"));
/// assert!(app.manifest().route("room.shout").is_err());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The handler routes, in registration then declaration order.
    pub routes: Vec<RouteEntry>,
    /// The push routes: those components declare (with their body types), then those given
    /// to [`AppBuilder::push_routes`](crate::AppBuilder::push_routes) (without).
    pub pushes: Vec<PushEntry>,
}

/// One handler route.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouteEntry {
    /// The full route, e.g. `"room.join"`.
    pub route: String,
    /// The component serving it.
    pub component: String,
    /// `"request"` (answered) or `"notify"`.
    pub kind: HandlerKind,
    /// The payload's type; `None` when the handler takes no payload.
    pub payload: Option<TypeEntry>,
    /// The response's type; `None` for a notify, and for a handler that answers later
    /// (`Deferred`), whose type it does not declare.
    pub response: Option<TypeEntry>,
}

/// One push route.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PushEntry {
    /// The push route, e.g. `"onMessage"`.
    pub route: String,
    /// The component declaring it; `None` for routes given to the builder.
    pub component: Option<String>,
    /// The type of its bodies, when declared.
    pub payload: Option<TypeEntry>,
}

/// A Rust type in the manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TypeEntry {
    /// The type as written (`"JoinRequest"`, `"Vec<String>"`; `"Bytes"` for raw bytes).
    pub name: String,
    /// Its JSON Schema: only with nano-core's `schema` feature, for types implementing
    /// `schemars::JsonSchema`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    /// How it is encoded: with the app's serializer, as protobuf (a `Proto` message), or raw.
    pub encoding: Encoding,
}

/// A route the manifest does not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no route `{route}` in the manifest (it has: {known})")]
pub struct UnknownRoute {
    /// The route asked for.
    pub route: String,
    /// The routes the manifest has, comma-separated.
    pub known: String,
}

impl TypeEntry {
    fn from_meta(meta: &TypeMeta) -> Self {
        Self {
            name: meta.name.to_owned(),
            schema: (meta.schema)(),
            encoding: (meta.encoding)(),
        }
    }
}

impl Manifest {
    /// The manifest of `components` and of the extra push routes given to the builder.
    pub(crate) fn new<'a>(
        components: impl IntoIterator<Item = &'a ComponentMeta>,
        extra_pushes: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let mut manifest = Self {
            routes: Vec::new(),
            pushes: Vec::new(),
        };
        for component in components {
            manifest.add_component(component);
        }
        for route in extra_pushes {
            if manifest.push(route).is_none() {
                manifest.pushes.push(PushEntry {
                    route: route.to_owned(),
                    component: None,
                    payload: None,
                });
            }
        }
        manifest
    }

    fn add_component(&mut self, component: &ComponentMeta) {
        for route in component.routes {
            self.routes.push(RouteEntry {
                route: route.route.to_owned(),
                component: component.name.to_owned(),
                kind: route.kind,
                payload: route.payload_type.as_ref().map(TypeEntry::from_meta),
                response: route.response_type.as_ref().map(TypeEntry::from_meta),
            });
        }
        for push in component.pushes {
            if self.push(push.route).is_some() {
                continue;
            }
            self.pushes.push(PushEntry {
                route: push.route.to_owned(),
                component: Some(component.name.to_owned()),
                payload: Some(TypeEntry::from_meta(&push.payload_type)),
            });
        }
    }

    /// The handler route called `route`.
    ///
    /// # Errors
    ///
    /// [`UnknownRoute`], naming the routes there are, when the app has no such route.
    pub fn route(&self, route: &str) -> Result<&RouteEntry, UnknownRoute> {
        self.routes
            .iter()
            .find(|entry| entry.route == route)
            .ok_or_else(|| UnknownRoute {
                route: route.to_owned(),
                known: self
                    .routes
                    .iter()
                    .map(|entry| entry.route.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The push route called `route`, if declared.
    pub fn push(&self, route: &str) -> Option<&PushEntry> {
        self.pushes.iter().find(|entry| entry.route == route)
    }
}
